"""The Corruption base class.

With the argument checks and the sampling helpers every artefact family uses.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from ..symbolic import SymbolicModel


# --------------------------------------------------------------------- helpers
def check_generator(random_state=None) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        ``None`` gives fresh entropy; an int seeds a new generator; a
        ``RandomState`` seeds a new generator from its stream (so it is advanced,
        as scikit-learn's conventions expect); a ``Generator`` is used as is.

    Returns
    -------
    rng : numpy.random.Generator
    """
    if random_state is None or isinstance(random_state, numbers.Integral):
        if isinstance(random_state, bool):
            raise TypeError("random_state must be None, an int, a RandomState or a Generator.")
        if random_state is not None and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}.")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1, size=4))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or a numpy Generator, "
        f"got {type(random_state).__name__}."
    )


def _check_number(name, value, low=None, high=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}.")
    return value


def _check_rate(name, value) -> float:
    value = _check_number(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value}.")
    return value


def _check_range(name, value, positive=False) -> tuple[float, float]:
    """A non-negative number or ``(low, high)`` pair with ``0 <= low <= high``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a number or a (low, high) pair, got {value!r}.")
    else:
        try:
            pair = tuple(value)
        except TypeError:
            raise TypeError(
                f"{name} must be a number or a (low, high) pair, got {type(value).__name__}."
            ) from None
        if len(pair) != 2:
            raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}.")
    low, high = (_check_number(name, v) for v in pair)
    if low < 0 or high < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}.")
    if positive and low <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    if low > high:
        raise ValueError(f"{name} must be a (low, high) pair with low <= high, got {value!r}.")
    return low, high


def _check_effect(name, value) -> tuple[float, float]:
    """A signed ``(low, high)`` height range: both of one sign, ``|low| <= |high|``."""
    try:
        low, high = (_check_number(name, v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of numbers of one sign, "
                         f"got {value!r}.") from None
    if low * high < 0 or abs(low) > abs(high) or high == 0:
        raise ValueError(f"{name} must be a (low, high) pair of one sign with "
                         f"|low| <= |high| (negative: the reading falls), got {value!r}.")
    return low, high


def _check_channels(channels):
    if channels is None:
        return None
    if isinstance(channels, str | numbers.Integral) and not isinstance(channels, bool):
        return (channels,)
    channels = tuple(channels)
    for c in channels:
        if isinstance(c, bool) or not isinstance(c, str | numbers.Integral):
            raise TypeError(f"channels must hold channel names or indices, got {c!r}.")
    return channels


class _Context:
    """What a corruption needs to know about the data: spans, time step, channel names."""

    def __init__(self, model: SymbolicModel | None, n_timesteps: int, n_channels: int):
        if model is None:
            self.lo = np.zeros(n_channels)
            self.span = np.ones(n_channels)
            self.window_hours = 24.0
            self.channel_names = None
        else:
            if not isinstance(model, SymbolicModel):
                raise TypeError(
                    f"model must be a SymbolicModel instance, got {type(model).__name__}."
                )
            if model.n_channels != n_channels:
                raise ValueError(
                    f"{type(model).__name__} has {model.n_channels} channel(s) "
                    f"{model.channel_names}, got X with {n_channels} channel(s)."
                )
            r = model.output_range.reshape(-1, 2)
            self.lo, self.span = r[:, 0], r[:, 1] - r[:, 0]
            self.window_hours = float(model.window_hours)
            self.channel_names = tuple(model.channel_names)
        self.n_timesteps = n_timesteps
        self.n_channels = n_channels
        self.dt = self.window_hours / n_timesteps
        # (n, T, C) bool: samples an artefact touched (set by __call__).
        self.mask: np.ndarray | None = None

    def rows(self, rows: np.ndarray) -> _Context:
        """The same context for a subset of rows, with its own slice of the mask."""
        sub = copy.copy(self)
        sub.mask = self.mask[rows]
        return sub

    def touch(self, c: int, where) -> None:
        """Record that an artefact touched channel ``c`` at ``where`` (a boolean
        ``(n, T)`` array or flat ``sequence * T + time`` indices)."""
        if not (isinstance(where, np.ndarray) and where.dtype == bool):
            flat = np.zeros(self.mask.shape[0] * self.mask.shape[1], dtype=bool)
            flat[where] = True
            where = flat.reshape(self.mask.shape[:2])
        self.mask[:, :, c] |= where

    def select(self, channels) -> list[int]:
        """Indices of the selected channels (all of them for ``None``)."""
        if channels is None:
            return list(range(self.n_channels))
        idx = []
        for c in channels:
            if isinstance(c, str):
                if self.channel_names is None or c not in self.channel_names:
                    known = self.channel_names or "none: no model given"
                    raise ValueError(f"Unknown channel {c!r}; the model's channels are {known}.")
                idx.append(self.channel_names.index(c))
            else:
                if not -self.n_channels <= c < self.n_channels:
                    raise ValueError(
                        f"Channel index {c} out of range for {self.n_channels} channel(s)."
                    )
                idx.append(int(c) % self.n_channels)
        return idx


def _as_3d_copy(X) -> tuple[np.ndarray, bool]:
    try:
        X = np.array(X, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be a numeric array: {exc}") from None
    if X.ndim in (2, 3) and X.shape[1] == 0:
        raise ValueError(f"X must have at least one time step, got shape {X.shape}.")
    if X.ndim == 2:
        return X[:, :, None], True
    if X.ndim == 3:
        return X, False
    raise ValueError(
        "X must have shape (n_sequences, n_timesteps) or (n_sequences, n_timesteps, "
        f"n_channels), got a {X.ndim}D array of shape {X.shape}."
    )


def _uniform(rng, bounds, size):
    low, high = bounds
    return np.full(size, low) if low == high else rng.uniform(low, high, size)


def _events(rng, n, ctx, rate, duration):
    """Random events covering an expected fraction ``rate`` of every sequence.

    Event starts are uniform (including starts before the window, so that the
    edges are covered as often as the middle) and counts are Poisson, so each
    sample is covered by a Poisson(lambda) number of events; lambda = -log(1 - rate)
    makes the covered fraction ``rate`` exactly, overlaps included.

    Returns
    -------
    event : ndarray of shape (m,)
        Event id (0 .. n_events - 1) of each covered (sequence, time) cell.
    cell : ndarray of shape (m,)
        Flat index ``sequence * n_timesteps + time`` of each cell (flat indices
        make ``np.maximum.at`` several times faster than index tuples).
    offset : ndarray of shape (m,)
        Samples since the event's onset (0 at onset).
    length : ndarray of shape (m,)
        The event's duration in samples.
    n_events : int
    """
    T = ctx.n_timesteps
    empty = np.zeros(0, dtype=np.intp)
    if rate <= 0 or n == 0:
        return empty, empty, empty, empty, 0
    lo, hi = duration[0] / ctx.dt, duration[1] / ctx.dt
    d_max = max(1, int(np.rint(hi)))
    # Expected duration in whole samples, as the durations below are rounded.
    grid = np.linspace(lo, hi, 257)
    mean_d = float(np.mean(np.maximum(1, np.rint(grid))))
    lam = -math.log1p(-min(rate, 1.0 - 1e-6))
    counts = rng.poisson(lam * (T + d_max - 1) / mean_d, size=n)
    n_events = int(counts.sum())
    seq = np.repeat(np.arange(n), counts)
    length = np.maximum(1, np.rint(_uniform(rng, (lo, hi), n_events))).astype(np.intp)
    start = rng.integers(-(d_max - 1), T, size=n_events)
    offs = np.arange(d_max)
    t = start[:, None] + offs[None, :]
    keep = (offs[None, :] < length[:, None]) & (t >= 0) & (t < T)
    event, off = np.nonzero(keep)
    return event, seq[event] * T + t[keep], off, length[event], n_events


def _burst_shape(off, length, ramp):
    """Tapered burst profile in [0, 1]: raised-cosine ramps over the first and last
    ``ramp`` fraction of each event, flat in between."""
    if ramp <= 0:
        return np.ones(off.shape)
    u = (off + 0.5) / length
    return np.sin(0.5 * np.pi * np.minimum(1.0, np.minimum(u, 1 - u) / ramp)) ** 2


# ----------------------------------------------------------------- base class
class Corruption:
    """Base class of a corruption: a random transformation of sequences.

    Subclasses implement ``_apply(X, rng, ctx)``, which modifies the float64
    array ``X`` of shape ``(n, T, C)`` in place (on a copy made by
    :meth:`__call__`) and records the samples an artefact touched with
    ``ctx.touch``. Measurement noise (:class:`GaussianNoise`, :class:`Drift`) and
    missing samples are not artefacts: the oracle fit keeps the samples they
    alter, and a missing sample is simply not there.

    Parameters
    ----------
    channels : None, str, int or sequence of them, default=None
        Channels the corruption applies to, by name (``model.channel_names``) or
        index; ``None`` means all channels.
    """

    def __init__(self, channels=None):
        self.channels = _check_channels(channels)

    def __call__(
        self, X, random_state=None, model: SymbolicModel | None = None, return_mask: bool = False
    ):
        """Return a corrupted copy of ``X`` (and which samples artefacts touched).

        Parameters
        ----------
        X : array-like of shape (n, T) or (n, T, C)
            Clean sequences. Never modified.
        random_state : None, int, RandomState or Generator, default=None
            Seed or generator for reproducible noise.
        model : SymbolicModel, default=None
            Gives each channel's span (``output_range``), the window length and the
            channel names. Defaults to the model the corruption was built for
            (:func:`make_noise`), else span 1 and a 24 hour window.
        return_mask : bool, default=False
            Also return the artefact mask.

        Returns
        -------
        X_noisy : ndarray of the same shape as ``X``, float64
            NaN marks missing samples.
        artefact_mask : bool ndarray of the same shape as ``X``
            Only with ``return_mask=True``: True where a spike, burst, drop or
            clipping changed the sample (also where a gap later hid it). The
            samples that are observed and not in the mask are exactly those of the
            oracle fit (:func:`sklearn_r2t.metrics.oracle_fit`).
        """
        X3, squeeze = _as_3d_copy(X)
        model = model if model is not None else getattr(self, "model", None)
        ctx = _Context(model, X3.shape[1], X3.shape[2])
        ctx.mask = np.zeros(X3.shape, dtype=bool)
        self._apply(X3, check_generator(random_state), ctx)
        if squeeze:
            X3, ctx.mask = X3[:, :, 0], ctx.mask[:, :, 0]
        return (X3, ctx.mask) if return_mask else X3

    def _apply(self, X, rng, ctx):  # pragma: no cover - abstract
        raise NotImplementedError

    def _params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({inner})"
