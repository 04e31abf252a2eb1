"""Weight files: where the shipped ones live, what they hold, and the checks made on loading."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from importlib import resources
from pathlib import Path

import torch

from ..symbolic import Cosinor, HeartRate, SkinTemperature, SpO2, SymbolicModel, Wearable

# Built-in physiological models with shipped weights, keyed by ``model.name``.
_PRETRAINED_MODELS = {
    cls.name: cls for cls in (HeartRate, SkinTemperature, SpO2, Wearable)
}
# The generic model with shipped weights: ``Cosinor()`` with one 24-hour harmonic over
# 24 hours, whatever its bounds and output range (its weights read standardised
# input, on which those have no effect).
_GENERIC_MODELS = {Cosinor.name: Cosinor}
# Hyper-parameters that shape each head's network (and must match a weight file's).
_ARCHITECTURE = {
    "weights": ("d_model", "n_heads", "n_layers", "dim_feedforward", "n_passes",
                "step_features", "hidden_size"),
    "parameters": ("d_model", "n_heads", "n_layers", "dim_feedforward", "step_features",
                   "hidden_size"),
}


# The weight files the package ships: (model name, n_timesteps).
_SHIPPED = {(name, 96) for name in (*_PRETRAINED_MODELS, *_GENERIC_MODELS)}

WEIGHTS_FORMAT = "sklearn_r2t.R2TNet"
#: Version 2 records the network's input convention (``input_scaling``): ``"robust"``
#: (each sequence standardised by its own median and MAD) or ``"range"`` (scaled by
#: the model's ``output_range``). Version-1 files hold range-scaled networks and
#: still load as such.
WEIGHTS_VERSION = 2
_READABLE_VERSIONS = (1, 2)
INPUT_SCALINGS = ("robust", "range")


class WeightsError(ValueError):
    """A weight file that cannot be used: damaged, altered, or for another model."""


def weights_filename(model: SymbolicModel, n_timesteps: int, head: str = "weights",
                     input_scaling: str | None = None) -> str:
    """Name of a shipped weight file: ``heart_rate_t96.pt`` (weighted head, the
    default input convention), ``heart_rate_t96_range.pt`` (the other convention,
    where one ships beside the default) or ``heart_rate_t96_parameters.pt`` (the
    paper's parameter head)."""
    suffix = ("" if head == "weights" else f"_{head}") + (
        f"_{input_scaling}" if input_scaling else "")
    return f"{model.name}_t{n_timesteps}{suffix}.pt"


def has_shipped_weights(model: SymbolicModel) -> bool:
    """Whether the package ships weights for ``model`` (at 96 time steps): the
    built-in physiological models, and ``Cosinor()`` with one 24-hour harmonic
    over a 24-hour window (any bounds and output range)."""
    if _PRETRAINED_MODELS.get(model.name) is type(model):
        return True
    return (_GENERIC_MODELS.get(model.name) is type(model) and model.n_harmonics == 1
            and model.period_hours == 24.0 and model.window_hours == 24.0)


def pretrained_path(model: SymbolicModel, n_timesteps: int, head: str = "weights",
                    input_scaling: str | None = None):
    """Path of the shipped weights for ``model`` at ``n_timesteps``, or None.

    With ``input_scaling``, the file of that input convention where the package
    ships one beside the default file (``heart_rate_t96_range.pt``), else the
    default file (whose convention :func:`load_weights` reports).
    """
    if not has_shipped_weights(model):
        return None
    folder = resources.files("sklearn_r2t.r2t") / "weights"
    names = [weights_filename(model, n_timesteps, head)]
    if input_scaling is not None:
        names.insert(0, weights_filename(model, n_timesteps, head, input_scaling))
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _model_identity(model: SymbolicModel, input_scaling: str = "range") -> dict:
    """What a weight file must match: the model, and for range-scaled input its
    parameter box and scaling. A network that reads robustly standardised input
    never sees the bounds nor the output range (they only shaped its training
    data), so its file matches any: the periods of the angles name the basis."""
    identity = {
        "model": model.name,
        "model_class": type(model).__name__,
        "param_names": list(model.param_names),
        "window_hours": float(model.window_hours),
    }
    if input_scaling == "robust":
        return {**identity, "param_periods": list(model.param_periods)}
    return {**identity, "bounds": model.bounds.tolist(),
            "output_range": model.output_range.tolist()}


def _weights_digest(meta: dict, state: dict) -> str:
    """SHA-256 of the metadata (canonical JSON) and every tensor's name, dtype, shape, bytes."""
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def weights_payload(model: SymbolicModel, n_timesteps: int, architecture: dict,
                    state_dict: dict, head: str = "weights", input_scaling: str = "range",
                    **extra) -> dict:
    """The content of a weight file: tensors, model identity, input convention,
    architecture, checksum.

    ``extra`` (e.g. held-out metrics) must be JSON-serialisable; it is covered by
    the checksum too. Save the result with ``torch.save``.
    """
    if input_scaling not in INPUT_SCALINGS:
        raise ValueError(f"input_scaling must be one of {INPUT_SCALINGS}, got {input_scaling!r}")
    state = {k: v.detach().cpu().clone() for k, v in state_dict.items()}
    meta = {"format": WEIGHTS_FORMAT, "format_version": WEIGHTS_VERSION,
            **_model_identity(model, input_scaling), "n_timesteps": int(n_timesteps),
            "head": head, "input_scaling": input_scaling,
            "architecture": {k: int(v) for k, v in architecture.items()}, **extra}
    return {**meta, "state_dict": state, "sha256": _weights_digest(meta, state)}


def load_weights(path, model: SymbolicModel, n_timesteps: int) -> dict:
    """Read a weight file and check it against ``model`` and ``n_timesteps``.

    Raises :class:`WeightsError` (a ``ValueError``) naming the problem when the file
    is damaged or not a weight file, its checksum does not match its content, it
    was made for another model, bounds, scaling or sequence length, or it holds
    non-finite values. Only tensors and plain types are unpickled
    (``weights_only=True``). Files of format version 1 (before the input
    convention was recorded) load as range-scaled networks; the returned
    payload always has ``input_scaling``.
    """
    name = Path(str(path)).name
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip, pickle and EOF errors alike; torch's own message
        # would suggest weights_only=False, which is unsafe on an untrusted file.
        raise WeightsError(
            f"cannot read the weight file {name}: it is damaged or not a sklearn_r2t "
            f"weight file ({type(exc).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
        raise WeightsError(f"{name} is not a sklearn_r2t weight file (format tag "
                           f"{WEIGHTS_FORMAT!r} missing)")
    version = payload.get("format_version")
    if version not in _READABLE_VERSIONS:
        raise WeightsError(f"{name} has format version {version!r}; this sklearn_r2t "
                           f"reads versions {', '.join(map(str, _READABLE_VERSIONS))}")
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise WeightsError(f"{name} has no valid state_dict of named tensors")
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "sha256")}
    try:
        digest = _weights_digest(meta, state)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{name} has metadata or tensors that cannot be checked "
                           f"({type(exc).__name__})") from None
    if payload.get("sha256") != digest:
        raise WeightsError(f"{name} fails its checksum: the file was altered or damaged")
    scaling = payload.get("input_scaling", "range" if version == 1 else None)
    if scaling not in INPUT_SCALINGS:
        raise WeightsError(f"{name} has input_scaling {scaling!r}; expected one of "
                           f"{INPUT_SCALINGS}")
    expected = {**_model_identity(model, scaling), "n_timesteps": int(n_timesteps)}
    wrong = [f"{k}: file {payload.get(k)!r}, expected {v!r}" for k, v in expected.items()
             if payload.get(k) != v]
    if wrong:
        raise WeightsError(f"{name} was made for another model or sequence length ("
                           + "; ".join(wrong) + ")")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(f"{name} holds non-finite weights in {', '.join(bad[:5])}")
    return {**payload, "input_scaling": scaling}


