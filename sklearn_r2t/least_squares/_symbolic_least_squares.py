"""SymbolicLeastSquares: classical robust fits of a symbolic model to many sequences at once."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._validation import all_missing_rows, check_model, validate_sequences
from ..symbolic import HeartRate, SymbolicModel
from ._losses import LOSSES
from ._sequence_fit import OUTLIER_SIDES, SOLVERS, _check_side, fit_sequences, warn_at_bound


def _ndim(X) -> int:
    return X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim


class SymbolicLeastSquares(TransformerMixin, BaseEstimator):
    r"""Robust fit of a symbolic model to every sequence, all sequences at once.

    The classical rival of :class:`~sklearn_r2t.R2TRegressor`, with the same API
    so that the two swap in a Pipeline: ``transform`` returns the model's
    parameters (physical units), ``predict`` the fitted clean curves. The
    estimator is transductive, like :class:`~sklearn.preprocessing.Normalizer`:
    ``fit`` only validates the input and fixes the model and the sequence length,
    and ``transform(X)`` fits the sequences of ``X``.

    **The estimator** (MM-type, as robust statistics recommends): for a robust
    ``loss``, (1) a high-breakdown start, least absolute deviations (or, with
    ``outlier_side``, a low or high quantile fit); (2) with ``f_scale='auto'``, a
    robust scale fixed from the start's residuals, ``1.4826 * MAD`` (with
    ``outlier_side``: from the residuals on the clean side only); (3) the
    M-estimate with ``loss`` at that scale, from the start. A redescending loss
    (``'bisquare'``, ``'welsch'``, ``'cauchy'``, ``'arctan'``) finds the minimum
    near its start, so a start that outliers cannot pull keeps the fit on the
    clean samples; ``'bisquare'`` then ignores residuals beyond ``4.685`` scales.
    ``loss='linear'`` is ordinary least squares.

    **The solver** (``solver='batched'``, the default) fits a whole chunk of
    sequences at once: models with a linear basis
    (:meth:`~sklearn_r2t.symbolic.SymbolicModel.linear_basis`: every built-in,
    and :class:`~sklearn_r2t.symbolic.FunctionModel` on request) by iteratively
    reweighted least squares on per-sequence normal equations, any other model
    by Levenberg-Marquardt with exact (forward-mode) Jacobians, box bounds and
    phase restarts as extra rows. ``solver='scipy'`` runs all three steps one
    sequence at a time with :func:`scipy.optimize.least_squares` (the start as a
    soft-L1 fit with a margin far below the noise, from every restart): an
    independent reference, 60 to 900 times slower.

    Residuals are measured in the model's **normalised units**
    (:meth:`~sklearn_r2t.symbolic.SymbolicModel.normalize`: a fraction of the
    plausible signal range ``output_range``), so ``f_scale`` means the same for
    every model and channel: ``f_scale=0.02`` puts the switch from quadratic to
    robust at 2 % of the signal range. scipy's default ``f_scale=1.0`` is the
    whole range: every residual is below it, so ``'huber'`` and ``'soft_l1'`` then
    behave like ordinary least squares. That is the honest "default" baseline;
    ``f_scale='auto'`` is the tuned one.

    Missing samples (NaN) are ignored. A sequence with fewer observed samples in
    a channel than that channel has parameters, plus one, or whose observed
    samples cannot pin a linear basis' coefficients (a singular system), gets NaN
    parameters and curves, with one warning naming the rows; the rest of the
    batch is unaffected (as in :class:`~sklearn_r2t.R2TRegressor`). Angular
    parameters (acrophases) are fitted on the whole circle and returned within
    their bounds; the others within theirs.

    **What a fit reports**, as statsmodels' ``RLM`` and scikit-learn's
    :class:`~sklearn.linear_model.HuberRegressor` do:
    ``transform(X, return_std=True)`` adds standard errors (Huber's sandwich
    covariance of the M-estimate, the same as ``RLM(cov="H3")`` at the same
    scale, through the delta method); :meth:`fit_details` returns, per
    sequence, the parameters, standard errors, the robust scale, the final
    weights of every sample, an outlier mask, the M-step's iterations and
    whether it converged, and which parameters ended at a bound;
    :meth:`sample_weights` returns the weights alone, as
    :meth:`R2TRegressor.sample_weights <sklearn_r2t.R2TRegressor.sample_weights>`
    does. They are returned by the call that fits ``X``, not stored as fitted
    attributes: ``fit`` fits nothing (see above), so attributes would describe
    whichever ``X`` was transformed last. The standard errors assume
    independent noise around the curve; under bursts of artefacts the loss
    does not fully reject they are too small (the package's benchmark
    ``benchmarks/sls_statistics.py`` measures their coverage).

    Parameters
    ----------
    model : SymbolicModel, default=None
        The equation to fit; ``None`` means :class:`~sklearn_r2t.symbolic.HeartRate`.
    loss : str, default='soft_l1'
        One of ``'linear'``, ``'huber'``, ``'soft_l1'``, ``'cauchy'``, ``'arctan'``,
        ``'bisquare'``, ``'welsch'``. ``'linear'`` is ordinary least squares;
        ``'huber'`` ... ``'arctan'`` are scipy's losses (same definitions);
        ``'bisquare'`` (Tukey, c = 4.685) and
        ``'welsch'`` (c = 2.9846) are the classical redescending M-estimators. The
        strongest choice under artefacts is ``'bisquare'`` with
        ``f_scale='auto'``. Formulas: :mod:`sklearn_r2t.least_squares._losses`.
    f_scale : float > 0 or 'auto', default=1.0
        Scale of the residuals (soft margin between inlier and outlier), in
        normalised units. ``'auto'`` estimates it per sequence from the
        high-breakdown start (above), floored at 1e-3 (0.1 % of the signal range).
        Ignored by ``loss='linear'``.
    outlier_side : {'both', 'above', 'below'} or sequence of them, default='both'
        Where the artefacts point, one value or one per channel (e.g.
        ``('above', 'below', 'below')`` for :class:`~sklearn_r2t.symbolic.Wearable`:
        heart rate rises in activity, skin temperature and SpO2 drop when the
        sensor loses contact). ``'above'`` starts from a low (20 %) quantile fit,
        which runs through the clean samples as long as fewer than about 70 % of
        them are pushed up, and takes the scale from the residuals below the fit
        (no artefact reaches them); ``'below'`` mirrors it. Use it when the sign
        of the artefacts is known: it keeps the fit near the oracle at
        contamination where the symmetric fit breaks down (about 40 % of the
        samples). The M-step still rejects gross outliers on both sides. If the
        assumption is wrong (artefacts on the other side), the start sits among
        the artefacts, and the fit is much worse than ``'both'``: see the
        package's benchmark ``benchmarks/fit_speed.py``.
    solver : {'batched', 'scipy'}, default='batched'
        See above. Both compute the same estimator (tested to agree).
    n_restarts : int >= 1, default=4
        Starting points of the start phase of a model without a linear basis, and
        of every model with ``solver='scipy'`` (restart ``j`` shifts every angle by
        ``j / n_restarts`` of its period; models without angles start from fixed
        points spread over the bounds). The batched solver needs none for a
        model with a linear basis: its start is a convex problem.
    max_nfev : int, default=None
        Maximum function evaluations per sequence of ``solver='scipy'``.
    n_jobs : int, default=None
        joblib workers over chunks of sequences for ``solver='scipy'``. The
        batched solver uses torch's threads (:func:`torch.set_num_threads`).
    verbose : int or bool, default=0
        Show a progress bar (on stderr) over the sequences in ``transform``.

    Attributes
    ----------
    model_ : SymbolicModel
        The validated model.
    n_timesteps_ : int
        Sequence length seen during fit.
    n_features_in_ : int
        Equal to ``n_timesteps_`` (the second axis of ``X``).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the time steps, when ``X`` is a DataFrame with string column names.

    See Also
    --------
    fit_sequences : The function behind this estimator.
    sklearn_r2t.metrics.oracle_fit : Least squares on the samples no artefact touched.
    sklearn_r2t.R2TRegressor : The transformer that predicts the same parameters.
    SoftL1Regressor : Robust linear regression for tabular data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_r2t import SymbolicLeastSquares
    >>> from sklearn_r2t.symbolic import HeartRate
    >>> model = HeartRate()
    >>> X = model.evaluate([[70.0, 10.0, 15.0]], n_timesteps=96)
    >>> X[0, 40:48] += 30.0  # a two-hour burst of exercise
    >>> est = SymbolicLeastSquares(model, loss="bisquare", f_scale="auto").fit(X)
    >>> np.round(est.transform(X), 2)
    array([[70., 10., 15.]])
    >>> est.get_feature_names_out()
    array(['mesor', 'amplitude', 'acrophase'], dtype=object)
    >>> details = est.fit_details(X)
    >>> np.flatnonzero(details.outliers[0])  # the burst, and only the burst
    array([40, 41, 42, 43, 44, 45, 46, 47])
    >>> details.weights[0, 40:48]  # rejected outright by the bisquare
    array([0., 0., 0., 0., 0., 0., 0., 0.])

    When most samples may be artefacts and their sign is known:

    >>> from sklearn_r2t.datasets import make_wearable_sequences
    >>> data = make_wearable_sequences(200, severity=4, random_state=0)  # ~57 % touched
    >>> one_sided = SymbolicLeastSquares(loss="bisquare", f_scale="auto",
    ...                                  outlier_side="above").fit(data.X)
    >>> params = one_sided.transform(data.X)
    """

    _parameter_constraints: dict = {
        "model": [None, SymbolicModel],
        "loss": [StrOptions(set(LOSSES))],
        "f_scale": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "outlier_side": [StrOptions(set(OUTLIER_SIDES)), tuple, list],
        "solver": [StrOptions(set(SOLVERS))],
        "n_restarts": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_nfev": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "n_jobs": [None, numbers.Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=None,
        loss="soft_l1",
        f_scale=1.0,
        outlier_side="both",
        solver="batched",
        n_restarts=4,
        max_nfev=None,
        n_jobs=None,
        verbose=0,
    ):
        self.model = model
        self.loss = loss
        self.f_scale = f_scale
        self.outlier_side = outlier_side
        self.solver = solver
        self.n_restarts = n_restarts
        self.max_nfev = max_nfev
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _get_model(self) -> SymbolicModel:
        return HeartRate() if self.model is None else check_model(self.model)

    def fit(self, X, y=None):
        """Validate the sequences and fix the model and the sequence length.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or \
                (n_sequences, n_timesteps, n_channels)
            Sequences in physical units; NaN marks a missing sample.
        y : None
            Ignored.

        Returns
        -------
        self : SymbolicLeastSquares
            The fitted estimator.
        """
        model = self._get_model()
        self._validate_params()
        if self.n_jobs == 0:
            raise ValueError("n_jobs == 0 has no meaning; use None, -1 or an int >= 1.")
        _check_side(self.outlier_side, model)
        Xv = validate_sequences(self, X, model, reset=True)
        self.model_ = model
        self.n_timesteps_ = Xv.shape[1]
        return self

    def _fit_params(self, X, details=False, return_std=False):
        check_is_fitted(self)
        Xv = validate_sequences(self, X, self.model_, reset=False)
        empty = all_missing_rows(Xv)
        out = fit_sequences(
            self.model_, Xv, loss=self.loss, f_scale=self.f_scale,
            outlier_side=self.outlier_side, solver=self.solver, n_restarts=self.n_restarts,
            max_nfev=self.max_nfev, n_jobs=self.n_jobs, verbose=self.verbose,
            return_details=details, return_std=return_std,
        )
        params = out.params if details else out
        params[empty] = np.nan
        warn_at_bound(self.model_, params, stacklevel=4)
        if return_std:
            out.std[empty] = np.nan
        return out

    def transform(self, X, return_std: bool = False):
        """Fit the model to each sequence and return its parameters.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps[, n_channels])
            Sequences of the length seen in ``fit``; NaN marks a missing sample.
        return_std : bool, default=False
            Also return each parameter's standard error: Huber's sandwich
            covariance of the M-estimate (statsmodels' ``RLM(cov="H3")``; for
            ``loss='linear'``, ordinary least squares' covariance) at the scale the
            fit used, through the delta method for parameters that are not linear
            coefficients (amplitude, acrophase). It assumes independent noise
            around the curve and holds the scale fixed; see :meth:`fit_details`.

        Returns
        -------
        params : ndarray of shape (n_sequences, n_params)
            Fitted parameters in physical units (:meth:`get_feature_names_out`
            names them); NaN for a sequence with an entirely missing channel,
            too few observed samples or a singular system (see above).
        std : ndarray of shape (n_sequences, n_params)
            Only with ``return_std=True``. ``params +- 1.645 * std`` is a nominal
            90 % interval (for an angle, modulo its period).
        """
        if not return_std:
            return self._fit_params(X)
        out = self._fit_params(X, details=True, return_std=True)
        return out.params, out.std

    def fit_details(self, X):
        """Fit each sequence and return what a statistics package reports of a fit.

        Everything comes from the one fit of each sequence of ``X`` (the
        estimator is transductive: ``fit`` stores no fit, so the details of a
        sequence belong to the call that fitted it, never to an earlier ``X``).

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps[, n_channels])
            Sequences of the length seen in ``fit``; NaN marks a missing sample.

        Returns
        -------
        details : :class:`~sklearn.utils.Bunch`
            With keys (with a channel axis where ``X`` has one):

            params : ndarray of shape (n_sequences, n_params)
                As :meth:`transform`.
            std : ndarray of shape (n_sequences, n_params)
                Standard errors, as ``transform(X, return_std=True)``.
            scale : ndarray of shape (n_sequences[, n_channels])
                The residual scale of the M-step, in the channel's physical
                units: the robust estimate for ``f_scale='auto'`` (``1.4826 *
                MAD`` of the start's residuals, or its one-sided form), else
                ``f_scale`` times the channel's range (a tuning constant, not an
                estimate); for ``loss='linear'`` the residual standard error
                ``sqrt(RSS / (n - n_params))``.
            weights : ndarray shaped like ``X``
                The final robust weights ``psi(r / s) / (r / s)`` in [0, 1] (1
                for ``loss='linear'``), as statsmodels' ``RLMResults.weights``;
                NaN where a sample is missing.
            outliers : bool ndarray shaped like ``X``
                ``|residual| > 2.5 * scale`` (Rousseeuw and Leroy's rule for
                standardised residuals); False where a sample is missing.
            n_iter : ndarray of shape (n_sequences[, n_channels]), int
                Iterations of the M-step (IRLS solves, or Levenberg-Marquardt
                steps for a model without a linear basis; function evaluations for
                ``solver='scipy'``); 0 for the closed-form least-squares fit.
            converged : bool ndarray of shape (n_sequences[, n_channels])
                Whether the M-step met its tolerance (relative step 1e-7) within
                its 50 iterations. A few rows in a thousand may not; iterated on,
                they moved by a median 1e-4 and at most 0.15 standard errors in
                the package's tests.
            at_bound : bool ndarray of shape (n_sequences, n_params)
                True where a parameter was clipped to (or fitted at) its bound in
                ``model.bounds``: its standard error, computed at the unclipped
                estimate, does not describe the returned value.

            Sequences that cannot be fitted (a channel entirely or nearly
            missing, or a singular system) have NaN ``params``, ``std``, ``scale`` and ``weights``,
            ``n_iter`` 0 and ``converged`` False.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_r2t import SymbolicLeastSquares
        >>> from sklearn_r2t.datasets import make_wearable_sequences
        >>> data = make_wearable_sequences(50, random_state=0)
        >>> est = SymbolicLeastSquares(loss="bisquare", f_scale="auto").fit(data.X)
        >>> details = est.fit_details(data.X)
        >>> details.std.shape, details.weights.shape, bool(details.converged.all())
        ((50, 3), (50, 96), True)
        """
        two_d = _ndim(X) == 2
        out = self._fit_params(X, details=True, return_std=True)
        if two_d:
            for key in ("scale", "n_iter", "converged"):
                out[key] = out[key][:, 0]
            for key in ("weights", "outliers"):
                out[key] = out[key][..., 0]
        return out

    def sample_weights(self, X):
        """The final robust weight of each sample, as :meth:`fit_details` gives it.

        The counterpart of :meth:`R2TRegressor.sample_weights
        <sklearn_r2t.R2TRegressor.sample_weights>`: near 0 where the fit
        rejected a sample, 1 where it trusted it fully.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps[, n_channels])
            Sequences of the length seen in ``fit``; NaN marks a missing sample.

        Returns
        -------
        weights : ndarray shaped like X
            In [0, 1]; NaN where a sample is missing.
        """
        two_d = _ndim(X) == 2
        weights = self._fit_params(X, details=True).weights
        return weights[..., 0] if two_d else weights

    def predict(self, X):
        """Fit the model to each sequence and return the fitted clean curves.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps[, n_channels])
            Sequences of the length seen in ``fit``; NaN marks a missing sample.

        Returns
        -------
        curves : ndarray shaped like ``X``
            The fitted curves, without noise or gaps (NaN rows for a sequence
            with an entirely missing channel).
        """
        in_ndim = _ndim(X)
        params = self._fit_params(X)
        curves = np.full(params.shape[:1] + (self.n_timesteps_, self.model_.n_channels), np.nan)
        ok = ~np.isnan(params).any(axis=1)
        if ok.any():
            out = self.model_.evaluate(params[ok], self.n_timesteps_)
            curves[ok] = out.reshape(out.shape[0], self.n_timesteps_, -1)
        return curves[..., 0] if in_ndim == 2 else curves

    def get_feature_names_out(self, input_features=None):
        """Names of the output features: the model's parameter names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored (the output names do not depend on the input).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        return np.asarray(self.model_.param_names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN marks a missing sample
        tags.input_tags.three_d_array = True  # multi-channel models take (n, T, C)
        tags.target_tags.required = False
        return tags
