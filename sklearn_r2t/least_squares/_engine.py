"""The batched robust solver: every sequence of a chunk fitted at once, in torch.

Two engines share one driver (start, scale, M-step):

- models linear in a transformed parameterisation (``SymbolicModel.linear_basis``)
  use iteratively reweighted least squares on per-sequence normal equations,
  :func:`weighted_lstsq`, which is differentiable so a torch module can call it;
- any other model uses Levenberg-Marquardt steps on the same weighted problem,
  with Jacobians by batched central differences, box bounds by projection and
  phase restarts as extra rows.

The estimate itself is the classical MM recipe: a high-breakdown start (least
absolute deviations, or a low / high quantile fit when the artefacts are known to
point one way), a robust scale from that start's residuals (from the clean side
only for a one-sided fit), then the efficient M-step with the chosen loss at that
scale. Everything here works in normalised units (fractions of ``output_range``)
on ``(n, T)`` tensors of one channel, with ``obs`` marking observed samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..symbolic import circular_difference
from ._losses import irls_weights, psi_derivative, rho

__all__ = ["weighted_lstsq", "normal_matrix", "singular_systems", "weighted_lstsq_cov",
           "m_estimator_cov", "sandwich_cov", "delta_method_std", "robust_scale", "linear_start",
           "linear_m_step", "nonlinear_start", "objective", "lm", "value_and_jacobian"]

# 1 / Phi^-1(3/4): turns a median absolute deviation into a Gaussian sigma.
MAD_TO_SIGMA = 1.482602218505602
# Floor of every robust scale, in normalised units (0.1 % of the signal range): far
# below real sensor noise, so that an exact fit still gets a well-defined scale.
SCALE_FLOOR = 1e-3
# Quantile of the one-sided start: low enough that with up to ~70 % of the samples
# pushed up, the start still runs through the untouched ones.
SIDE_QUANTILE = 0.2
# |r| below which the L1 / quantile IRLS weight stops growing (normalised units).
L1_EPS = 1e-5
START_ITER = 30  # IRLS rounds of the L1 / quantile start
MAX_ITER = 50  # M-step rounds at most
_BASIN_ITER = 8  # least-squares steps from every restart of a nonlinear model
TOL = 1e-7  # convergence: largest parameter change, relative
START_TOL = 1e-5  # the same for the start, which only has to land in the right basin


def weighted_lstsq(
    B: torch.Tensor, Y: torch.Tensor, W: torch.Tensor, *, return_singular: bool = False
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Per-sequence weighted least squares on a shared basis, batched.

    Solves ``min_theta sum_t W[i, t] (Y[i, t] - B[t] @ theta[i])**2`` for every row
    ``i`` through its ``K x K`` normal equations (two matrix products for the
    whole batch, then a batched solve). Differentiable in ``Y`` and ``W``.

    Parameters
    ----------
    B : Tensor of shape (T, K)
        The basis (design matrix) shared by all sequences.
    Y : Tensor of shape (n, T)
        Targets; entries with zero weight may hold anything finite.
    W : Tensor of shape (n, T)
        Non-negative weights (0 for missing samples).
    return_singular : bool, default=False
        Also return which rows have a singular weighted system
        (:func:`singular_systems`: fewer weighted samples than ``K``, or samples
        that do not pin every coefficient). Their ``theta`` is then a ridge
        solution that the dtype can resolve, finite but meaningless: the batch
        always solves, and the caller reports those rows. Without it, such a row
        may make the solve fail.

    Returns
    -------
    theta : Tensor of shape (n, K)
    singular : Tensor of shape (n,), bool
        Only with ``return_singular=True``.
    """
    K = B.shape[1]
    G = normal_matrix(B, W)
    # A relative ridge keeps rows with few or vanishing weights solvable; its floor,
    # a row with no weight at all (theta = 0 there).
    trace = G.diagonal(dim1=1, dim2=2).sum(-1)
    ridge = 1e-12 * trace + 1e-30
    if return_singular:
        with torch.no_grad():
            singular = singular_systems(G)
        # 1e-12 is below float32's resolution: a singular row needs a ridge the
        # dtype resolves (cond <= about K / sqrt(eps)), or the batch's solve fails.
        eps = torch.finfo(G.dtype).eps
        ridge = torch.where(singular, ridge + math.sqrt(eps) * trace / K, ridge)
    G = G + ridge[:, None, None] * torch.eye(K, dtype=B.dtype, device=B.device)
    rhs = (W * Y) @ B
    theta = torch.linalg.solve(G, rhs.unsqueeze(-1)).squeeze(-1)
    return (theta, singular) if return_singular else theta


