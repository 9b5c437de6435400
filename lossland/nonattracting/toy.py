"""Toy landscapes for Definition 1 (attracting / non-attracting regions of local minima).

Paper 000 (arXiv), Section III-B, Definition 1 and Fig. 1, and paper 001
(JMLR), Section 3.1, Definition 1 and Figure 1, illustrate a non-attracting
region of local minima on a function of two variables with the region

    R = {(x, y) | x = 0, y in (-1, 1)},  value c = 0.

- ``"fig1_000"``: f(x, y) = 5 x^4 (1 - y^2), the function of 000, Fig. 1;
- ``"fig1_001"``: f(x, y) = x^2 (1 - y^2), the function of 001, Figure 1 (left);
- ``"attracting"``: f(x, y) = x^2 (1 + y^2 - x^2), the book's attracting
  counterpart (001, Figure 1 right shows one but the text does not give its
  formula): its region of local minima {x = 0} has value 0, the function is
  unbounded below (so the region is suboptimal, like the other two), and
  no non-increasing path from a neighbourhood of the region goes below 0.

Each landscape is a :class:`ToyFunction` with the value, the exact gradient
and the exact Hessian (numpy, vectorised over points ``z = (x, y)`` stored
in the last axis) and the sympy expression. :func:`gradient_flow` integrates
dz/dt = -grad f(z); :func:`non_increasing_path` builds the path of
Definition 1 for the two non-attracting landscapes (the papers do not spell
it out; the construction is the book's).

Examples
--------
>>> from lossland.nonattracting.toy import get_toy
>>> f = get_toy("fig1_001")
>>> float(f.value([0.5, 0.0])), f.gradient([0.5, 0.0]).tolist()
(0.25, [1.0, -0.0])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Callable

import numpy as np
import sympy as sp
from scipy import integrate, optimize

__all__ = [
    "ToyFunction", "TOYS", "get_toy", "FlowResult", "gradient_flow",
    "non_increasing_path", "path_max_increase", "is_non_increasing",
    "flow_invariant", "flow_escapes", "flow_limit", "flow_and_path",
]

X_SYM, Y_SYM = sp.symbols("x y", real=True)


def _as_points(z, name: str = "z") -> np.ndarray:
    """z as a float array of shape (..., 2) with finite entries."""
    if isinstance(z, (str, bytes)) or z is None:
        raise TypeError(f"{name} must be an array of points (x, y), got {type(z).__name__}")
    try:
        arr = np.asarray(z, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2) (points (x, y)), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


@dataclass(frozen=True)
class ToyFunction:
    """A landscape f: R^2 -> R with a region of local minima at x = 0.

    Attributes
    ----------
    name : str
        Registry name (``get_toy(name)`` returns this object).
    expr : sympy.Expr
        f(x, y) in the real symbols :data:`X_SYM`, :data:`Y_SYM`.
    region_value : float
        The value c of f on the region R (Definition 1).
    y_bound : float
        R = {x = 0, abs(y) < y_bound} (``inf`` when R is the whole axis x = 0).
    attracting : bool
        Whether R is an attracting region in the sense of Definition 1.
    source : str
        Where the function comes from.
    k, a : int, float
        For the non-attracting family f = a x^k (1 - y^2): the exponent and
        the factor (``k = 0`` for the attracting landscape).
    display : str
        f(x, y) in LaTeX as the papers write it (see :attr:`latex`).
    """

    name: str
    expr: sp.Expr = field(repr=False)
    region_value: float
    y_bound: float
    attracting: bool
    source: str
    _f: Callable = field(repr=False)
    _g: Callable = field(repr=False)
    _h: Callable = field(repr=False)
    k: int = 0
    a: float = 1.0
    display: str = ""

    symbols = (X_SYM, Y_SYM)

    @property
    def latex(self) -> str:
        """f(x, y) as LaTeX (``display`` if given, else sympy's rendering of ``expr``)."""
        return self.display or sp.latex(self.expr)

    def value(self, z) -> np.ndarray:
        """f(z) for points z of shape (..., 2); returns shape (...)."""
        z = _as_points(z)
        return self._f(z[..., 0], z[..., 1])

    def gradient(self, z) -> np.ndarray:
        """Exact gradient (f_x, f_y), shape (..., 2)."""
        z = _as_points(z)
        gx, gy = self._g(z[..., 0], z[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def hessian(self, z) -> np.ndarray:
        """Exact Hessian [[f_xx, f_xy], [f_xy, f_yy]], shape (..., 2, 2)."""
        z = _as_points(z)
        hxx, hxy, hyy = np.broadcast_arrays(*self._h(z[..., 0], z[..., 1]))
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    def in_region(self, z, atol: float = 0.0) -> np.ndarray:
        """True where abs(x) <= atol and abs(y) < y_bound (the region R of Definition 1)."""
        z = _as_points(z)
        if not isinstance(atol, Real) or not atol >= 0:
            raise ValueError(f"atol must be a non-negative number, got {atol!r}")
        return (np.abs(z[..., 0]) <= atol) & (np.abs(z[..., 1]) < self.y_bound)


def _family(name: str, k: int, a: float, source: str) -> ToyFunction:
    """f = a x^k (1 - y^2), k even: the non-attracting landscapes of Fig. 1."""
    def f(x, y):
        return a * x**k * (1.0 - y**2)

    def g(x, y):
        return a * k * x**(k - 1) * (1.0 - y**2), -2.0 * a * x**k * y

    def h(x, y):
        return (a * k * (k - 1) * x**(k - 2) * (1.0 - y**2),
                -2.0 * a * k * x**(k - 1) * y,
                -2.0 * a * x**k)

    expr = sp.Integer(a) * X_SYM**k * (1 - Y_SYM**2) if float(a).is_integer() else a * X_SYM**k * (1 - Y_SYM**2)
    display = (f"{a:g}" if a != 1 else "") + f"x^{k}(1 - y^2)"
    return ToyFunction(name, expr, 0.0, 1.0, False, source, f, g, h, k=k, a=float(a), display=display)


def _attracting() -> ToyFunction:
    """f = x^2 (1 + y^2 - x^2): region {x = 0} of value 0, attracting, f unbounded below."""
    def f(x, y):
        return x**2 * (1.0 + y**2 - x**2)

    def g(x, y):
        return 2.0 * x * (1.0 + y**2) - 4.0 * x**3, 2.0 * x**2 * y

    def h(x, y):
        return 2.0 * (1.0 + y**2) - 12.0 * x**2, 4.0 * x * y, 2.0 * x**2

    expr = X_SYM**2 * (1 + Y_SYM**2 - X_SYM**2)
    return ToyFunction("attracting", expr, 0.0, math.inf, True,
                       "book's counterpart to 001, Figure 1 (right)", f, g, h,
                       display="x^2(1 + y^2 - x^2)")


TOYS: dict[str, ToyFunction] = {
    "fig1_000": _family("fig1_000", 4, 5, "paper 000, Section III-B, Fig. 1"),
    "fig1_001": _family("fig1_001", 2, 1, "paper 001, Section 3.1, Figure 1 (left)"),
    "attracting": _attracting(),
}


def get_toy(name) -> ToyFunction:
    """The landscape registered under ``name`` (or ``name`` itself if it is a ToyFunction)."""
    if isinstance(name, ToyFunction):
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a str or ToyFunction, got {type(name).__name__}")
    if name not in TOYS:
        raise ValueError(f"name must be one of {sorted(TOYS)}, got {name!r}")
    return TOYS[name]


def _check_point(z0, name="z0") -> np.ndarray:
    z0 = _as_points(z0, name)
    if z0.shape != (2,):
        raise ValueError(f"{name} must be one point (x, y) of shape (2,), got shape {z0.shape}")
    return z0


def _positive(value, name, allow_inf=False):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not (value > 0 and (allow_inf or math.isfinite(value))):
        raise ValueError(f"{name} must be positive{'' if allow_inf else ' and finite'}, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- gradient flow

_METHODS = ("RK45", "DOP853", "Radau", "BDF", "LSODA")

@dataclass
class FlowResult:
    """A gradient-flow trajectory from :func:`gradient_flow`.

    ``status`` is ``"value_below"`` (f fell below the threshold: the flow
    escaped below the region's value), ``"norm_blowup"`` (||z|| exceeded
    ``max_norm``) or ``"t_max"`` (the time horizon was reached).
    """

    t: np.ndarray
    z: np.ndarray
    values: np.ndarray
    status: str
    nfev: int

    @property
    def escaped(self) -> bool:
        """True when the flow stopped because the value fell below the threshold or norm(z) blew up."""
        return self.status in ("value_below", "norm_blowup")

    @property
    def end(self) -> np.ndarray:
        return self.z[-1]


def gradient_flow(toy, z0, t_max: float = 100.0, value_below: float | None = None,
                  max_norm: float = 1e3, t_eval=None, rtol: float = 1e-10,
                  atol: float = 1e-12, method: str = "LSODA") -> FlowResult:
    """Integrate the path of greatest descent dz/dt = -grad f(z) from ``z0``.

    The path of greatest descent of 000, Section III-B / 001, Section 3.1
    ("a path of greatest descent can end in a local minimum on R"), solved
    with :func:`scipy.integrate.solve_ivp` (``method``, default LSODA, which
    switches to a stiff solver once the flow has settled) on the exact gradient.
    Integration stops at ``t_max``, or when f falls below ``value_below``
    (default: region value - 1), or when ||z|| exceeds ``max_norm``.
    ``t_eval`` (optional, increasing times in [0, t_max]) selects the output
    times; by default the solver's own steps are returned.
    """
    toy = get_toy(toy)
    z0 = _check_point(z0)
    t_max = _positive(t_max, "t_max")
    max_norm = _positive(max_norm, "max_norm")
    if np.linalg.norm(z0) >= max_norm:
        raise ValueError(f"max_norm must exceed ||z0|| = {np.linalg.norm(z0):.3g}, got {max_norm}")
    if value_below is None:
        value_below = toy.region_value - 1.0
    if isinstance(value_below, bool) or not isinstance(value_below, Real) or not math.isfinite(value_below):
        raise TypeError(f"value_below must be a finite real number, got {value_below!r}")
    if not float(toy.value(z0)) > value_below:
        raise ValueError(f"value_below must be below f(z0) = {float(toy.value(z0)):.6g}, got {value_below}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        _positive(tol, name)
    if t_eval is not None:
        t_eval = np.asarray(t_eval, dtype=float)
        if t_eval.ndim != 1 or not np.all(np.isfinite(t_eval)) or np.any(np.diff(t_eval) <= 0) \
                or t_eval[0] < 0 or t_eval[-1] > t_max:
            raise ValueError("t_eval must be a strictly increasing 1-d array inside [0, t_max]")

    def rhs(t, z):
        return -toy.gradient(z)

    def low(t, z):
        return float(toy.value(z)) - value_below
    low.terminal, low.direction = True, -1

    def blowup(t, z):
        return max_norm - float(np.linalg.norm(z))
    blowup.terminal, blowup.direction = True, -1

    sol = integrate.solve_ivp(rhs, (0.0, t_max), z0, method=method, t_eval=t_eval,
                              events=(low, blowup), rtol=rtol, atol=atol)
    if sol.status == -1:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    t, z = sol.t, sol.y.T
    status = "t_max"
    for ev, name in ((0, "value_below"), (1, "norm_blowup")):
        if sol.t_events[ev].size:
            status = name
            # append the event point itself (t_eval may not contain it)
            if t.size == 0 or t[-1] < sol.t_events[ev][0]:
                t = np.append(t, sol.t_events[ev][0])
                z = np.vstack([z, sol.y_events[ev][0]])
    return FlowResult(t, z, toy.value(z), status, sol.nfev)


# ------------------------------------------------------ exact facts about the flow of a x^k (1 - y^2)

def _need_family(toy: ToyFunction, what: str) -> None:
    if toy.attracting or toy.k < 2:
        raise ValueError(f"toy must be one of the non-attracting landscapes a x^k (1 - y^2) for {what}, "
                         f"got {toy.name!r}")


def flow_invariant(toy, z) -> np.ndarray:
    """H(x, y) = ln abs(y) - y^2/2 + x^2/k, constant along the gradient flow of a x^k (1 - y^2).

    (Book's derivation: dH/dt = ((1-y^2)/y) * 2a x^k y - (2x/k) * a k x^(k-1) (1-y^2) = 0.)
    Defined for y != 0 (on y = 0 the flow stays on y = 0 and converges to (0, 0)).
    """
    toy = get_toy(toy)
    _need_family(toy, "flow_invariant")
    z = _as_points(z)
    x, y = z[..., 0], z[..., 1]
    if np.any(y == 0):
        raise ValueError("z must have y != 0 (H = ln|y| - y^2/2 + x^2/k is -inf on y = 0)")
    return np.log(np.abs(y)) - y**2 / 2 + x**2 / toy.k


def flow_escapes(toy, z0) -> bool:
    """Exact verdict: does the gradient flow of a x^k (1 - y^2) from z0 reach values below 0?

    From abs(y0) < 1: the flow escapes iff H(z0) > -1/2 = max_{0<abs(y)<=1} (ln abs(y) - y^2/2)
    (H from :func:`flow_invariant`); if H(z0) < -1/2 it converges to (0, y_inf) on R,
    and H(z0) = -1/2 converges to the saddle (0, +-1). From abs(y0) >= 1 with x0 != 0 the
    value is already <= 0 and decreases, so the flow escapes; y0 = 0 or x0 = 0 never escapes.
    """
    toy = get_toy(toy)
    _need_family(toy, "flow_escapes")
    x0, y0 = _check_point(z0)
    if x0 == 0 or y0 == 0:
        return False
    if abs(y0) >= 1:
        return True
    return bool(flow_invariant(toy, [x0, y0]) > -0.5)


def flow_limit(toy, z0) -> np.ndarray | None:
    """The limit (0, y_inf) on R of the gradient flow from z0, or None if the flow escapes.

    y_inf solves ln abs(y) - y^2/2 = H(z0) with abs(y_inf) < 1 and the sign of y0.
    """
    toy = get_toy(toy)
    _need_family(toy, "flow_limit")
    x0, y0 = _check_point(z0)
    if flow_escapes(toy, z0) or abs(y0) >= 1:
        return None
    if y0 == 0 or x0 == 0:
        return np.array([0.0, y0])
    H = float(flow_invariant(toy, [x0, y0]))
    u = optimize.brentq(lambda u: math.log(u) - u * u / 2 - H, abs(y0), 1.0, xtol=1e-15, rtol=1e-15)
    return np.array([0.0, math.copysign(u, y0)])


# --------------------------------------------------------------------- the non-increasing path

def non_increasing_path(toy, z0, y_end: float = 1.5, x_step: float = 0.25,
                        n_points: int = 201) -> np.ndarray:
    """A non-increasing path from z0 to a value below c = 0, for f = a x^k (1 - y^2).

    Definition 1 (000, Section III-B; 001, Section 3.1) asks for a continuous
    path, non-increasing in f, that ends below the region's value. The papers
    leave it to Fig. 1; the book's construction has two straight legs:

    1. move y away from 0 at fixed x = x0 until abs(y) = y_end > 1: along it
       d f / dabs(y) = -2 a x0^k abs(y) <= 0, so f does not increase (it is
       constant if x0 = 0, e.g. from a point of R itself);
    2. at fixed y = +-y_end move abs(x) from abs(x0) to abs(x0) + x_step: there
       1 - y_end^2 < 0 and abs(x)^k increases, so f decreases strictly and
       ends at a (x_end)^k (1 - y_end^2) < 0.

    Leg 1 starts in the direction of sign(y0) (upwards if y0 = 0); it is
    skipped when |y0| >= y_end. Returns ``n_points`` points per leg, shape
    (2 * n_points - 1, 2), the two legs meeting at one shared point.
    """
    toy = get_toy(toy)
    _need_family(toy, "non_increasing_path")
    x0, y0 = _check_point(z0)
    y_end = _positive(y_end, "y_end")
    if not y_end > 1:
        raise ValueError(f"y_end must exceed 1 (leave the region |y| < 1), got {y_end}")
    x_step = _positive(x_step, "x_step")
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)):
        raise TypeError(f"n_points must be an int, got {type(n_points).__name__}")
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2, got {n_points}")
    sy = 1.0 if y0 >= 0 else -1.0
    sx = 1.0 if x0 >= 0 else -1.0
    y1 = sy * max(abs(y0), y_end)
    leg1 = np.column_stack([np.full(n_points, x0), np.linspace(y0, y1, n_points)])
    leg2 = np.column_stack([np.linspace(x0, x0 + sx * x_step, n_points), np.full(n_points, y1)])
    return np.vstack([leg1, leg2[1:]])


def path_max_increase(toy, path) -> float:
    """max_i f(p_{i+1}) - f(p_i) over consecutive points of a sampled path (<= 0 if non-increasing)."""
    toy = get_toy(toy)
    path = _as_points(path, "path")
    if path.ndim != 2 or path.shape[0] < 2:
        raise ValueError(f"path must have shape (n, 2) with n >= 2, got {path.shape}")
    return float(np.max(np.diff(toy.value(path))))


def is_non_increasing(toy, path, rtol: float = 1e-12) -> bool:
    """True if no step of the sampled path raises f by more than rtol * max(1, max abs(f)).

    A check on the samples only; the monotonicity between samples is the
    symbolic argument of :func:`non_increasing_path`.
    """
    if isinstance(rtol, bool) or not isinstance(rtol, Real) or not rtol >= 0:
        raise ValueError(f"rtol must be a non-negative number, got {rtol!r}")
    toy = get_toy(toy)
    scale = max(1.0, float(np.max(np.abs(toy.value(_as_points(path, "path"))))))
    return path_max_increase(toy, path) <= rtol * scale


def flow_and_path(toy, z0, t_max: float, n_eval: int = 400):
    """The gradient flow from z0 and, for the non-attracting landscapes, the path of Definition 1.

    The two curves of 000 Fig. 1 / 001 Figure 1 from one start: the flow of
    :func:`gradient_flow` sampled at t = 0 and ``n_eval`` geometrically
    spaced times in [1e-3, t_max] (stopped 1 below min(c, f(z0))), and
    :func:`non_increasing_path` (``None`` for the attracting landscape, where
    no such path exists). Returns ``(flow, path)``, arrays of points (x, y).
    """
    toy = get_toy(toy)
    z0 = _check_point(z0)
    t_max = _positive(t_max, "t_max")
    if isinstance(n_eval, bool) or not isinstance(n_eval, (int, np.integer)) or n_eval < 1:
        raise ValueError(f"n_eval must be a positive integer, got {n_eval!r}")
    t_eval = np.r_[0.0, np.geomspace(min(1e-3, t_max), t_max, n_eval)]
    below = min(toy.region_value, float(toy.value(z0))) - 1.0
    flow = gradient_flow(toy, z0, t_max=t_max, t_eval=t_eval, value_below=below).z
    path = None if toy.attracting else non_increasing_path(toy, z0)
    return flow, path
