"""lossland.deep_wide.separable: Definition 5.1 and Theorem 5.3 of paper 003."""
import numpy as np
import pytest
from scipy.optimize import linprog

from lossland import Network
from lossland.losses import get_loss
from lossland.objective import Objective, paper_matrices
from lossland.optimize import find_critical_point
from lossland.deep_wide.separable import (
    SEARCH_CONFIGS, class_signs, critical_search, design_search, feature_separability,
    linear_separability, load_searches, mp_gradient, mp_newton_refine, one_vs_rest,
    proof_quantities, run_searches, search_problem, search_task, theorem53_report,
    two_label_counterexample)

HINGE = get_loss("squared_hinge")


def _blobs(seed=0, n=10):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal([2, 2], 0.5, (n, 2)), rng.normal([-2, -2], 0.5, (n, 2))])
    return X, np.r_[np.ones(n, bool), np.zeros(n, bool)]


def _objective(widths, X, C, activation="tanh"):
    net = Network(widths, activation)
    C = C if C.ndim == 2 else C[:, None]
    return Objective(net, X, np.where(C, 1.0, -1.0), loss=HINGE, classes=C)


def test_two_blobs_are_separable_with_a_certificate():
    X, c = _blobs()
    rep = linear_separability(X, c)
    assert rep.separable and rep.margin > 0.5
    S = class_signs(c)
    E = np.hstack([X, np.ones((len(X), 1))])
    assert np.all(S * (E @ rep.H) >= rep.margin - 1e-9)          # the LP constraints
    assert rep.certificate_margin > 0 and np.all(np.abs(rep.H) <= 1 + 1e-9)
    assert np.allclose(rep.scores, E @ rep.H)
    assert "separable: True" in str(rep)


def test_xor_is_not_separable():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    rep = linear_separability(X, np.array([True, True, False, False]))
    assert not rep.separable and rep.margin == 0.0
    assert rep.certificate_margin <= 0


def test_one_vs_rest_stripes_middle_class_fails():
    x = np.linspace(-3, 3, 13)
    X = np.column_stack([x, np.zeros_like(x)])
    C = one_vs_rest(np.digitize(x, [-1.5, 1.5]), 3)
    rep = linear_separability(X, C)
    assert not rep.separable
    assert rep.class_margins[0] > 0 and rep.class_margins[2] > 0
    assert rep.class_margins[1] == 0.0 and rep.margin == 0.0


def test_joint_lp_equals_smallest_class_lp():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 2))
    C = one_vs_rest(np.argmax(X @ rng.normal(size=(2, 3)), axis=1), 3)
    rep = linear_separability(X, C)
    N, m, q = 12, 3, 3
    E = np.hstack([X, np.ones((N, 1))])
    S = np.where(C, 1.0, -1.0)
    A = np.zeros((N * m, q * m + 1))
    for j in range(m):
        A[j * N:(j + 1) * N, j * q:(j + 1) * q] = -S[:, j:j + 1] * E
    A[:, -1] = 1.0
    c = np.zeros(q * m + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A, b_ub=np.zeros(N * m),
                  bounds=[(-1, 1)] * (q * m) + [(None, None)], method="highs")
    assert res.status == 0
    assert abs(res.x[-1] - rep.margin) < 1e-8
    assert rep.margin == pytest.approx(min(rep.class_margins))


@pytest.mark.parametrize("seed", range(5))
def test_linearly_independent_vectors_are_separable(seed):
    # Barber (2012), p. 340, quoted after Theorem 5.3: every labelling works
    rng = np.random.default_rng(seed)
    d = 4
    X = rng.normal(size=(d + 1, d))                  # rank [X, 1] = d + 1 = N
    X0 = rng.normal(size=(d, d))                     # rank X = N, no bias needed
    for _ in range(10):
        assert linear_separability(X, rng.random(d + 1) < 0.5).separable
        lab = rng.integers(0, 3, d)
        assert linear_separability(X0, one_vs_rest(lab, 3)).separable


def test_one_vs_rest_and_class_signs():
    C = one_vs_rest(np.array([0, 2, 1, 2]))
    assert C.shape == (4, 3) and np.all(C.sum(axis=1) == 1)
    assert one_vs_rest(np.array([0, 1]), m=4).shape == (2, 4)
    assert np.array_equal(class_signs(C[:, :1]), np.array([[1.0], [-1.0], [-1.0], [-1.0]]))


