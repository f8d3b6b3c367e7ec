"""Reads every output of an unheard run with pyarrow and DuckDB: readers that are not the
writer. Fails loudly on any error or warning. Usage: python3 tests/read_outputs.py OUT_DIR"""
import pathlib
import sys
import warnings

warnings.simplefilter("error")

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq

out = pathlib.Path(sys.argv[1])
con = duckdb.connect()
for table in ["records", "record_themes", "themes", "theme_by_group", "representation", "underheard_concerns", "theme_ranking", "quarantine", "field_issues"]:
    if table in ("records", "record_themes"):
        glob = str(out / table / "*" / "*.parquet")
        dataset = ds.dataset(out / table, format="parquet", partitioning="hive")
        n_arrow = dataset.to_table().num_rows
        n_duck = con.execute(f"select count(*) from read_parquet('{glob}', hive_partitioning = true)").fetchone()[0]
        months = con.execute(f"select count(*) from read_parquet('{glob}', hive_partitioning = true) where month is null").fetchone()[0]
        assert months == 0, f"every row of {table} has its month"
    else:
        path = out / f"{table}.parquet"
        n_arrow = pq.read_table(path).num_rows
        n_duck = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
    assert n_arrow == n_duck, (table, n_arrow, n_duck)
    print(f"{table}: {n_arrow} rows")
# a join BI tools will make
n = con.execute(
    f"select count(*) from read_parquet('{out / 'record_themes' / '*' / '*.parquet'}', hive_partitioning = true) t "
    f"join read_parquet('{out / 'themes.parquet'}') h using (theme_code)"
).fetchone()[0]
print(f"record_themes joined to themes: {n} rows")
