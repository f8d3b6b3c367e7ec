"""Reads every output of an unheard run with the readers BI work uses, each with its default call:
pandas.read_parquet, pyarrow.parquet.read_table, polars.read_parquet, DuckDB's read_parquet and
Spark's spark.read.parquet (in a process of its own, tests/read_spark.py) —
readers that are not the writer. The partitioned tables are read as folders, as an analyst points a
tool at them, and must come back with their `month` from the folder names. Every reader must give
the same rows; any error or warning fails. Usage: python3 tests/read_outputs.py OUT_DIR"""
import json
import pathlib
import subprocess
import sys
import warnings

warnings.simplefilter("error")

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq

out = pathlib.Path(sys.argv[1])
manifest = json.loads((out / "manifest.json").read_text())
con = duckdb.connect()
for entry in manifest["tables"]:
    table = entry["name"]
    partitioned = (out / table).is_dir()
    path = out / table if partitioned else out / f"{table}.parquet"
    counts = {
        "pandas": len(pd.read_parquet(path)),
        "pyarrow": pq.read_table(path).num_rows,
        "polars": pl.read_parquet(path).height,
    }
    # DuckDB's default call takes a glob; it finds the hive partitions itself
    glob = f"{path}/*/*.parquet" if partitioned else str(path)
    counts["duckdb"] = con.execute(f"select count(*) from read_parquet('{glob}')").fetchone()[0]
    assert len(set(counts.values())) == 1, (table, counts)
    assert counts["pyarrow"] == entry["rows"], (table, counts, entry["rows"])
    if partitioned and entry["rows"] > 0:
        # the month every reader adds from the folder names, never null
        assert pd.read_parquet(path)["month"].isna().sum() == 0, table
        assert pq.read_table(path).column("month").null_count == 0, table
        assert pl.read_parquet(path)["month"].null_count() == 0, table
        nulls = con.execute(f"select count(*) from read_parquet('{glob}') where month is null").fetchone()[0]
        assert nulls == 0, table
    print(f"{table}: {counts['pyarrow']} rows")
# a join BI tools will make
n = con.execute(
    f"select count(*) from read_parquet('{out / 'record_themes' / '*' / '*.parquet'}') t "
    f"join read_parquet('{out / 'themes.parquet'}') h using (theme_code)"
).fetchone()[0]
print(f"record_themes joined to themes: {n} rows")

# Spark, in a process of its own: the same rows, and nothing said about the files
spark = subprocess.run([sys.executable, str(pathlib.Path(__file__).parent / "read_spark.py"), str(out)], capture_output=True, text=True)
assert spark.returncode == 0, spark.stderr[-3000:]
said = spark.stderr.split("--- reading", 1)[-1]
# (the executor's heartbeat to its driver, late on a loaded machine, is Spark's own and says
# nothing about the files: seen failing CI once)
complaints = [
    line for line in said.splitlines()
    if (" WARN " in line or " ERROR " in line) and "heartbeat" not in line.lower()
]
assert not complaints, complaints
rows = dict(line.rsplit(" ", 1) for line in spark.stdout.splitlines() if line.strip())
for entry in manifest["tables"]:
    assert int(rows[entry["name"]]) == entry["rows"], (entry["name"], rows.get(entry["name"]), entry["rows"])
print(f"spark: {len(rows)} tables, the same rows")
