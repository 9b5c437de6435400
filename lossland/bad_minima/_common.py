"""Private helpers of :mod:`lossland.bad_minima`: argument checks and mpmath linear algebra.

The mpmath helpers are the ``dps``-digit arithmetic that 004's constructions
need where float64 cannot separate genuine from exact linear dependencies
(chapters G7, G8): sigma and its derivatives from the activation's sympy
expression, Gram-Schmidt with a drop tolerance (the reduction set red(.) of
004, eq. (109)) and an orthonormal basis of an orthogonal complement.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, get_activation
from ..derivatives import SquaredLoss


def as_activation(activation) -> Activation:
    """An :class:`Activation` from a name or an Activation."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        return get_activation(activation)
    raise TypeError(f"activation must be a name or an Activation, got {type(activation).__name__}")


def as_samples(value, name, n=None, *, allow_minus_inf: bool = False) -> np.ndarray:
    """A one-dimensional float array (an (N, 1) array is flattened), of length ``n`` if given.

    Inputs, targets, directions: finite entries; with ``allow_minus_inf``,
    ``-inf`` is allowed too (log10 of a zero singular value).
    """
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr) | (allow_minus_inf & (arr == -np.inf))):
        raise ValueError(f"{name} contains NaN or inf" + (" (only -inf is allowed)" if allow_minus_inf else ""))
    return arr


class WidthOneConstruction:
    """What the constructions of Propositions 2 and 4 share: data (X, y), network, residual Delta Y."""

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def objective(self) -> SquaredLoss:
        """R(W) = sum_i (F(x_i) - y_i)^2, 004's L^2 loss, as a :class:`lossland.SquaredLoss`."""
        return SquaredLoss(self.net, self.X, self.y)

    @property
    def loss(self) -> float:
        """R(W-hat) = <Delta Y, Delta Y> (004, after eq. (64) and (125))."""
        return float(self.delta_y @ self.delta_y)


def positive_constants(c, K) -> np.ndarray:
    """The constants c_k > 0 of 004, eq. (57) and (121): one number for all, or K numbers."""
    c_arr = np.asarray(c, dtype=float)
    if c_arr.ndim == 0:
        c_arr = np.full(K, float(c_arr))
    if c_arr.shape != (K,) or np.any(c_arr <= 0) or not np.all(np.isfinite(c_arr)):
        raise ValueError(f"c must be a positive number or {K} positive numbers (one per v_k)")
    return c_arr


# ------------------------------------------------------------------ mpmath
_MP_SIGMA: dict = {}


def activation_key(act: Activation) -> tuple:
    """A hashable key of an activation (its name, parameters and sympy expression)."""
    return (act.name, tuple(sorted(act.params.items())), sp.srepr(act.expr))


def mp_sigma(act: Activation):
    """sigma, sigma', sigma'' as mpmath callables from the activation's sympy expression (cached)."""
    key = activation_key(act)
    if key not in _MP_SIGMA:
        t = Activation.symbol
        _MP_SIGMA[key] = tuple(sp.lambdify(t, e, modules="mpmath") for e in act.derivative_exprs())
    return _MP_SIGMA[key]


def mp_dot(u, v):
    return mpmath.fdot(u, v)


def _mp_axpy(v, d, q):
    """v - d q, elementwise (mpmath)."""
    return [a - d * b for a, b in zip(v, q)]


def mp_greedy_basis(cols, rtol):
    """Gram-Schmidt (twice) over ``cols`` in order, dropping a column whose residual is below
    ``rtol`` times its norm: the reduction set red(A) of 004, eq. (109). Returns
    (orthonormal basis, kept indices, residual ratios)."""
    basis, kept, ratios = [], [], []
    for j, c in enumerate(cols):
        n0 = mpmath.sqrt(mp_dot(c, c))
        v = list(c)
        for _ in range(2):
            for q in basis:
                v = _mp_axpy(v, mp_dot(q, v), q)
        nv = mpmath.sqrt(mp_dot(v, v))
        ratio = nv / n0 if n0 > 0 else mpmath.mpf(0)
        ratios.append(ratio)
        if ratio > rtol:
            basis.append([vi / nv for vi in v])
            kept.append(j)
    return basis, kept, ratios


def mp_log10(ratios) -> list:
    """log10 of non-negative mpmath numbers as floats (``-inf`` for 0)."""
    return [float(mpmath.log10(r)) if r > 0 else -np.inf for r in ratios]


def mp_complement(basis, n):
    """Orthonormal basis of the orthogonal complement of span(basis) in R^n.

    Start vectors: a fixed Gaussian matrix (``default_rng(0)``, the same on
    every platform); each column is projected onto the complement in mpmath
    (twice) and orthonormalised against the previous ones.
    """
    r = len(basis)
    G = np.random.default_rng(0).standard_normal((n, n - r))
    out = []
    for j in range(n - r):
        v = [mpmath.mpf(float(t)) for t in G[:, j]]
        n0 = mpmath.sqrt(mp_dot(v, v))
        for _ in range(2):
            for q in basis + out:
                v = _mp_axpy(v, mp_dot(q, v), q)
        nv = mpmath.sqrt(mp_dot(v, v))
        if nv < mpmath.mpf("1e-6") * n0:
            raise ValueError("could not complete the orthogonal complement (start vectors nearly dependent)")
        out.append([t / nv for t in v])
    return out
