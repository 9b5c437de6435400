"""Convexity in (p, q, c) and the saddles of L_{g_A}: 002, Lemmas 2.2-2.4, Theorem 2.5, eqs. (9)-(12).

With the activation values frozen at a pattern A the network of 002 is
g_A(x_i, θ) = Σ_j v_j a_ij (w_jᵀx_i + b_j) + c (eq. (2)), and
L_{g_A}(θ) = ½ Σ_i (g_A(x_i, θ) − y_i)². This module has two halves.

**Symbolic** (:func:`symbolic_region`, :func:`symbolic_objective`): g_A, the
network f with ``Max`` (eq. (1)), both losses, and the variables of eq. (4)
(p_j = v_j w_j, q_j = v_j b_j, c) in sympy, with 002's names w_jk, v_j, b_j,
c, p_jk, q_j (indices from 1 in the names), data x_ik, y_i and activation
values a_ij either symbols (with a_ij² = a_ij, :meth:`SymbolicRegion.reduce`)
or 0/1. :func:`freeze` turns derivatives of the network with ``Max`` into those
of g_A inside the region of A (Lemma 2.2); :func:`printed_eq9`,
:func:`printed_eq11`, :func:`printed_eq12` and :func:`eq10_eigenvalues` are
the formulas of the proof of Theorem 2.5 as printed, to be compared with the
derivatives sympy computes.

**Numeric and exact** (data through the objective of
:func:`~lossland.relu_regions.model.relu_objective`, exact values as
:class:`fractions.Fraction` of the stored floats):
:func:`hessian_block` (a 2x2 block of ∇²L_{g_A} in closed form),
:func:`nonconvexity_witness` (part (1) of Theorem 2.5: a point with an
indefinite 2x2 block, by the paper's choice of a large c or, without biases,
on the slice (w̃_j, v_j) = (t u, s)), :func:`dead_node_critical_point` (a
critical point of L_{g_A} with v_j = 0, the saddles of Cases 2-3 of the proof),
:func:`saddle_block` and :func:`descent_direction` (the indefinite block
(w_jk, v_j) or (b_j, v_j) at such a point and a direction along which the
loss falls, with the exact quartic L_{g_A}(θ* + t d) − L_{g_A}(θ*)).

Indices j, k, i in function arguments count from 0 (numpy); the symbol
names and printed labels count from 1, as in 002.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Rational

import numpy as np
import sympy as sp

from .._validation import check_bool, check_choice, check_int, check_vector
from .model import (check_pattern, check_relu_objective as _check, design_matrix, hessian_g, pattern,
                    pre_activations, to_fractions)

__all__ = [
    "SymbolicRegion",
    "symbolic_region",
    "symbolic_objective",
    "freeze",
    "printed_eq9",
    "eq10_eigenvalues",
    "printed_eq11",
    "printed_eq12",
    "exact",
    "param_index",
    "param_label",
    "Block",
    "hessian_block",
    "NonConvexity",
    "nonconvexity_witness",
    "DeadNode",
    "dead_node_critical_point",
    "saddle_block",
    "Descent",
    "descent_direction",
]


# ----------------------------------------------------------------------------- symbolic

def _name(letter: str, *idx: int) -> str:
    """002-style symbol name: w_12 for w_{jk} = w_{1,2}; commas once an index reaches 10."""
    sep = "," if any(i >= 10 for i in idx) else ""
    return f"{letter}_{sep.join(str(i) for i in idx)}"


def _rational(value, name: str) -> sp.Rational:
    """The exact rational value of a number (a float's binary value, a Fraction, an int)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if isinstance(value, sp.Basic):
        if not (value.is_Rational or value.is_Integer):
            raise TypeError(f"{name} must be a rational number, got {value!r}")
        return sp.Rational(value)
    if isinstance(value, (Rational, Integral, np.integer)):
        f = Fraction(int(value)) if isinstance(value, (Integral, np.integer)) else Fraction(value)
        return sp.Rational(f.numerator, f.denominator)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    f = Fraction(x)
    return sp.Rational(f.numerator, f.denominator)


@dataclass
class SymbolicRegion:
    """g_A and L_{g_A} of 002, eqs. (1)-(4), in sympy (built by :func:`symbolic_region`).

    ``W`` (h x n), ``v`` (h x 1), ``b`` (h x 1) or None, ``c`` or None: the
    parameter symbols; ``params`` the same in lossland's flat order (W row by
    row, b, v, c). ``X`` (N x n), ``y`` (N x 1), ``A`` (N x h): data and
    activation values (symbols or numbers); ``Z`` (N x h): w_jᵀx_i + b_j.
    ``f`` and ``g``: the outputs of eq. (1) (with ``Max``) and eq. (2);
    ``loss_f``, ``loss_g``: ½ Σ (· − y_i)². ``p`` (h x n), ``q``: the
    variables of eq. (4), ``pqc`` in the order of
    :func:`~lossland.relu_regions.model.to_pqc`, ``g_pqc`` and ``loss_pqc`` the
    model and loss in them, ``pqc_map`` {p_jk: v_j w_jk, q_j: v_j b_j}.
    ``activation_symbols``: the a_ij when they are symbols (else empty).
    """

    n: int
    h: int
    N: int
    biases: bool
    W: sp.Matrix
    v: sp.Matrix
    b: sp.Matrix | None
    c: sp.Symbol | None
    params: tuple
    X: sp.Matrix
    y: sp.Matrix
    A: sp.Matrix
    Z: sp.Matrix
    f: tuple
    g: tuple
    loss_f: sp.Expr
    loss_g: sp.Expr
    p: sp.Matrix
    q: sp.Matrix | None
    pqc: tuple
    g_pqc: tuple
    loss_pqc: sp.Expr
    pqc_map: dict
    activation_symbols: tuple

    def residual(self, i: int) -> sp.Expr:
        """r_i = g_A(x_i, θ) − y_i."""
        i = check_int(i, "i", 0, self.N - 1)
        return self.g[i] - self.y[i]

    def node(self, j: int) -> dict:
        """The symbols of hidden node j (from 0): ``w`` (list), ``v``, ``b`` (or None), ``p``, ``q``."""
        j = check_int(j, "j", 0, self.h - 1)
        return {"w": list(self.W.row(j)), "v": self.v[j], "b": None if self.b is None else self.b[j],
                "p": list(self.p.row(j)), "q": None if self.q is None else self.q[j]}

    def reduce(self, expr):
        """``expr`` expanded, with every a_ij**k (k >= 1) replaced by a_ij (activation values are 0 or 1).

        Matrices are reduced entrywise. Without symbolic activation values
        this is just ``expand``.
        """
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(self.reduce)
        out = sp.expand(expr)
        if self.activation_symbols:
            acts = set(self.activation_symbols)
            out = out.replace(lambda e: e.is_Pow and e.base in acts and e.exp.is_Integer and e.exp > 0,
                              lambda e: e.base)
        return sp.expand(out)

    def equal(self, lhs, rhs) -> bool:
        """Whether ``lhs − rhs`` reduces to 0 (``reduce`` then ``simplify``); matrices entrywise."""
        diff = self.reduce(sp.Matrix(lhs) - sp.Matrix(rhs) if isinstance(lhs, sp.MatrixBase)
                           else lhs - rhs)
        if isinstance(diff, sp.MatrixBase):
            return all(sp.simplify(e) == 0 for e in diff)
        return sp.simplify(diff) == 0

    def gradient(self, expr=None, wrt=None) -> sp.Matrix:
        """∂expr/∂wrt as a column (default: L_{g_A} and all parameters), reduced."""
        expr = self.loss_g if expr is None else expr
        wrt = list(self.params if wrt is None else wrt)
        return self.reduce(sp.Matrix([sp.diff(expr, s) for s in wrt]))

    def hessian(self, expr=None, wrt=None) -> sp.Matrix:
        """∂²expr/∂wrt² (default: L_{g_A} and all parameters), reduced."""
        expr = self.loss_g if expr is None else expr
        wrt = list(self.params if wrt is None else wrt)
        return self.reduce(sp.hessian(expr, wrt))

    def index(self, symbol) -> int:
        """Flat position of a parameter symbol (the order of lossland's θ)."""
        try:
            return self.params.index(symbol)
        except ValueError:
            raise ValueError(f"symbol: {symbol!r} is not a parameter of this model") from None

    def theta_subs(self, theta) -> dict:
        """{parameter symbol: exact value} for a flat θ (floats are taken at their exact binary value)."""
        if len(theta) != len(self.params):
            raise ValueError(f"theta must have {len(self.params)} entries, got {len(theta)}")
        return {s: _rational(t, "theta") for s, t in zip(self.params, theta)}

    def at(self, expr, theta):
        """``expr`` at the flat θ, exactly (sympy rationals)."""
        out = expr.xreplace(self.theta_subs(theta))
        return out.applyfunc(sp.expand) if isinstance(out, sp.MatrixBase) else sp.expand(out)


def _data_matrix(values, shape, letter, name, positive_symbols=False):
    if values is None:
        rows, cols = shape
        if cols is None:
            return sp.Matrix(rows, 1, lambda i, _: sp.Symbol(_name(letter, i + 1), real=True))
        return sp.Matrix(rows, cols, lambda i, k: sp.Symbol(_name(letter, i + 1, k + 1), real=True))
    arr = np.asarray(values, dtype=object)
    want = (shape[0],) if shape[1] is None else shape
    if arr.shape != want:
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    flat = [e if isinstance(e, sp.Symbol) else _rational(e, name) for e in arr.ravel()]
    return sp.Matrix(shape[0], 1 if shape[1] is None else shape[1], flat)


def symbolic_region(n: int, h: int, N: int, *, A=None, X=None, y=None, biases: bool = True) -> SymbolicRegion:
    """The sympy model of 002, eqs. (1)-(4), for n inputs, h hidden ReLU nodes and N samples.

    ``A``: None for symbolic activation values a_ij (with a_ij² = a_ij in
    :meth:`SymbolicRegion.reduce`), or an (N, h) array of 0/1. ``X`` (N, n)
    and ``y`` (N,): None for symbols x_ik, y_i, or numbers (taken exactly).
    ``biases=False`` removes b and c (002, Fig. 3 and Section 4.1).
    """
    n, h, N = check_int(n, "n", 1), check_int(h, "h", 1), check_int(N, "N", 1)
    biases = check_bool(biases, "biases")
    W = sp.Matrix(h, n, lambda j, k: sp.Symbol(_name("w", j + 1, k + 1), real=True))
    v = sp.Matrix(h, 1, lambda j, _: sp.Symbol(_name("v", j + 1), real=True))
    b = sp.Matrix(h, 1, lambda j, _: sp.Symbol(_name("b", j + 1), real=True)) if biases else None
    c = sp.Symbol("c", real=True) if biases else None
    params = tuple(W) + (tuple(b) if biases else ()) + tuple(v) + ((c,) if biases else ())
    Xm = _data_matrix(X, (N, n), "x", "X")
    ym = _data_matrix(y, (N, None), "y", "y")
    if A is None:
        Am = sp.Matrix(N, h, lambda i, j: sp.Symbol(_name("a", i + 1, j + 1), real=True))
        acts = tuple(Am)
    else:
        arr = np.asarray(A)
        if arr.shape != (N, h):
            raise ValueError(f"A must have shape (N, h) = {(N, h)}, got {arr.shape}")
        if not np.isin(arr, (0, 1)).all():
            raise ValueError("A must contain only 0 and 1 (activation values a_ij)")
        Am = sp.Matrix(N, h, [sp.Integer(int(e)) for e in arr.ravel()])
        acts = ()
    Z = sp.Matrix(N, h, lambda i, j: sum((W[j, k] * Xm[i, k] for k in range(n)), sp.Integer(0))
                  + (b[j] if biases else 0))
    c0 = c if biases else sp.Integer(0)
    f = tuple(sum((v[j] * sp.Max(Z[i, j], 0) for j in range(h)), sp.Integer(0)) + c0 for i in range(N))
    g = tuple(sum((v[j] * Am[i, j] * Z[i, j] for j in range(h)), sp.Integer(0)) + c0 for i in range(N))
    half = sp.Rational(1, 2)
    loss_f = half * sum((f[i] - ym[i]) ** 2 for i in range(N))
    loss_g = half * sum((g[i] - ym[i]) ** 2 for i in range(N))
    p = sp.Matrix(h, n, lambda j, k: sp.Symbol(_name("p", j + 1, k + 1), real=True))
    q = sp.Matrix(h, 1, lambda j, _: sp.Symbol(_name("q", j + 1), real=True)) if biases else None
    pqc = tuple(p) + ((*q, c) if biases else ())
    g_pqc = tuple(sum((Am[i, j] * (sum((p[j, k] * Xm[i, k] for k in range(n)), sp.Integer(0))
                                   + (q[j] if biases else 0)) for j in range(h)), sp.Integer(0)) + c0
                  for i in range(N))
    loss_pqc = half * sum((g_pqc[i] - ym[i]) ** 2 for i in range(N))
    pqc_map = {p[j, k]: v[j] * W[j, k] for j in range(h) for k in range(n)}
    if biases:
        pqc_map.update({q[j]: v[j] * b[j] for j in range(h)})
    return SymbolicRegion(n, h, N, biases, W, v, b, c, params, Xm, ym, Am, Z, f, g, loss_f, loss_g,
                          p, q, pqc, g_pqc, loss_pqc, pqc_map, acts)


def symbolic_objective(objective, A=None) -> SymbolicRegion:
    """:func:`symbolic_region` with the data of ``objective`` (exact values of its floats).

    ``A``: an (N, h) 0/1 pattern, or None for symbolic activation values.
    """
    objective = _check(objective)
    n, h = objective.net.widths[0], objective.net.widths[1]
    if A is not None:
        A = check_pattern(objective, A).astype(int)
    return symbolic_region(n, h, objective.n_samples, A=A, X=objective.X, y=objective.y,
                           biases=objective.net.biases)


def freeze(expr, model: SymbolicRegion, A=None):
    """``expr`` (built from ``model.f``) with the ReLU frozen at the pattern A, inside the region of A.

    Replaces Max(z_ij, 0) by a_ij z_ij, Heaviside(z_ij) (the derivative
    sympy gives for Max) by a_ij and DiracDelta(z_ij) and its derivatives by
    0: valid where every z_ij ≠ 0 has the sign a_ij says (002, Lemma 2.2).
    ``A`` defaults to ``model.A``.
    """
    if A is None:
        Am = model.A
    else:
        arr = np.asarray(A)
        if arr.shape != (model.N, model.h) or not np.isin(arr, (0, 1)).all():
            raise ValueError(f"A must be an (N, h) = {(model.N, model.h)} array of 0/1")
        Am = sp.Matrix(model.N, model.h, [sp.Integer(int(e)) for e in arr.ravel()])
    rep = {}
    zs = {model.Z[i, j]: Am[i, j] for i in range(model.N) for j in range(model.h)}
    for z, a in zs.items():
        rep[sp.Max(z, 0)] = a * z
        rep[sp.Heaviside(z)] = a
        rep[sp.Heaviside(z, sp.Rational(1, 2))] = a

    def kill_delta(e):
        return e.replace(lambda t: isinstance(t, sp.DiracDelta) and t.args[0] in zs, lambda t: sp.Integer(0))

    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: sp.expand(kill_delta(e.xreplace(rep))))
    return sp.expand(kill_delta(expr.xreplace(rep)))


