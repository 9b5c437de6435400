"""The loss registry: l, l', l'' (vectorised numpy) and l as sympy, with checks of 003's assumptions.

Paper 003 (Nguyen & Hein 2017) trains on Phi = sum_i sum_j l(f_Lj(x_i) - y_ij)
(eq. (1)) with a general loss l of one real variable. Its Section 3.2 lists
the losses that satisfy Assumption 3.2 (3), "l in C^2 and l'(a) = 0 only at
global minima of l": the squared loss, Pseudo-Huber, and the non-convex
Blake-Zisserman, corrupted-Gaussian and Cauchy losses (Fig. 1). Section 5
uses a class-dependent pair (l1, l2), the squared hinge (Assumptions 5.2,
Fig. 2).

========================  ======================================================
name                      l(a)
========================  ======================================================
``squared``               a^2
``pseudo_huber``          2 delta^2 (sqrt(1 + a^2/delta^2) - 1),  delta > 0
``blake_zisserman``       -log(exp(-a^2) + delta),  delta > 0
``corrupted_gaussian``    -log(alpha exp(-a^2) + (1 - alpha) exp(-a^2/w^2)/w),
                          alpha in [0, 1], w > 0
``cauchy``                delta^2 log(1 + a^2/delta^2),  delta != 0
``squared_hinge``         a :class:`ClassLoss`: l1(a) = min(a, 0)^2 on the true
                          class, l2(a) = max(a, 0)^2 elsewhere (003, Section 5)
========================  ======================================================

The numpy forms are written to stay finite (no overflow, no NaN) for residuals
up to ``|a| = 1e6``: the two log losses through log-sum-exp and logistic weights.

:func:`check_assumption_32`, :func:`check_assumption_52` and
:func:`check_convexity` decide the paper's conditions with sympy where they
can and say where they cannot.

Examples
--------
>>> from lossland.losses import get_loss
>>> cauchy = get_loss("cauchy", delta=1.0)
>>> [float(v) for v in cauchy.values(1.0)]
[0.6931471805599453, 1.0, 0.0]
>>> cauchy.expr()
log(a**2 + 1)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp
from scipy import special

from ._validation import as_float_array, check_real

__all__ = ["Loss", "ClassLoss", "get_loss", "loss_from_expr", "LOSSES", "ROBUST_LOSSES",
           "AssumptionReport", "ConvexityReport", "check_assumption_32", "check_assumption_52",
           "check_convexity"]

_A = sp.Symbol("a", real=True)
_DELTA = sp.Symbol("delta", positive=True)
_DELTA_NZ = sp.Symbol("delta", real=True, nonzero=True)
_ALPHA = sp.Symbol("alpha", positive=True)
_BETA = sp.Symbol("beta", positive=True)          # 1 - alpha in the generic corrupted Gaussian
_W = sp.Symbol("w", positive=True)


def _exact(value: float) -> sp.Expr:
    """A float parameter as the exact rational of its shortest decimal form (0.1 -> 1/10)."""
    return sp.nsimplify(float(value), rational=True)


def _checked(fn, name="a"):
    """``fn`` behind the input check: a finite real array ``a`` (TypeError/ValueError naming it)."""
    def wrapped(a):
        return fn(as_float_array(a, name))
    wrapped.__doc__ = fn.__doc__
    wrapped.__name__ = getattr(fn, "__name__", "loss")
    return wrapped


@dataclass(frozen=True)
class Loss:
    """A loss l of one real variable with l' and l'' (003, eq. (1)).

    Attributes
    ----------
    name : str
        Registry name (``get_loss(name, **params)`` returns an equal object).
    params : dict
        The parameters (``delta``, ``alpha``, ``w``) as floats.
    f, d1, d2 : callable
        l, l', l'' elementwise on arrays of finite reals (complex, NaN or inf
        input raises TypeError/ValueError naming ``a``).
    formula : sympy.Expr
        l in the real symbol ``Loss.symbol`` with the parameters substituted
        as exact rationals (see :meth:`expr`).
    generic_formula : sympy.Expr
        l with the parameters as sympy symbols (``symbols``), for statements
        "for every delta > 0".
    symbols : dict
        Parameter name -> sympy Symbol of ``generic_formula`` (with the
        assumptions sympy can encode: ``delta`` positive, Cauchy's ``delta``
        nonzero, ``w`` positive; the corrupted Gaussian has ``alpha`` and
        ``beta`` = 1 - alpha, both positive, so its generic form covers
        0 < alpha < 1).
    """

    name: str
    params: dict = field(hash=False)
    f: Callable = field(repr=False, compare=False)
    d1: Callable = field(repr=False, compare=False)
    d2: Callable = field(repr=False, compare=False)
    formula: sp.Expr = field(repr=False, compare=False)
    generic_formula: sp.Expr = field(repr=False, compare=False, default=None)
    symbols: dict = field(repr=False, compare=False, hash=False, default_factory=dict)
    fused: Callable | None = field(repr=False, compare=False, default=None)

    symbol = _A

    def __call__(self, a):
        return self.f(a)

    def values(self, a) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(l(a), l'(a), l''(a)) in one call, equal to ``(f(a), d1(a), d2(a))``."""
        if self.fused is not None:
            return self.fused(as_float_array(a, "a"))
        return self.f(a), self.d1(a), self.d2(a)

    def expr(self, a=None) -> sp.Expr:
        """l as a sympy expression in the symbol ``a`` (default ``Loss.symbol``).

        Parameters given as floats appear as exact rationals (0.1 -> 1/10).
        """
        return self.formula if a is None else self.formula.subs(_A, sp.sympify(a))

    def derivative_exprs(self, a=None) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
        """(l, l', l'') as sympy expressions in ``a`` (default ``Loss.symbol``)."""
        e = [self.formula, sp.diff(self.formula, _A), sp.diff(self.formula, _A, 2)]
        return tuple(e if a is None else (x.subs(_A, sp.sympify(a)) for x in e))

    def generic_expr(self, a=None) -> sp.Expr:
        """l with symbolic parameters (``symbols``), in ``a`` (default ``Loss.symbol``)."""
        g = self.formula if self.generic_formula is None else self.generic_formula
        return g if a is None else g.subs(_A, sp.sympify(a))


