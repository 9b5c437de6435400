"""The function sets of paper 004: one catalogue, each reading of the printed braces named once.

004 builds its local minima from residuals orthogonal to finite sets of
functions of x (Assumption 1, Lemma 3, Lemma 8, Claims 1 and 2). Every
function in them is a monomial in seven *atoms*
``x, sigma(x), sigma'(x), sigma''(x), sigma(sigma(x)), sigma'(sigma(x)), sigma''(sigma(x))``
and is stored as its exponent tuple (:data:`ATOMS`). :data:`FUNCTION_SETS`
holds them all, by name:

``"B2"`` (7)
    Assumption 1, {1, sigma, sigma', x sigma', sigma'', x sigma'', x^2 sigma''}: the
    set of the ODE (6) and of the proof of Proposition 2 (eq. (49)).
``"B2_printed"`` (7, 6 distinct)
    Assumption 1 as printed, with x sigma'' twice.
``"B2_composite"``, ``"B2_composite_printed"`` (7; 7 with 6 distinct)
    B2(sigma(x)) of Lemma 8 and eq. (108), and as printed (sigma sigma''(sigma) twice).
``"B3_printed"``, ``"B3_nested"`` (34 each)
    The two readings of Lemma 3 / eq. (92)-(94), printed as ::

        B3(x) = {1, σ(σ(x)),
                 σ'(σ(x)){1, σ(x), σ'(x){1, x}, σ''(x){1, x, x^2}},
                 σ''(σ(x)){1, σ(x), σ(x)^2, σ'(x){1, x},
                           σ''(x){1, x, x^2}, σ'(x)^2{1, x, x^2},
                           σ(x)σ'(x){1, x}, σ(x)σ''(x){1, x, x^2},
                           σ'(x)'σ''(x){1, x, x^2, x^3}},
                 σ''(x)^2{1, x, x^2, x^3, x^4}}

    (σ'(x)'σ''(x) read as σ'σ''). The braces as printed close the σ''(σ(x))
    group before σ''(x)^2{1, ..., x^4}, which then stands alone:
    ``"B3_printed"`` has the five functions σ''(x)^2 x^k. Closing the group
    after them multiplies them by σ''(σ(x)): ``"B3_nested"`` has
    σ''(σ(x)) σ''(x)^2 x^k instead, the terms that the expansion of u_2^2 in
    the proof of Proposition 4 (A.2.7) produces at order t^4. The other 29
    functions, and their order, are the same. Both have the groups ``"B31"``,
    ``"B32"``, ``"B33"`` (eq. (92)-(94), (101)-(103)) and ``"rest"`` (B~3).
``"B3_expansion"`` (19)
    The functions whose inner products with Delta Y make up the gradient and
    the Hessian of R at W-hat = (1, 0, 1, 0, w3, 0) (sympy, generic sigma:
    :func:`expansion`); the same 19 under both readings. Groups B31, B32,
    B33, rest and ``"gradient"`` (the 6 of eq. (126)-(131)).
``"B3_expansion_orthogonal"`` (16)
    ``"B3_expansion"`` without B31, B32, B33: the orthogonality conditions the
    gradient and Hessian at W-hat actually meet (the 16 of chapter G8),
    in the order the constructions use.
``"B3_gradient"`` (6), ``"B3_positive"`` (3: B31, B32, B33)
    The gradient functions (eq. (126)-(131), corrected) and the functions with
    <Delta Y, .> > 0 (eq. (114)-(116)).
``"B3_embedding_orthogonal"`` (8), ``"B3_embedding_positive"`` (4)
    Conditions for a 1-1-1-1 minimum whose two B-matrices (004, eq. (146),
    (149)) are positive definite (chapter G9).
``"claim1"`` (20), ``"claim2"`` (24)
    Finite truncations of Claims 1 and 2 of Assumption 2.

A function has a readable label (``labels()``: ``σ″(σ)σσ′x``) and an ASCII
name (``names``: ``"s''(s) s s' x"``; for the B2 sets ``"x sigma'"``), and
:func:`monomial` turns such a name back into its exponent tuple.
:func:`evaluate` gives the matrix [b_j(x_i)] in float64 or in ``dps``-digit
arithmetic, :func:`function_exprs` the members as sympy expressions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Integral

import mpmath
import numpy as np
import sympy as sp

from .._validation import check_dps
from ..activations import Activation, get_activation
from ._common import activation_key, as_samples, mp_sigma

__all__ = [
    "ATOMS",
    "FunctionSet",
    "FUNCTION_SETS",
    "function_set",
    "as_function_set",
    "monomial",
    "monomial_name",
    "atom_exprs",
    "function_exprs",
    "evaluate",
    "ATOM_SYMBOLS",
    "names_in",
    "Expansion",
    "expansion",
]

_x = Activation.symbol

ATOMS: tuple[str, ...] = ("x", "s", "s1", "s2", "ss", "s1s", "s2s")
"""Atom names: x, sigma(x), sigma'(x), sigma''(x), sigma(sigma(x)), sigma'(sigma(x)), sigma''(sigma(x))."""

_ATOM_TEXT = ("x", "σ", "σ′", "σ″", "σ(σ)", "σ′(σ)", "σ″(σ)")
_ATOM_LATEX = ("x", r"\sigma", r"\sigma'", r"\sigma''", r"\sigma(\sigma)", r"\sigma'(\sigma)",
               r"\sigma''(\sigma)")
_ATOM_ASCII = ("x", "s", "s'", "s''", "s(s)", "s'(s)", "s''(s)")
_NAME_ORDER = (4, 5, 6, 1, 2, 3, 0)      # outer factor first, x last (the order of 004 and of the names)

ATOM_SYMBOLS: tuple = (_x,) + sp.symbols("s s' s'' s(s) s'(s) s''(s)")
"""sympy symbols for the :data:`ATOMS`, named as in the ASCII names (x is ``Activation.symbol``)."""


def _m(**powers) -> tuple[int, ...]:
    """Exponent tuple of a monomial in the atoms, e.g. ``_m(x=2, s2=1)`` = x^2 sigma''."""
    bad = set(powers) - set(ATOMS)
    if bad:
        raise ValueError(f"unknown atom(s) {sorted(bad)}; expected names from {ATOMS}")
    return tuple(int(powers.get(a, 0)) for a in ATOMS)


def _times(base, factor):
    return tuple(b + f for b, f in zip(base, factor))


def monomial_name(exponents) -> str:
    """The ASCII name of a monomial, e.g. ``"s''(s) s s'' x^2"`` (outer factor first, ``"1"`` for 1)."""
    parts = [_ATOM_ASCII[k] + (f"^{exponents[k]}" if exponents[k] > 1 else "")
             for k in _NAME_ORDER if exponents[k]]
    return " ".join(parts) or "1"


def monomial(name: str) -> tuple[int, ...]:
    """The exponent tuple of an ASCII name (inverse of :func:`monomial_name`).

    Tokens separated by spaces, each an atom ``x, s, s', s'', s(s), s'(s), s''(s)``
    with an optional power ``^k``; ``"1"`` is the constant.
    """
    if not isinstance(name, str):
        raise TypeError(f"a function name must be a str, got {type(name).__name__}")
    exps = [0] * len(ATOMS)
    if name.strip() == "1":
        return tuple(exps)
    for tok in name.split():
        base, _, power = tok.partition("^")
        if base not in _ATOM_ASCII or (power and not power.isdigit()) or power == "0":
            raise ValueError(f"cannot read the function name {name!r}: token {tok!r} is not an atom "
                             f"{_ATOM_ASCII} with an optional power ^k")
        k = _ATOM_ASCII.index(base)
        if exps[k]:
            raise ValueError(f"cannot read the function name {name!r}: {base!r} appears twice")
        exps[k] = int(power) if power else 1
    if not any(exps):
        raise ValueError(f"cannot read the function name {name!r}")
    return tuple(exps)


def names_in(expr) -> set:
    """The ASCII names of the monomials of a polynomial in :data:`ATOM_SYMBOLS` (coefficients dropped).

    Other symbols (e.g. an outer weight w_3) count as coefficients.
    """
    out = set()
    for term in sp.Add.make_args(sp.expand(expr)):
        if term == 0:
            continue
        exps = sp.Poly(term, *ATOM_SYMBOLS).monoms()[0]
        out.add(monomial_name(exps))
    return out


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
    names : tuple of str
        ASCII names of the members (default :func:`monomial_name`).
    """

    name: str
    members: tuple
    groups: dict = field(default_factory=dict)
    source: str = ""
    names: tuple = ()

    def __post_init__(self):
        if not self.names:
            object.__setattr__(self, "names", tuple(monomial_name(m) for m in self.members))
        elif len(self.names) != len(self.members):
            raise ValueError("names must have one entry per member")

    def __len__(self):
        return len(self.members)

    def __hash__(self):
        return hash((self.name, self.members))

    @classmethod
    def from_names(cls, name: str, names, source: str = "") -> "FunctionSet":
        """A set from ASCII names (see :func:`monomial`), kept as its names."""
        names = tuple(names)
        return cls(name, tuple(monomial(n) for n in names), {}, source, names)

    @property
    def composite(self) -> bool:
        """True when some member involves sigma(sigma(x)) or its derivatives."""
        return any(any(m[4:]) for m in self.members)

    def labels(self, latex: bool = False) -> list[str]:
        """Readable names of the members, e.g. ``x²σ″`` (``latex=True``: ``x^{2}\\sigma''``)."""
        names = _ATOM_LATEX if latex else _ATOM_TEXT
        sup = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
        out = []
        for m in self.members:
            parts = []
            for k in _NAME_ORDER:
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
        idx = self.groups[group]
        return FunctionSet(f"{self.name}[{group}]", tuple(self.members[i] for i in idx), {}, self.source,
                           tuple(self.names[i] for i in idx))

    def index(self, **powers) -> int:
        """Position of the monomial given by atom powers (``index(x=2, s2=1)``)."""
        key = _m(**powers)
        if key not in self.members:
            raise ValueError(f"{key} is not a member of {self.name}")
        return self.members.index(key)

    def position(self, name: str) -> int:
        """Position of the member with the ASCII name ``name``."""
        if name not in self.names:
            raise ValueError(f"unknown function {name!r}; expected names from {self.name}: {self.names}")
        return self.names.index(name)