# ----------------------------------------------------------------------------- printed formulas

def _node_sums(model: SymbolicRegion, j: int):
    j = check_int(j, "j", 0, model.h - 1)
    a = [model.A[i, j] for i in range(model.N)]
    z = [model.Z[i, j] for i in range(model.N)]
    r = [model.residual(i) for i in range(model.N)]
    return j, a, z, r


def printed_eq9(model: SymbolicRegion, j: int, *, as_printed: bool = True) -> sp.Matrix:
    """The Hessian block ∇²_{v_j, b_j} L_{g_A} of 002, eq. (9), entry by entry as printed.

    Order (v_j, b_j). ∂²/∂v_j² = Σ a_ij (w_jᵀx_i + b_j)², ∂²/∂b_j² = Σ a_ij v_j²,
    ∂²/∂v_j∂b_j = Σ a_ij (v_j(w_jᵀx_i + b_j) + g_A(x_i) − y_i). The (2, 1)
    entry is printed as ∂²/∂v_j² (``as_printed=True``); ``False`` puts the
    mixed derivative there.
    """
    if not model.biases:
        raise ValueError("model: eq. (9) needs the biases b_j (this model has none)")
    j, a, z, r = _node_sums(model, j)
    vj = model.v[j]
    d2v = sum((a[i] * z[i] ** 2 for i in range(model.N)), sp.Integer(0))
    d2b = sum((a[i] * vj ** 2 for i in range(model.N)), sp.Integer(0))
    dvb = sum((a[i] * (vj * z[i] + r[i]) for i in range(model.N)), sp.Integer(0))
    return sp.Matrix([[d2v, dvb], [d2v if check_bool(as_printed, "as_printed") else dvb, d2b]])