@dataclass(frozen=True)
class ClassLoss:
    """A class-dependent loss (l1, l2) of 003, Section 5, eq. (4).

    ``l1`` penalises the residual f_Lj(x_i) - y_ij when x_i is in class C_j,
    ``l2`` when it is not. :meth:`values` picks l1 where ``in_class`` is True.
    """

    name: str
    l1: Loss
    l2: Loss
    params: dict = field(hash=False, default_factory=dict)

    symbol = _A

    def _pick(self, a, in_class, which):
        a = as_float_array(a, "a")
        c = _check_in_class(in_class, a.shape)
        one = (self.l1.f, self.l1.d1, self.l1.d2)[which](a)
        two = (self.l2.f, self.l2.d1, self.l2.d2)[which](a)
        return np.where(c, one, two)

    def f(self, a, in_class):
        """l1(a) where ``in_class`` else l2(a)."""
        return self._pick(a, in_class, 0)

    def d1(self, a, in_class):
        """l1'(a) where ``in_class`` else l2'(a)."""
        return self._pick(a, in_class, 1)

    def d2(self, a, in_class):
        """l1''(a) where ``in_class`` else l2''(a) (see :func:`get_loss` for the value at 0)."""
        return self._pick(a, in_class, 2)

    def __call__(self, a, in_class):
        return self.f(a, in_class)

    def values(self, a, in_class) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(l, l', l'') with l = l1 where ``in_class`` (bool, broadcastable to ``a``), l2 elsewhere."""
        a = as_float_array(a, "a")
        c = _check_in_class(in_class, a.shape)
        v1, v2 = self.l1.values(a), self.l2.values(a)
        return tuple(np.where(c, p, q) for p, q in zip(v1, v2))


def _check_in_class(in_class, shape):
    c = np.asarray(in_class)
    if c.dtype != np.bool_:
        raise TypeError(f"in_class must be an array of bools, got {c.dtype} entries")
    try:
        np.broadcast_shapes(c.shape, shape)
    except ValueError:
        raise ValueError(f"in_class of shape {c.shape} does not broadcast to a of shape {shape}") from None
    return c


# ----------------------------------------------------------------- the losses
def _make_squared():
    def f(a):
        return a * a

    def d1(a):
        return 2.0 * a

    def d2(a):
        return np.full(np.shape(a), 2.0)

    def fused(a):
        return a * a, 2.0 * a, np.full(np.shape(a), 2.0)

    e = _A ** 2
    return Loss("squared", {}, _checked(f), _checked(d1), _checked(d2), e, e, {}, fused)


def _make_pseudo_huber(delta=1.0):
    d = float(delta)

    def parts(a):
        u = a / d
        h = np.hypot(1.0, u)                       # sqrt(1 + u^2) without overflow
        au = np.abs(u)
        # 2 d^2 (h - 1) = 2 d^2 u^2 / (h + 1) = 2 d |a| * |u| / (h + 1): no cancellation
        f = 2.0 * d * np.abs(a) * (au / (h + 1.0))
        d1 = 2.0 * a / h
        d2 = ((2.0 / h) / h) / h                   # 2 / h^3, underflows to 0, never inf
        return f, d1, d2

    dd = _exact(d)
    g = 2 * _DELTA ** 2 * (sp.sqrt(1 + _A ** 2 / _DELTA ** 2) - 1)
    return Loss("pseudo_huber", {"delta": d}, _checked(lambda a: parts(a)[0]),
                _checked(lambda a: parts(a)[1]), _checked(lambda a: parts(a)[2]),
                g.subs(_DELTA, dd), g, {"delta": _DELTA}, parts)


def _make_blake_zisserman(delta=0.1):
    d = float(delta)
    logd = math.log(d)

    def parts(a):
        a2 = a * a
        f = -np.logaddexp(-a2, logd)               # -log(exp(-a^2) + delta)
        z = -(a2 + logd)
        s, sm = special.expit(z), special.expit(-z)  # s = e^{-a^2} / (e^{-a^2} + delta)
        d1 = 2.0 * a * s
        d2 = 2.0 * s - 4.0 * a2 * (s * sm)
        return f, d1, d2

    g = -sp.log(sp.exp(-_A ** 2) + _DELTA)
    return Loss("blake_zisserman", {"delta": d}, _checked(lambda a: parts(a)[0]),
                _checked(lambda a: parts(a)[1]), _checked(lambda a: parts(a)[2]),
                g.subs(_DELTA, _exact(d)), g, {"delta": _DELTA}, parts)


def _make_corrupted_gaussian(alpha=0.5, w=2.0):
    al, ww = float(alpha), float(w)
    la = math.log(al) if al > 0 else -math.inf          # log alpha
    lb = (math.log1p(-al) if al < 1 else -math.inf) - math.log(ww)   # log((1 - alpha) / w)
    q = 1.0 / (ww * ww)
    dab = la - lb                                        # +-inf only at alpha = 0 or 1

    def parts(a):
        a2 = a * a
        f = -np.logaddexp(la - a2, lb - a2 * q)
        z = dab - a2 * (1.0 - q)                         # log of the ratio of the two terms
        r, rb = special.expit(z), special.expit(-z)      # posterior weights of the components
        m = r + rb * q
        d1 = 2.0 * a * m
        d2 = 2.0 * m - 4.0 * a2 * (r * rb) * (1.0 - q) ** 2
        return f, d1, d2

    # generic form: alpha and beta = 1 - alpha as two positive symbols (sympy cannot encode
    # alpha <= 1); it covers 0 < alpha < 1. alpha = 0, 1 are Gaussians: a^2/w^2 + log w and a^2.
    g = -sp.log(_ALPHA * sp.exp(-_A ** 2) + _BETA * sp.exp(-_A ** 2 / _W ** 2) / _W)
    ea = _exact(al)
    e = g.subs({_ALPHA: ea, _BETA: 1 - ea, _W: _exact(ww)})
    return Loss("corrupted_gaussian", {"alpha": al, "w": ww}, _checked(lambda a: parts(a)[0]),
                _checked(lambda a: parts(a)[1]), _checked(lambda a: parts(a)[2]),
                e, g, {"alpha": _ALPHA, "beta": _BETA, "w": _W}, parts)


def _make_cauchy(delta=1.0):
    d = float(delta)
    d2_ = d * d

    def parts(a):
        u = a / d
        uu = u * u
        f = d2_ * np.log1p(uu)
        t = 1.0 / (1.0 + uu)
        d1 = 2.0 * a * t
        d2 = 2.0 * t * (2.0 * t - 1.0)              # 2 (1 - u^2) / (1 + u^2)^2
        return f, d1, d2

    g = _DELTA_NZ ** 2 * sp.log(1 + _A ** 2 / _DELTA_NZ ** 2)
    return Loss("cauchy", {"delta": d}, _checked(lambda a: parts(a)[0]),
                _checked(lambda a: parts(a)[1]), _checked(lambda a: parts(a)[2]),
                g.subs(_DELTA_NZ, _exact(d)), g, {"delta": _DELTA_NZ}, parts)


def _make_squared_hinge():
    # l1 = a^2 on a <= 0 (true class: too small an output is penalised), l2 = a^2 on a >= 0.
    # l'' jumps from 2 to 0 at a = 0: C^1, not C^2. At exactly 0 both return 2, the value of
    # the quadratic piece (the one-sided second derivative from the side where the loss is
    # active), as sympy's Piecewise with the closed condition does; the quadratic a^2 is an
    # upper bound of l1 and l2, so a second-order model at 0 never undershoots the loss.
    def f1(a):
        m = np.minimum(a, 0.0)
        return m * m

    def g1(a):
        return 2.0 * np.minimum(a, 0.0)

    def h1(a):
        return np.where(a <= 0.0, 2.0, 0.0)

    def f2(a):
        m = np.maximum(a, 0.0)
        return m * m

    def g2(a):
        return 2.0 * np.maximum(a, 0.0)

    def h2(a):
        return np.where(a >= 0.0, 2.0, 0.0)

    e1 = sp.Piecewise((_A ** 2, _A <= 0), (0, True))
    e2 = sp.Piecewise((_A ** 2, _A >= 0), (0, True))
    l1 = Loss("squared_hinge_l1", {}, _checked(f1), _checked(g1), _checked(h1), e1, e1)
    l2 = Loss("squared_hinge_l2", {}, _checked(f2), _checked(g2), _checked(h2), e2, e2)
    return ClassLoss("squared_hinge", l1, l2, {})


_FACTORIES: dict[str, Callable] = {
    "squared": _make_squared,
    "pseudo_huber": _make_pseudo_huber,
    "blake_zisserman": _make_blake_zisserman,
    "corrupted_gaussian": _make_corrupted_gaussian,
    "cauchy": _make_cauchy,
    "squared_hinge": _make_squared_hinge,
}
_DEFAULTS = {"pseudo_huber": {"delta": 1.0}, "blake_zisserman": {"delta": 0.1},
             "corrupted_gaussian": {"alpha": 0.5, "w": 2.0}, "cauchy": {"delta": 1.0}}

LOSSES: tuple[str, ...] = tuple(_FACTORIES)
"""Names accepted by :func:`get_loss`."""

ROBUST_LOSSES: tuple[str, ...] = ("pseudo_huber", "blake_zisserman", "corrupted_gaussian", "cauchy")
"""The robust losses of 003, Section 3.2 (with the squared loss: Fig. 1)."""

_CACHE: dict[tuple, object] = {}


def _check_param(loss: str, p: str, val):
    if p == "delta" and loss == "cauchy":
        return check_real(val, "delta", nonzero=True)        # 003: "for delta != 0"
    if p == "delta":
        return check_real(val, "delta", positive=True)       # 003: "for delta > 0"
    if p == "alpha":
        return check_real(val, "alpha", low=0.0, high=1.0)   # 003: alpha in [0, 1]
    if p == "w":
        return check_real(val, "w", positive=True)           # 003: w > 0
    raise AssertionError(p)


def get_loss(name, **params):
    """Return the loss called ``name`` from the registry.

    Parameters
    ----------
    name : str, Loss or ClassLoss
        One of :data:`LOSSES`; a :class:`Loss` or :class:`ClassLoss` is returned as is.
    **params
        ``delta`` for ``"pseudo_huber"`` (default 1), ``"blake_zisserman"``
        (default 0.1) and ``"cauchy"`` (default 1); ``alpha`` and ``w`` for
        ``"corrupted_gaussian"`` (defaults 0.5 and 2). As in 003, Section 3.2:
        delta > 0, except delta != 0 for Cauchy; alpha in [0, 1]; w > 0.

    Returns
    -------
    Loss, or ClassLoss for ``"squared_hinge"`` (l1, l2 of 003, Section 5).
    Its second derivative jumps at 0 (C^1, not C^2); ``d2(0)`` returns 2 for
    both l1 and l2, the one-sided value from the side where the loss is
    active (the quadratic piece), which is also what the sympy Piecewise gives.

    Raises
    ------
    ValueError
        Unknown name, or a parameter out of range (the message names it).
    TypeError
        A parameter the loss does not take, or not a real number.
    """
    if isinstance(name, (Loss, ClassLoss)):
        if params:
            raise TypeError("get_loss: parameters given together with a Loss object")
        return name
    if not isinstance(name, str):
        raise TypeError(f"loss must be a name (str) or a Loss, got {type(name).__name__}")
    key = name.lower()
    if key not in _FACTORIES:
        raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(LOSSES)}")
    allowed = tuple(_DEFAULTS.get(key, {}))
    for p in params:
        if p not in allowed:
            raise TypeError(f"loss {key!r} takes no parameter {p!r}"
                            + (f" (allowed: {', '.join(allowed)})" if allowed else ""))
    params = {**_DEFAULTS.get(key, {}), **params}
    params = {p: _check_param(key, p, v) for p, v in params.items()}
    cache_key = (key, tuple(sorted(params.items())))
    if cache_key not in _CACHE:
        _CACHE[cache_key] = _FACTORIES[key](**params)
    return _CACHE[cache_key]


