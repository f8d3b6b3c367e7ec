#!/usr/bin/env python3
"""Writes the cases of README "Who is missing" where a group's memory grows with themes and
months: a dimension of many groups coded with a codebook of 488 themes (the built-in one eight
times over), and a dimension of many wards over ten years of months.

    python3 benches/many_themes_and_months.py UNHEARD DIR
    cd DIR && /usr/bin/time -f '%e s %M KB' UNHEARD run themes3000.toml --codebook big.toml -q --no-state
    (likewise themes600.toml with --codebook big.toml, wards1500.toml, wards500.toml)

UNHEARD is the binary (it writes the synthetic comments: `synth --records 60000 --seed 3 --out DIR/s60k.csv`).
"""
import csv
import os
import random
import re
import subprocess
import sys

unheard, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
synth = os.path.join(out, "s60k.csv")
if not os.path.exists(synth):
    subprocess.run([unheard, "synth", "--records", "60000", "--seed", "3", "--out", synth], check=True,
                   stdout=subprocess.DEVNULL)

# the built-in codebook eight times over: every comment matches eight copies of each theme
book = open(os.path.join(here, "..", "pipelines", "codebooks", "nhs-patient-experience.toml")).read()
head, _, themes = book.partition("[[theme]]")
copies = []
for k in range(8):
    t = re.sub(r'^code = "([^"]+)"', lambda m: f'code = "{m.group(1)}_{k}"', "[[theme]]" + themes, flags=re.M)
    t = re.sub(r'^name = "([^"]+)"', lambda m: f'name = "{m.group(1)} {k}"', t, flags=re.M)
    copies.append(t)
open(os.path.join(out, "big.toml"), "w").write(head + "".join(copies))


def case(name, rows, groups, column, months):
    random.seed(groups)
    with open(synth, newline="") as f, open(os.path.join(out, name + ".csv"), "w", newline="") as g:
        r, w = csv.reader(f), csv.writer(g)
        header = next(r)
        w.writerow(header + [column])
        d = header.index("received_date")
        for k, row in enumerate(r):
            if k >= rows:
                break
            if months:
                m = k % months
                row[d] = f"{2014 + m // 12}-{1 + m % 12:02d}-15"
            w.writerow(row + [f"{column} {random.randrange(groups)}"])
    with open(os.path.join(out, name + ".toml"), "w") as f:
        f.write(f'[run]\ndimensions = ["{column}"]\n[[source]]\npath = "{name}.csv"\n'
                f'[source.columns]\n{column} = "{column}"\n')


case("themes3000", 20000, 3000, "community_group", None)
case("themes600", 20000, 600, "community_group", None)
case("wards1500", 40000, 1500, "ward", 120)
case("wards500", 40000, 500, "ward", 120)
