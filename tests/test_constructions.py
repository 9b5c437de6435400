"""The Fukumizu-Amari base case and its repeated embeddings (000 Section V-B, 001 Section 5.2)."""
import numpy as np
import pytest
from scipy.linalg import subspace_angles

from lossland import Network, SquaredLoss
from lossland.embedding import (B_matrix, check_embedded_point, degenerate_direction, descent_direction,
                                hessian_kernel, lambda_tangents, redistribution_directions)
from lossland.nonattracting.constructions import (BOOK_EXAMPLE, BaseCase, copy_weights, fa_teacher_data,
                                                  fukumizu_amari_base_case, fukumizu_amari_example,
                                                  wide_embedding)


@pytest.fixture(scope="module")
def base():
    return fukumizu_amari_example()


@pytest.fixture(scope="module")
def base_negative():
    # the first data seed whose strict minimum has B < 0 (the other branch of Theorem 5 / 8)
    # and a loss above 1% of the total variance of y
    for seed in range(30):
        try:
            b = fukumizu_amari_example(data_seed=seed, require_B="negative", seeds=range(5))
        except ValueError:
            continue
        if b.loss > 1e-2 * np.sum((b.y - b.y.mean()) ** 2):
            return b
    pytest.fail("no data seed in 0..29 gave B < 0")


def test_teacher_fits_the_data_exactly():
    teacher, theta, X, y = fa_teacher_data()
    assert teacher.widths == (1, 2, 1)
    assert SquaredLoss(teacher, X, y).value(theta) == 0.0
    assert X.shape == (BOOK_EXAMPLE["n_samples"], 1)


def test_base_case_is_a_strict_suboptimal_minimum(base):
    obj = base.objective
    g = np.linalg.norm(obj.gradient(base.theta))
    ev = np.linalg.eigvalsh(obj.hessian(base.theta))
    assert g <= 1e-10
    assert ev[0] > 1e-6 * ev[-1]                      # positive definite with a wide margin
    assert base.hessian.positive_definite
    assert base.loss > 1e-3 * np.sum((base.y - base.y.mean()) ** 2)   # far from the teacher's 0
    assert base.net.widths == (1, 1, 1)
    # B is recomputed independently from eq. (1) of 000 / Theorem 5
    u, v = base.theta
    z = u * base.X[:, 0]
    s = 1 / (1 + np.exp(-z))
    res = v * s - base.y
    B = np.sum(res * v * s * (1 - s) * (1 - 2 * s) * base.X[:, 0] ** 2)
    assert np.isclose(B, base.B[0, 0], rtol=1e-10, atol=0)
    assert base.B_sign == np.sign(B) != 0


def test_search_is_deterministic_and_reports_the_seed(base):
    again = fukumizu_amari_example()
    assert again.seed == base.seed
    assert np.array_equal(again.theta, base.theta)
    # a start list without the accepted seed either finds another start or raises
    with pytest.raises(ValueError, match="no seed"):
        fukumizu_amari_base_case(base.objective, seeds=[base.seed], require_B="negative" if base.B_sign > 0
                                 else "positive")


@pytest.mark.parametrize("times", [1, 3, 6])
def test_embeddings_preserve_the_function_and_copy_weights(base, times):
    lam = 0.3
    net, theta = wide_embedding(base, lam, times)
    assert net.widths == (1, times + 1, 1)
    assert np.allclose(net(theta, base.X), base.net(base.theta, base.X), rtol=0, atol=1e-14)
    W, _ = net.unflatten(theta)
    assert np.all(W[1] == base.theta[0])              # Remark 2 / 14: identical incoming weights
    assert np.allclose(W[2][0], copy_weights(base.theta[1], [lam] * times), rtol=1e-14, atol=0)
    assert np.isclose(W[2].sum(), base.theta[1], rtol=1e-14)


@pytest.mark.parametrize("times", [1, 2, 5])
def test_kernel_is_exactly_the_redistribution_space(base, times):
    lam = 0.3
    net, theta = wide_embedding(base, lam, times)
    obj = SquaredLoss(net, base.X, base.y)
    pred = redistribution_directions(net, 1, 0, range(1, times + 1))
    chk = check_embedded_point(obj, theta, pred)
    assert chk.grad_norm <= 1e-10
    assert chk.kernel.dim == times                    # no u / w_bar direction joins the kernel
    assert chk.positive_semidefinite
    assert chk.angle <= 1e-8
    assert chk.kernel.gap > 1e3
    # the lambda-tangents (built from embedding.degenerate_direction) span the same space
    tang = lambda_tangents(base.net, base.theta, 1, 0, [lam] * times)
    assert tang.shape == (times, net.n_params)
    assert subspace_angles(tang.T, pred.T).max() <= 1e-10
    assert np.allclose(tang[-1], degenerate_direction(*wide_embedding(base, lam, times - 1), 1, 0))
    # the loss is constant along every kernel direction, far beyond the quadratic range
    for d in chk.kernel.basis.T:
        vals = [obj.value(theta + t * d) for t in np.linspace(-1, 1, 5)]
        assert np.ptp(vals) <= 1e-12 * base.loss


