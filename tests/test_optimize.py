"""find_critical_point, newton_polish, hessian_report: what they report is what is true."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.embedding import embed_neuron
from lossland.optimize import CriticalPoint, find_critical_point, hessian_report, newton_polish

from conftest import critical_point, teacher_data


def easy_problem():
    X, y = teacher_data()
    net = Network((2, 1, 1), "gelu")
    return net, SquaredLoss(net, X, y), net.init_params(1, 0.5)


def assert_report_is_true(obj, cp, gtol):
    g = obj.gradient(cp.theta)
    H = obj.hessian(cp.theta)
    assert isinstance(cp, CriticalPoint)
    assert cp.grad_norm == pytest.approx(np.linalg.norm(g), rel=1e-12, abs=1e-300)
    assert cp.loss == obj.value(cp.theta)
    assert cp.converged == (cp.grad_norm <= gtol) and cp.gtol == gtol
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    assert np.all(np.diff(cp.eigenvalues) >= 0)
    assert np.allclose(cp.eigenvalues, ev, rtol=0, atol=1e-12 * max(1.0, np.abs(ev).max()))
    assert cp.min_eigenvalue == cp.eigenvalues[0]
    assert f"{cp.grad_norm:.2e}" in cp.summary()


@pytest.mark.parametrize("method", ["trust-exact", "BFGS", "L-BFGS-B", "Newton-CG", "trust-ncg"])
def test_find_critical_point_reaches_gtol(method):
    net, obj, theta0 = easy_problem()
    start = theta0.copy()
    cp = find_critical_point(obj, theta0, method=method, gtol=1e-10)
    assert np.array_equal(theta0, start)                          # the start point is not modified
    assert cp.converged and cp.grad_norm <= 1e-10
    assert_report_is_true(obj, cp, 1e-10)
    assert cp.loss < obj.value(theta0)
    assert cp.eigenvalues[0] > 0                                  # this start leads to a strict local minimum


def test_methods_agree_on_the_minimum():
    net, obj, theta0 = easy_problem()
    cps = [find_critical_point(obj, theta0, method=m) for m in ("trust-exact", "BFGS", "Newton-CG")]
    for cp in cps[1:]:
        assert cp.loss == pytest.approx(cps[0].loss, rel=1e-10)
        assert np.allclose(cp.theta, cps[0].theta, atol=1e-6)


def test_linear_regression_is_solved_exactly():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    net = Network((3, 1), "tanh")
    cp = find_critical_point(SquaredLoss(net, X, y), np.zeros(net.n_params))
    Xt = np.hstack([X, np.ones((30, 1))])
    assert np.allclose(cp.theta, np.linalg.lstsq(Xt, y, rcond=None)[0], atol=1e-10)
    assert np.allclose(cp.eigenvalues, np.linalg.eigvalsh(2 * Xt.T @ Xt), rtol=1e-12)


def test_unconverged_runs_say_so():
    net, obj, theta0 = easy_problem()
    cp = find_critical_point(obj, theta0, method="BFGS", maxiter=2, polish=False, gtol=1e-10)
    assert not cp.converged and cp.newton_steps == 0 and cp.iterations <= 2
    assert_report_is_true(obj, cp, 1e-10)


def test_method_none_only_polishes():
    net, theta, X, y, cp0 = critical_point("gelu", (2, 2, 2, 1), True, 0)
    obj = SquaredLoss(net, X, y)
    start = theta + 1e-6 * np.random.default_rng(0).standard_normal(net.n_params)
    cp = find_critical_point(obj, start, method="none")
    assert cp.iterations == 0 and cp.newton_steps >= 1 and cp.converged
    assert_report_is_true(obj, cp, 1e-10)
    assert np.linalg.norm(cp.theta - theta) < 1e-5


def test_newton_polish_improves_an_approximate_critical_point():
    net, theta, X, y, _ = critical_point("gelu", (2, 1, 1), True, 1)
    obj = SquaredLoss(net, X, y)
    start = theta + 1e-4 * np.random.default_rng(1).standard_normal(net.n_params)
    g0 = np.linalg.norm(obj.gradient(start))
    assert g0 > 1e-6
    out, gn, steps = newton_polish(obj, start, gtol=1e-12)
    assert gn <= 1e-12 < g0 and 1 <= steps <= 10
    assert gn == pytest.approx(np.linalg.norm(obj.gradient(out)), rel=1e-12, abs=1e-300)
    assert np.linalg.norm(out - theta) < 1e-8                     # back to the same strict minimum
    # at a critical point there is nothing to do
    same, gn2, steps2 = newton_polish(obj, out, gtol=1e-10)
    assert steps2 == 0 and np.array_equal(same, out) and gn2 == gn


def test_newton_polish_at_a_degenerate_critical_point():
    """The image of gamma_lambda has a singular Hessian: least-squares Newton still converges."""
    net, theta, X, y, _ = critical_point("tanh", (2, 2, 1), True, 0)
    big, tb = embed_neuron(net, theta, 1, 0, 0.3)
    obj = SquaredLoss(big, X, y)
    assert np.linalg.eigvalsh(obj.hessian(tb))[0] < 1e-8          # degenerate
    start = tb + 1e-5 * np.random.default_rng(2).standard_normal(big.n_params)
    out, gn, steps = newton_polish(obj, start, gtol=1e-10)
    assert gn <= 1e-10 and steps >= 1
    assert obj.value(out) == pytest.approx(obj.value(tb), rel=1e-8)


def test_hessian_report():
    net, obj, theta0 = easy_problem()
    H = obj.hessian(theta0)
    ev = hessian_report(obj, theta0)
    assert np.allclose(ev, np.linalg.eigvalsh(0.5 * (H + H.T)), rtol=0, atol=1e-12 * np.abs(H).max())
    assert np.all(np.diff(ev) >= 0)


def test_critical_point_helper_preconditions():
    """The cached critical points used across the tests are what they claim to be."""
    from conftest import CRITICAL_CASES

    for case in CRITICAL_CASES:
        net, theta, X, y, cp = critical_point(*case)
        obj = SquaredLoss(net, X, y)
        assert np.linalg.norm(obj.gradient(theta)) <= 1e-10
        assert obj.value(theta) > 1e-3
        assert cp.eigenvalues[0] > -1e-8 * cp.eigenvalues[-1]      # found by minimisation: no negative curvature