def loss_from_expr(name: str, expr, symbol=None) -> Loss:
    """A :class:`Loss` from a sympy expression (for counterexamples, e.g. a double well).

    ``expr`` is l in ``symbol`` (default ``Loss.symbol``, the real symbol
    ``a``); l' and l'' are sympy's derivatives, evaluated with numpy through
    ``lambdify``. No overflow guarding: meant for small residuals.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    try:
        e = sp.sympify(expr)
    except (sp.SympifyError, TypeError) as exc:
        raise TypeError(f"expr must be a sympy expression, got {expr!r}") from exc
    if symbol is not None:
        if not isinstance(symbol, sp.Symbol):
            raise TypeError(f"symbol must be a sympy Symbol, got {symbol!r}")
        e = e.subs(symbol, _A)
    extra = e.free_symbols - {_A}
    if extra:
        raise ValueError(f"expr must depend on the loss variable only, also has {sorted(map(str, extra))}")
    fns = [sp.lambdify(_A, sp.diff(e, _A, k), modules="numpy") for k in range(3)]

    def as_array(fn):
        def g(a):
            return np.broadcast_to(np.asarray(fn(a), dtype=float), np.shape(a)).copy()
        return g

    f, d1, d2 = (_checked(as_array(fn)) for fn in fns)
    return Loss(name, {}, f, d1, d2, e, e)


# ------------------------------------------------------------- the checkers
@dataclass(frozen=True)
class AssumptionReport:
    """What :func:`check_assumption_32` / :func:`check_assumption_52` found.

    ``holds`` is True or False when decided, None when sympy could not decide
    (then ``reasons`` says where it stopped, and a numerical cross-check, if
    run, is in ``numerical``, labelled as such: it is not a proof).
    ``decided_symbolically`` is True when every step was done by sympy
    (exact solution sets, limits and exact comparisons of constants).
    """

    assumption: str
    loss: str
    holds: bool | None
    decided_symbolically: bool
    reasons: list
    critical_points: list = field(default_factory=list)
    global_minimum: object = None
    limits: dict = field(default_factory=dict)
    smooth: bool | None = None
    numerical: str | None = None

    def __str__(self):
        verdict = {True: "holds", False: "fails", None: "undecided"}[self.holds]
        how = "sympy" if self.decided_symbolically else "not decided by sympy alone"
        lines = [f"{self.loss}: Assumption {self.assumption} {verdict} ({how})"]
        lines += [f"  - {r}" for r in self.reasons]
        if self.numerical:
            lines.append(f"  - {self.numerical}")
        return "\n".join(lines)


def _pieces(e):
    """[(expression, set)] for a (possibly piecewise) function of ``a``: disjoint sets covering R."""
    e = sp.piecewise_fold(e)
    if not isinstance(e, sp.Piecewise):
        return [(e, sp.S.Reals)]
    out, remaining = [], sp.S.Reals
    for expr, cond in e.args:
        s = sp.S.Reals if cond is sp.true else cond.as_set()
        s = s.intersect(remaining)
        if s is not sp.S.EmptySet:
            out.append((expr, s))
        remaining = remaining - s
    return out


def _solve(e, relation, domain=sp.S.Reals):
    """The set of a in ``domain`` where ``relation(l(a))`` holds, piece by piece."""
    out = sp.S.EmptySet
    for expr, s in _pieces(e):
        s = s.intersect(domain)
        if s is sp.S.EmptySet:
            continue
        out = out.union(sp.solveset(relation(expr), _A, s))
    return out


def _zeros(e):
    """Real zeros of ``e``: positive factors of its numerator dropped before solving."""
    if isinstance(sp.piecewise_fold(e), sp.Piecewise):
        return _solve(e, lambda x: sp.Eq(x, 0))
    num, den = sp.fraction(sp.together(e))
    out = sp.S.EmptySet
    for fac in sp.Mul.make_args(sp.factor(num)):
        base = fac.base if fac.is_Pow and fac.exp.is_positive else fac
        if base.is_positive or base.is_negative or _A not in base.free_symbols:
            if base.is_zero:
                return sp.S.Reals
            continue
        if base.is_polynomial(_A) and base.free_symbols == {_A}:
            # exact real roots as CRootOf (no casus-irreducibilis radicals with I)
            out = out.union(sp.FiniteSet(*sp.real_roots(sp.Poly(base, _A))))
        else:
            out = out.union(sp.solveset(base, _A, sp.S.Reals))
    return out


def _smooth_to(e, order):
    """(k, reasons): l is C^k on R for k = order when True; None when undecided."""
    reasons = []
    pieces = _pieces(e)
    if len(pieces) == 1:
        for k in range(order + 1):
            dk = sp.diff(e, _A, k)
            try:
                dom = sp.calculus.util.continuous_domain(dk, _A, sp.S.Reals)
            except NotImplementedError:
                return None, [f"sympy cannot find where l^({k}) is continuous"]
            if dom != sp.S.Reals:
                return False, [f"l^({k}) is not continuous on R (continuous on {dom})"]
        return True, [f"l, l', l'' continuous on R (sympy continuous_domain)"]
    # a piecewise loss: each piece continuous on its set, derivatives matching at the breakpoints
    breaks = sorted({b for _, s in pieces for b in s.boundary if b.is_finite}, key=float)
    for k in range(order + 1):
        for b in breaks:
            left = [x for x, s in pieces if s.contains(b - sp.Rational(1, 10**9)) is sp.true
                    or (s.sup == b and s.inf < b)]
            right = [x for x, s in pieces if (s.inf == b and s.sup > b)]
            if not left or not right:
                return None, [f"cannot locate the pieces around a = {b}"]
            lo = sp.limit(sp.diff(left[0], _A, k), _A, b, "-")
            hi = sp.limit(sp.diff(right[0], _A, k), _A, b, "+")
            if sp.simplify(lo - hi) != 0:
                return False, [f"l^({k}) jumps at a = {b}: {lo} from the left, {hi} from the right"]
    return True, [f"the pieces of l and of its first {order} derivatives join at {breaks}"]


def _sign(x):
    """Sign of an exact sympy constant: -1, 0, 1, or None if undecided.

    A constant is evaluated to 60 digits first (sympy's evalf with mpmath) and
    decided when clearly away from 0; otherwise sympy's simplification and
    sign assumptions decide.
    """
    x = sp.sympify(x)
    if not x.free_symbols:
        v = sp.N(x, 60)
        if v.is_Number and abs(v) > sp.Float("1e-45"):
            return 1 if v > 0 else -1
    x = sp.simplify(x)
    if x == 0:
        return 0
    if x.is_positive:
        return 1
    if x.is_negative:
        return -1
    return None


def _tidy(v):
    """A value for printing: logs combined, -log(x) written log(1/x)."""
    v = sp.logcombine(sp.simplify(v), force=True)
    if v.is_Mul and len(v.args) == 2 and v.args[0] == -1 and isinstance(v.args[1], sp.log):
        v = sp.log(1 / v.args[1].args[0])
    return v


def _set_points(s):
    """Representatives of a solution set: (points, ok). Intervals give one interior point."""
    if isinstance(s, sp.FiniteSet):
        return list(s.args), True
    if isinstance(s, sp.Interval):
        lo, hi = s.inf, s.sup
        if lo.is_finite and hi.is_finite:
            return [(lo + hi) / 2], True
        return [lo if lo.is_finite else (hi if hi.is_finite else sp.S.Zero)], True
    if isinstance(s, sp.Union):
        pts = []
        for arg in s.args:
            p, ok = _set_points(arg)
            if not ok:
                return pts, False
            pts += p
        return pts, True
    if s is sp.S.EmptySet:
        return [], True
    return [], False


def _limit_at(e, end):
    """lim l(a) for a -> end (+-oo), using the unbounded piece of a piecewise l."""
    for expr, s in _pieces(e):
        if (end == sp.oo and s.sup == sp.oo) or (end == -sp.oo and s.inf == -sp.oo):
            return sp.limit(expr, _A, end)
    return None


def _numeric_critical_check(loss: Loss, radius=50.0, n=200001):
    """Numerical cross-check (not a proof): sign changes of l' on a grid, values compared."""
    a = np.linspace(-radius, radius, n)
    l, g = loss.f(a), loss.d1(a)
    idx = np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) <= 0)
    if idx.size == 0:
        return None, "numerical cross-check (not a proof): l' has no sign change on the grid"
    crit = a[idx]
    worst = float(np.max(l[idx]) - l.min())
    ok = worst <= 1e-9 * max(1.0, abs(float(l.min())))
    return ok, (f"numerical cross-check (not a proof): l' changes sign near "
                f"{np.round(crit[:5], 3).tolist()} on [-{radius:g}, {radius:g}]; largest l there "
                f"exceeds min l on the grid by {worst:.3g}")


