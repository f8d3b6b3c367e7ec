#!/usr/bin/env python3
"""For each stage: top leaf symbols with their nearest unheard/polars/parquet caller chain."""
import json, re, sys, collections
script, manifest = sys.argv[1], sys.argv[2]
want_stage = sys.argv[3]
topn = int(sys.argv[4]) if len(sys.argv) > 4 else 8
t = json.load(open(manifest))['timings_ms']
order = ['config', 'ingest', 'code', 'people', 'analyse', 'output']
samples = []; cur = None
hdr = re.compile(r'^\s*(\d+)\s+([\d.]+):'); fr = re.compile(r'^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$')
for line in open(script, errors='replace'):
    m = hdr.match(line)
    if m:
        cur = [float(m.group(2)), []]; samples.append(cur); continue
    m = fr.match(line)
    if m and cur is not None:
        cur[1].append(m.group(1))
start = min(s[0] for s in samples)
acc = start; win = {}
for name in order:
    win[name] = (acc, acc + t[name] / 1000); acc += t[name] / 1000
win['tail'] = (acc, 1e18)
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
