"""lossland.bad_minima.independence: linear independence of 004's function sets, exactly and numerically."""
import mpmath
import numpy as np
import pytest
import sympy as sp

from lossland import get_activation
from lossland.bad_minima.function_sets import ATOMS, FUNCTION_SETS, FunctionSet, expansion, function_exprs, function_set
from lossland.bad_minima.independence import (
    check_relation,
    coefficient_matrix,
    evaluation_matrix,
    exact_rank,
    linear_relations,
    numeric_relations,
    polynomial_solutions,
    reduction_set,
    split_gaps,
    relation_text,
    mish_ode45_reduction,
    mish_tau,
    numeric_rank,
    ode6_reduction,
    rank_report,
    reduction,
    sample_points,
    singular_values,
    verify_reduction,
)

x = sp.Symbol("x", real=True)
LEMMA1 = ["tanh", "sigmoid", "silu", "softplus", "gelu", "swish", "mish"]   # 004, Lemma 1
ANALYTIC = LEMMA1 + ["exp", "sin", "identity"]


def act(name):
    return get_activation(name)


# ------------------------------------------------------------------ the sets
def test_set_sizes_and_distinct_members():
    sizes = {"B2": 7, "B2_composite": 7, "B3_printed": 34, "B3_nested": 34, "B3_expansion": 19, "claim1": 20,
             "claim2": 24}
    for name, n in sizes.items():
        fs = function_set(name)
        assert len(fs) == n and len(set(fs.members)) == n, name
        assert all(len(m) == len(ATOMS) for m in fs.members)
    # the printed Assumption 1 and Lemma 8 list a function twice
    assert len(set(function_set("B2_printed").members)) == 6
    assert len(set(function_set("B2_composite_printed").members)) == 6


def test_b3_readings_differ_only_in_the_sigma_double_prime_squared_group():
    a, b = set(function_set("B3_printed").members), set(function_set("B3_nested").members)
    assert {m[3] for m in a - b} == {2} and all(m[6] == 0 for m in a - b)
    assert all(m[6] == 1 and m[3] == 2 for m in b - a) and len(a - b) == 5
    assert exact_rank("B3_printed", "gelu") == 34 and exact_rank("B3_nested", "gelu") == 33


def test_b3_split_partitions_the_set():
    for name in ("B3_printed", "B3_nested", "B3_expansion"):
        B = function_set(name)
        idx = sorted(i for g in ("B31", "B32", "B33", "rest") for i in B.groups[g])
        assert idx == list(range(len(B)))
        assert B.members[B.groups["B31"][0]] == B.members[B.index(s1s=1, s2=1, x=2)]
        assert B.members[B.groups["B32"][0]] == B.members[B.index(s1s=1, s2=1)]
        assert B.members[B.groups["B33"][0]] == B.members[B.index(s2s=1)]
        assert len(B.subset("rest")) == len(B) - 3


def test_expansion_sets_are_B2_and_the_hessian_part_of_B3():
    """The gradient and Hessian of F2, F3 at W-hat (sympy, generic sigma) use exactly B2 / B3_expansion."""
    e2, e3 = expansion(2).functions, expansion(3).functions
    assert set(e2.members) == set(function_set("B2").members)
    assert set(e3.members) == set(function_set("B3_expansion").members)
    assert set(e3.members) < set(function_set("B3_printed").members)
    # the gradient of F3 involves 1, sigma(sigma), sigma'(sigma){1, sigma, sigma', x sigma'}  (eq. (126)-(131))
    grad = {e3.members[i] for i in e3.groups["gradient"]}
    expected = {(0,) * 7, (0, 0, 0, 0, 1, 0, 0), (0, 0, 0, 0, 0, 1, 0), (0, 1, 0, 0, 0, 1, 0),
                (0, 0, 1, 0, 0, 1, 0), (1, 0, 1, 0, 0, 1, 0)}
    assert grad == expected


