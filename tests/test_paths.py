"""The non-increasing path to a global minimum (000 Theorem 3, Lemmas 2-6; 001 Theorem 5, Lemmas 16-20)."""
import mpmath
import numpy as np
import pytest

from lossland import Network, SquaredLoss, get_activation
from lossland.landscape import loss_roundoff_bound
from lossland.nonattracting.paths import (INVERSES, Path, Segment, SpanningPoint, activation_vectors, check_path,
                                          invertible_rows, lemma2_spanning_point, lemma3_realizer, lemma5_paths,
                                          lemma6_paths, lemma19_step, sigma_inverse,
                                          shade_segments, sigma_inverse_increment, theorem3_path, theorem5_path)

SIG, TANH = get_activation("sigmoid"), get_activation("tanh")
TS = np.linspace(0.0, 1.0, 41)


def problem(widths, activation="sigmoid", biases=True, n_samples=6, seed=0, positive_output=True):
    rng = np.random.default_rng(seed)
    net = Network(widths, activation, biases=biases)
    X = rng.uniform(-1.0, 1.0, (n_samples, widths[0]))
    y = rng.standard_normal(n_samples)
    theta = net.init_params(rng, 1.5)
    if positive_output:
        s = net.weight_slice(net.depth)
        theta[s] = np.abs(theta[s])
    return net, theta, X, y


# ---------------------------------------------------------------- Lemma 4 / 18
@pytest.mark.parametrize("act", [SIG, TANH])
def test_sigma_inverse_round_trip(act):
    n = np.linspace(-8, 8, 33)
    assert np.allclose(sigma_inverse(act, act(n)), n, rtol=0, atol=1e-9)
    a = np.linspace(act.image[0], act.image[1], 23)[1:-1]
    assert np.allclose(act(sigma_inverse(act, a)), a, rtol=0, atol=1e-15)


@pytest.mark.parametrize("act", [SIG, TANH])
def test_sigma_inverse_rejects_values_outside_the_open_image(act):
    for bad in (act.image[0], act.image[1], act.image[1] + 0.5, np.nan):
        with pytest.raises(ValueError, match="open image"):
            sigma_inverse(act, np.array([0.0 if act.name == "tanh" else 0.5, bad]))


def test_sigma_inverse_only_for_class_A_activations_with_a_registered_inverse():
    assert set(INVERSES) == {"sigmoid", "tanh"}
    with pytest.raises(ValueError, match="class A"):
        sigma_inverse(get_activation("softplus"), 1.0)
    with pytest.raises(TypeError, match="activation"):
        sigma_inverse("sigmoid", 0.5)


@pytest.mark.parametrize("act", [SIG, TANH])
def test_sigma_inverse_increment_matches_high_precision(act):
    mpmath.mp.dps = 50
    f = (lambda t: 1 / (1 + mpmath.exp(-t))) if act.name == "sigmoid" else mpmath.tanh
    inv = (lambda a: mpmath.log(a / (1 - a))) if act.name == "sigmoid" else mpmath.atanh
    rng = np.random.default_rng(1)
    n0 = np.array([-30.0, -12.0, -1.0, 0.0, 2.0, 15.0, 30.0])
    for n in n0:
        lo, hi = (f(n) - act.image[0], act.image[1] - f(n))
        for frac in (-0.9, -0.3, 1e-3, 0.5, 0.9):
            delta = float(frac * (hi if frac > 0 else lo)) * rng.uniform(0.9, 1.0)
            exact = inv(f(n) + mpmath.mpf(delta)) - n
            got = sigma_inverse_increment(act, np.array(n), np.array(delta))
            assert abs(float(got) - float(exact)) <= 1e-12 * max(1.0, abs(float(exact)))
    assert np.all(sigma_inverse_increment(act, n0, np.zeros_like(n0)) == 0.0)     # exactly zero
    with pytest.raises(ValueError, match="out of the open image"):
        sigma_inverse_increment(act, np.array(0.0), np.array(5.0))


