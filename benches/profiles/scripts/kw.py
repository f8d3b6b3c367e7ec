import json,re,sys,collections
script,manifest,stage=sys.argv[1:4]; kws=sys.argv[4:]
t=json.load(open(manifest))['timings_ms']; order=['config','ingest','code','people','analyse','output']
samples=[];cur=None
hdr=re.compile(r'^\s*(\d+)\s+([\d.]+):'); fr=re.compile(r'^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$')
for line in open(script,errors='replace'):
    m=hdr.match(line)
    if m: cur=[float(m.group(2)),[]]; samples.append(cur); continue
    m=fr.match(line)
    if m and cur: cur[1].append(m.group(1))
start=min(s[0] for s in samples); acc=start; win={}
for n in order: win[n]=(acc,acc+t[n]/1000); acc+=t[n]/1000
win['tail']=(acc,1e18)
a,b=win[stage]; sel=[f for ts,f in samples if a<=ts<b]
print(stage, len(sel), 'samples')
for k in kws:
    n=sum(1 for f in sel if any(k in x for x in f))
    print(f'  {100*n/len(sel):5.1f}%  {k}')
