"""The activation registry: numpy sigma, sigma', sigma'' against sympy, images, class A."""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from lossland import ACTIVATIONS, SMOOTH_ACTIVATIONS, get_activation
from lossland.activations import Activation

EPS = np.finfo(float).eps
X = get_activation("tanh").symbol

# moderate points, the saturated range around +-30 and the far tails
GRID = np.concatenate([
    np.linspace(-6.0, 6.0, 49),
    [-700.0, -300.0, -100.0, -40.0, -35.0, -30.0, -25.0, -20.0, -12.5, -9.0,
     9.0, 12.5, 20.0, 25.0, 30.0, 35.0, 40.0, 100.0, 300.0, 700.0],
])
GRID_NONZERO = GRID[GRID != 0.0]

EXPECTED = {
    # name: (bounded, in_class_A, increasing, smooth)
    "sigmoid": (True, True, True, True),
    "tanh": (True, True, True, True),
    "softplus": (False, False, True, True),
    "silu": (False, False, False, True),
    "swish": (False, False, False, True),
    "gelu": (False, False, False, True),
    "mish": (False, False, False, True),
    "relu": (False, False, False, False),
    "identity": (False, False, True, True),
    "exp": (False, False, True, True),
    "sin": (True, False, False, True),
}


def exact_values(act: Activation, xs, order, dps=400):
    """sigma^(order)(x) from the sympy expression, evaluated with mpmath at ``dps`` digits.

    400 digits keep 1 + e^{-700} distinguishable from 1, so the reference is
    exact to double precision even in the far tails.
    """
    expr = act.derivative_exprs()[order]
    fn = sp.lambdify(act.symbol, expr, modules="mpmath")
    with mpmath.workdps(dps):
        return np.array([float(fn(mpmath.mpf(float(x)))) for x in xs])


def numeric(act, order, xs):
    return (act.f, act.d1, act.d2)[order](np.asarray(xs, dtype=float))


def assert_close_to_exact(num, exact, xs, scale=1.0, rtol=1e-13):
    """|num - exact| <= rtol |exact| + 16 eps scale max(1, |x|).

    The absolute term is the round-off of formulas such as s (1 - s) with
    s = sigmoid(x) close to 1 (error eps) multiplied by factors up to |x|.
    """
    xs = np.asarray(xs, dtype=float)
    err = np.abs(num - exact)
    bound = rtol * np.abs(exact) + 16 * EPS * scale * np.maximum(1.0, np.abs(xs))
    bad = err > bound
    assert not bad.any(), (f"mismatch at x = {xs[bad][:5]}: numpy {num[bad][:5]}, "
                           f"sympy {exact[bad][:5]}, error {err[bad][:5]}")


# ------------------------------------------------------------------ registry
def test_registry_names_and_lookup():
    assert set(ACTIVATIONS) == set(EXPECTED)
    assert set(SMOOTH_ACTIVATIONS) == set(ACTIVATIONS) - {"relu"}
    for name in ACTIVATIONS:
        act = get_activation(name)
        assert isinstance(act, Activation) and act.name == name
        assert get_activation(name) is act                      # cached
        assert get_activation(name.upper()) is act              # case-insensitive
        assert get_activation(act) is act                       # objects pass through


# ------------------------------------------------------- derivatives vs sympy
@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "relu"])
@pytest.mark.parametrize("order", [0, 1, 2])
def test_numpy_derivatives_match_sympy(name, order):
    act = get_activation(name)
    num = numeric(act, order, GRID)
    exact = exact_values(act, GRID, order)
    assert np.all(np.isfinite(num))
    assert_close_to_exact(num, exact, GRID)


def test_derivative_exprs_are_derivatives_of_expr():
    for name in SMOOTH_ACTIVATIONS:
        act = get_activation(name)
        e0, e1, e2 = act.derivative_exprs()
        assert e0 == act.expr
        assert sp.simplify(sp.diff(e0, X) - e1) == 0
        assert sp.simplify(sp.diff(e1, X) - e2) == 0


