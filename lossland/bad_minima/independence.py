"""Assumptions 1 and 2 of paper 004: the function sets B2, B3 and their independence.

Paper 004 (*Existence of a bad local minimum ... general smooth activations*)
builds its local minima from data orthogonal to a set of functions of x and
needs those functions to be linearly independent:

* Assumption 1: B2(x) = {1, sigma, sigma', x sigma', sigma'', x sigma'', x^2 sigma''}
  is linearly independent, i.e. sigma solves no ODE (6)
  (A x^2 + B x + C) y'' + (D x + E) y' + F y + G = 0 with (A, ..., G) != 0.
* Lemma 3 / Proposition 4: the 34 functions B3(x) built from sigma(sigma(x)),
  sigma'(sigma(x)), sigma''(sigma(x)) and powers of x, sigma, sigma', sigma'',
  split into B3,1 = {sigma'(sigma) sigma'' x^2}, B3,2 = {sigma'(sigma) sigma''},
  B3,3 = {sigma''(sigma)} and the rest; N0 = dim span B3. ``"B3"`` closes the
  printed braces as printed, ``"B3_alt"`` the other way; ``"B3_hessian"`` holds
  the 19 functions that the gradient and Hessian of F3 at W-hat actually
  contain (:func:`expansion`, sympy with a generic sigma).

A function of a set is a monomial in seven *atoms*
``x, sigma(x), sigma'(x), sigma''(x), sigma(sigma(x)), sigma'(sigma(x)), sigma''(sigma(x))``,
stored as its exponent tuple (:data:`ATOMS`). Two independent ways to decide
linear independence are offered:

(a) symbolic (:func:`reduction`, :func:`coefficient_matrix`, :func:`exact_rank`,
    :func:`ode6_reduction`, :func:`mish_ode45_reduction`): every atom is written
    as a rational function of x and a few *generators* (sigmoid(x), tanh(x),
    erf(x/sqrt 2), e^{-x^2/2}/sqrt(2 pi), log(1 + e^x), ...), as the proofs of
    Lemmas 1 and 4 do. If the generators are algebraically independent over
    C(x) (the transcendence facts the proofs quote: Liouville, Lemmas 9-12 of
    004), a linear relation among the functions holds iff it holds coefficient
    by coefficient, so the rank of the rational coefficient matrix is the exact
    dimension of the span.
(b) numeric (:func:`evaluation_matrix`, :func:`numeric_rank`): the matrix
    [b_j(x_i)] at seeded random points, its singular values in float64 (from
    the registry's numpy sigma, sigma', sigma'') or with mpmath at ``dps``
    digits (from the sympy expression), the rank decision with its margins.

Examples
--------
>>> from lossland.bad_minima.independence import function_set, exact_rank, numeric_rank
>>> B2 = function_set("B2")
>>> exact_rank(B2, "sigmoid"), exact_rank(B2, "sin")
(7, 6)
>>> numeric_rank(B2, "exp", dps=30).rank
4
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Integral

import mpmath
import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

from ..activations import Activation, get_activation

__all__ = [
    "ATOMS",
    "FunctionSet",
    "function_set",
    "Expansion",
    "expansion",
    "expansion_functions",
    "FUNCTION_SETS",
    "function_exprs",
    "Reduction",
    "reduction",
    "verify_reduction",
    "coefficient_matrix",
    "exact_rank",
    "linear_relations",
    "check_relation",
    "relation_text",
    "OdeReduction",
    "ode6_reduction",
    "mish_ode45_reduction",
    "mish_tau",
    "evaluation_matrix",
    "singular_values",
    "RankReport",
    "rank_report",
    "format_log10",
    "numeric_rank",
    "sample_points",
]

_x = Activation.symbol

ATOMS: tuple[str, ...] = ("x", "s", "s1", "s2", "ss", "s1s", "s2s")
"""Atom names: x, sigma(x), sigma'(x), sigma''(x), sigma(sigma(x)), sigma'(sigma(x)), sigma''(sigma(x))."""

_ATOM_TEXT = ("x", "σ", "σ′", "σ″", "σ(σ)", "σ′(σ)", "σ″(σ)")
_ATOM_LATEX = ("x", r"\sigma", r"\sigma'", r"\sigma''", r"\sigma(\sigma)", r"\sigma'(\sigma)",
               r"\sigma''(\sigma)")


def _m(**powers) -> tuple[int, ...]:
    """Exponent tuple of a monomial in the atoms, e.g. ``_m(x=2, s2=1)`` = x^2 sigma''."""
    bad = set(powers) - set(ATOMS)
    if bad:
        raise ValueError(f"unknown atom(s) {sorted(bad)}; expected names from {ATOMS}")
    return tuple(int(powers.get(a, 0)) for a in ATOMS)


def _times(base, factor):
    return tuple(b + f for b, f in zip(base, factor))


# ------------------------------------------------------------------ the sets
@dataclass(frozen=True)
class FunctionSet:
    """A finite list of functions of x, each a monomial in the :data:`ATOMS`.

    Attributes
    ----------
    name : str
        Key in :data:`FUNCTION_SETS`.
    members : tuple of tuple of int
        Exponent tuples (one per function, in the paper's order).
    groups : dict
        Named index lists, e.g. ``{"B31": (..), "B32": (..), "B33": (..), "rest": (..)}``.
    source : str
        Where the set is printed in 004.
    """

    name: str
    members: tuple
    groups: dict = field(default_factory=dict)
    source: str = ""

    def __len__(self):
        return len(self.members)

    def __hash__(self):
        return hash((self.name, self.members))

    @property
    def composite(self) -> bool:
        """True when some member involves sigma(sigma(x)) or its derivatives."""
        return any(any(m[4:]) for m in self.members)

    def labels(self, latex: bool = False) -> list[str]:
        """Readable names of the members, e.g. ``x²σ″`` (``latex=True``: ``x^{2}\\sigma''``)."""
        names = _ATOM_LATEX if latex else _ATOM_TEXT
        order = (4, 5, 6, 1, 2, 3, 0)      # outer factors first, x last, as 004 prints
        sup = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
        out = []
        for m in self.members:
            parts = []
            for k in order:
                if m[k] == 0:
                    continue
                p = m[k]
                if latex:
                    parts.append(names[k] if p == 1 else (f"{names[k]}^{{{p}}}" if k == 0
                                                          else f"({names[k]})^{{{p}}}"))
                else:
                    parts.append(names[k] + (str(p).translate(sup) if p > 1 else ""))
            out.append(("\\," if latex else "").join(parts) or "1")
        return out

    def subset(self, group: str) -> "FunctionSet":
        """The members of one group as a FunctionSet (e.g. ``"rest"`` = B̃3)."""
        if group not in self.groups:
            raise ValueError(f"group must be one of {sorted(self.groups)}, got {group!r}")
        return FunctionSet(f"{self.name}[{group}]", tuple(self.members[i] for i in self.groups[group]),
                           {}, self.source)

    def index(self, **powers) -> int:
        """Position of the monomial given by atom powers (``index(x=2, s2=1)``)."""
        key = _m(**powers)
        if key not in self.members:
            raise ValueError(f"{key} is not a member of {self.name}")
        return self.members.index(key)


def _b2_members(inner=False):
    """B2 of Assumption 1 (inner=False) or B2(sigma(x)) of Lemma 8 (inner=True)."""
    if not inner:
        return (_m(), _m(s=1), _m(s1=1), _m(x=1, s1=1), _m(s2=1), _m(x=1, s2=1), _m(x=2, s2=1))
    return (_m(), _m(ss=1), _m(s1s=1), _m(s=1, s1s=1), _m(s2s=1), _m(s=1, s2s=1), _m(s=2, s2s=1))


_INNER_S1S = (_m(), _m(s=1), _m(s1=1), _m(s1=1, x=1), _m(s2=1), _m(s2=1, x=1), _m(s2=1, x=2))
_INNER_S2S_HESSIAN = (_m(), _m(s=1), _m(s=2), _m(s1=1), _m(s1=1, x=1), _m(s1=2), _m(s1=2, x=1),
                      _m(s1=2, x=2), _m(s=1, s1=1), _m(s=1, s1=1, x=1))
_INNER_S2S_PRINTED = (_m(), _m(s=1), _m(s=2), _m(s1=1), _m(s1=1, x=1),
                      _m(s2=1), _m(s2=1, x=1), _m(s2=1, x=2),
                      _m(s1=2), _m(s1=2, x=1), _m(s1=2, x=2),
                      _m(s=1, s1=1), _m(s=1, s1=1, x=1),
                      _m(s=1, s2=1), _m(s=1, s2=1, x=1), _m(s=1, s2=1, x=2),
                      _m(s1=1, s2=1), _m(s1=1, s2=1, x=1), _m(s1=1, s2=1, x=2), _m(s1=1, s2=1, x=3))


def _b3(variant: str) -> FunctionSet:
    members = [_m(), _m(ss=1)]
    members += [_times(q, _m(s1s=1)) for q in _INNER_S1S]
    if variant == "printed":
        members += [_times(q, _m(s2s=1)) for q in _INNER_S2S_PRINTED]
        members += [_m(s2=2, x=k) for k in range(5)]
        source = "004, Lemma 3 and eq. (92)-(94), read as printed (sigma'(x)'sigma''(x) = sigma' sigma'')"
        name = "B3"
    elif variant == "alt":
        members += [_times(q, _m(s2s=1)) for q in _INNER_S2S_PRINTED]
        members += [_m(s2s=1, s2=2, x=k) for k in range(5)]
        source = ("004, Lemma 3 with sigma''(x)^2{1, ..., x^4} read inside the sigma''(sigma(x)) "
                  "group (the other way to close the braces)")
        name = "B3_alt"
    else:
        members += [_times(q, _m(s2s=1)) for q in _INNER_S2S_HESSIAN]
        source = ("the functions in the gradient and Hessian of F3 at W = (1, 0, 1, 0, w3, 0) "
                  "(004, proof of Proposition 4, eq. (126)-(143))")
        name = "B3_hessian"
    members = tuple(members)
    special = {"B31": members.index(_m(s1s=1, s2=1, x=2)), "B32": members.index(_m(s1s=1, s2=1)),
               "B33": members.index(_m(s2s=1))}
    groups = {k: (v,) for k, v in special.items()}
    groups["rest"] = tuple(i for i in range(len(members)) if i not in special.values())
    return FunctionSet(name, members, groups, source)


def _claim_sets():
    mons = [_m(x=i, s=j) for i in range(3) for j in range(3) if i + j <= 2]
    c2 = tuple(_times(q, f) for f in (_m(), _m(ss=1), _m(s1s=1), _m(s2s=1)) for q in mons)
    c1 = tuple(_m(x=i, s=j, ss=k) for k in range(4) for j in range(4) for i in range(4) if i + j + k <= 3)
    return (FunctionSet("claim2", c2, {}, "004, Claim 2 truncated: {1, σ(σ), σ′(σ), σ″(σ)} times "
                        "x^i σ^j, i + j <= 2"),
            FunctionSet("claim1", c1, {}, "004, Claim 1 truncated: x^i σ^j σ(σ)^k, i + j + k <= 3"))


def _build_sets():
    b2 = _b2_members()
    printed_b2 = b2[:6] + (_m(x=1, s2=1),)            # 004 prints x sigma'' twice
    inner = _b2_members(inner=True)
    printed_inner = inner[:6] + (_m(s=1, s2s=1),)     # Lemma 8 prints sigma sigma''(sigma) twice
    c2, c1 = _claim_sets()
    sets = {
        "B2": FunctionSet("B2", b2, {}, "004, Assumption 1 (the ODE (6)); eq. (49)"),
        "B2_printed": FunctionSet("B2_printed", printed_b2, {}, "004, Assumption 1 as printed"),
        "B2_composite": FunctionSet("B2_composite", inner, {}, "004, Lemma 8 and eq. (108)"),
        "B2_composite_printed": FunctionSet("B2_composite_printed", printed_inner, {},
                                            "004, Lemma 8 as printed"),
        "B3": _b3("printed"),
        "B3_alt": _b3("alt"),
        "B3_hessian": _b3("hessian"),
        "claim1": c1,
        "claim2": c2,
    }
    return sets


FUNCTION_SETS: dict[str, FunctionSet] = _build_sets()
"""The sets by name: B2, B2_printed, B2_composite (Lemma 8), B2_composite_printed,
B3 (the 34 of Lemma 3, braces as printed), B3_alt (the 34 with sigma''^2 x^k inside the
sigma''(sigma) group), B3_hessian (the 19 of the second-order expansion),
claim1, claim2 (finite truncations of Claims 1 and 2)."""


@dataclass(frozen=True)
class Expansion:
    """Gradient and Hessian of the width-1 network at W-hat in terms of a function set.

    ``gradient[p]`` and ``hessian[p][q]`` are rows of sympy coefficients c_j
    (polynomials in the outer weight) with dF/dp = sum_j c_j b_j(x) and
    d2F/dp dq = sum_j c_j b_j(x), b_j the members of ``functions``.
    """

    depth: int
    params: tuple
    outer: sp.Symbol
    functions: FunctionSet
    gradient: sp.Matrix
    hessian: tuple

    def weighted_hessian(self, inner):
        """sum_i Delta Y_i d2F(x_i)/dp dq when <Delta Y, b_j> = ``inner[j]`` (a sequence)."""
        if len(inner) != len(self.functions):
            raise ValueError(f"inner must have {len(self.functions)} entries, got {len(inner)}")
        v = sp.Matrix(list(inner))
        n = len(self.params)
        return sp.Matrix(n, n, lambda p, q: (self.hessian[p][q] * v)[0])


@lru_cache(maxsize=None)
def expansion(depth: int = 3) -> Expansion:
    """The gradient and Hessian of the width-1 network at W-hat, with a generic sigma (sympy).

    depth 2: F2 = w2 sigma(w1 x + b1) + b2 at (w1, b1, w2, b2) = (1, 0, w2, 0)
    (004, eq. (5), proof of Proposition 2); depth 3: F3 = w3 sigma(w2 sigma(w1 x + b1)
    + b2) + b3 at (1, 0, 1, 0, w3, 0) (eq. (100), proof of Proposition 4).
    sigma is an undefined sympy function, so the result holds for every
    activation. Every entry is expanded into products of the :data:`ATOMS`;
    the distinct products (numeric factors and powers of the outer weight
    stripped) form ``functions``, with groups ``"gradient"`` (appearing in the
    gradient) and ``"hessian"`` (only in the Hessian). The gradient and
    Hessian of sum_i (F(x_i) - y_i)^2 at W-hat see the data only through
    <Delta Y, b_j> for these b_j.
    """
    if isinstance(depth, bool) or not isinstance(depth, Integral) or depth not in (2, 3):
        raise ValueError(f"depth must be 2 or 3, got {depth!r}")
    sg = sp.Function("sigma")
    w1, b1, w2, b2, w3, b3 = sp.symbols("w1 b1 w2 b2 w3 b3", real=True)
    if depth == 2:
        F, params, at, outer = w2 * sg(w1 * _x + b1) + b2, (w1, b1, w2, b2), {w1: 1, b1: 0, b2: 0}, w2
    else:
        F = w3 * sg(w2 * sg(w1 * _x + b1) + b2) + b3
        params, at, outer = (w1, b1, w2, b2, w3, b3), {w1: 1, b1: 0, w2: 1, b2: 0, b3: 0}, w3
    s = sg(_x)
    syms = sp.symbols("A0:7")
    table = {sp.Derivative(sg(s), (s, 2)): syms[6], sp.Derivative(sg(s), s): syms[5], sg(s): syms[4],
             sp.Derivative(s, (_x, 2)): syms[3], sp.Derivative(s, _x): syms[2], s: syms[1]}

    def terms(expr):
        e = sp.expand(expr.subs(at).doit().xreplace(table))
        d = sp.Poly(e, _x, *syms[1:]).as_dict() if e != 0 else {}
        return {mono: sp.sympify(c) for mono, c in d.items()}

    n = len(params)
    grad = [terms(sp.diff(F, p)) for p in params]
    hess = [[terms(sp.diff(F, params[p], params[q])) for q in range(n)] for p in range(n)]
    gset = set().union(*grad)
    hset = set().union(*(h for row in hess for h in row))
    members = tuple(sorted(gset)) + tuple(sorted(hset - gset))
    index = {m: j for j, m in enumerate(members)}
    groups = {"gradient": tuple(range(len(gset))), "hessian": tuple(range(len(gset), len(members)))}
    fs = FunctionSet(f"expansion{depth}", members, groups,
                     f"gradient and Hessian of F{depth} at W-hat (sympy, generic sigma)")

    def row(d):
        r = sp.zeros(1, len(members))
        for mono, c in d.items():
            r[index[mono]] = c
        return r

    G = sp.Matrix.vstack(*[row(g) for g in grad])
    H = tuple(tuple(row(hess[p][q]) for q in range(n)) for p in range(n))
    return Expansion(depth, params, outer, fs, G, H)


def expansion_functions(depth: int = 3) -> FunctionSet:
    """The function set of :func:`expansion` (B2 for depth 2; the 19 functions of B3_hessian for depth 3)."""
    return expansion(depth).functions


def function_set(name: str) -> FunctionSet:
    """Return the set called ``name`` from :data:`FUNCTION_SETS`."""
    if isinstance(name, FunctionSet):
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a str or FunctionSet, got {type(name).__name__}")
    if name not in FUNCTION_SETS:
        raise ValueError(f"unknown function set {name!r}; expected one of {', '.join(FUNCTION_SETS)}")
    return FUNCTION_SETS[name]


def _as_set(fset) -> FunctionSet:
    if isinstance(fset, FunctionSet):
        return fset
    if isinstance(fset, str):
        return function_set(fset)
    raise TypeError(f"fset must be a FunctionSet or a set name, got {type(fset).__name__}")


def _as_analytic(activation) -> Activation:
    act = get_activation(activation)
    if not act.smooth:
        raise ValueError(f"activation {act.name!r} is not analytic (C^2 fails); "
                         "Assumptions 1 and 2 of 004 concern analytic activations")
    return act


def _key(act: Activation) -> tuple:
    return (act.name, tuple(sorted(act.params.items())), sp.srepr(act.expr))


def _cached(fn):
    """Memoise a function whose first argument is an Activation (unhashable: it holds a dict)."""
    store = {}

    def wrapper(act, *args):
        k = (_key(act),) + args
        if k not in store:
            store[k] = fn(act, *args)
        return store[k]

    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


@_cached
def _atom_exprs(act: Activation) -> tuple:
    s0, s1, s2 = act.derivative_exprs()
    return (_x, s0, s1, s2, s0.subs(_x, s0), s1.subs(_x, s0), s2.subs(_x, s0))


def function_exprs(fset, activation) -> list:
    """The members of ``fset`` as sympy expressions in ``Activation.symbol`` (sigma = ``expr``)."""
    fs, act = _as_set(fset), _as_analytic(activation)
    atoms = _atom_exprs(act)
    return [sp.Mul(*[a**p for a, p in zip(atoms, m) if p]) for m in fs.members]


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
    fs, act = _as_set(fset), _as_analytic(activation)
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
    fs, act = _as_set(fset), _as_analytic(activation)
    M = _coefficient_matrix(act, fs)[1]
    if columns is not None:
        cols = [int(c) for c in columns]
        if not cols or any(c < 0 or c >= len(fs) for c in cols) or len(set(cols)) != len(cols):
            raise ValueError(f"columns must be distinct indices in [0, {len(fs)}), got {columns!r}")
        M = M.extract(list(range(M.shape[0])), cols)
    return int(M.rank())


def linear_relations(fset, activation) -> list:
    """A basis of the rational vectors c with sum_j c_j b_j = 0 (nullspace of the coefficient matrix)."""
    fs, act = _as_set(fset), _as_analytic(activation)
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
    fs = _as_set(fset)
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
    fs = _as_set(fset)
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
    if isinstance(n_points, bool) or not isinstance(n_points, Integral) or n_points < 1:
        raise ValueError(f"n_points must be a positive integer, got {n_points!r}")
    try:
        lo, hi = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise TypeError(f"interval must be a pair of numbers, got {interval!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"interval must be finite with lo < hi, got {interval!r}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(lo, hi, int(n_points)))


@_cached
def _mp_atoms(act: Activation):
    return tuple(sp.lambdify(_x, e, modules="mpmath") for e in _atom_exprs(act))


def _np_atoms(act: Activation, t):
    s0, s1, s2 = act.f(t), act.d1(t), act.d2(t)
    return (t, s0, s1, s2, act.f(s0), act.d1(s0), act.d2(s0))


def _check_dps(dps):
    if dps is None:
        return None
    if isinstance(dps, bool) or not isinstance(dps, Integral) or not 15 <= dps <= 1000:
        raise ValueError(f"dps must be None (float64) or an integer in [15, 1000], got {dps!r}")
    return int(dps)


def evaluation_matrix(fset, activation, points, dps=None):
    """The matrix [b_j(x_i)] of ``fset`` at ``points``.

    ``dps=None``: a float64 numpy array from the registry's numpy sigma,
    sigma', sigma''. ``dps=k``: an ``mpmath.matrix`` computed at k significant
    digits from the sympy expression ``Activation.expr`` (the points are taken
    exactly as the binary floats given).
    """
    fs, act = _as_set(fset), _as_analytic(activation)
    dps = _check_dps(dps)
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 1 or pts.size == 0 or not np.all(np.isfinite(pts)):
        raise ValueError("points must be a non-empty 1-d array of finite numbers")
    E = np.array(fs.members)
    if dps is None:
        with np.errstate(over="ignore", invalid="ignore"):
            atoms = _np_atoms(act, pts)
            out = np.ones((pts.size, len(fs)))
            for k, a in enumerate(atoms):
                out *= a[:, None] ** E[None, :, k]
        if not np.all(np.isfinite(out)):
            raise ValueError("float64 evaluation overflowed: use a smaller interval or dps")
        return out
    funcs = _mp_atoms(act)
    with mpmath.workdps(dps):
        M = mpmath.matrix(pts.size, len(fs))
        for i, p in enumerate(pts):
            vals = [f(mpmath.mpf(float(p))) for f in funcs]
            for j, m in enumerate(fs.members):
                r = mpmath.mpf(1)
                for v, k in zip(vals, m):
                    if k:
                        r *= v**k
                M[i, j] = r
    return M


def singular_values(matrix, dps=None):
    """Singular values (descending) after scaling every column to unit 2-norm.

    Returns log10 of the singular values as a float array (mpmath values can
    lie far below the float64 range). Column scaling does not change the rank.
    """
    if isinstance(matrix, mpmath.matrix):
        if dps is None:
            raise ValueError("dps must be given for an mpmath matrix")
        with mpmath.workdps(_check_dps(dps)):
            A = matrix.copy()
            for j in range(A.cols):
                nrm = mpmath.sqrt(mpmath.fsum(A[i, j] ** 2 for i in range(A.rows)))
                if nrm == 0:
                    continue                  # a zero column: a zero singular value
                for i in range(A.rows):
                    A[i, j] /= nrm
            S = mpmath.svd_r(A, compute_uv=False)
            vals = sorted((S[i] for i in range(len(S))), reverse=True)
            return np.array([float(mpmath.log10(v)) if v > 0 else -np.inf for v in vals])
    A = np.asarray(matrix, dtype=float)
    if A.ndim != 2:
        raise ValueError("matrix must be 2-d")
    nrm = np.linalg.norm(A, axis=0)
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
    """Decide the rank from log10 singular values.

    Default tolerance: float64 max(N, n) eps s_max (numpy's matrix_rank rule);
    mpmath s_max 10^(-dps/2): evaluations carry relative errors of about
    10^-dps, so half the digits are left as a margin on each side.
    """
    lsv = np.sort(np.asarray(log10_sv, dtype=float))[::-1]
    n = lsv.size
    if log10_tol is None:
        if dps is None:
            log10_tol = lsv[0] + math.log10(max(n_points, n) * np.finfo(float).eps)
        else:
            log10_tol = lsv[0] - dps / 2
    rank = int(np.sum(lsv > log10_tol))
    return RankReport(rank, n, int(n_points), dps, lsv, float(log10_tol))


def numeric_rank(fset, activation, n_points=None, seed=0, interval=(-4.0, 4.0), dps=None,
                 log10_tol=None) -> RankReport:
    """Rank of [b_j(x_i)] at ``n_points`` seeded random points (default 2 len(fset) + 10)."""
    fs = _as_set(fset)
    n = 2 * len(fs) + 10 if n_points is None else n_points
    pts = sample_points(n, seed, interval)
    M = evaluation_matrix(fs, activation, pts, dps=dps)
    return rank_report(singular_values(M, dps=_check_dps(dps)), n, dps, log10_tol)


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
