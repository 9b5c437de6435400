"""Definitions 3.6 and 3.7 of 003: the block Hessian and non-degeneracy on a subset of variables.

003, Definition 3.6: for a C^2 function f on an open set of R^n and a subset S
of its variables, the block Hessian ``nabla^2_S f(x)`` is the |S| x |S|
principal submatrix of the Hessian on the rows and columns of S.
Definition 3.7: a critical point x is *non-degenerate for S* if that block is
non-singular, and *non-degenerate* if the full Hessian is. Neither implies
the other (the two 4x4 examples after Definition 3.7, :func:`paper_examples`).
Theorem 3.8 asks for non-degeneracy on the variables ``(W_l, b_l), l in I``
of a set I of upper layers.

Numerically, "non-singular" is decided by the smallest singular value of
the block against a stated tolerance (:func:`nondegeneracy`, with a margin);
exactly, for sympy matrices, by the determinant and the rank
(:func:`exact_nondegeneracy`).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import sympy as sp

from .._validation import as_float_array, check_network, check_objective, check_real

__all__ = ["layer_indices", "block_hessian", "Nondegeneracy", "nondegeneracy",
           "block_nondegeneracy", "ExactNondegeneracy", "exact_nondegeneracy",
           "HessianExample", "paper_examples"]


def _check_layers(net, layers) -> tuple:
    if isinstance(layers, (bool, np.bool_)):
        raise TypeError(f"layers must be a layer number or a collection of them, got {layers!r}")
    if isinstance(layers, (Integral, np.integer)):
        layers = (layers,)
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a layer number or a collection of them, got {layers!r}")
    out = [net.check_layer(l, name="layers") for l in layers]
    if not out:
        raise ValueError("layers must not be empty")
    if len(set(out)) != len(out):
        raise ValueError(f"layers must not repeat a layer, got {tuple(out)}")
    return tuple(sorted(out))


def layer_indices(net, layers) -> np.ndarray:
    """Flat positions of the variables ``(W_l, b_l), l in layers`` (003, Definition 3.6 / Theorem 3.8).

    ``layers`` is a layer number (1..L) or a collection of them; the result is
    sorted (lossland's flat order: for each layer ``W[l]`` row by row, then
    ``b[l]``), so the block Hessian keeps the order of the full one.
    """
    check_network(net)
    layers = _check_layers(net, layers)
    idx = []
    for l in layers:
        s = net.weight_slice(l)
        idx += range(s.start, s.stop)
        if net.biases:
            s = net.bias_slice(l)
            idx += range(s.start, s.stop)
    return np.array(sorted(idx), dtype=int)


def block_hessian(objective, theta, layers) -> np.ndarray:
    """The block Hessian ``nabla^2_S Phi`` of 003, Definition 3.6, for S = (W_l, b_l), l in layers.

    The principal submatrix of ``objective.hessian(theta)`` (exact, second-order
    backpropagation; symmetrised) on the rows and columns
    :func:`layer_indices` ``(objective.net, layers)``.
    """
    objective = check_objective(objective, general=True)
    idx = layer_indices(objective.net, layers)
    theta = objective.net.check_params(theta)
    H = objective.hessian(theta)
    H = 0.5 * (H + H.T)
    return H[np.ix_(idx, idx)]


@dataclass(frozen=True)
class Nondegeneracy:
    """Verdict of :func:`nondegeneracy` on a square matrix (003, Definition 3.7).

    ``singular_values`` descending; ``smin`` the smallest; ``tol`` the
    threshold; ``margin = smin / tol`` (above 1: non-singular, the larger the
    safer; below 1: singular up to the tolerance); ``nondegenerate`` is
    ``smin > tol``.
    """

    singular_values: np.ndarray
    tol: float
    size: int

    @property
    def smin(self) -> float:
        return float(self.singular_values[-1])

    @property
    def margin(self) -> float:
        return self.smin / self.tol

    @property
    def nondegenerate(self) -> bool:
        return self.smin > self.tol

    def __str__(self):
        word = "non-singular" if self.nondegenerate else "singular"
        return (f"{self.size}x{self.size} {word}: s_min {self.smin:.3g}, "
                f"tol {self.tol:.1e}, margin {self.margin:.3g}")


def nondegeneracy(M, atol: float = 0.0, rtol: float | None = None) -> Nondegeneracy:
    """Is the square matrix ``M`` non-singular? Smallest singular value against a tolerance.

    ``tol = max(atol, rtol * s_max)``; the default ``rtol = 100 * n * eps``
    covers the backward error of the SVD. It does not cover errors in ``M``
    itself (a Hessian at an inexact critical point): pass ``atol`` for those.
    Used for 003, Definition 3.7, on a block Hessian.
    """
    M = as_float_array(M, "M")
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"M must be a non-empty square matrix, got shape {M.shape}")
    n = M.shape[0]
    atol = check_real(atol, "atol", low=0.0)
    rtol = 100 * n * np.finfo(float).eps if rtol is None else check_real(rtol, "rtol", low=0.0)
    sv = np.linalg.svd(M, compute_uv=False)
    tol = max(atol, rtol * float(sv[0]), np.finfo(float).tiny)
    return Nondegeneracy(sv, float(tol), n)


def block_nondegeneracy(objective, theta, subsets=None, atol: float = 0.0,
                        rtol: float | None = None) -> dict:
    """:func:`nondegeneracy` of the block Hessian for each layer subset (003, Definition 3.7).

    ``subsets`` is a list of layer collections; ``None`` means every
    non-empty subset of {1..L}. Returns a dict mapping the sorted tuple of
    layers to its :class:`Nondegeneracy` (the Hessian is computed once).
    """
    objective = check_objective(objective, general=True)
    net = objective.net
    theta = net.check_params(theta)
    if subsets is None:
        L = range(1, net.depth + 1)
        subsets = [c for r in L for c in itertools.combinations(L, r)]
    elif isinstance(subsets, (str, bytes)) or not hasattr(subsets, "__iter__"):
        raise TypeError(f"subsets must be None or a list of layer collections, got {subsets!r}")
    H = objective.hessian(theta)
    H = 0.5 * (H + H.T)
    out = {}
    for s in subsets:
        key = _check_layers(net, s)
        idx = layer_indices(net, key)
        out[key] = nondegeneracy(H[np.ix_(idx, idx)], atol=atol, rtol=rtol)
    if not out:
        raise ValueError("subsets must not be empty")
    return out


# -------------------------------------------------------------------- exact
@dataclass(frozen=True)
class ExactNondegeneracy:
    """Exact verdict on a sympy matrix: ``det``, ``rank``, ``size``, ``nondegenerate`` (det != 0)."""

    det: sp.Expr
    rank: int
    size: int

    @property
    def nondegenerate(self) -> bool:
        return self.rank == self.size

    def __str__(self):
        word = "non-singular" if self.nondegenerate else "singular"
        return f"{self.size}x{self.size} {word}: det = {self.det}, rank {self.rank}"


def exact_nondegeneracy(M, subset=None) -> ExactNondegeneracy:
    """Determinant and rank of ``M`` or of its principal submatrix on ``subset`` (003, Def. 3.6-3.7).

    ``M`` is a square sympy Matrix (or anything ``sympy.Matrix`` accepts) with
    exact entries; ``subset`` a collection of 0-based positions (None: all).
    Non-degenerate iff the rank is full (iff det != 0).
    """
    try:
        M = sp.Matrix(M)
    except (TypeError, ValueError, sp.SympifyError) as exc:
        raise TypeError(f"M must be a sympy Matrix, got {type(M).__name__} ({exc})") from None
    if M.rows != M.cols or M.rows == 0:
        raise ValueError(f"M must be a non-empty square matrix, got shape {M.shape}")
    if subset is not None:
        if isinstance(subset, (str, bytes)) or not hasattr(subset, "__iter__"):
            raise TypeError(f"subset must be a collection of positions, got {subset!r}")
        pos = list(subset)
        for p in pos:
            if isinstance(p, bool) or not isinstance(p, (Integral, np.integer)):
                raise TypeError(f"subset must contain integer positions, got {p!r}")
            if not 0 <= p < M.rows:
                raise ValueError(f"subset: position {p} out of range 0..{M.rows - 1}")
        if not pos or len(set(pos)) != len(pos):
            raise ValueError(f"subset must be non-empty without repeats, got {tuple(pos)}")
        M = M.extract(pos, pos)
    return ExactNondegeneracy(sp.simplify(M.det()), int(M.rank(simplify=True)), M.rows)


@dataclass(frozen=True)
class HessianExample:
    """One of the 4x4 examples after 003, Definition 3.7, with a function that realises it.

    ``matrix`` is the Hessian printed in 003; ``f`` a polynomial in
    ``variables`` with a critical point at ``point`` (the origin) whose
    Hessian there is ``matrix``; ``subset`` the 0-based positions of the
    block 003 names.
    """

    name: str
    variables: tuple
    f: sp.Expr
    point: dict
    matrix: sp.Matrix
    subset: tuple


def paper_examples() -> dict:
    """The two Hessians of 003 after Definition 3.7, each with a concrete f.

    ``"x"``: ``diag(1, 1, 0, 0)``: singular, but the ``{x1, x2}`` block is the
    identity. Realised by ``f(x) = (x1^2 + x2^2)/2 + x3^4 + x4^4`` (a strict
    local minimum at 0 that is nonetheless degenerate).
    ``"y"``: ``[[I, I], [I, 0]]`` (2x2 blocks): non-singular, but the
    ``{y3, y4}`` block is zero. Realised by
    ``f(y) = (y1^2 + y2^2)/2 + y1 y3 + y2 y4`` (a non-degenerate saddle).
    """
    x = sp.symbols("x1:5", real=True)
    y = sp.symbols("y1:5", real=True)
    Hx = sp.diag(1, 1, 0, 0)
    Hy = sp.Matrix([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]])
    fx = (x[0] ** 2 + x[1] ** 2) / 2 + x[2] ** 4 + x[3] ** 4
    fy = (y[0] ** 2 + y[1] ** 2) / 2 + y[0] * y[2] + y[1] * y[3]
    return {"x": HessianExample("x", x, fx, {v: 0 for v in x}, Hx, (0, 1)),
            "y": HessianExample("y", y, fy, {v: 0 for v in y}, Hy, (2, 3))}
