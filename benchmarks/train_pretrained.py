"""Train the shipped R2T weights for the built-in symbolic models.

Writes ``sklearn_r2t/r2t/weights/<model>_t<T>.pt`` (``<model>_t<T>_parameters.pt`` with
``--head parameters``) and a model card (``.md``) beside it (configuration, seed, data
size, time, hardware, held-out metrics). Runs on CPU or GPU; the time budget picks
the number of epochs.

``--models cosinor`` trains the generic ``Cosinor()`` (one 24-hour harmonic) on a
wider amplitude prior than its default (``--cosinor-amplitude``; 1 to 30 noise
standard deviations by default): with
robustly standardised input (``--input-scaling robust``, the default) its mesor and
units do not matter.

Usage::

    python benchmarks/train_pretrained.py --models heart_rate spo2 --minutes 10
    python benchmarks/train_pretrained.py --models cosinor --minutes 14 --threads 1 \
        --loss-weights '{"mask": 1}'
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sklearn_r2t import R2TRegressor
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse, oracle_fit, parameter_errors
from sklearn_r2t.noise import PRESETS
from sklearn_r2t.r2t._calibration import _calibrate_std
from sklearn_r2t.r2t._score import build_reference
from sklearn_r2t.r2t._weights import (
    _ARCHITECTURE,
    _PRETRAINED_MODELS,
    INPUT_SCALINGS,
    _model_identity,
    load_weights,
    weights_filename,
    weights_payload,
)
from sklearn_r2t.symbolic import Cosinor

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "sklearn_r2t" / "r2t" / "weights"
# The models to train: the built-ins, and the generic cosinor on a wide amplitude prior
# (``--cosinor-amplitude``; the Gaussian noise of its training data has SD 0.01).
_TRAIN_MODELS = {**_PRETRAINED_MODELS, "cosinor": Cosinor}
_COSINOR_AMPLITUDE = (0.01, 0.3)


def held_out_metrics(estimator, model, n_timesteps, n_test, seed):
    rows = {}
    for preset in [p for p in PRESETS if p != "none"]:
        data = make_wearable_sequences(n_test, model=model, noise=preset,
                                       n_timesteps=n_timesteps, random_state=seed)
        params = estimator.transform(data.X)
        curves = model.evaluate(params, n_timesteps)
        err = np.nanmedian(parameter_errors(model, data.params, params), axis=0)
        oracle = model.evaluate(oracle_fit(model, data.X, data.artefact_mask), n_timesteps)
        mse = float(np.nanmedian(normalized_mse(model, data.X_clean, curves)))
        rows[preset] = {
            "median_normalized_mse": mse,
            "x_oracle": mse / float(np.nanmedian(normalized_mse(model, data.X_clean, oracle))),
            "median_abs_param_error": dict(zip(model.param_names, map(float, err), strict=True)),
        }
    return rows


def model_card(name, config, training, metrics) -> str:
    run = {k: v for k, v in training.items() if k != "valid_median_mse_by_epoch"}
    run["noise"] = config["noise"]
    lines = [f"# R2T pretrained weights: `{name}`", "",
             f"Produced by `{training['command']}`.", "",
             "## Training configuration", "", "```json",
             json.dumps(config, indent=2), "```", "",
             "## Training run", "", "```json", json.dumps(run, indent=2), "```", "",
             "Validation median normalised MSE (1,024 synthetic sequences with the training "
             "noise) "
             "during training:", "",
             "| epoch | minutes | validation median MSE |", "|---:|---:|---:|"]
    curve = training["valid_median_mse_by_epoch"]
    elapsed = np.cumsum([dur for _, dur, _ in curve]) / 60
    step = max(1, len(curve) // 15)
    for i, (epoch, _, mse) in enumerate(curve):
        if i % step == 0 or i == len(curve) - 1:
            lines.append(f"| {epoch} | {elapsed[i]:.1f} | {mse:.3g} |")
    lines += ["",
              f"## Held-out metrics ({training['n_test']} synthetic sequences per preset, "
              "seed different from training)", "",
              "| noise preset | median normalised MSE | x oracle | median abs. parameter errors |",
              "|---|---|---|---|"]
    for preset, m in metrics.items():
        errs = ", ".join(f"{k} {v:.3g}" for k, v in m["median_abs_param_error"].items())
        lines.append(f"| {preset} | {m['median_normalized_mse']:.3g} | {m['x_oracle']:.2f} "
                     f"| {errs} |")
    scaling = config.get("input_scaling", "range")
    identity = ("name, class, parameter names and periods, window: robust input makes "
                "the bounds and output range irrelevant to the network"
                if scaling == "robust" else
                "name, class, parameter names, bounds, output range, window")
    lines += ["", "Errors on angular parameters (acrophase, nadir) are circular, in hours.", "",
              "## File format", "",
              f"Weight-file format 2, input scaling `{scaling}`: the tensors with the model's "
              f"identity ({identity}), the sequence length, the head and architecture, the "
              "held-out metrics above, the interval calibration and the reference of "
              "`score_samples`, and a SHA-256 checksum of all of it, checked on loading.", ""]
    return "\n".join(lines)


def _train_model(name, args):
    if name == "cosinor":
        return Cosinor(amplitude_bounds=tuple(args.cosinor_amplitude))
    return _TRAIN_MODELS[name]()


def train_one(name, args):
    model = _train_model(name, args)
    X_probe = make_wearable_sequences(8, model=model, n_timesteps=args.n_timesteps,
                                      random_state=0).X

    def make_estimator(**overrides):
        params = dict(model=model, noise=args.noise, head=args.head, pretrained=args.fine_tune,
                      fine_tune=args.fine_tune,
                      n_synthetic=args.n_synthetic, batch_size=args.batch_size, lr=args.lr,
                      patience=args.patience, device=args.device,
                      loss_weights=args.loss_weights, input_scaling=args.input_scaling,
                      random_state=args.seed, verbose=0)
        params.update(overrides)
        return R2TRegressor(**params)

    estimator = make_estimator(max_epochs=100_000, max_time=args.minutes * 60,
                               verbose=args.verbose)
    start = time.perf_counter()
    estimator.fit(X_probe)
    seconds = time.perf_counter() - start
    curve = [(h["epoch"], round(h["dur"], 2), h["valid_median_mse"]) for h in estimator.history_]
    config = {k: v for k, v in estimator.get_params().items() if k != "model"}
    config["model"] = type(model).__name__
    stem = args.out_dir / Path(weights_filename(model, args.n_timesteps, args.head)).stem
    previous = _previous_stages(stem.with_suffix(".md")) if args.fine_tune else []
    training = {
        "command": "python " + " ".join(sys.argv),
        "budget_minutes": args.minutes,
        "epochs_run": len(estimator.history_),
        "sequences_seen": len(estimator.history_) * args.n_synthetic,
        "seconds": round(seconds, 1),
        "n_steps": estimator.n_steps_,
        "hardware": f"{platform.processor() or platform.machine()}, "
                    f"{torch.get_num_threads()} torch threads, device {args.device}, "
                    f"{os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "n_test": args.n_test,
        "valid_median_mse_by_epoch": curve,
    }
    if previous:
        training["previous_stages"] = previous
    metrics = held_out_metrics(estimator, model, args.n_timesteps, args.n_test,
                               seed=args.seed + 1000)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    # The file records the model, its bounds and scaling, the architecture and the
    # sequence length with a checksum; R2TRegressor checks all of them on loading.
    extra = {"metrics": metrics}
    if args.head == "weights" and isinstance(args.noise, str):
        extra["calibration"] = calibration(estimator.module_, model, args)
        extra["score_reference"] = reference(estimator.module_, model, args)
    payload = weights_payload(model, args.n_timesteps,
                              {k: getattr(estimator, k) for k in _ARCHITECTURE[args.head]},
                              estimator.module_.state_dict(), head=args.head,
                              input_scaling=estimator.input_scaling_, **extra)
    torch.save(payload, f"{stem}.pt")
    load_weights(f"{stem}.pt", model, args.n_timesteps)  # what we wrote must load
    card = model_card(name, config, training, metrics)
    if "calibration" in extra:
        card += calibration_note(extra["calibration"], args)
        card += reference_note(extra["score_reference"])
    stem.with_suffix(".md").write_text(card)
    print(f"[{name}] done in {seconds:.0f} s; combined median MSE "
          f"{metrics['combined']['median_normalized_mse']:.3g}", flush=True)


def calibration(module, model, args):
    """The interval calibration R2TRegressor would compute at fit, on more sequences,
    stored in the file so that a fit with the shipped weights stays instant."""
    scale = _calibrate_std(module.eval(), model, args.noise, args.n_timesteps,
                           seed=args.seed + 2000, n_sequences=16384)
    return {"noise": args.noise, "n_sequences": 16384, "std_scale": scale.tolist()}


def reference(module, model, args):
    """The reference of score_samples on the training noise (2 x 4,096 sequences)."""
    return build_reference(module.eval(), model, args.noise, args.n_timesteps,
                           seed=args.seed + 3000, n_sequences=4096)


def reference_note(ref) -> str:
    return (f"\n## Reference of `score_samples`\n\nFeature mean and precision from "
            f"{ref['n_sequences']:,} sequences of `{ref['noise']}` noise; null distances "
            f"and residual autocorrelations from {ref['n_sequences']:,} more "
            f"(seed {ref['seed']}).\n")


def calibration_note(calib, args) -> str:
    factors = ", ".join(f"{v:.3f}" for v in calib["std_scale"])
    return (f"\n## Interval calibration\n\nFactors on the sandwich standard errors "
            f"(`std_scale_`), from {calib['n_sequences']:,} sequences of `{calib['noise']}` "
            f"noise (seed {args.seed + 2000}): {factors}.\n")


def add_calibration(name, args):
    """Rewrite the weighted-head files of a model (the default one, and the other
    input convention's where it ships) in the current format with the calibration
    and the reference of score_samples (tensors, input scaling and other metadata
    unchanged)."""
    model = _train_model(name, args)
    for variant in (None, *INPUT_SCALINGS):
        path = args.out_dir / weights_filename(model, args.n_timesteps, "weights", variant)
        if path.is_file():
            _add_calibration(model, path, args)


def _add_calibration(model, path, args):
    payload = load_weights(path, model, args.n_timesteps)
    scaling = payload["input_scaling"]
    estimator = R2TRegressor(model, pretrained=True, noise=args.noise,
                             input_scaling=scaling).fit(
        np.zeros((1, args.n_timesteps, model.n_channels)))
    assert estimator.input_scaling_ == scaling  # the file at path, not another
    meta = {k: v for k, v in payload.items()
            if k not in ("state_dict", "sha256", "format", "format_version", "head",
                         "architecture", "n_timesteps", "input_scaling",
                         *_model_identity(model, scaling))}
    if meta.get("calibration", {}).get("noise") != args.noise:
        meta["calibration"] = calibration(estimator.module_, model, args)
    meta["score_reference"] = reference(estimator.module_, model, args)
    torch.save(weights_payload(model, args.n_timesteps, payload["architecture"],
                               payload["state_dict"], head="weights", input_scaling=scaling,
                               **meta), path)
    load_weights(path, model, args.n_timesteps)
    card = path.with_suffix(".md")
    text = card.read_text().split("\n## Interval calibration")[0]
    text = text.replace("Weight-file format 1:", "Weight-file format 2 (rewritten from "
                        "format 1 by `--calibrate-only`, tensors unchanged), input "
                        f"scaling `{scaling}`:")
    card.write_text(text + calibration_note(meta["calibration"], args)
                    + reference_note(meta["score_reference"]))
    print(f"[{path.name}] calibration {meta['calibration']['std_scale']}", flush=True)


def _noise_arg(text):
    return json.loads(text) if text.lstrip().startswith("{") else text


def _previous_stages(card):
    """Training records of the weights being fine-tuned, from their model card."""
    if not card.is_file():
        return []
    run = json.loads(card.read_text().split("## Training run")[1].split("```json")[1]
                     .split("```")[0])
    return run.pop("previous_stages", []) + [run]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(_TRAIN_MODELS),
                        choices=list(_TRAIN_MODELS))
    parser.add_argument("--loss-weights", type=json.loads, default=None,
                        help='loss terms, e.g. \'{"mask": 1}\' (default: all terms, weight 1)')
    parser.add_argument("--input-scaling", default="robust", choices=["robust", "range"])
    parser.add_argument("--out-dir", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--minutes", type=float, default=15.0, help="budget per model")
    parser.add_argument("--n-timesteps", type=int, default=96)
    parser.add_argument("--n-synthetic", type=int, default=16384)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--patience", type=int, default=1000,
                        help="early-stopping patience (large: use the whole budget)")
    parser.add_argument("--head", default="weights", choices=list(_ARCHITECTURE))
    parser.add_argument("--noise", default="curriculum", type=_noise_arg,
                        help='a preset, or a JSON dict of presets and weights (a mixture), '
                             'e.g. \'{"combined": 0.5, "drops": 0.25, "spikes": 0.25}\'')
    parser.add_argument("--fine-tune", action="store_true",
                        help="start from the shipped weights (at a tenth of --lr)")
    parser.add_argument("--cosinor-amplitude", type=float, nargs=2, default=_COSINOR_AMPLITUDE,
                        metavar=("LOW", "HIGH"),
                        help="the generic cosinor's amplitude prior, in units of the "
                             "training signal's range (noise SD 0.01)")
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--calibrate-only", action="store_true",
                        help="rewrite existing weighted-head files in the current format "
                             "with the interval calibration and the score_samples reference")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print("command:", " ".join([sys.executable, *sys.argv]), flush=True)
    for name in args.models:
        (add_calibration if args.calibrate_only else train_one)(name, args)


if __name__ == "__main__":
    main()
