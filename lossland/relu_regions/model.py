"""The network of 002 and its activation patterns: eqs. (1)-(4), Definition 2.1.

002's network has one hidden ReLU layer and one linear output,
f(x, θ) = vᵀσ(Wx + b) + c (eq. (1)), and the loss
L_f(θ) = ½ Σ_i (f(x_i, θ) − y_i)² (eq. (3)). In lossland it is the core
``Network((n, h, 1), activation="relu", biases=...)`` with the core
``SquaredLoss(net, X, y, "half")`` (:func:`relu_objective`); without biases
both b and c are removed, as in 002's Fig. 3 and Section 4.1.

With the activation values frozen at a pattern A = (a_ij) the network is
g_A(x_i, θ) = vᵀ diag(a_i)(Wx_i + b) + c (eq. (2)), a polynomial in θ, and in
the variables p_j = v_j w_j, q_j = v_j b_j of eq. (4) it is linear:
g_A(x_i, θ) = (D z)_i with z = (p_1, ..., p_h, q_1, ..., q_h, c)
(:func:`to_pqc`, :func:`design_matrix`).

The flat parameter vector is the core layout: W (h, n) row-major, then b,
then v, then c. :func:`paper_parameters` and :func:`from_paper` translate.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral
from typing import NamedTuple

import numpy as np

from .._validation import as_float_array, check_int, check_objective
from ..derivatives import SquaredLoss
from ..network import Network

__all__ = [
    "relu_network",
    "relu_objective",
    "check_relu_objective",
    "PaperParameters",
    "paper_parameters",
    "from_paper",
    "pre_activations",
    "pattern",
    "check_pattern",
    "g_A",
    "loss_g",
    "gradient_g",
    "hessian_g",
    "n_pqc",
    "to_pqc",
    "from_pqc",
    "design_matrix",
    "to_fractions",
]


class PaperParameters(NamedTuple):
    """θ = [vec(W), v, b, c] of 002, eq. (1): ``W`` (h, n), ``v`` (h,), ``b`` (h,) or None, ``c`` or None."""

    W: np.ndarray
    v: np.ndarray
    b: np.ndarray | None
    c: float | None


def relu_network(n: int, h: int, biases: bool = True) -> Network:
    """The n-h-1 ReLU network of 002, eq. (1) (``biases=False``: no b and no c)."""
    n = check_int(n, "n", 1)
    h = check_int(h, "h", 1)
    return Network((n, h, 1), activation="relu", biases=biases)


def relu_objective(X, y, h: int, biases: bool = True) -> SquaredLoss:
    """L_f(θ) = ½ Σ (f(x_i, θ) − y_i)² of 002, eq. (3), for the n-h-1 ReLU network; ``X`` (N, n)."""
    X = as_float_array(X, "X", ndim=2)
    return SquaredLoss(relu_network(X.shape[1], h, biases), X, y, "half")


def check_relu_objective(objective, name: str = "objective") -> SquaredLoss:
    """``objective`` if it is the loss of 002's n-h-1 ReLU network (eq. (1)); else a TypeError/ValueError naming it."""
    objective = check_objective(objective, name)
    net = objective.net
    if (net.depth != 2 or net.activation.name != "relu" or net.widths[-1] != 1
            or net.output_activation is not None):
        raise ValueError(f"{name}: Part III needs the n-h-1 ReLU network of 002, eq. (1) "
                         f"(lossland.relu_regions.model.relu_objective), got {net}")
    return objective


_check = check_relu_objective


def paper_parameters(net: Network, theta) -> PaperParameters:
    """θ in 002's names: W (h, n), v (h,), b (h,) or None, c (float) or None."""
    theta = net.check_params(theta)
    n, h = net.widths[0], net.widths[1]
    W = theta[net.weight_slice(1)].reshape(h, n).copy()
    v = theta[net.weight_slice(2)].copy()
    if not net.biases:
        return PaperParameters(W, v, None, None)
    return PaperParameters(W, v, theta[net.bias_slice(1)].copy(), float(theta[net.bias_slice(2)][0]))