def test_activation_vectors_are_the_transposed_activations():
    net, theta, X, y = problem((2, 5, 3, 1))
    fw = net.forward(theta, X)
    for l in (0, 1, 2):
        A = activation_vectors(SquaredLoss(net, X, y), theta, l)
        assert A.shape == (net.widths[l], X.shape[0]) and np.array_equal(A, fw.act[l].T)


# ---------------------------------------------------------------- Lemma 2 / 16
def test_lemma2_perturbs_a_rank_deficient_wide_layer_into_a_spanning_one():
    net, theta, X, y = problem((2, 8, 2, 1), n_samples=6)
    obj = SquaredLoss(net, X, y)
    W, b = net.unflatten(theta)
    W[1][:] = W[1][0]                                   # eight copies of one neuron: rank 1
    b[1][:] = b[1][0]
    theta = net.flatten(W, b)
    assert np.linalg.matrix_rank(activation_vectors(obj, theta, 1)) == 1
    sp = lemma2_spanning_point(obj, theta, 1, eps=0.5, rng=3)
    assert isinstance(sp, SpanningPoint) and sp.tries >= 1
    assert 0 < sp.perturbation < 0.5
    assert sp.relative_margin > 1e-10 and sp.sigma_min > 0
    s = np.linalg.svd(activation_vectors(obj, sp.theta, 1), compute_uv=False)
    assert np.isclose(s[5], sp.sigma_min, rtol=1e-12)
    moved = np.flatnonzero(sp.theta != theta)           # only layers up to the wide layer move
    assert set(moved) <= set(range(net.weight_slice(2).start))


def test_lemma2_keeps_a_spanning_point_and_checks_the_width():
    net, theta, X, y = problem((2, 8, 2, 1))
    obj = SquaredLoss(net, X, y)
    sp = lemma2_spanning_point(obj, theta, 1, eps=0.1, rng=0)
    assert sp.perturbation == 0.0 and np.array_equal(sp.theta, theta)
    forced = lemma2_spanning_point(obj, theta, 1, eps=0.1, rng=0, force=True)
    assert 0 < forced.perturbation < 0.1
    with pytest.raises(ValueError, match="fewer than the N"):
        lemma2_spanning_point(obj, theta, 2, eps=0.1, rng=0)
    with pytest.raises(ValueError, match="eps"):
        lemma2_spanning_point(obj, theta, 1, eps=0.0, rng=0)


def test_lemma16_iii_repairs_a_rank_deficient_weight_after_the_wide_layer():
    net, theta, X, y = problem((2, 8, 3, 2, 1))
    obj = SquaredLoss(net, X, y)
    W, b = net.unflatten(theta)
    W[3][1] = W[3][0]                                   # w^3 (2 x 3) of rank 1
    theta = net.flatten(W, b)
    sp = lemma2_spanning_point(obj, theta, 1, eps=0.2, rng=0, full_rank_weights=True)
    assert sp.weight_margins[3] > 1e-10 and sp.perturbation > 0
    assert np.linalg.matrix_rank(net.unflatten(sp.theta)[0][3]) == 2


# ---------------------------------------------------------------- Lemma 3 / 17
def test_invertible_rows_choose_an_invertible_submatrix():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((9, 6))
    rows = invertible_rows(A)
    assert rows.shape == (6,) and np.linalg.cond(A[rows]) < 1e6
    with pytest.raises(ValueError, match="rank"):
        invertible_rows(np.outer(np.ones(9), rng.standard_normal(6)))
    with pytest.raises(ValueError, match="at least as many rows"):
        invertible_rows(A.T)