# With pretrained="auto", a shipped file that is missing or unusable is a broken
# install, not a choice: train from scratch, but within this many seconds.
_FALLBACK_MAX_TIME = 300.0


def resolve_input_scaling(settings, model, n_timesteps):
    """The input convention to build the network with: the shipped file's under
    ``"auto"`` when it will be loaded, else robust where the model allows it."""
    if settings.input_scaling != "auto":
        return settings.input_scaling
    if settings.pretrained is not False:
        path = pretrained_path(model, n_timesteps, settings.head)
        if path is not None:
            try:
                return load_weights(path, model, n_timesteps)["input_scaling"]
            except WeightsError:
                pass  # reported by shipped_payload
    return "robust" if settings.head == "weights" else "range"



def shipped_payload(settings, model, n_timesteps, module):
    """The shipped weight file's content to start from (or None), and the training
    time budget, for the :class:`~sklearn_r2t.R2TRegressor` ``settings``.

    A missing or unusable file that the package ships is an error with
    ``pretrained=True``; with ``"auto"`` it is a warning and a training from
    scratch bounded by ``_FALLBACK_MAX_TIME`` seconds.
    """
    if settings.pretrained is False:
        return None, settings.max_time
    scaling = "robust" if getattr(module, "standardise", False) else "range"
    path = pretrained_path(model, n_timesteps, settings.head, scaling)
    broken = None  # why a file that should be usable is not
    if path is None:
        reason = (f"none are shipped for {type(model).__name__} at "
                  f"n_timesteps={n_timesteps}")
        if (model.name, n_timesteps) in _SHIPPED and has_shipped_weights(model):
            broken = (f"the shipped file {weights_filename(model, n_timesteps, settings.head)}"
                      " is missing")
    else:
        try:
            payload = load_weights(path, model, n_timesteps)
        except WeightsError as exc:
            broken = str(exc)
        else:
            mismatch = {k: (getattr(settings, k), v) for k, v in payload["architecture"].items()
                        if getattr(settings, k) != v}
            expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
            found = {k: tuple(v.shape) for k, v in payload["state_dict"].items()}
            if payload.get("head") != settings.head:
                broken = f"{path.name} holds the {payload.get('head')!r} head"
            elif payload["input_scaling"] != scaling:
                reason = (f"the shipped weights read {payload['input_scaling']!r}-scaled "
                          f"input, this network {scaling!r}-scaled input "
                          f"(input_scaling={settings.input_scaling!r})")
            elif mismatch:
                reason = ("the architecture differs from the shipped one "
                          f"{{name: (yours, shipped)}}: {mismatch}")
            elif found != expected:
                broken = f"{path.name} does not fit the network's tensors"
            else:
                return payload, settings.max_time
    if broken:
        reason = broken
    if settings.pretrained is True:
        raise ValueError(f"pretrained=True but {reason}; use pretrained='auto' or False.")
    if broken:
        budget = min(settings.max_time or math.inf, _FALLBACK_MAX_TIME)
        warnings.warn(
            f"Shipped weights not used: {broken}. Training from scratch instead, "
            f"within max_time={budget:g} s; reinstall sklearn_r2t to get the weights "
            "back.", UserWarning, stacklevel=3)
        return None, budget
    if settings.verbose:
        print(f"No pretrained weights: {reason}; training from scratch.")
    return None, settings.max_time
