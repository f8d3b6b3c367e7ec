import sys
script,manifest,stage=sys.argv[1:4]; kws=sys.argv[4:]
from perfstages import samples as read_samples, windows
samples=[(ts,[sym for _,sym,_ in f]) for _,ts,f in read_samples(script)]
win={n:(a,b) for n,a,b in windows(manifest, min(s[0] for s in samples))}
a,b=win[stage]; sel=[f for ts,f in samples if a<=ts<b]
print(stage, len(sel), 'samples')
for k in kws:
    n=sum(1 for f in sel if any(k in x for x in f))
    print(f'  {100*n/len(sel):5.1f}%  {k}')