def test_lemma3_realizes_any_preactivation_change():
    net, theta, X, y = problem((2, 9, 3, 1), n_samples=7)
    A = activation_vectors(SquaredLoss(net, X, y), theta, 1)
    W, _ = net.unflatten(theta)
    realize = lemma3_realizer(A, W[2])
    assert np.array_equal(realize(np.zeros((3, 7))), W[2])
    nt = np.random.default_rng(2).standard_normal((3, 7))
    Wt = realize(nt)
    assert np.allclose(Wt @ A, W[2] @ A + nt, rtol=0, atol=1e-12 * np.abs(Wt).max())
    untouched = np.setdiff1d(np.arange(9), realize.rows)    # zero columns of Gamma-tilde
    assert untouched.size == 2 and np.array_equal(Wt[:, untouched], W[2][:, untouched])
    with pytest.raises(ValueError, match="nu_tilde"):
        realize(np.zeros((2, 7)))


# ---------------------------------------------------------------- Lemma 5
def _check_lemma5(r, lam, image):
    path = lemma5_paths(r, lam)
    z = lam @ r
    r0, l0 = path(0.0)
    assert np.array_equal(r0, r) and np.array_equal(l0, lam)
    for t in TS:
        rt, lt = path(float(t))
        assert np.allclose(lt @ rt, z, rtol=0, atol=1e-13 * (np.abs(lt) @ np.abs(rt)).max())
        assert np.all(rt > image[0]) and np.all(rt < image[1])
    r1, l1 = path(1.0)
    assert l1.max() > 0 > l1.min()
    a, b = path(0.5 - 1e-9), path(0.5 + 1e-9)                  # continuous at t = 1/2
    assert np.allclose(a[0], b[0], atol=1e-7) and np.allclose(a[1], b[1], atol=1e-7)
    return path


def test_lemma5_two_positive_coefficients_follow_the_printed_formulas():
    rng = np.random.default_rng(0)
    r = rng.uniform(0.05, 0.95, (3, 6))
    lam = np.array([0.7, 2.0, 0.0])
    path = _check_lemma5(r, lam, (0, 1))
    assert path.pair == (1, 0)                          # the two largest |lambda_j|
    _, l1 = path(1.0)
    assert np.allclose(l1, [-0.7, 2.0 + 2 * 0.7, 0.0])   # lambda_1 + 2 lambda_2 and -lambda_2


def test_lemma5_negative_one_nonzero_and_all_zero_cases():
    rng = np.random.default_rng(1)
    r = rng.uniform(0.05, 0.95, (3, 5))
    _check_lemma5(r, np.array([-1.0, -0.5, -2.0]), (0, 1))
    path = _check_lemma5(r, np.array([0.0, 1.5, 0.0]), (0, 1))
    rt, lt = path(1.0)
    assert np.array_equal(rt[path.pair[1]], rt[path.pair[0]]) and np.allclose(lt[[1, 0]], [3.0, -1.5])
    _check_lemma5(r, np.zeros(3), (0, 1))


def test_lemma5_rejects_mixed_signs_and_a_single_vector():
    r = np.full((2, 4), 0.5)
    with pytest.raises(ValueError, match="both signs"):
        lemma5_paths(r, np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="n >= 2"):
        lemma5_paths(r[:1], np.array([1.0]))


# ---------------------------------------------------------------- Lemma 6
@pytest.mark.parametrize("act", [SIG, TANH])
def test_lemma6_shrinks_at_constant_output_then_reaches_y(act):
    rng = np.random.default_rng(4)
    N = 7
    a = act(rng.normal(0, 2.5, (4, N)))
    w = np.array([1.3, -0.4, 0.0, 2.2])                 # J_0 = {2}: left alone
    bias, y = 0.3, rng.normal(0, 3, N)
    z = bias + w @ a
    plan, g2, g3 = lemma6_paths(a, w, y - z, act.image)
    assert plan.variant == ("split" if act.name == "sigmoid" else "plain")
    assert list(plan.J_zero) == [2] and 2 not in plan.J_plus      # J_+ uses w > 0, not >= 0
    assert np.all(np.isfinite(plan.increment)) and not plan.increment[2].any()
    assert np.all(plan.shrink > 0) and np.all(plan.shrink <= 1) and plan.shrink.min() < 1
    for t in TS:
        a2, w2 = g2(float(t))
        a3, w3 = g3(float(t))
        assert np.allclose(bias + w2 @ a2, z, atol=1e-12)
        assert np.allclose(bias + w3 @ a3, z + t * (y - z), atol=1e-12)
        assert np.all((a2 > act.image[0]) & (a2 < act.image[1]))
        assert np.all((a3 > act.image[0]) & (a3 < act.image[1]))
        assert np.allclose(w3, g2(1.0)[1])
    assert np.allclose(g3(0.0)[0], g2(1.0)[0])