def check_assumption_32(loss, generic: bool = False, numerical: bool = True) -> AssumptionReport:
    """Decide Assumption 3.2 (3) of 003: "l in C^2 and l'(a) = 0 only at global minima of l".

    With sympy: (i) l, l', l'' are continuous on R (``continuous_domain``; for a
    piecewise l, the one-sided limits at the breakpoints); (ii) the real zeros
    of l' (``solveset`` after dropping factors sympy proves positive); (iii) the
    limits of l at +-oo. A continuous l with finitely many critical points is
    monotone between them, so inf l = min(l at the critical points, the two
    limits): the condition holds iff l at every critical point equals it (no
    critical point: it holds vacuously). Constants are compared exactly (sympy
    simplification, then 60-digit evaluation of the exact constant).

    Parameters
    ----------
    loss : Loss or str
        A :class:`Loss` (a :class:`ClassLoss` is refused: use :func:`check_assumption_52`).
    generic : bool
        Use :meth:`Loss.generic_expr` (parameters as symbols with their sign
        assumptions): a verdict then holds for every admissible parameter sympy
        could handle.
    numerical : bool
        When sympy cannot decide, add a labelled numerical cross-check.
    """
    loss = get_loss(loss)
    if isinstance(loss, ClassLoss):
        raise TypeError("loss must be a Loss; a ClassLoss (l1, l2) is checked by check_assumption_52")
    if isinstance(generic, (bool, np.bool_)) is False:
        raise TypeError(f"generic must be True or False, got {generic!r}")
    e = loss.generic_expr() if generic else loss.expr()
    label = loss.name + (" (generic parameters)" if generic else
                         "".join(f", {k}={v:g}" for k, v in loss.params.items()))
    reasons, decided = [], True
    smooth, why = _smooth_to(e, 2)
    reasons += why
    crit_set = _zeros(sp.diff(e, _A))
    points, ok = _set_points(crit_set)
    lims = {str(end): _limit_at(e, end) for end in (-sp.oo, sp.oo)}
    report = dict(assumption="3.2 (3)", loss=label, critical_points=points, limits=lims, smooth=smooth)
    if smooth is None:
        decided = False
    if not ok:
        reasons.append(f"sympy could not solve l'(a) = 0 over the reals (got {crit_set})")
        num = _numeric_critical_check(loss)[1] if numerical and not generic else None
        return AssumptionReport(holds=None, decided_symbolically=False, reasons=reasons,
                                numerical=num, **report)
    reasons.append(f"l'(a) = 0 exactly for a in {crit_set}")
    values = [_tidy(e.subs(_A, c)) for c in points]
    cands = values + [v for v in lims.values() if v is not None and v is not sp.oo]
    inf = None
    for v in cands:
        if inf is None:
            inf = v
            continue
        s = _sign(v - inf)
        if s is None:
            decided = False
            reasons.append(f"cannot compare {v} with {inf}")
            break
        if s < 0:
            inf = v
    crit_ok = True
    if decided:
        for c, v in zip(points, values):
            s = _sign(v - inf)
            if s is None:
                decided, crit_ok = False, None
                reasons.append(f"cannot compare l({c}) = {v} with inf l = {inf}")
            elif s > 0:
                crit_ok = False
                reasons.append(f"l'({c}) = 0 but l({c}) = {v} > inf l = {inf}: not a global minimum")
        if crit_ok and points:
            reasons.append(f"l at every critical point equals inf l = {inf} "
                           f"(limits at -oo, +oo: {lims['-oo']}, {lims['oo']})")
        if not points:
            reasons.append("l' has no real zero: the condition holds vacuously")
    if smooth is False or crit_ok is False:
        holds = False
    elif smooth is None or crit_ok is None or not decided:
        holds = None
    else:
        holds = True
    num = None
    if holds is None and numerical and not generic:
        num = _numeric_critical_check(loss)[1]
    return AssumptionReport(holds=holds, decided_symbolically=decided and holds is not None,
                            reasons=reasons, global_minimum=inf, numerical=num, **report)


