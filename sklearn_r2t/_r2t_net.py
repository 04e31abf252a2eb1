"""The R2T network: transformer encoder, compression head and fixed symbolic decoder."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .symbolic import SymbolicModel


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

    def targets(self, params: torch.Tensor) -> dict[str, torch.Tensor]:
        """The same coordinates for known parameters (training targets)."""
        unit = ((params[:, ~self.angular] - self.lo) / self.width).clamp(0, 1)
        theta = params[:, self.angular] * (2 * math.pi) / self.periods
        return {"unit": unit, "angle_vec": torch.stack([theta.cos(), theta.sin()], dim=-1)}


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
        n_channels = model.n_channels
        self.embed = nn.Sequential(
            nn.Linear(2 * n_channels, d_model), nn.GELU(), nn.Linear(d_model, d_model)
        )
        self.register_buffer("positions", sinusoidal_positions(n_timesteps, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward, dropout, activation="gelu",
            batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
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
        if self.training and self.mask_ratio > 0:
            # Random masking teaches the encoder to infer the curve from partial input.
            keep = torch.rand(x.shape[:2], device=x.device) >= self.mask_ratio
            observed = observed * keep[..., None]
            x = x * observed
        h = self.embed(torch.cat([x, observed], dim=-1)) + self.positions
        h = self.norm(self.encoder(h))
        raw = self.compress(self.step_proj(h).flatten(1))
        out = self.head(raw)
        curve = self.symbolic.equation(out["params"], self._t_hours(x))
        out["curve"] = (curve - self.range_lo) / self.range_span
        return out

    def _t_hours(self, x):
        step = self.symbolic.window_hours / self.n_timesteps
        return torch.arange(self.n_timesteps, device=x.device, dtype=x.dtype) * step


def _range(model: SymbolicModel):
    r = np.asarray(model.output_range, dtype=float).reshape(-1, 2)
    return r[:, 0], r[:, 1] - r[:, 0]