def test_lemma6_split_variant_needs_both_signs():
    a = np.full((2, 3), 0.5)
    with pytest.raises(ValueError, match="both signs"):
        lemma6_paths(a, np.array([1.0, 2.0]), np.ones(3), (0.0, 1.0))
    with pytest.raises(ValueError, match="plain"):
        lemma6_paths(a, np.array([1.0, -2.0]), np.ones(3), (0.0, 1.0), variant="plain")


# ---------------------------------------------------------------- Lemma 19
@pytest.mark.parametrize("act", [SIG, TANH])
def test_lemma19_step_realizes_the_next_preactivations(act):
    rng = np.random.default_rng(5)
    a_l = act(rng.normal(0, 2, (4, 6)))
    W, b = rng.standard_normal((2, 4)), rng.standard_normal(2)
    a0, W0, b0, lam0, d0 = lemma19_step(a_l, W, b, np.zeros((2, 6)), act.image)
    assert lam0 == 1.0 and not d0.any() and np.array_equal(a0, a_l) and np.array_equal(W0, W)
    for scale in (0.1, 3.0, 30.0):
        nt = scale * rng.standard_normal((2, 6))
        a_t, W_t, b_t, lam, delta = lemma19_step(a_l, W, b, nt, act.image)
        assert np.allclose(W_t @ a_t + b_t[:, None], W @ a_l + b[:, None] + nt, atol=1e-12 * scale)
        assert np.all((a_t > act.image[0]) & (a_t < act.image[1])) and lam >= 1
        if act.name == "tanh":
            assert not delta.any()                      # 0 inside the image: scaling suffices
    with pytest.raises(ValueError, match="n_\\(l\\+1\\) <= n_l"):
        lemma19_step(a_l, rng.standard_normal((5, 4)), np.zeros(5), np.zeros((5, 6)), act.image)
    with pytest.raises(ValueError, match="a_l must be"):
        lemma19_step(a_l[:3], W, b, nt, act.image)


# ---------------------------------------------------------------- drivers
@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_theorem3_path_is_non_increasing_and_ends_at_zero_loss(act):
    net, theta, X, y = problem((1, 8, 2, 1), act, n_samples=6, seed=2)
    path = theorem3_path(SquaredLoss(net, X, y), theta, eps=0.1, rng=0)
    names = [s.name for s in path.segments]
    assert names[-1] == "Lemma 6, Γ₃"
    assert ("Lemma 5" in names) == (act == "sigmoid")   # one sign of w^L matters only when 0 = c
    for s0, s1 in zip(path.segments, path.segments[1:]):
        assert np.array_equal(s0.theta(1.0), s1.theta(0.0))
    assert np.array_equal(path(0.0), path.start) and np.array_equal(path(1.0), path.end)
    chk = check_path(path, n_per_segment=300, refine=5, depth=3)
    assert chk.non_increasing and chk.max_ratio <= 1
    assert chk.final_loss <= 1e-20 * chk.start_loss
    assert chk.activation_error <= 1e-10
    for seg in chk.segments:
        assert seg["deviation_ratio"] <= 1
    W0, b0 = net.unflatten(path.start)
    for t in (0.3, 0.7, 1.0):                           # only w^{L-1} and w^L move
        W, b = net.unflatten(path(t))
        assert np.array_equal(W[1], W0[1]) and np.array_equal(b[1], b0[1])
        assert np.array_equal(b[2], b0[2]) and np.array_equal(b[3], b0[3])