def eq10_eigenvalues(d2v, dvb):
    """The two eigenvalues of eq. (10): 2λ = ∂²/∂v_j² ± sqrt((∂²/∂v_j²)² + 4(∂²/∂v_j∂b_j)²).

    The eigenvalues of [[d2v, dvb], [dvb, 0]] (eq. (9) at v_j = b_j = 0, where
    ∂²/∂b_j² = 0); returned as (λ₊, λ₋), sympy expressions.
    """
    d2v, dvb = sp.sympify(d2v), sp.sympify(dvb)
    root = sp.sqrt(d2v ** 2 + 4 * dvb ** 2)
    return (d2v + root) / 2, (d2v - root) / 2


def printed_eq11(model: SymbolicRegion, j: int) -> dict:
    """The gradients of 002, eq. (11), as printed, for node j (from 0).

    Keys ``"b"`` (v_j Σ r_i a_ij), ``"w"`` (column: v_j Σ r_i a_ij x_i), ``"v"``
    (Σ r_i a_ij (w_jᵀx_i + b_j)), ``"p"`` (column: Σ r_i a_ij x_i), ``"q"``
    (Σ r_i a_ij), with r_i = g_A(x_i, θ) − y_i; without biases no ``"b"``, ``"q"``.
    """
    j, a, z, r = _node_sums(model, j)
    vj, N = model.v[j], model.N
    p = sp.Matrix([sum((r[i] * a[i] * model.X[i, k] for i in range(N)), sp.Integer(0))
                   for k in range(model.n)])
    out = {"w": vj * p, "v": sum((r[i] * a[i] * z[i] for i in range(N)), sp.Integer(0)), "p": p}
    if model.biases:
        qj = sum((r[i] * a[i] for i in range(N)), sp.Integer(0))
        out.update(b=vj * qj, q=qj)
    return out


