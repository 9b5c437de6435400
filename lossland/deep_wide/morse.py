"""Theorem 3.10 of 003 (Morse; Milnor 1965, p. 11), exactly, for polynomials.

The theorem: for a C^2 function f on an open set U of R^d and almost every
w in R^d (Lebesgue), the linear perturbation f_w(x) = f(x) + <w, x> has only
non-degenerate critical points. The reason is Sard's theorem: x is a critical
point of f_w exactly when grad f(x) = -w, and it is degenerate exactly when,
in addition, det Hess f(x) = 0. So the exceptional w are minus the critical
values of the gradient map x -> grad f(x), a set of measure zero.

For a polynomial f everything here is exact (sympy): the critical points of
f_w (:func:`critical_points`), their Hessian determinants (an exact zero
test through minimal polynomials, :func:`is_exactly_zero`), their type, and
the exceptional set itself (:func:`exceptional_perturbations`: eliminating x
from grad f(x) + w = 0, det Hess f(x) = 0 by a lex Groebner basis leaves
polynomials in w alone whose common zero set contains every exceptional w;
when one of them is a non-zero polynomial, that set has measure zero).
:func:`draw_contours` draws one panel of f_w with its critical points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .._validation import check_int, check_real
from ..objective import Objective, paper_matrices

__all__ = ["PolynomialCriticalPoint", "MorseReport", "perturb", "is_exactly_zero", "exact_sign",
           "critical_points", "morse_report", "exceptional_perturbations", "critical_set_is_finite",
           "draw_contours", "UpperBlockReport", "upper_block"]

_T = sp.Symbol("_t")
KIND_COLORS = {"minimum": "#1b7837", "saddle": "#b2182b", "maximum": "#e08214", "degenerate": "#777777"}
KIND_MARKERS = {"minimum": "o", "saddle": "X", "maximum": "^", "degenerate": "s"}


# ------------------------------------------------------------------ validation
def _check_variables(variables, name="variables") -> tuple:
    if isinstance(variables, sp.Symbol):
        variables = (variables,)
    if isinstance(variables, (str, bytes)) or not hasattr(variables, "__iter__"):
        raise TypeError(f"{name} must be a sequence of sympy Symbols, got {variables!r}")
    variables = tuple(variables)
    if not variables:
        raise ValueError(f"{name} must not be empty")
    for v in variables:
        if not isinstance(v, sp.Symbol):
            raise TypeError(f"{name} must contain sympy Symbols, got {v!r}")
    if len(set(variables)) != len(variables):
        raise ValueError(f"{name} must be distinct, got {variables}")
    return variables


def _check_polynomial(f, variables, name="f") -> sp.Expr:
    if isinstance(f, (str, bytes)) or not isinstance(f, (sp.Basic, int, float)) or isinstance(f, bool):
        raise TypeError(f"{name} must be a sympy expression, got {f!r}")
    f = sp.sympify(f)
    if not f.is_polynomial(*variables):
        raise ValueError(f"{name} must be a polynomial in {variables}, got {f}")
    extra = f.free_symbols - set(variables)
    if extra:
        raise ValueError(f"{name} has symbols {sorted(map(str, extra))} besides {variables}")
    return f


def _check_w(w, n, name="w") -> tuple:
    if isinstance(w, (str, bytes)) or not hasattr(w, "__iter__"):
        raise TypeError(f"{name} must be a sequence of {n} numbers, got {w!r}")
    w = tuple(w)
    if len(w) != n:
        raise ValueError(f"{name} must have length {n}, got {len(w)}")
    out = []
    for c in w:
        if isinstance(c, (bool, np.bool_, str, bytes)):
            raise TypeError(f"{name} must contain numbers, got {c!r}")
        if isinstance(c, (float, np.floating)):
            check_real(c, name)
            c = sp.nsimplify(float(c), rational=True)   # exact: the binary value as a rational
        try:
            c = sp.sympify(c)
        except (sp.SympifyError, TypeError):
            raise TypeError(f"{name} must contain numbers, got {c!r}") from None
        if not isinstance(c, sp.Expr) or c.free_symbols or c.is_real is False:
            raise ValueError(f"{name} must contain real numbers, got {c!r}")
        out.append(c)
    return tuple(out)


# ------------------------------------------------------------------ exact arithmetic
def is_exactly_zero(value) -> bool:
    """Whether a constant sympy expression is exactly 0.

    Algebraic numbers (radicals, ``CRootOf``) are decided through their
    minimal polynomial, which is ``t`` exactly for 0; anything else through
    ``sympy.simplify``. Raises ``ValueError`` for an expression with free
    symbols and when neither test decides.
    """
    value = sp.sympify(value)
    if value.free_symbols:
        raise ValueError(f"value must be a constant, got {value}")
    if value == 0:
        return True
    if value.is_number and value.is_zero is not None and value.is_rational:
        return bool(value.is_zero)
    try:
        return sp.minimal_polynomial(value, _T) == _T
    except (NotImplementedError, sp.polys.polyerrors.NotAlgebraic):
        pass
    simp = sp.simplify(value)
    if simp == 0:
        return True
    if simp.is_zero is False:
        return False
    raise ValueError(f"cannot decide exactly whether {value} is zero")


def exact_sign(value) -> int:
    """-1, 0 or 1: the sign of a constant sympy expression, decided exactly.

    Zero by :func:`is_exactly_zero`; a non-zero value's sign by evaluation
    with 50 digits (rigorous once the value is known to be non-zero, as
    sympy's ``evalf`` tracks its error).
    """
    if is_exactly_zero(value):
        return 0
    num = sp.N(sp.sympify(value), 50)
    re_, im_ = num.as_real_imag()
    if abs(im_) > abs(re_) * sp.Float("1e-40") and not is_exactly_zero(sp.im(sp.sympify(value))):
        raise ValueError(f"value must be real, got {value}")
    return 1 if re_ > 0 else -1


# ------------------------------------------------------------------ critical points
def perturb(f, variables, w) -> sp.Expr:
    """f_w(x) = f(x) + <w, x>, the linear perturbation of Theorem 3.10 of 003."""
    variables = _check_variables(variables)
    f = _check_polynomial(f, variables)
    w = _check_w(w, len(variables))
    return f + sum(c * v for c, v in zip(w, variables))


@dataclass(frozen=True)
class PolynomialCriticalPoint:
    """An isolated real critical point of a polynomial, exactly.

    ``point`` holds exact coordinates, ``hessian`` the exact Hessian there,
    ``det`` its determinant (simplified), ``value`` f at the point, ``kind``
    one of "minimum", "maximum", "saddle" (non-degenerate, by the signs of
    the leading principal minors) or "degenerate" (det = 0 exactly).
    """

    point: tuple
    hessian: sp.Matrix
    det: sp.Expr
    value: sp.Expr
    kind: str

    @property
    def nondegenerate(self) -> bool:
        """True when det Hess f != 0 at the point (003, Definition 3.7)."""
        return self.kind != "degenerate"

    def numeric(self) -> np.ndarray:
        """The coordinates as floats."""
        return np.array([float(sp.N(c, 30)) for c in self.point])


def _tidy(value, max_ops: int = 60) -> sp.Expr:
    """A shorter exact form of ``value`` when that is cheap (small expressions only)."""
    value = sp.sympify(value)
    if value.is_Rational or sp.count_ops(value) > max_ops:
        return value
    return sp.radsimp(sp.expand(value))


def _real_solution(sol):
    """The solution with real coordinates if every imaginary part is exactly zero, else None."""
    out = []
    for c in sol:
        c = sp.sympify(c)
        if c.has(sp.I):
            re_, im_ = sp.expand_complex(c).as_real_imag()
            if not is_exactly_zero(im_):
                return None
            c = re_
        out.append(_tidy(c))
    return tuple(out)


def _shape_solutions(f, variables):
    """Real solutions of grad f = 0 from a lex Groebner basis in shape position, else None.

    Shape position: the basis is x_i - g_i(x_n) (i < n) and one polynomial
    p(x_n). The real roots of p are exact (radicals up to degree 2, else
    ``CRootOf``), and x_i = g_i(root).
    """
    *head, last = variables
    G = sp.groebner([sp.diff(f, v) for v in variables], *variables, order="lex")
    polys = list(G.exprs)
    if len(polys) != len(variables) or polys[-1].free_symbols - {last}:
        return None
    forms = []
    for v, p in zip(head, polys[:-1]):
        P = sp.Poly(p, *variables)
        rest = sp.expand(p - P.coeff_monomial(v) * v)
        if P.degree(v) != 1 or not P.coeff_monomial(v).is_number or rest.free_symbols - {last}:
            return None
        forms.append(-rest / P.coeff_monomial(v))
    try:
        roots = sp.Poly(polys[-1], last).real_roots(radicals=True)
    except NotImplementedError:                    # coefficients not rational (e.g. sqrt(3))
        return None
    return [tuple(_tidy(g.subs(last, r)) for g in forms) + (r,) for r in sorted(set(roots), key=sp.default_sort_key)]


def _kind(H: sp.Matrix, det) -> str:
    if exact_sign(det) == 0:
        return "degenerate"
    n = H.shape[0]
    minors = [exact_sign(H[:k, :k].det()) for k in range(1, n + 1)]
    if all(s > 0 for s in minors):
        return "minimum"
    if all(s == (-1) ** k for k, s in enumerate(minors, start=1)):
        return "maximum"
    return "saddle"


def critical_set_is_finite(f, variables) -> bool:
    """Whether grad f = 0 has finitely many (complex) solutions (a zero-dimensional ideal)."""
    variables = _check_variables(variables)
    f = _check_polynomial(f, variables)
    grad = [sp.diff(f, v) for v in variables]
    if all(g == 0 for g in grad):
        return False
    return bool(sp.groebner(grad, *variables, order="lex").is_zero_dimensional)


def critical_points(f, variables) -> list[PolynomialCriticalPoint]:
    """Every real critical point of the polynomial ``f``, exactly, sorted by the first coordinate.

    Solves grad f = 0 through a lex Groebner basis: in shape position
    (x_i = g_i(x_n), p(x_n) = 0, tried in the given and the reversed order
    of the variables) the real roots of p are exact algebraic numbers
    (radicals or ``CRootOf``); otherwise ``sympy.solve_poly_system``, keeping
    the solutions whose imaginary parts are exactly zero. Raises
    ``ValueError`` when the critical points are not isolated (a curve or a
    surface of them, as for f = (x^2 + y^2 - 1)^2): no finite list exists.
    """
    variables = _check_variables(variables)
    f = _check_polynomial(f, variables)
    if not critical_set_is_finite(f, variables):
        raise ValueError("the critical points of f are not isolated (grad f = 0 is not a "
                         "zero-dimensional system): f is not a Morse function")
    H = sp.hessian(f, variables)
    sols = None
    for order in (variables, variables[::-1]):      # shape position in either order
        sols = _shape_solutions(f, order)
        if sols is not None:
            sols = [tuple(dict(zip(order, s))[v] for v in variables) for s in sols]
            break
    if sols is None:                              # not in shape position: sympy's solver
        grad = [sp.diff(f, v) for v in variables]
        sols = [s for s in (_real_solution(sol) for sol in sp.solve_poly_system(grad, *variables) or [])
                if s is not None]
    out = []
    for coords in sols:
        at = dict(zip(variables, coords))
        Hp = H.subs(at).applyfunc(_tidy)
        det = _tidy(Hp.det())
        out.append(PolynomialCriticalPoint(coords, Hp, det, _tidy(f.subs(at)), _kind(Hp, det)))
    out.sort(key=lambda c: tuple(float(sp.N(x, 30)) for x in c.point))
    return out


@dataclass(frozen=True)
class MorseReport:
    """The critical points of f_w = f + <w, x> (:func:`morse_report`).

    ``all_nondegenerate`` is the conclusion of Theorem 3.10 of 003 for this
    ``w``; ``kinds`` counts minima, maxima, saddles and degenerate points.
    """

    f: sp.Expr
    variables: tuple
    w: tuple
    perturbed: sp.Expr
    points: list

    @property
    def all_nondegenerate(self) -> bool:
        """True when every critical point has det Hess != 0 (the conclusion of Theorem 3.10)."""
        return all(p.nondegenerate for p in self.points)

    @property
    def kinds(self) -> dict:
        """Counts of "minimum", "maximum", "saddle" and "degenerate" points."""
        out = {k: 0 for k in KIND_COLORS}
        for p in self.points:
            out[p.kind] += 1
        return out


def morse_report(f, variables, w) -> MorseReport:
    """The exact critical points of f + <w, x> with their Hessian determinants and types."""
    variables = _check_variables(variables)
    f = _check_polynomial(f, variables)
    w = _check_w(w, len(variables))
    fw = f + sum(c * v for c, v in zip(w, variables))
    return MorseReport(f, variables, w, fw, critical_points(fw, variables))


def exceptional_perturbations(f, variables, w_symbols) -> list:
    """Polynomials in w whose common zeros contain every w for which f + <w, x> has a degenerate critical point.

    The degenerate critical points of f_w solve grad f(x) + w = 0 and
    det Hess f(x) = 0; eliminating x (a lex Groebner basis with x before w)
    leaves the elimination ideal, returned as its factored generators. Its
    zero set is the (complex) Zariski closure of the exceptional set; the
    real exceptional w lie in it. If the list holds a non-zero polynomial,
    the exceptional set has Lebesgue measure zero, as Theorem 3.10 of 003
    says. An empty list means every w is exceptional (f linear, say).
    """
    variables = _check_variables(variables)
    f = _check_polynomial(f, variables)
    w_symbols = _check_variables(w_symbols, "w_symbols")
    if len(w_symbols) != len(variables):
        raise ValueError(f"w_symbols must have length {len(variables)}, got {len(w_symbols)}")
    if set(w_symbols) & set(variables):
        raise ValueError("w_symbols must differ from variables")
    eqs = [sp.diff(f, v) + c for v, c in zip(variables, w_symbols)]
    eqs.append(sp.hessian(f, variables).det())
    G = sp.groebner(eqs, *variables, *w_symbols, order="lex")
    return [sp.factor(p) for p in G.exprs if not p.free_symbols & set(variables)]


# ------------------------------------------------------------------ figure
def draw_contours(ax, f, variables, w=(0, 0), extent=(-1.6, 1.6), levels=20, points=None, title=None):
    """One panel: filled contours of f + <w, x> for two variables, critical points marked by type.

    An integer ``levels`` places the contour levels at quantiles of the
    values on the grid (each band covers the same area), so that shallow
    valleys show next to steep walls.

    ``points`` is a list of :class:`PolynomialCriticalPoint` (default: the
    exact critical points when they are isolated, none otherwise).
    """
    variables = _check_variables(variables)
    if len(variables) != 2:
        raise ValueError(f"variables must be two symbols for a contour plot, got {len(variables)}")
    fw = perturb(f, variables, w)
    lo = check_real(extent[0], "extent[0]")
    hi = check_real(extent[1], "extent[1]")
    if not lo < hi:
        raise ValueError(f"extent must be increasing, got {extent}")
    fn = sp.lambdify(variables, fw, "numpy")
    g = np.linspace(lo, hi, 301)
    Xg, Yg = np.meshgrid(g, g)
    Z = fn(Xg, Yg) * np.ones_like(Xg)
    norm = None
    if isinstance(levels, (int, np.integer)):       # equal areas per band: valleys stay visible
        from matplotlib.colors import BoundaryNorm
        levels = np.unique(np.quantile(Z, np.linspace(0.0, 1.0, int(levels) + 1)))
        norm = BoundaryNorm(levels, ncolors=256)
    cs = ax.contourf(Xg, Yg, Z, levels=levels, cmap="Blues_r", norm=norm)
    ax.contour(Xg, Yg, Z, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    if points is None and critical_set_is_finite(fw, variables):
        points = critical_points(fw, variables)
    for p in points or []:
        x0, y0 = p.numeric()
        ax.plot(x0, y0, KIND_MARKERS[p.kind], color=KIND_COLORS[p.kind], ms=9, mec="k",
                label=p.kind)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel(f"${sp.latex(variables[0])}$")
    ax.set_ylabel(f"${sp.latex(variables[1])}$")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return cs


# ------------------------------------------------------------------ networks
@dataclass(frozen=True)
class UpperBlockReport:
    """The Hessian block of layers k+1..L of 003's Phi and its structural kernel (:func:`upper_block`).

    ``indices``: flat positions of (W_l, b_l), l = k+1..L; ``eigenvalues``:
    ascending spectrum of that block; ``feature``: the singular values of
    [F_k, 1_N]; ``directions``: columns are flat parameter vectors, one per
    pair (z, j) with z in the kernel of [F_k, 1_N] and j a unit of layer k+1,
    along which Phi does not change for any value of the upper parameters;
    ``residual``: ||H_block D|| / ||H_block|| for those directions D.
    """

    k: int
    indices: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray
    feature: np.ndarray
    directions: np.ndarray
    residual: float

    @property
    def predicted_zeros(self) -> int:
        """(n_k + 1 - rank [F_k, 1]) * n_{k+1}: the dimension of the structural kernel."""
        return self.directions.shape[1]

    def zero_count(self, rtol: float = 1e-12) -> int:
        """How many eigenvalues of the block lie within ``rtol`` times the largest modulus of 0."""
        rtol = check_real(rtol, "rtol", positive=True)
        e = self.eigenvalues
        return int(np.sum(np.abs(e) <= rtol * np.abs(e).max()))


def upper_block(objective, theta, k: int) -> UpperBlockReport:
    """The Hessian of 003's Phi on the layers k+1..L, with the directions its kernel must contain.

    Phi depends on (W_{k+1}, b_{k+1}) only through
    G_{k+1} = [F_k, 1_N] [W_{k+1}; b_{k+1}^T] (003, Section 2), so for z in the
    kernel of [F_k, 1_N] the direction that moves unit j's incoming weights
    and bias by z leaves Phi unchanged whatever the upper parameters: the
    block Hessian on any set of layers containing k+1 annihilates it, at
    every point. When n_k >= N the kernel is not trivial, so the
    non-degeneracy hypothesis of Theorem 3.8 of 003 (on a set of layers
    containing k+1) never holds there.
    """
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a lossland.objective.Objective, got {type(objective).__name__}")
    net = objective.net
    k = check_int(k, "k", 1, net.depth - 1)
    theta = net.check_params(theta)
    if not net.biases:
        raise ValueError("the network needs biases (the matrix [F_k, 1_N] of 003)")
    E = paper_matrices(objective, theta).E(k)
    U, sv, Vt = np.linalg.svd(E)
    rank = int(np.sum(sv > max(E.shape) * np.finfo(float).eps * sv[0]))
    Z = Vt[rank:].T                                  # kernel of E, (n_k + 1) x dim
    start = net.weight_slice(k + 1).start
    idx = np.arange(start, net.n_params)
    n_in, n_out = net.widths[k], net.widths[k + 1]
    dirs = []
    for j in range(n_out):
        for c in range(Z.shape[1]):
            d = np.zeros(net.n_params)
            dw = d[net.weight_slice(k + 1)].copy()
            dw[j * n_in:(j + 1) * n_in] = Z[:n_in, c]
            d[net.weight_slice(k + 1)] = dw
            d[net.bias_slice(k + 1).start + j] = Z[n_in, c]
            dirs.append(d[idx])
    D = np.array(dirs).T if dirs else np.zeros((idx.size, 0))
    H = objective.hessian(theta)[np.ix_(idx, idx)]
    H = 0.5 * (H + H.T)
    res = float(np.linalg.norm(H @ D) / np.linalg.norm(H)) if D.size else 0.0
    return UpperBlockReport(k, idx, H, np.linalg.eigvalsh(H), sv, D, res)
