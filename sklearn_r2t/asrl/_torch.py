"""ASRLLoss: the Adaptive Segmented Robust Loss as a ``torch.nn.Module``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ._thresholds import ASRLThresholds, _check_params, _stats_residuals

__all__ = ["ASRLLoss"]


def _check_tensor(x: Any, name: str, allow_int: bool = False) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}.")
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name} must be a real floating tensor; got dtype {x.dtype}.")
    if not x.is_floating_point() and not allow_int:
        raise TypeError(
            f"{name} must be a floating-point tensor; got dtype {x.dtype} "
            f"(convert with .float())."
        )


class ASRLLoss(nn.Module):
    """Adaptive Segmented Robust Loss for torch models.

    The loss of :class:`ASRLObjective` (squared, absolute and logarithmic regions with value
    and slope continuous at the thresholds), with the thresholds and tail scale computed from
    the residuals of each batch, per output column, by the same code as the boosting
    objective (the detached residuals go through numpy once per call). The statistics are
    treated as constants of the step, so the gradient of a residual is exactly ``psi(r) /
    n``; values and gradients agree with :func:`asrl_loss` and
    :meth:`ASRLObjective.gradient_hessian`. The loss is evaluated in float64 and returned in
    the input's dtype; a value beyond that dtype's range raises a ``ValueError``.

    Parameters
    ----------
    q_low : float, default=0.5
        Quantile of ``|r|`` ending the squared region, in (0, 1) (``thresholds="quantile"``).
    q_high : float, default=0.8
        Quantile of ``|r|`` ending the absolute region, in (q_low, 1).
    weighting : {"adaptive", "mad"}, default="adaptive"
        Tail scale rule, see :class:`ASRLObjective`.
    reduction : {"mean", "sum", "none"}, default="mean"
        Weighted mean over all elements, sum, or the per-element losses.
    thresholds : {"quantile", "efficient", "adaptive"}, default="quantile"
        Threshold rule, see :class:`ASRLObjective`.
    per_side : bool, default=False
        Per-side statistics (``thresholds="efficient"`` or ``"adaptive"`` only).

    See Also
    --------
    ASRLObjective : the same loss for gradient boosting.
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
        thresholds: str = "quantile",
        per_side: bool = False,
    ) -> None:
        super().__init__()
        _check_params(q_low, q_high, weighting, thresholds, per_side)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none'; got {reduction!r}.")
        self.q_low = float(q_low)
        self.q_high = float(q_high)
        self.weighting = weighting
        self.reduction = reduction
        self.thresholds_rule = thresholds
        self.per_side = bool(per_side)

    def extra_repr(self) -> str:
        return (f"q_low={self.q_low}, q_high={self.q_high}, weighting={self.weighting!r}, "
                f"reduction={self.reduction!r}, thresholds={self.thresholds_rule!r}, "
                f"per_side={self.per_side}")

    @torch.no_grad()
    def thresholds(self, r: torch.Tensor, weight: torch.Tensor | None = None) -> ASRLThresholds:
        """Statistics of residuals ``r`` of shape (n, k): :class:`ASRLThresholds` of tensors."""
        rn = r.detach().to("cpu", torch.float64).numpy()
        wn = None if weight is None else weight.detach().to("cpu", torch.float64).numpy()
        th = _stats_residuals(rn, wn, self.q_low, self.q_high, self.weighting,
                              thresholds=self.thresholds_rule, per_side=self.per_side)
        return ASRLThresholds(*(torch.from_numpy(np.ascontiguousarray(f)).to(r.device)
                                for f in th))

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Loss of predictions ``input`` against ``target``.

        Parameters
        ----------
        input : Tensor of shape (n,) or (n, k)
            Predictions (floating point).
        target : Tensor of the same shape
            Targets (finite, floating point).
        weight : Tensor of shape (n,), default=None
            Non-negative sample weights (weighted thresholds and weighted mean).

        Returns
        -------
        loss : Tensor
            Scalar for ``"mean"``/``"sum"``, else the shape of ``input``; input's dtype.
        """
        _check_tensor(input, "input")
        _check_tensor(target, "target")
        if input.shape != target.shape:
            raise ValueError(
                f"input and target have mismatched shapes {tuple(input.shape)} "
                f"and {tuple(target.shape)}."
            )
        if input.ndim not in (1, 2) or input.shape[0] == 0:
            raise ValueError(f"input must be (n,) or (n, k) with n >= 1; got {tuple(input.shape)}.")
        if not torch.isfinite(target).all():
            raise ValueError("target contains NaN or infinity; ASRL needs finite labels.")
        if not torch.isfinite(input.detach()).all():
            raise ValueError("input contains NaN or infinity.")
        shape, dtype = input.shape, input.dtype
        # float64 inside: squares of float32 residuals cannot overflow, and the statistics
        # are the numpy ones exactly.
        r = (input.to(torch.float64) - target.to(torch.float64)).reshape(shape[0], -1)
        if weight is not None:
            _check_tensor(weight, "weight", allow_int=True)
            weight = weight.detach().to(torch.float64).reshape(-1)
            if weight.shape[0] != shape[0]:
                raise ValueError(
                    f"weight has {weight.shape[0]} entries but there are {shape[0]} samples."
                )
            if (weight < 0).any() or not torch.isfinite(weight).all():
                raise ValueError("weight must be finite and non-negative.")
            if not weight.sum() > 0:
                raise ValueError("weight sums to zero: at least one weight must be positive.")
            weight = weight.to(r.device)
        (d1, d2, tau), neg = self.thresholds(r, weight).sides()
        a = r.abs()
        if any(not torch.equal(p, n) for p, n in zip((d1, d2, tau), neg, strict=True)):
            below = r < 0
            d1, d2, tau = (torch.where(below, n, p) for p, n in zip((d1, d2, tau), neg,
                                                                     strict=True))
        # One branch per element (torch.where on inputs made safe for every branch): autograd
        # then takes exactly one region's slope, and no branch overflows for another region's
        # residuals (an inf in an unused branch would still give NaN gradients).
        in_sq = a <= d1
        in_tail = a > d2
        a_sq = torch.where(in_sq, a, torch.zeros_like(a))
        a_lin = torch.where(in_sq | in_tail, d1.expand_as(a), a)
        excess = torch.where(in_tail, a - d2, torch.zeros_like(a))
        rho = torch.where(
            in_sq, 0.5 * a_sq * a_sq,
            torch.where(in_tail,
                        d1 * d2 - 0.5 * d1 * d1 + d1 * tau * torch.log1p(excess / tau),
                        d1 * a_lin - 0.5 * d1 * d1),
        )
        if weight is not None:
            rho = rho * weight[:, None]
        if self.reduction == "none":
            out = rho.reshape(shape)
        elif self.reduction == "sum":
            out = rho.sum()
        else:
            denom = rho.shape[1] * (weight.sum() if weight is not None else rho.shape[0])
            out = rho.sum() / denom
        out = out.to(dtype)
        if not torch.isfinite(out.detach()).all():
            raise ValueError(
                f"The ASRL loss overflows {dtype}: residuals up to {a.max().item():.3g}; "
                "rescale the targets."
            )
        return out
