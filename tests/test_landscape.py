"""Loss along lines: loss_along, random_directions, loss_along_many."""
import numpy as np
import pytest

from lossland import SquaredLoss
from lossland import landscape as ls
from lossland.embedding import degenerate_direction, embed_neuron
from lossland.landscape import loss_along, loss_along_many, random_directions

from conftest import critical_point, make_problem


def test_loss_along_is_the_loss_on_the_line():
    net, theta, X, y = make_problem((2, 3, 2, 1), "tanh", True, seed=4)
    obj = SquaredLoss(net, X, y)
    d = np.random.default_rng(0).standard_normal(net.n_params)
    ts = np.linspace(-1.0, 2.0, 7)
    vals = loss_along(obj, theta, d, ts)
    assert vals.shape == (7,)
    assert np.array_equal(vals, [obj.value(theta + t * d) for t in ts])
    assert loss_along(obj, theta, d, [0.0])[0] == obj.value(theta)
    # along the gradient the loss first decreases
    g = obj.gradient(theta)
    assert loss_along(obj, theta, -g, [1e-4])[0] < obj.value(theta)


@pytest.mark.parametrize("n_params,k", [(1, 1), (5, 3), (40, 200)])
def test_random_directions_are_unit_and_seeded(n_params, k):
    V = random_directions(n_params, k, 7)
    assert V.shape == (k, n_params)
    assert np.allclose(np.linalg.norm(V, axis=1), 1.0, rtol=1e-14)
    assert np.array_equal(V, random_directions(n_params, k, np.random.default_rng(7)))
    if n_params > 1:
        assert not np.array_equal(V, random_directions(n_params, k, 8))


def test_random_directions_are_isotropic():
    V = random_directions(3, 20000, 1)
    assert np.abs(V.mean(axis=0)).max() < 0.02
    assert np.allclose(V.T @ V / len(V), np.eye(3) / 3, atol=0.01)


def test_loss_along_many_equals_one_line_at_a_time():
    net, theta, X, y = make_problem((2, 2, 1), "gelu", False, seed=2)
    obj = SquaredLoss(net, X, y)
    V = random_directions(net.n_params, 4, 3)
    ts = np.array([-0.5, 0.0, 0.25, 1.0])
    out = loss_along_many(obj, theta, V, ts)
    assert out.shape == (4, 4)
    for k, v in enumerate(V):
        assert np.allclose(out[k], loss_along(obj, theta, v, ts), rtol=1e-13, atol=0)
    assert np.allclose(out[:, 1], obj.value(theta), rtol=1e-13, atol=0)


def test_loss_along_the_degenerate_direction_is_flat():
    """000, Fig. 3(b): along d/dlambda gamma_lambda the loss does not change."""
    net, theta, X, y, _ = critical_point("tanh", (2, 2, 1), True, 0)
    big, tb = embed_neuron(net, theta, 1, 1, 0.5)
    obj = SquaredLoss(big, X, y)
    d = degenerate_direction(net, theta, 1, 1)
    vals = loss_along(obj, tb, d, np.linspace(-4, 4, 17))
    assert np.ptp(vals) <= 1e-12 * vals[0]
    # a random direction is not flat at the same point
    v = random_directions(big.n_params, 1, 0)[0]
    assert np.ptp(loss_along(obj, tb, v, np.linspace(-1, 1, 5))) > 1e-4


# ----------------------------------------------------- batched evaluation and scans

def test_losses_at_agrees_with_value_and_is_blocked_correctly(monkeypatch):
    net, theta, X, y = make_problem((2, 3, 2, 1), "mish", True, seed=6)
    obj = SquaredLoss(net, X, y)
    T = theta[None, :] + 0.3 * random_directions(net.n_params, 9, 1)
    ref = np.array([obj.value(t) for t in T])
    out = ls.losses_at(obj, T)
    assert out.shape == (9,)
    assert np.allclose(out, ref, rtol=1e-13, atol=0)
    monkeypatch.setattr(ls, "_CHUNK_FLOATS", 1)                  # one parameter vector per block
    assert np.array_equal(ls.losses_at(obj, T), out)
    with pytest.raises(ValueError, match="thetas"):
        ls.losses_at(obj, T[:, :-1])
    with pytest.raises(ValueError, match="thetas"):
        ls.losses_at(obj, np.where(T == T[0, 0], np.nan, T))


