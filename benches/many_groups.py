#!/usr/bin/env python3
"""Writes the many-groups case of README "A run is a stream": 20,000 records whose
`community_group` has 3,000 values (a column of many values made a dimension), and its pipeline.

    python3 benches/many_groups.py DIR
    /usr/bin/time -f '%e s %M KB' unheard run DIR/many.toml -q
"""
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
random.seed(1)
texts = ["The wait was too long", "Staff were kind and caring", "Parking was awful",
         "Could not get an appointment", "Nurse was rude", "Food was cold"]
with open(os.path.join(out, "many.csv"), "w") as f:
    f.write("record_id,received_date,text,rating,community_group\n")
    for i in range(20000):
        f.write(f"R{i},2024-{1 + i % 12:02d}-{1 + i % 27:02d},{random.choice(texts)},{1 + i % 5},"
                f"group {random.randrange(3000)}\n")
with open(os.path.join(out, "many.toml"), "w") as f:
    f.write('[run]\ndimensions = ["community_group"]\n[[source]]\npath = "many.csv"\n'
            '[source.columns]\ncommunity_group = "community_group"\n')
