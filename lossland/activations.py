"""The activation registry: sigma, sigma', sigma'' (vectorised numpy) and sigma as sympy.

Every activation the four papers use, plus the two counterexamples of
paper 004 (Remark 1): ``exp`` and ``sin`` satisfy a linear relation among
sigma, sigma', sigma'' and so fail Assumption 1.

Paper 000/001 (Petzka & Sminchisescu, Section III-A) ask sigma to lie in the
class A: strictly increasing, analytic, bounded with image (c, d) and
0 in [c, d]. :attr:`Activation.in_class_A` records which ones do.

Examples
--------
>>> from lossland.activations import get_activation
>>> sig = get_activation("sigmoid")
>>> float(sig(0.0)), float(sig.d1(0.0)), float(sig.d2(0.0))
(0.5, 0.25, 0.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp
from scipy import special

__all__ = ["Activation", "get_activation", "ACTIVATIONS", "SMOOTH_ACTIVATIONS"]

_x = sp.Symbol("x", real=True)


@dataclass(frozen=True)
class Activation:
    """An activation function sigma with its first two derivatives.

    Attributes
    ----------
    name : str
        Registry name (``get_activation(name)`` returns an equal object).
    f, d1, d2 : callable
        sigma, sigma', sigma'' evaluated elementwise on numpy arrays.
    expr : sympy.Expr
        sigma(x) as a sympy expression in the real symbol ``x``
        (``Activation.symbol``).
    image : (float, float)
        The open interval sigma(R) (``-inf``/``inf`` where unbounded).
    smooth : bool
        True when sigma is C^2 everywhere (False only for ReLU).
    increasing : bool
        True when sigma is strictly increasing on R.
    params : dict
        Shape parameters (alpha of softplus, beta of Swish).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    d1: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    d2: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    expr: sp.Expr = field(repr=False)
    image: tuple[float, float]
    smooth: bool = True
    increasing: bool = True
    params: dict = field(default_factory=dict, compare=False)
    fused: Callable[[np.ndarray], tuple] | None = field(default=None, repr=False, compare=False)

    symbol = _x

    def values(self, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sigma(t), sigma'(t), sigma''(t)) in one call, for an array ``t`` of floats.

        Equal to ``(f(t), d1(t), d2(t))`` to the last bit; activations with a
        ``fused`` evaluation (sigmoid, tanh) share their exponentials, which is
        what a small network's exact Hessian spends its time on.
        """
        if self.fused is not None:
            return self.fused(t)
        return self.f(t), self.d1(t), self.d2(t)

    def __call__(self, t):
        return self.f(np.asarray(t, dtype=float))

    @property
    def bounded(self) -> bool:
        """True when the image of sigma is a bounded interval."""
        return bool(np.isfinite(self.image[0]) and np.isfinite(self.image[1]))

    @property
    def in_class_A(self) -> bool:
        """Membership in the class A of paper 000, Section III-A.

        Strictly increasing, analytic, bounded, with 0 in the closure of the
        image.
        """
        lo, hi = self.image
        return self.smooth and self.increasing and self.bounded and lo <= 0.0 <= hi

    def derivative_exprs(self) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
        """(sigma, sigma', sigma'') as sympy expressions in ``Activation.symbol``."""
        return self.expr, sp.diff(self.expr, _x), sp.diff(self.expr, _x, 2)


def _sigmoid(t):
    return special.expit(t)


def _make_sigmoid():
    # sigma(t) sigma(-t) instead of s (1 - s): keeps relative accuracy in the tails
    def d1(t):
        return special.expit(t) * special.expit(-t)

    def d2(t):
        s, sm = special.expit(t), special.expit(-t)
        return s * sm * (sm - s)

    def fused(t):
        s, sm = special.expit(t), special.expit(-t)
        s1 = s * sm
        return s, s1, s1 * (sm - s)

    return Activation("sigmoid", _sigmoid, d1, d2, 1 / (1 + sp.exp(-_x)), (0.0, 1.0), fused=fused)


def _make_tanh():
    # 1 - tanh^2 = 4 sigmoid(2t) sigmoid(-2t), accurate in the tails
    def d1(t):
        return 4.0 * special.expit(2.0 * t) * special.expit(-2.0 * t)

    def d2(t):
        return -2.0 * np.tanh(t) * d1(t)

    def fused(t):
        f, s1 = np.tanh(t), d1(t)
        return f, s1, -2.0 * f * s1

    return Activation("tanh", np.tanh, d1, d2, sp.tanh(_x), (-1.0, 1.0), fused=fused)


def _make_softplus(alpha: float = 1.0):
    a = float(alpha)

    def f(t):
        return np.logaddexp(0.0, a * t) / a

    def d1(t):
        return special.expit(a * t)

    def d2(t):
        return a * special.expit(a * t) * special.expit(-a * t)

    return Activation(
        "softplus", f, d1, d2, sp.log(1 + sp.exp(sp.nsimplify(a) * _x)) / sp.nsimplify(a),
        (0.0, math.inf), params={"alpha": a},
    )


def _make_swish(beta: float = 1.0, name: str = "swish"):
    b = float(beta)

    def f(t):
        return t * special.expit(b * t)

    def d1(t):
        s, sm = special.expit(b * t), special.expit(-b * t)
        return s + b * t * s * sm

    def d2(t):
        s, sm = special.expit(b * t), special.expit(-b * t)
        ds = s * sm
        return 2.0 * b * ds + b * b * t * ds * (sm - s)

    bb = sp.nsimplify(b)
    # x * sigmoid(beta x) has a global minimum: not increasing, not bounded below
    # only by that minimum; its image is [min, inf). We store the minimum.
    lo = _swish_minimum(b)
    params = {} if name == "silu" else {"beta": b}
    return Activation(name, f, d1, d2, _x / (1 + sp.exp(-bb * _x)), (lo, math.inf),
                      increasing=False, params=params)


def _swish_minimum(b: float) -> float:
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda t: t * special.expit(b * t), bracket=(-5.0 / b, -1.0 / b),
                          tol=1e-14)
    return float(res.fun)


def _make_gelu():
    inv_sqrt2pi = 1.0 / math.sqrt(2.0 * math.pi)

    def Phi(t):
        return special.ndtr(t)

    def phi(t):
        return inv_sqrt2pi * np.exp(-0.5 * t * t)

    def f(t):
        return t * Phi(t)

    def d1(t):
        return Phi(t) + t * phi(t)

    def d2(t):
        return (2.0 - t * t) * phi(t)

    expr = _x * (1 + sp.erf(_x / sp.sqrt(2))) / 2
    lo = _gelu_minimum()
    return Activation("gelu", f, d1, d2, expr, (lo, math.inf), increasing=False)


def _gelu_minimum() -> float:
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda t: t * special.ndtr(t), bracket=(-2.0, -0.5), tol=1e-14)
    return float(res.fun)


