#!/usr/bin/env python3
"""Run a command, sample its RSS/HWM/CPU/threads every 100 ms; write TSV to argv[1]."""
import os, subprocess, sys, time
out = sys.argv[1]; cmd = sys.argv[2:]
tck = os.sysconf('SC_CLK_TCK')
t0 = time.monotonic()
p = subprocess.Popen(cmd)
rows = []
def sample():
    try:
        st = open(f'/proc/{p.pid}/status').read()
        stat = open(f'/proc/{p.pid}/stat').read().rsplit(')', 1)[1].split()
    except OSError:
        return
    d = {}
    for line in st.splitlines():
        k, _, v = line.partition(':')
        if k in ('VmRSS', 'VmHWM', 'Threads', 'RssAnon', 'RssFile'):
            d[k] = v.strip().split()[0]
    cpu = (int(stat[11]) + int(stat[12])) / tck
    rows.append((time.monotonic() - t0, int(d.get('VmRSS', 0)) // 1024, int(d.get('VmHWM', 0)) // 1024,
                 int(d.get('RssAnon', 0)) // 1024, cpu, d.get('Threads', '')))
while p.poll() is None:
    sample()
    time.sleep(0.1)
with open(out, 'w') as f:
    f.write('t_s\trss_mb\thwm_mb\tanon_mb\tcpu_s\tthreads\n')
    for r in rows:
        f.write('%.2f\t%d\t%d\t%d\t%.2f\t%s\n' % r)
print(f'exit {p.returncode}, wall {time.monotonic()-t0:.2f}s, samples {len(rows)}', file=sys.stderr)
sys.exit(p.returncode)
