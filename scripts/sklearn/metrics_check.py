#!/usr/bin/env python3
"""Compute scikit-learn's binary metrics for a CSV of scores and outcomes and print them as JSON.

The CSV has a header with columns score and y (0/1). Used by train/metrics' tests:

    python3 scripts/sklearn/metrics_check.py --data scores.csv [--probabilities]

--probabilities adds log loss (probabilities clipped to [1e-15, 1-1e-15]) and the Brier score.
"""
import argparse
import json
import sys

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--probabilities", action="store_true")
    args = ap.parse_args()

    with open(args.data) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(args.data, delimiter=",", skiprows=1, ndmin=2)
    s = data[:, header.index("score")]
    y = data[:, header.index("y")].astype(int)

    out = {
        "sklearn": sklearn.__version__,
        "auc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
    }
    if args.probabilities:
        p = np.clip(s, 1e-15, 1 - 1e-15)
        out["log_loss"] = float(log_loss(y, p, labels=[0, 1]))
        out["brier"] = float(brier_score_loss(y, s))
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
