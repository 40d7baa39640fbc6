#!/usr/bin/env python3
"""Peer of `leadscore train` for the whole-process benchmark (scripts/bench/train-vs-sklearn.sh).

Reads the same generated contacts CSV, keeps closed deals, holds out the latest share by created_at
(rows tied with the first held-out time go to the holdout, as leadscore does), builds features the way a
data scientist would with pandas (one-hot categories, free-mail flag, title seniority, log1p counts,
recency in days, median imputation with missing indicators, standardisation on the training rows), fits
scikit-learn's LogisticRegression(lbfgs) at the given C and prints one JSON line with the holdout AUC.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

FREE_MAIL = {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "aol.com",
             "icloud.com", "me.com", "gmx.com", "gmx.de", "protonmail.com", "proton.me", "mail.ru", "yandex.ru",
             "web.de", "msn.com", "yahoo.co.uk", "hotmail.co.uk", "qq.com", "163.com"}
SENIORITY = [
    ("student", r"\b(?:student|intern|trainee|graduate)\b"),
    ("executive", r"\b(?:chief|ceo|cfo|cmo|cto|coo|cio|vp|vice president|president|founder|owner|partner|head)\b"),
    ("director", r"\bdirector\b"),
    ("manager", r"\b(?:manager|lead|supervisor)\b"),
]
CATEGORIES = ["industry", "country", "source"]
COUNTS = ["employees", "annual_revenue", "visits", "page_views", "pricing_page_views", "demo_page_views",
          "careers_page_views", "email_opens", "email_clicks", "forms_tofu", "forms_mofu", "forms_bofu",
          "days_since_last_activity"]


def features(df, ref_time):
    out = pd.DataFrame(index=df.index)
    domain = df["email"].fillna("").str.lower().str.split("@").str[-1]
    out["email_free"] = domain.isin(FREE_MAIL).astype(float)
    title = df["job_title"].fillna("").str.lower()
    seniority = pd.Series("individual", index=df.index)
    for name, pattern in reversed(SENIORITY):
        seniority = seniority.mask(title.str.contains(pattern, regex=True), name)
    seniority = seniority.mask(title == "", "unknown")
    cats = df[CATEGORIES].copy()
    cats["seniority"] = seniority
    out = pd.concat([out, pd.get_dummies(cats.fillna("(missing)"), dtype=float)], axis=1)
    for c in COUNTS:
        x = pd.to_numeric(df[c], errors="coerce")
        out[c + "_missing"] = x.isna().astype(float)
        out[c] = np.log1p(x.clip(lower=0))
    last = pd.to_datetime(df["last_activity_at"], utc=True, errors="coerce")
    out["recency_missing"] = last.isna().astype(float)
    out["recency"] = np.log1p(((ref_time - last).dt.total_seconds() / 86400).clip(lower=0))
    out["unsubscribed"] = df["unsubscribed"].astype(str).str.lower().isin(["true", "1"]).astype(float)
    return out


def main():
    path, c, share = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.2
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    df = df[df["deal_stage"].isin(["closedwon", "closedlost"])].reset_index(drop=True)
    y = (df["deal_stage"] == "closedwon").to_numpy(dtype=float)
    created = pd.to_datetime(df["created_at"], utc=True)
    order = np.argsort(created.to_numpy(), kind="stable")
    cut = len(order) - int(round(share * len(order)))
    cutoff = created.iloc[order[cut]]
    hold = (created >= cutoff).to_numpy()
    ref_time = pd.to_datetime(df["last_activity_at"], utc=True, errors="coerce").max()
    X = features(df, ref_time)
    train = ~hold
    med = X[train].median()
    X = X.fillna(med)
    mu, sd = X[train].mean(), X[train].std(ddof=0).replace(0, 1)
    X = ((X - mu) / sd).to_numpy()
    t1 = time.perf_counter()
    model = LogisticRegression(C=c, solver="lbfgs", max_iter=1000, tol=1e-6)
    model.fit(X[train], y[train])
    t2 = time.perf_counter()
    auc = roc_auc_score(y[hold], model.predict_proba(X[hold])[:, 1])
    print(json.dumps({"auc": auc, "rows_train": int(train.sum()), "rows_holdout": int(hold.sum()),
                      "features": X.shape[1], "prepare_s": t1 - t0, "fit_s": t2 - t1,
                      "iterations": int(model.n_iter_[0])}))


if __name__ == "__main__":
    main()
