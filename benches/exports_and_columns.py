#!/usr/bin/env python3
"""Writes the inputs of README's figures for exports of many files and of many columns.

    python3 benches/exports_and_columns.py UNHEARD DIR
    cd DIR && /usr/bin/time -f '%e s %U u %M KB' UNHEARD run --input exports/*.csv --out o -q --no-state
    cd DIR && /usr/bin/time -f '%e s %M KB' UNHEARD run --input wide.csv --out w -q --no-state
    cd DIR && /usr/bin/time -f '%e s %M KB' UNHEARD run texts200.toml -q --no-state
    cd DIR && /usr/bin/time -f '%e s %M KB' UNHEARD run --input wide1m.csv --out w1 -q --no-state
    (likewise wide24m.csv)
    cd DIR && /usr/bin/time -f '%e s %M KB' UNHEARD run --input tenyears.csv --out c -q --no-state $(cat changes.args)

- `exports/`: a national month (`synth --records 1200000 --seed 1`) as 400 exports of 3,000
  rows, as a trust's daily exports arrive (no baseline: the age bands are read from the rows);
- `wide.csv`: 60,000 responses to a survey of 2,000 questions over six months (a survey tool's
  export of every question: 2,000 columns carried into `records`), 604 MB;
- `texts200.toml` over `texts200.csv`: 20,000 responses to a survey of 200 free-text questions
  (3.2 million records);
- `wide1m.csv`, `wide24m.csv`: 12,000 of the 2,000-question responses in one month, and over 24;
- `tenyears.csv` and `changes.args`: 60,000 records over ten years and 60 changes to compare.

UNHEARD is the binary (it writes the synthetic month).
"""
import csv
import datetime
import os
import random
import subprocess
import sys

unheard, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(out, "exports"), exist_ok=True)
month = os.path.join(out, "month.csv")
if not os.path.exists(month):
    subprocess.run([unheard, "synth", "--records", "1200000", "--seed", "1", "--out", month], check=True,
                   stdout=subprocess.DEVNULL)
with open(month, "rb") as f:
    header = f.readline()
    n, rows = 0, []
    for line in f:
        rows.append(line)
        if len(rows) == 3000:
            open(os.path.join(out, "exports", f"export-{n:04d}.csv"), "wb").write(header + b"".join(rows))
            n, rows = n + 1, []
    if rows:
        open(os.path.join(out, "exports", f"export-{n:04d}.csv"), "wb").write(header + b"".join(rows))

random.seed(3)
questions = 2000
values = ["Yes", "No", "Strongly agree", "3", ""]
with open(os.path.join(out, "wide.csv"), "w") as f:
    f.write(",".join(["record_id", "received_date", "text", "rating"] +
                     [f"Q{i} How was it?" for i in range(questions)]) + "\n")
    for r in range(60000):
        f.write(",".join([f"r{r}", "2025-0%d-0%d" % (r % 6 + 1, r % 9 + 1),
                          "The staff were kind but the wait was long", str(r % 5 + 1)] +
                         random.choices(values, k=questions)) + "\n")

# 20,000 responses to a survey of 200 free-text questions (a record per answer: 3.2 million)
random.seed(6)
texts = 200
answers = ["Kind staff", "Long wait for the doctor", "", "Food was cold", "Parking is hard"]
with open(os.path.join(out, "texts200.csv"), "w") as f:
    f.write(",".join(["record_id", "received_date"] + [f"Comment {i}" for i in range(texts)]) + "\n")
    for r in range(20000):
        f.write(",".join([f"r{r}", "2025-03-0%d" % (r % 9 + 1)] + random.choices(answers, k=texts)) + "\n")
with open(os.path.join(out, "texts200.toml"), "w") as f:
    f.write('[[source]]\npath = "texts200.csv"\n[source.columns]\nrecord_id = "record_id"\n'
            'received_date = "received_date"\n')
    for i in range(texts):
        f.write(f'[[source.text]]\ncolumn = "Comment {i}"\nquestion = "nonspecific"\n')

# 12,000 responses to the 2,000 questions, in one month and over 24 (a month's partition open
# for each: memory grows with the columns carried × the months written)
for name, months in (("wide1m.csv", 1), ("wide24m.csv", 24)):
    random.seed(3)
    with open(os.path.join(out, name), "w") as f:
        f.write(",".join(["record_id", "received_date", "text", "rating"] +
                         [f"Q{i} How was it?" for i in range(questions)]) + "\n")
        for r in range(12000):
            m = r % months
            f.write(",".join([f"r{r}", "%d-%02d-0%d" % (2020 + m // 12, m % 12 + 1, r % 9 + 1),
                              "The staff were kind but the wait was long", str(r % 5 + 1)] +
                             random.choices(values, k=questions)) + "\n")

# ten years of 60,000 records (a record every 37 days' step) and 60 changes, one every two months
# (`--change` flags in changes.args): the disclosure guard sets every change's sides against the
# months and each other
s60k = os.path.join(out, "s60k.csv")
if not os.path.exists(s60k):
    subprocess.run([unheard, "synth", "--records", "60000", "--seed", "3", "--out", s60k], check=True,
                   stdout=subprocess.DEVNULL)
with open(s60k, newline="") as f, open(os.path.join(out, "tenyears.csv"), "w", newline="") as g:
    r, w = csv.reader(f), csv.writer(g)
    header = next(r)
    w.writerow(header)
    d = header.index("received_date")
    for k, row in enumerate(r):
        row[d] = (datetime.date(2015, 1, 1) + datetime.timedelta(days=(k * 37) % 3650)).isoformat()
        w.writerow(row)
with open(os.path.join(out, "changes.args"), "w") as f:
    f.write(" ".join(f"--change c{i}={2015 + i // 6}-{(i % 6) * 2 + 1:02d}-01" for i in range(60)))