def test_expansion_weighted_hessian_is_diagonal_off_the_rest():
    """With <Delta Y, b> = 0 on B3_expansion minus B3,1..3, only three diagonal Hessian entries remain."""
    E = expansion(3)
    B = function_set("B3_expansion")
    special = {B.members[B.groups[g][0]]: sp.Symbol(g) for g in ("B31", "B32", "B33")}
    H = E.weighted_hessian([special.get(m, 0) for m in E.functions.members])
    w3 = E.outer
    expected = sp.diag(w3 * sp.Symbol("B31"), w3 * sp.Symbol("B32"), 0, w3 * sp.Symbol("B33"), 0, 0)
    assert (H - expected).expand() == sp.zeros(6, 6)
    # the same for depth 2 (proof of Proposition 2): sigma'' and x^2 sigma'' on the (b1, w1) diagonal
    E2 = expansion(2)
    inner = [sp.Symbol(f"c{j}") for j in range(7)]
    H2 = E2.weighted_hessian(inner)
    j = {m: k for k, m in enumerate(E2.functions.members)}
    assert H2[0, 0] == E2.outer * inner[j[(2, 0, 0, 1, 0, 0, 0)]]
    with pytest.raises(ValueError, match="inner"):
        E.weighted_hessian([0])


def test_labels():
    assert function_set("B2").labels() == ["1", "σ", "σ′", "σ′x", "σ″", "σ″x", "σ″x²"]
    assert function_set("B2").labels(latex=True)[-1] == "\\sigma''\\,x^{2}"


def test_function_exprs_match_sympy_derivatives():
    for name in ("sigmoid", "gelu"):
        a = act(name)
        e = function_exprs("B2", a)
        s = a.expr
        assert sp.simplify(e[2] - sp.diff(s, x)) == 0
        assert sp.simplify(e[6] - x**2 * sp.diff(s, x, 2)) == 0
        e3 = function_exprs("B3_printed", a)
        B = function_set("B3_printed")
        target = sp.diff(s, x, 2).subs(x, s)                      # sigma''(sigma(x))
        assert sp.simplify(e3[B.index(s2s=1)] - target) == 0


# -------------------------------------------------------- symbolic reduction
@pytest.mark.parametrize("name", ANALYTIC)
def test_reduction_matches_sympy(name):
    checks = verify_reduction(name)
    assert checks and all(checks.values()), {k: v for k, v in checks.items() if not v}


@pytest.mark.parametrize("params", [("swish", {"beta": 2.0}), ("swish", {"beta": 0.5}),
                                    ("softplus", {"alpha": 2.0})])
def test_reduction_with_parameters(params):
    name, kw = params
    assert all(verify_reduction(get_activation(name, **kw)).values())


def test_reduction_generators_evaluate_correctly():
    """Generator forms of all seven atoms agree with sympy's expressions at a point (30 digits)."""
    for name in ("gelu", "mish", "softplus", "swish"):
        a, red = act(name), reduction(name)
        exprs = [sp.diff(a.expr, x, k) for k in range(3)]
        exprs = [x] + exprs + [e.subs(x, a.expr) for e in exprs]
        pt = sp.Rational(7, 10)
        for atom, e in zip(ATOMS, exprs):
            lhs = red.substitute(red.atoms[atom]).subs(x, pt).evalf(30)
            assert abs(lhs - e.subs(x, pt).evalf(30)) < 1e-25, (name, atom)


@pytest.mark.parametrize("name", LEMMA1)
def test_ode6_forces_every_coefficient_to_vanish(name):
    r = ode6_reduction(name)
    assert r.forces_zero and len(r.equations) >= 7


@pytest.mark.parametrize("name", ["exp", "sin", "identity"])
def test_ode6_has_nonzero_solutions_for_the_exceptions(name):
    assert not ode6_reduction(name).forces_zero


