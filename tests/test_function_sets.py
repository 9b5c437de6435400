"""lossland.bad_minima.function_sets: one catalogue of 004's function sets, their names and evaluation."""
import mpmath
import numpy as np
import pytest
import sympy as sp

from lossland import get_activation
from lossland.bad_minima import PAPER_ACTIVATIONS, activation_label, paper_activations
from lossland.bad_minima.function_sets import (FUNCTION_SETS, ATOMS, FunctionSet, as_function_set, atom_exprs,
                                               evaluate, expansion, function_exprs, function_set, monomial,
                                               monomial_name, names_in)

x = sp.Symbol("x", real=True)


def test_b3_readings_differ_in_the_five_squared_functions_only():
    p, n = function_set("B3_printed"), function_set("B3_nested")
    assert len(p) == len(n) == 34
    diff = [k for k in range(34) if p.members[k] != n.members[k]]
    assert diff == list(range(29, 34))
    assert [p.names[k] for k in diff] == ["s''^2", "s''^2 x", "s''^2 x^2", "s''^2 x^3", "s''^2 x^4"]
    assert all(n.names[k] == "s''(s) " + p.names[k] for k in diff)


def test_expansion_set_is_the_sympy_expansion_and_the_16_are_it_minus_the_special_three():
    e19 = function_set("B3_expansion")
    assert set(e19.members) == set(expansion(3).functions.members)
    assert len(e19) == 19
    special = {e19.members[e19.groups[g][0]] for g in ("B31", "B32", "B33")}
    assert special == set(function_set("B3_positive").members)
    assert set(function_set("B3_expansion_orthogonal").members) == set(e19.members) - special
    grad = {e19.members[i] for i in e19.groups["gradient"]}
    assert grad == {expansion(3).functions.members[i] for i in expansion(3).functions.groups["gradient"]}
    assert grad == set(function_set("B3_gradient").members)
    for reading in ("B3_printed", "B3_nested"):                  # both readings contain the 19
        assert set(e19.members) < set(function_set(reading).members)


def test_names_round_trip_and_parse_errors():
    for fs in FUNCTION_SETS.values():
        if fs.name.startswith("B2"):
            continue
        assert tuple(monomial(nm) for nm in fs.names) == fs.members
    assert monomial_name(monomial("s''(s) s s'' x^2")) == "s''(s) s s'' x^2"
    assert function_set("B2").names[-1] == "x^2 sigma''"
    with pytest.raises(ValueError, match="token 'y'"):
        monomial("s y")
    with pytest.raises(ValueError, match="appears twice"):
        monomial("s s")
    with pytest.raises(TypeError, match="must be a str"):
        monomial(3)
    with pytest.raises(ValueError, match="unknown function"):
        function_set("B2").position("sigma'''")


def test_as_function_set():
    assert as_function_set("B2") is function_set("B2")
    fs = as_function_set(["s(s)", "s'' x"])
    assert fs.members == (monomial("s(s)"), monomial("s'' x")) and fs.names == ("s(s)", "s'' x")
    with pytest.raises(ValueError, match="at least one"):
        as_function_set([])
    with pytest.raises(TypeError, match="fset must be"):
        as_function_set(3.0)


def test_evaluate_matches_the_sympy_expressions():
    pts = np.array([-1.3, 0.2, 2.1])
    for name in ("gelu", "tanh"):
        a = get_activation(name)
        exprs = function_exprs("B3_printed", a)
        ref = np.array([[float(e.subs(x, sp.Float(v, 30))) for e in exprs] for v in pts])
        assert np.allclose(evaluate("B3_printed", a, pts), ref, rtol=1e-12, atol=1e-14)
        rows = evaluate("B3_printed", a, pts, dps=30)
        for r, v in zip(rows, pts):
            exact = [e.evalf(40, subs={x: sp.Float(v, 40)}) for e in exprs]
            assert max(abs(sp.Float(mpmath.nstr(m, 35), 40) - e) / (1 + abs(e)) for m, e in zip(r, exact)) < 1e-26
    with pytest.raises(ValueError, match="points must not be empty"):
        evaluate("B2", "gelu", [])
    with pytest.raises(ValueError, match="not analytic"):
        evaluate("B2", "relu", [1.0])


def test_atom_exprs_and_names_in():
    t, s0, s1, s2, ss, s1s, s2s = atom_exprs("tanh")
    assert sp.simplify(s1 - (1 - s0**2)) == 0 and ss == s0.subs(t, s0)
    E = expansion(3)
    W3 = sp.Symbol("w_3", real=True)
    J = E.gradient_exprs(W3)
    assert names_in(J[5]) == {"1"} and names_in(J[0]) == {"s'(s) s' x"}
    assert set().union(*(names_in(e) for e in J)) == set(function_set("B3_gradient").names)
    H = E.hessian_exprs(W3)
    assert H == H.T and names_in(H[1, 1]) == {"s''(s) s'^2", "s'(s) s''"}


def test_paper_activations_and_labels():
    assert [activation_label(a) for a in PAPER_ACTIVATIONS] == [
        "tanh", "sigmoid", "silu", "softplus", "gelu", "swish(b=0.5)", "swish(b=2.0)", "mish"]
    assert activation_label(get_activation("swish", beta=2.0), greek=True) == "swish(β=2)"
    assert activation_label(get_activation("softplus", alpha=0.5)) == "softplus(a=0.5)"
    assert len(paper_activations((0.5, 2.0, 3.0))) == 9
    with pytest.raises(TypeError, match="activation must be an Activation"):
        activation_label("tanh")
    with pytest.raises(TypeError, match="swish_betas"):
        paper_activations(2.0)


def test_function_set_registry_errors():
    with pytest.raises(ValueError, match="names must have one entry per member"):
        FunctionSet("t", ((0,) * len(ATOMS),), {}, "", ("a", "b"))
    with pytest.raises(TypeError, match="depth must be the integer"):
        expansion(2.0)
