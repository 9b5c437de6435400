"""lossland.deep_wide.morse: Theorem 3.10 of 003 exactly for polynomials, and the upper Hessian block of a network."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sympy as sp  # noqa: E402
from scipy import optimize  # noqa: E402

from lossland import Network, SquaredLoss  # noqa: E402
from lossland.objective import Objective  # noqa: E402
from lossland.deep_wide.morse import (  # noqa: E402
    critical_points,
    critical_set_is_finite,
    draw_contours,
    exact_sign,
    exceptional_perturbations,
    is_exactly_zero,
    morse_report,
    perturb,
    upper_block,
)

x, y, w1, w2 = sp.symbols("x y w_1 w_2", real=True)
CIRCLE = (x**2 + y**2 - 1) ** 2
MONKEY = x**3 - 3 * x * y**2
QUARTIC = x**4 + y**2
W_NICE = (sp.Rational(9, 16), sp.Rational(3, 4))


# ------------------------------------------------------------------ exact arithmetic
def test_exact_zero_test_and_sign():
    assert is_exactly_zero(sp.sqrt(2) ** 2 - 2)
    assert is_exactly_zero((sp.sqrt(3) + 1) ** 2 - 4 - 2 * sp.sqrt(3))
    assert not is_exactly_zero(sp.sqrt(2) - sp.Rational(141421, 100000))
    root = sp.CRootOf(x**3 - x - 1, 0)
    assert is_exactly_zero(root**3 - root - 1)
    assert exact_sign(sp.sqrt(13) - 4) == -1 and exact_sign(5 * sp.sqrt(13) - 13) == 1
    assert exact_sign(sp.Integer(0)) == 0
    with pytest.raises(ValueError, match="constant"):
        is_exactly_zero(x + 1)


def test_perturb_adds_the_linear_term():
    fw = perturb(CIRCLE, (x, y), (1, 2))
    assert sp.expand(fw - CIRCLE - x - 2 * y) == 0
    assert sp.expand(perturb(CIRCLE, (x, y), (0.5, 0.25)) - CIRCLE - x / 2 - y / 4) == 0


# ------------------------------------------------------------------ critical points
def test_circle_tilted_has_three_nondegenerate_points_exactly():
    rep = morse_report(CIRCLE, (x, y), W_NICE)
    assert rep.all_nondegenerate and rep.kinds == {"minimum": 1, "saddle": 1, "maximum": 1, "degenerate": 0}
    fw = rep.perturbed
    for p in rep.points:
        at = dict(zip((x, y), p.point))
        assert all(is_exactly_zero(sp.diff(fw, v).subs(at)) for v in (x, y))
        assert is_exactly_zero(p.det - sp.hessian(fw, (x, y)).subs(at).det())
    assert [p.kind for p in rep.points] == ["minimum", "maximum", "saddle"]      # sorted by x
    assert rep.points[1].point == (sp.Rational(3, 20), sp.Rational(1, 5))


def test_exact_points_agree_with_a_numerical_solver():
    rep = morse_report(CIRCLE, (x, y), (sp.Rational(1, 2), sp.Rational(1, 3)))  # CRootOf path
    grad = sp.lambdify([(x, y)], [sp.diff(rep.perturbed, v) for v in (x, y)])
    for p in rep.points:
        guess = p.numeric() + 1e-3
        sol = optimize.root(lambda z: grad(z), guess, tol=1e-12)
        assert np.allclose(sol.x, p.numeric(), atol=1e-10)
        assert np.abs(grad(sol.x)).max() < 1e-12
    assert rep.all_nondegenerate and len(rep.points) == 3


def test_degenerate_points_are_found():
    assert [p.kind for p in critical_points(MONKEY, (x, y))] == ["degenerate"]
    assert [p.kind for p in critical_points(QUARTIC, (x, y))] == ["degenerate"]
    s_star = 8 * sp.sqrt(3) / 9                       # irrational w: sympy's solver path
    rep = morse_report(CIRCLE, (x, y), (0, s_star))
    deg = [p for p in rep.points if not p.nondegenerate]
    assert len(deg) == 1 and deg[0].point == (0, sp.sqrt(3) / 3) and deg[0].det == 0


def test_monkey_saddle_splits_into_two_saddles():
    rep = morse_report(MONKEY, (x, y), (3, 4))
    assert rep.kinds["saddle"] == 2 and all(p.det == -60 for p in rep.points)


def test_one_variable_and_maxima():
    t, w = sp.symbols("t w", real=True)
    rep = morse_report(t**4 - 2 * t**2, (t,), (sp.Rational(1, 2),))
    assert [p.kind for p in rep.points] == ["minimum", "maximum", "minimum"]
    assert critical_points(-(x**2) - y**2, (x, y))[0].kind == "maximum"


def test_non_isolated_critical_points_are_refused():
    assert not critical_set_is_finite(CIRCLE, (x, y))
    assert critical_set_is_finite(perturb(CIRCLE, (x, y), W_NICE), (x, y))
    assert not critical_set_is_finite(sp.Integer(3), (x, y))
    with pytest.raises(ValueError, match="not isolated"):
        critical_points(CIRCLE, (x, y))


# ------------------------------------------------------------------ the exceptional set
def test_exceptional_sets():
    r2 = w1**2 + w2**2
    assert exceptional_perturbations(CIRCLE, (x, y), (w1, w2)) == [
        sp.factor(w1 * (27 * r2 - 64)), sp.factor(w2 * (27 * r2 - 64))]
    assert exceptional_perturbations(QUARTIC, (x, y), (w1, w2)) == [w1]
    assert exceptional_perturbations(MONKEY, (x, y), (w1, w2)) == [w1**2 + w2**2]


def test_exceptional_set_predicts_degeneracy():
    gens = exceptional_perturbations(QUARTIC, (x, y), (w1, w2))
    for wv in ((0, 1), (sp.Rational(1, 7), 1), (-2, sp.Rational(1, 3))):
        on_set = all(g.subs({w1: wv[0], w2: wv[1]}) == 0 for g in gens)
        assert morse_report(QUARTIC, (x, y), wv).all_nondegenerate == (not on_set)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("args,exc,match", [
    ((sp.sin(x), (x, y), (1, 1)), ValueError, "polynomial"),
    ((CIRCLE + sp.Symbol("z"), (x, y), (1, 1)), ValueError, "besides"),
    (("x**2", (x, y), (1, 1)), TypeError, "sympy expression"),
    ((CIRCLE, "xy", (1, 1)), TypeError, "Symbols"),
    ((CIRCLE, (x, x), (1, 1)), ValueError, "distinct"),
    ((CIRCLE, (), (1, 1)), ValueError, "empty"),
    ((CIRCLE, (x, y), (1,)), ValueError, "length 2"),
    ((CIRCLE, (x, y), "ab"), TypeError, "sequence"),
    ((CIRCLE, (x, y), (True, 1)), TypeError, "numbers"),
    ((CIRCLE, (x, y), (sp.I, 1)), ValueError, "real"),
    ((CIRCLE, (x, y), (float("nan"), 1)), ValueError, "finite"),
])
def test_morse_report_validates(args, exc, match):
    with pytest.raises(exc, match=match):
        morse_report(*args)


def test_exceptional_perturbations_validates():
    with pytest.raises(ValueError, match="length 2"):
        exceptional_perturbations(CIRCLE, (x, y), (w1,))
    with pytest.raises(ValueError, match="differ"):
        exceptional_perturbations(CIRCLE, (x, y), (x, w2))


# ------------------------------------------------------------------ figure
def test_draw_contours():
    fig, ax = plt.subplots()
    cs = draw_contours(ax, CIRCLE, (x, y), W_NICE, title="t")
    assert len(cs.levels) > 5 and len(ax.lines) == 3 and ax.get_title() == "t"
    draw_contours(ax, CIRCLE, (x, y))                  # circle: no isolated points, no markers
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="two symbols"):
        draw_contours(ax, x**2, (x,))
    with pytest.raises(ValueError, match="increasing"):
        draw_contours(ax, CIRCLE, (x, y), extent=(1, -1))
    plt.close(fig)


# ------------------------------------------------------------------ networks
def _objective(widths, n_samples=4, seed=5):
    rng = np.random.default_rng(seed)
    net = Network(widths, activation="tanh")
    obj = Objective(net, rng.standard_normal((n_samples, widths[0])),
                    rng.standard_normal((n_samples, widths[-1])))
    return obj, net.init_params(rng, 1.0)


@pytest.mark.parametrize("widths,zeros", [((1, 3, 1), 0), ((1, 4, 1), 1), ((1, 6, 1), 3),
                                          ((2, 6, 2), 6), ((1, 5, 3, 2), 6)])
def test_upper_block_kernel_is_structural(widths, zeros):
    obj, th = _objective(widths)
    ub = upper_block(obj, th, k=1)
    assert ub.predicted_zeros == zeros == ub.zero_count()
    assert ub.residual < 1e-13
    mags = np.sort(np.abs(ub.eigenvalues))          # the block may be indefinite
    assert mags[zeros] > 1e-8 * mags[-1]
    if zeros:   # Phi does not move along the directions, at any scale
        d = np.zeros(obj.net.n_params)
        d[ub.indices] = ub.directions[:, 0]
        assert abs(obj.value(th + 3.0 * d) - obj.value(th)) < 1e-12 * (1 + obj.value(th))


def test_upper_block_validates():
    obj, th = _objective((1, 4, 1))
    with pytest.raises(ValueError, match="k must be"):
        upper_block(obj, th, k=2)
    with pytest.raises(TypeError, match="Objective"):
        upper_block(SquaredLoss(obj.net, obj.X, obj.Y[:, 0]), th, k=1)
    net = Network((1, 4, 1), activation="tanh", biases=False)
    with pytest.raises(ValueError, match="biases"):
        upper_block(Objective(net, obj.X, obj.Y), np.zeros(net.n_params), k=1)
    with pytest.raises(ValueError, match="rtol"):
        upper_block(obj, th, k=1).zero_count(rtol=-1.0)
