"""Tests for lossland.nonattracting.escapes: classifying training runs against a region's loss."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.nonattracting.escapes import classify_runs
from lossland.training import Trajectory, gd


def _trajectory(losses):
    losses = np.asarray(losses, dtype=float)
    steps = losses.shape[0] - 1
    return Trajectory(losses, np.zeros((1, losses.shape[1], 2)), np.array([steps]), 0.1, steps, None)


def test_classes_and_escape_steps():
    L = 2.0
    runs = np.array([[2.0, 2.0, 2.0, 2.0],        # stays: near
                     [2.0, 1.95, 1.5, 0.1],       # below from step 2 (1.95 > 0.95 L = 1.9)
                     [2.0, 3.0, 5.0, 9.0],        # above
                     [2.0, 1.0, 2.0, 2.08]]).T    # dipped at step 1, ends near
    final, cls, esc = classify_runs(_trajectory(runs), L)
    assert np.array_equal(final, runs[-1])
    assert cls.tolist() == [0, -1, 1, 0]
    assert esc.tolist() == [4, 2, 4, 1]           # steps + 1 = 4 when never below
    assert classify_runs(_trajectory(runs), L, band=0.5).cls.tolist() == [0, -1, 1, 0]


def test_on_a_real_run():
    rng = np.random.default_rng(0)
    net = Network((1, 3, 1))
    obj = SquaredLoss(net, rng.standard_normal((5, 1)), rng.standard_normal(5))
    th = net.init_params(rng)
    tr = gd(obj, np.stack([th, th]), 0.01, 50)
    L0 = obj.value(th)
    out = classify_runs(tr, L0)
    below = tr.losses < 0.95 * L0
    for k in range(2):
        assert out.escape[k] == (np.flatnonzero(below[:, k])[0] if below[:, k].any() else 51)


def test_errors():
    tr = _trajectory(np.ones((3, 2)))
    with pytest.raises(TypeError, match="trajectory"):
        classify_runs(np.ones((3, 2)), 1.0)
    with pytest.raises(ValueError, match="L_ref"):
        classify_runs(tr, 0.0)
    with pytest.raises(ValueError, match="band"):
        classify_runs(tr, 1.0, band=2.0)
