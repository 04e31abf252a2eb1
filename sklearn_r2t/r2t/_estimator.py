"""R2TRegressor: the Robust Regression Transformer as a scikit-learn estimator."""

from __future__ import annotations

import copy
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._validation import all_missing_rows, check_model, validate_sequences
from ..least_squares._sequence_fit import too_few_observed, warn_at_bound, warn_unfittable
from ..noise import make_noise
from ..symbolic import HeartRate, SymbolicModel
from ._calibration import _calibrate_refine, _calibrate_std
from ._inference import _forward_batches, _network_params, _refined, blend
from ._network import R2TNet, WeightedSolveNet
from ._score import build_reference, score_pvalues, warn_flagged, warn_implausible
from ._training import check_known_params, check_loss_weights, train_network
from ._weights import _ARCHITECTURE, resolve_input_scaling, shipped_payload


class R2TRegressor(TransformerMixin, BaseEstimator):
    """Robust Regression Transformer: symbolic parameters from noisy sequences.

    A small transformer encoder reads a noisy, possibly incomplete sequence and a
    fixed symbolic equation (:mod:`sklearn_r2t.symbolic`) reconstructs the clean
    curve from the parameters it yields. Two heads turn the encoding into
    parameters:

    - ``head="weights"`` (default): the encoder predicts how much to trust each
      sample, an exact weighted least-squares solve on the model's linear basis
      gives the parameters, and a second pass that sees the first fit's
      residuals re-weights and solves again (learned IRLS). It also gives
      standard errors (``transform(X, return_std=True)``).
    - ``head="parameters"``: the paper's design, dense layers regress the
      parameters directly.

    The network trains only on synthetic data: parameters drawn from the model's
    physiological prior, curves from the equation, then structured noise
    (:mod:`sklearn_r2t.noise`), by default a curriculum from clean to about two
    thirds of the samples touched. Its loss is reconstruction MSE plus parameter
    MSE (plus, for the weighted head, cross-entropy on the generator's artefact
    mask) with dynamic denominators. Shipped weights of both heads for the
    built-in models, and of the weighted head for the generic 24-hour
    :class:`~sklearn_r2t.symbolic.Cosinor`, at 96 time steps make ``fit``
    instant; other models and lengths train from scratch.

    **Units and equivariance.** For a model whose linear basis holds the constant
    (every built-in model and a :class:`~sklearn_r2t.symbolic.Cosinor`), the
    weighted head can read each sequence robustly standardised by its own median
    and MAD (``input_scaling="robust"``: the shipped weights of the generic cosinor
    and of heart rate, and networks trained from scratch; skin temperature, SpO2
    and Wearable load range-scaled files by default, and heart rate, skin
    temperature and SpO2 ship a file of the other convention too); the exact
    weighted solve then returns the
    parameters in the sequence's own units, unclipped: fitting ``a * X + b``
    gives ``a * mesor + b``, ``|a| * amplitude`` and the same acrophase (half a
    period later when ``a < 0``), up to rounding. The model's bounds then only
    describe the training prior; for the physiological models ``transform``
    warns when estimates fall far outside them (wrong units or wrong model).
    ``score_samples`` says, per sequence, whether it looks like the training
    data.

    Parameters
    ----------
    model : SymbolicModel, default=None
        The symbolic equation; ``None`` means :class:`~sklearn_r2t.symbolic.HeartRate`.
    noise : str or callable, default="curriculum"
        Training noise: a preset name of :func:`sklearn_r2t.noise.make_noise` or a
        corruption object. Checked by ``fit`` even when the shipped weights are
        used. The shipped weighted-head weights were trained on ``"curriculum"``,
        the parameter-head ones on ``"combined"``.
    head : {"weights", "parameters"}, default="weights"
        How parameters come out of the encoder: learned sample weights and an
        exact weighted solve, or the paper's direct regression (see above). The
        weighted head solves in closed form on the model's linear basis
        (``SymbolicModel.linear_basis``; every built-in model has one), and takes
        weighted Gauss-Newton steps from a first estimate of the paper's head for
        a model without one.
    n_passes : int, default=2
        Weighted head: weight-and-solve passes, each with its own encoder; every
        pass after the first also reads the previous fit's residuals.
    d_model : int, default=32
        Width of the encoder. The paper uses 192 with 16 heads; the shipped
        weights use 32 with 4 heads, which trains about 10x faster on a CPU (see
        the docs for the trade-off).
    n_heads : int, default=4
        Attention heads (must divide ``d_model``).
    n_layers : int, default=1
        Encoder layers.
    dim_feedforward : int, default=64
        Hidden width of the encoder's feed-forward block.
    step_features : int, default=8
        Paper's head (also the weighted head's first estimate for a model without a
        linear basis): features kept per time step before flattening.
    hidden_size : int, default=128
        Paper's head, as ``step_features``: width of the dense compression layers.
    n_synthetic : int, default=16384
        Synthetic sequences drawn per epoch (fresh every epoch).
    max_epochs : int, default=40
        Epochs when training (from scratch, or when fine-tuning). Must be at least
        1 whenever the network trains (0 would return an untrained network).
    max_steps : int, default=None
        Cap on the optimiser steps (batches). The learning-rate schedule spans
        ``min(max_epochs * steps per epoch, max_steps)`` steps, or fewer under
        ``max_time``; the last epoch may be partial, and is scored. A fit with
        ``max_steps=est.n_steps_`` and ``max_time=None`` repeats a fit made under
        ``max_time`` on any machine that computes the same floating-point results.
    batch_size : int, default=256
    lr : float, default=2e-3
        Peak learning rate of the one-cycle schedule (AdamW).
    weight_decay : float, default=1e-4
    mask_ratio : float, default=0.1
        Fraction of input steps hidden at random during training.
    reconstruction_loss : torch.nn.Module, default=None
        Training loss between the decoded and the clean normalised curves, called
        on flattened tensors; None is the mean squared error. E.g.
        :class:`~sklearn_r2t.ASRLLoss` for a robust reconstruction term (useful
        with ``use_y=True`` when the user's "clean" curves are themselves noisy).
    loss_weights : dict, default=None
        Weight of each training loss term (each already divided by its running
        average): ``"reconstruction"``, ``"parameters"`` and, for the weighted
        head, ``"mask"``; ``None`` weighs every term 1. Terms left out weigh 0.
    patience : int, default=8
        Early stopping: epochs without improvement of the validation median MSE.
    max_time : float, default=None
        Training time budget in seconds, counted from the first synthetic draw.
        The first 10 steps are timed, and the number of steps that fit in the
        rest of the budget (with a 10 % margin) becomes the schedule's length
        (``n_steps_``); the learning rate then depends on steps only, never on the
        clock. The clock is checked again before every batch as a backstop: if
        the machine slows down and the budget runs out, training ends there with
        a warning, after scoring that last (partial) epoch. ``max_epochs`` and
        ``max_steps`` still cap it. What stays machine-dependent is the step
        count, and floating-point results across CPUs and thread counts. Refine
        calibration (the deprecated ``refine``) runs after the budget. A budget that ends
        training with fewer than 100 steps gives a ``ConvergenceWarning`` naming
        the ``max_time`` that would plan 100 on this machine: below that the
        network is barely trained, worse than a classical robust fit (docs:
        "Time budgets").
    pretrained : {"auto", True, False}, default="auto"
        Use the shipped weights. ``"auto"`` uses them when they exist for the
        model, the sequence length and the architecture, and trains from scratch
        otherwise; ``True`` raises if they do not exist. Each file records the
        model, its bounds and scaling, the architecture and the sequence length,
        with a SHA-256 checksum; loading checks all of them and refuses non-finite
        weights. A shipped file that is missing or fails a check raises with
        ``True``; with ``"auto"`` it gives a warning and a training from scratch
        bounded by ``max_time`` or 300 seconds, whichever is shorter.
    fine_tune : bool, default=False
        With pretrained weights, continue training for ``max_epochs`` (at a tenth
        of ``lr``) instead of using them as they are.
    use_y : bool, default=False
        If True, ``fit(X, y)`` adds the user's sequences with their known
        parameters ``y`` to every training epoch (supervised fine-tuning). By
        default ``y`` is ignored, so a GridSearchCV can pass known parameters
        to a scorer without leaking them into training.
    refine : bool or str, default=False
        Polish each estimate with a robust least-squares fit started from it
        (True: Cauchy loss with a MAD-based scale; a string names another
        ``scipy.optimize.least_squares`` loss), then blend the two:
        ``(1 - w) * r2t + w * refined`` (circularly for angles), with ``w`` in
        {0, 0.25, 0.5, 0.75, 1} picked by ``fit`` on 256 fresh synthetic sequences
        (``refine_weight_``).

        .. deprecated:: 0.2
           ``refine`` was deprecated in 0.2 and will be removed in 0.4. With the
           shipped weighted-head weights its calibration picks ``w = 0`` for every
           model, and no blend with a robust refit (Cauchy, soft-L1, Huber or
           bisquare) beat the network by more than the noise of the measurement
           at any contamination level (see the R2T guide), so it only costs time.
           For a classical fit use :class:`~sklearn_r2t.SymbolicLeastSquares`.
    device : {"cpu", "cuda", "auto"}, default="cpu"
    input_scaling : {"auto", "robust", "range"}, default="auto"
        What the network reads. ``"robust"``: each sequence and channel
        standardised by its own median and MAD (sign fixed by its mean
        deviation), which makes the estimates affine-equivariant and unbounded;
        weighted head with a linear basis holding the constant only.
        ``"range"``: the signal scaled by the model's ``output_range``, estimates
        projected into the model's bounds (the paper's convention; estimates
        clipped there are reported by a warning). ``"auto"``: the default
        shipped file's convention when it is used, else ``"robust"`` where
        possible and ``"range"`` otherwise. Asking for the other convention
        loads its shipped file where there is one (``heart_rate_t96_range.pt``),
        else trains from scratch.
    random_state : int, RandomState instance or None, default=None
        Seeds the synthetic data, weight initialisation and masking.
    verbose : int, default=0
        0 silent; 1 progress bar and epoch table while training, and a progress bar
        over the sequences (stderr) in transform, predict and sample_weights.

    Attributes
    ----------
    model_ : SymbolicModel
        The validated symbolic model.
    module_ : WeightedSolveNet or R2TNet
        The trained torch network (in eval mode).
    history_ : list of dict
        skorch's per-epoch history (losses, ``valid_median_mse``, durations);
        empty when pretrained weights were used as they are.
    pretrained_ : bool
        Whether shipped weights were loaded.
    input_scaling_ : {"robust", "range"}
        The network's input convention (see ``input_scaling``).
    score_reference_ : dict or None
        Weighted head: the reference of :meth:`score_samples` (feature mean and
        precision, sorted null distances), from synthetic sequences of the
        training noise: stored in the shipped files (2 x 4,096 or more sequences), else
        computed in ``fit`` (2 x 1,024). None for the parameter head.
    refine_weight_ : float or None
        Blend weight of the refined estimate (None unless ``refine`` is set).

        .. deprecated:: 0.2
           Goes with ``refine``, in 0.4.
    std_scale_ : ndarray of shape (n_params,) or None
        Weighted head: factor on each parameter's sandwich standard error that
        makes 90 % intervals cover the truth 90 % of the time on 2,048 fresh
        synthetic sequences from the training noise (shipped weights used as they
        are, with their training noise: the factor stored in the file, from 16,384
        sequences). None for the parameter head.
    n_timesteps_ : int
        Sequence length seen in fit.
    n_features_in_ : int
        Number of time steps (scikit-learn's convention for X's second axis).
    n_steps_ : int
        Optimiser steps the learning-rate schedule spanned, the value
        ``max_steps`` repeats; the steps taken when ``max_time`` cut training
        short (with a warning); 0 without training. ``history_[-1]["steps"]``
        counts the steps taken (fewer only after early stopping).
    fit_time_ : float
        Seconds spent in fit.

    See Also
    --------
    SymbolicLeastSquares : Classical robust least-squares fit of the same model.
    sklearn_r2t.symbolic.HeartRate : The default symbolic model.

    Examples
    --------
    >>> from sklearn_r2t import R2TRegressor
    >>> from sklearn_r2t.datasets import make_wearable_sequences
    >>> data = make_wearable_sequences(100, noise="combined", random_state=0)
    >>> r2t = R2TRegressor().fit(data.X)
    >>> r2t.transform(data.X).shape
    (100, 3)
    >>> params, std = r2t.transform(data.X, return_std=True)
    >>> lower, upper = params - 1.645 * std, params + 1.645 * std  # 90 % intervals
    >>> r2t.score_samples(data.X).shape  # p-values: is each day like the training data?
    (100,)
    """

    _parameter_constraints = {
        "d_model": [Interval(Integral, 4, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dim_feedforward": [Interval(Integral, 1, None, closed="left")],
        "head": [StrOptions({"weights", "parameters"})],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "step_features": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_synthetic": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_steps": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "mask_ratio": [Interval(Real, 0, 1, closed="left")],
        "reconstruction_loss": [torch.nn.Module, None],
        "loss_weights": [dict, None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "pretrained": ["boolean", StrOptions({"auto"})],
        "fine_tune": ["boolean"],
        "use_y": ["boolean"],
        "refine": ["boolean", StrOptions({"linear", "huber", "soft_l1", "cauchy", "arctan"}),
                   Hidden(StrOptions({"deprecated"}))],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "input_scaling": [StrOptions({"auto", "robust", "range"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model: SymbolicModel | None = None,
        *,
        noise="curriculum",
        head: str = "weights",
        n_passes: int = 2,
        d_model: int = 32,
        n_heads: int = 4,
        n_layers: int = 1,
        dim_feedforward: int = 64,
        step_features: int = 8,
        hidden_size: int = 128,
        n_synthetic: int = 16384,
        max_epochs: int = 40,
        max_steps: int | None = None,
        batch_size: int = 256,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        mask_ratio: float = 0.1,
        reconstruction_loss: torch.nn.Module | None = None,
        loss_weights: dict | None = None,
        patience: int = 8,
        max_time: float | None = None,
        pretrained="auto",
        fine_tune: bool = False,
        use_y: bool = False,
        refine="deprecated",
        device: str = "cpu",
        input_scaling: str = "auto",
        random_state=None,
        verbose: int = 0,
    ):
        self.model = model
        self.noise = noise
        self.head = head
        self.n_passes = n_passes
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.dim_feedforward = dim_feedforward
        self.step_features = step_features
        self.hidden_size = hidden_size
        self.n_synthetic = n_synthetic
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.mask_ratio = mask_ratio
        self.reconstruction_loss = reconstruction_loss
        self.loss_weights = loss_weights
        self.patience = patience
        self.max_time = max_time
        self.pretrained = pretrained
        self.fine_tune = fine_tune
        self.use_y = use_y
        self.refine = refine
        self.device = device
        self.input_scaling = input_scaling
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Train on synthetic data (or load the shipped weights).

        Nothing on the estimator changes until the fit has succeeded: a fit that
        raises, or that the user interrupts (Ctrl-C propagates), leaves the
        previous fitted state, or none, as it was.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or (n, n_timesteps, n_channels)
            Sequences; fixes and checks the sequence length and channels. NaN
            marks missing samples. Not used for training unless ``use_y=True``.
        y : array-like of shape (n_sequences, n_params), default=None
            Known parameters. Ignored unless ``use_y=True``.

        Returns
        -------
        self : R2TRegressor
        """
        self._validate_params()
        start = time.perf_counter()
        refine = self._refine()
        model = check_model(HeartRate() if self.model is None else self.model)
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}."
            )
        # The noise is used only when training, but a bad one is a bad setting anyway.
        make_noise(self.noise, model)
        loss_weights = check_loss_weights(self.loss_weights, self.head)
        # validate_data records n_features_in_ on the estimator it is given: give it
        # a copy, so that self changes only once the whole fit has succeeded.
        staged = copy.copy(self)
        X = validate_sequences(staged, X, model, reset=True)
        y = check_known_params(y, X, model) if self.use_y and y is not None else None
        n_timesteps = X.shape[1]
        device = self._torch_device()
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=4)
        history, n_steps = [], 0
        # A private torch RNG: seeded runs repeat exactly, and the caller's global
        # torch random state is left as it was (also when the fit fails).
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seeds[0]))
            module = self._build_module(model, n_timesteps,
                                        resolve_input_scaling(self, model, n_timesteps))
            payload, max_time = shipped_payload(self, model, n_timesteps, module)
            pretrained = payload is not None
            if pretrained:
                module.load_state_dict(payload["state_dict"])
            trained = not pretrained or self.fine_tune or y is not None
            if trained:
                if self.max_epochs == 0:
                    raise ValueError(
                        "max_epochs=0 would return an untrained network: "
                        + ("fine-tuning or use_y needs max_epochs >= 1."
                           if pretrained else
                           "no pretrained weights are used here "
                           f"(pretrained={self.pretrained!r}), so training needs "
                           "max_epochs >= 1.")
                    )
                lr = self.lr / 10 if pretrained else self.lr
                history, n_steps = train_network(self, module, model, n_timesteps, X, y, lr,
                                                 seeds, device, max_time, loss_weights)
        module = module.to(device).eval()
        refine_weight = (_calibrate_refine(module, model, self.noise, n_timesteps,
                                           refine, int(seeds[3]))
                         if refine else None)
        std_scale = score_reference = None
        if self.head == "weights":
            # The shipped files carry their calibration and the reference of the
            # check on their training noise: the default fit stays instant.
            shipped = (payload or {}).get("calibration", {})
            std_scale = (np.asarray(shipped["std_scale"])
                         if not trained and shipped.get("noise") == self.noise
                         else _calibrate_std(module, model, self.noise, n_timesteps,
                                             int(seeds[3])))
            shipped = (payload or {}).get("score_reference", {})
            score_reference = (shipped if not trained and shipped.get("noise") == self.noise
                               else build_reference(module, model, self.noise, n_timesteps,
                                                    int(seeds[3]) + 1))
        # Everything succeeded: only now does the estimator change.
        self.model_ = model
        self.module_ = module
        self.n_timesteps_ = n_timesteps
        self.pretrained_ = pretrained
        self.history_ = history
        self.n_steps_ = n_steps
        self.refine_weight_ = refine_weight
        self.std_scale_ = std_scale
        self.score_reference_ = score_reference
        self.input_scaling_ = "robust" if getattr(module, "standardise", False) else "range"
        self.n_features_in_ = staged.n_features_in_
        if hasattr(staged, "feature_names_in_"):
            self.feature_names_in_ = staged.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.fit_time_ = time.perf_counter() - start
        return self

    def _refine(self, warn=True):
        """``refine`` as an option (False when left at its default), with the
        deprecation warning when the user set it."""
        if isinstance(self.refine, str) and self.refine == "deprecated":
            return False
        if warn:
            warnings.warn(
                "refine was deprecated in 0.2 and will be removed in 0.4: with the "
                "weighted head its calibrated blend weight is 0 (the network's estimate "
                "as it is) for every shipped model. Leave refine unset; for a classical "
                "robust fit use SymbolicLeastSquares.", FutureWarning, stacklevel=3)
        return self.refine

    def _build_module(self, model, n_timesteps, input_scaling="range"):
        arch = {k: getattr(self, k) for k in _ARCHITECTURE[self.head]}
        if self.head == "weights":
            module = WeightedSolveNet(model, n_timesteps, mask_ratio=self.mask_ratio,
                                      standardise=input_scaling == "robust", **arch)
            if self.input_scaling == "robust" and not module.standardise:
                raise ValueError(
                    f"input_scaling='robust' needs a model whose every channel has a "
                    f"linear basis holding the constant; {type(model).__name__} has not. "
                    "Use input_scaling='range' (or 'auto').")
            return module
        if self.input_scaling == "robust":
            raise ValueError("input_scaling='robust' needs head='weights': the parameter "
                             "head regresses parameters in the model's range.")
        return R2TNet(model, n_timesteps, mask_ratio=self.mask_ratio, **arch)

    def _torch_device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' was requested but torch finds no CUDA device.")
        return self.device

    # --------------------------------------------------------------- inference
    def transform(self, X, return_std: bool = False):
        """Estimate the symbolic parameters of each sequence.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or (n, n_timesteps, n_channels)
            NaN marks missing samples.
        return_std : bool, default=False
            Also return each parameter's standard error (weighted head only): the
            weighted solve's sandwich covariance through the delta method, times
            the calibration factor ``std_scale_``. ``params +- 1.645 * std`` is a
            90 % interval (for an angle, modulo its period). With the deprecated
            ``refine`` the standard errors remain those of the network's weighted
            solve.

        Returns
        -------
        params : ndarray of shape (n_sequences, n_params)
            In physical units (``model_.param_units``); NaN, with a warning naming
            the rows, for a sequence with a channel that is entirely missing, with
            fewer observed samples in a channel than its parameters plus one (as
            :class:`~sklearn_r2t.SymbolicLeastSquares`), or whose weighted solve is
            singular (the samples the network trusts cannot pin the coefficients).
            The other rows are unaffected.
        std : ndarray of shape (n_sequences, n_params)
            Only with ``return_std=True``.
        """
        check_is_fitted(self)
        if return_std and getattr(self, "std_scale_", None) is None:
            raise ValueError("return_std=True needs head='weights': the parameter head "
                             "has no covariance to give standard errors from.")
        X = validate_sequences(self, X, self.model_, reset=False)
        refine = self._refine(warn=False)
        if refine and getattr(self, "refine_weight_", None) is None:
            raise ValueError("refine was switched on after fit: call fit again, which "
                             "calibrates the refine step (refine_weight_).")
        # A sequence with a whole channel missing gets NaN for every parameter, also
        # in multi-channel models: the network has never seen a missing channel, and
        # its estimates of the other channels' parameters are then far off (Wearable
        # without skin temperature: median heart-rate mesor error 27 bpm, not 0.16).
        empty = all_missing_rows(X)
        # Too few samples to pin the parameters, or a singular weighted solve: NaN
        # and one warning, as in SymbolicLeastSquares; never a guess at a bound.
        sparse = too_few_observed(self.model_, X) & ~empty
        check = getattr(self, "score_reference_", None) is not None
        params, std, singular, feats = _network_params(
            self.module_, self.model_, X, return_std=return_std, return_features=check,
            verbose=self.verbose)
        warn_unfittable(self.model_, sparse, singular & ~empty)
        lost = empty | sparse | singular
        if check:
            warn_flagged(score_pvalues(self.score_reference_, feats)[~lost])
        warn_implausible(self.model_, params[~lost], self.input_scaling_)
        if self.input_scaling_ == "range":  # clipped to the box (robust input is not)
            warn_at_bound(self.model_, params[~lost])
        if refine:
            keep = ~lost
            params[keep] = blend(self.model_, params[keep],
                                 _refined(self.model_, X[keep], params[keep], refine),
                                 self.refine_weight_)
        params[lost] = np.nan
        if return_std:
            std = std * self.std_scale_
            std[lost] = np.nan
            return params, std
        return params

    def score_samples(self, X):
        """How much each sequence looks like the training data: a p-value.

        The weighted head's view of a sequence (its time-pooled encoding, the
        share of weight it kept, its weighted residual scale and the lag-1
        autocorrelation of its weighted residuals) is compared with synthetic
        sequences of the training distribution by a Mahalanobis distance, whose
        p-value is the share of an independent synthetic sample (the null) at
        least as far away; a second p-value asks whether the fit left structure
        (the residuals' largest lag-1 autocorrelation against the same null),
        and the score combines the two by Simes' rule, ``min(2 * p_min,
        p_max)``. It is uniform on sequences drawn like the training
        data, so ``score < 0.05`` flags about 5 % of those, and small on
        sequences the model or the training noise does not describe (a second
        harmonic, an unseen artefact family, another kind of signal). A small
        score says: do not trust this estimate blindly, look at the sequence.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or (n, n_timesteps, n_channels)
            NaN marks missing samples.

        Returns
        -------
        scores : ndarray of shape (n_sequences,)
            In ``(0, 1]``; NaN for a sequence with a channel entirely missing.
        """
        check_is_fitted(self)
        if getattr(self, "score_reference_", None) is None:
            raise ValueError("score_samples needs head='weights'.")
        X = validate_sequences(self, X, self.model_, reset=False)
        feats = _network_params(self.module_, self.model_, X, return_features=True)[3]
        scores = score_pvalues(self.score_reference_, feats)
        scores[all_missing_rows(X)] = np.nan
        return scores

    def sample_weights(self, X):
        """How much the weighted head trusts each sample: its final-pass weights.

        Near 0 where the network sees an artefact, near 1 where it sees clean
        signal: the weights of the least-squares solve that gave the parameters.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or (n, n_timesteps, n_channels)
            NaN marks missing samples.

        Returns
        -------
        weights : ndarray shaped like X
            In [0, 1]; NaN where a sample is missing, and for every sample of a
            sequence whose parameters :meth:`transform` returns as NaN (a channel
            entirely missing, too few observed samples, or a singular weighted
            solve; with the same warning).
        """
        check_is_fitted(self)
        if not isinstance(self.module_, WeightedSolveNet):
            raise ValueError("sample_weights needs head='weights'; the parameter head "
                             "weighs no samples.")
        X = validate_sequences(self, X, self.model_, reset=False)
        empty = all_missing_rows(X)
        sparse = too_few_observed(self.model_, X) & ~empty
        out = np.empty(X.shape)
        singular = np.zeros(len(X), dtype=bool)
        for sl, x, pred, _ in _forward_batches(self.module_, self.model_, X,
                                               verbose=self.verbose):
            weights = pred["weights"].double()
            out[sl] = weights.cpu().numpy()
            if self.module_.linear:  # the solve transform makes with these weights
                singular[sl] = self.module_.solve(x.double(), weights)[2].cpu().numpy()
        warn_unfittable(self.model_, sparse, singular & ~empty)
        out[np.isnan(X) | (empty | sparse | singular)[:, None, None]] = np.nan
        return out[..., 0] if self.model_.n_channels == 1 else out

    def predict(self, X):
        """Reconstruct the clean curve of each sequence.

        Returns
        -------
        curves : ndarray shaped like X
            The symbolic model evaluated at the estimated parameters.
        """
        params = self.transform(X)
        return self.model_.evaluate(params, self.n_timesteps_)

    def get_feature_names_out(self, input_features=None):
        """Parameter names, the columns of :meth:`transform`."""
        check_is_fitted(self)
        return np.asarray(self.model_.param_names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = self.random_state is None
        tags.target_tags.required = False
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        if "module_" in state:
            self.module_.eval()