def _b2_members(inner=False):
    """B2 of Assumption 1 (inner=False) or B2(sigma(x)) of Lemma 8 (inner=True)."""
    if not inner:
        return (_m(), _m(s=1), _m(s1=1), _m(x=1, s1=1), _m(s2=1), _m(x=1, s2=1), _m(x=2, s2=1))
    return (_m(), _m(ss=1), _m(s1s=1), _m(s=1, s1s=1), _m(s2s=1), _m(s=1, s2s=1), _m(s=2, s2s=1))


_B2_NAMES = ("1", "sigma", "sigma'", "x sigma'", "sigma''", "x sigma''", "x^2 sigma''")
_INNER_S1S = (_m(), _m(s=1), _m(s1=1), _m(s1=1, x=1), _m(s2=1), _m(s2=1, x=1), _m(s2=1, x=2))
_INNER_S2S_EXPANSION = (_m(), _m(s=1), _m(s=2), _m(s1=1), _m(s1=1, x=1), _m(s1=2), _m(s1=2, x=1),
                        _m(s1=2, x=2), _m(s=1, s1=1), _m(s=1, s1=1, x=1))
_INNER_S2S_PRINTED = (_m(), _m(s=1), _m(s=2), _m(s1=1), _m(s1=1, x=1),
                      _m(s2=1), _m(s2=1, x=1), _m(s2=1, x=2),
                      _m(s1=2), _m(s1=2, x=1), _m(s1=2, x=2),
                      _m(s=1, s1=1), _m(s=1, s1=1, x=1),
                      _m(s=1, s2=1), _m(s=1, s2=1, x=1), _m(s=1, s2=1, x=2),
                      _m(s1=1, s2=1), _m(s1=1, s2=1, x=1), _m(s1=1, s2=1, x=2), _m(s1=1, s2=1, x=3))
