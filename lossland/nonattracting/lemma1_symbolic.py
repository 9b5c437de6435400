"""Lemma 1 of 000 / Lemma 12 of 001, checked symbolically with a generic activation (chapter P5).

At gamma_lambda^r(w) (a neuron r of hidden layer l split in two, the copy
n(l, -1) appended last) the Hessian of the larger network's loss, in the
basis (u_{-1}+u_r, v_{-1}+v_r, w_bar, alpha u_{-1} - beta u_r, v_{-1} - v_r)
of :func:`lossland.embedding.lemma1_basis` with lambda = beta / (alpha + beta), is

    [ S H_small S                                  (alpha - beta) 2c D^T (v_sum row)  0              ]
    [ (alpha - beta) 2c D (u_diff column)          alpha beta 2c B                   (alpha + beta) 2c D ]
    [ 0                                            (alpha + beta) 2c D^T              0              ]

with S = diag(1, 2, 1) on (u, v, w_bar), B^r of eq. (1) and D^{r,s} of
eq. (2) of 000 (001 puts the loss derivative, twice as large, into B and D
and prints no factor 2c). Everything here is sympy, for one symbolic sample
x = (x_1, ...) with target y and loss c (f - y)^2, the activation the
undefined function sigma of :data:`lossland.symbolic.generic_sigma`, so an
identity verified holds for every twice differentiable activation.

The parameters carry the papers' names: u_{r,i}, v_{s,r} for neuron r,
w^{(m)}_{p,q} for the rest (w_bar), u_{-1,i}, v_{s,-1} for the copy; i = 0
is the bias input. :func:`lemma1_case` builds both networks;
:func:`hessian_in_basis` is P^T H P computed directly, :func:`lemma1_matrix`
the lemma's matrix from B and D (:func:`B_and_D`), :func:`compare_blocks`
compares them block by block.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..embedding import lemma1_basis, lemma1_blocks, small_to_big_indices
from ..network import Network
from ..symbolic import generic_derivative, generic_sigma, symbolic_network

__all__ = [
    "lam", "alpha", "beta", "c", "y", "on_gamma_line",
    "paper_names", "Lemma1Case", "lemma1_case", "basis_matrix", "hessian_in_basis",
    "head_derivatives", "B_and_D", "lemma1_matrix", "compare_blocks", "format_block_table",
]

lam, alpha, beta, c, _t = sp.symbols("lambda alpha beta c t", real=True)
"""lambda of gamma_lambda^r, the basis coefficients alpha and beta, the factor c of the loss."""
y = sp.Symbol("y", real=True)
"""The target of the symbolic sample."""
on_gamma_line = {alpha: _t * (1 - lam), beta: _t * lam}
"""(alpha, beta) = (t (1 - lambda), t lambda): every pair with lambda = beta / (alpha + beta)."""

BLOCKS = ("u_sum", "v_sum", "w_bar", "u_diff", "v_diff")


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _check_case_args(widths, layer, r):
    net = Network(widths, "tanh")           # validates the widths; sigma stays generic
    layer = net.check_layer(layer, hidden=True)
    r = net.check_neuron(layer, r)
    return net, layer, r


def paper_names(net: Network, layer: int, r: int):
    """Symbols of the smaller network's parameters in the flat order: u_{r,i}, v_{s,r}, w^{(m)}_{p,q}.

    Returns ``(names, ii)`` with ``ii`` the input labels i of layer ``layer``
    ("1", ..., then "0" for the bias input), as in 000 Section V.
    """
    layer = net.check_layer(layer, hidden=True)
    r = net.check_neuron(layer, r)
    names = [None] * net.n_params
    for m in range(1, net.depth + 1):
        for p in range(net.widths[m]):
            for q in range(net.widths[m - 1]):
                names[net.weight_index(m, p, q)] = _sym(f"w^{{({m})}}_{{{p + 1},{q + 1}}}")
            if net.biases:
                names[net.bias_index(m, p)] = _sym(f"w^{{({m})}}_{{{p + 1},0}}")
    ii = [str(i + 1) for i in range(net.widths[layer - 1])] + (["0"] if net.biases else [])
    for i, k in zip(ii, net.incoming_indices(layer, r)):
        names[k] = _sym(f"u_{{r,{i}}}")
    for s, k in enumerate(net.outgoing_indices(layer, r), 1):
        names[k] = _sym(f"v_{{{s},r}}")
    return names, ii


@dataclass
class Lemma1Case:
    """Both networks of Lemma 1 for one symbolic sample, in the papers' names.

    ``net``/``big`` the smaller and the larger network (bookkeeping only);
    ``small``/``large`` their parameter symbols in the flat order; ``gamma``
    the substitution gamma_lambda^r (u_{-1,i} -> u_{r,i}, v_{s,-1} ->
    lambda v_{s,r}, v_{s,r} -> (1 - lambda) v_{s,r}); ``blocks`` the column
    slices of the basis; ``u``, ``v``, ``wbar`` the smaller network's u_r,
    v_r, w_bar; ``f``, ``f_big`` the outputs; ``pre``, ``pre_big``, ``act``
    the pre-activations n(m; x) (index m = 1..L) and activations act(m; x).
    """

    net: Network
    big: Network
    layer: int
    r: int
    small: list
    large: list
    gamma: dict
    blocks: dict
    u: list
    v: list
    wbar: list
    f: sp.Expr
    f_big: sp.Expr
    pre: list
    pre_big: list
    act: list


def lemma1_case(widths, layer: int, r: int) -> Lemma1Case:
    """Build :class:`Lemma1Case` for the smaller network ``widths`` (with biases) and neuron r of ``layer``."""
    net, layer, r = _check_case_args(widths, layer, r)
    widths = net.widths
    big = net.with_widths([n + (m == layer) for m, n in enumerate(widths)])
    small, ii = paper_names(net, layer, r)
    large = [None] * big.n_params
    for k, q in enumerate(small_to_big_indices(net, layer)):
        large[q] = small[k]
    new, gamma = widths[layer], {}          # code index of n(l, -1): appended last
    for i, q, k in zip(ii, big.incoming_indices(layer, new), big.incoming_indices(layer, r)):
        large[q] = _sym(f"u_{{-1,{i}}}")
        gamma[large[q]] = large[k]                          # u_{-1,i} -> u_{r,i}
    for s, (q, k) in enumerate(zip(big.outgoing_indices(layer, new), big.outgoing_indices(layer, r)), 1):
        large[q] = _sym(f"v_{{{s},-1}}")
        gamma[large[q]] = lam * large[k]                    # v_{s,-1} -> lam v
        gamma[large[k]] = (1 - lam) * large[k]              # v_{s,r} -> (1-lam) v
    S, Sb = symbolic_network(widths), symbolic_network(big.widths)
    xs = {x: _sym(f"x_{k + 1}") for k, x in enumerate(S.inputs[0])}
    ren = {**dict(zip(S.params, small)), **xs}
    renb = {**dict(zip(Sb.params, large)), **xs}
    basis = lemma1_basis(net, layer, r, 1.0, 1.0)           # index bookkeeping only

    def rename(layers, mapping):
        return [None] + [[e.xreplace(mapping) for e in z] for z in layers[1:]]

    return Lemma1Case(
        net=net, big=big, layer=layer, r=r, small=small, large=large, gamma=gamma, blocks=basis.blocks,
        u=[small[k] for k in basis.u_small], v=[small[k] for k in basis.v_small],
        wbar=[small[k] for k in basis.w_bar_small],
        f=S.outputs[0].xreplace(ren), f_big=Sb.outputs[0].xreplace(renb),
        pre=rename(S.pre[0], ren), pre_big=rename(Sb.pre[0], renb),
        act=[[e.xreplace(ren) for e in a] for a in S.act[0]])


def _check_case(case):
    if not isinstance(case, Lemma1Case):
        raise TypeError(f"case must be a Lemma1Case (from lemma1_case), got {type(case).__name__}")
    return case


def basis_matrix(case: Lemma1Case) -> sp.Matrix:
    """P(alpha, beta) of :func:`lossland.embedding.lemma1_basis` with alpha and beta symbolic.

    P is affine in (alpha, beta), so three numeric bases (1, 0), (0, 1),
    (1, 1) determine it exactly; a fourth, (2, -1/2), is checked.
    """
    case = _check_case(case)

    def P_at(a, b):
        return lemma1_basis(case.net, case.layer, case.r, a, b).matrix

    P10, P01, P11 = (sp.Matrix(P_at(a, b).astype(int)) for a, b in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0)))
    P = P10 + P01 - P11 + alpha * (P11 - P01) + beta * (P11 - P10)
    P_check = np.array(P.subs({alpha: 2, beta: -0.5}), dtype=float)
    if not np.array_equal(P_check, P_at(2.0, -0.5)):
        raise AssertionError("lemma1_basis is not affine in (alpha, beta)")
    return P


def hessian_in_basis(case: Lemma1Case, at_gamma: bool = True) -> sp.Matrix:
    """P^T H P of the larger network's loss c (f - y)^2, at gamma_lambda^r(w) (``at_gamma``) or at a generic point."""
    case = _check_case(case)
    H = sp.hessian(c * (case.f_big - y) ** 2, case.large)
    if at_gamma:
        H = H.xreplace(case.gamma)
    P = basis_matrix(case)
    return P.T * H * P