def test_relu_away_from_zero():
    act = get_activation("relu")
    xs = GRID_NONZERO
    assert np.array_equal(act.f(xs), np.where(xs > 0, xs, 0.0))
    assert np.array_equal(act.d1(xs), (xs > 0).astype(float))
    assert np.array_equal(act.d2(xs), np.zeros_like(xs))
    assert_close_to_exact(act.f(xs), exact_values(act, xs, 0), xs)
    e1 = sp.diff(act.expr, X)
    assert [float(e1.subs(X, x)) for x in (-2.0, 3.0)] == [0.0, 1.0]


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "silu", "mish"])
def test_derivatives_keep_relative_accuracy_in_the_tails(name):
    act = get_activation(name)
    xs = np.array([-40.0, -30.0, -20.0, -15.0, 15.0, 20.0, 30.0, 40.0])
    for order in (1, 2):
        num, exact = numeric(act, order, xs), exact_values(act, xs, order)
        keep = np.abs(exact) > 1e-300
        rel = np.abs(num[keep] - exact[keep]) / np.abs(exact[keep])
        assert rel.max() <= 1e-10, f"{name} order {order}: relative error {rel.max():.1e}"


# ------------------------------------------------------------ no overflow
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_finite_without_floating_point_errors_on_pm700(name):
    act = get_activation(name)
    xs = np.linspace(-700.0, 700.0, 2801)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for fn in (act.f, act.d1, act.d2):
            assert np.all(np.isfinite(fn(xs)))


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if EXPECTED[n][0]])
def test_bounded_activations_stay_in_their_image_for_huge_inputs(name):
    act = get_activation(name)
    xs = np.array([-1e300, -1e10, -1e3, 1e3, 1e10, 1e300])
    lo, hi = act.image
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        vals = act.f(xs)
        derivs = (act.d1(xs), act.d2(xs))
    assert np.all((lo <= vals) & (vals <= hi))
    assert all(np.all(np.isfinite(d)) for d in derivs)


# ------------------------------------------------- image, class A, flags
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_flags_match_expected_table(name):
    act = get_activation(name)
    bounded, in_a, increasing, smooth = EXPECTED[name]
    assert (act.bounded, act.in_class_A, act.increasing, act.smooth) == (bounded, in_a, increasing, smooth)
    lo, hi = act.image
    assert act.bounded == (math.isfinite(lo) and math.isfinite(hi))
    # the definition of class A (000, Section III-A), recomputed from the flags
    assert act.in_class_A == (act.smooth and act.increasing and act.bounded and lo <= 0.0 <= hi)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_increasing_flag_agrees_with_the_derivative(name):
    act = get_activation(name)
    xs = np.linspace(-15.0, 15.0, 3001)      # where sigma' is a normal float for every sigma
    d1 = act.d1(xs)
    if act.increasing:
        assert np.all(d1 > 0)
    else:                       # somewhere not strictly increasing: sigma' <= 0
        assert np.any(d1 <= 0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "identity", "exp"])
def test_image_of_monotone_activations_is_given_by_limits(name):
    act = get_activation(name)
    lo = sp.limit(act.expr, X, -sp.oo)
    hi = sp.limit(act.expr, X, sp.oo)
    assert float(lo) == act.image[0] and float(hi) == act.image[1]


@pytest.mark.parametrize("name", ["silu", "swish", "gelu", "mish", "relu"])
def test_image_of_activations_with_a_minimum(name):
    act = get_activation(name)
    lo, hi = act.image
    assert hi == math.inf and sp.limit(act.expr, X, sp.oo) == sp.oo
    xs = np.linspace(-20.0, 5.0, 250001)
    vals = act.f(xs)
    assert vals.min() >= lo - 1e-15
    assert vals.min() - lo <= 1e-9                 # the minimum is attained (up to the grid)
    if name != "relu":                             # sigma' vanishes at the minimiser
        assert abs(act.d1(xs[np.argmin(vals)])) < 1e-4


def test_sin_image():
    act = get_activation("sin")
    vals = act.f(np.linspace(-10, 10, 100001))
    assert act.image == (-1.0, 1.0)
    assert vals.min() >= -1.0 and vals.max() <= 1.0
    assert vals.min() < -1 + 1e-8 and vals.max() > 1 - 1e-8


def test_counterexamples_satisfy_a_linear_relation():
    """Paper 004, Remark 1: e^x and sin x satisfy a linear relation among sigma, sigma', sigma''."""
    e0, e1, e2 = get_activation("exp").derivative_exprs()
    assert sp.simplify(e0 - e1) == 0 and sp.simplify(e1 - e2) == 0
    s0, _, s2 = get_activation("sin").derivative_exprs()
    assert sp.simplify(s0 + s2) == 0
    xs = np.linspace(-5, 5, 11)
    assert np.allclose(get_activation("sin").d2(xs), -np.sin(xs), rtol=0, atol=1e-15)


