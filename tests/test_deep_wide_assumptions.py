"""003, Assumption 3.2 (2) and Lemma 3.3: the activation checks of lossland.deep_wide.assumptions."""
import pytest
import sympy as sp

from lossland import get_activation
from lossland.deep_wide.assumptions import (ALPHA, check_activation_32, lemma33_rhos,
                                            prove_nonnegative, softplus_generic)

T = sp.Symbol("t", real=True)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_bounded_activations_of_lemma_33(name):
    rep = check_activation_32(name)
    assert rep.holds is True and rep.bounded is True
    assert rep.derivative_positive is True and rep.strictly_increasing is True
    assert rep.assumption_52 is True and rep.c1 is True
    assert rep.analytic is None and "Krantz" in rep.analytic_argument + " Krantz" and rep.analytic_argument
    lo, hi = {"sigmoid": (0, 1), "tanh": (-1, 1)}[name]
    assert rep.limits == (lo, hi)


def test_tanh_cannot_satisfy_the_growth_bounds():
    rep = check_activation_32("tanh")
    assert rep.growth_possible is False and rep.growth_holds is False
    assert any("impossible" in r for r in rep.reasons)


def test_sigmoid_also_satisfies_the_growth_bounds():
    rep = check_activation_32("sigmoid", rhos=(1, 1, 1, 1))
    assert rep.growth_holds is True and all(g.proved for g in rep.growth)


@pytest.mark.parametrize("alpha", [0.1, 1.0, 2.5])
def test_softplus_with_the_rhos_of_the_proof(alpha):
    rep = check_activation_32(get_activation("softplus", alpha=alpha))
    a = sp.nsimplify(alpha, rational=True)
    assert rep.rhos == (1 / a, a, 1, sp.log(2) / a)
    assert rep.bounded is False and rep.growth_holds is True and rep.holds is True
    assert rep.derivative_positive is True
    assert "proved" in str(rep.growth[0]) and "h(0) = 0" in str(rep.growth[1])


def test_softplus_for_every_alpha():
    rep = check_activation_32(softplus_generic())
    assert rep.name == "softplus (every alpha > 0)"
    assert rep.rhos == lemma33_rhos(ALPHA) and rep.holds is True and rep.growth_holds is True
    assert rep.analytic is None and "log(1 + u)" in rep.analytic_argument


def test_strictly_increasing_without_positive_derivative():
    rep = check_activation_32(sp.tanh(T**3))
    assert rep.strictly_increasing is True and rep.derivative_positive is False
    assert rep.holds is True and rep.bounded is True            # Assumption 3.2 (2), literally
    assert any("zeros only at {0}" in r for r in rep.reasons)


def test_activations_that_fail():
    assert check_activation_32(T**3).holds is False             # unbounded, (b) impossible
    rep = check_activation_32(sp.exp(T), rhos=(1, 1, 1, 1))
    assert rep.holds is False and rep.growth[0].proved is True and rep.growth[1].proved is False
    swish = check_activation_32("swish")
    assert swish.strictly_increasing is False and swish.holds is False
    assert "not increasing" in str(swish)


def test_prove_nonnegative():
    ok, steps = prove_nonnegative(sp.exp(T) - 1 - T, T, "t >= 0")
    assert ok is True and steps[-1].startswith("so h is non-decreasing")
    ok, steps = prove_nonnegative(T + 1, T, "t < 0")
    assert ok is False and "< 0" in steps[-1]
    assert prove_nonnegative(sp.exp(T), T, "t < 0")[0] is True


@pytest.mark.parametrize("call,exc,word", [
    (lambda: check_activation_32("swoosh"), ValueError, "swoosh"),
    (lambda: check_activation_32(3), TypeError, "activation"),
    (lambda: check_activation_32(sp.Symbol("u") * sp.Symbol("v")), ValueError, "one variable"),
    (lambda: check_activation_32("sigmoid", rhos=(1, 1, 1)), ValueError, "rhos"),
    (lambda: check_activation_32("sigmoid", rhos=(1, -1, 1, 1)), ValueError, "rhos"),
    (lambda: lemma33_rhos(-1.0), ValueError, "alpha"),
    (lambda: prove_nonnegative(T, T, "t > 1"), ValueError, "where"),
])
def test_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
