"""Lemma 2.1 of 003 (backpropagation in Nguyen and Hein's matrix notation), symbolically.

003, Section 2: the network has L layers, ``f_0(x) = x``,
``g_k(x) = W_k^T f_{k-1}(x) + b_k``, ``f_k = sigma(g_k)`` on **every** layer
(the output too), with 003's ``W_k`` of shape ``n_{k-1} x n_k`` (lossland's
``W[k]`` is its transpose). Stacking the samples as rows gives
``G_k = F_{k-1} W_k + 1_N b_k^T`` and ``F_k = sigma(G_k)`` (``N x n_k``),
and the objective is eq. (1), ``Phi = sum_i sum_j l(f_Lj(x_i) - y_ij)``.
Lemma 2.1 states, with ``Delta_k = dPhi/dG_k``:

1. ``Delta_L = l'(F_L - Y) o sigma'(G_L)`` and
   ``Delta_k = (Delta_{k+1} W_{k+1}^T) o sigma'(G_k)`` for k < L;
2. ``grad_{W_k} Phi = F_{k-1}^T Delta_k`` (``F_0 = X``);
3. ``grad_{b_k} Phi = Delta_k^T 1_N``.

:func:`lemma21_symbolic` builds all of these in sympy for a small network
with symbolic data, a generic (undefined) sigma and a generic loss l, and
:func:`lemma21_differences` returns "formula minus direct derivative" for
every entry, which a chapter asserts to simplify to zero. The direct
derivative in item 1 is the definition itself: Phi is rebuilt as a function
of free symbols standing for the entries of ``G_k`` and differentiated.
:func:`lemma21_numeric` evaluates the same formulas in floating point from
003's matrices of a :class:`lossland.objective.Objective`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import sympy as sp

from .._validation import check_int
from ..activations import Activation, get_activation
from ..network import Network
from ..objective import Objective, paper_matrices
from ..symbolic import generic_derivative, generic_sigma

__all__ = ["generic_loss", "generic_loss_derivative", "Lemma21Symbolic", "lemma21_symbolic",
           "lemma21_differences", "lemma21_numeric", "Lemma21Numeric"]

generic_loss = sp.Function("l")
"""An undefined loss function l (sympy): identities proved with it hold for every C^1 loss."""

_XI = sp.Symbol("xi", real=True)


def generic_loss_derivative(a) -> sp.Expr:
    """l'(a) of the generic loss :data:`generic_loss`, as an unevaluated derivative."""
    return sp.Derivative(generic_loss(_XI), _XI).subs(_XI, sp.sympify(a))


def _sigma_pair(sigma):
    """(sigma, sigma') as maps of sympy expressions, from None, a name, an Activation or a callable."""
    if sigma is None:
        return generic_sigma, lambda z: generic_derivative(z, 1)
    if isinstance(sigma, (str, Activation)):
        act = get_activation(sigma)
        e0, e1 = act.expr, sp.diff(act.expr, act.symbol)
        return (lambda z: e0.subs(act.symbol, z)), (lambda z: e1.subs(act.symbol, z))
    if callable(sigma):
        return sigma, lambda z: sp.diff(sigma(_XI), _XI).subs(_XI, z)
    raise TypeError(f"sigma must be None, an activation name, an Activation or a callable, "
                    f"got {sigma!r}")


def _loss_pair(loss):
    """(l, l') as maps of sympy expressions, from None, a callable or an object with ``.expr``."""
    if loss is None:
        return generic_loss, generic_loss_derivative
    if callable(getattr(loss, "expr", None)):            # a lossland.losses.Loss
        e0 = sp.sympify(loss.expr(_XI))
        e1 = sp.diff(e0, _XI)
        return (lambda a: e0.subs(_XI, a)), (lambda a: e1.subs(_XI, a))
    if callable(loss):
        return loss, lambda a: sp.diff(loss(_XI), _XI).subs(_XI, a)
    raise TypeError(f"loss must be None, a callable or a Loss with .expr, got {loss!r}")


