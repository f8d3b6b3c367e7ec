#!/usr/bin/env python3
"""Times two unheard binaries run alternately (A, B, A, B, ...) on the same command, so that a
machine whose speed drifts within the hour slows both alike; prints each one's median, mean and
minimum wall time and the median of the paired ratios A/B.

    python3 benches/alternate.py OLD_BIN NEW_BIN [RUNS] -- run -q --out d

The output folder named after --out is removed before each run.
"""
import shutil
import statistics
import subprocess
import sys
import time


def main() -> None:
    if "--" not in sys.argv or sys.argv.index("--") < 3:
        sys.exit(__doc__)
    cut = sys.argv.index("--")
    bins, rest = sys.argv[1:cut], sys.argv[cut + 1 :]
    runs = int(bins[2]) if len(bins) > 2 else 30
    out = rest[rest.index("--out") + 1] if "--out" in rest else None
    times = {b: [] for b in bins[:2]}
    for _ in range(runs):
        for b in bins[:2]:
            if out:
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(out + ".state", ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([b, *rest], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times[b].append(time.perf_counter() - start)
    for b, t in times.items():
        print(f"{b}: median {statistics.median(t):.3f} s, mean {statistics.mean(t):.3f} s, min {min(t):.3f} s ({runs} runs)")
    a, n = times.values()
    print(f"paired ratio (first / second), median: {statistics.median(x / y for x, y in zip(a, n)):.3f}")


if __name__ == "__main__":
    main()