# ------------------------------------------------------------- parameters
ALPHAS = [0.25, 0.5, 1.0, 2.0, 3.7, 10.0]
BETAS = [0.3, 0.5, 1.0, 1.5, 4.0]


@pytest.mark.parametrize("alpha", ALPHAS)
def test_softplus_alpha(alpha):
    act = get_activation("softplus", alpha=alpha)
    assert act.params == {"alpha": alpha}
    ref = sp.log(1 + sp.exp(sp.nsimplify(alpha) * X)) / sp.nsimplify(alpha)
    assert sp.simplify(act.expr - ref) == 0
    xs = np.linspace(-30, 30, 61) / alpha
    for order in (0, 1, 2):
        assert_close_to_exact(numeric(act, order, xs), exact_values(act, xs, order), xs,
                              scale=max(alpha, 1 / alpha))
    assert np.isclose(float(act(0.0)), math.log(2) / alpha, rtol=1e-15)
    assert act.d1(np.array([0.0]))[0] == 0.5 and np.isclose(act.d2(np.array([0.0]))[0], alpha / 4)
    # sharper alpha: closer to ReLU, uniformly within log(2)/alpha
    grid = np.linspace(-5, 5, 101)
    assert np.all(np.abs(act.f(grid) - np.maximum(grid, 0)) <= math.log(2) / alpha + 1e-15)
    assert act.image == (0.0, math.inf) and not act.bounded and not act.in_class_A


def test_softplus_default_alpha_is_one():
    d, one = get_activation("softplus"), get_activation("softplus", alpha=1.0)
    xs = np.linspace(-5, 5, 21)
    for a, b in ((d.f, one.f), (d.d1, one.d1), (d.d2, one.d2)):
        assert np.array_equal(a(xs), b(xs))
    assert d.params == {"alpha": 1.0}


@pytest.mark.parametrize("beta", BETAS)
def test_swish_beta(beta):
    act = get_activation("swish", beta=beta)
    assert act.params == {"beta": beta}
    ref = X / (1 + sp.exp(-sp.nsimplify(beta) * X))
    assert sp.simplify(act.expr - ref) == 0
    xs = np.linspace(-30, 30, 61) / beta
    for order in (0, 1, 2):
        assert_close_to_exact(numeric(act, order, xs), exact_values(act, xs, order), xs,
                              scale=max(beta, 1 / beta) ** 2)
    # x sigma(beta x) = (1/beta) silu(beta x): the minimum scales as 1/beta
    silu = get_activation("silu")
    assert np.isclose(act.image[0], silu.image[0] / beta, rtol=1e-9)
    assert np.allclose(act.f(xs), silu.f(beta * xs) / beta, rtol=1e-14, atol=1e-300)


def test_silu_is_swish_with_beta_one():
    silu, swish = get_activation("silu"), get_activation("swish", beta=1.0)
    xs = GRID
    for a, b in ((silu.f, swish.f), (silu.d1, swish.d1), (silu.d2, swish.d2)):
        assert np.array_equal(a(xs), b(xs))
    assert sp.simplify(silu.expr - swish.expr) == 0
    assert silu.image == swish.image
    assert silu.params == {} and swish.params == {"beta": 1.0}
    assert sp.simplify(silu.expr - X / (1 + sp.exp(-X))) == 0


def test_activation_call_accepts_scalars_and_lists():
    act = get_activation("sigmoid")
    assert float(act(0.0)) == 0.5
    assert np.allclose(act([0.0, 0.0]), [0.5, 0.5])


def test_activation_is_hashable():
    assert isinstance(hash(get_activation("tanh")), int)
    assert isinstance(hash(get_activation("softplus", alpha=2.0)), int)


def test_default_parameters_give_the_same_activation():
    from lossland import Network

    assert get_activation("softplus") is get_activation("softplus", alpha=1.0)
    assert get_activation("swish") is get_activation("swish", beta=1)
    assert Network((1, 2, 1), "softplus") == Network((1, 2, 1), "softplus", alpha=1.0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_values_equal_the_three_functions_bit_for_bit(name):
    """Activation.values (fused for sigmoid and tanh) gives f, d1, d2 exactly."""
    act = get_activation(name)
    t = np.concatenate([np.linspace(-40, 40, 801), [-700.0, -1e-300, 0.0, 1e-300, 700.0]])
    for got, want in zip(act.values(t), (act.f(t), act.d1(t), act.d2(t))):
        assert np.array_equal(got, want)
    assert (act.fused is not None) == (name in ("sigmoid", "tanh"))
