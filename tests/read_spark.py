"""Reads every output of an unheard run with Spark's default call, `spark.read.parquet(path)`
(the partitioned tables as folders, `month` from the folder names), and prints each table's rows.
A line `--- reading` on stderr marks where Spark's own start-up chatter ends: whatever Spark says
after it is about the files. Usage: python3 tests/read_spark.py OUT_DIR (tests/read_outputs.py
runs it and checks both)."""
import json
import pathlib
import sys

from pyspark.sql import SparkSession

out = pathlib.Path(sys.argv[1])
spark = SparkSession.builder.master("local[1]").appName("unheard-read").config("spark.ui.enabled", "false").getOrCreate()
print("--- reading", file=sys.stderr, flush=True)
for entry in json.loads((out / "manifest.json").read_text())["tables"]:
    table = entry["name"]
    partitioned = (out / table).is_dir()
    df = spark.read.parquet(str(out / table if partitioned else out / f"{table}.parquet"))
    rows = df.count()
    if partitioned and rows:
        assert "month" in df.columns and df.filter(df.month.isNull()).count() == 0, table
    print(table, rows, flush=True)
spark.stop()
