#!/usr/bin/env python3
"""Peer of `leadscore train` for the whole-process benchmark (scripts/bench/train-vs-sklearn.sh).

Reads the same generated contacts CSV, keeps closed deals, holds out the latest share by created_at
(rows tied with the first held-out time go to the holdout, as leadscore does), builds the features of
the model asked for, fits scikit-learn's LogisticRegression(lbfgs) at the given C, or with C "cv"
chooses C as `leadscore train` does by default: LogisticRegressionCV over leadscore's grid (ten values
log-spaced from 1e-3 to 1e2), five stratified shuffled folds, scored by log loss, then refitted on every
training row at the best C. It prints one JSON line with the holdout AUC. The e-mail class (free-mail,
education, company, invalid) and title seniority follow leadscore's rules.

Features, by MODEL:
  onehot     (the peer of `--model onehot`) the way a data scientist would with pandas: one-hot
             categories, log1p counts, recency in days, median imputation with missing indicators,
             standardisation on the training rows;
  scorecard  (the peer of `--model scorecard`) a binned design, as a scorecard is: a scikit-learn
             ColumnTransformer fitted on the training rows that cuts every number (counts and
             recency, median-imputed) into BINS quantile bins one-hot encoded (KBinsDiscretizer),
             adds a missing indicator per number, and one-hot encodes the categories with values seen
             fewer than 20 times pooled (OneHotEncoder min_frequency, as leadscore's rate tables pool
             rare values). leadscore's scorecard also chooses its bins by the rates, constrains each
             weight's sign and chains monotone ranges: more work on its side, none on this one.

    sklearn_train.py CONTACTS.csv C|cv [HOLDOUT_SHARE] [MODEL]
"""
import json
import re
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

# The derived features follow leadscore's definitions (features/derive.go: EmailDomainClass and
# TitleSeniority), so that both sides learn from the same information.
FREE_MAIL = {
    "gmail.com", "googlemail.com", "ymail.com", "rocketmail.com", "msn.com", "aol.com", "aim.com", "icloud.com",
    "me.com", "mac.com", "web.de", "freenet.de", "t-online.de", "proton.me", "protonmail.com", "protonmail.ch",
    "pm.me", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "ya.ru", "rambler.ru", "qq.com", "163.com", "126.com",
    "sina.com", "naver.com", "daum.net", "hanmail.net", "libero.it", "virgilio.it", "orange.fr", "wanadoo.fr",
    "free.fr", "laposte.net", "sfr.fr", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "rediffmail.com",
    "tutanota.com", "tuta.io", "fastmail.com", "hey.com", "mail.com", "email.com", "inbox.com", "zoho.com",
    "zohomail.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
    "charter.net", "earthlink.net", "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com", "shaw.ca",
    "rogers.com", "sympatico.ca", "bigpond.com", "optusnet.com.au", "uol.com.br", "bol.com.br", "terra.com.br",
    "gmx.net", "yandex.com"}
# A free-mail brand followed by a country suffix of at most two short labels: yahoo.co.uk, gmx.de, hotmail.fr.
FREE_MAIL_BRAND = re.compile(r"^(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|gmx|yandex|"
                             r"proton|protonmail|mail|zoho)\.[^.]{1,3}(?:\.[^.]{1,3})?$")
EDUCATION = re.compile(r"\.edu$|\.edu\.|\.ac\.")

PLACEHOLDER = {"n", "a", "na", "none", "unknown", "other", "null", "nil", "tbd", "x", "xx", "xxx", "test",
               "unspecified", "not", "applicable"}
STUDENT = {"student", "students", "intern", "internship", "trainee", "apprentice", "werkstudent", "werkstudentin",
           "praktikant", "praktikantin", "stagiaire", "estudiante", "étudiant", "étudiante", "etudiant",
           "undergraduate", "azubi", "pupil"}
