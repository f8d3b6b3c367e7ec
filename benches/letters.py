#!/usr/bin/env python3
"""Writes the long-texts case of README "A run is a stream": 50,000 complaints of about 8 KB
each (sentences of a synthetic export strung together: 400 MB of text), gzipped.

    unheard synth --records 60000 --seed 1 --out synth.csv.gz
    python3 benches/letters.py synth.csv.gz letters.csv.gz
    /usr/bin/time -f '%e s %M KB' unheard run --input letters.csv.gz --out o -q
"""
import csv
import gzip
import random
import sys

source, out = sys.argv[1], sys.argv[2]
random.seed(4)
with gzip.open(source, "rt", newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = [row for _, row in zip(range(60000), reader)]
text = header.index("text")
question = header.index("question")
sentences = [row[text] for row in rows if row[text]]
with gzip.open(out, "wt", newline="") as g:
    writer = csv.writer(g)
    writer.writerow(header)
    for row in rows[:50000]:
        letter, size = [], 0
        while size < 8000:
            s = random.choice(sentences)
            letter.append(s)
            size += len(s) + 1
        row[question] = "complaint"
        row[text] = " ".join(letter)
        writer.writerow(row)
