"""The R2T networks: a transformer encoder, one of two heads, the fixed symbolic decoder.

- :class:`R2TNet`, the paper's design: the encoded sequence is compressed by dense
  layers to the model's parameters (``head="parameters"``).
- :class:`WeightedSolveNet`: the encoder predicts how much to trust each sample,
  and an exact weighted least-squares solve on the model's linear basis returns
  the parameters; a second pass sees the first fit's residuals (learned IRLS,
  ``head="weights"``).

Both share :class:`StepEncoder`, return the decoded curve under ``"curve"`` and
score themselves with ``loss_terms``, so one training loop serves both.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..least_squares._engine import value_and_jacobian, weighted_lstsq
from ..symbolic import SymbolicModel, channel_components

#: Smallest weight of an observed sample in the weighted solve: keeps a channel the
#: network distrusts entirely solvable (plain least squares) at a negligible pull.
MIN_WEIGHT = 1e-4


def sinusoidal_positions(n_positions: int, d_model: int) -> torch.Tensor:
    """The fixed sinusoidal position encoding of Vaswani et al., shape (T, d_model)."""
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(1e4) / d_model))
    pe = torch.zeros(n_positions, d_model)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq[: d_model // 2])
    return pe


class ParameterHead(nn.Module):
    """Maps raw outputs to valid physical parameters.

    Each ordinary parameter goes through a sigmoid onto its bounds; each angular
    one is predicted as a (cos, sin) pair whose angle gives a value in
    ``[0, period)``. Every output is inside the model's box by construction.
    """

    def __init__(self, model: SymbolicModel):
        super().__init__()
        angular = torch.as_tensor(model.angular_mask)
        bounds = torch.as_tensor(model.bounds, dtype=torch.float32)
        periods = torch.tensor([p or 0.0 for p in model.param_periods], dtype=torch.float32)
        self.register_buffer("angular", angular)
        self.register_buffer("lo", bounds[~angular, 0])
        self.register_buffer("width", bounds[~angular, 1] - bounds[~angular, 0])
        self.register_buffer("periods", periods[angular])
        self.n_params = model.n_params
        self.n_angular = int(angular.sum())
        self.n_linear = self.n_params - self.n_angular
        self.n_outputs = self.n_linear + 2 * self.n_angular

    def forward(self, raw: torch.Tensor) -> dict[str, torch.Tensor]:
        """Unit-box coordinates, angle unit vectors and physical parameters."""
        unit = torch.sigmoid(raw[:, : self.n_linear])
        cos_sin = raw[:, self.n_linear :].reshape(raw.shape[0], self.n_angular, 2)
        angle_vec = cos_sin / cos_sin.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        angle = torch.atan2(angle_vec[..., 1], angle_vec[..., 0]) % (2 * math.pi)
        params = raw.new_empty(raw.shape[0], self.n_params)
        params[:, ~self.angular] = self.lo + unit * self.width
        params[:, self.angular] = angle * self.periods / (2 * math.pi)
        return {"unit": unit, "angle_vec": angle_vec, "params": params}

    @staticmethod
    def mse(a: dict, b: dict) -> torch.Tensor:
        """Mean squared distance of two sets of coordinates (angle vectors are at
        most 2 apart, so their squares count a quarter)."""
        return torch.cat([(a["unit"] - b["unit"]).pow(2).flatten(1),
                          (a["angle_vec"] - b["angle_vec"]).pow(2).flatten(1) / 4.0],
                         dim=1).mean()

    def targets(self, params: torch.Tensor) -> dict[str, torch.Tensor]:
        """The same coordinates for known parameters (training targets)."""
        unit = ((params[:, ~self.angular] - self.lo) / self.width).clamp(0, 1)
        theta = params[:, self.angular] * (2 * math.pi) / self.periods
        return {"unit": unit, "angle_vec": torch.stack([theta.cos(), theta.sin()], dim=-1)}


class StepEncoder(nn.Module):
    """Per-step MLP embedding, sinusoidal positions, transformer encoder, layer norm.

    Maps ``(B, T, n_inputs)`` step features to ``(B, T, d_model)``.
    """

    def __init__(self, n_inputs, n_timesteps, d_model, n_heads, n_layers, dim_feedforward,
                 dropout=0.0):
        super().__init__()
        self.embed = nn.Sequential(
            nn.Linear(n_inputs, d_model), nn.GELU(), nn.Linear(d_model, d_model)
        )
        self.register_buffer("positions", sinusoidal_positions(n_timesteps, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward, dropout, activation="gelu",
            batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.norm(self.encoder(self.embed(features) + self.positions))


def _random_mask(module, x, observed):
    """Hide a random ``mask_ratio`` of the steps in training: teaches the encoder to
    infer the curve from partial input."""
    if module.training and module.mask_ratio > 0:
        keep = torch.rand(x.shape[:2], device=x.device) >= module.mask_ratio
        observed = observed * keep[..., None]
        x = x * observed
    return x, observed


class R2TNet(nn.Module):
    """Encoder-compressor-decoder of the Robust Regression Transformer.

    Each time step's normalised values and observed-mask go through a small MLP
    embedding, get sinusoidal positions, then a transformer encoder. The encoded
    sequence is projected per step to a few features, flattened, and compressed
    by dense layers to the raw outputs of :class:`ParameterHead`. The fixed
    symbolic decoder reconstructs the clean, normalised curve from them.
    """

    def __init__(
        self,
        model: SymbolicModel,
        n_timesteps: int,
        d_model: int = 192,
        n_heads: int = 16,
        n_layers: int = 1,
        dim_feedforward: int = 256,
        step_features: int = 8,
        hidden_size: int = 128,
        dropout: float = 0.0,
        mask_ratio: float = 0.0,
    ):
        super().__init__()
        self.symbolic = model
        self.n_timesteps = n_timesteps
        self.mask_ratio = mask_ratio
        self.encoder = StepEncoder(2 * model.n_channels, n_timesteps, d_model, n_heads,
                                   n_layers, dim_feedforward, dropout)
        self.step_proj = nn.Linear(d_model, step_features)
        self.head = ParameterHead(model)
        self.compress = nn.Sequential(
            nn.Linear(n_timesteps * step_features, hidden_size),
            nn.GELU(),
            nn.Linear(hidden_size, hidden_size),
            nn.GELU(),
            nn.Linear(hidden_size, self.head.n_outputs),
        )
        lo, span = (torch.as_tensor(a, dtype=torch.float32) for a in _range(model))
        self.register_buffer("range_lo", lo)
        self.register_buffer("range_span", span)

    def forward(self, x: torch.Tensor, observed: torch.Tensor) -> dict[str, torch.Tensor]:
        """Predict parameters and the reconstructed curve.

        Parameters
        ----------
        x : Tensor (B, T, C)
            Normalised signal with missing samples set to 0.
        observed : Tensor (B, T, C)
            1.0 where a sample was observed, 0.0 where missing.
        """
        x, observed = _random_mask(self, x, observed)
        h = self.encoder(torch.cat([x, observed], dim=-1))
        raw = self.compress(self.step_proj(h).flatten(1))
        out = self.head(raw)
        out["curve"] = self.decode(out["params"])
        return out

    def decode(self, params: torch.Tensor) -> torch.Tensor:
        """The symbolic decoder: normalised curve ``(B, T, C)`` of ``params``."""
        step = self.symbolic.window_hours / self.n_timesteps
        t = torch.arange(self.n_timesteps, device=params.device, dtype=params.dtype) * step
        curve = self.symbolic.equation(params, t)
        return (curve - self.range_lo.to(params.dtype)) / self.range_span.to(params.dtype)

    def loss_terms(self, out, clean, params, inlier):
        """Unreduced loss terms: ``{"reconstruction": (pred, target), "parameters": mse}``.

        The parameter term is the paper's: squared errors in unit-box coordinates,
        angles as unit vectors (their squared distance is at most 4).
        """
        return [{"reconstruction": out["curve"],
                 "parameters": self.head.mse(out, self.head.targets(params))}]


def has_constant(B: np.ndarray) -> bool:
    """Whether the constant function is in the span of basis ``B`` (so that a shift
    of the data is a shift of the coefficients)."""
    coef = np.linalg.lstsq(B, np.ones(len(B)), rcond=None)[0]
    return bool(np.abs(B @ coef - 1).max() < 1e-8)


def constant_coefficients(B: np.ndarray) -> np.ndarray:
    """Coefficients ``c`` with ``B @ c = 1``."""
    return np.linalg.lstsq(B, np.ones(len(B)), rcond=None)[0]


def _range(model: SymbolicModel):
    r = np.asarray(model.output_range, dtype=float).reshape(-1, 2)
    return r[:, 0], r[:, 1] - r[:, 0]


class WeightedSolveNet(nn.Module):
    """R2T with learned sample weights and an exact weighted least-squares solve.

    Each pass encodes the sequence (values and observed mask; later passes also
    the previous fit's residuals, standardised residuals and weights), predicts a
    weight in [0, 1] for every sample and channel, and solves weighted least
    squares on each channel's linear basis (``SymbolicModel.linear_basis``) with
    :func:`~sklearn_r2t.least_squares._engine.weighted_lstsq`. The fixed basis is the
    symbolic decoder: ``curve = B @ theta``. Everything is differentiable, so the
    weights train end to end from the fit's errors and, where the generator knows
    them, from the artefact mask. A network that learns the artefacts exactly
    reproduces the oracle fit (least squares on the untouched samples).

    Coefficients ``theta`` are in the units of the input ``x``. With
    ``standardise=True`` (a linear basis that holds the constant) ``x`` is each
    sequence robustly standardised by its caller (median, signed MAD scale), and
    ``scale * theta + loc * c1`` (``B @ c1 = 1``) are the coefficients in the
    sequence's own units: the estimate is affine-equivariant. Otherwise ``x`` is
    the range-normalised signal: channel ``c``'s curve in physical units is
    ``lo_c + span_c * (B_c @ theta_c - lo_c / span_c)``, i.e. ``span_c * theta_c``
    are the physical coefficients of ``B_c``.

    A model without a linear basis gets a first estimate from the paper's head
    (an :class:`R2TNet` of its own) and, in each pass, ``n_gauss_newton`` weighted
    Gauss-Newton steps from the current estimate, with Jacobians by central
    differences (held constant in back-propagation: the gradient reaches the
    weights through the step's right-hand side).
    """

    def __init__(self, model: SymbolicModel, n_timesteps: int, d_model: int = 32,
                 n_heads: int = 4, n_layers: int = 1, dim_feedforward: int = 64,
                 n_passes: int = 2, step_features: int = 8, hidden_size: int = 128,
                 n_gauss_newton: int = 3, dropout: float = 0.0, mask_ratio: float = 0.0,
                 standardise: bool = False):
        super().__init__()
        self.symbolic = model
        self.n_timesteps = n_timesteps
        self.mask_ratio = mask_ratio
        C = model.n_channels
        self.components = channel_components(model)
        t = model.t_hours(n_timesteps)
        bases = [m.linear_basis(t) for m in self.components]
        self.linear = len(self.components) == C and all(B is not None for B in bases)
        lo, span = _range(model)
        # Standardised input (each sequence by its own robust location and scale):
        # the solve runs on the standardised values themselves.
        self.standardise = bool(standardise) and self.linear and all(
            has_constant(B) for B in bases)
        if self.standardise:
            lo, span = np.zeros_like(lo), np.ones_like(span)
        self.register_buffer("offset", torch.as_tensor(lo / span, dtype=torch.float32))
        self.span = [float(v) for v in span]
        if self.linear:
            for c, B in enumerate(bases):
                self.register_buffer(f"basis_{c}", torch.as_tensor(B, dtype=torch.float32))
            self.n_coef = [B.shape[1] for B in bases]
        else:
            self.first = R2TNet(model, n_timesteps, d_model, n_heads, n_layers,
                                dim_feedforward, step_features, hidden_size, dropout)
            self.n_gauss_newton = n_gauss_newton
            b = model.bounds
            angular = model.angular_mask
            periods = np.array([p or 0.0 for p in model.param_periods])
            scale = np.where(angular, periods, b[:, 1] - b[:, 0])
            self.register_buffer("fd_step", torch.as_tensor(1e-3 * scale, dtype=torch.float32))
            self.register_buffer("lb", torch.as_tensor(np.where(angular, -np.inf, b[:, 0]),
                                                       dtype=torch.float32))
            self.register_buffer("ub", torch.as_tensor(np.where(angular, np.inf, b[:, 1]),
                                                       dtype=torch.float32))
        self.passes = nn.ModuleList(
            StepEncoder((2 if p == 0 else 5) * C, n_timesteps, d_model, n_heads, n_layers,
                        dim_feedforward, dropout)
            for p in range(n_passes)
        )
        self.to_logits = nn.ModuleList(nn.Linear(d_model, C) for _ in range(n_passes))

    def bases(self):
        return [getattr(self, f"basis_{c}") for c in range(len(self.n_coef))]

    def jacobian(self, params):
        """Normalised curve ``(B, T * C)`` at ``params`` and its Jacobian ``(B, T * C, P)``."""
        return value_and_jacobian(lambda P: self.first.decode(P).flatten(1), params,
                                  self.fd_step.to(params.dtype))

    def gauss_newton(self, x, weights, params):
        """``n_gauss_newton`` damped weighted Gauss-Newton steps from ``params``,
        projected onto the bounds; returns the parameters and their curve."""
        X, W = x.flatten(1), weights.flatten(1)
        eye = torch.eye(params.shape[1], dtype=x.dtype, device=x.device)
        for _ in range(self.n_gauss_newton):
            with torch.no_grad():
                _, J = self.jacobian(params.detach())
            r = X - self.first.decode(params).flatten(1)
            G = torch.einsum("nt,ntk,ntl->nkl", W, J, J)
            damping = 1e-3 * G.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(1e-8)
            step = torch.linalg.solve(G + damping[:, None, None] * eye,
                                      torch.einsum("nt,ntk->nk", W * r, J))
            params = torch.maximum(torch.minimum(params + step, self.ub), self.lb)
        return params, self.first.decode(params)

    def solve(self, x, weights):
        """Per-channel weighted least squares: coefficients (list), fitted curve, and
        the rows ``(B,)`` whose system is singular in some channel (too few weighted
        samples: their coefficients are a finite ridge solution, meaningless)."""
        thetas, fits, singular = [], [], None
        for c, B in enumerate(self.bases()):
            B = B.to(x.dtype)
            theta, bad = weighted_lstsq(B, x[..., c] + self.offset[c], weights[..., c],
                                        return_singular=True)
            thetas.append(theta)
            fits.append(theta @ B.T - self.offset[c])
            singular = bad if singular is None else singular | bad
        return thetas, torch.stack(fits, dim=-1), singular

    def forward(self, x: torch.Tensor, observed: torch.Tensor) -> dict:
        """Weights, coefficients and curve of every pass; the last pass's at top level.

        Parameters
        ----------
        x : Tensor (B, T, C)
            Normalised signal with missing samples set to 0.
        observed : Tensor (B, T, C)
            1.0 where a sample was observed, 0.0 where missing.
        """
        x, observed = _random_mask(self, x, observed)
        features = torch.cat([x, observed], dim=-1)
        passes = []
        if not self.linear:
            first = self.first(x, observed)
            params = first["params"]
        for encoder, to_logits in zip(self.passes, self.to_logits, strict=True):
            h = encoder(features)
            logits = to_logits(h)
            w = observed * (MIN_WEIGHT + (1 - MIN_WEIGHT) * torch.sigmoid(logits))
            if self.linear:
                thetas, curve, _ = self.solve(x, w)
                passes.append({"theta": thetas})
            else:
                params, curve = self.gauss_newton(x, w, params)
                passes.append({"params": params})
            # The time-pooled encoding: what score_samples compares with training data.
            passes[-1].update(logits=logits, weights=w, curve=curve, embedding=h.mean(1))
            r = (x - curve) * observed
            # Clamped before the root, whose gradient at 0 is infinite.
            scale = ((w * r * r).sum(1) / w.sum(1).clamp_min(1e-6)).clamp_min(1e-6).sqrt()
            features = torch.cat([x, observed, r, (r / scale[:, None]).clamp(-20, 20), w], -1)
        out = {**passes[-1], "passes": passes, "observed": observed}
        if not self.linear:
            out["first"] = first
        return out

    def loss_terms(self, out, clean, params, inlier):
        """Per pass: reconstruction (pred, target), coefficient MSE and mask BCE.

        The coefficient term compares ``theta`` with the exact least-squares
        coefficients of the clean curve (the parameters' linear image: errors there
        are the parameter errors the solve can make, on a common normalised
        scale). The mask term is the binary cross-entropy of each observed
        sample's weight logit against "no artefact touched it"; rows without a
        known mask (NaN, e.g. user data under ``use_y``) are left out.
        """
        obs = out["observed"] > 0
        known = obs & torch.isfinite(inlier)
        terms = []
        if self.linear:
            with torch.no_grad():
                truth, _, _ = self.solve(clean, torch.ones_like(clean))
        else:
            # The first estimate trains as the paper's head does; the parameter
            # term of each pass compares unit-box coordinates the same way.
            terms = self.first.loss_terms(out["first"], clean, params, inlier)
            truth = self.first.head.targets(params)
        for p in out["passes"]:
            if self.linear:
                coef = torch.cat([(a - b).pow(2) for a, b in zip(p["theta"], truth,
                                                                  strict=True)], dim=1).mean()
            else:
                coef = self.first.head.mse(self.first.head.targets(p["params"]), truth)
            term = {"reconstruction": p["curve"], "parameters": coef}
            if known.any():
                term["mask"] = nn.functional.binary_cross_entropy_with_logits(
                    p["logits"][known], inlier[known])
            terms.append(term)
        return terms
