"""Weighted quantiles and sums of residuals.

In one process, or across the workers of a distributed XGBoost (allreduce).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Weighted selection switches to a sort below this many candidates.
_SMALL = 64


# --------------------------------------------------------------------------- quantiles
def _select_weighted(v: np.ndarray, w: np.ndarray, target: float) -> float:
    """Smallest ``x`` in ``v`` with ``sum(w[v <= x]) >= target`` (weighted inverted CDF).

    Median-of-candidates quickselect: every pass halves the candidates with vectorized
    ``np.partition`` and masks, so the total work is O(n) and Python iterates O(log n) times.
    """
    while v.size > _SMALL:
        k = v.size // 2
        pivot = np.partition(v, k)[k]
        lo = v < pivot
        w_lo = w[lo].sum()
        if w_lo >= target:
            v, w = v[lo], w[lo]
            continue
        eq = v == pivot
        w_eq = w[eq].sum()
        if w_lo + w_eq >= target:
            return float(pivot)
        hi = ~(lo | eq)
        if not hi.any():
            return float(pivot)
        target -= w_lo + w_eq
        v, w = v[hi], w[hi]
    if v.size == 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    i = int(np.searchsorted(cw, target, side="left"))
    return float(v[order[min(i, v.size - 1)]])


def _quantiles(v: np.ndarray, w: np.ndarray | None, qs: tuple[float, ...]) -> np.ndarray:
    """Inverted-CDF quantiles of a 1-D array, weighted or not, in O(n); NaN if empty.

    The inverted CDF (smallest value whose cumulative weight reaches ``q * total``) makes
    integer weights exactly equivalent to repeated rows.
    """
    n = v.size
    if n == 0:
        return np.full(len(qs), np.nan)
    if w is None:
        ks = [min(max(math.ceil(q * n) - 1, 0), n - 1) for q in qs]
        # One single-k partition, then each further k on the suffix right of the previous
        # one: numpy's single-k selection is SIMD-accelerated and ~10x faster than one
        # np.partition call with several k (measured on 1e6 float64: 1 ms vs 10 ms).
        order = sorted(set(ks))
        part = np.partition(v, order[0])
        for prev, k in zip(order[:-1], order[1:], strict=True):
            part[prev + 1:].partition(k - prev - 1)
        return part[ks].astype(np.float64)
    keep = w > 0  # zero-weight rows must not influence the statistics
    if not keep.all():
        v, w = v[keep], w[keep]
    total = w.sum()
    if not total > 0:
        return np.full(len(qs), np.nan)
    return np.array([_select_weighted(v, w, q * total) for q in qs])


# --------------------------------------------------------------------------- statistics
# One description of the statistics, two ways to evaluate it: on the local rows, or across
# the workers of a distributed XGBoost (every worker sees only its partition, so sums are
# allreduced and quantiles found by a collective bisection). ``_column_stats`` asks its
# backend for "quantiles of these values with these weights" and "sums of these numbers".
class _LocalBackend:
    def quantiles(self, queries: list[tuple[np.ndarray, np.ndarray | None, float]]) -> np.ndarray:
        out = np.empty(len(queries))
        # Several levels of the same array share one selection pass.
        groups: dict[int, list[int]] = {}
        for i, (v, _, _) in enumerate(queries):
            groups.setdefault(id(v), []).append(i)
        for idx in groups.values():
            v, w, _ = queries[idx[0]]
            out[idx] = _quantiles(v, w, tuple(queries[i][2] for i in idx))
        return out

    def sums(self, values: np.ndarray) -> np.ndarray:
        return values


# Collective quantiles: each round all workers (1) allreduce-MIN the [min, -max] of their
# current candidates and (2) allreduce-SUM a histogram of the candidates over that range;
# every worker then keeps the same bin. With 1024 bins the candidates shrink ~1000x per
# round, and the loop stops as soon as every candidate set has collapsed to one distinct
# value, at which point the result equals the single-process inverted-CDF quantile exactly.
# After _MAX_ROUNDS without collapse the answer is the smallest candidate, at most
# (range / 1024**_MAX_ROUNDS) below the exact one.
_BINS = 1024
_MAX_ROUNDS = 8


def _collective_quantiles(
    queries: list[tuple[np.ndarray, np.ndarray, float]], totals: np.ndarray, allreduce: Any
) -> np.ndarray:
    """Global inverted-CDF quantiles of per-worker arrays.

    ``queries`` is a list of ``(local_values, local_weights, q)``, ``totals`` the global
    weight of each query's values; ``allreduce(array, op)`` with op in {"min", "sum"} reduces
    across workers. All workers must call this in lockstep. A query with no values on any
    worker gives NaN.
    """
    m = len(queries)
    # Candidates as index arrays (None = all rows): after the first round they are tiny,
    # so later rounds cost next to nothing.
    members: list[np.ndarray | None] = [None] * m
    below = np.zeros(m)  # global weight of values below the current candidate set
    targets = np.array([q for _, _, q in queries]) * np.asarray(totals, dtype=np.float64)
    result = np.full(m, np.nan)
    done = np.zeros(m, dtype=bool)
    for _ in range(_MAX_ROUNDS + 1):
        ext = np.empty(2 * m)
        cands = []
        for j, (v, _, _) in enumerate(queries):
            c = v if members[j] is None else v[members[j]]
            cands.append(c)
            ext[2 * j] = c.min() if c.size else np.inf
            ext[2 * j + 1] = -c.max() if c.size else np.inf
        ext = allreduce(ext, "min")
        lo, hi = ext[0::2], -ext[1::2]
        result = np.where(done, result, np.where(np.isfinite(lo), lo, np.nan))
        done |= ~(lo < hi)  # collapsed to one distinct value (or empty everywhere)
        if done.all():
            break
        hist = np.zeros((m, _BINS))
        bins: list[np.ndarray | None] = [None] * m
        for j, (_, w, _) in enumerate(queries):
            if done[j]:
                continue
            width = (hi[j] - lo[j]) / _BINS
            idx = np.minimum(((cands[j] - lo[j]) / width).astype(np.int64), _BINS - 1)
            bins[j] = idx
            wj = w if members[j] is None else w[members[j]]
            hist[j] = np.bincount(idx, weights=wj, minlength=_BINS)
        hist = allreduce(hist, "sum").reshape(m, _BINS)
        for j in range(m):
            if done[j]:
                continue
            cum = below[j] + np.cumsum(hist[j])
            b = min(int(np.searchsorted(cum, targets[j], side="left")), _BINS - 1)
            below[j] = cum[b] - hist[j, b]
            keep = np.flatnonzero(bins[j] == b)
            members[j] = keep if members[j] is None else members[j][keep]
    return result


class _CollectiveBackend:
    def __init__(self, allreduce: Any) -> None:
        self.allreduce = allreduce

    def quantiles(self, queries: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
        # Global weight of each distinct (values, weights) pair, in one allreduce.
        keys: dict[tuple[int, int], int] = {}
        local = []
        for v, w, _ in queries:
            key = (id(v), id(w))
            if key not in keys:
                keys[key] = len(local)
                local.append(float(w.sum()))
        tot = self.allreduce(np.array(local), "sum")
        totals = np.array([tot[keys[(id(v), id(w))]] for v, w, _ in queries])
        return _collective_quantiles(queries, totals, self.allreduce)

    def sums(self, values: np.ndarray) -> np.ndarray:
        return self.allreduce(np.asarray(values, dtype=np.float64), "sum")


def backend_max(a: np.ndarray, backend: Any) -> float:
    local = float(a.max()) if a.size else 0.0
    if isinstance(backend, _CollectiveBackend):
        return float(-backend.allreduce(np.array([-local]), "min")[0])
    return local


def _xgb_allreduce(data: np.ndarray, op: str) -> np.ndarray:
    from xgboost import collective

    code = collective.Op.MIN if op == "min" else collective.Op.SUM
    return collective.allreduce(np.ascontiguousarray(data, dtype=np.float64), code)


def _communicator_active() -> bool:
    try:
        from xgboost import collective
    except ImportError:  # pragma: no cover - xgboost is a hard dependency
        return False
    return bool(collective.is_distributed()) and collective.get_world_size() > 1
