"""ASRLLoss: the Adaptive Segmented Robust Loss as a ``torch.nn.Module``."""

from __future__ import annotations

import math

import torch
from torch import nn

from ._asrl import (
    _DELTA1_FLOOR,
    _IQR_TO_SIGMA,
    _MAD_TO_SIGMA,
    _MAX_TAIL_RATIO,
    _check_params,
)

__all__ = ["ASRLLoss"]


def _quantiles(v: torch.Tensor, w: torch.Tensor | None, qs: tuple[float, ...]) -> torch.Tensor:
    """Inverted-CDF quantiles along dim 0 of ``v`` (n, k); same rule as the numpy code."""
    n = v.shape[0]
    if w is None:
        # kthvalue is a selection (no full sort); k is 1-based.
        return torch.stack([
            torch.kthvalue(v, min(max(math.ceil(q * n), 1), n), dim=0).values for q in qs
        ])
    # Weighted: sort once per column, then search the cumulative weights.
    vs, order = torch.sort(v, dim=0, stable=True)
    cw = torch.cumsum(w[order], dim=0)  # (n, k)
    total = cw[-1:, :]
    out = []
    for q in qs:
        idx = torch.searchsorted(cw.T.contiguous(), (q * total).T.contiguous()).T
        out.append(torch.gather(vs, 0, idx.clamp(max=n - 1)).squeeze(0))
    return torch.stack(out)


