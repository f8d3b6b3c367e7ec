#!/usr/bin/env bash
# Issue 10's nightly benchmark: a night of 5,000 new records onto a state of 1.2 million already
# coded, every table recomputed; and a full 1.2-million-record run with and without a change.
#
#   benches/nightly.sh [WORK_FOLDER]     (default /tmp/unheard-nightly; needs hyperfine)
#
# The state is put back before each timed night (hyperfine --prepare), so every run adds the
# same 5,000 records to the same 1.2 million.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/unheard-nightly}"
bin="${UNHEARD:-$here/target/release/unheard}"
baseline="$here/data-samples/population-baseline.csv"
mkdir -p "$work"
cd "$work"
[ -f big.csv.gz ] || "$bin" synth --records 1200000 --seed 1 --out big.csv.gz -q
if [ ! -f night.csv ]; then
    "$bin" synth --records 5000 --seed 7 --out night.csv -q
    sed -i '2,$s/^S/N/' night.csv # ids of their own
fi
rm -rf o o.state kept kept.state
"$bin" run --input big.csv.gz --baseline "$baseline" --out o -q || [ $? -eq 1 ]
cp -al o kept && cp -al o.state kept.state
hyperfine -N -i --warmup 1 --runs 5 --export-markdown nightly.md \
    --prepare "sh -c 'rm -rf o o.state && cp -al kept o && cp -al kept.state o.state'" \
    "$bin run --input night.csv --baseline $baseline --out o -q"
hyperfine -N -i --warmup 1 --runs 5 --export-markdown full.md \
    "$bin run --input big.csv.gz --baseline $baseline --out f -q --no-state" \
    "$bin run --input big.csv.gz --baseline $baseline --out g -q --no-state --change launch=2025-10-01" \
    --prepare "sh -c 'rm -rf f g'"
cat nightly.md full.md
