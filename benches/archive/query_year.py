"""Queries over the archive of unheard runs (runs/*/records and runs/*/record_themes) with DuckDB,
as they are: no import, no conversion. Run in the folder make_year.sh filled (cd /tmp/year); prints each query's
rows and median time of three.

    python3 -m pip install duckdb && cd /tmp/year && python3 PROJECT/benches/archive/query_year.py
"""
import duckdb, time, statistics
con = duckdb.connect()
queries = {
 "records by month, ethnicity and polarity": """
  SELECT month, ethnicity, polarity, count(*) AS n
  FROM read_parquet('runs/*/records/*/*.parquet', hive_partitioning = true)
  GROUP BY ALL""",
 "concerns by theme": """
  SELECT theme_code, count(*) FILTER (WHERE is_concern) AS concerns, count(*) AS mentions
  FROM read_parquet('runs/*/record_themes/*/*.parquet', hive_partitioning = true) GROUP BY ALL""",
 "theme mentions by ethnicity (records joined to record_themes within each run)": """
  SELECT r.ethnicity, t.theme_code, count(*) AS mentions, count(*) FILTER (WHERE t.is_concern) AS concerns
  FROM read_parquet('runs/*/records/*/*.parquet', hive_partitioning = true, filename = true) r
  JOIN read_parquet('runs/*/record_themes/*/*.parquet', hive_partitioning = true, filename = true) t
    ON t.record_id = r.record_id AND t.month = r.month
   AND split_part(t.filename, '/', 2) = split_part(r.filename, '/', 2)
  GROUP BY ALL""",
}
n = con.sql("SELECT count(*) FROM read_parquet('runs/*/records/*/*.parquet', hive_partitioning = true)").fetchall()[0][0]
print(f"records in the archive: {n:,}")
for name, q in queries.items():
    times = []
    for _ in range(3):
        t0 = time.perf_counter(); rows = con.sql(q).fetchall(); times.append(time.perf_counter() - t0)
    print(f"{name}: {len(rows):,} rows, median {statistics.median(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)})")