def test_mish_tau_and_ode45():
    s, tau, t1, t2 = mish_tau()
    sig = 1 / (1 + sp.exp(-x))
    assert sp.simplify((tau.subs(s, sig) - sp.tanh(sp.log(1 + sp.exp(x)))).rewrite(sp.exp)) == 0
    assert sp.simplify(t1.subs(s, sig) - sp.diff(tau.subs(s, sig), x)) == 0
    assert sp.simplify(t2.subs(s, sig) - sp.diff(tau.subs(s, sig), x, 2)) == 0
    r = mish_ode45_reduction()
    assert len(r.coeffs) == 10 and r.forces_zero


# ------------------------------------------------------------- exact ranks
@pytest.mark.parametrize("name", LEMMA1)
def test_assumption1_exact(name):
    assert exact_rank("B2", name) == 7
    assert exact_rank("B2_composite", name) == 7          # Lemma 8


def test_exact_ranks_of_the_exceptions_and_relations():
    assert exact_rank("B2", "exp") == 4 and exact_rank("B2", "sin") == 6
    rel_exp, rel_sin = linear_relations("B2", "exp"), linear_relations("B2", "sin")
    assert len(rel_exp) == 3 and len(rel_sin) == 1
    # sin: sigma + sigma'' = 0 (Remark 1: y'' = -y)
    assert rel_sin[0] == [0, 1, 0, 0, 1, 0, 0]
    # exp: the relations span sigma' - sigma, sigma'' - sigma, x sigma' - x sigma''
    M = sp.Matrix(rel_exp)
    expected = sp.Matrix([[0, -1, 1, 0, 0, 0, 0], [0, -1, 0, 0, 1, 0, 0], [0, 0, 0, 1, 0, -1, 0]])
    assert M.rank() == 3 and M.col_join(expected).rank() == 3
    assert all(check_relation("B2", "exp", r) for r in rel_exp)
    assert check_relation("B2", "sin", rel_sin[0])
    assert not check_relation("B2", "sigmoid", [0, 1, -1, 0, 0, 0, 0])
    assert relation_text("B2", rel_sin[0]) == "σ + σ″ = 0"
    assert relation_text("B2", [0, -2, 0, 0, 1, 0, 0]) == "−2σ + σ″ = 0"


def test_coefficient_matrix_shape_and_exactness():
    monos, M = coefficient_matrix("B2", "sigmoid")
    assert M.shape == (len(monos), 7)
    assert all(isinstance(c, sp.Rational) for c in M)
    assert M.rank() == 7


def test_lemma3_split_tanh_fails_gelu_holds():
    B = function_set("B3_printed")
    rest = B.subset("rest")
    for name, gap in (("gelu", 3), ("sigmoid", 3), ("tanh", 2)):
        assert exact_rank(B, name) - exact_rank(rest, name) == gap, name
    # tanh: sigma''(sigma) = sigma''(sigma) sigma' + sigma''(sigma) sigma^2, since tanh' = 1 - tanh^2
    fs = FunctionSet("t", (B.members[B.index(s2s=1)], B.members[B.index(s2s=1, s1=1)],
                           B.members[B.index(s2s=1, s=2)]))
    assert linear_relations(fs, "tanh") == [[1, -1, -1]]
    assert check_relation(fs, "tanh", [1, -1, -1])


# ----------------------------------------------------------------- numerics
def test_float64_and_mpmath_evaluations_agree():
    pts = sample_points(12, seed=3, interval=(-3, 3))
    for name in ("sigmoid", "gelu", "mish", "softplus"):
        A = evaluation_matrix("B3_printed", name, pts)
        M = evaluation_matrix("B3_printed", name, pts, dps=30)
        Mf = np.array(M.tolist(), dtype=float)
        assert A.shape == Mf.shape == (12, 34)
        assert np.allclose(A, Mf, rtol=1e-11, atol=1e-13), name