def normal_matrix(B: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``B' diag(W[i]) B`` for every row ``i``: ``(n, K, K)`` from ``B`` ``(T, K)`` and
    ``W`` ``(n, T)``, in one matrix product for the whole batch."""
    T, K = B.shape
    BB = (B[:, :, None] * B[:, None, :]).reshape(T, K * K)
    return (W @ BB).reshape(-1, K, K)


def singular_systems(G: torch.Tensor) -> torch.Tensor:
    """Rows ``(n,)`` whose normal matrix ``G`` ``(n, K, K)`` is numerically singular.

    ``G`` is scaled to a unit diagonal first (so neither the basis' units nor the
    weights' scale matter), then factorised (Cholesky, batched): a row is singular
    when a coefficient has no weight at all (a zero diagonal entry), the
    factorisation fails, or a pivot falls below ``10 K`` machine epsilons of the
    dtype (the rounding level of a rank-deficient matrix). For a cosinor that
    means fewer than 3 weighted samples; for a user's basis, also samples that
    cannot tell two basis functions apart.
    """
    K = G.shape[-1]
    diag = G.diagonal(dim1=1, dim2=2)
    live = (diag > 0).all(-1) & torch.isfinite(G).flatten(1).all(-1)
    d = torch.where(diag > 0, diag, 1.0).rsqrt()
    L, info = torch.linalg.cholesky_ex(torch.where(live[:, None, None],
                                                   G * d[:, :, None] * d[:, None, :],
                                                   torch.eye(K, dtype=G.dtype, device=G.device)))
    pivots = L.diagonal(dim1=1, dim2=2).square().amin(-1)
    return ~live | (info != 0) | ~(pivots > 10 * K * torch.finfo(G.dtype).eps)


def sandwich_cov(B: torch.Tensor, bread: torch.Tensor, meat: torch.Tensor,
                 factor: torch.Tensor) -> torch.Tensor:
    """``factor * A^-1 H A^-1`` per row, with ``A = B' diag(bread) B`` and
    ``H = B' diag(meat) B``: the one sandwich every covariance here is made of.

    Parameters
    ----------
    B : Tensor of shape (T, K), shared, or (n, T, K), one per row (a Jacobian)
    bread, meat : Tensor of shape (n, T)
        Per-sample weights of the two matrices (0 for missing samples).
    factor : Tensor of shape (n,)

    Returns
    -------
    cov : Tensor of shape (n, K, K)
        A singular ``A`` is pseudo-inverted, so such a row gives finite numbers,
        not an error.
    """
    if B.dim() == 2:  # a shared basis: one matrix product per matrix, as weighted_lstsq
        A, H = normal_matrix(B, bread), normal_matrix(B, meat)
    else:
        A = torch.einsum("nt,ntk,ntl->nkl", bread, B, B)
        H = torch.einsum("nt,ntk,ntl->nkl", meat, B, B)
    A_inv, info = torch.linalg.inv_ex(A)
    bad = (info != 0) | ~torch.isfinite(A_inv).all(-1).all(-1)
    if bad.any():  # singular rows only: the pseudo-inverse is slower
        A_inv[bad] = torch.linalg.pinv(A[bad])
    return factor[:, None, None] * A_inv @ H @ A_inv


def weighted_lstsq_cov(B: torch.Tensor, R: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Sandwich covariance ``(n, K, K)`` of a weighted least-squares fit.

    ``s^2 G^-1 (B' W^2 B) G^-1`` with ``G = B' W B`` and the weighted residual
    variance ``s^2 = sum_t W r^2 / (sum_t W - K)``: the covariance of a weighted
    least-squares fit with fixed weights and independent noise of variance
    ``s^2`` (for 0/1 weights, ``s^2 G^-1``: ordinary least squares on the
    samples kept).

    Parameters
    ----------
    B : Tensor of shape (T, K), shared, or (n, T, K), one per row (a Jacobian)
    R : Tensor of shape (n, T)
        Residuals at the fit.
    W : Tensor of shape (n, T)
    """
    s2 = (W * R * R).sum(1) / (W.sum(1) - B.shape[-1]).clamp_min(1.0)
    return sandwich_cov(B, W, W * W, s2)


def m_estimator_cov(B: torch.Tensor, R: torch.Tensor, obs: torch.Tensor, loss: str,
                    scale: torch.Tensor) -> torch.Tensor:
    """Covariance ``(n, K, K)`` of an M-estimate: Huber's sandwich (his "H3").

    With ``u = r / s``, ``psi(u) = u w(u)`` and ``A = sum_t psi'(u_t) b_t b_t'``::

        cov = s^2 / k * sum_t psi(u_t)^2 / (n - K) * A^-1 (B'B) A^-1,
        k = 1 + K / n * var(psi') / mean(psi')^2

    (Huber, *Robust Statistics*, 1981, sec. 7.6; statsmodels' ``RLM`` with
    ``cov="H3"`` computes the same). ``A`` counts each sample by how much it
    bends the objective, so a burst the loss rejects leaves a gap in the design
    just as a missing stretch would; ``k`` corrects the small-sample bias. For
    ``loss='linear'`` it is ordinary least squares' ``s^2 (B'B)^-1`` with
    ``s^2 = RSS / (n - K)``. The scale is held fixed: its own uncertainty is not
    propagated.

    Parameters
    ----------
    B : Tensor of shape (T, K), shared, or (n, T, K), one per row (a Jacobian)
    R : Tensor of shape (n, T)
        Residuals at the fit (anything finite where ``obs`` is False).
    obs : Tensor of shape (n, T)
        Observed samples (bool or 0/1).
    loss : str
    scale : Tensor of shape (n,)
        The scale the M-step used, in the units of ``R``.
    """
    obs = obs.to(R.dtype)
    u = R / scale[:, None]
    z = u * u
    psi = u * irls_weights(loss, z) * obs
    dpsi = psi_derivative(loss, z) * obs
    n_obs = obs.sum(1)
    K = B.shape[-1]
    mean = dpsi.sum(1) / n_obs.clamp_min(1.0)
    var = (dpsi * dpsi).sum(1) / n_obs.clamp_min(1.0) - mean * mean
    k = 1.0 + K / n_obs.clamp_min(1.0) * var.clamp_min(0.0) / (mean * mean).clamp_min(1e-300)
    factor = scale**2 / k * (psi * psi).sum(1) / (n_obs - K).clamp_min(1.0)
    return sandwich_cov(B, dpsi, obs, factor)


def delta_method_std(model, theta: np.ndarray, cov: np.ndarray,
                     rel_step: float = 1e-6) -> np.ndarray:
    """Standard errors ``(n, n_params)`` of ``model.params_from_linear(theta)``
    given the covariance ``cov`` ``(n, K, K)`` of the linear coefficients
    ``theta`` ``(n, K)``, with the Jacobian by central differences (circular for
    angles)."""
    n, K = theta.shape
    h = rel_step * np.maximum(np.abs(theta).max(axis=1, keepdims=True), 1e-6)
    J = np.empty((n, model.n_params, K))
    for k in range(K):  # K <= a handful: every row at once per coefficient
        step = np.zeros_like(theta)
        step[:, k] = h[:, 0]
        up, down = model.params_from_linear(theta + step), model.params_from_linear(theta - step)
        diff = up - down
        for j, period in enumerate(model.param_periods):
            if period is not None:
                diff[:, j] = circular_difference(up[:, j], down[:, j], period)
        J[:, :, k] = diff / (2 * h)
    return np.sqrt(np.einsum("npk,nkl,npl->np", J, cov, J).clip(0))


def _masked_median(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.nanmedian(torch.where(mask, values, torch.nan), dim=1).values


def robust_scale(R: torch.Tensor, obs: torch.Tensor, side: str = "both") -> torch.Tensor:
    """Gaussian-consistent robust scale per row, floored at :data:`SCALE_FLOOR`.

    ``side='both'``: ``1.4826 * MAD`` of the observed residuals. ``'above'`` (the
    artefacts push readings up): ``1.4826 *`` the median of ``|r|`` over the
    residuals below the fit, which no artefact reaches; ``'below'`` mirrors it. At
    a fit through the clean samples those residuals are half-normal, whose median
    absolute value is ``sigma / 1.4826``, so the one-sided scale is consistent too.
    """
    if side == "both":
        med = _masked_median(R, obs)
        s = _masked_median((R - med[:, None]).abs(), obs)
    else:
        clean = obs & ((R < 0) if side == "above" else (R > 0))
        s = _masked_median(R.abs(), clean)
    return (MAD_TO_SIGMA * s).nan_to_num(nan=SCALE_FLOOR).clamp_min(SCALE_FLOOR)


def start_weights(R: torch.Tensor, obs: torch.Tensor, side: str) -> torch.Tensor:
    """IRLS weights of least absolute deviations (``side='both'``) or of the
    quantile fit that runs below (``'above'``) or above (``'below'``) the data."""
    w = obs / R.abs().clamp_min(L1_EPS)
    if side == "above":
        w = w * torch.where(R > 0, SIDE_QUANTILE, 1.0 - SIDE_QUANTILE)
    elif side == "below":
        w = w * torch.where(R < 0, SIDE_QUANTILE, 1.0 - SIDE_QUANTILE)
    return w


def start_cost(R: torch.Tensor, obs: torch.Tensor, side: str) -> torch.Tensor:
    """Objective of the start: sum of |r| (both) or of the check loss (one side)."""
    a = R.abs()
    if side == "above":
        a = a * torch.where(R > 0, SIDE_QUANTILE, 1.0 - SIDE_QUANTILE)
    elif side == "below":
        a = a * torch.where(R < 0, SIDE_QUANTILE, 1.0 - SIDE_QUANTILE)
    return (a * obs).sum(1)


def m_weights(R, obs, loss, scale):
    return obs * irls_weights(loss, (R / scale[:, None]) ** 2)


def m_cost(R, obs, loss, scale):
    s = scale[:, None]
    return (obs * s**2 * rho(loss, (R / s) ** 2)).sum(1)


# ------------------------------------------------------------------ linear IRLS
def linear_start(B: torch.Tensor, Y: torch.Tensor, W: torch.Tensor, side: str) -> torch.Tensor:
    """High-breakdown start by IRLS: least absolute deviations (``side='both'``) or
    the low (``'above'``) / high (``'below'``) quantile fit, from least squares.
    Rows stop once their coefficients settle (:data:`START_TOL`)."""
    theta = weighted_lstsq(B, Y, W)
    idx = torch.arange(Y.shape[0], device=Y.device)
    for _ in range(START_ITER):
        Ya, Wa, th = _rows(Y, idx), _rows(W, idx), _rows(theta, idx)
        new = weighted_lstsq(B, Ya, start_weights(Ya - th @ B.T, Wa, side))
        step = (new - th).abs().amax(1) / (1.0 + th.abs().amax(1))
        theta[idx] = new
        idx = idx[step > START_TOL]
        if idx.numel() == 0:
            break
    return theta


def _rows(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``t[idx]``, without the copy while every row is still active."""
    return t if idx.numel() == t.shape[0] else t[idx]


def linear_m_step(
    B: torch.Tensor, Y: torch.Tensor, W: torch.Tensor, theta: torch.Tensor, loss: str,
    scale: torch.Tensor, max_iter: int = MAX_ITER,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """IRLS with ``loss`` at a fixed ``scale`` from ``theta``, row by row to
    convergence (a converged row stops changing, so a row's answer does not
    depend on the rest of its batch).

    Returns
    -------
    theta : Tensor of shape (n, K)
    n_iter : Tensor of shape (n,), int
        Weighted solves each row took (0 for ``loss='linear'``, a closed form).
    converged : Tensor of shape (n,), bool
        Whether the row's largest relative coefficient change fell below
        :data:`TOL` within ``max_iter`` solves; False also for a row whose
        weights all but vanished (every residual rejected: it keeps ``theta``).
    """
    n = Y.shape[0]
    n_iter = torch.zeros(n, dtype=torch.int64, device=Y.device)
    converged = torch.zeros(n, dtype=torch.bool, device=Y.device)
    if loss == "linear":
        return weighted_lstsq(B, Y, W), n_iter, ~converged
    n_min = B.shape[1] + 1
    theta = theta.clone()
    idx = torch.arange(n, device=Y.device)
    for _ in range(max_iter):
        # Only rows still moving are iterated: most converge in a few rounds.
        Ya, Wa, th = _rows(Y, idx), _rows(W, idx), _rows(theta, idx)
        Wm = m_weights(Ya - th @ B.T, Wa, loss, _rows(scale, idx))
        new = weighted_lstsq(B, Ya, Wm)
        # A row whose weights all but vanish (every residual rejected) keeps its start.
        take = (Wm > 1e-6).sum(1) >= n_min
        step = (new - th).abs().amax(1) / (1.0 + th.abs().amax(1))
        theta[idx] = torch.where(take[:, None], new, th)
        n_iter[idx] += take
        converged[idx] = take & (step <= TOL)
        idx = idx[take & (step > TOL)]
        if idx.numel() == 0:
            break
    return theta, n_iter, converged


# ------------------------------------------------------------- nonlinear LM
def value_and_jacobian(
    f: Callable, P: torch.Tensor, step: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``f(P)`` (N, M) and its Jacobian (N, M, p) by central differences, every row
    and parameter in one batched evaluation of ``f`` (2p + 1 copies of ``P``).

    Each row's parameters affect only its own outputs, so one call serves the
    whole batch. ``step`` (p,) is the difference step per parameter; with
    ``1e-5`` of each parameter's range the truncation error is about 1e-10 of the
    range. Torch's forward-mode autodiff would be exact but its dual-number levels
    are global to the process (two threads fitting at once fail) and not every op
    has a forward formula, which a user's model may need.
    """
    N, p = P.shape
    E = torch.diag_embed(step)  # (p, p)
    shifted = torch.cat([P[None], P[None] + E[:, None, :], P[None] - E[:, None, :]])
    F = f(shifted.reshape(-1, p)).reshape(2 * p + 1, N, -1)
    J = (F[1 : p + 1] - F[p + 1 :]) / (2.0 * step[:, None, None])
    return F[0], J.permute(1, 2, 0)


def nonlinear_start(
    f: Callable, step: torch.Tensor, Y: torch.Tensor, W: torch.Tensor, starts: torch.Tensor,
    project: Callable, side: str, loss: str, max_iter: int = START_ITER,
) -> torch.Tensor:
    """A start per row from ``starts`` ``(n, R, p)``: a few least-squares steps from
    every start (all as extra rows) pick each row's basin, by the start objective
    so that outliers do not pick it; then that start alone is fitted by least
    absolute deviations / the one-sided quantile fit (least squares when
    ``loss='linear'``)."""
    n, n_starts, p = starts.shape
    kind = "start" if loss != "linear" else "linear"
    weights_fn, cost_fn = objective(kind, side)
    P = starts.reshape(n * n_starts, p)
    if n_starts > 1:
        Yr, Wr = Y.repeat_interleave(n_starts, 0), W.repeat_interleave(n_starts, 0)
        ones = torch.ones(Yr.shape[0], dtype=Yr.dtype)
        P = lm(f, step, Yr, Wr, P, project, "linear", side, ones, max_iter=_BASIN_ITER)
        cost = cost_fn(Yr - f(P), Wr, ones).reshape(n, n_starts)
        best = cost.nan_to_num(nan=math.inf).argmin(1)
        P = P.reshape(n, n_starts, p)[torch.arange(n), best]
    ones = torch.ones(n, dtype=Y.dtype)
    return lm(f, step, Y, W, P, project, kind, side, ones, max_iter)


def objective(kind: str, side: str = "both"):
    """``(weights_fn, cost_fn)`` of one phase, each ``fn(R, W, scale)``: ``kind`` is
    ``'start'`` (L1 or quantile, by ``side``; the scale is unused) or a loss name."""
    if kind == "linear":
        return (lambda R, W, s: W), (lambda R, W, s: (W * R * R).sum(1))
    if kind == "start":
        return (lambda R, W, s: start_weights(R, W, side)), (
            lambda R, W, s: start_cost(R, W, side))
    return (lambda R, W, s: m_weights(R, W, kind, s)), (lambda R, W, s: m_cost(R, W, kind, s))


def lm(f, step, Y, W, P, project, kind, side, scale, max_iter, return_info=False):
    """Levenberg-Marquardt on the IRLS-weighted problem, accepted on the true cost
    (so every accepted step decreases it, also for redescending losses). Rows stop
    on their own (negligible gain or step), and only moving rows are computed.

    With ``return_info``, also each row's iteration count and whether it stopped
    on its own before ``max_iter`` (a row whose damping grew until no step was left
    sits at a minimum it cannot leave, and counts as converged)."""
    weights_fn, cost_fn = objective(kind, side)
    N, p = P.shape
    P = P.clone()
    eye = torch.eye(p, dtype=P.dtype)
    lam = torch.full((N,), 1e-3, dtype=P.dtype)
    value, J = value_and_jacobian(f, P, step)
    R = Y - value
    cost = cost_fn(R, W, scale)
    idx = torch.arange(N)
    n_iter = torch.zeros(N, dtype=torch.int64)
    converged = torch.zeros(N, dtype=torch.bool)
    for _ in range(max_iter):
        n_iter[idx] += 1
        Pa, Ra, Ja, Ya, Wa = P[idx], R[idx], J[idx], Y[idx], W[idx]
        w = weights_fn(Ra, Wa, scale[idx])
        JW = Ja * w[:, :, None]
        A = JW.transpose(1, 2) @ Ja
        g = (JW * Ra[:, :, None]).sum(1)
        diag = A.diagonal(dim1=1, dim2=2)
        floor = 1e-12 * diag.amax(1, keepdim=True).clamp_min(1e-300)
        damp = lam[idx, None] * diag.clamp_min(floor)
        delta = torch.linalg.solve(A + torch.diag_embed(damp) + 1e-14 * eye, g.unsqueeze(-1))
        cand = project(Pa + delta.squeeze(-1).nan_to_num(0.0))
        c_R = Ya - f(cand)
        c_cost = cost_fn(c_R, Wa, scale[idx])
        better = c_cost <= cost[idx]
        gain = (cost[idx] - c_cost) / cost[idx].clamp_min(1e-300)
        moved = (cand - Pa).abs().amax(1) / (1.0 + Pa.abs().amax(1))
        acc = idx[better]
        P[acc], R[acc], cost[acc] = cand[better], c_R[better], c_cost[better]
        lam[idx] = torch.where(better, (lam[idx] / 3.0).clamp_min(1e-9),
                               (lam[idx] * 5.0).clamp_max(1e9))
        if acc.numel():
            J[acc] = value_and_jacobian(f, P[acc], step)[1]
        # A row is done once an accepted step gains or moves next to nothing, or
        # the damping has grown so large that no step is left.
        done = (better & ((gain < 1e-8) | (moved < TOL))) | (lam[idx] >= 1e9)
        converged[idx] = done
        idx = idx[~done]
        if idx.numel() == 0:
            break
    return (P, n_iter, converged) if return_info else P
