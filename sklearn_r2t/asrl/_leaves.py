"""Leaf values solved, not stepped: each new tree's leaves moved to their ASRL M-estimates.

With a custom objective, XGBoost and LightGBM give every leaf one Newton step,
``-sum(g) / (sum(h) + lambda)``, from the gradient and hessian sums of its rows. ASRL's
hessian is a positive majorizer (the IRLS weight ``psi(a) / a``), so that step is the first
step of an iteratively reweighted least-squares (IRLS) solve and stops short of the leaf's
minimiser wherever residuals sit outside the squared region. After each tree,
:class:`LeafSolver` continues that IRLS to convergence, leaf by leaf::

    v_leaf = argmin_v  sum_{i in leaf} w_i rho(v - r_i) + lambda/2 v**2 + alpha |v|

with ``r_i = target - prediction`` before the tree and the round's thresholds held fixed
(the same ones the gradients used), then writes ``learning_rate * v_leaf`` into the tree.
Each IRLS step minimises a quadratic majorizer of the leaf objective (``rho`` is concave in
``r**2`` on each side), ``v <- soft(sum w h r, alpha) / (sum w h + lambda)``; a step that
does not lower the exact objective is halved (backtracking), so the objective never rises.
The first step from ``v = 0`` is exactly the booster's own Newton step.

The libraries cannot see the new leaf values in their cached training predictions
(LightGBM's ``set_leaf_output`` changes the model but not the training scores; XGBoost has
no leaf setter at all), so the solver keeps, per training row, the difference between the
solved model and the library's margin and adds it before computing gradients. XGBoost's
solved leaves are written into the model once at the end (one JSON round trip,
:func:`bake_xgboost_leaves`); LightGBM's with ``set_leaf_output`` after each tree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from ._loss import _irls_weight, _rho
from ._objective import ASRLObjective
from ._thresholds import ASRLThresholds

__all__ = ["LeafSolver", "bake_xgboost_leaves", "solve_leaf_values"]

# IRLS steps per leaf and round; the solve stops earlier once no leaf moves by more than
# _TOL times the largest residual. Step halvings per step when the objective rises.
_MAX_ITER = 10
_TOL = 1e-6
_HALVINGS = 6
# Rows per leaf that enter the solve: above it a seeded random subset of about this size
# (the M-estimate's sampling error is then ~1.6 % of a robust SD, times the learning rate),
# which keeps the solve's cost flat in the number of rows.
MAX_ROWS_PER_LEAF = 4096


def _column(th: ASRLThresholds, j: int) -> ASRLThresholds:
    return ASRLThresholds(*(None if f is None else f[j:j + 1] for f in th))


def solve_leaf_values(residual: np.ndarray, weight: np.ndarray | None, leaf: np.ndarray,
                      n_leaves: int, thresholds: ASRLThresholds, reg_lambda: float = 0.0,
                      reg_alpha: float = 0.0, max_iter: int = _MAX_ITER) -> np.ndarray:
    """Per-leaf minimiser of the penalised ASRL loss, by IRLS with backtracking.

    Parameters
    ----------
    residual : ndarray of shape (n,)
        ``target - prediction`` of every row (what the leaves should add).
    weight : ndarray of shape (n,) or None
        Row weights.
    leaf : ndarray of shape (n,) of int
        Leaf of every row, in ``[0, n_leaves)``.
    n_leaves : int
        Number of leaves.
    thresholds : ASRLThresholds
        Statistics of one output (arrays of shape (1,)), held fixed.
    reg_lambda, reg_alpha : float
        L2 and L1 penalties on the leaf value, as in the boosters.
    max_iter : int
        IRLS steps at most.

    Returns
    -------
    values : ndarray of shape (n_leaves,)
        Unshrunk leaf values (multiply by the learning rate).
    """
    r = np.asarray(residual, dtype=np.float64)
    w = np.ones_like(r) if weight is None else np.asarray(weight, dtype=np.float64)

    def objective(v: np.ndarray) -> np.ndarray:
        loss = _rho((v[leaf] - r)[:, None], thresholds)[:, 0]
        f = np.bincount(leaf, weights=w * loss, minlength=n_leaves)
        return f + 0.5 * reg_lambda * v * v + reg_alpha * np.abs(v)

    v = np.zeros(n_leaves)
    f = objective(v)
    tol = _TOL * max(float(np.max(np.abs(r))) if r.size else 0.0, np.finfo(float).tiny)
    for _ in range(max_iter):
        h = _irls_weight((v[leaf] - r)[:, None], thresholds)[:, 0] * w
        sh = np.bincount(leaf, weights=h, minlength=n_leaves) + reg_lambda
        shr = np.bincount(leaf, weights=h * r, minlength=n_leaves)
        if reg_alpha:
            shr = np.sign(shr) * np.maximum(np.abs(shr) - reg_alpha, 0.0)
        ok = sh > 0
        step = np.where(ok, shr / np.where(ok, sh, 1.0), v) - v
        v_new = v + step
        f_new = objective(v_new)
        for _ in range(_HALVINGS):
            worse = f_new > f
            if not worse.any():
                break
            step = np.where(worse, 0.5 * step, step)
            v_new = v + step
            f_new = objective(v_new)
        worse = ~(f_new <= f)  # still no better (or NaN): keep the leaf where it was
        v_new[worse], f_new[worse] = v[worse], f[worse]
        moved = float(np.max(np.abs(v_new - v))) if n_leaves else 0.0
        v, f = v_new, f_new
        if moved <= tol:
            break
    return v


class LeafSolver:
    """An :class:`ASRLObjective` whose gradients see the solved leaves, plus the leaf solve.

    Used as the booster's objective (same calling conventions as :class:`ASRLObjective`);
    the booster's callback calls :meth:`after_iteration` after each tree with the leaf of
    every training row. Training-time state only: deep copies return the same object
    (LightGBM deep-copies its parameters, the objective among them, while the callback
    must reach the same state).
    """

    def __init__(self, objective: ASRLObjective, y: np.ndarray, sample_weight: np.ndarray | None,
                 learning_rate: float, reg_lambda: float, reg_alpha: float,
                 leaves: Callable[[Any, int], np.ndarray], random_state: int = 0,
                 max_iter: int = _MAX_ITER, max_rows_per_leaf: int = MAX_ROWS_PER_LEAF) -> None:
        self.objective = objective
        self.y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        self.sample_weight = sample_weight
        self.learning_rate = float(learning_rate)
        self.reg_lambda, self.reg_alpha = float(reg_lambda), float(reg_alpha)
        self.leaves = leaves
        self.max_iter = max_iter
        self.max_rows_per_leaf = max_rows_per_leaf
        self._keys = np.random.default_rng(random_state).random(self.y.shape[0])
        self.offset = np.zeros_like(self.y)  # solved model minus the library's margin
        self._margin: np.ndarray | None = None
        self._pending: np.ndarray | None = None
        self._pred: np.ndarray | None = None
        self._thresholds: ASRLThresholds | None = None
        self.trees: list[list[tuple[np.ndarray, np.ndarray]]] = []

    def __deepcopy__(self, memo: dict) -> LeafSolver:
        return self

    def __call__(self, a: Any, b: Any, sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        # (y_true, y_pred) from the scikit-learn interfaces; the labels are self.y.
        margin = np.asarray(b, dtype=np.float64).reshape(self.y.shape)
        if self._pending is not None:
            # The library added its own leaf values (margin - previous margin); the model
            # holds the solved ones (pending).
            self.offset += self._pending - (margin - self._margin)
            self._pending = None
        self._margin = margin.copy()
        pred = margin + self.offset
        grad, hess, self._thresholds = self.objective._gradient_hessian_thresholds(
            self.y, pred, self.sample_weight)
        self._pred = pred
        return grad.reshape(np.shape(b)), hess.reshape(np.shape(b))

    def after_iteration(self, model: Any,
                        iteration: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Solve the leaves of tree ``iteration``: ``[(leaf ids, shrunk values)]`` per output."""
        if self._pred is None:  # pragma: no cover - the library always calls the objective first
            raise RuntimeError("the objective was not called before the tree was grown")
        # XGBoost returns node ids as float32, LightGBM leaf indices as int32.
        ids_all = np.asarray(self.leaves(model, iteration)).reshape(self.y.shape[0], -1)
        ids_all = ids_all.astype(np.int64)
        if ids_all.shape[1] == 0:  # LightGBM found no split and added no tree
            self._pending = None
            self.trees.append([])
            return []
        pending = np.empty_like(self.y)
        out = []
        w = self.sample_weight
        for j in range(self.y.shape[1]):
            # Leaf ids are small integers: relabel them 0..L-1 in O(n) (no sort).
            counts = np.bincount(ids_all[:, j])
            ids = np.flatnonzero(counts)
            lut = np.zeros(counts.size, dtype=np.int64)
            lut[ids] = np.arange(ids.size)
            leaf = lut[ids_all[:, j]]
            rows = self._rows(leaf, counts[ids])
            if rows is None:
                lf, r, wj = leaf, self.y[:, j] - self._pred[:, j], w
            else:
                lf, r = leaf[rows], self.y[rows, j] - self._pred[rows, j]
                wj = None if w is None else w[rows]
            v = self.learning_rate * solve_leaf_values(
                r, wj, lf, ids.size, _column(self._thresholds, j), self.reg_lambda,
                self.reg_alpha, self.max_iter)
            pending[:, j] = v[leaf]
            out.append((ids, v))
        self._pending = pending
        self.trees.append(out)
        return out

    def release(self) -> None:
        """Drop the training data and the leaf callable (the fitted model may keep a reference)."""
        self.leaves = None  # type: ignore[assignment]
        self.y = self.offset = self._keys = np.empty((0, 1))
        self.sample_weight = self._margin = self._pending = self._pred = None
        self.trees = []

    def _rows(self, leaf: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
        """Rows entering the solve: all, or a seeded subset of ~max_rows_per_leaf per leaf."""
        if counts.max() <= self.max_rows_per_leaf:
            return None
        keep = self._keys < self.max_rows_per_leaf / counts[leaf]
        return np.flatnonzero(keep)


def bake_xgboost_leaves(booster: Any, trees: list[list[tuple[np.ndarray, np.ndarray]]]) -> Any:
    """A copy of an XGBoost booster with the solved leaf values written into its trees.

    XGBoost has no leaf setter; its JSON model holds each leaf's value in
    ``split_conditions`` (and ``base_weights``) at the leaf's node id, which is what
    ``predict(pred_leaf=True)`` returns. Round ``t``'s tree for output ``j`` is tree
    ``t * n_outputs + j``.
    """
    import xgboost as xgb

    model = json.loads(booster.save_raw("json"))
    jtrees = model["learner"]["gradient_booster"]["model"]["trees"]
    for t, per_output in enumerate(trees):
        k = len(per_output)
        for j, (ids, values) in enumerate(per_output):
            tree = jtrees[t * k + j]
            for node, value in zip(ids.tolist(), values.tolist(), strict=True):
                tree["split_conditions"][node] = value
                tree["base_weights"][node] = value
    out = xgb.Booster()
    out.load_model(bytearray(json.dumps(model).encode()))
    return out
