#!/usr/bin/env python3
"""Fit L2-penalised logistic regression with every weight >= 0 by scipy's L-BFGS-B and print JSON.

An implementation independent of leadscore's projected Newton solver (fit.FitNonNegative), to
cross-check its coefficients. It minimises

    0.5 * ||w||^2 + C * sum_i (softplus(z_i) - y_i * z_i),   z_i = x_i . w + b,

(the objective of scikit-learn's LogisticRegression, the intercept b unpenalised) subject to w >= 0,
with scipy.optimize.minimize(method="L-BFGS-B"), the analytic gradient, bounds [0, inf) on the
weights and none on the intercept, and tolerances far below the comparison's. The CSV has a header;
the column named y is the 0/1 outcome, every other column is a feature in order.

    python3 scripts/sklearn/nonneg_check.py --data X.csv --C 0.01,1,100
"""
import argparse
import json
import sys

import numpy as np
import scipy
from scipy.optimize import minimize


def fit(X, y, c):
    n, cols = X.shape

    def objective(beta):
        w, b = beta[:cols], beta[cols]
        z = X @ w + b
        loss = np.logaddexp(0, z) - y * z  # softplus(z) - y z, stable in both tails
        res = c * (0.5 * (1 + np.tanh(z / 2)) - y)  # C * (sigmoid(z) - y)
        grad = np.empty(cols + 1)
        grad[:cols] = X.T @ res + w
        grad[cols] = res.sum()
        return 0.5 * w @ w + c * loss.sum(), grad

    bounds = [(0, None)] * cols + [(None, None)]
    r = minimize(objective, np.zeros(cols + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                 options={"maxiter": 100000, "maxfun": 200000, "ftol": 1e-15, "gtol": 1e-11, "maxcor": 50})
    if not r.success:
        # L-BFGS-B stops on "ABNORMAL_TERMINATION_IN_LNSRCH" once it cannot improve at all in floating
        # point; the projected gradient then says how close it is. Anything else is a failure.
        pg = np.where((r.x[:cols] <= 0) & (r.jac[:cols] > 0), 0, r.jac[:cols])
        if max(np.abs(pg).max(), abs(r.jac[cols])) > 1e-6 * max(1, c * n):
            sys.exit(f"nonneg_check.py: L-BFGS-B did not converge at C={c}: {r.message}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="CSV with header; column y is the outcome")
    ap.add_argument("--C", required=True, help="comma-separated inverse penalties")
    args = ap.parse_args()

    with open(args.data) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(args.data, delimiter=",", skiprows=1, ndmin=2)
    y = data[:, header.index("y")]
    X = data[:, [i for i, name in enumerate(header) if name != "y"]]

    fits = []
    for c in (float(v) for v in args.C.split(",")):
        r = fit(X, y, c)
        fits.append({"C": c, "intercept": float(r.x[-1]), "coef": [float(v) for v in r.x[:-1]],
                     "n_iter": int(r.nit)})
    json.dump({"scipy": scipy.__version__, "solver": "L-BFGS-B", "fits": fits}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