@pytest.mark.parametrize("call, err", [
    (lambda: linear_separability(np.zeros((3, 2)), np.array([1, 0, 1])), TypeError),
    (lambda: linear_separability(np.zeros((3, 2)), np.array([True, False])), ValueError),
    (lambda: linear_separability(np.array([[np.nan, 0.0]]), np.array([True])), ValueError),
    (lambda: linear_separability(np.zeros(3), np.array([True] * 3)), ValueError),
    (lambda: linear_separability(np.zeros((2, 2)), np.array([True, False]), box=0.0), ValueError),
    (lambda: linear_separability(np.zeros((2, 2)), np.array([True, False]), tol="a"), TypeError),
    (lambda: linear_separability("X", np.array([True])), TypeError),
    (lambda: one_vs_rest(np.array([0.5, 1.0])), TypeError),
    (lambda: one_vs_rest(np.array([-1, 0])), ValueError),
    (lambda: one_vs_rest(np.array([0, 3]), m=2), ValueError),
    (lambda: search_problem("m9", 0), ValueError),
    (lambda: search_task(("m2-L2", "other", 0)), ValueError),
])
def test_bad_input(call, err):
    with pytest.raises(err):
        call()


def test_identity_with_plus_minus_one_encoding():
    # 003, Section 5: with y = +1 on the true class and -1 elsewhere,
    # Phi = sum_ij max(0, 1 - y_ij f_Lj(x_i))^2
    rng = np.random.default_rng(1)
    X = rng.normal(size=(9, 2))
    C = one_vs_rest(rng.integers(0, 3, 9), 3)
    obj = _objective((2, 4, 3), X, C)
    for _ in range(5):
        th = 2 * rng.normal(size=obj.net.n_params)
        f = obj.net.forward(th, X).output
        Y = class_signs(C)
        assert obj.value(th) == pytest.approx(np.sum(np.maximum(0, 1 - Y * f) ** 2), rel=1e-13)


def test_report_at_a_trained_global_minimum():
    X, c = _blobs(1, 6)
    obj = _objective((2, 3, 2, 1), X, c)
    cp = find_critical_point(obj, np.random.default_rng(0).normal(size=obj.net.n_params),
                             method="BFGS")
    rep = theorem53_report(obj, cp.theta, 1)
    assert rep.grad_norm <= 1e-8 and rep.loss < 1e-12
    assert rep.separability.separable and set(rep.upper) == {3}
    assert rep.hypotheses == rep.upper[3].full_column_rank
    sep0 = feature_separability(obj, cp.theta, 0)
    assert sep0.separable and "k = 1" in str(rep)


def test_report_requires_a_class_objective():
    net = Network((2, 2, 1), "tanh")
    obj = Objective(net, np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError):
        theorem53_report(obj, np.zeros(net.n_params), 0)
    with pytest.raises(TypeError):
        theorem53_report("obj", np.zeros(net.n_params), 0)


@pytest.mark.parametrize("widths", [(2, 3, 3), (2, 4, 3, 3), (2, 3, 1), (2, 4, 3, 2, 1)])
def test_proof_quantities(widths):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(10, 2))
    m = widths[-1]
    C = (one_vs_rest(np.argmax(X @ rng.normal(size=(2, m)) + rng.normal(size=m), 1), m)
         if m > 1 else (X[:, 0] > 0)[:, None])
    obj = _objective(widths, X, C)
    th = rng.normal(size=obj.net.n_params)
    pq = proof_quantities(obj, th, 0)
    pm = paper_matrices(obj, th)
    L = obj.net.depth
    E = pm.E(0)
    # the step that works for every m: every diagonal entry is <= 0, also with
    # a positive diagonal D in between, and < 0 where Delta_L has a non-zero column
    for _ in range(5):
        D = rng.uniform(0.1, 2.0, 10)
        diag = np.diag(pq.H.T @ E.T @ (D[:, None] * pm.Delta[L]))
        nz = np.abs(pm.Delta[L]).max(axis=0) > 0
        assert np.all(diag <= 0) and np.all(diag[nz] < 0)
    assert np.allclose(pq.diagonal, np.diag(pq.M[L]))
    assert set(pq.M) == set(range(1, L + 1))
    assert pq.table.shape == (widths[1], widths[1])
    assert np.allclose(np.diag(pq.table), np.linalg.norm(pq.M[1], axis=0))
    with pytest.raises(ValueError):
        proof_quantities(obj, th, 0, H=np.zeros((2, m)))


def test_proof_quantities_without_upper_layer():
    X, c = _blobs(2, 4)
    obj = _objective((2, 1), X, c)
    pq = proof_quantities(obj, np.array([0.1, 0.2, 0.0]), 0)
    assert pq.table is None and set(pq.M) == {1}


def test_search_problem_is_separable_and_seeded():
    for config, (widths, K, _) in SEARCH_CONFIGS.items():
        obj, th0, Hs = search_problem(config, 4)
        assert obj.X.shape == (K, 2) and obj.net.widths == widths
        S = class_signs(obj.classes)
        E = np.hstack([obj.X, np.ones((K, 1))])
        assert np.all(S * (E @ Hs) >= 0.2)
        assert linear_separability(obj.X, obj.classes).separable
        obj2, th2, _ = search_problem(config, 4)
        assert np.array_equal(obj.X, obj2.X) and np.array_equal(th0, th2)