class ASRLLoss(nn.Module):
    """Adaptive Segmented Robust Loss for torch models.

    The loss of :class:`ASRLObjective` (squared, absolute and logarithmic regions with value
    and slope continuous at the thresholds), with the thresholds and tail scale computed from
    the residuals of each batch, per output column. The statistics are computed without
    gradient (they are treated as constants of the step, like in the XGBoost objective), so
    the gradient of a residual is exactly ``psi(r) / n``; values and gradients agree with
    :func:`asrl_loss` and :meth:`ASRLObjective.gradient_hessian`.

    Parameters
    ----------
    q_low : float, default=0.5
        Quantile of ``|r|`` ending the squared region, in (0, 1).
    q_high : float, default=0.8
        Quantile of ``|r|`` ending the absolute region, in (q_low, 1).
    weighting : {"adaptive", "mad"}, default="adaptive"
        Tail scale rule, see :class:`ASRLObjective`.
    reduction : {"mean", "sum", "none"}, default="mean"
        Weighted mean over all elements, sum, or the per-element losses.

    See Also
    --------
    ASRLObjective : the same loss for XGBoost.
    asrl_loss : numpy value of the loss.

    Examples
    --------
    >>> import torch
    >>> from sklearn_r2t import ASRLLoss
    >>> pred = torch.tensor([0.0, 1.0, 2.0, 9.0], requires_grad=True)
    >>> loss = ASRLLoss()(pred, torch.zeros(4))
    >>> loss.backward()
    >>> pred.grad.shape
    torch.Size([4])
    """

    def __init__(
        self,
        q_low: float = 0.5,
        q_high: float = 0.8,
        weighting: str = "adaptive",
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        _check_params(q_low, q_high, weighting)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none'; got {reduction!r}.")
        self.q_low = float(q_low)
        self.q_high = float(q_high)
        self.weighting = weighting
        self.reduction = reduction

    def extra_repr(self) -> str:
        return (f"q_low={self.q_low}, q_high={self.q_high}, weighting={self.weighting!r}, "
                f"reduction={self.reduction!r}")

    @torch.no_grad()
    def thresholds(
        self, r: torch.Tensor, weight: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(delta1, delta2, tau)`` of residuals ``r`` of shape (n, k), each of shape (k,)."""
        r = r.detach()
        a = r.abs()
        d1, d2 = _quantiles(a, weight, (self.q_low, self.q_high))
        q25, med, q75 = _quantiles(r, weight, (0.25, 0.5, 0.75))
        (mad,) = _quantiles((r - med).abs(), weight, (0.5,))
        if weight is None:
            mean = r.mean(dim=0)
            sd = ((r - mean) ** 2).mean(dim=0).sqrt()
            mean_abs = a.mean(dim=0)
        else:
            wt = weight[:, None]
            tot = weight.sum()
            mean = (wt * r).sum(dim=0) / tot
            sd = ((wt * (r - mean) ** 2).sum(dim=0) / tot).clamp_min(0).sqrt()
            mean_abs = (wt * a).sum(dim=0) / tot
        zero = torch.zeros_like(sd)
        scale = zero
        # Same fallback chain as the numpy code: MAD, IQR, SD, mean |r|.
        for cand in (mean_abs, sd, _IQR_TO_SIGMA * (q75 - q25), _MAD_TO_SIGMA * mad):
            scale = torch.where(cand > 0, cand, scale)
        degenerate = scale <= 0
        safe = torch.where(degenerate, torch.ones_like(scale), scale)
        d1 = torch.maximum(d1, _DELTA1_FLOOR * safe)
        d2 = torch.maximum(d2, d1)
        if self.weighting == "adaptive":
            tau = torch.minimum(torch.maximum(sd, safe), _MAX_TAIL_RATIO * safe)
        else:
            tau = safe
        one = torch.ones_like(scale)
        d1 = torch.where(degenerate, one, d1)
        d2 = torch.where(degenerate, one, d2)
        tau = torch.where(degenerate, one, tau)
        return d1, d2, tau

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Loss of predictions ``input`` against ``target``.

        Parameters
        ----------
        input : Tensor of shape (n,) or (n, k)
            Predictions.
        target : Tensor of the same shape
            Targets (finite).
        weight : Tensor of shape (n,), default=None
            Non-negative sample weights (weighted thresholds and weighted mean).

        Returns
        -------
        loss : Tensor
            Scalar for ``"mean"``/``"sum"``, else the shape of ``input``.
        """
        if input.shape != target.shape:
            raise ValueError(
                f"input and target have mismatched shapes {tuple(input.shape)} "
                f"and {tuple(target.shape)}."
            )
        if input.ndim not in (1, 2) or input.shape[0] == 0:
            raise ValueError(f"input must be (n,) or (n, k) with n >= 1; got {tuple(input.shape)}.")
        if not torch.isfinite(target).all():
            raise ValueError("target contains NaN or infinity; ASRL needs finite labels.")
        shape = input.shape
        r = (input - target).reshape(shape[0], -1)
        if weight is not None:
            weight = weight.detach().to(r.dtype).reshape(-1)
            if weight.shape[0] != shape[0]:
                raise ValueError(
                    f"weight has {weight.shape[0]} entries but there are {shape[0]} samples."
                )
            if (weight < 0).any() or not torch.isfinite(weight).all():
                raise ValueError("weight must be finite and non-negative.")
            if not weight.sum() > 0:
                raise ValueError("weight sums to zero: at least one weight must be positive.")
        d1, d2, tau = self.thresholds(r, weight)
        a = r.abs()
        # One torch.where per region, so that autograd takes the same one-sided slope as
        # the numpy gradient at a residual lying exactly on a threshold (min/clamp would
        # split or add subgradients there).
        lin = d1 * a - 0.5 * d1 * d1
        tail = d1 * d2 - 0.5 * d1 * d1 + d1 * tau * torch.log1p(torch.clamp(a - d2, min=0.0) / tau)
        rho = torch.where(a <= d1, 0.5 * a * a, torch.where(a <= d2, lin, tail))
        if weight is not None:
            rho = rho * weight[:, None]
        if self.reduction == "none":
            return rho.reshape(shape)
        if self.reduction == "sum":
            return rho.sum()
        denom = rho.shape[1] * (weight.sum() if weight is not None else rho.shape[0])
        return rho.sum() / denom
