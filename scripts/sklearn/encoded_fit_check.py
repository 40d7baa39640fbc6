#!/usr/bin/env python3
"""Fit scikit-learn's LogisticRegression on an encoded training matrix and print it as JSON.

The CSV has a header; the column named y is the 0/1 outcome and every other column is a feature,
in order. Used by train's TestEncodedMatchesSklearn to check the coefficients that train.Train
stores in a model against scikit-learn on the same features.Encoder output:

    python3 scripts/sklearn/encoded_fit_check.py --data X.csv --C 0.5 [--solver newton-cholesky]

C means what it means in train.Config.Grid and fit.Options: the fit minimises
0.5*||w||^2 + C*sum_i logloss_i with the intercept unpenalised, which is scikit-learn's
LogisticRegression(C=C, penalty="l2", fit_intercept=True) as is.
"""
import argparse
import json
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="CSV with header; column y is the outcome")
    ap.add_argument("--C", required=True, type=float, help="inverse L2 penalty")
    ap.add_argument("--solver", default="newton-cholesky", help="newton-cholesky or lbfgs")
    ap.add_argument("--tol", type=float, default=1e-10)
    args = ap.parse_args()

    with open(args.data) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(args.data, delimiter=",", skiprows=1, ndmin=2)
    y = data[:, header.index("y")]
    X = data[:, [i for i, name in enumerate(header) if name != "y"]]

    m = LogisticRegression(C=args.C, penalty="l2", solver=args.solver, tol=args.tol,
                           max_iter=100000, fit_intercept=True)
    m.fit(X, y)
    json.dump({
        "sklearn": sklearn.__version__,
        "solver": args.solver,
        "C": args.C,
        "rows": int(X.shape[0]),
        "cols": int(X.shape[1]),
        "intercept": float(m.intercept_[0]),
        "coef": [float(v) for v in m.coef_[0]],
        "n_iter": int(m.n_iter_[0]),
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