def from_paper(net: Network, W, v, b=None, c=None) -> np.ndarray:
    """The flat θ of ``net`` from 002's W (h, n), v (h,), b (h,) and c (b and c only with biases)."""
    n, h = net.widths[0], net.widths[1]
    theta = np.zeros(net.n_params)
    W = as_float_array(W, "W")
    if W.shape != (h, n):
        raise ValueError(f"W must have shape (h, n) = {(h, n)}, got {W.shape}")
    v = as_float_array(v, "v").reshape(-1)
    if v.shape != (h,):
        raise ValueError(f"v must have {h} entries, got shape {v.shape}")
    theta[net.weight_slice(1)] = W.ravel()
    theta[net.weight_slice(2)] = v
    if net.biases:
        b = np.zeros(h) if b is None else as_float_array(b, "b").reshape(-1)
        if b.shape != (h,):
            raise ValueError(f"b must have {h} entries, got shape {b.shape}")
        theta[net.bias_slice(1)] = b
        theta[net.bias_slice(2)] = 0.0 if c is None else as_float_array(c, "c").reshape(-1)[0]
    elif b is not None or c is not None:
        raise ValueError("b and c must be None: this network has no biases")
    return net.check_params(theta)


def pre_activations(objective, theta) -> np.ndarray:
    """Z[i, j] = w_jᵀx_i + b_j, shape (N, h)."""
    objective = _check(objective)
    return np.array(objective.forward(theta).pre[1])


def pattern(objective, theta) -> np.ndarray:
    """The activation pattern A of θ on the data: a_ij = 1(w_jᵀx_i + b_j > 0) (002, Definition 2.1), (N, h) bool.

    A pre-activation exactly 0 counts as inactive, as in Definition 2.1, so
    every θ has one pattern and the regions partition the parameter space.
    """
    return pre_activations(objective, theta) > 0.0


def check_pattern(objective, A) -> np.ndarray:
    """``A`` as an (N, h) bool array (entries 0/1 or bool), or a ValueError/TypeError naming ``A``."""
    objective = _check(objective)
    N, h = objective.n_samples, objective.net.widths[1]
    if isinstance(A, (str, bytes)):
        raise TypeError(f"A must be an (N, h) array of 0/1 activation values, got {A!r}")
    try:
        arr = np.asarray(A)
    except Exception as exc:   # ragged lists and the like
        raise TypeError(f"A must be an (N, h) array of 0/1 activation values: {exc}") from None
    if arr.dtype == object or not (arr.dtype == bool or np.issubdtype(arr.dtype, np.number)):
        raise TypeError(f"A must be an (N, h) array of 0/1 activation values, got dtype {arr.dtype}")
    if arr.shape != (N, h):
        raise ValueError(f"A must have shape (N, h) = {(N, h)}, got {arr.shape}")
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise ValueError("A must contain only 0 and 1 (activation values a_ij)")
    return arr.astype(bool)


def _parts(objective, theta):
    P = paper_parameters(objective.net, theta)
    X = objective.X
    Z = X @ P.W.T + (P.b if P.b is not None else 0.0)
    return P, X, Z


def g_A(objective, theta, A) -> np.ndarray:
    """g_A(x_i, θ) = vᵀ diag(a_i)(Wx_i + b) + c for every sample (002, eq. (2)), shape (N,)."""
    objective = _check(objective)
    A = check_pattern(objective, A)
    P, X, Z = _parts(objective, theta)
    return (A * Z) @ P.v + (P.c if P.c is not None else 0.0)


def loss_g(objective, theta, A) -> float:
    """L_{g_A}(θ) = ½ Σ_i (g_A(x_i, θ) − y_i)², the loss with the activations frozen at A.

    The factor is the objective's normalization (½ for :func:`relu_objective`, eq. (3)).
    """
    r = g_A(objective, theta, A) - objective.y
    return float(objective.c * (r @ r))


def _jacobian_g(objective, theta, A):
    """J[i, p] = ∂g_A(x_i, θ)/∂θ_p in the flat layout, and the paper parameters."""
    net = objective.net
    P, X, Z = _parts(objective, theta)
    N, n, h = X.shape[0], X.shape[1], P.W.shape[0]
    av = A * P.v                                              # a_ij v_j
    J = np.zeros((N, net.n_params))
    J[:, net.weight_slice(1)] = (av[:, :, None] * X[:, None, :]).reshape(N, h * n)
    J[:, net.weight_slice(2)] = A * Z
    if net.biases:
        J[:, net.bias_slice(1)] = av
        J[:, net.bias_slice(2)] = 1.0
    return J, P, X, Z


def gradient_g(objective, theta, A) -> np.ndarray:
    """∇L_{g_A}(θ), exact, in the flat layout (002, eq. (11) for the w, v, b parts)."""
    objective = _check(objective)
    A = check_pattern(objective, A)
    J, P, X, Z = _jacobian_g(objective, theta, A)
    r = (A * Z) @ P.v + (P.c if P.c is not None else 0.0) - objective.y
    return 2.0 * objective.c * (J.T @ r)


