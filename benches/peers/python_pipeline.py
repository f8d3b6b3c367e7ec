"""Peer pipeline for speed: the script an NHS analyst would write with pandas and scikit-learn.

It does the core of `unheard run` the way a competent analyst would in Python, so both can be
timed in one `hyperfine` call:

1. pandas `read_csv` of the canonical CSV (`unheard synth --records N --out big.csv.gz` writes it);
2. theme coding: TF-IDF (word 1-2-grams, sublinear tf, min df 2) + one-vs-rest LinearSVC trained on
   the labelled FFT comments (label columns from "Not assigned" onward, "Not assigned" and
   "Labelling not possible" left out), multi-label prediction (margin > 0) for every record;
3. a small harmonisation of the demographic columns (NHS ethnic category codes and common wordings
   to the five Census groups, F/M, "65 to 74" -> 65-74, "Prefer not to say" -> not_stated,
   blank -> missing) and a crosstab: dimension x group x theme with records, mentions and rate;
4. representation against a baseline CSV (dimension,group,population): feedback share over
   population share per group, one voice per response_id (its first record), with a Wilson
   interval on the share;
5. Parquet (pyarrow) of the coded records, record x theme pairs, the crosstab and the
   representation table in --out.

Per-stage timings go to stderr. It does less than unheard (no redaction, sentiment, concerns,
raking, disclosure control or differencing guard, no quarantine, no per-month tables): it is the
peer for speed and memory, not a replacement.

    python3 -m pip install -r benches/peers/requirements.txt
    target/release/unheard synth --records 1200000 --seed 1 --out /tmp/peers/big.csv.gz
    python3 benches/peers/python_pipeline.py /tmp/peers/big.csv.gz \
        --baseline data-samples/population-baseline.csv --out /tmp/peers/p \
        [--labelled ../shared/eval/fft-labelled-dev.csv]

Against unheard in one call (2-core machine, shared: at 1.2M records median 17.8 s and 1.57 GB peak
for this script, 29.2 s and 4.86 GB for unheard; at 35,000 records 3.05 s, of which about 1.9 s
imports, against 1.42 s):

    hyperfine --warmup 1 --runs 3 \
      'target/release/unheard run --input /tmp/peers/big.csv.gz --baseline data-samples/population-baseline.csv --out /tmp/peers/u -q' \
      'python3 benches/peers/python_pipeline.py /tmp/peers/big.csv.gz --baseline data-samples/population-baseline.csv --out /tmp/peers/p'
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

DEFAULT_LABELLED = Path(__file__).resolve().parents[3] / "shared" / "eval" / "fft-labelled-dev.csv"
EXCLUDED = {"Not assigned", "Labelling not possible"}
DIMENSIONS = ["sex", "gender", "age_band", "ethnicity", "ethnicity_detail", "disability",
              "religion", "sexuality", "imd_quintile", "carer"]
CHUNK = 200_000

NOT_STATED = {"prefer not to say", "not stated", "declined", "z", "zz", "don't know", "not sure"}
MISSING = {"", "n/a", "null", "not known", "not recorded", "x", "99"}

# NHS Data Dictionary ETHNIC CATEGORY codes and the usual wordings -> Census 2021 five groups.
ETHNICITY = {
    **{c: "White" for c in "ABC"}, **{c: "Mixed" for c in "DEFG"}, **{c: "Asian" for c in "HJKLR"},
    **{c: "Black" for c in "MNP"}, "S": "Other",
    "white": "White", "british": "White", "white british": "White", "white irish": "White",
    "white other": "White", "irish": "White",
    "mixed": "Mixed", "mixed race": "Mixed", "mixed - white and asian": "Mixed",
    "white and black caribbean": "Mixed", "white and black african": "Mixed", "white and asian": "Mixed",
    "asian": "Asian", "asian or asian british": "Asian", "indian": "Asian", "pakistani": "Asian",
    "bangladeshi": "Asian", "chinese": "Asian",
    "black": "Black", "black british": "Black", "black caribbean": "Black", "black african": "Black",
    "other": "Other", "any other ethnic group": "Other", "arab": "Other",
}
SEX = {"f": "Female", "female": "Female", "m": "Male", "male": "Male", "1": "Male", "2": "Female"}
GENDER = {"female": "Woman", "woman": "Woman", "f": "Woman", "male": "Man", "man": "Man", "m": "Man",
          "non-binary": "Non-binary"}
AGE = {"under 16": "0-15", "75 and over": "75+", "over 75": "75+"}


def log(stage: str, t0: float, extra: str = "") -> float:
    t = time.perf_counter()
    print(f"{stage:<14} {t - t0:7.2f} s{('  ' + extra) if extra else ''}", file=sys.stderr)
    return t


def harmonise(col: pd.Series, dim: str) -> pd.Series:
    """Map raw values to groups, once per distinct value (vectorised through the categories)."""
    cat = col.astype("category")
    groups = []
    for raw in cat.cat.categories:
        key = raw.strip().lower()
        if key in NOT_STATED:
            g = "not_stated"
        elif key in MISSING and not (dim == "age_band" and key == "99"):
            g = "missing"
        elif dim == "ethnicity":
            g = ETHNICITY.get(raw.strip().upper() if len(key) == 1 else key, "unmapped")
        elif dim == "sex":
            g = SEX.get(key, "unmapped")
        elif dim == "gender":
            g = GENDER.get(key, raw.strip())
        elif dim == "age_band":
            g = AGE.get(key, key.replace(" to ", "-").replace(" ", ""))
        else:
            g = raw.strip()
        groups.append(g)
    codes = cat.cat.codes.to_numpy()
    out = np.asarray(groups, dtype=object)[codes]
    out[codes < 0] = "missing"
    return pd.Series(pd.Categorical(out), index=col.index)


def train(labelled: Path):
    lab = pd.read_csv(labelled, dtype=str, keep_default_na=False)
    labels_from = list(lab.columns).index("Not assigned")
    labels = [c for c in lab.columns[labels_from:] if c not in EXCLUDED]
    y = (lab[labels].apply(lambda s: s.str.strip()) == "1").to_numpy(dtype=np.int8)
    keep = y.sum(axis=0) > 0  # a label with no positive cannot be learned
    labels = [l for l, k in zip(labels, keep) if k]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32)
    x = vec.fit_transform(lab["FFT answer"])
    clf = OneVsRestClassifier(LinearSVC(C=1.0)).fit(x, y[:, keep])
    coef = np.vstack([e.coef_.ravel() for e in clf.estimators_]).T.astype(np.float32)  # features x labels
    bias = np.array([e.intercept_[0] for e in clf.estimators_], dtype=np.float32)
    return vec, coef, bias, labels, len(lab)


def predict_chunk(vec, coef, bias, texts):
    """Sparse TF-IDF of one chunk, margins, and the (row, label, margin) of every positive margin."""
    scores = vec.transform(texts) @ coef + bias
    rows, cols = np.nonzero(scores > 0)
    return rows.astype(np.int64), cols.astype(np.int32), scores[rows, cols]


def write(df: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, compression="snappy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="canonical CSV (.csv or .csv.gz)")
    ap.add_argument("--baseline", required=True, help="CSV dimension,group,population")
    ap.add_argument("--out", required=True, help="folder for the Parquet files (created or overwritten)")
    ap.add_argument("--labelled", default=str(DEFAULT_LABELLED), help="labelled FFT comments to train on")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = t = time.perf_counter()

    # 1. read
    df = pd.read_csv(args.input, dtype=str, keep_default_na=False)
    df["rating"] = pd.to_numeric(df["rating"], errors="coerce").astype("Int32")
    df["received_date"] = pd.to_datetime(df["received_date"], errors="coerce")
    t = log("read", t, f"{len(df):,} records")

    # 2. code: train, then vectorise and predict in chunks (bounded memory)
    vec, coef, bias, labels, n_train = train(Path(args.labelled))
    t = log("train", t, f"{n_train:,} labelled comments, {len(labels)} labels, {len(vec.vocabulary_):,} features")
    texts = df["text"].to_numpy()
    starts = range(0, len(texts), CHUNK)
    # one process: joblib over 2 processes was slower here (33.3 s against 27.4 s at 1.2M records)
    parts = [predict_chunk(vec, coef, bias, texts[s:s + CHUNK]) for s in starts]
    rec = np.concatenate([p[0] + s for p, s in zip(parts, starts)]) if parts else np.zeros(0, np.int64)
    lab = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
    margin = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.float32)
    n = len(df)
    y = sp.csr_matrix((np.ones(len(rec), dtype=np.int32), (rec, lab)), shape=(n, len(labels)))
    df["n_themes"] = np.asarray(y.sum(axis=1)).ravel().astype(np.int32)
    t = log("code", t, f"{len(rec):,} record-theme pairs")

    # 3. harmonise and crosstab: one sparse product per dimension (groups x records @ records x themes)
    for dim in DIMENSIONS:
        df[dim + "_group"] = harmonise(df[dim], dim)
    tables = []
    for dim in DIMENSIONS:
        g = df[dim + "_group"]
        codes = g.cat.codes.to_numpy()
        cats = g.cat.categories
        onehot = sp.csr_matrix((np.ones(n, dtype=np.int32), (codes, np.arange(n))), shape=(len(cats), n))
        mentions = (onehot @ y).toarray()  # groups x themes
        records = np.bincount(codes, minlength=len(cats))
        tables.append(pd.DataFrame({
            "dimension": dim,
            "group": np.repeat(np.asarray(cats, dtype=object), len(labels)),
            "theme": np.tile(np.asarray(labels, dtype=object), len(cats)),
            "records": np.repeat(records, len(labels)).astype(np.int64),
            "mentions": mentions.ravel().astype(np.int64),
        }))
    crosstab = pd.concat(tables, ignore_index=True)
    crosstab["rate"] = crosstab["mentions"] / crosstab["records"]
    t = log("crosstab", t, f"{len(crosstab):,} rows")

    # 4. representation: one voice per response (its first record), groups the baseline covers
    base = pd.read_csv(args.baseline, comment="#", dtype={"group": str})
    people = df.drop_duplicates("response_id", keep="first")
    reps = []
    for dim, b in base.groupby("dimension", sort=False):
        if dim not in DIMENSIONS:
            continue
        b = b.assign(group=harmonise(b["group"].astype(str), dim).astype(str)).groupby("group", as_index=False)["population"].sum()
        counts = people[dim + "_group"].astype(str).value_counts()
        r = b.assign(dimension=dim, feedback_n=b["group"].map(counts).fillna(0).astype(np.int64))
        eligible = r["feedback_n"].sum()
        r["eligible_n"] = eligible
        r["n_missing"] = len(people) - eligible
        p = r["feedback_n"] / eligible
        r["feedback_share"] = p
        r["population_share"] = r["population"] / r["population"].sum()
        r["ratio"] = p / r["population_share"]
        z = 1.959963984540054  # Wilson 95% interval on the share, over the population share
        centre = (p + z * z / (2 * eligible)) / (1 + z * z / eligible)
        half = z / (1 + z * z / eligible) * np.sqrt(p * (1 - p) / eligible + z * z / (4 * eligible ** 2))
        r["ratio_low"] = (centre - half) / r["population_share"]
        r["ratio_high"] = (centre + half) / r["population_share"]
        reps.append(r)
    representation = pd.concat(reps, ignore_index=True)[
        ["dimension", "group", "population", "feedback_n", "eligible_n", "n_missing", "feedback_share",
         "population_share", "ratio", "ratio_low", "ratio_high"]]
    t = log("representation", t, f"{len(people):,} respondents, {len(representation)} rows")

    # 5. Parquet
    for dim in DIMENSIONS:
        df[dim + "_group"] = df[dim + "_group"].astype(str)
    write(df, out / "records.parquet")
    pairs = pd.DataFrame({
        "record_id": df["record_id"].to_numpy()[rec],
        "theme": pd.Categorical.from_codes(lab, categories=labels),
        "margin": margin,
    })
    write(pairs, out / "record_themes.parquet")
    write(crosstab, out / "theme_by_group.parquet")
    write(representation, out / "representation.parquet")
    t = log("write", t)
    log("total", t_start)


if __name__ == "__main__":
    main()
