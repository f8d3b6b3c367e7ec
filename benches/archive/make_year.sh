#!/usr/bin/env bash
# A national year as an archive of twelve monthly runs (12 x 1.17 million = 14.04 million records):
# each month synthesised with its own seed and run by unheard into DIR/runs/run-NN.
#   cargo build --release && benches/archive/make_year.sh /tmp/year
# About 6 s a run and 15 s of synth a month on 2 cores, 0.8 GB peak per run, 0.9 GB of runs in all.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$here/target/release/unheard}
BASELINE=${BASELINE:-$here/data-samples/population-baseline.csv}
mkdir -p "$1" && cd "$1"
for i in $(seq -w 1 12); do
  "$B" synth --records 1170000 --seed "$i" --out "in-$i.csv.gz" > /dev/null
  "$B" run --input "in-$i.csv.gz" --baseline "$BASELINE" --out "runs/run-$i" -q || [ $? -eq 1 ]
  rm -f "in-$i.csv.gz" "in-$i.truth.csv"
done
