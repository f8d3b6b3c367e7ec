import re,sys,collections
script,manifest=sys.argv[1:3]
from perfstages import samples as read_samples, windows, stage_of
samples=[(ts,f) for _,ts,f in read_samples(script)]
win=windows(manifest, min(s[0] for s in samples))
def stage(ts): return stage_of(win, ts)
ALLOC=re.compile(r'(^|_)(malloc|free|int_free|int_malloc|unlink_chunk|malloc_consolidate|cfree|realloc|int_realloc|tcache|sysmalloc|calloc|arena|systrim)|__rust_(alloc|dealloc|realloc)')
def cat(frames):
    ip,sym,dso=frames[0]
    if 'kernel' in dso:
        j=' '.join(s for _,s,_ in frames)
        if re.search(r'page_fault|do_anonymous_page|clear_page|handle_mm_fault',j): return 'kernel page faults (first touch)'
        if re.search(r'munmap|unmap|zap_|release_pages|free_pages|madvise|brk',j): return 'kernel unmap/brk/free pages'
        if re.search(r'read',j): return 'kernel read'
        if re.search(r'write|fsync|sync',j): return 'kernel write/fsync'
        return 'kernel other'
    if ALLOC.search(sym): return 'allocator malloc/free'
    if 'drop_in_place' in sym: return 'drop_in_place (destructors)'
    if 'sip::' in sym or 'hash_one' in sym or 'u8to64' in sym: return 'SipHash (std HashMap/HashSet)'
    if re.search(r'mem(move|cpy|set)',sym): return 'memcpy/memmove/memset'
    if 'memcmp' in sym: return 'memcmp'
    return 'compute (everything else)'
C=collections.defaultdict(collections.Counter); N=collections.Counter()
for ts,f in samples:
    if not f: continue
    s=stage(ts); C[s][cat(f)]+=1; N[s]+=1; C['ALL'][cat(f)]+=1; N['ALL']+=1
cats=['allocator malloc/free','drop_in_place (destructors)','kernel page faults (first touch)','kernel unmap/brk/free pages','memcpy/memmove/memset','memcmp','SipHash (std HashMap/HashSet)','kernel read','kernel write/fsync','kernel other','compute (everything else)']
print('| stage | samples | '+' | '.join(cats)+' |'); print('|'+'---|'*(len(cats)+2))
for s in [w[0] for w in win]+['ALL']:
    if N[s]==0: continue
    print(f'| {s} | {N[s]} | '+' | '.join(f'{100*C[s][c]/N[s]:.1f}%' for c in cats)+' |')