def _make_mish():
    def f(t):
        return t * np.tanh(np.logaddexp(0.0, t))

    def _sech2(u):
        return 4.0 * special.expit(2.0 * u) * special.expit(-2.0 * u)

    def d1(t):
        u = np.logaddexp(0.0, t)
        return np.tanh(u) + t * _sech2(u) * special.expit(t)

    def d2(t):
        u = np.logaddexp(0.0, t)
        th, sech2 = np.tanh(u), _sech2(u)
        s, sm = special.expit(t), special.expit(-t)
        return 2.0 * sech2 * s + t * (sech2 * s * sm - 2.0 * th * sech2 * s * s)

    from scipy.optimize import minimize_scalar

    lo = float(minimize_scalar(f, bracket=(-3.0, -0.5), tol=1e-14).fun)
    return Activation("mish", f, d1, d2, _x * sp.tanh(sp.log(1 + sp.exp(_x))), (lo, math.inf),
                      increasing=False)


def _make_relu():
    def f(t):
        return np.maximum(t, 0.0)

    def d1(t):
        return (t > 0).astype(float)

    def d2(t):
        return np.zeros_like(t, dtype=float)

    return Activation("relu", f, d1, d2, sp.Max(_x, 0), (0.0, math.inf), smooth=False,
                      increasing=False)


def _make_identity():
    return Activation("identity", lambda t: 1.0 * t, lambda t: np.ones_like(t, dtype=float),
                      lambda t: np.zeros_like(t, dtype=float), _x, (-math.inf, math.inf))


def _make_exp():
    return Activation("exp", np.exp, np.exp, np.exp, sp.exp(_x), (0.0, math.inf))


def _make_sin():
    return Activation("sin", np.sin, np.cos, lambda t: -np.sin(t), sp.sin(_x), (-1.0, 1.0),
                      increasing=False)


_FACTORIES: dict[str, Callable[..., Activation]] = {
    "sigmoid": _make_sigmoid,
    "tanh": _make_tanh,
    "softplus": _make_softplus,
    "silu": lambda: _make_swish(1.0, name="silu"),
    "swish": _make_swish,
    "gelu": _make_gelu,
    "mish": _make_mish,
    "relu": _make_relu,
    "identity": _make_identity,
    "exp": _make_exp,
    "sin": _make_sin,
}
_PARAMS = {"softplus": ("alpha",), "swish": ("beta",)}

ACTIVATIONS: tuple[str, ...] = tuple(_FACTORIES)
"""Names accepted by :func:`get_activation`."""

SMOOTH_ACTIVATIONS: tuple[str, ...] = tuple(n for n in ACTIVATIONS if n != "relu")
"""The C^2 activations (every one but ReLU)."""

_CACHE: dict[tuple, Activation] = {}


def get_activation(name, **params) -> Activation:
    """Return the activation called ``name`` from the registry.

    Parameters
    ----------
    name : str or Activation
        One of :data:`ACTIVATIONS`; an :class:`Activation` is returned as is.
    **params
        ``alpha`` for ``"softplus"`` (sigma(x) = log(1 + e^{alpha x}) / alpha),
        ``beta`` for ``"swish"`` (sigma(x) = x / (1 + e^{-beta x})); both must be
        positive and finite.
    """
    if isinstance(name, Activation):
        if params:
            raise TypeError("get_activation: parameters given together with an Activation object")
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str) or an Activation, got {type(name).__name__}")
    key = name.lower()
    if key not in _FACTORIES:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    allowed = _PARAMS.get(key, ())
    for p, val in params.items():
        if p not in allowed:
            raise TypeError(f"activation {key!r} takes no parameter {p!r}"
                            + (f" (allowed: {', '.join(allowed)})" if allowed else ""))
        if isinstance(val, bool) or not isinstance(val, (int, float, np.floating, np.integer)):
            raise TypeError(f"{p} must be a real number, got {type(val).__name__}")
        if not (math.isfinite(val) and val > 0):
            raise ValueError(f"{p} must be positive and finite, got {val!r}")
    defaults = {"softplus": {"alpha": 1.0}, "swish": {"beta": 1.0}}.get(key, {})
    params = {**defaults, **params}
    cache_key = (key, tuple(sorted((k, float(v)) for k, v in params.items())))
    if cache_key not in _CACHE:
        _CACHE[cache_key] = _FACTORIES[key](**{k: float(v) for k, v in params.items()})
    return _CACHE[cache_key]