@dataclass
class Lemma21Symbolic:
    """The objects of 003, Section 2 and Lemma 2.1, as sympy matrices.

    Keys of the dicts are 003's layer numbers k = 1..L (``F[0]`` is ``X``).

    Attributes
    ----------
    widths : tuple
        ``(d, n_1, ..., n_L)`` with ``n_L = m``.
    X, Y : sympy.Matrix
        Symbolic data, ``N x d`` and ``N x m`` (symbols ``x{i}_{r}``, ``y{i}_{j}``).
    W, b : dict
        003's ``W_k`` (``n_{k-1} x n_k``, symbols ``w{k}_{r}{s}``) and ``b_k``
        (``n_k x 1``, symbols ``b{k}_{s}``); indices from 1, as in the paper.
    G, F : dict
        ``G_k = F_{k-1} W_k + 1_N b_k^T`` and ``F_k = sigma(G_k)``, ``N x n_k``.
    Phi : sympy.Expr
        Eq. (1): ``sum_ij l((F_L)_ij - Y_ij)``.
    Delta : dict
        The recursion of Lemma 2.1, item 1 (built top-down, never by differentiating).
    grad_W, grad_b : dict
        Items 2 and 3: ``F_{k-1}^T Delta_k`` and ``Delta_k^T 1_N``.
    params : list
        The parameter symbols in lossland's flat order (for l = 1..L: lossland's
        ``W[l]`` = ``W_l^T`` row by row, then ``b_l``), so that a numeric
        ``theta`` of :class:`lossland.Network` substitutes entry by entry.
    """

    widths: tuple
    n_samples: int
    X: sp.Matrix
    Y: sp.Matrix
    W: dict
    b: dict
    G: dict
    F: dict
    Phi: sp.Expr
    Delta: dict
    grad_W: dict
    grad_b: dict
    params: list
    sigma: object = field(repr=False)
    loss: object = field(repr=False)

    @property
    def depth(self) -> int:
        """L, the number of layers after the input."""
        return len(self.widths) - 1

    def phi_of_G(self, k: int):
        """``(Z, Phi_k(Z))``: Phi as a function of free symbols ``Z`` standing for ``G_k``.

        ``Z`` is an ``N x n_k`` matrix of fresh symbols; ``Phi_k`` runs the
        network from layer k upwards (``F_k = sigma(Z)``), so that
        ``dPhi_k/dZ_ij`` at ``Z = G_k`` is 003's ``delta_kj(x_i)``.
        """
        k = _check_layer(k, self.depth)
        sig, _ = _sigma_pair(self.sigma)
        lo, _ = _loss_pair(self.loss)
        N, n_k = self.n_samples, self.widths[k]
        Z = sp.Matrix(N, n_k, lambda i, j: sp.Symbol(f"z{k}_{i + 1}{j + 1}", real=True))
        F = Z.applyfunc(sig)
        ones = sp.ones(N, 1)
        for l in range(k + 1, self.depth + 1):
            F = (F * self.W[l] + ones * self.b[l].T).applyfunc(sig)
        phi = sum(lo(F[i, j] - self.Y[i, j]) for i in range(N) for j in range(self.widths[-1]))
        return Z, phi

    def direct_delta(self, k: int) -> sp.Matrix:
        """``dPhi/dG_k`` by sympy's differentiation of :meth:`phi_of_G` (the definition of ``Delta_k``)."""
        Z, phi = self.phi_of_G(k)
        back = {Z[i, j]: self.G[k][i, j] for i in range(Z.rows) for j in range(Z.cols)}
        return Z.applyfunc(lambda z: sp.diff(phi, z)).subs(back, simultaneous=True)

    def readable(self, expr):
        """``expr`` with 003's abbreviations, for printing.

        Every entry of a ``G_k`` becomes the symbol ``g{k}_{i}{j}`` (003's
        ``g_kj(x_i)``), and the unevaluated derivatives of sigma and l become
        ``sigma'(.)`` and ``l'(.)``. Works on expressions and matrices.
        """
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(self.readable)
        short = {self.G[k][i, j]: sp.Symbol(f"g{k}_{i + 1}{j + 1}", real=True)
                 for k in range(1, self.depth + 1) for i in range(self.n_samples)
                 for j in range(self.widths[k])}
        expr = sp.sympify(expr).xreplace(short)        # top-down: G_L before the G_k inside it

        def is_prime(e):
            return (isinstance(e, sp.Subs) and isinstance(e.expr, sp.Derivative)
                    and len(e.variables) == 1 and len(e.expr.variables) == 1
                    and e.expr.expr.func in (generic_sigma, generic_loss))

        def prime(e):
            f = e.expr.expr.func
            return sp.Function(f"{f.__name__}'")(e.point[0])
        return expr.replace(is_prime, prime)

    def direct_grad_W(self, k: int) -> sp.Matrix:
        """``dPhi/d(W_k)_rs`` by sympy's differentiation of :attr:`Phi`."""
        k = _check_layer(k, self.depth)
        return self.W[k].applyfunc(lambda w: sp.diff(self.Phi, w))

    def direct_grad_b(self, k: int) -> sp.Matrix:
        """``dPhi/d(b_k)_s`` by sympy's differentiation of :attr:`Phi`."""
        k = _check_layer(k, self.depth)
        return self.b[k].applyfunc(lambda w: sp.diff(self.Phi, w))


