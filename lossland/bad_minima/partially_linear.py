"""A partially linear activation: the smoothed hard tanh of 004, Proposition 1 (chapter G2).

Proposition 1 (004, Section 4) asks for an activation that is linear,
sigma(x) = c x + d, on an open interval (alpha, beta).
:func:`partially_linear_activation` is such a sigma, C^3 everywhere, linear on
[alpha, beta] and constant far out, registered as an
:class:`lossland.Activation` with its exact sympy expression.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .._validation import check_real
from ..activations import Activation

__all__ = ["partially_linear_activation"]


def _smootherstep_integral(t):
    """S(t) = int_0^t (6 s^5 - 15 s^4 + 10 s^3) ds = t^6 - 3 t^5 + 5 t^4 / 2."""
    return t**6 - 3 * t**5 + 2.5 * t**4


def partially_linear_activation(alpha: float = -1.0, beta: float = 1.0, c: float = 1.0, d: float = 0.0,
                                width: float = 1.0) -> Activation:
    """A C^3 activation equal to c x + d on [alpha, beta] (004, Proposition 1).

    A smoothed "hard tanh": with m = (alpha + beta) / 2, h = (beta - alpha) / 2
    and u = x - m, sigma(x) = c (m + g(u)) + d where g(u) = u for |u| <= h,
    g is constant (= sign(u) (h + width / 2)) for |u| >= h + width, and in
    between g' = 1 - s(t), t = (|u| - h) / width, with the quintic smoothstep
    s(t) = 6 t^5 - 15 t^4 + 10 t^3. Since s(0) = 0, s(1) = 1 and s', s''
    vanish at 0 and 1, sigma has three continuous derivatives (its fourth
    jumps at the four knots). ``expr`` is the exact sympy ``Piecewise``.

    Parameters
    ----------
    alpha, beta : float
        The interval of linearity (alpha < beta).
    c, d : float
        sigma(x) = c x + d on [alpha, beta]; c must be nonzero (eq. (30)
        divides by c).
    width : float
        Length of each smooth transition to the constant tails (> 0).
    """
    alpha, beta = check_real(alpha, "alpha"), check_real(beta, "beta")
    if not alpha < beta:
        raise ValueError(f"alpha must be smaller than beta, got alpha={alpha}, beta={beta}")
    c, d = check_real(c, "c", nonzero=True), check_real(d, "d")
    w = check_real(width, "width", positive=True)
    m, h = 0.5 * (alpha + beta), 0.5 * (beta - alpha)

    def _t(u):
        return np.clip((np.abs(u) - h) / w, 0.0, 1.0)

    def f(x):
        u = np.asarray(x, dtype=float) - m
        t = _t(u)
        g = np.where(np.abs(u) <= h, u, np.sign(u) * (h + w * (t - _smootherstep_integral(t))))
        return c * (m + g) + d

    def d1(x):
        t = _t(np.asarray(x, dtype=float) - m)
        return c * (1.0 - (6 * t**5 - 15 * t**4 + 10 * t**3))

    def d2(x):
        u = np.asarray(x, dtype=float) - m
        t = _t(u)
        return -c * np.sign(u) * 30.0 * t**2 * (1.0 - t) ** 2 / w

    X = Activation.symbol
    ms, hs, ws = (sp.nsimplify(v) for v in (m, h, w))
    cs, ds = sp.nsimplify(c), sp.nsimplify(d)

    def S(t):
        return t**6 - 3 * t**5 + sp.Rational(5, 2) * t**4

    expr = sp.Piecewise(
        (cs * (ms - hs - ws / 2) + ds, X <= ms - hs - ws),
        (cs * (X + ws * S((ms - hs - X) / ws)) + ds, X < ms - hs),
        (cs * X + ds, X <= ms + hs),
        (cs * (X - ws * S((X - ms - hs) / ws)) + ds, X < ms + hs + ws),
        (cs * (ms + hs + ws / 2) + ds, True),
    )
    ends = sorted([c * (m - h - w / 2) + d, c * (m + h + w / 2) + d])
    return Activation("partially_linear", f, d1, d2, expr, (ends[0], ends[1]), smooth=True,
                      increasing=False,
                      params={"alpha": alpha, "beta": beta, "c": c, "d": d, "width": w})