_SPECIAL = {"B31": _m(s1s=1, s2=1, x=2), "B32": _m(s1s=1, s2=1), "B33": _m(s2s=1)}
_GRADIENT = ("1", "s(s)", "s'(s) s", "s'(s)", "s'(s) s' x", "s'(s) s'")
_EXPANSION_ORTHOGONAL = _GRADIENT + (
    "s''(s) s'^2 x", "s''(s) s s' x", "s''(s) s' x", "s''(s) s s'", "s''(s) s'", "s''(s) s",
    "s'(s) s'' x", "s''(s) s'^2 x^2", "s''(s) s'^2", "s''(s) s^2")


def _with_b3_groups(name, members, source, extra_groups=None):
    special = {g: members.index(m) for g, m in _SPECIAL.items()}
    groups = {g: (i,) for g, i in special.items()}
    groups["rest"] = tuple(i for i in range(len(members)) if i not in special.values())
    groups.update(extra_groups or {})
    return FunctionSet(name, members, groups, source)


def _b3(reading: str) -> FunctionSet:
    members = [_m(), _m(ss=1)] + [_times(q, _m(s1s=1)) for q in _INNER_S1S]
    if reading == "expansion":
        members += [_times(q, _m(s2s=1)) for q in _INNER_S2S_EXPANSION]
        members = tuple(members)
        grad = tuple(members.index(monomial(n)) for n in _GRADIENT)
        return _with_b3_groups("B3_expansion", members,
                               "the functions in the gradient and Hessian of F3 at W = (1, 0, 1, 0, w3, 0) "
                               "(004, proof of Proposition 4, eq. (126)-(143))", {"gradient": grad})
    members += [_times(q, _m(s2s=1)) for q in _INNER_S2S_PRINTED]
    if reading == "printed":
        members += [_m(s2=2, x=k) for k in range(5)]
        source = ("004, Lemma 3 and eq. (92)-(94), braces closed as printed: sigma''(x)^2{1, ..., x^4} "
                  "stands alone (sigma'(x)'sigma''(x) read as sigma' sigma'')")
    else:
        members += [_m(s2s=1, s2=2, x=k) for k in range(5)]
        source = ("004, Lemma 3 with sigma''(x)^2{1, ..., x^4} nested in the sigma''(sigma(x)) group "
                  "(the other way to close the braces; the terms of u_2^2 in A.2.7)")
    return _with_b3_groups(f"B3_{reading}", tuple(members), source)


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
    named = FunctionSet.from_names
    sets = [
        FunctionSet("B2", b2, {}, "004, Assumption 1 (the ODE (6)); eq. (49)", _B2_NAMES),
        FunctionSet("B2_printed", printed_b2, {}, "004, Assumption 1 as printed",
                    _B2_NAMES[:6] + ("x sigma''",)),
        FunctionSet("B2_composite", inner, {}, "004, Lemma 8 and eq. (108)"),
        FunctionSet("B2_composite_printed", printed_inner, {}, "004, Lemma 8 as printed"),
        _b3("printed"),
        _b3("nested"),
        _b3("expansion"),
        named("B3_expansion_orthogonal", _EXPANSION_ORTHOGONAL,
              "B3_expansion without B31, B32, B33: the orthogonality conditions at W-hat (chapter G8)"),
        named("B3_gradient", _GRADIENT, "004, eq. (126)-(131), corrected (chapter G8)"),
        named("B3_positive", tuple(monomial_name(m) for m in _SPECIAL.values()),
              "004, eq. (101)-(103) and (114)-(116): B31, B32, B33"),
        named("B3_embedding_orthogonal", _GRADIENT + ("s'(s) s'' x", "s''(s) s"),
              "gradient and the off-diagonal entries of both B-matrices, 004 eq. (146), (149) (chapter G9)"),
        named("B3_embedding_positive", ("s'(s) s'' x^2", "s'(s) s''", "s''(s) s^2", "s''(s)"),
              "the diagonal entries of both B-matrices, 004 eq. (146), (149) (chapter G9)"),
        c1,
        c2,
    ]
    return {fs.name: fs for fs in sets}


