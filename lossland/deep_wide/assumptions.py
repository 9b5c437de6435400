"""The activation part of Assumptions 3.2 and Lemma 3.3 of 003, checked with sympy.

Assumption 3.2 (2) of 003 (Nguyen & Hein 2017) asks the activation sigma to be
analytic on R, strictly monotonically increasing, and (a) bounded, or (b) to
satisfy the growth bounds::

    |sigma(t)| <= rho_1 exp(rho_2 t)  for t < 0,
    |sigma(t)| <= rho_3 t + rho_4     for t >= 0,

with positive rho_1..rho_4. Lemma 3.3 states that sigmoid, tanh and softplus
sigma(t) = log(1 + e^{alpha t}) / alpha (alpha > 0) satisfy it; its proof takes
rho = (1/alpha, alpha, 1, log(2)/alpha) for softplus (:func:`lemma33_rhos`).

:func:`check_activation_32` proves what sympy can prove (sigma' > 0, the limits
at +-oo, the two inequalities of (b) by a monotonicity argument) and reports
analyticity honestly as *not checked*: sympy has no decision procedure for real
analyticity; the report carries the composition argument of the proof of
Lemma 3.3 instead (Krantz & Parks, Prop. 1.4.2).

It also records whether sigma' > 0 everywhere, which is stronger than "strictly
increasing" (tanh(t^3) is strictly increasing with sigma'(0) = 0) and is what
the proofs of Theorem 3.4 and Theorem 5.3 of 003 use ("as by assumption sigma'
is strictly positive").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..activations import Activation, get_activation

__all__ = ["InequalityProof", "ActivationReport", "check_activation_32", "lemma33_rhos", "ALPHA",
           "softplus_generic", "prove_nonnegative"]

_T = sp.Symbol("t", real=True)
_S_POS = sp.Symbol("s", positive=True)
_S_NONNEG = sp.Symbol("s", nonnegative=True)
ALPHA = sp.Symbol("alpha", positive=True)
"""The softplus parameter alpha > 0 as a sympy symbol (:func:`softplus_generic`)."""

_ANALYTIC = {
    "sigmoid": ("sigma(t) = 1/(1 + e^{-t}): phi(u) = 1/(1 + u) is real-analytic on u >= 0 and "
                "exp is analytic with values in (0, oo); a composition of real-analytic "
                "functions is real-analytic (003, proof of Lemma 3.3; Krantz & Parks, Prop. 1.4.2)"),
    "tanh": ("tanh(t) = 2/(1 + e^{-2t}) - 1 = 2 sigmoid(2t) - 1: an affine function of a "
             "composition of real-analytic functions (003, proof of Lemma 3.3)"),
    "softplus": ("log(1 + u) is real-analytic on u > -1 and exp is analytic with values in "
                 "(0, oo); the composition log(1 + e^{alpha t}) / alpha is real-analytic "
                 "(003, proof of Lemma 3.3)"),
}


@dataclass(frozen=True)
class InequalityProof:
    """One inequality h(t) >= 0 on an interval, with the steps sympy proved (or None)."""

    statement: str
    proved: bool | None
    steps: list

    def __str__(self):
        verdict = {True: "proved", False: "false", None: "not proved"}[self.proved]
        return f"{self.statement}: {verdict}" + "".join(f"\n      {s}" for s in self.steps)


@dataclass(frozen=True)
class ActivationReport:
    """What :func:`check_activation_32` established for one activation.

    ``holds`` is Assumption 3.2 (2) *without analyticity*: strictly increasing
    and (a) bounded or (b) the growth bounds with the given rho, each decided by
    sympy (None if not decided). ``analytic`` is always None: analyticity is
    not checked by sympy; ``analytic_argument`` states the proof of 003.
    ``derivative_positive`` (sigma' > 0 on R) is the stronger property the
    proofs of 003, Theorems 3.4 and 5.3, use.
    """

    name: str
    expr: sp.Expr
    derivative: sp.Expr
    derivative_positive: bool | None
    strictly_increasing: bool | None
    limits: tuple
    bounded: bool | None
    rhos: tuple | None
    growth: list
    growth_possible: bool | None
    holds: bool | None
    reasons: list
    analytic: None = None
    analytic_argument: str = ""
    c1: bool | None = None

    @property
    def growth_holds(self) -> bool | None:
        """Assumption 3.2 (2b) with ``rhos``: both inequalities proved (None if not given)."""
        if not self.growth:
            return None if self.growth_possible is not False else False
        vals = [g.proved for g in self.growth]
        return True if all(v is True for v in vals) else (False if False in vals else None)

    @property
    def assumption_52(self) -> bool | None:
        """Assumption 5.2 (1) of 003: sigma in C^1 and strictly increasing."""
        if self.c1 is None or self.strictly_increasing is None:
            return None
        return bool(self.c1 and self.strictly_increasing)

    def __str__(self):
        verdict = {True: "holds", False: "fails", None: "undecided"}[self.holds]
        lines = [f"{self.name}: Assumption 3.2 (2) without analyticity {verdict}"]
        lines += [f"  - {r}" for r in self.reasons]
        lines.append("  - analytic: not checked by sympy (argument of 003 in .analytic_argument)")
        return "\n".join(lines)


def _forms(e):
    """Equivalent forms of ``e`` on which sympy's sign assumptions may conclude."""
    yield e
    yield sp.simplify(e)
    yield sp.factor(sp.together(e))
    r = e.rewrite(sp.exp)
    yield sp.factor(sp.together(r))
    yield sp.factor(sp.together(sp.powsimp(sp.expand(r))))


def _prove_sign(e, positive=True):
    """(True, form) if sympy proves e > 0 (``positive``) or e >= 0 on its symbols' assumptions."""
    for form in _forms(e):
        ok = form.is_positive if positive else form.is_nonnegative
        if ok:
            return True, form
    return None, None


def _substitute(h, t, where):
    """h on t < 0 as a function of s > 0 (t = -s), on t >= 0 of s >= 0 (t = s)."""
    if where == "t < 0":
        return h.subs(t, -_S_POS), _S_POS, -1
    return h.subs(t, _S_NONNEG), _S_NONNEG, 1


_SAMPLES = (sp.Rational(1, 2), 1, 2, 5, 10, 50)


def prove_nonnegative(h, t, where: str, depth: int = 2) -> tuple[bool | None, list]:
    """Prove h(t) >= 0 for t < 0 (``where="t < 0"``) or t >= 0 (``"t >= 0"``) with sympy.

    Two routes: (i) sympy's sign assumptions after writing t = -s (s > 0) or
    t = s (s >= 0); (ii) monotonicity: h at the closed end (t = 0), or its
    limit at -oo, is >= 0, and h' >= 0 on the interval (proved the same way,
    up to ``depth`` derivatives), so h never drops below its start. If
    neither concludes, h is evaluated exactly at a few points of the interval
    (t = +-1/2, 1, 2, 5, 10, 50): a negative value disproves the inequality
    (False). Returns (True/False/None, the steps as short strings).
    """
    if where not in ("t < 0", "t >= 0"):
        raise ValueError(f"where must be 't < 0' or 't >= 0', got {where!r}")
    ok, steps = _prove(h, t, where, depth, "h")
    if ok:
        return True, steps
    hs, s, sign = _substitute(h, t, where)
    for t0 in _SAMPLES:
        t0 = sign * sp.sympify(t0)
        val = h.subs(t, t0)
        if _exact_negative(val):
            steps.append(f"h({t0}) = {sp.N(val, 6)} < 0 (exact evaluation): the inequality is false")
            return False, steps
    return None, steps


def _prove(h, t, where, depth, label):
    hs, s, sign = _substitute(h, t, where)
    ok, form = _prove_sign(hs, positive=False)
    if ok:
        return True, [f"{label}(t) = {sp.simplify(form.subs(s, sign * t))} >= 0 by sympy's sign rules"]
    if depth == 0:
        return None, [f"{label}(t) = {sp.simplify(h)} (sign not decided)"]
    if where == "t < 0":
        start = sp.limit(h, t, -sp.oo)
        steps = [f"lim_(t->-oo) {label} = {start}"]
    else:
        start = sp.simplify(h.subs(t, 0))
        steps = [f"{label}(0) = {start}"]
    ok0 = start.is_nonnegative if start.is_finite is not False else None
    steps[0] += " >= 0" if ok0 else " (sign not decided)"
    okd, dsteps = _prove(sp.diff(h, t), t, where, depth - 1, label + "'")
    steps += dsteps
    if ok0 and okd:
        steps.append(f"so {label} is non-decreasing from a non-negative start: {label} >= 0")
        return True, steps
    return None, steps


def _exact_negative(val) -> bool:
    """True if the exact constant ``val`` is proved negative (sympy, then 60-digit evaluation)."""
    val = sp.simplify(val)
    if val.is_negative:
        return True
    if val.free_symbols or val.is_negative is False:
        return False
    v = sp.N(val, 60)
    return bool(v.is_Number and v < -sp.Float("1e-45"))


def lemma33_rhos(alpha=1.0) -> tuple:
    """rho_1..rho_4 of the proof of 003, Lemma 3.3, for softplus: (1/alpha, alpha, 1, log(2)/alpha).

    ``alpha`` may be a positive number (made exact with ``nsimplify``) or a
    positive sympy symbol (e.g. :data:`ALPHA`).
    """
    a = alpha if isinstance(alpha, sp.Basic) else sp.nsimplify(float(alpha), rational=True)
    if a.is_positive is not True:
        raise ValueError(f"alpha must be positive, got {alpha!r}")
    return (1 / a, a, sp.Integer(1), sp.log(2) / a)


def softplus_generic() -> sp.Expr:
    """Softplus log(1 + e^{alpha t}) / alpha with a positive symbol alpha, in the real symbol t.

    For proofs "for every alpha > 0" (003, Lemma 3.3):
    ``check_activation_32(softplus_generic(), rhos=lemma33_rhos(ALPHA))``.
    """
    return sp.log(1 + sp.exp(ALPHA * _T)) / ALPHA


def _as_expr(activation):
    """(name, sympy expression in _T, analytic argument) of an Activation, a name or an expression."""
    if isinstance(activation, sp.Basic):
        free = [s for s in activation.free_symbols if s != ALPHA]
        if len(free) != 1:
            raise ValueError(f"activation expression must have one variable (besides alpha), got {free}")
        name = "sigma(t) = " + str(activation.subs(free[0], _T))
        arg = ("not checked: sympy cannot prove analyticity; for an expression built from "
               "exp, log, rational functions and tanh on their domains it follows from the "
               "composition rule (Krantz & Parks, Prop. 1.4.2)")
        if sp.simplify(activation.subs(free[0], _T) - softplus_generic()) == 0:
            name, arg = "softplus (every alpha > 0)", _ANALYTIC["softplus"]
        return name, activation.subs(free[0], _T), arg
    act = get_activation(activation)
    if not isinstance(act, Activation):
        raise TypeError(f"activation must be an Activation, a name or a sympy expression, got {activation!r}")
    e = act.expr.subs(Activation.symbol, _T)
    name = act.name + "".join(f", {k}={v:g}" for k, v in act.params.items())
    return name, e, _ANALYTIC.get(act.name, "not checked: no argument recorded for this activation")


def check_activation_32(activation, rhos=None) -> ActivationReport:
    """Check the activation conditions of 003, Assumption 3.2 (2), with sympy (Lemma 3.3).

    Parameters
    ----------
    activation : Activation, str or sympy expression
        An activation of :mod:`lossland.activations` (or its name), or a sympy
        expression in one real variable (e.g. :func:`softplus_generic`, or a
        counterexample such as ``tanh(t**3)``).
    rhos : tuple of four positive numbers, optional
        rho_1..rho_4 of Assumption 3.2 (2b) to prove. Default: the proof's
        values :func:`lemma33_rhos` for softplus, none for other activations.

    Returns
    -------
    ActivationReport
        sigma' > 0 proved by sympy (as a positive expression); strictly
        increasing (sigma' > 0, or sigma' >= 0 with finitely many zeros); the
        limits at +-oo and boundedness; the growth inequalities (each proved by
        :func:`prove_nonnegative`) and whether (b) is possible at all (it needs
        lim_{t->-oo} sigma(t) = 0). Analyticity: not checked (see the report).
    """
    name, e, arg = _as_expr(activation)
    if rhos is None and (name.startswith("softplus")):
        alpha = ALPHA if "every alpha" in name else get_activation(activation).params["alpha"]
        rhos = lemma33_rhos(alpha)
    if rhos is not None:
        rhos = tuple(sp.sympify(r) if isinstance(r, sp.Basic) else sp.nsimplify(r, rational=True)
                     for r in rhos)
        if len(rhos) != 4 or not all(r.is_positive for r in rhos):
            raise ValueError(f"rhos must be four positive numbers, got {rhos}")
    reasons = []
    d = sp.diff(e, _T)
    pos, form = _prove_sign(d, positive=True)
    dsimp = sp.simplify(form if pos else d)
    if pos:
        increasing = True
        reasons.append(f"sigma'(t) = {dsimp} > 0 (sympy)")
    else:
        nonneg, _ = _prove_sign(d, positive=False)
        zeros = sp.solveset(d, _T, sp.S.Reals)
        if nonneg and isinstance(zeros, sp.FiniteSet):
            increasing = True
            pos = False
            reasons.append(f"sigma'(t) = {dsimp} >= 0 with zeros only at {zeros}: strictly "
                           "increasing, but sigma' is not strictly positive")
        else:
            bad = [t0 for t0 in (-5, -2, -1, sp.Rational(-1, 2), 0, sp.Rational(1, 2), 1, 2, 5)
                   if _exact_negative(d.subs(_T, t0))]
            if bad:
                increasing = False
                reasons.append(f"sigma'({bad[0]}) = {sp.N(d.subs(_T, bad[0]), 6)} < 0 (exact "
                               "evaluation): not increasing")
            else:
                increasing = None
                reasons.append(f"sympy could not decide the sign of sigma'(t) = {dsimp}")
    try:
        c1 = sp.calculus.util.continuous_domain(d, _T, sp.S.Reals) == sp.S.Reals
    except NotImplementedError:
        c1 = None
    lo, hi = sp.limit(e, _T, -sp.oo), sp.limit(e, _T, sp.oo)
    bounded = bool(lo.is_finite and hi.is_finite) if increasing else None
    reasons.append(f"limits at -oo, +oo: {lo}, {hi}"
                   + {True: ": bounded", False: ": unbounded", None: ""}[bounded])
    growth_possible = None
    if lo != 0:
        growth_possible = False
        reasons.append(f"(b) is impossible for every rho: |sigma(t)| -> {abs(lo)} != 0 as t -> -oo, "
                       "while rho_1 e^(rho_2 t) -> 0")
    elif not sp.limit(e / _T, _T, sp.oo).is_finite:
        growth_possible = False
        reasons.append("(b) is impossible for every rho: sigma(t)/t is unbounded as t -> oo")
    growth = []
    if rhos is not None:
        r1, r2, r3, r4 = rhos
        for stmt, h, where in (
                (f"|sigma(t)| <= {r1} exp({r2} t) for t < 0", r1 * sp.exp(r2 * _T) - sp.Abs(e), "t < 0"),
                (f"|sigma(t)| <= {r3} t + {r4} for t >= 0", r3 * _T + r4 - sp.Abs(e), "t >= 0")):
            h = _drop_abs(h, e, where)
            ok, steps = prove_nonnegative(h, _T, where)
            growth.append(InequalityProof(stmt, ok, steps))
        if all(g.proved for g in growth):
            growth_possible = True
        reasons.append(f"(b) with rho = {rhos}: " + ", ".join(
            {True: "proved", False: "false", None: "not proved"}[g.proved] for g in growth))
    growth_ok = all(g.proved is True for g in growth) if growth else False
    if increasing is None:
        holds = None
    elif not increasing:
        holds = False
    elif bounded or growth_ok:
        holds = True
    elif bounded is False and growth_possible is False:
        holds = False
    else:
        holds = None          # unbounded, and (b) not settled for every rho
    return ActivationReport(name=name, expr=e, derivative=dsimp, derivative_positive=pos,
                            strictly_increasing=increasing, limits=(lo, hi), bounded=bounded,
                            rhos=rhos, growth=growth, growth_possible=growth_possible, holds=holds,
                            reasons=reasons, analytic=None, analytic_argument=arg, c1=c1)


def _drop_abs(h, e, where):
    """Replace |sigma| by sigma (or -sigma) where sympy proves the sign of sigma on the interval."""
    es, _, _ = _substitute(e, _T, where)
    if _prove_sign(es, positive=False)[0]:
        return h.subs(sp.Abs(e), e)
    if _prove_sign(-es, positive=False)[0]:
        return h.subs(sp.Abs(e), -e)
    return h
