"""Combining corruptions: in sequence (Compose) or one drawn per sequence (Mixture)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..symbolic import SymbolicModel
from ._base import Corruption


class Compose(Corruption):
    """Apply several corruptions in order.

    Parameters
    ----------
    steps : sequence of Corruption
        Applied first to last (e.g. measurement noise, then artefacts, then
        clipping, then missing stretches, so that NaN gaps stay NaN).
    model : SymbolicModel, default=None
        Model whose spans, window and channel names the steps use when called
        without an explicit ``model``.
    """

    def __init__(self, steps: Sequence[Corruption] = (), model: SymbolicModel | None = None):
        steps = list(steps)
        for s in steps:
            if not isinstance(s, Corruption):
                raise TypeError(f"Compose steps must be Corruption instances, got {s!r}.")
        if model is not None and not isinstance(model, SymbolicModel):
            raise TypeError(f"model must be a SymbolicModel instance, got {type(model).__name__}.")
        self.steps = steps
        self.model = model
        self.channels = None

    def _apply(self, X, rng, ctx):
        for step in self.steps:
            step._apply(X, rng, ctx)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(s) for s in self.steps)
        return f"Compose([\n    {inner},\n], model={self.model!r})" if self.steps else (
            f"Compose([], model={self.model!r})"
        )


class Mixture(Corruption):
    """Corrupt each sequence with one component drawn at random.

    A training set drawn from a mixture covers several noise regimes at once
    (e.g. heart rate with upward bursts in some sequences and sensor drops in
    others), which a model trained on one preset never sees.

    Parameters
    ----------
    components : sequence of Corruption
        The alternatives; each sequence gets exactly one of them.
    weights : sequence of float, default=None
        Probability of each component (normalised); equal by default.
    model : SymbolicModel, default=None
        As for :class:`Compose`.
    """

    def __init__(self, components: Sequence[Corruption], weights=None,
                 model: SymbolicModel | None = None):
        components = list(components)
        if not components:
            raise ValueError("Mixture needs at least one component.")
        for c in components:
            if not isinstance(c, Corruption):
                raise TypeError(f"Mixture components must be Corruption instances, got {c!r}.")
        w = np.ones(len(components)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(components),) or not np.all(np.isfinite(w)) or np.any(w < 0) \
                or w.sum() <= 0:
            raise ValueError(
                f"weights must be {len(components)} non-negative numbers with a positive "
                f"sum, got {weights!r}."
            )
        self.components = components
        self.weights = (w / w.sum()).tolist()
        self.model = model
        self.channels = None

    def _apply(self, X, rng, ctx):
        choice = rng.choice(len(self.components), size=X.shape[0], p=self.weights)
        for k, component in enumerate(self.components):
            rows = np.flatnonzero(choice == k)
            if rows.size:
                part, sub = X[rows], ctx.rows(rows)
                component._apply(part, rng, sub)
                X[rows], ctx.mask[rows] = part, sub.mask
