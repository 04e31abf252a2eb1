"""Robust losses in one place: their IRLS weights and scipy-callable forms.

Every loss is written on the squared scaled residual ``z = (r / s)**2`` as scipy's
:func:`~scipy.optimize.least_squares` writes its own: the fit minimises
``sum_i s**2 rho(z_i)``, and the iteratively reweighted least-squares weight of a
residual is ``w = rho'(z)`` (the first-order condition of the M-estimator
``sum rho'(z_i) r_i dr_i/dtheta = 0`` is a weighted least-squares one). So the
batched solver and the scipy reference minimise the very same objective.

=========  ==============================  ===============================  =========
loss       rho(z)                          weight rho'(z)                   tuning
=========  ==============================  ===============================  =========
linear     z                               1                                -
huber      z (z <= 1), 2 sqrt(z) - 1       min(1, 1 / sqrt(z))              -
soft_l1    2 (sqrt(1 + z) - 1)             1 / sqrt(1 + z)                  -
cauchy     log(1 + z)                      1 / (1 + z)                      -
arctan     arctan(z)                       1 / (1 + z**2)                   -
bisquare   c²/3 (1 - (1 - z/c²)³), z <= c²  (1 - z / c²)² (0 beyond)         c = 4.685
welsch     c² (1 - exp(-z / c²))           exp(-z / c²)                     c = 2.9846
=========  ==============================  ===============================  =========

``huber`` ... ``arctan`` are scipy's definitions, with ``s = f_scale``. Tukey's
bisquare and Welsch's loss are the classical redescending M-estimators; their
tuning constants give 95 % efficiency at the Gaussian when ``s`` is the noise
standard deviation, so ``bisquare`` rejects residuals beyond ``4.685 s`` outright.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["LOSSES", "REDESCENDING", "TUNING", "irls_weights", "psi_derivative", "rho",
           "scipy_loss"]

LOSSES = ("linear", "huber", "soft_l1", "cauchy", "arctan", "bisquare", "welsch")
# Losses whose influence falls back to zero for large residuals: they need a
# high-breakdown start, since they only find the minimum near where they begin.
REDESCENDING = frozenset({"cauchy", "arctan", "bisquare", "welsch"})
TUNING = {"bisquare": 4.685, "welsch": 2.9846}


def irls_weights(loss: str, z: torch.Tensor) -> torch.Tensor:
    """IRLS weight ``rho'(z)`` of each squared scaled residual ``z = (r / s)**2``."""
    if loss == "linear":
        return torch.ones_like(z)
    if loss == "huber":
        return torch.where(z <= 1.0, torch.ones_like(z), torch.rsqrt(z.clamp_min(1.0)))
    if loss == "soft_l1":
        return torch.rsqrt(1.0 + z)
    if loss == "cauchy":
        return 1.0 / (1.0 + z)
    if loss == "arctan":
        return 1.0 / (1.0 + z * z)
    if loss == "bisquare":
        u = (1.0 - z / TUNING["bisquare"] ** 2).clamp_min(0.0)
        return u * u
    if loss == "welsch":
        return torch.exp(-z / TUNING["welsch"] ** 2)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")


def psi_derivative(loss: str, z: torch.Tensor) -> torch.Tensor:
    """Slope ``psi'(u)`` of the influence function ``psi(u) = u w(u)`` at ``z = u**2``.

    ``psi'(u) = w + 2 z dw/dz``: the weight of a residual in the Hessian of the
    objective, which the M-estimator's covariance (the "bread" of its sandwich)
    needs; negative where a redescending loss turns back.
    """
    if loss == "linear":
        return torch.ones_like(z)
    if loss == "huber":
        return (z <= 1.0).to(z.dtype)
    if loss == "soft_l1":
        return (1.0 + z) ** -1.5
    if loss == "cauchy":
        return (1.0 - z) / (1.0 + z) ** 2
    if loss == "arctan":
        return (1.0 - 3.0 * z * z) / (1.0 + z * z) ** 2
    if loss == "bisquare":
        v = z / TUNING["bisquare"] ** 2
        return torch.where(v < 1.0, (1.0 - v) * (1.0 - 5.0 * v), torch.zeros_like(z))
    if loss == "welsch":
        v = z / TUNING["welsch"] ** 2
        return torch.exp(-v) * (1.0 - 2.0 * v)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")


def rho(loss: str, z: torch.Tensor) -> torch.Tensor:
    """The loss ``rho(z)`` itself (the objective is ``sum s**2 rho(z)``)."""
    if loss == "linear":
        return z
    if loss == "huber":
        return torch.where(z <= 1.0, z, 2.0 * torch.sqrt(z.clamp_min(1.0)) - 1.0)
    if loss == "soft_l1":
        return 2.0 * (torch.sqrt(1.0 + z) - 1.0)
    if loss == "cauchy":
        return torch.log1p(z)
    if loss == "arctan":
        return torch.arctan(z)
    if loss == "bisquare":
        c2 = TUNING["bisquare"] ** 2
        return c2 / 3.0 * (1.0 - (1.0 - z.clamp_max(c2) / c2) ** 3)
    if loss == "welsch":
        c2 = TUNING["welsch"] ** 2
        return c2 * -torch.expm1(-z / c2)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")


def scipy_loss(loss: str):
    """``loss`` as :func:`scipy.optimize.least_squares` takes it: its own name for
    scipy's five, a callable returning ``(rho, rho', rho'')`` for the others."""
    if loss not in TUNING:
        return loss
    c2 = TUNING[loss] ** 2

    def callable_loss(z: np.ndarray) -> np.ndarray:
        out = np.empty((3, z.size))
        if loss == "bisquare":
            inside = z <= c2
            u = np.where(inside, 1.0 - z / c2, 0.0)
            out[0] = c2 / 3.0 * (1.0 - u**3)
            out[1] = u * u
            out[2] = np.where(inside, -2.0 * u / c2, 0.0)
        else:
            e = np.exp(-z / c2)
            out[0] = c2 * (1.0 - e)
            out[1] = e
            out[2] = -e / c2
        return out

    return callable_loss
