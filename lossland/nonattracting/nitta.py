"""The gradient of an embedded network: Nitta's theorem (000 Theorem 4, 001 Theorem 7).

For L the loss of the bigger network and l that of the smaller, at
gamma_lambda^r(w) (000 Section V / 001 Section 5, the proof of Theorem 4 / 7):

    dL/du_{-1,i} = lambda dl/du_{r,i},    dL/du_{r,i} = (1 - lambda) dl/du_{r,i},
    dL/dv_{s,-1} = dL/dv_{s,r} = dl/dv_{s,r},    dL/dw_bar = dl/dw_bar,

so grad L = 0 whenever grad l = 0, for every lambda. :func:`lifted_gradient`
is this right-hand side; its norm (chapter P3, (eq-p3-norm)) is

    ||grad L||^2 = ||grad l_rest||^2 + (lambda^2 + (1 - lambda)^2) ||grad_u l||^2 + 2 ||grad_v l||^2,

between ||grad l|| / sqrt(2) and c_lambda ||grad l||, c_lambda =
max(sqrt 2, sqrt(lambda^2 + (1 - lambda)^2)). The new neuron n(l, -1) is the
last of its layer, as in :func:`lossland.embedding.embed_neuron`.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_objective, check_real
from ..derivatives import SquaredLoss
from ..embedding import embed_neuron, small_to_big_indices
from ..network import Forward, Network

__all__ = [
    "lifted_gradient",
    "lift_error",
    "c_lambda",
    "lifted_gradient_norm",
    "neuron_deviation",
    "gradient_roundoff_scale",
    "along_embedding_line",
    "embedded_outgoing",
]


def _check(net: Network, g, layer, r):
    g = net.check_params(g, "g")
    layer = net.check_layer(layer, hidden=True)
    r = net.check_neuron(layer, r)
    return g, layer, r


def _bigger(net: Network, layer: int) -> Network:
    return net.with_widths([n + (m == layer) for m, n in enumerate(net.widths)])


def lifted_gradient(net: Network, g, layer: int, r: int, lam: float) -> np.ndarray:
    """grad L at gamma_lambda^r(w) predicted from g = grad l(w) (000 proof of Theorem 4, 001 of Theorem 7).

    Returns the flat gradient of the bigger network (one more neuron in
    ``layer``): w_bar and v_{s,r} copied, u_r split into (1 - lambda) u_r
    for neuron r and lambda u_r for the new neuron, v_{s,-1} = v_{s,r}.
    """
    g, layer, r = _check(net, g, layer, r)
    lam = check_real(lam, "lam")
    big = _bigger(net, layer)
    G = np.zeros(big.n_params)
    G[small_to_big_indices(net, layer)] = g
    u, new = net.incoming_indices(layer, r), net.widths[layer]
    G[big.incoming_indices(layer, r)] = (1 - lam) * g[u]
    G[big.incoming_indices(layer, new)] = lam * g[u]
    G[big.outgoing_indices(layer, new)] = g[net.outgoing_indices(layer, r)]
    return G


def _embedded_objective(objective: SquaredLoss, theta, layer, r, lam):
    big, W = embed_neuron(objective.net, theta, layer, r, lam)
    return SquaredLoss(big, objective.X, objective.y, objective.normalization), W


def lift_error(objective: SquaredLoss, theta, layer: int, r: int, lam: float) -> float:
    """max |grad L(gamma_lambda^r(theta)) - lifted_gradient(grad l(theta))| / ||grad l(theta)||.

    Both gradients are exact (backpropagation); the bigger network's loss
    uses the same data and normalisation as ``objective``.
    """
    check_objective(objective)
    theta = objective.net.check_params(theta)
    g = objective.gradient(theta)
    big_obj, W = _embedded_objective(objective, theta, layer, r, lam)
    G = big_obj.gradient(W)
    return float(np.abs(G - lifted_gradient(objective.net, g, layer, r, lam)).max() / np.linalg.norm(g))


def c_lambda(lam: float) -> float:
    """c_lambda = max(sqrt 2, sqrt(lambda^2 + (1 - lambda)^2)): ||grad L|| <= c_lambda ||grad l|| (chapter P3)."""
    lam = check_real(lam, "lam")
    return float(max(np.sqrt(2), np.hypot(lam, 1 - lam)))


def lifted_gradient_norm(net: Network, g, layer: int, r: int, lam: float) -> float:
    """||lifted_gradient(g)|| in closed form, (eq-p3-norm) of chapter P3.

    sqrt(||g_rest||^2 + (lambda^2 + (1 - lambda)^2) ||g_u||^2 + 2 ||g_v||^2)
    with g_u, g_v the entries of neuron r's incoming and outgoing weights.
    """
    g, layer, r = _check(net, g, layer, r)
    lam = check_real(lam, "lam")
    u = net.incoming_indices(layer, r)
    v = net.outgoing_indices(layer, r)
    rest = np.setdiff1d(np.arange(net.n_params), np.r_[u, v])
    return float(np.sqrt(g[rest] @ g[rest] + (lam**2 + (1 - lam)**2) * (g[u] @ g[u]) + 2 * (g[v] @ g[v])))


def neuron_deviation(fw_small: Forward, fw_big: Forward, layer: int, r: int) -> float:
    """Largest |difference| of all n(l', k; x) and act(l', k; x) of the two forward passes.

    ``fw_big`` is the forward pass of gamma_lambda^r(w); its new neuron
    n(layer, -1; x) (the last of ``layer``) is compared with neuron r of
    ``fw_small``. Zero up to round-off: the embedding changes no neuron
    (000 Section V, "the network function is unchanged").
    """
    if not isinstance(fw_small, Forward) or not isinstance(fw_big, Forward):
        raise TypeError("fw_small and fw_big must be lossland.Forward results of Network.forward")
    if len(fw_small.pre) != len(fw_big.pre):
        raise ValueError("fw_small and fw_big must come from networks of the same depth")
    dev = 0.0
    for m in range(1, len(fw_small.pre)):
        for a, b in ((fw_small.pre[m], fw_big.pre[m]), (fw_small.act[m], fw_big.act[m])):
            if m == layer:
                a = np.hstack([a, a[:, [r]]])
            dev = max(dev, float(np.abs(a - b).max()))
    return dev


def gradient_roundoff_scale(objective: SquaredLoss, theta) -> float:
    """S = || 2c |J|^T |f - y| ||, the scale of the rounding errors in grad L = 2c J^T (f - y).

    J is the Jacobian of the outputs, c the normalisation; a computed
    gradient at a critical point is zero up to a few eps * S.
    """
    check_objective(objective)
    theta = objective.net.check_params(theta)
    J, res = objective.jacobian(theta), objective.residuals(theta)
    return float(np.linalg.norm(2 * objective.c * np.abs(J).T @ np.abs(res)))


def along_embedding_line(objective: SquaredLoss, theta, layer: int, r: int, lambdas) -> np.ndarray:
    """The loss and gradient along the line gamma_lambda^r(theta), lambda in ``lambdas`` (chapter P3).

    Returns an array of shape (len(lambdas), 4) with columns L,
    ||grad L|| (exact), :func:`lifted_gradient_norm` (the prediction from
    grad l(theta)) and tau = 64 eps (S + c_lambda S_l) (the round-off
    allowance: S, S_l are :func:`gradient_roundoff_scale` of the larger
    network at gamma_lambda(theta) and of the smaller one at theta, whose
    computed gradient enters the prediction with factor <= c_lambda).
    """
    check_objective(objective)
    theta = objective.net.check_params(theta)
    lambdas = np.asarray(lambdas, dtype=float)
    if lambdas.ndim != 1 or lambdas.size == 0 or not np.all(np.isfinite(lambdas)):
        raise ValueError(f"lambdas must be a non-empty 1-d array of finite numbers, got shape {lambdas.shape}")
    g0, s0 = objective.gradient(theta), gradient_roundoff_scale(objective, theta)
    rows = []
    for lam in lambdas:
        big_obj, W = _embedded_objective(objective, theta, layer, r, float(lam))
        value, G = big_obj.value_and_gradient(W)
        tau = 64 * np.finfo(float).eps * (gradient_roundoff_scale(big_obj, W) + c_lambda(lam) * s0)
        rows.append((value, np.linalg.norm(G), lifted_gradient_norm(objective.net, g0, layer, r, float(lam)), tau))
    return np.array(rows)


def embedded_outgoing(net: Network, theta, layer: int, r: int, lam: float):
    """Outgoing weights (v_{s,-1}, v_{s,r}) = (lambda v*_{s,r}, (1 - lambda) v*_{s,r}) after gamma_lambda^r.

    Read off the embedded parameter vector (000 Section V): they sum to
    v*_{s,r}, so the network function is unchanged.
    """
    big, W = embed_neuron(net, theta, layer, r, lam)
    new = net.widths[layer]
    return W[big.outgoing_indices(layer, new)], W[big.outgoing_indices(layer, r)]