def _check_layer(k, L):
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise TypeError(f"k must be an integer layer number, got {k!r}")
    if not 1 <= k <= L:
        raise ValueError(f"k must be in [1, {L}], got {k}")
    return int(k)


def lemma21_symbolic(widths=(2, 2, 2, 2), n_samples: int = 2, sigma=None,
                     loss=None) -> Lemma21Symbolic:
    """Build 003's matrices, Phi (eq. 1) and the formulas of Lemma 2.1 for a small network.

    Parameters
    ----------
    widths : sequence of int
        ``(d, n_1, ..., n_L)``; ``n_L = m`` outputs (several allowed, as in 003).
    n_samples : int
        N >= 1 symbolic samples.
    sigma : None, str, Activation or callable
        ``None``: the generic undefined sigma(t) of :mod:`lossland.symbolic`; an
        activation name or :class:`lossland.activations.Activation` for its sympy
        expression; or a callable on sympy expressions. Applied on every layer,
        the output included (003, Section 2).
    loss : None, callable or Loss
        ``None``: the generic undefined l(a) (:data:`generic_loss`); a callable on
        sympy expressions; or an object with ``.expr(symbol)`` (a
        :class:`lossland.losses.Loss`).
    """
    widths = Network(widths, "identity").widths        # validated as for a numeric network
    n_samples = check_int(n_samples, "n_samples", 1)
    sig, dsig = _sigma_pair(sigma)
    lo, dlo = _loss_pair(loss)
    N, L, m = int(n_samples), len(widths) - 1, widths[-1]
    sep = "" if max(widths) < 10 and N < 10 else "_"
    X = sp.Matrix(N, widths[0], lambda i, r: sp.Symbol(f"x{i + 1}_{r + 1}", real=True))
    Y = sp.Matrix(N, m, lambda i, j: sp.Symbol(f"y{i + 1}_{j + 1}", real=True))
    W, b, G, F, params = {}, {}, {}, {0: X}, []
    ones = sp.ones(N, 1)
    for k in range(1, L + 1):
        W[k] = sp.Matrix(widths[k - 1], widths[k],
                         lambda r, s, k=k: sp.Symbol(f"w{k}_{r + 1}{sep}{s + 1}", real=True))
        b[k] = sp.Matrix(widths[k], 1, lambda s, _, k=k: sp.Symbol(f"b{k}_{s + 1}", real=True))
        params += [W[k][r, s] for s in range(widths[k]) for r in range(widths[k - 1])]
        params += list(b[k])
        G[k] = F[k - 1] * W[k] + ones * b[k].T
        F[k] = G[k].applyfunc(sig)
    Phi = sum(lo(F[L][i, j] - Y[i, j]) for i in range(N) for j in range(m))
    Delta = {L: (F[L] - Y).applyfunc(dlo).multiply_elementwise(G[L].applyfunc(dsig))}
    for k in range(L - 1, 0, -1):
        Delta[k] = (Delta[k + 1] * W[k + 1].T).multiply_elementwise(G[k].applyfunc(dsig))
    grad_W = {k: F[k - 1].T * Delta[k] for k in range(1, L + 1)}
    grad_b = {k: Delta[k].T * ones for k in range(1, L + 1)}
    return Lemma21Symbolic(widths, N, X, Y, W, b, G, F, Phi, Delta, grad_W, grad_b, params,
                           sigma, loss)