def test_theorem5_path_follows_one_minus_s_squared():
    net, theta, X, y = problem((2, 7, 3, 2, 1), n_samples=6, seed=3)
    path = theorem5_path(SquaredLoss(net, X, y), theta, eps=0.1, rng=0)
    assert path.n_segments == 1 and path.segments[0].kind == "decreasing"
    chk = check_path(path, n_per_segment=400)
    assert chk.max_increase == 0.0 or chk.max_ratio <= 1
    assert chk.segments[0]["deviation_ratio"] <= 1
    assert chk.final_loss <= 1e-20 * chk.start_loss and chk.activation_error <= 1e-10
    mid = SquaredLoss(net, X, y).value(path(0.5))
    assert np.isclose(mid, 0.25 * chk.start_loss, rtol=1e-9)     # (1 - t)^2, not (1 - t)
    W0, b0 = net.unflatten(path.start)
    W, b = net.unflatten(path(0.6))
    assert np.array_equal(W[1], W0[1]) and np.array_equal(b[1], b0[1])   # up to the wide layer: fixed


def test_path_and_check_use_the_objective_normalisation():
    net, theta, X, y = problem((2, 7, 3, 2, 1), n_samples=6, seed=3)
    p_sum = theorem5_path(SquaredLoss(net, X, y), theta)
    p_half = theorem5_path(SquaredLoss(net, X, y, "half"), theta)
    assert p_half.net is net and p_half.X is p_half.objective.X and p_half.objective.normalization == "half"
    assert np.array_equal(p_sum(0.4), p_half(0.4))                      # the path does not depend on c
    c_sum, c_half = check_path(p_sum, n_per_segment=20), check_path(p_half, n_per_segment=20)
    r = net(p_sum(0.0), X) - y
    assert c_sum.start_loss == pytest.approx(r @ r, rel=1e-14)
    assert c_half.start_loss == pytest.approx(0.5 * (r @ r), rel=1e-14)


def test_theorem5_path_covers_a_last_hidden_layer_of_one_neuron():
    net, theta, X, y = problem((2, 8, 1, 1), n_samples=6, seed=4)
    with pytest.raises(ValueError, match="Lemma 5 of 000 needs n_\\(L-1\\) >= 2"):
        theorem3_path(SquaredLoss(net, X, y), theta)
    chk = check_path(theorem5_path(SquaredLoss(net, X, y), theta), n_per_segment=200)
    assert chk.non_increasing and chk.final_loss <= 1e-20 * chk.start_loss


def test_drivers_reject_networks_outside_the_theorems():
    net, theta, X, y = problem((2, 8, 1), n_samples=6)
    with pytest.raises(ValueError, match="two hidden layers"):
        theorem3_path(SquaredLoss(net, X, y), theta)
    net, theta, X, y = problem((2, 4, 2, 1), n_samples=6)
    with pytest.raises(ValueError, match="fewer than"):
        theorem3_path(SquaredLoss(net, X, y), theta)
    with pytest.raises(ValueError, match="no hidden layer"):
        theorem5_path(SquaredLoss(net, X, y), theta)
    net, theta, X, y = problem((2, 8, 2, 3, 1), n_samples=6)
    with pytest.raises(ValueError, match="non-increasing"):
        theorem5_path(SquaredLoss(net, X, y), theta, wide_layer=1)
    net, theta, X, y = problem((2, 8, 2, 1), biases=False, n_samples=6)
    with pytest.raises(ValueError, match="no biases"):
        theorem5_path(SquaredLoss(net, X, y), theta)
    net, theta, X, y = problem((2, 8, 2, 1), "softplus", n_samples=6)
    with pytest.raises(ValueError, match="class A"):
        theorem3_path(SquaredLoss(net, X, y), theta)
    with pytest.raises(TypeError, match="objective"):
        theorem3_path(net, theta)
    with pytest.raises(TypeError, match="objective"):
        theorem5_path(net, theta)
    with pytest.raises(TypeError, match="objective"):
        lemma2_spanning_point(net, theta, 1, eps=0.1, rng=0)