EXECUTIVE = {"chief", "ceo", "cfo", "cmo", "cto", "coo", "cio", "cro", "cso", "cpo", "cco", "cdo", "cao", "cxo",
             "ciso", "chro", "vp", "svp", "evp", "avp", "vicepresident", "president", "founder", "cofounder",
             "gründer", "gruender", "fundador", "fondateur", "chairman", "chairwoman", "chairperson",
             "geschäftsführer", "geschäftsführerin", "geschaeftsfuehrer", "inhaber", "inhaberin", "proprietor"}
DIRECTOR = {"director", "directeur", "directrice", "directora", "direktor", "dir"}
MANAGER = {"manager", "mgr", "supervisor", "gerente", "leiter", "leiterin", "teamleiter", "jefe", "foreman",
           "superintendent"}
LEAD = {"lead", "leader", "teamlead", "techlead"}
WORD = re.compile(r"[^\W_]+")


def email_class(domain):
    """Class of a lower-case e-mail domain: free-mail, education, company or invalid."""
    domain = domain.strip()
    if domain.endswith("."):
        domain = domain[:-1]
    dot = domain.find(".")
    if dot <= 0 or dot == len(domain) - 1 or ".." in domain:
        return "invalid"
    if domain in FREE_MAIL or FREE_MAIL_BRAND.match(domain):
        return "free-mail"
    if EDUCATION.search(domain):
        return "education"
    return "company"


def seniority(title):
    """Seniority level of a lower-case job title, by the rules of leadscore's TitleSeniority."""
    words = WORD.findall(title)[:16]
    if all(w in PLACEHOLDER or w.isdigit() for w in words):
        return "unknown"
    if any(w in STUDENT for w in words):
        return "student"
    n = len(words)
    nxt = words[1:] + [""]
    if any(w == "assistant" and x == "to" for w, x in zip(words, nxt)):
        return "individual"
    for k, (w, x) in enumerate(zip(words, nxt)):
        last = k == n - 1
        if (w in EXECUTIVE or (w == "owner" and (k == 0 or words[k - 1] != "product"))
                or (w == "partner" and last) or (w == "head" and (last or x == "of"))
                or (w == "managing" and x in ("director", "partner"))):
            return "executive"
    if any(w in DIRECTOR or (w == "general" and x == "manager") for w, x in zip(words, nxt)):
        return "director"
    if any(w in MANAGER or (w in LEAD and x not in ("generation", "gen")) for w, x in zip(words, nxt)):
        return "manager"
    return "individual"


CATEGORIES = ["industry", "country", "source"]
COUNTS = ["employees", "annual_revenue", "visits", "page_views", "pricing_page_views", "demo_page_views",
          "careers_page_views", "email_opens", "email_clicks", "forms_tofu", "forms_mofu", "forms_bofu",
          "days_since_last_activity"]


def derived(df):
    """The e-mail class and title seniority of every row, by leadscore's rules."""
    # Both derivations depend on few distinct values (domains, titles): classify each once and map.
    address = df["email"].fillna("").str.strip()
    domain = address.str.split("@").str[-1].str.lower()
    email = domain.map({d: email_class(d) for d in domain.unique()})
    email = email.mask(~address.str.contains("@", regex=False) | address.str.startswith("@"), "invalid")
    title = df["job_title"].fillna("").str.lower()
    level = title.map({t: seniority(t) for t in title.unique()})
    return email, level


def recency_days(df, ref_time):
    last = pd.to_datetime(df["last_activity_at"], utc=True, errors="coerce")
    return ((ref_time - last).dt.total_seconds() / 86400).clip(lower=0)


def features(df, ref_time):
    out = pd.DataFrame(index=df.index)
    email, level = derived(df)
    cats = df[CATEGORIES].copy()
    cats["email"] = email
    cats["seniority"] = level
    out = pd.concat([out, pd.get_dummies(cats.fillna("(missing)"), dtype=float)], axis=1)
    for c in COUNTS:
        x = pd.to_numeric(df[c], errors="coerce")
        out[c + "_missing"] = x.isna().astype(float)
        out[c] = np.log1p(x.clip(lower=0))
    recency = recency_days(df, ref_time)
    out["recency_missing"] = recency.isna().astype(float)
    out["recency"] = np.log1p(recency)
    out["unsubscribed"] = df["unsubscribed"].astype(str).str.lower().isin(["true", "1"]).astype(float)
    return out


