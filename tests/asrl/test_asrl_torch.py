"""ASRLLoss (torch) agrees with the numpy loss and the XGBoost gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_r2t import ASRLLoss, ASRLObjective, asrl_loss


def _pair(n=257, k=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n,) if k is None else (n, k)
    y = 10.0 + rng.standard_t(2, size=shape)
    pred = 10.0 + rng.normal(scale=0.3, size=shape)
    return y, pred


@pytest.mark.parametrize("weighting", ["adaptive", "mad"])
@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_values_and_gradients_match_numpy(weighting, k, weighted):
    y, pred = _pair(k=k)
    w = np.random.default_rng(1).uniform(0.2, 2.0, size=y.shape[0]) if weighted else None
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    wt = None if w is None else torch.tensor(w)
    loss = ASRLLoss(q_low=0.4, q_high=0.85, weighting=weighting)(p, torch.tensor(y), wt)
    loss.backward()
    kw = dict(q_low=0.4, q_high=0.85, weighting=weighting)
    assert loss.item() == pytest.approx(asrl_loss(y, pred, w, **kw), rel=1e-10)
    grad, _ = ASRLObjective(**kw).gradient_hessian(y, pred, w)
    n_out = 1 if k is None else k
    denom = (y.shape[0] if w is None else w.sum()) * n_out
    np.testing.assert_allclose(p.grad.numpy() * denom, grad, rtol=1e-9, atol=1e-12)


def test_reductions_and_training_step():
    y, pred = _pair(64)
    t, p = torch.tensor(y), torch.tensor(pred)
    none = ASRLLoss(reduction="none")(p, t)
    assert none.shape == (64,)
    assert ASRLLoss(reduction="sum")(p, t).item() == pytest.approx(none.sum().item())
    assert ASRLLoss()(p, t).item() == pytest.approx(none.mean().item())
    # trains a model: a single bias converges near the median, not the outlier-pulled mean
    y = torch.cat([torch.zeros(90), torch.full((10,), 100.0)])
    bias = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([bias], lr=0.5)
    for _ in range(200):
        opt.zero_grad()
        ASRLLoss()(bias.expand(100), y).backward()
        opt.step()
    assert abs(bias.item()) < 1.0


def test_float32_and_repr():
    y, pred = _pair(50)
    loss = ASRLLoss()(torch.tensor(pred, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(asrl_loss(y, pred), rel=1e-4)
    assert "q_low=0.5" in repr(ASRLLoss())


def test_bad_input():
    with pytest.raises(ValueError, match="q_low"):
        ASRLLoss(q_low=1.2)
    with pytest.raises(ValueError, match="smaller than q_high"):
        ASRLLoss(q_low=0.9, q_high=0.1)
    with pytest.raises(ValueError, match="reduction"):
        ASRLLoss(reduction="avg")
    with pytest.raises(ValueError, match="mismatched shapes"):
        ASRLLoss()(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="NaN or infinity"):
        ASRLLoss()(torch.zeros(3), torch.tensor([0.0, float("nan"), 1.0]))
    with pytest.raises(ValueError, match="sums to zero"):
        ASRLLoss()(torch.zeros(3), torch.ones(3), torch.zeros(3))


def test_as_a_skorch_criterion():
    skorch = pytest.importorskip("skorch")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 3)).astype(np.float32)
    y = (2 * X[:, :1] + 0.1 * rng.normal(size=(256, 1))).astype(np.float32)
    y[:25] += 30.0  # one-sided gross errors
    torch.manual_seed(0)
    net = skorch.NeuralNetRegressor(
        torch.nn.Linear, module__in_features=3, module__out_features=1, criterion=ASRLLoss,
        criterion__q_high=0.8, max_epochs=60, lr=0.1, batch_size=256, train_split=None,
        verbose=0,
    ).fit(X, y)
    slope = net.module_.weight.detach().numpy()[0, 0]
    bias = net.module_.bias.item()
    assert abs(slope - 2.0) < 0.3 and abs(bias) < 1.0  # least squares: bias near 3
