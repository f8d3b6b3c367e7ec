#!/usr/bin/env python3
"""Writes the inputs of README's figures for exports of many files and of many columns.

    python3 benches/exports_and_columns.py UNHEARD DIR
    cd DIR && /usr/bin/time -f '%e s %U u %M KB' UNHEARD run --input exports/*.csv --out o -q --no-state
    cd DIR && /usr/bin/time -f '%e s %M KB' UNHEARD run --input wide.csv --out w -q --no-state

- `exports/`: a national month (`synth --records 1200000 --seed 1`) as 400 exports of 3,000
  rows, as a trust's daily exports arrive (no baseline: the age bands are read from the rows);
- `wide.csv`: 60,000 responses to a survey of 2,000 questions over six months (a survey tool's
  export of every question: 2,000 columns carried into `records`), 604 MB.

UNHEARD is the binary (it writes the synthetic month).
"""
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
