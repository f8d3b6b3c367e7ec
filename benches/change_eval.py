#!/usr/bin/env python3
"""Issue 10's "done means" on data someone else wrote: the real labelled FFT export
(`../shared/eval/fft-labelled-dev.csv`, read as it is through unheard's `fft-labelled` layout)
with one concern halved from a known date.

1. unheard codes the export as it is; the concern theme raised most often is chosen.
2. From the change date on, every second comment coded with that concern is removed (by
   Comment ID order): the concern halves from that date, nothing else is touched.
3. unheard runs on the edited export with `--change halved=DATE`, and the script reads back
   `comparisons` (the theme's overall concerns row: rates, Newcombe interval, q) and
   `spc_summary` (was the series rebased at the change, on which side).

Nothing is copied into the project: the export and the outputs live in a temporary folder.
Exit 0 when the drop is significant after correction and the chart moved to the improvement
side; 1 otherwise. Usage:

    python3 benches/change_eval.py [--eval PATH] [--bin target/release/unheard] [--date 2022-01-01]
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent


def read_partitions(folder: Path) -> pa.Table:
    """Every `month=` file of a partitioned table, read one by one and stacked."""
    return pa.concat_tables([pq.read_table(f) for f in sorted(folder.glob("month=*/*.parquet"))])


def run(binary: str, args: list[str]) -> dict:
    done = subprocess.run([binary, "run", *args, "-q", "--json"], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"unheard failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", default=str(ROOT.parent / "shared" / "eval" / "fft-labelled-dev.csv"))
    p.add_argument("--bin", default=os.environ.get("UNHEARD", str(ROOT / "target" / "release" / "unheard")))
    p.add_argument("--date", default="2022-01-01")
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="unheard-change-eval-"))

    # 1. as it is
    first = run(a.bin, ["--input", a.eval, "--out", str(tmp / "as_is")])
    themes = read_partitions(tmp / "as_is" / "record_themes").to_pandas()
    records = read_partitions(tmp / "as_is" / "records").to_pandas()
    concerns = themes[themes.is_concern]
    theme = concerns.theme_code.value_counts().index[0]
    dated = records.set_index("record_id").received_date
    hit = sorted(set(concerns[concerns.theme_code == theme].record_id))
    after = [r for r in hit if str(dated.get(r)) >= a.date]
    drop = set(after[1::2])

    # 2. the edited export: the rows as written, minus every second concern after the date
    with open(a.eval, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    id_col = rows[0].index("Comment ID")
    kept = [rows[0]] + [r for r in rows[1:] if r[id_col] not in drop]
    edited = tmp / "fft-labelled-halved.csv"
    with open(edited, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(kept)

    # 3. the change declared
    second = run(a.bin, ["--input", str(edited), "--out", str(tmp / "halved"), "--change", f"halved={a.date}"])
    c = pq.read_table(tmp / "halved" / "comparisons.parquet").to_pandas()
    row = c[(c.theme_code == theme) & (c.measure == "concerns") & c.dimension.isna()].iloc[0]
    s = pq.read_table(tmp / "halved" / "spc_summary.parquet").to_pandas()
    series = s[(s.theme_code == theme) & (s.measure == "concerns")].iloc[0]
    overall = c[c.dimension.isna() & c.is_significant.fillna(False).astype(bool)]
    print(f"export: {a.eval} ({len(rows) - 1} rows; {first['counts']['records']} records coded)")
    print(f"concern halved: {theme} ({row.theme_name}), {len(hit)} comments, {len(after)} dated {a.date} or later, {len(drop)} removed")
    print(f"before {row.before_measure_n:.0f}/{row.before_n:.0f} = {row.before_rate:.4f}; after {row.after_measure_n:.0f}/{row.after_n:.0f} = {row.after_rate:.4f}")
    print(f"diff {row['diff']:+.4f} [{row.diff_low:+.4f}, {row.diff_high:+.4f}], {row.test} p = {row.p_value:.2e}, q = {row.q_value:.2e}, significant = {row.is_significant}")
    print(f"spc_summary: points {series.points_n}, rebased_at {series.rebased_at}, change_signal {series.change_signal}, change_label {series.change_label}, variation {series.variation}")
    print(f"overall rows significant after correction: {len(overall)} ({', '.join(sorted(set(overall.theme_code + ':' + overall.measure)))})")
    print(f"run summary: significant_changes {second['significant_changes']}, special_causes {second['special_causes']}")
    print(f"outputs: {tmp}")
    ok = bool(row.is_significant) and row["diff"] < 0 and series.change_label == "improvement"
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