# ---------------------------------------------------------------- checking
def _forward_longdouble(net, theta, X):
    W, b = net.unflatten(theta)
    a = X.astype(np.longdouble)
    for l in range(1, net.depth + 1):
        z = a @ W[l].T.astype(np.longdouble) + b[l].astype(np.longdouble)
        a = 1 / (1 + np.exp(-z)) if l < net.depth else z
    return a[:, 0]


def test_roundoff_bound_covers_the_difference_to_extended_precision():
    if np.finfo(np.longdouble).eps >= np.finfo(float).eps:
        pytest.skip("no extended precision on this platform")
    for seed in range(5):
        net, theta, X, y = problem((2, 9, 3, 1), n_samples=7, seed=seed)
        theta = theta * 4.0
        obj = SquaredLoss(net, X, y)
        r = _forward_longdouble(net, theta, X) - y.astype(np.longdouble)
        exact = float(np.sum(r * r))
        assert abs(obj.value(theta) - exact) <= loss_roundoff_bound(obj, theta)
        assert loss_roundoff_bound(obj, theta) <= 1e-10 * obj.value(theta)


def test_check_path_detects_an_increase():
    net, theta, X, y = problem((1, 8, 2, 1), n_samples=6)
    obj = SquaredLoss(net, X, y)
    g = obj.gradient(theta)
    up = Segment("uphill", "test", "constant", lambda s: theta + 1e-3 * s * g,
                 lambda s: net(theta, X), lambda s: {})
    path = theorem3_path(SquaredLoss(net, X, y), theta)
    bad = Path(obj, [up], path.spanning, theta, "test")
    chk = check_path(bad, n_per_segment=50)
    assert not chk.non_increasing and chk.max_increase > 1e-6 and chk.max_ratio > 1e3
    assert np.isclose(chk.worst_t, 1.0)
    with pytest.raises(TypeError, match="path"):
        check_path("path")


def _path_and_axes():
    """A Theorem 3 path of a 1-8-2-1 network and empty axes to shade it on."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    net, theta, X, y = problem((1, 8, 2, 1), n_samples=6, seed=2)
    path = theorem3_path(SquaredLoss(net, X, y), theta)
    fig, ax = plt.subplots()
    return plt, fig, ax, path


def test_shade_segments_marks_every_segment():
    plt, fig, ax, path = _path_and_axes()
    shade_segments(ax, path)
    assert len(ax.patches) == path.n_segments
    assert [t.get_text() for t in ax.texts] == [s.name for s in path.segments]
    shade_segments(ax, path, labels=False)
    assert len(ax.texts) == path.n_segments
    with pytest.raises(TypeError, match="path"):
        shade_segments(ax, "path")
    plt.close(fig)


def test_shade_segments_names_readable_sized_and_wrapped_on_request():
    plt, fig, ax, path = _path_and_axes()
    shade_segments(ax, path)
    assert {t.get_fontsize() for t in ax.texts} == {9.0}     # the book's minimum
    shade_segments(ax, path, fontsize=11)
    assert [t.get_fontsize() for t in ax.texts[path.n_segments:]] == [11.0] * path.n_segments
    shade_segments(ax, path, wrap=True)
    wrapped = [t.get_text() for t in ax.texts[2 * path.n_segments:]]
    assert wrapped == [s.name.replace(", ", ",\n") for s in path.segments]
    assert any("\n" in w for w in wrapped)          # "Lemma 6,\nΓ₂" and "Lemma 6,\nΓ₃"
    with pytest.raises(ValueError, match="fontsize"):
        shade_segments(ax, path, fontsize=0)
    with pytest.raises(TypeError, match="wrap"):
        shade_segments(ax, path, wrap="yes")
    with pytest.raises(TypeError, match="fontsize"):
        shade_segments(ax, path, fontsize="large")
    plt.close(fig)
