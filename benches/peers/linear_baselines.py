"""Peer baselines for the learned coder, on the same respondent folds as `unheard eval --folds`.

TF-IDF + LinearSVC (the issue's reference baseline) and TF-IDF + SVC (linear kernel, balanced
classes: an approximation of pxtextmining's SVC recipe, not its exact tuning grid), one-vs-rest,
scored like `unheard eval`: micro-F1 over the labels (without "Not assigned" and "Labelling not
possible"), macro-F1 over labels with at least 5 positives.

    python3 -m pip install scikit-learn
    python3 benches/peers/linear_baselines.py ../shared/eval/fft-labelled-dev.csv --folds 5

Fold of a row = first 8 bytes of sha256(Respondent ID) as a big-endian integer, mod K: the
definition `unheard eval --folds K --group-column "Respondent ID"` uses.
"""
import argparse
import csv
import hashlib
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC, LinearSVC

EXCLUDED = {"Not assigned", "Labelling not possible"}


def fold_of(group: str, k: int) -> int:
    return int.from_bytes(hashlib.sha256(group.encode("utf-8")).digest()[:8], "big") % k


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("labelled")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--text-column", default="FFT answer")
    ap.add_argument("--group-column", default="Respondent ID")
    ap.add_argument("--labels-from", default="Not assigned")
    args = ap.parse_args()

    with open(args.labelled, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0].keys())
    labels = [l for l in header[header.index(args.labels_from):] if l not in EXCLUDED]
    texts = [r[args.text_column] or "" for r in rows]
    y = np.array([[1 if (r[l] or "").strip() == "1" else 0 for l in labels] for r in rows])
    folds = np.array([fold_of(r[args.group_column], args.folds) for r in rows])

    recipes = {
        "tfidf+LinearSVC": lambda: OneVsRestClassifier(LinearSVC(C=1.0)),
        "tfidf+SVC(linear, balanced)": lambda: OneVsRestClassifier(SVC(kernel="linear", C=1.0, class_weight="balanced")),
    }
    for name, make in recipes.items():
        pred = np.zeros_like(y)
        train_seconds = 0.0
        for k in range(args.folds):
            train, test = folds != k, folds == k
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
            t0 = time.perf_counter()
            x_train = vec.fit_transform([texts[i] for i in np.where(train)[0]])
            # labels with no positive in a training fold cannot be learned: predict 0
            learnable = y[train].sum(axis=0) > 0
            clf = make().fit(x_train, y[train][:, learnable])
            train_seconds += time.perf_counter() - t0
            p = clf.predict(vec.transform([texts[i] for i in np.where(test)[0]]))
            pred[np.ix_(test, learnable)] = p
        support = y.sum(axis=0)
        keep = support >= 5
        micro = f1_score(y, pred, average="micro", zero_division=0)
        macro = f1_score(y[:, keep], pred[:, keep], average="macro", zero_division=0)
        print(f"{name}: micro-F1 {micro:.3f}, macro-F1 {macro:.3f} over {keep.sum()} labels with >= 5 positives; "
              f"{args.folds}-fold training {train_seconds:.1f} s in all ({len(rows)} comments, {len(labels)} labels)")


if __name__ == "__main__":
    main()