def printed_eq12(model: SymbolicRegion, j: int) -> dict:
    """The second derivatives of 002, eq. (12), as printed, for node j (from 0).

    ``"ww"``: ∇²_{w_j} L = 0 (printed for v_j = 0, an n x n zero matrix);
    ``"vw"``: ∇_{v_j}∇_{w_j} L = Σ (r_i + v_j(w_jᵀx_i + b_j)) a_ij x_i (the first
    line, before v_j = 0 is used); ``"vv"``: ∇²_{v_j} L = Σ (w_jᵀx_i + b_j)² a_ij.
    """
    j, a, z, r = _node_sums(model, j)
    vj, N = model.v[j], model.N
    vw = sp.Matrix([sum(((r[i] + vj * z[i]) * a[i] * model.X[i, k] for i in range(N)), sp.Integer(0))
                    for k in range(model.n)])
    return {"ww": sp.zeros(model.n, model.n), "vw": vw,
            "vv": sum((z[i] ** 2 * a[i] for i in range(N)), sp.Integer(0))}


# ----------------------------------------------------------------------------- exact numerics

def exact(values) -> np.ndarray:
    """An object array of the exact :class:`~fractions.Fraction` values of floats (or Fractions)."""
    return to_fractions(values)


def _exact_theta(objective, theta):
    """θ as Fractions (object array) and as floats; Fractions are kept exactly."""
    P = objective.net.n_params
    if isinstance(theta, (list, tuple, np.ndarray)) and any(isinstance(e, Fraction) for e in np.ravel(
            np.asarray(theta, dtype=object))):
        th = exact(theta)
        if th.shape != (P,):
            raise ValueError(f"theta must have length {P}, got shape {th.shape}")
        return th, np.array([float(e) for e in th])
    th = objective.net.check_params(theta)
    return exact(th), th


def _exact_parts(objective, theta_ex):
    """Paper parameters, pre-activations and data as Fractions."""
    net = objective.net
    n, h = net.widths[0], net.widths[1]
    W = theta_ex[net.weight_slice(1)].reshape(h, n)
    v = theta_ex[net.weight_slice(2)]
    b = theta_ex[net.bias_slice(1)] if net.biases else None
    c = theta_ex[net.bias_slice(2)][0] if net.biases else Fraction(0)
    X, y = exact(objective.X), exact(objective.y)
    Xt = np.concatenate([X, np.full((X.shape[0], 1), Fraction(1), dtype=object)], axis=1) if net.biases else X
    Wt = np.concatenate([W, b[:, None]], axis=1) if net.biases else W
    Z = Xt @ Wt.T
    return W, v, b, c, X, y, Xt, Wt, Z


def _exact_residuals(objective, theta_ex, A):
    W, v, b, c, X, y, Xt, Wt, Z = _exact_parts(objective, theta_ex)
    Ao = A.astype(int).astype(object)
    return (Ao * Z) @ v + c - y


def param_index(objective, name: str, j: int | None = None, k: int | None = None) -> int:
    """Flat position in θ of 002's parameter ``name`` ("w" with node j and input k, "b", "v" with node j, "c").

    Indices from 0.
    """
    objective = _check(objective)
    net = objective.net
    name = check_choice(name, "name", ["w", "b", "v", "c"])
    n, h = net.widths[0], net.widths[1]
    if name in ("b", "c") and not net.biases:
        raise ValueError(f"name: the network has no biases, so no {name!r}")
    if name == "c":
        return net.bias_index(2, 0)
    j = check_int(j, "j", 0, h - 1)
    if name == "w":
        return net.weight_index(1, j, check_int(k, "k", 0, n - 1))
    return net.bias_index(1, j) if name == "b" else net.weight_index(2, 0, j)


def param_label(objective, index: int) -> str:
    """002's name of the flat parameter ``index``: "w_12", "b_1", "v_2" or "c" (indices from 1)."""
    objective = _check(objective)
    net = objective.net
    index = check_int(index, "index", 0, net.n_params - 1)
    n, h = net.widths[0], net.widths[1]
    for j in range(h):
        for k in range(n):
            if index == net.weight_index(1, j, k):
                return _name("w", j + 1, k + 1)
        if index == net.weight_index(2, 0, j):
            return _name("v", j + 1)
        if net.biases and index == net.bias_index(1, j):
            return _name("b", j + 1)
    return "c"


def _node_columns(j, A, Xt):
    """D_j: the columns of node j in the design matrix, (N, n) or (N, n + 1) with the bias column."""
    return A[:, j].astype(int).astype(object)[:, None] * Xt