# BINS is the number of quantile bins of each number in the scorecard peer: the scorecard cuts each
# number into at most 32 monotone bins (about 20 on these contacts: 362 bins over 19 columns).
BINS = 20


def binned(df, ref_time, train):
    """The scorecard peer's design: sparse, fitted on the training rows."""
    email, level = derived(df)
    raw = pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce") for c in COUNTS})
    raw["recency"] = recency_days(df, ref_time)
    nums = list(raw.columns)
    cats = df[CATEGORIES].copy()
    cats["email"] = email
    cats["seniority"] = level
    cats["unsubscribed"] = df["unsubscribed"].astype(str).str.lower()
    cats = cats.fillna("(missing)")
    frame = pd.concat([raw, cats], axis=1)
    design = ColumnTransformer([
        ("bins", make_pipeline(SimpleImputer(strategy="median"),
                               KBinsDiscretizer(n_bins=BINS, encode="onehot", strategy="quantile", subsample=None)), nums),
        ("missing", MissingIndicator(features="all"), nums),
        ("levels", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20), list(cats.columns)),
    ], sparse_threshold=1.0)
    design.fit(frame[train])
    return design.transform(frame).tocsr()


# leadscore's default grid (fit.DefaultGrid) and fold count.
GRID = np.logspace(-3, 2, 10)
FOLDS = 5


def main():
    # Counts with many equal values have tied quantiles; KBinsDiscretizer merges those bins and says so.
    warnings.filterwarnings("ignore", message="Bins whose width are too small")
    path, c = sys.argv[1], sys.argv[2]
    share = float(sys.argv[3]) if len(sys.argv) > 3 else 0.2
    kind = sys.argv[4] if len(sys.argv) > 4 else "onehot"
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    df = df[df["deal_stage"].isin(["closedwon", "closedlost"])].reset_index(drop=True)
    y = (df["deal_stage"] == "closedwon").to_numpy(dtype=float)
    created = pd.to_datetime(df["created_at"], utc=True)
    order = np.argsort(created.to_numpy(), kind="stable")
    cut = len(order) - int(np.floor(share * len(order) + 0.5))  # Go's math.Round, not round-half-even
    cutoff = created.iloc[order[cut]]
    hold = (created >= cutoff).to_numpy()
    ref_time = pd.to_datetime(df["last_activity_at"], utc=True, errors="coerce").max()
    train = ~hold
    if kind == "scorecard":
        X = binned(df, ref_time, train)
    elif kind == "onehot":
        X = features(df, ref_time)
        med = X[train].median()
        X = X.fillna(med)
        mu, sd = X[train].mean(), X[train].std(ddof=0).replace(0, 1)
        X = ((X - mu) / sd).to_numpy()
    else:
        sys.exit(f"sklearn_train.py: unknown model {kind!r} (want onehot or scorecard)")
    t1 = time.perf_counter()
    if c == "cv":
        # n_jobs=2: the folds run on both cores of the benchmark machine, as leadscore's do.
        model = LogisticRegressionCV(Cs=GRID, cv=StratifiedKFold(FOLDS, shuffle=True, random_state=0),
                                     scoring="neg_log_loss", solver="lbfgs", max_iter=1000, tol=1e-6, n_jobs=2)
    else:
        model = LogisticRegression(C=float(c), solver="lbfgs", max_iter=1000, tol=1e-6)
    model.fit(X[train], y[train])
    t2 = time.perf_counter()
    auc = roc_auc_score(y[hold], model.predict_proba(X[hold])[:, 1])
    chosen = float(model.C_[0]) if c == "cv" else float(c)
    print(json.dumps({"auc": auc, "c": chosen, "rows_train": int(train.sum()), "rows_holdout": int(hold.sum()),
                      "features": X.shape[1], "prepare_s": t1 - t0, "fit_s": t2 - t1,
                      "iterations": int(np.max(model.n_iter_))}))


if __name__ == "__main__":
    main()
