"""Sympy models of small networks, with a concrete or a generic activation.

The same flat parameter order as :class:`lossland.Network` (for l = 1..L:
W[l] row by row, then b[l]), so symbolic and numeric results can be compared
entry by entry. With ``sigma=None`` the activation is an undefined sympy
function sigma(t): identities proved that way hold for every twice
differentiable activation (used for Lemma 1 of 000 / Lemma 12 of 001).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activations import Activation
from .network import Network

__all__ = ["SymbolicNetwork", "symbolic_network", "generic_sigma", "generic_derivative", "symbol_matrix"]

generic_sigma = sp.Function("sigma")
"""An undefined activation function sigma (sympy), for activation-free identities."""

_XI = sp.Symbol("xi", real=True)


def generic_derivative(z, order: int = 1) -> sp.Expr:
    """sigma^(order)(z) of the generic activation :data:`generic_sigma`, as an unevaluated derivative.

    ``order`` 1 gives sigma'(z) and 2 sigma''(z), the factors of D and B in
    eq. (2) and (1) of 000 (Lemma 1) / Lemma 12 of 001; ``order = 0`` is sigma(z).
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order!r}")
    z = sp.sympify(z)
    if order == 0:
        return generic_sigma(z)
    return sp.Derivative(generic_sigma(_XI), (_XI, order)).subs(_XI, z)


def symbol_matrix(name: str, m: int, n: int, symmetric: bool = False) -> sp.Matrix:
    """A generic m x n matrix of real symbols ``{name}{i}{j}``; ``symmetric`` uses one symbol for (i, j) and (j, i).

    For identities that must hold for every matrix (e.g. the block
    identities of 000 Lemma 8 / 001 Lemma A.1).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    for v, nm in ((m, "m"), (n, "n")):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{nm} must be a non-negative integer, got {v!r}")
    if symmetric and m != n:
        raise ValueError(f"a symmetric matrix must be square, got {m} x {n}")

    def entry(i, j):
        i, j = (min(i, j), max(i, j)) if symmetric else (i, j)
        return sp.Symbol(f"{name}{i}{j}", real=True)
    return sp.Matrix(m, n, entry)


@dataclass
class SymbolicNetwork:
    """A network as sympy expressions.

    ``params`` are the parameter symbols in lossland's flat order;
    ``inputs[alpha]`` the input symbols of sample alpha; ``outputs[alpha]``
    the network output f(x_alpha); ``pre[alpha][l]`` and ``act[alpha][l]`` the
    pre-activations n(l; x_alpha) and activations act(l; x_alpha) as lists.
    """

    net: Network | None
    widths: tuple
    params: list
    inputs: list
    outputs: list
    pre: list
    act: list

    def loss(self, targets, normalization: str = "sum") -> sp.Expr:
        """c * sum_alpha (f(x_alpha) - y_alpha)^2 with c = 1 ("sum") or 1/2 ("half")."""
        if len(targets) != len(self.outputs):
            raise ValueError(f"targets must have {len(self.outputs)} entries, got {len(targets)}")
        c = {"sum": sp.Integer(1), "half": sp.Rational(1, 2)}
        if normalization not in c:
            raise ValueError(f"normalization must be 'sum' or 'half', got {normalization!r}")
        return c[normalization] * sum((f - y) ** 2 for f, y in zip(self.outputs, targets))


def symbolic_network(widths, sigma=None, biases: bool = True, n_samples: int = 1,
                     param_prefix: str = "w", input_prefix: str = "x") -> SymbolicNetwork:
    """Build f(x_alpha) symbolically for ``n_samples`` symbolic inputs.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, ..., n_L)`` with ``n_L = 1``, as for :class:`lossland.Network`.
    sigma : None, str, Activation or callable
        ``None`` for the generic undefined function sigma(t); an activation
        name or :class:`Activation` for its sympy expression; or any callable
        mapping a sympy expression to a sympy expression.
    biases : bool
    n_samples : int
        Number of symbolic samples x_alpha (each with n_0 input symbols).
    """
    net = None
    if isinstance(sigma, (str, Activation)):
        net = Network(widths, sigma, biases=biases)
        net_widths = net.widths
        expr, t = net.activation.expr, net.activation.symbol

        def act_fn(z, _e=expr, _t=t):
            return _e.subs(_t, z)
    elif sigma is None or callable(sigma):
        act_fn = generic_sigma if sigma is None else sigma
        # validate the widths exactly as a numeric network would
        net_widths = Network(widths, "identity", biases=biases).widths
    else:
        raise TypeError(f"sigma must be None, an activation name, an Activation or a callable, got {sigma!r}")
    if len(net_widths) < 2 or net_widths[-1] != 1:
        raise ValueError(f"widths must be (n_0, ..., 1), got {tuple(widths)}")
    if not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    L = len(net_widths) - 1
    params, Wsym, bsym = [], {}, {}
    for l in range(1, L + 1):
        n_out, n_in = net_widths[l], net_widths[l - 1]
        Wl = [[sp.Symbol(f"{param_prefix}{l}_{i}{j}", real=True) for j in range(n_in)] for i in range(n_out)]
        Wsym[l] = Wl
        params += [s for row in Wl for s in row]
        if biases:
            bl = [sp.Symbol(f"{param_prefix}{l}_{i}b", real=True) for i in range(n_out)]
            bsym[l] = bl
            params += bl
        else:
            bsym[l] = [sp.Integer(0)] * n_out
    inputs, outputs, pres, acts = [], [], [], []
    for a in range(n_samples):
        x = [sp.Symbol(f"{input_prefix}{a}_{k}", real=True) for k in range(net_widths[0])]
        inputs.append(x)
        act, pre_l, act_l = x, [None], [x]
        for l in range(1, L + 1):
            z = [sum(Wsym[l][i][j] * act[j] for j in range(len(act))) + bsym[l][i]
                 for i in range(net_widths[l])]
            pre_l.append(z)
            act = [act_fn(zi) for zi in z] if l < L else z
            act_l.append(act)
        outputs.append(act[0])
        pres.append(pre_l)
        acts.append(act_l)
    return SymbolicNetwork(net, net_widths, params, inputs, outputs, pres, acts)