def test_B_scales_with_one_minus_lambda_power(base):
    lam = 0.3
    for times in range(4):
        net, theta = wide_embedding(base, lam, times)
        B = B_matrix(SquaredLoss(net, base.X, base.y), theta, 1, 0)
        assert np.allclose(B, (1 - lam) ** times * base.B, rtol=1e-12, atol=0)


def test_lambda_outside_gives_a_saddle_with_descent(base):
    lam = 1.5 if base.B_sign > 0 else 0.5
    net, theta = wide_embedding(base, lam, 1)
    obj = SquaredLoss(net, base.X, base.y)
    chk = check_embedded_point(obj, theta, redistribution_directions(net, 1, 0, [1]))
    assert chk.n_negative == 1 and chk.kernel.dim == 1
    d, curv = descent_direction(SquaredLoss(base.net, base.X, base.y), base.theta, 1, 0, lam)
    assert curv < 0
    assert np.isclose(d @ obj.hessian(theta) @ d, curv, rtol=1e-8)
    L0 = obj.value(theta)
    assert all(obj.value(theta + t * d) < L0 for t in (1e-3, 1e-2, -1e-2))


def test_negative_B_swaps_the_intervals(base_negative):
    b = base_negative
    assert b.B_sign == -1
    for lam, is_min in ((1.5, True), (-0.5, True), (0.5, False)):
        net, theta = wide_embedding(b, lam, 1)
        chk = check_embedded_point(SquaredLoss(net, b.X, b.y), theta, redistribution_directions(net, 1, 0, [1]))
        assert chk.positive_semidefinite == is_min
        assert chk.kernel.dim == 1


def test_hessian_kernel_of_a_strict_minimum_is_empty(base):
    k = hessian_kernel(base.objective, base.theta)
    assert k.dim == 0 and k.basis.shape == (2, 0) and k.gap > 1e6


def test_copy_weights_sum():
    w = copy_weights(2.0, [0.2, 0.5, -0.3])
    assert np.isclose(w.sum(), 2.0)
    assert np.allclose(w, [2 * 0.8 * 0.5 * 1.3, 0.4, 0.8, 2 * 0.8 * 0.5 * -0.3])


def test_bad_input(base):
    with pytest.raises(TypeError, match="n_samples"):
        fa_teacher_data(2.5)
    with pytest.raises(ValueError, match="n_samples"):
        fa_teacher_data(0)
    with pytest.raises(ValueError, match="weight_scale"):
        fa_teacher_data(weight_scale=-1.0)
    with pytest.raises(ValueError, match="require_B"):
        fukumizu_amari_base_case(base.objective, require_B="psd")
    with pytest.raises(ValueError, match="seeds"):
        fukumizu_amari_base_case(base.objective, seeds=[])
    with pytest.raises(ValueError, match="seeds"):
        fukumizu_amari_base_case(base.objective, seeds=[-1])
    with pytest.raises(TypeError, match="objective"):
        fukumizu_amari_base_case(base.net)
    with pytest.raises(ValueError, match="1-1-1"):
        fukumizu_amari_base_case(SquaredLoss(Network((1, 2, 1)), base.X, base.y))
    with pytest.raises(TypeError, match="base"):
        wide_embedding("not a base case", 0.5, 1)
    with pytest.raises(ValueError, match="times"):
        wide_embedding(base, 0.5, -1)
    with pytest.raises(TypeError, match="lam"):
        wide_embedding(base, "half", 1)
    net, _ = wide_embedding(base, 0.5, 2)
    with pytest.raises(ValueError, match="copies"):
        redistribution_directions(net, 1, 0, [0, 1])
    with pytest.raises(ValueError, match="copies"):
        redistribution_directions(net, 1, 0, [5])
    with pytest.raises(ValueError, match="layer"):
        redistribution_directions(net, 2, 0, [1])
    with pytest.raises(ValueError, match="lambdas"):
        lambda_tangents(base.net, base.theta, 1, 0, [])
    with pytest.raises(TypeError, match="objective"):
        hessian_kernel(base.net, base.theta)
    with pytest.raises(ValueError, match="rtol"):
        hessian_kernel(base.objective, base.theta, rtol=-1.0)
    with pytest.raises(ValueError, match="predicted"):
        check_embedded_point(base.objective, base.theta, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="independent"):
        check_embedded_point(base.objective, base.theta, np.ones((2, 2)))
    with pytest.raises(TypeError, match="v_star"):
        copy_weights(None, [0.5])
    assert isinstance(base, BaseCase)
    assert Network((1, 1, 1), "sigmoid", biases=False) == base.net


def test_base_case_keeps_the_objective_and_its_normalisation():
    half = fukumizu_amari_example(normalization="half")
    full = fukumizu_amari_example()
    assert half.normalization == "half" and half.objective.c == 0.5
    assert np.array_equal(half.X, full.X) and np.array_equal(half.y, full.y)
    # the minimiser does not depend on the factor c; the loss and B scale with it
    assert np.allclose(half.theta, full.theta, atol=1e-8)
    assert np.isclose(half.loss, full.loss / 2, rtol=1e-10)
    assert half.net is half.objective.net and half.net.widths == (1, 1, 1)
