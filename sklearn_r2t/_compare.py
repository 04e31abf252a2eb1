"""Score sequence estimators side by side: the table of the demo and the benchmarks.

Every method is anything with the sequence-estimator API of
:class:`~sklearn_r2t.SymbolicLeastSquares` and :class:`~sklearn_r2t.R2TRegressor`:
``fit(X)``, ``transform(X)`` -> parameters, a fitted ``model_``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from .least_squares._symbolic_least_squares import SymbolicLeastSquares
from .metrics import normalized_mse, oracle_fit, parameter_errors
from .noise import typical_outlier_side
from .r2t._estimator import R2TRegressor
from .r2t._weights import pretrained_path
from .symbolic import SymbolicModel

__all__ = ["compare_methods", "format_table", "standard_methods"]


def _is_fitted(estimator) -> bool:
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def transform_batched(estimator, X, *, batch_size: int = 50, bar=None):
    """``estimator.transform(X)`` in batches of rows, timed, moving a progress bar.

    Returns
    -------
    params : ndarray of shape (n_sequences, n_params)
    seconds : float
        Wall time spent in ``transform``.
    """
    parts, elapsed = [], 0.0
    for start in range(0, X.shape[0], batch_size):
        batch = X[start : start + batch_size]
        t0 = time.perf_counter()
        parts.append(np.asarray(estimator.transform(batch), dtype=float))
        elapsed += time.perf_counter() - t0
        if bar is not None:
            bar.update(batch.shape[0])
    return np.concatenate(parts, axis=0), elapsed


def compare_methods(
    methods: Sequence[tuple[str, object]],
    bunch,
    model: SymbolicModel | None = None,
    *,
    batch_size: int = 50,
    progress: bool = True,
    return_params: bool = False,
):
    """Fit every method to a labelled synthetic test set and score it.

    Parameters
    ----------
    methods : sequence of (label, estimator)
        Sequence estimators. One that is not fitted yet is fitted on ``bunch.X``
        (for :class:`~sklearn_r2t.SymbolicLeastSquares` that only validates: each
        sequence is fitted in ``transform``). A learned estimator such as
        :class:`~sklearn_r2t.R2TRegressor` must be fitted beforehand on separate
        training data (or loaded pretrained); it is then used as it is.
    bunch : Bunch
        Output of :func:`~sklearn_r2t.datasets.make_wearable_sequences`: ``X``
        (noisy, NaN missing), ``X_clean`` and ``params``.
    model : SymbolicModel, default=None
        The generating model; defaults to ``bunch.model``.
    batch_size : int, default=50
        Sequences per ``transform`` call (the progress bar moves per batch).
    progress : bool, default=True
        Show a tqdm progress bar over methods and sequences (on stderr).
    return_params : bool, default=False
        Also return the fitted parameters of each method.

    Returns
    -------
    rows : list of dict
        One per method, with keys ``method``, ``median_nmse`` (median over
        sequences of the normalised MSE against the clean curve,
        :func:`~sklearn_r2t.metrics.normalized_mse`), ``median_abs_error`` (dict:
        parameter name -> median absolute error in physical units, circular for
        angles), ``units`` (dict: parameter name -> unit), ``ms_per_sequence``
        (wall time of ``transform`` divided by the number of sequences),
        ``n_sequences`` and ``n_failed`` (sequences with NaN parameters). When
        ``bunch`` has an ``artefact_mask``, a first row ``"Oracle"`` (least squares
        on the untouched samples, :func:`~sklearn_r2t.metrics.oracle_fit`) sets the
        floor and every row gets ``ratio_to_oracle`` (its median NMSE over the
        oracle's).
    params : dict of str -> ndarray of shape (n_sequences, n_params)
        Only when ``return_params=True``.
    """
    from tqdm.auto import tqdm

    model = bunch.model if model is None else model
    X, X_clean, true = bunch.X, bunch.X_clean, bunch.params
    n = X.shape[0]
    batch_size = max(int(batch_size), 1)
    rows, fitted = [], {}

    def score(label, params, elapsed):
        ok = ~np.isnan(params).any(axis=1)
        curves = np.full_like(X_clean, np.nan)
        if ok.any():
            curves[ok] = model.evaluate(params[ok], X.shape[1]).reshape(curves[ok].shape)
        nmse = normalized_mse(model, X_clean[ok], curves[ok])
        errors = parameter_errors(model, true[ok], params[ok])
        rows.append(
            dict(
                method=label,
                median_nmse=float(np.median(nmse)) if ok.any() else math.nan,
                median_abs_error={
                    name: float(np.median(errors[:, j])) if ok.any() else math.nan
                    for j, name in enumerate(model.param_names)
                },
                units=dict(zip(model.param_names, model.param_units, strict=True)),
                ms_per_sequence=1e3 * elapsed / max(n, 1),
                n_sequences=int(n),
                n_failed=int((~ok).sum()),
            )
        )
        fitted[label] = params

    mask = getattr(bunch, "artefact_mask", None)
    if mask is not None:
        t0 = time.perf_counter()
        oracle = oracle_fit(model, X, mask)
        score("Oracle", oracle, time.perf_counter() - t0)
    bar = tqdm(total=len(methods) * n, unit="seq", disable=not progress, leave=False)
    try:
        for label, estimator in methods:
            bar.set_description(label)
            if not _is_fitted(estimator):
                estimator.fit(X)
            params, elapsed = transform_batched(estimator, X, batch_size=batch_size, bar=bar)
            score(label, params, elapsed)
    finally:
        bar.close()
    if mask is not None:
        for r in rows:
            r["ratio_to_oracle"] = r["median_nmse"] / rows[0]["median_nmse"]
    return (rows, fitted) if return_params else rows


def best_classical(rows: Sequence[dict]) -> tuple[str, float] | None:
    """Label and median NMSE of the most accurate classical method in ``rows``
    (neither R2T nor the oracle), or ``None`` when there is none."""
    classical = {r["method"]: r["median_nmse"] for r in rows
                 if not r["method"].startswith(("R2T", "Oracle"))}
    if not classical:
        return None
    rival = min(classical, key=classical.get)
    return rival, classical[rival]


def format_table(rows: Sequence[dict]) -> str:
    """Markdown table of :func:`compare_methods` rows.

    Columns: method, median normalised MSE, the median absolute error of each
    parameter (with its unit) and the time per sequence in milliseconds. A
    ``failed`` column appears when some sequence got no parameters.
    """
    if not rows:
        return ""
    names = list(rows[0]["median_abs_error"])
    units = rows[0].get("units", {})
    show_failed = any(r.get("n_failed", 0) for r in rows)
    header = ["method", "median NMSE"]
    header += [f"{p} ({units[p]})" if units.get(p) else p for p in names]
    show_ratio = all("ratio_to_oracle" in r for r in rows)
    header += (["x oracle"] if show_ratio else []) + ["ms / seq"]
    header += ["failed"] if show_failed else []
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for r in rows:
        cells = [str(r["method"]), f"{r['median_nmse']:.2e}"]
        cells += [f"{r['median_abs_error'][p]:.3g}" for p in names]
        cells += [f"{r['ratio_to_oracle']:.2f}"] if show_ratio else []
        cells += [f"{r['ms_per_sequence']:.2f}"]
        if show_failed:
            cells += [str(r.get("n_failed", 0))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def standard_methods(
    model: SymbolicModel, n_jobs: int | None = None, n_timesteps: int = 96
) -> list[tuple[str, object]]:
    """The methods of the demo and benchmark tables, as ``(label, estimator)`` pairs.

    The robust baselines appear with the robust scale ``f_scale='auto'``, and
    soft-L1 also at scipy's default ``f_scale=1.0`` (on the normalised signal that
    is the whole plausible range, so it acts almost like ordinary least squares).
    Huber at ``f_scale=1.0`` is not listed: no normalised residual reaches its knee
    at 1, so it *is* ordinary least squares (identical on 9,000 synthetic
    sequences); no method listed here equals another. The strongest
    classical rivals follow: Tukey's bisquare from a high-breakdown start, and the
    same with ``outlier_side`` set to the side the model's artefacts push
    (:func:`~sklearn_r2t.noise.typical_outlier_side`). R2T and R2T with the
    paper's parameter head join when shipped weights exist for the model and
    length (training from scratch would not fit in a demo).
    """
    def sls(loss, f_scale, **kw):
        return SymbolicLeastSquares(model, loss=loss, f_scale=f_scale, n_jobs=n_jobs, **kw)

    side = typical_outlier_side(model)
    methods = [
        ("OLS", sls("linear", 1.0)),
        ("SoftL1 (f_scale=1)", sls("soft_l1", 1.0)),
        ("Huber (auto)", sls("huber", "auto")),
        ("SoftL1 (auto)", sls("soft_l1", "auto")),
        ("Cauchy (auto)", sls("cauchy", "auto")),
        ("Bisquare (auto)", sls("bisquare", "auto")),
        (f"Bisquare one-sided ({'/'.join(side)})", sls("bisquare", "auto", outlier_side=side)),
    ]
    if pretrained_path(model, n_timesteps) is not None:
        methods.append(("R2T", R2TRegressor(model, pretrained=True)))
    if pretrained_path(model, n_timesteps, "parameters") is not None:
        methods.append(("R2T (paper's head)",
                        R2TRegressor(model, head="parameters", pretrained=True)))
    return methods
