#!/usr/bin/env python3
import json, sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().strip().split('\n')[1:]]
rows = [(float(r[0]), int(r[1]), int(r[2]), int(r[3]), float(r[4])) for r in rows if int(r[1]) > 0]
t = json.load(open(sys.argv[2]))['timings_ms']
offset = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0  # process start -> t0
order = ['config', 'ingest', 'code', 'people', 'analyse', 'output']
acc = offset
print('| stage | window (s from start) | wall s | CPU s | avg cores | RSS at start MB | RSS at end MB | peak RSS in stage MB |')
print('|---|---|---|---|---|---|---|---|')
bounds = []
for n in order:
    bounds.append((n, acc, acc + t[n] / 1000)); acc += t[n] / 1000
bounds.append(('tail: manifest, commit, drop, exit', acc, rows[-1][0] + 0.05))
def at(ts):
    best = min(rows, key=lambda r: abs(r[0] - ts)); return best
for n, a, b in bounds:
    inside = [r for r in rows if a <= r[0] < b] or [at(a)]
    s, e = at(a), at(b)
    cpu = e[4] - s[4]
    print(f'| {n} | {a:.1f}–{b:.1f} | {b-a:.2f} | {cpu:.2f} | {cpu/max(b-a,1e-9):.2f} | {s[1]} | {e[1]} | {max(r[1] for r in inside)} |')
print(f'\nprocess peak (VmHWM): {max(r[2] for r in rows)} MB; last sample at {rows[-1][0]:.2f}s')