@dataclass(frozen=True)
class Block:
    """A 2x2 block of ∇²L_{g_A}(θ) in the parameters ``labels`` (flat ``indices``).

    ``exact``: the block as Fractions (closed form of eqs. (9), (12)); ``block``:
    the same entries read from :func:`~lossland.relu_regions.model.hessian_g`;
    ``det`` (Fraction), ``eigenvalues`` (float, ascending) and ``indefinite``
    (det < 0 exactly).
    """

    labels: tuple
    indices: tuple
    exact: tuple
    block: np.ndarray
    det: Fraction
    eigenvalues: np.ndarray

    @property
    def indefinite(self) -> bool:
        return self.det < 0


def hessian_block(objective, theta, A, j: int, other: str = "w", k: int = 0) -> Block:
    """The block of ∇²L_{g_A} in (w_jk, v_j) (``other="w"``) or (b_j, v_j) (``"b"``), exactly.

    Closed form (002, eqs. (9) and (12), with the loss's factor 2c, c = ½ in
    eq. (3)): ∂²/∂w_jk² = Σ a_ij v_j² x_ik², ∂²/∂w_jk∂v_j = Σ a_ij (r_i + v_j z_ij) x_ik,
    ∂²/∂v_j² = Σ a_ij z_ij², and the same with x_ik = 1 for b_j. ``theta`` may
    hold Fractions (exact) or floats (their exact values).
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    net = objective.net
    j = check_int(j, "j", 0, net.widths[1] - 1)
    other = check_choice(other, "other", ["w", "b"])
    th_ex, th = _exact_theta(objective, theta)
    W, v, b, c, X, y, Xt, Wt, Z = _exact_parts(objective, th_ex)
    r = _exact_residuals(objective, th_ex, A)
    if other == "b":
        if not net.biases:
            raise ValueError("other: the network has no biases b_j")
        col, idx = Xt[:, -1], param_index(objective, "b", j)
    else:
        k = check_int(k, "k", 0, net.widths[0] - 1)
        col, idx = X[:, k], param_index(objective, "w", j, k)
    a = A[:, j].astype(int)
    two_c = 2 * Fraction(objective.c)
    hxx = two_c * sum((a[i] * v[j] ** 2 * col[i] ** 2 for i in range(len(a))), Fraction(0))
    hxv = two_c * sum((a[i] * (r[i] + v[j] * Z[i, j]) * col[i] for i in range(len(a))), Fraction(0))
    hvv = two_c * sum((a[i] * Z[i, j] ** 2 for i in range(len(a))), Fraction(0))
    vi = param_index(objective, "v", j)
    H = hessian_g(objective, th, A)
    blk = H[np.ix_([idx, vi], [idx, vi])]
    ex = ((hxx, hxv), (hxv, hvv))
    det = hxx * hvv - hxv * hxv
    ev = np.linalg.eigvalsh(np.array([[float(e) for e in row] for row in ex]))
    return Block((param_label(objective, idx), param_label(objective, vi)), (idx, vi), ex, blk, det, ev)


@dataclass(frozen=True)
class NonConvexity:
    """A point where ∇²L_{g_A} is indefinite (002, Theorem 2.5 (1)).

    ``theta`` (float) and ``theta_exact`` (Fractions): the point. ``basis``
    (2, P): the two directions of the block (unit vectors of θ for
    ``method="paper"``; (u on w̃_j, 0) and e_{v_j} for ``"slice"``).
    ``exact``: the 2x2 block Bᵀ∇²L B as Fractions; ``block``: the same from
    :func:`~lossland.relu_regions.model.hessian_g`; ``det`` < 0 means
    indefinite; ``eigenvalues`` of the exact block (floats); ``method``, ``labels``.
    """

    method: str
    theta: np.ndarray
    theta_exact: tuple
    basis: np.ndarray
    labels: tuple
    exact: tuple
    block: np.ndarray
    det: Fraction
    eigenvalues: np.ndarray

    @property
    def indefinite(self) -> bool:
        return self.det < 0


def _flat(objective, W, v, b=None, c=None):
    """A flat object vector (Fractions) in lossland's layout from paper parts."""
    net = objective.net
    out = np.full(net.n_params, Fraction(0), dtype=object)
    out[net.weight_slice(1)] = np.asarray(W, dtype=object).ravel()
    out[net.weight_slice(2)] = np.asarray(v, dtype=object)
    if net.biases:
        out[net.bias_slice(1)] = np.asarray(b, dtype=object)
        out[net.bias_slice(2)] = [c]
    return out