def test_numeric_rank_b2():
    for name in ("sigmoid", "gelu"):
        r = numeric_rank("B2", name)
        assert r.rank == 7 and r.full and r.margin_above > 8
    r = numeric_rank("B2", "exp", dps=30)
    assert r.rank == 4 and r.margin_above > 8 and r.margin_below > 8
    r = numeric_rank("B2", "sin")
    assert r.rank == 6 and r.margin_below > 1


def test_numeric_rank_b3_with_mpmath_matches_exact():
    r = numeric_rank("B3_printed", "sigmoid", n_points=50, dps=60)
    assert r.rank == exact_rank("B3_printed", "sigmoid") == 29
    assert r.margin_above > 3 and r.margin_below > 20


def test_rank_report_and_singular_values():
    rep = rank_report(np.log10([1.0, 1e-3, 1e-40, 1e-45]), n_points=10, dps=40)
    assert rep.rank == 2 and rep.log10_tol == pytest.approx(-20.0)
    assert rep.margin_above == pytest.approx(17.0) and rep.margin_below == pytest.approx(20.0)
    assert "rank 2/4" in rep.summary()
    A = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    lsv = singular_values(A)
    assert lsv[0] == pytest.approx(np.log10(np.sqrt(2.0))) and lsv[1] < -15
    with mpmath.workdps(30):
        M = mpmath.matrix([[1, 2], [2, 4], [0, 0]])
    assert singular_values(M, dps=30)[1] < -28


def test_sample_points_are_seeded():
    a, b = sample_points(5, 7), sample_points(5, 7)
    assert np.array_equal(a, b) and np.all(np.diff(a) > 0)
    assert np.all((a >= -4) & (a <= 4))


# ------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ValueError, match="not analytic"):
        exact_rank("B2", "relu")
    with pytest.raises(ValueError, match="unknown function set"):
        function_set("B4")
    with pytest.raises(TypeError, match="name must be"):
        function_set(3)
    with pytest.raises(TypeError, match="fset must be"):
        exact_rank(7, "sigmoid")
    with pytest.raises(ValueError, match="dps"):
        numeric_rank("B2", "sigmoid", dps=5)
    with pytest.raises(ValueError, match="n_points"):
        numeric_rank("B2", "sigmoid", n_points=0)
    with pytest.raises(ValueError, match="interval"):
        sample_points(5, interval=(1, -1))
    with pytest.raises(TypeError, match="interval"):
        sample_points(5, interval=3)
    with pytest.raises(ValueError, match="points"):
        evaluation_matrix("B2", "sigmoid", [[0.0, 1.0]])
    with pytest.raises(ValueError, match="coeffs"):
        check_relation("B2", "sin", [1, 2])
    with pytest.raises(ValueError, match="group"):
        function_set("B3_printed").subset("B34")
    with pytest.raises(ValueError, match="depth"):
        expansion(4)
    with pytest.raises(ValueError, match="dps must be given"):
        singular_values(mpmath.matrix([[1.0]]))
    with pytest.raises(ValueError, match="unknown atom"):
        function_set("B3_printed").index(y=1)
    with pytest.raises(ValueError, match="overflowed"):
        evaluation_matrix("B3_printed", "exp", [700.0])


def test_all_sets_registered():
    assert set(FUNCTION_SETS) >= {"B2", "B3_printed", "B3_expansion", "B2_composite"}