def check_assumption_52(class_loss) -> AssumptionReport:
    """Decide Assumptions 5.2 (2)-(3) of 003 for a class-dependent loss (l1, l2).

    l1: R -> R_+, l1 in C^1, l1(a) = 0 <=> a >= 0, l1'(a) = 0 <=> a >= 0 and
    l1'(a) < 0 for a < 0; l2 the mirror image (zero exactly on a <= 0, l2' > 0
    for a > 0). Every set is computed with sympy (``solveset`` piece by piece)
    and compared with the required interval. C^2 is not required; the report
    says whether it holds.
    """
    class_loss = get_loss(class_loss)
    if not isinstance(class_loss, ClassLoss):
        raise TypeError(f"class_loss must be a ClassLoss (l1, l2), got {type(class_loss).__name__}")
    reasons, holds, decided = [], True, True
    nonneg, nonpos = sp.Interval(0, sp.oo), sp.Interval(-sp.oo, 0)
    for nm, loss, zero_set, open_side, bad in (
            ("l1", class_loss.l1, nonneg, sp.Interval.open(-sp.oo, 0), lambda x: x >= 0),
            ("l2", class_loss.l2, nonpos, sp.Interval.open(0, sp.oo), lambda x: x <= 0)):
        e = loss.expr()
        d = sp.diff(e, _A)
        c1, why = _smooth_to(e, 1)
        c2, why2 = _smooth_to(e, 2)
        checks = [
            (f"{nm} in C^1", c1, why[0]),
            (f"{nm} >= 0", _solve(e, lambda x: x < 0) == sp.S.EmptySet, "{a: l < 0} is empty"),
            (f"{nm}(a) = 0 <=> a in {zero_set}", _solve(e, lambda x: sp.Eq(x, 0)) == zero_set, ""),
            (f"{nm}'(a) = 0 <=> a in {zero_set}", _solve(d, lambda x: sp.Eq(x, 0)) == zero_set, ""),
            (f"{nm}' of strict sign on {open_side}", _solve(d, bad, open_side) == sp.S.EmptySet, ""),
        ]
        for text, ok, detail in checks:
            if ok is None:
                decided, holds = False, None
            elif not ok and holds is not None:
                holds = False
            reasons.append(f"{text}: {ok}" + (f" ({detail})" if detail and ok is not True else ""))
        reasons.append(f"{nm} in C^2: {c2}" + (f" ({why2[0]})" if c2 is False else ""))
    return AssumptionReport(assumption="5.2 (2)-(3)", loss=class_loss.name, holds=holds,
                            decided_symbolically=decided, reasons=reasons)