FUNCTION_SETS: dict[str, FunctionSet] = _build_sets()
"""The catalogue of 004's function sets, by name (see the module docstring)."""


def function_set(name: str) -> FunctionSet:
    """Return the set called ``name`` from :data:`FUNCTION_SETS` (a FunctionSet is returned as is)."""
    if isinstance(name, FunctionSet):
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a str or FunctionSet, got {type(name).__name__}")
    if name not in FUNCTION_SETS:
        raise ValueError(f"unknown function set {name!r}; expected one of {', '.join(FUNCTION_SETS)}")
    return FUNCTION_SETS[name]


def as_function_set(fset, name: str = "fset") -> FunctionSet:
    """A FunctionSet from a FunctionSet, a catalogue name, or a sequence of ASCII function names."""
    if isinstance(fset, FunctionSet):
        return fset
    if isinstance(fset, str):
        return function_set(fset)
    if isinstance(fset, (tuple, list)) and all(isinstance(n, str) for n in fset):
        if not fset:
            raise ValueError(f"{name} must name at least one function")
        return FunctionSet.from_names(name, fset)
    raise TypeError(f"{name} must be a FunctionSet, a set name or a sequence of function names, "
                    f"got {type(fset).__name__}")


def _as_analytic(activation) -> Activation:
    act = get_activation(activation)
    if not act.smooth:
        raise ValueError(f"activation {act.name!r} is not analytic (C^2 fails); "
                         "Assumptions 1 and 2 of 004 concern analytic activations")
    return act


_ATOM_EXPRS: dict = {}