# -------------------------------------------------------------- bad input
def test_singular_values_rejects_nan_zero_and_empty_matrices():
    with pytest.raises(ValueError, match="matrix contains non-finite"):
        singular_values(np.array([[np.nan, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="matrix is zero"):
        singular_values(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="matrix must not be empty"):
        singular_values(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="matrix must be a 2-d array"):
        singular_values(np.ones(3))
    with pytest.raises(TypeError, match="matrix must be an array of real numbers"):
        singular_values("abc")
    with pytest.raises(ValueError, match="dps is only for an mpmath matrix"):
        singular_values(np.eye(2), dps=30)
    with mpmath.workdps(30):
        Z = mpmath.matrix(3, 2)
        N = mpmath.matrix([[mpmath.nan, 1], [1, 2]])
    with pytest.raises(ValueError, match="matrix is zero"):
        singular_values(Z, dps=30)
    with pytest.raises(ValueError, match="NaN or inf"):
        singular_values(N, dps=30)
    # a zero column is a zero singular value, not an error
    assert singular_values(np.array([[1.0, 0.0], [2.0, 0.0]]))[1] == -np.inf


def test_rank_report_rejects_bad_input():
    with pytest.raises(ValueError, match="log10_sv contains NaN"):
        rank_report([np.nan, 1.0], 5)
    with pytest.raises(ValueError, match="every singular value is zero"):
        rank_report([-np.inf, -np.inf], 5)
    with pytest.raises(ValueError, match="log10_sv must not be empty"):
        rank_report([], 5)
    with pytest.raises(ValueError, match="n_points must be >= 1, got -1"):
        rank_report([0.0, -1.0], -1)
    with pytest.raises(TypeError, match="n_points must be an integer"):
        rank_report([0.0, -1.0], 2.5)
    with pytest.raises(TypeError, match="log10_sv must be an array of real numbers"):
        rank_report("1, 2", 5)
    with pytest.raises(ValueError, match="dps must be"):
        rank_report([0.0, -1.0], 5, dps=3)
    with pytest.raises(ValueError, match="log10_tol must be finite"):
        rank_report([0.0, -1.0], 5, log10_tol=np.nan)
    # a zero singular value (-inf) below the tolerance is fine
    assert rank_report([0.0, -np.inf], 5).rank == 1


# ------------------------------------------- helpers of chapters G3, G7, G10
def test_numeric_relations_recover_the_exact_null_space():
    for name, k in (("exp", 3), ("sin", 1)):
        R, dev = numeric_relations("B2", name, k)
        exact = sp.Matrix(linear_relations("B2", name))
        assert dev < 1e-8 and R.rank() == exact.rows == k
        assert R.col_join(exact).rank() == k                     # the same null space
    with pytest.raises(ValueError, match="k must be"):
        numeric_relations("B2", "exp", 0)


def test_split_gaps_decide_lemma3():
    # independent check: the gap of the three together is rank(all) - rank(rest)
    B = function_set("B3_printed")
    for name, expected in (("gelu", [1, 1, 1, 3]), ("tanh", [1, 1, 0, 2])):
        g = split_gaps(B, name)
        assert g == expected
        assert g[3] == exact_rank(B, name) - exact_rank(B.subset("rest"), name)
    with pytest.raises(ValueError, match="groups"):
        split_gaps("B2", "gelu")


def test_reduction_set_is_the_rank():
    pts = sample_points(12, seed=2)
    r = reduction_set("gelu", pts, "B3_gradient", dps=40, rtol=1e-25)
    assert r["rank"] == numeric_rank("B3_gradient", "gelu", n_points=12, seed=2, dps=40).rank == 6
    with pytest.raises(TypeError, match="names must be"):
        reduction_set("gelu", pts, 3)


def test_polynomial_solutions_liouville():
    # d/dx (R e^{-x^2}) = (R' - 2 x R) e^{-x^2}: every solution returned solves the equation
    for rhs, deg in ((x, 3), (x**3, 5), (1 - 2 * x**2, 4)):
        sols = polynomial_solutions(rhs, deg)
        assert sols
        for R in sols:
            assert sp.expand(sp.diff(R, x) - 2 * x * R - rhs) == 0
    assert polynomial_solutions(sp.Integer(1), 8) == []          # int e^{-x^2} is not elementary
    with pytest.raises(ValueError, match="degree must be >= 0"):
        polynomial_solutions(x, -1)
