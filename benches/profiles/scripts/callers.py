#!/usr/bin/env python3
"""For each stage: top leaf symbols with their nearest unheard/polars/parquet caller chain."""
import re, sys, collections
script, manifest = sys.argv[1], sys.argv[2]
want_stage = sys.argv[3]
topn = int(sys.argv[4]) if len(sys.argv) > 4 else 8
from perfstages import samples as read_samples, windows
samples = [(ts, [sym for _, sym, _ in f]) for _, ts, f in read_samples(script)]
win = {n: (a, b) for n, a, b in windows(manifest, min(s[0] for s in samples))}
a, b = win[want_stage]
sel = [f for ts, f in samples if a <= ts < b and f]
interesting = re.compile(r'unheard::|polars|parquet::|arrow|\{closure')
chains = collections.Counter()
leafs = collections.Counter()
for frames in sel:
    leaf = frames[0]
    leafs[leaf] += 1
for leaf, c in leafs.most_common(topn):
    ch = collections.Counter()
    for frames in sel:
        if frames[0] != leaf: continue
        path = [re.sub(r'<.*', '', f)[:90] for f in frames[1:] if interesting.search(f)][:4]
        ch[' <- '.join(path)] += 1
    print(f'{100*c/len(sel):5.1f}% {leaf[:110]}')
    for p, n in ch.most_common(4):
        print(f'        {100*n/len(sel):5.1f}%  <- {p}')