def head_derivatives(case: Lemma1Case, loss: bool = False) -> list:
    """[d h_{.,l+1} / d n(l+1, k)]_k of 000, eq. (1)-(2); with ``loss``, 001's [d l_alpha / d n(l+1, k)]_k.

    h is the part of the network above layer l+1 (the identity if l+1 is
    the output layer); l_alpha = (f - y)^2.
    """
    case = _check_case(case)
    l, w = case.layer, case.net.widths
    z = sp.symbols(f"z1:{w[l + 1] + 1}", real=True)
    if l + 1 == len(w) - 1:
        h = z[0]                                # layer l+1 is the output: h is the identity
    else:                                       # layers l+2, ..., L applied to sigma(z)
        head = symbolic_network(w[l + 1:], param_prefix="h", input_prefix="a")
        h = head.outputs[0].xreplace({a: generic_sigma(zk) for a, zk in zip(head.inputs[0], z)})
        h = h.xreplace(dict(zip(head.params, case.small[-len(head.params):])))
    g = (h - y) ** 2 if loss else h
    return [sp.diff(g, zk).subs(dict(zip(z, case.pre[l + 1]))) for zk in z]


def B_and_D(case: Lemma1Case, g) -> tuple[sp.Matrix, sp.Matrix]:
    """B^r (eq. (1) of 000) and D^{r,s} (eq. (2)) for the one sample.

    ``g[k]`` is the factor of v_{k,r}: (f - y) d h_{.,l+1} / d n(l+1, k) in
    000, d l_alpha / d n(l+1, k) in 001 (see :func:`head_derivatives`).
    """
    case = _check_case(case)
    g = list(g)
    if len(g) != len(case.v):
        raise ValueError(f"g must have {len(case.v)} entries (one per v_(s,r)), got {len(g)}")
    l = case.layer
    n_lr = case.pre[l][case.r]
    a = list(case.act[l - 1]) + [1]             # act(l-1, i), then the bias input
    gv = sum(gk * vk for gk, vk in zip(g, case.v))
    d1, d2 = generic_derivative(n_lr, 1), generic_derivative(n_lr, 2)
    B = sp.Matrix(len(a), len(a), lambda i, j: gv * d2 * a[i] * a[j])
    D = sp.Matrix(len(a), len(g), lambda i, s: g[s] * d1 * a[i])
    return B, D