@dataclass(frozen=True)
class ConvexityReport:
    """Is l convex (l'' >= 0 on R)? ``nonconvex_set`` is {a : l''(a) < 0} when sympy found it;
    ``witness`` a rational a with l''(a) < 0 proved by exact evaluation."""

    loss: str
    convex: bool | None
    decided_symbolically: bool
    reasons: list
    nonconvex_set: object = None
    witness: object = None

    def __str__(self):
        verdict = {True: "convex", False: "not convex", None: "undecided"}[self.convex]
        return f"{self.loss}: {verdict}; " + "; ".join(self.reasons)


def check_convexity(loss) -> ConvexityReport:
    """Decide whether l'' >= 0 on R (003, Section 3.2: "convex and non-convex" losses, Fig. 1).

    Tries, in order: sympy proves l'' >= 0 (sign assumptions after
    simplification); for a rational l'', ``solveset(l'' < 0)`` gives the exact
    set where l is concave; otherwise a grid search for l'' < 0 followed by an
    exact evaluation of l'' at a nearby rational point (a witness, a proof of
    non-convexity). Undecided (None) when none of these concludes.
    """
    loss = get_loss(loss)
    if isinstance(loss, ClassLoss):
        raise TypeError("loss must be a Loss; check l1 and l2 of a ClassLoss separately")
    e = loss.expr()
    label = loss.name + "".join(f", {k}={v:g}" for k, v in loss.params.items())
    d2 = sp.diff(e, _A, 2)
    pieces = _pieces(d2)
    # 1. a negative value on a grid, confirmed exactly at a nearby rational point (cheap first)
    a = np.concatenate([np.linspace(0.0, 20.0, 20001), np.linspace(-20.0, 0.0, 20001)])
    v = loss.d2(a)
    if v.min() < 0:
        i = int(np.flatnonzero(v <= v.min() * (1 - 1e-9))[0])   # a >= 0 first
        a0 = sp.Rational(int(round(a[i] * 1000)), 1000)
        val = d2.subs(_A, a0)
        if _sign(val) == -1 and not all(x.is_rational_function(_A) for x, _ in pieces):
            return ConvexityReport(label, False, True,
                                   [f"l''({a0}) = {sp.N(val, 6)} < 0 (exact evaluation)"],
                                   None, a0)
    # 2. for a rational l'', the exact set where l'' < 0
    if all(x.is_rational_function(_A) for x, _ in pieces):
        s = _solve(d2, lambda x: x < 0)
        if not isinstance(s, sp.ConditionSet):
            convex = s == sp.S.EmptySet
            why = "l'' >= 0 on R" if convex else f"l'' < 0 exactly on {s}"
            return ConvexityReport(label, convex, True, [why + " (sympy solveset)"], s)
    # 3. sympy proves l'' >= 0
    if len(pieces) == 1:
        for form in (d2, sp.factor(sp.together(d2)), sp.simplify(d2)):
            if form.is_nonnegative:
                return ConvexityReport(label, True, True, [f"l'' = {form} >= 0 (sympy)"],
                                       sp.S.EmptySet)
    return ConvexityReport(label, None, False,
                           ["sympy could not prove l'' >= 0 and no negative value of l'' "
                            "was found on [-20, 20] (numerical search, not a proof)"])