def atom_exprs(activation) -> tuple:
    """The seven :data:`ATOMS` as sympy expressions in ``Activation.symbol`` (sigma = ``expr``)."""
    act = _as_analytic(activation)
    key = activation_key(act)
    if key not in _ATOM_EXPRS:
        s0, s1, s2 = act.derivative_exprs()
        _ATOM_EXPRS[key] = (_x, s0, s1, s2, s0.subs(_x, s0), s1.subs(_x, s0), s2.subs(_x, s0))
    return _ATOM_EXPRS[key]


def function_exprs(fset, activation) -> list:
    """The members of ``fset`` as sympy expressions in ``Activation.symbol`` (sigma = ``expr``)."""
    fs = as_function_set(fset)
    atoms = atom_exprs(activation)
    return [sp.Mul(*[a**p for a, p in zip(atoms, m) if p]) for m in fs.members]


def _product(atoms, m, one):
    """The monomial m of the atom values, multiplied outer factor first, then s, s', s'', x."""
    v = one
    for k in _NAME_ORDER:
        if m[k]:
            v = v * (atoms[k] if m[k] == 1 else atoms[k] ** m[k])
    return v


def evaluate(fset, activation, points, dps=None):
    """The matrix [b_j(x_i)] of ``fset`` (a set, a set name or ASCII names) at ``points``.

    ``dps=None``: a float64 array of shape (N, len(fset)) from the registry's
    numpy sigma, sigma', sigma'' (sigma(sigma(x)) as sigma applied to sigma(x)).
    ``dps=k``: a list of N rows of mpmath numbers computed at k significant
    digits, sigma, sigma', sigma'' from the sympy expression ``Activation.expr``
    (the points are taken exactly as the binary floats given); call it inside
    ``mpmath.workdps(k)`` to keep that precision in later arithmetic.
    """
    fs = as_function_set(fset)
    act = _as_analytic(activation)
    x = as_samples(points, "points")
    if x.size == 0:
        raise ValueError("points must not be empty")
    dps = check_dps(dps, allow_none=True)
    if dps is None:
        with np.errstate(over="ignore", invalid="ignore"):
            s0, s1, s2 = act.f(x), act.d1(x), act.d2(x)
            atoms = (x, s0, s1, s2, act.f(s0), act.d1(s0), act.d2(s0))
            out = np.column_stack([_product(atoms, m, np.ones_like(x)) for m in fs.members])
        if not np.all(np.isfinite(out)):
            raise ValueError("float64 evaluation overflowed: use a smaller interval or dps")
        return out
    f0, f1, f2 = mp_sigma(act)
    with mpmath.workdps(dps):
        rows = []
        for xi in x:
            X = mpmath.mpf(float(xi))
            s0, s1, s2 = f0(X), f1(X), f2(X)
            atoms = (X, s0, s1, s2, f0(s0), f1(s0), f2(s0))
            rows.append([_product(atoms, m, mpmath.mpf(1)) for m in fs.members])
    return rows


# ------------------------------------------------- the expansion at W-hat
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

    def _exprs(self, row, outer):
        syms = [sp.Mul(*[a**p for a, p in zip(ATOM_SYMBOLS, m) if p]) for m in self.functions.members]
        sub = {} if outer is None else {self.outer: outer}
        return sum((c.xreplace(sub) * f for c, f in zip(row, syms) if c != 0), sp.Integer(0))

    def gradient_exprs(self, outer=None) -> sp.Matrix:
        """dF/dp for every parameter p as a row of expressions in :data:`ATOM_SYMBOLS` (outer weight -> ``outer``)."""
        return sp.Matrix([[self._exprs(self.gradient.row(p), outer) for p in range(len(self.params))]])

    def hessian_exprs(self, outer=None) -> sp.Matrix:
        """d2F/dp dq as a matrix of expressions in :data:`ATOM_SYMBOLS` (outer weight -> ``outer``)."""
        n = len(self.params)
        return sp.Matrix(n, n, lambda p, q: self._exprs(self.hessian[p][q], outer))

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
    gradient) and ``"hessian"`` (only in the Hessian): the members of
    ``"B2"`` (depth 2) and of ``"B3_expansion"`` (depth 3). The gradient and
    Hessian of sum_i (F(x_i) - y_i)^2 at W-hat see the data only through
    <Delta Y, b_j> for these b_j.
    """
    if isinstance(depth, bool) or not isinstance(depth, Integral):
        raise TypeError(f"depth must be the integer 2 or 3, got {depth!r}")
    if depth not in (2, 3):
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
