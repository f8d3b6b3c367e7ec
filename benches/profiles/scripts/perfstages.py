"""Shared by the profile scripts: the samples of a `perf script -F tid,time,ip,sym,dso` dump and
the stage windows of the run, laid from the run's own manifest `timings_ms` starting at the first
sample (the first sample falls in config, so the windows line up to a few milliseconds)."""
import json
import re

STAGES = ['config', 'ingest', 'code', 'people', 'analyse', 'output']
_HEADER = re.compile(r'^\s*(\d+)\s+([\d.]+):')
_FRAME = re.compile(r'^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$')


def samples(script):
    """[(tid, time, [(ip, symbol, dso), ...])], innermost frame first."""
    out, cur = [], None
    for line in open(script, errors='replace'):
        m = _HEADER.match(line)
        if m:
            cur = (int(m.group(1)), float(m.group(2)), [])
            out.append(cur)
            continue
        m = _FRAME.match(line)
        if m and cur is not None:
            cur[2].append((m.group(1), m.group(2), m.group(3)))
    return out


def windows(manifest, start, tail='tail'):
    """[(stage, from, to)] for the stages in order, then `tail` to the end of time."""
    t = json.load(open(manifest))['timings_ms']
    out, acc = [], start
    for name in STAGES:
        out.append((name, acc, acc + t[name] / 1000))
        acc += t[name] / 1000
    out.append((tail, acc, 1e18))
    return out


def stage_of(wins, ts):
    for name, a, b in wins:
        if a <= ts < b:
            return name
    return wins[-1][0]