def test_critical_search_runs_and_reports():
    obj, th0, Hs = search_problem("m2-L2", 1)
    res = critical_search(obj, th0, 0, max_nfev=20)
    assert res.theta.shape == th0.shape and res.residual >= 0
    assert res.found == (res.residual <= 1e-10)
    assert res.grad_norm == pytest.approx(np.linalg.norm(obj.gradient(res.theta)))
    with pytest.raises(TypeError):
        critical_search(obj, th0, 0, cmax=1.0)
    with pytest.raises(ValueError):
        design_search(obj, th0, np.zeros((2, 2)))


def test_two_label_counterexample_contradicts_theorem_53():
    # the erratum of chapter N10: a critical point with separable inputs, W_2 of
    # full rank and positive loss (m = 2 classes, L = k + 2, k = 0)
    obj, th = two_label_counterexample()
    rep = theorem53_report(obj, th, 0, gtol=1e-12)
    assert rep.hypotheses and rep.loss > 18
    assert rep.separability.margin > 0.1 and rep.upper[2].singular_values[-1] > 0.25
    assert rep.kink_distance > 0.1                      # Phi is smooth near th
    ev = np.linalg.eigvalsh(obj.hessian(th))
    assert np.sum(ev < 0) == 4 and np.abs(ev).min() > 0.1
    pq = proof_quantities(obj, th, 0)
    assert np.all(pq.diagonal < -10)                      # Delta_L != 0
    assert np.all(np.diag(pq.table) < 1e-12) and pq.table[0, 1] > 1 and pq.table[1, 0] > 1
    assert not feature_separability(obj, th, 1).separable


def test_mp_gradient_matches_and_newton_refines():
    import mpmath
    obj, th = two_label_counterexample()
    rng = np.random.default_rng(0)
    t = rng.normal(size=th.size)
    g = np.array([float(v) for v in mp_gradient(obj, t, 40)])
    assert np.abs(g - obj.gradient(t)).max() < 1e-12 * max(1, np.abs(g).max())
    th_mp, norms = mp_newton_refine(obj, th, dps=50, steps=4)
    assert len(norms) == 5 and float(mpmath.log10(norms[-1])) < -40
    with pytest.raises(ValueError):
        mp_gradient(obj, t[:-1], 40)
    with pytest.raises(ValueError):
        mp_gradient(obj, t, 10)


def test_mp_gradient_with_output_activation_and_three_classes():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, 2))
    C = one_vs_rest(rng.integers(0, 3, 6), 3)
    net = Network((2, 3, 3), "sigmoid", output_activation="tanh")
    obj = Objective(net, X, class_signs(C), loss=HINGE, classes=C)
    t = rng.normal(size=net.n_params)
    g = np.array([float(v) for v in mp_gradient(obj, t, 40)])
    assert np.abs(g - obj.gradient(t)).max() < 1e-12 * max(1, np.abs(g).max())


def test_search_task_and_run_searches():
    r = search_task(("m2-L2", "fixed", 0))
    assert set(r) == {"found", "loss", "grad_norm", "residual", "X", "theta", "seconds"}
    assert r["X"].shape == (12, 2) and r["theta"].shape == (12,)
    a = run_searches(1, configs=["m2-L2"], modes=("fixed",), progress=False)
    assert a["m2-L2/fixed/residual"].shape == (1,)
    assert a["m2-L2/fixed/residual"][0] == pytest.approx(r["residual"], rel=1e-6)
    obj, th0, Hs = search_problem("m2-L2", 0)
    res = design_search(obj, th0, Hs, max_nfev=5)
    assert res.X.shape == obj.X.shape and res.residual > 0


def test_cached_searches_hold_verified_hits():
    cache = load_searches(60)
    A = cache.arrays
    hits = np.flatnonzero(A["m2-L2/design/found"])
    assert hits.size >= 1
    for config in SEARCH_CONFIGS:
        for mode in ("fixed", "design"):
            assert A[f"{config}/{mode}/found"].shape == (60,)
    s = hits[0]
    obj0, _, _ = search_problem("m2-L2", s)
    obj = Objective(obj0.net, A["m2-L2/design/X"][s], obj0.Y, loss=HINGE, classes=obj0.classes)
    rep = theorem53_report(obj, A["m2-L2/design/theta"][s], 0, gtol=1e-9)
    assert rep.hypotheses and rep.loss > 1


def test_two_label_counterexample_with_tanh_output():
    # one sigma on every layer, as in 003, with targets +-1/2
    obj, th = two_label_counterexample(tanh_output=True)
    assert obj.net.output_activation is not None
    rep = theorem53_report(obj, th, 0, gtol=1e-12)
    assert rep.hypotheses and rep.loss > 4.5 and rep.kink_distance > 0.05
    fit = np.zeros(12)
    fit[obj.net.weight_slice(1)] = [10, 0, 0, 10]
    fit[obj.net.weight_slice(2)] = [10, 0, 0, 10]
    assert obj.value(fit) == 0
    ev = np.linalg.eigvalsh(obj.hessian(th))
    assert np.sum(ev < 0) == 4 and np.abs(ev).min() > 0.01
    with pytest.raises(TypeError):
        two_label_counterexample(tanh_output=1)