def test_losses_at_reports_overflow():
    from lossland import Network

    net = Network((1, 1, 1), "exp")
    obj = SquaredLoss(net, np.ones((1, 1)), np.zeros(1))
    with pytest.raises(ValueError, match="overflow"):
        ls.losses_at(obj, np.array([[0.0, 0.0, 1.0, 0.0], [800.0, 0.0, 1.0, 0.0]]))


def test_direction_scan_summaries():
    net, theta, X, y = make_problem((2, 2, 1), "tanh", True, seed=3)
    obj = SquaredLoss(net, X, y)
    V = random_directions(net.n_params, 30, 5)
    ts = np.linspace(-0.5, 0.5, 11)
    scan = ls.direction_scan(obj, theta, V, ts)
    assert np.array_equal(scan.losses, loss_along_many(obj, theta, V, ts))
    assert scan.n_directions == 30 and np.array_equal(scan.ts, ts)
    assert scan.value == pytest.approx(obj.value(theta), rel=1e-13)
    assert np.array_equal(scan.min_over_directions, scan.losses.min(axis=0))
    assert scan.largest_decrease() == pytest.approx(scan.value - scan.losses.min(), rel=1e-15)
    # a random point is not a minimum: some directions go down, and the count is monotone in tol
    assert scan.largest_decrease() > 0
    counts = [scan.n_decreasing(tol) for tol in (0.0, 1e-3, 1e-1, 1e3)]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0 and counts[-1] == 0
    assert np.array_equal(scan.decreasing(0.0), scan.losses.min(axis=1) < scan.value)
    with pytest.raises(ValueError, match="tol"):
        scan.decreasing(-1.0)


def test_direction_scan_at_a_minimum_finds_no_descent():
    net, theta, X, y, _ = critical_point("gelu", (2, 1, 1), True, 1)     # a strict local minimum
    scan = ls.direction_scan(SquaredLoss(net, X, y), theta, random_directions(net.n_params, 50, 0),
                             np.linspace(-0.05, 0.05, 11))
    assert scan.largest_decrease() <= 1e-12 * scan.value
    assert scan.n_decreasing(1e-12 * scan.value) == 0


def test_save_load_and_scan_file(tmp_path):
    net, theta, X, y = make_problem((2, 3, 1), "softplus", False, seed=1)
    obj = SquaredLoss(net, X, y, "half")
    point = tmp_path / "point.npz"
    ls.save_point(point, obj, theta, note="test")
    obj2, theta2 = ls.load_point(point)
    assert obj2.net == net and obj2.normalization == "half"
    assert np.array_equal(obj2.X, obj.X) and np.array_equal(obj2.y, obj.y) and np.array_equal(theta2, theta)
    out = tmp_path / "scan.npz"
    scan = ls.scan_file(point, out, n_directions=7, seed=3, t_max=0.2, n_t=5)
    with np.load(out) as f:
        assert np.array_equal(f["losses"], scan.losses) and f["losses"].shape == (7, 5)
        assert np.array_equal(f["ts"], np.linspace(-0.2, 0.2, 5))
        assert int(f["seed"]) == 3 and int(f["n_directions"]) == 7
        assert str(f["numpy_version"]) == np.__version__
    V = random_directions(net.n_params, 7, np.random.default_rng(3))
    assert np.array_equal(scan.losses, loss_along_many(obj, theta, V, np.linspace(-0.2, 0.2, 5)))
    with pytest.raises(ValueError):
        ls.scan_file(point, out, n_directions=0, seed=0, t_max=0.1, n_t=5)
    bad = tmp_path / "bad.npz"
    np.savez(bad, theta=theta)
    with pytest.raises(ValueError, match="missing"):
        ls.load_point(bad)


def test_command_line(tmp_path, capsys):
    net, theta, X, y = make_problem((1, 2, 1), "tanh", True, seed=2)
    point, out = tmp_path / "p.npz", tmp_path / "s.npz"
    ls.save_point(point, SquaredLoss(net, X, y), theta)
    ls._main([str(point), str(out), "--directions", "4", "--n-t", "3", "--t-max", "0.1"])
    assert "4 directions x 3 t-values" in capsys.readouterr().out
    with np.load(out) as f:
        assert f["losses"].shape == (4, 3)
