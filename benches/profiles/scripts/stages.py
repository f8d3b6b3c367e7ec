#!/usr/bin/env python3
"""Per-stage attribution of a `perf script -F tid,time,ip,sym,dso` dump.
usage: stages.py SCRIPT MANIFEST [collapsed_out]"""
import re, sys, collections
script, manifest = sys.argv[1], sys.argv[2]
collapsed_out = sys.argv[3] if len(sys.argv) > 3 else None
from perfstages import samples as read_samples, windows, stage_of as _stage_of
samples = [[tid, ts, [(sym, dso == 'inlined') for _, sym, dso in f]] for tid, ts, f in read_samples(script)]
start = min(s[1] for s in samples)
end = max(s[1] for s in samples)
bounds = windows(manifest, start, tail='tail (manifest+commit+drop+exit)')
def stage_of(ts):
    return _stage_of(bounds, ts)
ALLOC = ('malloc', '_int_free', '_int_malloc', 'unlink_chunk', 'malloc_consolidate', 'cfree', 'free', 'realloc',
         '_int_realloc', 'sysmalloc', 'alloc::raw_vec', '__rust_dealloc', '__rust_alloc', 'calloc', 'mremap', '__libc_free',
         'tcache', 'arena_get2', '_int_memalign', 'systrim', 'alloc_perturb', '__GI___libc_free', '__GI___libc_malloc')
def cat(leaf_real, frames, dso_kernel):
    s = leaf_real
    if dso_kernel:
        joined = ' '.join(f for f, _ in frames)
        if 'page_fault' in joined or 'clear_page' in joined or 'do_anonymous_page' in joined:
            return 'kernel: page faults (first touch of new memory)'
        if 'munmap' in joined or 'zap_' in joined or 'unmap' in joined or 'free_pages' in joined or 'release_pages' in joined:
            return 'kernel: munmap / freeing pages'
        if 'read' in joined:
            return 'kernel: file read'
        if 'write' in joined or 'fsync' in joined:
            return 'kernel: file write/fsync'
        return 'kernel: other'
    if any(s.startswith(a) or a in s for a in ALLOC):
        return 'allocator (malloc/free)'
    if 'sip::Hasher' in s or 'hash' in s.lower():
        return 'hashing (SipHash etc.)'
    if 'memmove' in s or 'memcpy' in s or 'memset' in s:
        return 'memcpy/memmove'
    if 'memcmp' in s or 'strcmp' in s:
        return 'memcmp'
    return 'other'
per = collections.defaultdict(lambda: {'n': 0, 'self': collections.Counter(), 'cat': collections.Counter(),
                                        'incl': collections.Counter(), 'tids': collections.Counter()})
collapsed = collections.Counter()
kern_syms = set()
for tid, ts, frames in samples:
    st = stage_of(ts)
    p = per[st]
    p['n'] += 1
    p['tids'][tid] += 1
    if not frames:
        continue
    # the real (non-inlined) leaf: first frame that is not marked inlined
    leaf_real = next((f for f, inl in frames if not inl), frames[0][0])
    dso_kernel = frames[0][0].startswith(('0x', )) or False
    # perf prints [kernel.kallsyms] as dso; we lost it in the regex 'inlined' flag: re-check via symbol names
    kernel = False
    p['self'][leaf_real] += 1
    seen = set()
    for f, inl in frames:
        if f.startswith('unheard::') or f.startswith('<unheard::'):
            key = re.sub(r'::\{closure.*', '', f)
            if key not in seen:
                seen.add(key)
                p['incl'][key] += 1
    collapsed[';'.join([st] + [f for f, _ in reversed(frames)])] += 1
# kernel detection: re-read dsos quickly
total = len(samples)
print(f'samples {total}, span {end-start:.2f}s; stage windows from manifest timings_ms (t0 = first sample)\n')
for name, a, b in bounds:
    p = per.get(name)
    if not p or p['n'] == 0:
        continue
    n = p['n']
    dur = min(b, end) - a
    print(f'## {name}: {n} samples = {100*n/total:.1f}% of CPU samples; window {dur:.2f}s; ~{n/199:.2f} CPU-s, avg {n/199/max(dur,1e-9):.2f} cores busy')
    print('top self symbols:')
    for s, c in p['self'].most_common(18):
        print(f'  {100*c/n:5.1f}%  {s[:150]}')
    print('inclusive, unheard functions (share of this stage\'s samples with the function on the stack):')
    for s, c in p['incl'].most_common(18):
        print(f'  {100*c/n:5.1f}%  {s[:150]}')
    print()
if collapsed_out:
    with open(collapsed_out, 'w') as f:
        for k, v in collapsed.items():
            f.write(f'{k} {v}\n')