def lemma1_matrix(case: Lemma1Case, B, D, k) -> sp.Matrix:
    """The lemma's matrix (000 Lemma 1 / 001 Lemma 12), with ``k`` in place of 2c in the B and D blocks.

    The top left block is S H_small S with S = diag(1, 2, 1) on (u_r, v_r,
    w_bar) and H_small the Hessian of the smaller network's loss c (f - y)^2.
    """
    case = _check_case(case)
    top = case.u + case.v + case.wbar
    S = sp.diag(*[1] * len(case.u), *[2] * len(case.v), *[1] * len(case.wbar))
    F = sp.zeros(len(top) + len(case.u) + len(case.v))
    F[:len(top), :len(top)] = S * sp.hessian(c * (case.f - y) ** 2, top) * S
    return lemma1_blocks(F, case.blocks, B, D, k, alpha, beta)


def compare_blocks(case: Lemma1Case, M, F) -> dict:
    """Per pair of blocks: is expand(M - F) == 0 on lambda = beta / (alpha + beta)? (exact, sympy)."""
    case = _check_case(case)
    if M.shape != F.shape:
        raise ValueError(f"M and F must have the same shape, got {M.shape} and {F.shape}")
    diff = (M - F).xreplace(on_gamma_line)
    return {(a, b): all(sp.expand(e) == 0 for e in diff[sa, sb])
            for a, sa in case.blocks.items() for b, sb in case.blocks.items()}


def format_block_table(table: dict, names=BLOCKS) -> str:
    """The result of :func:`compare_blocks` as a table, one row per block."""
    lines = [" ".join(["difference = 0".ljust(15), *(f"{b:>6s}" for b in names)])]
    for a in names:
        lines.append(" ".join([f"{a:>15s}", *(f"{str(table[a, b]):>6s}" for b in names)]))
    return "\n".join(lines)
