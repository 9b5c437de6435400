"""Linear independence of 004's function sets: symbolic reduction and numeric rank.

004 needs the functions of its sets (the catalogue
:mod:`lossland.bad_minima.function_sets`) linearly independent: Assumption 1
(B2: sigma solves no ODE (6) (A x^2 + B x + C) y'' + (D x + E) y' + F y + G = 0
with (A, ..., G) != 0), Lemma 3 (the split of B3 into B3,1, B3,2, B3,3 and
B~3), Lemma 8 and Claims 1 and 2 of Assumption 2. Two independent ways to
decide it:

(a) symbolic (:func:`reduction`, :func:`coefficient_matrix`, :func:`exact_rank`,
    :func:`ode6_reduction`, :func:`mish_ode45_reduction`): every atom is written
    as a rational function of x and a few *generators* (sigmoid(x), tanh(x),
    erf(x/sqrt 2), e^{-x^2/2}/sqrt(2 pi), log(1 + e^x), ...), as the proofs of
    Lemmas 1 and 4 do. If the generators are algebraically independent over
    C(x) (the transcendence facts the proofs quote: Liouville, Lemmas 9-12 of
    004), a linear relation among the functions holds iff it holds coefficient
    by coefficient, so the rank of the rational coefficient matrix is the exact
    dimension of the span (:func:`linear_relations`, :func:`split_gaps`).
(b) numeric (:func:`evaluation_matrix`, :func:`singular_values`,
    :func:`numeric_rank`, :func:`reduction_set`): the matrix [b_j(x_i)] at
    seeded random points or given samples, its singular values in float64 or
    with mpmath at ``dps`` digits, the rank decision with its margins, and the
    reduction set red(.) of 004, eq. (109), whose size is N_0.

:func:`polynomial_solutions` is the Liouville criterion of Appendix B
(chapter G10).

Examples
--------
>>> from lossland.bad_minima.independence import exact_rank, numeric_rank
>>> exact_rank("B2", "sigmoid"), exact_rank("B2", "sin")
(7, 6)
>>> numeric_rank("B2", "exp", dps=30).rank
4
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

from .._validation import as_float_array, check_dps, check_int, check_real
from ..activations import Activation
from ._common import activation_key, as_samples, mp_greedy_basis, mp_log10
from .function_sets import ATOMS, FunctionSet, _as_analytic, as_function_set, evaluate, function_exprs

__all__ = [
    "Reduction",
    "reduction",
    "verify_reduction",
    "coefficient_matrix",
    "exact_rank",
    "linear_relations",
    "check_relation",
    "relation_text",
    "split_gaps",
    "OdeReduction",
    "ode6_reduction",
    "mish_ode45_reduction",
    "mish_tau",
    "sample_points",
    "evaluation_matrix",
    "singular_values",
    "RankReport",
    "rank_report",
    "format_log10",
    "numeric_rank",
    "reduction_set",
    "numeric_relations",
    "polynomial_solutions",
]

_x = Activation.symbol


def _cached(fn):
    """Memoise a function whose first argument is an Activation (unhashable: it holds a dict)."""
    store = {}

    def wrapper(act, *args):
        k = (activation_key(act),) + args
        if k not in store:
            store[k] = fn(act, *args)
        return store[k]

    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper



# ------------------------------------------------------ symbolic reduction
@dataclass(frozen=True)
class Reduction:
    """sigma, sigma', sigma'' (and at sigma(x)) as rational functions of x and generators.

    Attributes
    ----------
    activation : Activation
    gens : tuple of sympy.Symbol
        The generators, e.g. ``s0`` = sigmoid(x), ``s1`` = sigmoid(sigma(x)).
    values : dict
        Generator -> its value as an expression in x.
    derivatives : dict
        Generator -> its x-derivative as a rational function of x and the generators.
    atoms : dict
        Atom name (:data:`ATOMS`) -> rational function of x and the generators.
    relations : tuple
        Polynomials in the generators that vanish (sin^2 + cos^2 - 1); the
        coefficient matrix is taken modulo them.
    """

    activation: Activation
    gens: tuple
    values: dict
    derivatives: dict
    atoms: dict
    relations: tuple = ()

    def substitute(self, expr):
        """Replace every generator by its value: an expression in x only."""
        return sp.sympify(expr).xreplace(self.values)

    def derive(self, expr):
        """d/dx of a rational function of x and the generators, by the chain rule."""
        expr = sp.sympify(expr)
        out = sp.diff(expr, _x)
        for g in self.gens:
            out += sp.diff(expr, g) * self.derivatives[g]
        return sp.together(out)


def _kernel(name, params, z, zprime, tag):
    """sigma(z), sigma'(z), sigma''(z) in generators of level ``tag``; z' is dz/dx.

    Returns (gens, values_as_functions_of_z, derivative, (sig, d1, d2), relations).
    """
    if name == "sigmoid":
        S = sp.Symbol(f"s{tag}")
        return ([S], {S: lambda w: 1 / (1 + sp.exp(-w))}, {S: S * (1 - S) * zprime},
                (S, S * (1 - S), S * (1 - S) * (1 - 2 * S)), ())
    if name == "tanh":
        T = sp.Symbol(f"t{tag}")
        return ([T], {T: sp.tanh}, {T: (1 - T**2) * zprime}, (T, 1 - T**2, -2 * T * (1 - T**2)), ())
    if name in ("swish", "silu"):
        b = sp.nsimplify(params.get("beta", 1.0))
        S = sp.Symbol(f"s{tag}")
        return ([S], {S: lambda w: 1 / (1 + sp.exp(-b * w))}, {S: b * S * (1 - S) * zprime},
                (z * S, S + b * z * S * (1 - S), b * S * (1 - S) * (2 + b * z - 2 * b * z * S)), ())
    if name == "gelu":
        E, P = sp.Symbol(f"E{tag}"), sp.Symbol(f"g{tag}")   # erf(z/sqrt2), e^{-z^2/2}/sqrt(2 pi)
        return ([E, P], {E: lambda w: sp.erf(w / sp.sqrt(2)),
                         P: lambda w: sp.exp(-w**2 / 2) / sp.sqrt(2 * sp.pi)},
                {E: 2 * P * zprime, P: -z * P * zprime},
                (z * (1 + E) / 2, (1 + E) / 2 + z * P, (2 - z**2) * P), ())
    if name == "mish":
        S = sp.Symbol(f"s{tag}")
        tau = S * (2 - S) / (S**2 - 2 * S + 2)           # tanh(log(1 + e^z)), corrected eq. (46)
        dS = S * (1 - S)
        t1 = sp.together(sp.diff(tau, S) * dS)
        t2 = sp.together(sp.diff(t1, S) * dS)
        return ([S], {S: lambda w: 1 / (1 + sp.exp(-w))}, {S: dS * zprime},
                (z * tau, tau + z * t1, 2 * t1 + z * t2), ())
    if name == "exp":
        E = sp.Symbol(f"e{tag}")
        return ([E], {E: sp.exp}, {E: E * zprime}, (E, E, E), ())
    if name == "sin":
        S, C = sp.Symbol(f"sn{tag}"), sp.Symbol(f"cs{tag}")
        return ([S, C], {S: sp.sin, C: sp.cos}, {S: C * zprime, C: -S * zprime}, (S, C, -S),
                (C**2 + S**2 - 1,))
    if name == "identity":
        return ([], {}, {}, (z, sp.Integer(1), sp.Integer(0)), ())
    raise ValueError(f"no symbolic reduction for activation {name!r}")


def _softplus_levels(a):
    """Softplus with alpha a: level 0 and level 1 (sigma(sigma(x)) = log(2 + e^{a x}) / a)."""
    s0, L0, L1 = sp.Symbol("s0"), sp.Symbol("l0"), sp.Symbol("l1")
    values = {s0: 1 / (1 + sp.exp(-a * _x)), L0: sp.log(1 + sp.exp(a * _x)), L1: sp.log(2 + sp.exp(a * _x))}
    # d/dx log(2 + e^{ax}) = a e^{ax}/(2 + e^{ax}) = a s0/(2 - s0), since e^{ax} = s0/(1 - s0)
    derivs = {s0: a * s0 * (1 - s0), L0: a * s0, L1: a * s0 / (2 - s0)}
    S1 = 1 / (2 - s0)               # sigmoid(a sigma(x)) = sigmoid(l0) = (1 + e^{ax})/(2 + e^{ax})
    atoms = {"x": _x, "s": L0 / a, "s1": s0, "s2": a * s0 * (1 - s0),
             "ss": L1 / a, "s1s": S1, "s2s": a * S1 * (1 - S1)}
    return (s0, L0, L1), values, derivs, atoms


@_cached
def _reduction(act: Activation) -> Reduction:
    name, params = act.name, act.params
    if name == "softplus":
        a = sp.nsimplify(params.get("alpha", 1.0))
        gens, values, derivs, atoms = _softplus_levels(a)
        return Reduction(act, gens, values, derivs, {k: sp.sympify(v) for k, v in atoms.items()}, ())
    g0, v0, d0, (f0, f1, f2), r0 = _kernel(name, params, _x, sp.Integer(1), 0)
    values = {g: v(_x) for g, v in v0.items()}
    derivs = dict(d0)
    z, zx, zp = f0, act.expr, f1
    g1, v1, d1, (h0, h1, h2), r1 = _kernel(name, params, z, zp, 1)
    values.update({g: v(zx) for g, v in v1.items()})
    derivs.update(d1)
    atoms = {"x": _x, "s": f0, "s1": f1, "s2": f2, "ss": h0, "s1s": h1, "s2s": h2}
    atoms = {k: sp.sympify(v) for k, v in atoms.items()}
    return Reduction(act, tuple(g0) + tuple(g1), values, derivs, atoms, tuple(r0) + tuple(r1))


def reduction(activation) -> Reduction:
    """The generators of 004's proofs for ``activation`` (Lemma 1, A.2.1; Lemma 4, A.2.6).

    sigmoid, tanh, SiLU, Swish(beta): sigma, sigma', sigma'' are polynomials in
    s = sigmoid(beta x) (t = tanh x) and x; softplus: in x, sigmoid(alpha x) and
    log(1 + e^{alpha x}); GELU: in x, erf(x/sqrt 2) and e^{-x^2/2}/sqrt(2 pi)
    (eq. (41)-(42)); Mish: rational in x and sigmoid(x), through
    tanh(log(1 + e^x)) = s(2 - s)/(s^2 - 2s + 2) (the corrected eq. (46)).
    The composite atoms add one more set of generators at sigma(x). The
    counterexamples exp, sin and the identity are included.
    """
    return _reduction(_as_analytic(activation))


def _normal_form(poly_expr, red: Reduction, gens):
    if not red.relations:
        return sp.expand(poly_expr)
    # lex order with cos before sin: c^2 -> 1 - s^2; the relations are a Groebner basis
    order = sorted(gens, key=lambda g: (0 if str(g).startswith("cs") else 1, str(g)))
    _, rem = sp.reduced(sp.expand(poly_expr), list(red.relations), *order, order="lex")
    return sp.expand(rem)


@_cached
def _atom_fractions(act: Activation):
    """Each atom as (numerator, denominator), two Polys in x and the generators."""
    red = _reduction(act)
    gens = (_x,) + tuple(red.gens)
    out = []
    for a in ATOMS:
        n, d = sp.fraction(sp.together(red.atoms[a]))
        out.append((sp.Poly(n, *gens, domain="QQ"), sp.Poly(d, *gens, domain="QQ")))
    return gens, out


@_cached
def _coefficient_matrix(act: Activation, fs: FunctionSet):
    red = _reduction(act)
    gens, fr = _atom_fractions(act)
    top = [max(m[k] for m in fs.members) for k in range(len(ATOMS))]
    polys = []
    for m in fs.members:
        # b_j times the common denominator prod_a den_a^top_a: a polynomial
        p = sp.Poly(1, *gens, domain="QQ")
        for k, (num, den) in enumerate(fr):
            if m[k]:
                p = p * num ** m[k]
            if top[k] - m[k]:
                p = p * den ** (top[k] - m[k])
        if red.relations:
            p = sp.Poly(_normal_form(p.as_expr(), red, gens), *gens, domain="QQ")
        polys.append(p)
    monos = sorted({mono for p in polys for mono in p.as_dict()}, reverse=True)
    index = {mono: i for i, mono in enumerate(monos)}
    rows = [[sp.QQ(0)] * len(polys) for _ in monos]
    for j, p in enumerate(polys):
        for mono, c in p.rep.to_dict().items():
            rows[index[mono]][j] = c
    M = DomainMatrix(rows, (len(monos), len(polys)), sp.QQ)
    mono_exprs = [sp.Mul(*[g**k for g, k in zip(gens, mono)]) for mono in monos]
    return mono_exprs, M


def coefficient_matrix(fset, activation):
    """Rational coefficient matrix of ``fset`` in the monomials of x and the generators.

    Column j holds the coefficients of b_j times a common denominator (taken
    modulo the relations of the reduction). Returns ``(monomials, M)``. With
    algebraically independent generators, rank M = dim span of the set.
    """
    fs, act = as_function_set(fset), _as_analytic(activation)
    monos, M = _coefficient_matrix(act, fs)
    return monos, M.to_Matrix()


def exact_rank(fset, activation, columns=None) -> int:
    """dim span of ``fset`` for ``activation`` from :func:`coefficient_matrix` (exact, over Q).

    ``columns`` (optional) restricts to the members with these indices, e.g.
    ``B.groups["rest"]`` for the set B̃3 of Lemma 3. Valid under the
    transcendence facts 004 quotes (the generators are algebraically
    independent over C(x)); :func:`numeric_rank` checks it without that
    assumption.
    """
    fs, act = as_function_set(fset), _as_analytic(activation)
    M = _coefficient_matrix(act, fs)[1]
    if columns is not None:
        cols = [int(c) for c in columns]
        if not cols or any(c < 0 or c >= len(fs) for c in cols) or len(set(cols)) != len(cols):
            raise ValueError(f"columns must be distinct indices in [0, {len(fs)}), got {columns!r}")
        M = M.extract(list(range(M.shape[0])), cols)
    return int(M.rank())


def linear_relations(fset, activation) -> list:
    """A basis of the rational vectors c with sum_j c_j b_j = 0 (nullspace of the coefficient matrix)."""
    fs, act = as_function_set(fset), _as_analytic(activation)
    _, M = _coefficient_matrix(act, fs)
    out = []
    for v in M.nullspace().to_Matrix().tolist():
        v = [sp.Rational(c) for c in v]
        den = math.lcm(*[int(c.q) for c in v])
        ints = [int(c * den) for c in v]
        g = math.gcd(*ints)
        ints = [c // g for c in ints]
        if next(c for c in ints if c != 0) < 0:
            ints = [-c for c in ints]
        out.append([sp.Integer(c) for c in ints])
    return out


def relation_text(fset, coeffs) -> str:
    """A linear relation sum_j c_j b_j = 0 written out, e.g. ``"σ − σ″ = 0"`` (unit coefficients dropped)."""
    fs = as_function_set(fset)
    if len(coeffs) != len(fs):
        raise ValueError(f"coeffs must have {len(fs)} entries, got {len(coeffs)}")
    out = ""
    for c, lab in zip(coeffs, fs.labels()):
        c = sp.sympify(c)
        if c == 0:
            continue
        sign = "−" if c < 0 else "+"
        mag = abs(c)
        term = lab if mag == 1 else f"{mag}{lab}" if lab != "1" else f"{mag}"
        out += (f" {sign} " if out else ("−" if sign == "−" else "")) + term
    return (out or "0") + " = 0"


def check_relation(fset, activation, coeffs) -> bool:
    """True when sum_j c_j b_j(x) simplifies to 0 as a function of x (sympy, no generators)."""
    fs = as_function_set(fset)
    if len(coeffs) != len(fs):
        raise ValueError(f"coeffs must have {len(fs)} entries, got {len(coeffs)}")
    exprs = function_exprs(fs, activation)
    total = sum(sp.sympify(c) * e for c, e in zip(coeffs, exprs))
    return sp.simplify(total) == 0


# ---------------------------------------------------- the ODE reductions
@dataclass(frozen=True)
class OdeReduction:
    """Substitution of an activation into an ODE with unknown constant coefficients.

    Attributes
    ----------
    coeffs : tuple of sympy.Symbol
        The unknown coefficients (A, ..., G for eq. (6)).
    identity : sympy.Expr
        The left-hand side written in x and the generators (denominators cleared).
    equations : list
        Its coefficients in the monomials of x and the generators (linear forms).
    solutions : sympy.FiniteSet
        ``sympy.linsolve(equations, coeffs)``.
    """

    coeffs: tuple
    identity: sp.Expr
    equations: list
    solutions: object

    @property
    def forces_zero(self) -> bool:
        """True when the only solution is every coefficient = 0."""
        sols = list(self.solutions)
        return len(sols) == 1 and all(v == 0 for v in sols[0])


def _collect(expr, gens):
    poly = sp.Poly(sp.expand(expr), *gens)
    return [c for c in poly.coeffs() if c != 0]


def ode6_reduction(activation) -> OdeReduction:
    """Substitute sigma into eq. (6) of 004, (A x^2 + B x + C) y'' + (D x + E) y' + F y + G = 0.

    sigma, sigma', sigma'' are replaced by their generator form (:func:`reduction`),
    the left-hand side is multiplied by a common denominator, and the
    coefficients of every monomial in x and the generators must vanish (the
    generators are transcendental over C(x)). Assumption 1 holds iff the linear
    system forces A = ... = G = 0 (:attr:`OdeReduction.forces_zero`).
    """
    red = reduction(activation)
    A, B, C, D, E, F, G = coeffs = sp.symbols("A B C D E F G")
    at = red.atoms
    lhs = (A * _x**2 + B * _x + C) * at["s2"] + (D * _x + E) * at["s1"] + F * at["s"] + G
    num, _ = sp.fraction(sp.together(lhs))
    gens = (_x,) + tuple(red.gens)
    num = _normal_form(num, red, gens)
    eqs = _collect(num, gens)
    return OdeReduction(coeffs, num, eqs, sp.linsolve(eqs, list(coeffs)))


def mish_tau():
    """(s, tau, tau', tau'') for Mish: tau = tanh(log(1 + e^x)) as a rational function of s = sigmoid(x).

    The corrected eq. (46)-(48) of 004: tau = s(2 - s)/(s^2 - 2s + 2),
    derivatives by s' = s(1 - s).
    """
    s = sp.Symbol("s0")
    tau = s * (2 - s) / (s**2 - 2 * s + 2)
    t1 = sp.factor(sp.diff(tau, s) * s * (1 - s))
    t2 = sp.factor(sp.diff(t1, s) * s * (1 - s))
    return s, tau, t1, t2


def mish_ode45_reduction() -> OdeReduction:
    """Substitute tau = tanh(log(1 + e^x)) into eq. (45) of 004.

    (A x^3 + B x^2 + C x + D) y'' + (E x^2 + F x + G) y' + (H x + I) y + J = 0,
    the ODE that sigma = x tau satisfies whenever sigma satisfies (6).
    """
    s, tau, t1, t2 = mish_tau()
    A, B, C, D, E, F, G, H, I, J = coeffs = sp.symbols("A B C D E F G H I J")
    lhs = (A * _x**3 + B * _x**2 + C * _x + D) * t2 + (E * _x**2 + F * _x + G) * t1 + (H * _x + I) * tau + J
    num, _ = sp.fraction(sp.together(lhs))
    eqs = _collect(num, (_x, s))
    return OdeReduction(coeffs, sp.expand(num), eqs, sp.linsolve(eqs, list(coeffs)))


# ------------------------------------------------------------- numerics
def sample_points(n_points, seed=0, interval=(-4.0, 4.0)) -> np.ndarray:
    """``n_points`` sorted points drawn uniformly from ``interval`` with ``default_rng(seed)``."""
    n_points = check_int(n_points, "n_points", 1)
    try:
        lo, hi = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise TypeError(f"interval must be a pair of numbers, got {interval!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"interval must be finite with lo < hi, got {interval!r}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(lo, hi, n_points))


def evaluation_matrix(fset, activation, points, dps=None):
    """The matrix [b_j(x_i)] of ``fset`` at ``points``: float64 array, or an ``mpmath.matrix`` at ``dps`` digits.

    The values are those of :func:`lossland.bad_minima.function_sets.evaluate`.
    """
    rows = evaluate(fset, activation, points, dps=dps)
    if dps is None:
        return rows
    with mpmath.workdps(dps):
        return mpmath.matrix(rows)


def singular_values(matrix, dps=None):
    """log10 of the singular values (descending) after scaling every column to unit 2-norm.

    ``matrix``: a 2-d float array, or an ``mpmath.matrix`` together with its
    working precision ``dps``. Returns a float array (mpmath values can lie far
    below the float64 range; a zero column gives ``-inf``). Column scaling does
    not change the rank. Raises ``ValueError`` for NaN/inf entries, an empty
    matrix, or a matrix that is zero (whose rank needs no decision and
    admits no relative tolerance).
    """
    if isinstance(matrix, mpmath.matrix):
        if dps is None:
            raise ValueError("dps must be given for an mpmath matrix")
        with mpmath.workdps(check_dps(dps)):
            A = matrix.copy()
            if A.rows == 0 or A.cols == 0:
                raise ValueError("matrix must not be empty")
            if not all(mpmath.isfinite(A[i, j]) for i in range(A.rows) for j in range(A.cols)):
                raise ValueError("matrix contains NaN or inf entries")
            nonzero = False
            for j in range(A.cols):
                nrm = mpmath.sqrt(mpmath.fsum(A[i, j] ** 2 for i in range(A.rows)))
                if nrm == 0:
                    continue                  # a zero column: a zero singular value
                nonzero = True
                for i in range(A.rows):
                    A[i, j] /= nrm
            if not nonzero:
                raise ValueError("matrix is zero: its rank is 0, no singular values to compare")
            S = mpmath.svd_r(A, compute_uv=False)
            vals = sorted((S[i] for i in range(len(S))), reverse=True)
            return np.array([float(mpmath.log10(v)) if v > 0 else -np.inf for v in vals])
    if dps is not None:
        raise ValueError("dps is only for an mpmath matrix; a float array is decided in float64")
    A = as_float_array(matrix, "matrix", ndim=2)
    if A.size == 0:
        raise ValueError(f"matrix must not be empty, got shape {A.shape}")
    nrm = np.linalg.norm(A, axis=0)
    if not np.any(nrm):
        raise ValueError("matrix is zero: its rank is 0, no singular values to compare")
    s = np.linalg.svd(A / np.where(nrm == 0, 1.0, nrm), compute_uv=False)
    with np.errstate(divide="ignore"):
        return np.log10(s)


@dataclass(frozen=True)
class RankReport:
    """A rank decision with its margins (all singular values as log10).

    ``rank`` counts singular values above ``log10_tol``; ``margin_above`` is
    log10(s_rank / tol) and ``margin_below`` is log10(tol / s_{rank+1}) (decades;
    inf when there is nothing on that side). A trustworthy decision has both
    margins large.
    """

    rank: int
    n_functions: int
    n_points: int
    dps: int | None
    log10_sv: np.ndarray = field(repr=False)
    log10_tol: float

    @property
    def full(self) -> bool:
        return self.rank == self.n_functions

    @property
    def smallest_kept(self) -> float:
        return float(self.log10_sv[self.rank - 1]) if self.rank else -np.inf

    @property
    def largest_dropped(self) -> float:
        return float(self.log10_sv[self.rank]) if self.rank < len(self.log10_sv) else -np.inf

    @property
    def margin_above(self) -> float:
        return self.smallest_kept - self.log10_tol if self.rank else np.inf

    @property
    def margin_below(self) -> float:
        return self.log10_tol - self.largest_dropped

    def summary(self) -> str:
        prec = "float64" if self.dps is None else f"mpmath {self.dps} digits"
        dropped = "none" if self.rank == len(self.log10_sv) else format_log10(self.largest_dropped)
        return (f"rank {self.rank}/{self.n_functions} ({prec}, N={self.n_points}): "
                f"smallest kept {format_log10(self.smallest_kept)}, tol {format_log10(self.log10_tol)}, "
                f"largest dropped {dropped}")


def format_log10(v: float) -> str:
    """10**v with one significant digit (v may lie far below the float64 range)."""
    if v == -np.inf:
        return "0"
    e = math.floor(v)
    return f"{10 ** (v - e):.0f}e{e:+03d}" if round(10 ** (v - e)) < 10 else f"1e{e + 1:+03d}"


def rank_report(log10_sv, n_points, dps=None, log10_tol=None) -> RankReport:
    """Decide the rank from log10 singular values (as :func:`singular_values` returns them).

    ``n_points``: the number of sample points (rows), an integer >= 1.
    Default tolerance: float64 max(N, n) eps s_max (numpy's matrix_rank rule);
    mpmath s_max 10^(-dps/2): evaluations carry relative errors of about
    10^-dps, so half the digits are left as a margin on each side.
    """
    lsv = as_samples(log10_sv, "log10_sv", allow_minus_inf=True)
    if lsv.size == 0:
        raise ValueError("log10_sv must not be empty")
    lsv = np.sort(lsv)[::-1]
    if not np.isfinite(lsv[0]):
        raise ValueError("log10_sv: every singular value is zero, no relative tolerance exists")
    n_points = check_int(n_points, "n_points", 1)
    dps = check_dps(dps, allow_none=True)
    n = lsv.size
    if log10_tol is None:
        if dps is None:
            log10_tol = lsv[0] + math.log10(max(n_points, n) * np.finfo(float).eps)
        else:
            log10_tol = lsv[0] - dps / 2
    else:
        log10_tol = check_real(log10_tol, "log10_tol")
    rank = int(np.sum(lsv > log10_tol))
    return RankReport(rank, n, n_points, dps, lsv, float(log10_tol))


def numeric_rank(fset, activation, n_points=None, seed=0, interval=(-4.0, 4.0), dps=None,
                 log10_tol=None) -> RankReport:
    """Rank of [b_j(x_i)] at ``n_points`` seeded random points (default 2 len(fset) + 10)."""
    fs = as_function_set(fset)
    n = 2 * len(fs) + 10 if n_points is None else n_points
    pts = sample_points(n, seed, interval)
    M = evaluation_matrix(fs, activation, pts, dps=dps)
    return rank_report(singular_values(M, dps=dps), n, dps, log10_tol)


def reduction_set(activation, x, names="B3_nested", *, dps: int = 60, rtol: float = 1e-40) -> dict:
    """The reduction set red(B) of 004, eq. (109), of a function set at the samples ``x``.

    ``names``: a set, a catalogue name or ASCII names (default the 34 of
    ``"B3_nested"``). Gram-Schmidt in ``dps``-digit arithmetic over the columns
    in order; a column is dropped when its residual is at most ``rtol`` times
    its norm (it lies in the span of the earlier ones). Returns a dict with
    ``rank`` (= |red|), ``kept`` and ``dropped`` (names), ``log10_ratios``
    (name -> log10 of its residual over its norm), and the decision margins
    ``log10_kept_min`` (smallest residual ratio kept) and
    ``log10_dropped_max`` (largest ratio dropped; ``-inf`` if none).
    """
    fs = as_function_set(names, "names")
    dps = check_dps(dps, 20)
    rtol = check_real(rtol, "rtol", positive=True)
    rows = evaluate(fs, activation, x, dps=dps)
    with mpmath.workdps(dps):
        cols = [[r[j] for r in rows] for j in range(len(fs))]
        _, kept, ratios = mp_greedy_basis(cols, mpmath.mpf(rtol))
        lg = mp_log10(ratios)
    names = fs.names
    kept_names = [names[j] for j in kept]
    dropped = [n for j, n in enumerate(names) if j not in kept]
    return {"rank": len(kept), "kept": kept_names, "dropped": dropped, "log10_ratios": dict(zip(names, lg)),
            "log10_kept_min": min(lg[j] for j in kept) if kept else -np.inf,
            "log10_dropped_max": max((lg[j] for j in range(len(names)) if j not in kept), default=-np.inf)}


def numeric_relations(fset, activation, k: int, n_points: int = 40):
    """The k linear relations of a rank-deficient set read off float64 numbers, as rational vectors.

    The last k right singular vectors of [b_j(x_i)] (columns scaled to unit
    norm, at :func:`sample_points`) span the numerical null space; pivoted QR
    picks k columns and the basis is brought to reduced row echelon form.
    Returns ``(R, deviation)``: R a sympy Matrix of the entries rounded to 8
    digits and made rational (``nsimplify``), and the largest distance of an
    entry from an integer (small when the relations have integer
    coefficients, as for exp and sin on B2, chapter G3). Compare with the exact
    :func:`linear_relations`.
    """
    from scipy.linalg import qr

    fs = as_function_set(fset)
    k = check_int(k, "k", 1, len(fs))
    A = evaluation_matrix(fs, activation, sample_points(n_points))
    nrm = np.linalg.norm(A, axis=0)
    V = np.linalg.svd(A / nrm)[2][-k:] / nrm
    piv = qr(V, pivoting=True)[2][:k]
    R = np.linalg.solve(V[:, piv], V)                        # reduced row echelon form
    dev = float(np.abs(R - np.round(R)).max())               # how far from integers
    return sp.Matrix(R).applyfunc(lambda c: sp.nsimplify(round(c, 8))), dev


def split_gaps(fset, activation) -> list:
    """The exact rank gained by adding B31, B32, B33 to B~3 (the "rest" group), one at a time and together.

    Returns ``[g1, g2, g3, g_all]``; Lemma 3 of 004 (span B3,i meets span B~3
    only in 0, the B3,i independent) holds exactly when this is [1, 1, 1, 3].
    ``fset`` must have the groups B31, B32, B33 and rest (the B3 sets of the
    catalogue).
    """
    fs = as_function_set(fset)
    missing = {"B31", "B32", "B33", "rest"} - set(fs.groups)
    if missing:
        raise ValueError(f"fset must have the groups B31, B32, B33 and rest; {fs.name} lacks {sorted(missing)}")
    rest = list(fs.groups["rest"])
    base = exact_rank(fs, activation, columns=rest)
    gaps = [exact_rank(fs, activation, columns=rest + list(fs.groups[g])) - base for g in ("B31", "B32", "B33")]
    return gaps + [exact_rank(fs, activation) - base]


# ------------------------------------------------ differential algebra (G10)
def polynomial_solutions(rhs, degree: int) -> list:
    """The polynomial solutions R of degree <= ``degree`` of R' - 2 x R = rhs (004, Appendix B).

    By Liouville's theorem, int f e^{-x^2} dx is elementary (for a rational f)
    iff R' - 2 x R = f has a rational solution R, and then the antiderivative
    is R e^{-x^2}; for a polynomial f it suffices to look at polynomials.
    ``rhs`` is a sympy expression in ``Activation.symbol``; returns the list of
    solutions (empty if none).
    """
    degree = check_int(degree, "degree", 0)
    rhs = sp.sympify(rhs)
    if not rhs.free_symbols <= {_x}:
        raise ValueError(f"rhs must be an expression in {_x}, got {rhs}")
    c = sp.symbols(f"c0:{degree + 1}")
    R = sum(ci * _x**i for i, ci in enumerate(c))
    eqs = sp.Poly(sp.expand(sp.diff(R, _x) - 2 * _x * R - rhs), _x).coeffs()
    return [R.subs(sol) for sol in sp.solve(eqs, c, dict=True)]


def verify_reduction(activation) -> dict:
    """Check a :func:`reduction` against sympy; every value must be True.

    * ``"d/dx <g>"``: the stored derivative of each generator equals sympy's
      derivative of its value (``simplify(lhs - rhs) == 0``);
    * ``"sigma"``, ``"sigma(sigma)"``: the generator forms of sigma(x) and
      sigma(sigma(x)) equal ``Activation.expr`` and ``expr(expr)``;
    * ``"sigma'"``, ``"sigma''"``, ``"sigma'(sigma)"``, ``"sigma''(sigma)"``: the
      generator forms of the derivatives follow from sigma by the chain rule
      in the generator calculus (exact rational-function identities).
    """
    red = reduction(activation)
    expr = red.activation.expr
    at = red.atoms

    def zero(e):
        e = sp.simplify(e)
        if e != 0:
            e = sp.simplify(sp.expand(e.rewrite(sp.exp)))
        return e == 0

    out = {}
    pairs = {g: sp.Symbol(str(g)[:-1] + "1") for g in red.gens if str(g).endswith("0")}
    paired = bool(pairs) and set(pairs) | set(pairs.values()) == set(red.gens)
    swap = {_x: at["s"], **pairs}
    for g in red.gens:
        if paired and g in pairs.values():
            # a level-1 generator is the level-0 one at z = sigma(x): its value is
            # g0(sigma(x)) and its derivative g0'(sigma(x)) sigma'(x) (chain rule)
            g0 = next(k for k, v in pairs.items() if v == g)
            out[f"d/dx {g}"] = (zero(red.values[g] - red.values[g0].subs(_x, expr)) and sp.cancel(
                red.derivatives[g] - red.derivatives[g0].xreplace(swap) * at["s1"]) == 0)
        else:
            out[f"d/dx {g}"] = zero(sp.diff(red.values[g], _x) - red.substitute(red.derivatives[g]))
    out["sigma"] = zero(red.substitute(at["s"]) - expr)
    if paired:
        # the composite level is the level-0 kernel evaluated at z = sigma(x)
        out["sigma(sigma)"] = sp.cancel(at["s"].xreplace(swap) - at["ss"]) == 0
    else:
        out["sigma(sigma)"] = zero(red.substitute(at["ss"]) - expr.subs(_x, expr))
    out["sigma'"] = sp.cancel(red.derive(at["s"]) - at["s1"]) == 0
    out["sigma''"] = sp.cancel(red.derive(at["s1"]) - at["s2"]) == 0
    out["sigma'(sigma)"] = sp.cancel(red.derive(at["ss"]) - at["s1s"] * at["s1"]) == 0
    out["sigma''(sigma)"] = sp.cancel(red.derive(at["s1s"]) - at["s2s"] * at["s1"]) == 0
    return out