def nonconvexity_witness(objective, A, j: int, *, theta=None, method: str = "slice") -> NonConvexity:
    """A point θ and a plane on which the Hessian of L_{g_A} is indefinite (002, Theorem 2.5 (1)).

    Needs a_ij = 1 for some i (node j not all zero) with x̃_i ≠ 0.

    ``method="paper"`` (the proof in 002, App. A.3, eqs. (9)-(10); needs the
    biases): from ``theta`` (default 0) set v_j = b_j = 0 and c so large that
    every residual r_i = g_A(x_i) − y_i is >= 1; the block in (v_j, b_j) is
    [[Σ a_ij z_ij², Σ a_ij r_i], [Σ a_ij r_i, 0]] with Σ a_ij r_i > 0.

    ``method="slice"`` (also without biases, where 002's proof has neither
    b_j nor c): with u = x̃_i for the first active i, put w̃_j = t u and
    v_j = s; then L_{g_A} = ½|ts d + e|² on that plane (d_i = a_ij x̃_iᵀu,
    e = residuals without node j), the function (xy − 1)² of the proof
    sketch. At t = 1, s = ±1 (the sign of β = dᵀe) its Hessian is
    [[κ, 2κs + β], [2κs + β, κ]] with κ = |d|², whose determinant
    κ² − (2κ + |β|)² is negative.
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    net = objective.net
    h, n = net.widths[1], net.widths[0]
    j = check_int(j, "j", 0, h - 1)
    method = check_choice(method, "method", ["slice", "paper"])
    base = np.zeros(net.n_params) if theta is None else theta
    th_ex, _ = _exact_theta(objective, base)
    W, v, b, c, X, y, Xt, Wt, Z = _exact_parts(objective, th_ex)
    W, v = W.copy(), v.copy()
    b = None if b is None else b.copy()
    active = [i for i in range(objective.n_samples) if A[i, j] and any(e != 0 for e in Xt[i])]
    if not active:
        raise ValueError(f"A: node j={j} has no active sample with x~_i != 0, so L_gA does not depend "
                         "on node j (Theorem 2.5 (1) needs a nonzero activation)")
    two_c = 2 * Fraction(objective.c)
    if method == "paper":
        if not net.biases:
            raise ValueError("method: 'paper' needs the biases b_j and c (002, App. A.3 (1)); "
                             "use method='slice'")
        v[j], b[j] = Fraction(0), Fraction(0)
        rest = _exact_residuals(objective, _flat(objective, W, v, b, Fraction(0)), A)
        c = max(-e for e in rest) + 1                              # every r_i >= 1
        th_new = _flat(objective, W, v, b, c)
        r = _exact_residuals(objective, th_new, A)
        Zj = Xt @ np.concatenate([W[j], [b[j]]])
        a = A[:, j].astype(int)
        d2v = two_c * sum((a[i] * Zj[i] ** 2 for i in range(len(a))), Fraction(0))
        dvb = two_c * sum((a[i] * r[i] for i in range(len(a))), Fraction(0))
        ex = ((d2v, dvb), (dvb, Fraction(0)))
        idx = (param_index(objective, "v", j), param_index(objective, "b", j))
        basis = np.zeros((2, net.n_params))
        basis[0, idx[0]] = basis[1, idx[1]] = 1.0
        labels = (param_label(objective, idx[0]), param_label(objective, idx[1]))
    else:
        u = Xt[active[0]]
        v[j] = Fraction(0)
        if net.biases:
            W[j], b[j] = u[:n], u[n]
        else:
            W[j] = u
        e = _exact_residuals(objective, _flat(objective, W, v, b, c), A)       # without node j
        d = (A[:, j].astype(int).astype(object) * (Xt @ u))
        kappa, beta = d @ d, d @ e
        s = Fraction(1) if beta >= 0 else Fraction(-1)
        v[j] = s
        th_new = _flat(objective, W, v, b, c)
        off = two_c * (2 * kappa * s + beta)
        ex = ((two_c * kappa, off), (off, two_c * kappa))
        basis = np.zeros((2, net.n_params))
        uf = np.array([float(t) for t in u])
        basis[0, [param_index(objective, "w", j, k) for k in range(n)]] = uf[:n]
        if net.biases:
            basis[0, param_index(objective, "b", j)] = uf[n]
        basis[1, param_index(objective, "v", j)] = 1.0
        labels = (f"t (w~_{j + 1} = t u)", _name("v", j + 1))
    th_f = np.array([float(t) for t in th_new])
    H = hessian_g(objective, th_f, A)
    block = basis @ H @ basis.T
    det = ex[0][0] * ex[1][1] - ex[0][1] * ex[1][0]
    ev = np.linalg.eigvalsh(np.array([[float(t) for t in row] for row in ex]))
    return NonConvexity(method, th_f, tuple(th_new), basis, labels, ex, block, det, ev)


@dataclass(frozen=True)
class DeadNode:
    """A critical point of L_{g_A} with v_j = 0 (002, App. A.3, Cases 2-3).

    ``theta`` (floats) and ``theta_exact`` (Fractions). The other nodes and c
    sit at a global minimum of L_{g_A} without node j (v_k = ±1,
    w̃_k = ±(p_k, q_k)); node j has v_j = 0 and w̃_j = (w_j, b_j) = u
    projected onto the orthogonal complement of ``grad_j``. ``grad_pqc``:
    the exact gradient of ½|Dz − y|² at z(θ) (Fractions), ``grad_j`` its
    (p_j, q_j) part; ``gradient``: the exact ∇_θ L_{g_A}(θ) (all 0);
    ``loss`` (Fraction). ``in_region``: the pattern of θ (Definition 2.1)
    is A and no pre-activation is 0, so θ is also a critical point of L_f.
    """

    j: int
    theta: np.ndarray
    theta_exact: tuple
    grad_pqc: tuple
    grad_j: tuple
    gradient: tuple
    loss: Fraction
    in_region: bool
    margin: float


def _exact_gradient(objective, th_ex, A):
    """∇_θ L_{g_A} exactly (Fractions), flat layout (002, eq. (11) and ∂/∂c = Σ r_i)."""
    net = objective.net
    W, v, b, c, X, y, Xt, Wt, Z = _exact_parts(objective, th_ex)
    r = _exact_residuals(objective, th_ex, A)
    two_c = 2 * Fraction(objective.c)
    Ao = A.astype(int).astype(object)
    G = np.full(net.n_params, Fraction(0), dtype=object)
    gj = (Ao * r[:, None]).T @ Xt                                  # (h, n[+1]): Σ r_i a_ij x~_i
    n, h = net.widths[0], net.widths[1]
    for j in range(h):
        for k in range(n):
            G[param_index(objective, "w", j, k)] = two_c * v[j] * gj[j, k]
        G[param_index(objective, "v", j)] = two_c * sum((r[i] * Ao[i, j] * Z[i, j]
                                                         for i in range(len(r))), Fraction(0))
        if net.biases:
            G[param_index(objective, "b", j)] = two_c * v[j] * gj[j, n]
    if net.biases:
        G[param_index(objective, "c")] = two_c * sum(r, Fraction(0))
    return G, r


def _exact_grad_pqc(objective, th_ex, A):
    D = _exact_design(objective, A)
    r = _exact_residuals(objective, th_ex, A)
    return 2 * Fraction(objective.c) * (D.T @ r)


def _exact_design(objective, A):
    return design_matrix(objective, A, exact=True)


def _lstsq_exact(D, y):
    """A minimiser of |Dz − y|² over the rationals (sympy's exact pseudo-inverse: minimum norm)."""
    if D.shape[1] == 0:
        return np.zeros(0, dtype=object)
    M = sp.Matrix(D.shape[0], D.shape[1], [sp.Rational(e.numerator, e.denominator) for e in D.ravel()])
    Y = sp.Matrix([sp.Rational(e.numerator, e.denominator) for e in y])
    z = M.pinv() * Y
    return np.array([Fraction(int(sp.fraction(e)[0]), int(sp.fraction(e)[1])) for e in z], dtype=object)


def _cone_direction(Xt, s, gj):
    """A direction u with s_i x~_iᵀu > 0 (sign s_i = +1 active, -1 inactive) and gjᵀu = 0: max margin LP."""
    from scipy.optimize import linprog

    Xf = np.array([[float(e) for e in row] for row in Xt])
    gf = np.array([float(e) for e in gj])
    m = Xf.shape[1]
    A_ub = np.concatenate([-(s[:, None] * Xf), np.ones((len(s), 1))], axis=1)
    A_eq = np.concatenate([gf, [0.0]])[None, :] if np.any(gf) else None
    c = np.zeros(m + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(len(s)), A_eq=A_eq, b_eq=None if A_eq is None else [0.0],
                  bounds=[(-1.0, 1.0)] * m + [(None, 1.0)], method="highs")
    if res.status != 0 or res.x[-1] <= 1e-9:
        return None
    return res.x[:m]


def dead_node_critical_point(objective, A, j: int, u=None) -> DeadNode:
    """A critical point θ* of L_{g_A} with v_j = 0, exactly (002, App. A.3, Cases 2-3).

    The other nodes and c minimise L_{g_A} with node j removed (exact minimum-
    norm least squares (p_k, q_k); v_k = 1 and (w_k, b_k) = (p_k, q_k), or
    v_k = -1 and the opposite when that gives node k the pattern of A), so
    ∇_{w_k}, ∇_{b_k}, ∇_{v_k}, ∇_c vanish; with v_j = 0, ∇_{w_j} = ∇_{b_j} = 0, and ∂/∂v_j = w̃_jᵀ∇_{(p_j, q_j)} vanishes
    because w̃_j is ``u`` (length n, or n + 1 with the bias last) minus its
    component along ∇_{(p_j, q_j)}. ``u=None``: a u with node j's pattern
    of A and the largest margin in that hyperplane (a linear program; the
    exact projection follows), so that θ* lies in the open region of A when
    the other nodes do; ValueError if node j's region of A misses the
    hyperplane. Where ∇_{(p_j, q_j)} is not 0, θ* is a saddle
    (Theorem 2.5 (3)); see :func:`saddle_block`.
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    net = objective.net
    n, h = net.widths[0], net.widths[1]
    j = check_int(j, "j", 0, h - 1)
    m = n + 1 if net.biases else n
    if u is not None:
        u = exact(check_vector(u, "u", m) if not any(isinstance(e, Fraction) for e in np.ravel(
            np.asarray(u, dtype=object))) else u)
        if u.shape != (m,):
            raise ValueError(f"u must have {m} entries (w_j{', b_j' if net.biases else ''}), "
                             f"got {u.shape}")
    D = _exact_design(objective, A)
    nz = D.shape[1]
    cols_j = [j * n + k for k in range(n)] + ([h * n + j] if net.biases else [])
    keep = [t for t in range(nz) if t not in cols_j]
    zr = _lstsq_exact(D[:, keep], exact(objective.y))
    z = np.full(nz, Fraction(0), dtype=object)
    z[keep] = zr
    r = D @ z - exact(objective.y)
    gj = 2 * Fraction(objective.c) * (D[:, cols_j].T @ r)
    gg = gj @ gj
    Xt = exact(objective.X)
    if net.biases:
        Xt = np.concatenate([Xt, np.full((Xt.shape[0], 1), Fraction(1), dtype=object)], axis=1)
    if u is None:
        uf = _cone_direction(Xt, np.where(A[:, j], 1.0, -1.0), gj)
        if uf is None:
            raise ValueError(f"A: the region of node j={j} in A does not meet the hyperplane "
                             "w~_j . grad_(p_j, q_j) = 0 (no dead-node critical point there)")
        u = exact(uf)
    wt = u - (u @ gj) / gg * gj if gg != 0 else u
    Pt = np.concatenate([z[:h * n].reshape(h, n), z[h * n:h * n + h][:, None]], axis=1) \
        if net.biases else z[:h * n].reshape(h, n).copy()
    v = np.full(h, Fraction(1), dtype=object)
    for k in range(h):                     # v_k = -1 if that puts node k in its region of A
        zk = Xt @ Pt[k]
        if k != j and all((e < 0) if a else (e > 0) for e, a in zip(zk, A[:, k])):
            v[k], Pt[k] = Fraction(-1), -Pt[k]
    v[j] = Fraction(0)
    Pt[j] = wt
    if net.biases:
        th_ex = _flat(objective, Pt[:, :n], v, Pt[:, n], z[-1])
    else:
        th_ex = _flat(objective, Pt, v)
    G, r = _exact_gradient(objective, th_ex, A)
    gpqc = _exact_grad_pqc(objective, th_ex, A)
    th = np.array([float(t) for t in th_ex])
    Zf = pre_activations(objective, th)
    in_region = bool(np.array_equal(pattern(objective, th), A) and np.all(Zf != 0))
    loss = Fraction(objective.c) * sum((e * e for e in r), Fraction(0))
    return DeadNode(j, th, tuple(th_ex), tuple(gpqc), tuple(gj), tuple(G), loss, in_region,
                    float(np.min(np.abs(Zf))))


def saddle_block(objective, theta, A, j: int) -> Block:
    """The indefinite block of the proof of Theorem 2.5 (002, App. A.3, Cases 2-3, eq. (12)) at node j.

    At a critical point with v_j = 0 the block in (w_jk, v_j) is
    [[0, ∂_{p_jk}L], [∂_{p_jk}L, Σ a_ij z_ij²]] (and (b_j, v_j) with ∂_{q_j}L):
    indefinite when that gradient entry is not 0. Picks the entry of
    ∇_{(p_j, q_j)} L_{g_A} largest in absolute value (w_jk before b_j on ties).
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    net = objective.net
    j = check_int(j, "j", 0, net.widths[1] - 1)
    th_ex, _ = _exact_theta(objective, theta)
    gz = _exact_grad_pqc(objective, th_ex, A)
    n, h = net.widths[0], net.widths[1]
    cols = [j * n + k for k in range(n)] + ([h * n + j] if net.biases else [])
    g = [gz[t] for t in cols]
    best = max(range(len(g)), key=lambda t: (abs(g[t]), -t))
    if g[best] == 0:
        raise ValueError(f"theta: the gradient in (p_{j + 1}, q_{j + 1}) is 0, so node j={j} gives no "
                         "saddle direction (Case 1 of the proof for this node)")
    if best < n:
        return hessian_block(objective, th_ex, A, j, "w", best)
    return hessian_block(objective, th_ex, A, j, "b")


@dataclass(frozen=True)
class Descent:
    """A direction d of loss decrease at a critical point with v_j = 0 (002, App. A.3, Cases 2-3).

    d moves w̃_j = (w_j, b_j) by ``u`` = −∇_{(p_j, q_j)}L and v_j by ``s``
    (= |u|²/Σ a_ij z_ij², or 1 if that sum is 0). ``coefficients``
    (c1, c2, c3, c4), Fractions: L_{g_A}(θ* + t d) − L_{g_A}(θ*) =
    c1 t + c2 t² + c3 t³ + c4 t⁴ exactly, for every t; c1 = s ∂L/∂v_j = 0 at a
    critical point and c2 = −½|u|⁴/Σ a_ij z_ij² < 0. ``direction`` is d (flat).
    """

    j: int
    direction: np.ndarray
    direction_exact: tuple
    u: tuple
    s: Fraction
    coefficients: tuple

    def change(self, t):
        """L_{g_A}(θ* + t d) − L_{g_A}(θ*): exact for a Fraction or int t, float otherwise."""
        c1, c2, c3, c4 = self.coefficients
        if isinstance(t, (Fraction, int)):
            return c1 * t + c2 * t ** 2 + c3 * t ** 3 + c4 * t ** 4
        t = np.asarray(t, dtype=float)
        return float(c1) * t + float(c2) * t ** 2 + float(c3) * t ** 3 + float(c4) * t ** 4

    def as_expr(self, t=None) -> sp.Expr:
        """The exact change c1 t + c2 t² + c3 t³ + c4 t⁴ as a sympy polynomial in ``t`` (default symbol t)."""
        t = sp.Symbol("t", real=True) if t is None else t
        return sum((sp.Rational(c.numerator, c.denominator) * t ** k
                    for k, c in enumerate(self.coefficients, start=1)), sp.Integer(0))

    @property
    def decreasing_below(self) -> float:
        """The first t > 0 where the exact change returns to 0 (inf if it never does)."""
        roots = np.roots([float(e) for e in self.coefficients[::-1]] + [0.0])
        pos = [r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 1e-15]
        return min(pos) if pos else np.inf


def descent_direction(objective, theta, A, j: int) -> Descent:
    """The saddle's way down, exactly: 002, App. A.3, Case 2 (w_j, v_j) and Case 3 (b_j, v_j) together.

    Needs v_j = 0 and ∇_{(p_j, q_j)} L_{g_A} ≠ 0 at ``theta``. With Δz only in
    (p_j, q_j) = (v_j w_j, v_j b_j) = ts w̃_j + t²s u and
    L(z + Δz) − L(z) = ∇_zLᵀΔz + ½|DΔz|² (eq. (4), Lemma 2.3) the change is a
    quartic in t with exact coefficients; see :class:`Descent`.
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    net = objective.net
    n, h = net.widths[0], net.widths[1]
    j = check_int(j, "j", 0, h - 1)
    th_ex, _ = _exact_theta(objective, theta)
    W, v, b, c, X, y, Xt, Wt, Z = _exact_parts(objective, th_ex)
    if v[j] != 0:
        raise ValueError(f"theta: v_{j + 1} = {float(v[j])!r}, but the saddle directions of 002's proof "
                         "(Cases 2-3) need v_j = 0")
    cn = Fraction(objective.c)
    gz = _exact_grad_pqc(objective, th_ex, A)
    cols = [j * n + k for k in range(n)] + ([h * n + j] if net.biases else [])
    G = np.array([gz[t] for t in cols], dtype=object)
    GG = G @ G
    if GG == 0:
        raise ValueError(f"theta: the gradient in (p_{j + 1}, q_{j + 1}) is 0: no saddle direction at "
                         f"node j={j}")
    Dj = _node_columns(j, A, Xt)
    a_vec, u = Dj @ Wt[j], -G
    e_vec = Dj @ u
    delta = 2 * cn * (a_vec @ a_vec)                                 # ∂²L/∂v_j²
    s = GG / delta if delta != 0 else Fraction(1)
    c1 = s * (G @ Wt[j])
    c2 = s * (G @ u) + cn * s * s * (a_vec @ a_vec)
    c3 = 2 * cn * s * s * (a_vec @ e_vec)
    c4 = cn * s * s * (e_vec @ e_vec)
    Wd = np.full((h, n), Fraction(0), dtype=object)
    Wd[j] = u[:n]
    vd = np.full(h, Fraction(0), dtype=object)
    vd[j] = s
    bd = None
    if net.biases:
        bd = np.full(h, Fraction(0), dtype=object)
        bd[j] = u[n]
    d_ex = _flat(objective, Wd, vd, bd, Fraction(0))
    return Descent(j, np.array([float(t) for t in d_ex]), tuple(d_ex), tuple(u), s, (c1, c2, c3, c4))