def hessian_g(objective, theta, A) -> np.ndarray:
    """∇²L_{g_A}(θ) = JᵀJ + Σ_i r_i ∇²g_A(x_i, θ), exact (002, eqs. (9), (12)).

    The only second derivatives of g_A are ∂²g/∂v_j∂w_j = a_ij x_i and
    ∂²g/∂v_j∂b_j = a_ij.
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    net = objective.net
    J, P, X, Z = _jacobian_g(objective, theta, A)
    r = (A * Z) @ P.v + (P.c if P.c is not None else 0.0) - objective.y
    H = J.T @ J
    h, n = P.W.shape
    ra = A * r[:, None]                                       # r_i a_ij
    cross_w = ra.T @ X                                        # (h, n): Σ_i r_i a_ij x_i
    w0, v0 = net.weight_slice(1).start, net.weight_slice(2).start
    for j in range(h):
        rows = np.arange(w0 + j * n, w0 + (j + 1) * n)
        H[rows, v0 + j] += cross_w[j]
        H[v0 + j, rows] += cross_w[j]
        if net.biases:
            bj = net.bias_slice(1).start + j
            s = ra[:, j].sum()
            H[bj, v0 + j] += s
            H[v0 + j, bj] += s
    return 2.0 * objective.c * H


def n_pqc(objective) -> int:
    """Number of variables of eq. (4): h·n p's, and h q's and c with biases."""
    objective = _check(objective)
    n, h = objective.net.widths[0], objective.net.widths[1]
    return h * n + (h + 1 if objective.net.biases else 0)


def to_pqc(objective, theta) -> np.ndarray:
    """z = (p_1, ..., p_h, q_1, ..., q_h, c) with p_j = v_j w_j, q_j = v_j b_j (002, eq. (4))."""
    objective = _check(objective)
    P = paper_parameters(objective.net, theta)
    z = [(P.v[:, None] * P.W).ravel()]
    if P.b is not None:
        z += [P.v * P.b, [P.c]]
    return np.concatenate(z)


def from_pqc(objective, z) -> np.ndarray:
    """One θ with :func:`to_pqc` (θ) = z: v_j = 1, w_j = p_j, b_j = q_j (002, remark before Lemma 2.4)."""
    objective = _check(objective)
    net = objective.net
    n, h = net.widths[0], net.widths[1]
    z = as_float_array(z, "z", ndim=1)
    if z.shape != (n_pqc(objective),):
        raise ValueError(f"z must have {n_pqc(objective)} entries (p, q, c of eq. (4)), got {z.shape}")
    W = z[:h * n].reshape(h, n)
    if net.biases:
        return from_paper(net, W, np.ones(h), z[h * n:h * n + h], z[-1])
    return from_paper(net, W, np.ones(h))


def to_fractions(values) -> np.ndarray:
    """An object array of the exact :class:`~fractions.Fraction` values of floats, integers or Fractions.

    A float is read exactly (``Fraction(0.1)`` is 3602879701896397/2**55), so
    exact computations on stored data agree with the data, not with a decimal
    the reader had in mind.
    """
    arr = np.asarray(values, dtype=object)
    flat = [e if isinstance(e, Fraction) else Fraction(int(e)) if isinstance(e, (Integral, np.integer))
            else Fraction(float(e)) for e in arr.ravel()]
    return np.array(flat, dtype=object).reshape(arr.shape)


def design_matrix(objective, A, *, exact: bool = False) -> np.ndarray:
    """D with g_A(x_i, θ) = (D z)_i, z = :func:`to_pqc` (θ) (002, eq. (4)); shape (N, n_pqc).

    Row i is [a_i1 x_i, ..., a_ih x_i, a_i1, ..., a_ih, 1] (the last h + 1
    entries only with biases). L_{g_A} = ½|D z − y|², so DᵀD is the matrix of
    the normal equations (6)-(7). ``exact=True``: the same matrix with
    :class:`~fractions.Fraction` entries (:func:`to_fractions` of the data).
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    if exact:
        X, A, one = to_fractions(objective.X), to_fractions(A.astype(int)), Fraction(1)
    else:
        X, A, one = objective.X, A.astype(float), 1.0
    N, n = X.shape
    h = A.shape[1]
    cols = [(A[:, :, None] * X[:, None, :]).reshape(N, h * n)]
    if objective.net.biases:
        cols += [A, np.full((N, 1), one, dtype=X.dtype)]
    return np.concatenate(cols, axis=1)
