#!/usr/bin/env python3
"""Fit scikit-learn's LogisticRegression on a CSV matrix and print the coefficients as JSON.

The CSV has a header; columns named w (sample weight) and y (0/1 outcome) are taken out, every
other column is a feature in order. Used by train/fit's tests to cross-check the Go solver:

    python3 scripts/sklearn/fit_check.py --data X.csv --C 0.01,1,100 [--solver newton-cholesky]
"""
import argparse
import json
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="CSV with header; columns y and optional w")
    ap.add_argument("--C", required=True, help="comma-separated inverse penalties")
    ap.add_argument("--solver", default="newton-cholesky", help="newton-cholesky or lbfgs")
    ap.add_argument("--tol", type=float, default=1e-10)
    args = ap.parse_args()

    with open(args.data) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(args.data, delimiter=",", skiprows=1, ndmin=2)
    y = data[:, header.index("y")]
    w = data[:, header.index("w")] if "w" in header else None
    features = [i for i, name in enumerate(header) if name not in ("y", "w")]
    X = data[:, features]

    fits = []
    for c in (float(v) for v in args.C.split(",")):
        m = LogisticRegression(C=c, penalty="l2", solver=args.solver, tol=args.tol, max_iter=100000)
        m.fit(X, y, sample_weight=w)
        fits.append({
            "C": c,
            "intercept": float(m.intercept_[0]),
            "coef": [float(v) for v in m.coef_[0]],
            "n_iter": int(m.n_iter_[0]),
        })
    json.dump({"sklearn": sklearn.__version__, "solver": args.solver, "fits": fits}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