def lemma21_differences(lemma: Lemma21Symbolic) -> dict:
    """Formula of Lemma 2.1 (003) minus sympy's direct derivative, for every item and layer.

    Returns a dict with keys ``(item, k)``: ``(1, k)`` is
    ``Delta_k - dPhi/dG_k`` (``N x n_k``), ``(2, k)`` is
    ``F_{k-1}^T Delta_k - dPhi/dW_k`` (``n_{k-1} x n_k``) and ``(3, k)`` is
    ``Delta_k^T 1_N - dPhi/db_k`` (``n_k x 1``), each a sympy Matrix with
    unevaluated derivatives of sigma and l evaluated (``.doit()``). Lemma 2.1
    holds for this network iff every entry simplifies to zero.
    """
    if not isinstance(lemma, Lemma21Symbolic):
        raise TypeError(f"lemma must be a Lemma21Symbolic (from lemma21_symbolic), "
                        f"got {type(lemma).__name__}")
    out = {}
    for k in range(1, lemma.depth + 1):
        out[(1, k)] = (lemma.Delta[k] - lemma.direct_delta(k)).doit()
        out[(2, k)] = (lemma.grad_W[k] - lemma.direct_grad_W(k)).doit()
        out[(3, k)] = (lemma.grad_b[k] - lemma.direct_grad_b(k)).doit()
    return out


# ------------------------------------------------------------------ numeric
@dataclass
class Lemma21Numeric:
    """Lemma 2.1 of 003 evaluated in floating point from 003's matrices.

    ``Delta[k]`` (``N x n_k``, k = 1..L, ``Delta[0]`` is None) by the recursion
    of item 1; ``grad_W[k]`` = ``F_{k-1}^T Delta_k`` (003's shape
    ``n_{k-1} x n_k``) and ``grad_b[k]`` = ``Delta_k^T 1_N`` (items 2, 3);
    ``gradient`` the same numbers in lossland's flat order (``W[k]`` is
    ``W_k^T``).
    """

    Delta: list
    grad_W: dict
    grad_b: dict
    gradient: np.ndarray


def lemma21_numeric(objective, theta) -> Lemma21Numeric:
    """The formulas of Lemma 2.1 (003), items 1-3, with the matrices of ``paper_matrices``.

    Independent of ``objective.deltas``/``objective.gradient``: only the
    forward quantities ``F_k``, ``G_k``, ``W_k`` of
    :func:`lossland.objective.paper_matrices` and the derivatives
    ``sigma'`` (of the hidden and of the output activation) and ``l'`` are
    used. A linear output layer (``output_activation=None``) has
    ``sigma' = 1`` there; a class-dependent loss (003, Section 5) takes
    ``l_1'`` on ``C`` and ``l_2'`` elsewhere.
    """
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a lossland.objective.Objective, "
                        f"got {type(objective).__name__}")
    net = objective.net
    theta = net.check_params(theta)
    pm = paper_matrices(objective, theta)
    L = net.depth
    resid = pm.F[L] - objective.Y
    dl = _loss_d1(objective, resid)
    Delta = [None] * (L + 1)
    Delta[L] = dl * _act_d1(net, L, pm.G[L])
    for k in range(L - 1, 0, -1):
        Delta[k] = (Delta[k + 1] @ pm.W[k + 1].T) * _act_d1(net, k, pm.G[k])
    grad_W = {k: pm.F[k - 1].T @ Delta[k] for k in range(1, L + 1)}
    ones = np.ones(pm.G[1].shape[0])
    grad_b = {k: Delta[k].T @ ones for k in range(1, L + 1)}
    g = np.zeros(net.n_params)
    for k in range(1, L + 1):
        g[net.weight_slice(k)] = grad_W[k].T.ravel()
        if net.biases:
            g[net.bias_slice(k)] = grad_b[k]
    return Lemma21Numeric(Delta, grad_W, grad_b, g)


def _act_d1(net, k, G):
    act = net.activation if k < net.depth else net.output_activation
    return np.ones_like(G) if act is None else act.d1(G)


def _loss_d1(objective, a):
    if objective.classes is not None:                    # 003, eq. (4)
        return objective.loss.values(a, objective.classes)[1]
    return objective.loss.d1(a)
