"""The neuron embedding gamma_lambda^r and the Hessian at its image.

Paper 000 Section V (001 Section 5): to add a neuron n(l, -1; x) to hidden
layer l, copy the incoming weights [u_{r,i}]_i of neuron r and split its
outgoing weights [v_{s,r}]_s into lambda * v (for the new neuron) and
(1 - lambda) * v (kept by neuron r):

    gamma_lambda^r(u_r, v_r, w_bar) = (u_r, lambda v_r, u_r, (1 - lambda) v_r, w_bar).

In code the new neuron n(l, -1) is appended as the **last** neuron of layer
l (index ``n_l`` counted from 0); ``r`` counts from 0. The network function
and every existing neuron's values are unchanged for every lambda.

Lemma 1 of 000 (Lemma 12 of 001) gives the Hessian at the image in the basis

    (u_{-1}+u_r, v_{-1}+v_r, w_bar, alpha u_{-1} - beta u_r, v_{-1} - v_r),
    lambda = beta / (alpha + beta),

as a block matrix built from the smaller network's Hessian and the matrices
B (eq. (1)) and D (eq. (2)). "Hessian in a basis" means P^T H P where the
columns of P are those direction vectors (so the v_{-1}+v_r block carries
the factor 4, as in the Lemma).

Normalisation. Eq. (1)-(2) of 000 carry the residual f - y, and 000's loss
is sum (f - y)^2; with that loss the B-block of the Hessian is
2 alpha beta B and the D-blocks are 2(alpha -/+ beta) D. The Lemma holds
verbatim for L = 1/2 sum (f - y)^2. Paper 001 writes B and D with
d l_alpha / d n(l+1, k) = 2 (f - y) ..., i.e. 2x the 000 matrices, which
makes Lemma 12 exact for 001's loss sum (f - y)^2. This module returns
the 000 matrices (eq. (1), (2) verbatim); :func:`lemma1_hessian` applies
the factor 2c of the chosen normalisation (c = 1 or 1/2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import subspace_angles

from ._validation import as_float_array, check_int, check_network, check_objective, check_real
from .derivatives import SquaredLoss
from .network import Network

__all__ = [
    "embed_neuron",
    "embed_repeatedly",
    "small_to_big_indices",
    "Lemma1Basis",
    "lemma1_basis",
    "lemma1_hessian",
    "lemma1_blocks",
    "B_matrix",
    "D_matrix",
    "Definiteness",
    "definiteness",
    "degenerate_direction",
    "descent_direction",
    "canonical_sign",
    "alpha_beta",
    "lambda_tangents",
    "redistribution_directions",
    "HessianKernel",
    "hessian_kernel",
    "EmbeddedPointCheck",
    "check_embedded_point",
]


def _check_lambda(lam, name="lam"):
    return check_real(lam, name)


def _check_neuron(net: Network, layer, r):
    return check_network(net).check_hidden_neuron(layer, r)


def alpha_beta(lam: float) -> tuple[float, float]:
    """The default (alpha, beta) = (1 - lambda, lambda), so lambda = beta / (alpha + beta)."""
    lam = _check_lambda(lam)
    return 1.0 - lam, lam


# ------------------------------------------------------------------ gamma
def embed_neuron(net: Network, theta, layer: int, r: int, lam: float):
    """Apply gamma_lambda^r to hidden ``layer``: returns ``(bigger_net, bigger_theta)``.

    Paper 000, Section V (definition of gamma); 001, Section 5.
    """
    layer, r = _check_neuron(net, layer, r)
    lam = _check_lambda(lam)
    W, b = net.unflatten(theta)
    widths = list(net.widths)
    widths[layer] += 1
    big = net.with_widths(widths)
    W2 = {m: W[m].copy() for m in W}
    b2 = {m: b[m].copy() for m in b}
    W2[layer] = np.vstack([W[layer], W[layer][r:r + 1]])
    b2[layer] = np.append(b[layer], b[layer][r])
    v = W[layer + 1][:, r].copy()
    out = np.hstack([W[layer + 1], (lam * v)[:, None]])
    out[:, r] = (1.0 - lam) * v
    W2[layer + 1] = out
    return big, big.flatten(W2, b2 if net.biases else None)


def embed_repeatedly(net: Network, theta, layer: int, r: int, lambdas):
    """Apply gamma_{lambda_t}^r for each lambda_t in turn (000, proof of Theorem 7).

    Each step adds one neuron to ``layer`` by splitting neuron ``r`` again.
    """
    if isinstance(lambdas, (str, bytes)) or not hasattr(lambdas, "__iter__"):
        raise TypeError(f"lambdas must be a sequence of real numbers, got {lambdas!r}")
    lambdas = list(lambdas)
    if not lambdas:
        raise ValueError("lambdas must contain at least one value")
    for lam in lambdas:
        net, theta = embed_neuron(net, theta, layer, r, lam)
    return net, theta


def small_to_big_indices(net: Network, layer: int) -> np.ndarray:
    """Flat index in the bigger network (after :func:`embed_neuron` on ``layer``) of each small parameter."""
    layer = net.check_layer(layer, hidden=True)
    widths = list(net.widths)
    widths[layer] += 1
    big = net.with_widths(widths)
    Ws, bs = net.unflatten(np.arange(net.n_params, dtype=float))
    Wb, bb = big.unflatten(np.arange(big.n_params, dtype=float))
    mapping = np.empty(net.n_params, dtype=int)
    for m in range(1, net.depth + 1):
        n_out, n_in = Ws[m].shape
        mapping[Ws[m].astype(int).ravel()] = Wb[m][:n_out, :n_in].astype(int).ravel()
        if net.biases:
            mapping[bs[m].astype(int)] = bb[m][:n_out].astype(int)
    return mapping


# ------------------------------------------------------------- B and D
def _checked(objective, theta, layer, r):
    """Validate once: (objective, theta, layer, r) of every function below."""
    objective = check_objective(objective)
    layer, r = objective.net.check_hidden_neuron(layer, r)
    return objective, objective.net.check_params(theta), layer, r


@dataclass
class _LayerTerms:
    """The per-sample factors of eq. (1)-(2) of 000 at neuron r of hidden layer l."""

    res: np.ndarray     # f(x) - y, (N,)
    g: np.ndarray       # d f / d n(l+1, s; x), (N, n_{l+1})
    a: np.ndarray       # act(l-1, i; x), with a column of ones for the bias, (N, n_{l-1} [+1])
    z: np.ndarray       # n(l, r; x), (N,)
    v: np.ndarray       # v*_{s,r}, (n_{l+1},)

    def B(self, act) -> np.ndarray:
        weight = self.res * (self.g @ self.v) * act.d2(self.z)
        return (self.a * weight[:, None]).T @ self.a

    def D(self, act, return_scale=False):
        gw = self.g * (self.res * act.d1(self.z))[:, None]
        D = self.a.T @ gw
        if return_scale:
            return D, np.abs(self.a).T @ np.abs(gw)
        return D


def _layer_terms(objective: SquaredLoss, theta, layer: int, r: int) -> _LayerTerms:
    """One forward and one backward pass for B and D (theta, layer, r already validated)."""
    net = objective.net
    fw = objective.forward(theta)                 # cached: shared with output_deltas and the Hessian
    g = objective.output_deltas(theta)[layer + 1]
    a = fw.act[layer - 1]
    if net.biases:
        a = np.hstack([a, np.ones((a.shape[0], 1))])
    v = theta[net.weight_slice(layer + 1)].reshape(net.widths[layer + 1], net.widths[layer])[:, r]   # v*_{s,r}
    return _LayerTerms(fw.output - objective.y, g, a, fw.pre[layer][:, r], v)


def B_matrix(objective: SquaredLoss, theta, layer: int, r: int) -> np.ndarray:
    """B^r_{i,j} of paper 000, eq. (1) (001, eq. (1) is twice this), at neuron r of hidden layer ``layer``.

    B_ij = sum_alpha (f - y) * sum_k dh/dn(l+1, k) v*_{k,r} * sigma''(n(l, r)) * act(l-1, i) act(l-1, j).
    Indices i, j run over the neurons of layer l-1, then the bias input 1 when
    the network has biases. The matrix does not depend on the normalisation
    of ``objective`` (eq. (1) carries the residual, not the loss).
    """
    objective, theta, layer, r = _checked(objective, theta, layer, r)
    return _layer_terms(objective, theta, layer, r).B(objective.net.activation)


def D_matrix(objective: SquaredLoss, theta, layer: int, r: int, return_scale: bool = False):
    """D^{r,s}_i of paper 000, eq. (2), as an array indexed ``[i, s]`` (001: twice this).

    D_i^{r,s} = sum_alpha (f - y) * dh/dn(l+1, s) * sigma'(n(l, r)) * act(l-1, i).

    With ``return_scale`` also returns the same sum with every summand
    replaced by its absolute value: the size round-off and an inexact
    critical point have to be compared with when asking "is D zero?".
    """
    objective, theta, layer, r = _checked(objective, theta, layer, r)
    return _layer_terms(objective, theta, layer, r).D(objective.net.activation, return_scale)


# ----------------------------------------------------------- definiteness
@dataclass
class Definiteness:
    """Verdict on a symmetric matrix from its eigenvalues.

    An eigenvalue counts as zero when ``|mu| <= tol`` with
    ``tol = max(atol, rtol * ||M||_2)``. ``margin`` is the smallest
    ``|mu| / tol``: a definite verdict with margin 1e6 is robust, one with
    margin 3 is not.
    """

    eigenvalues: np.ndarray
    tol: float
    verdict: str
    margin: float

    @property
    def positive_definite(self) -> bool:
        return self.verdict == "positive definite"

    @property
    def negative_definite(self) -> bool:
        return self.verdict == "negative definite"

    @property
    def definite(self) -> bool:
        """Positive or negative definite (the case of Theorem 6 / 9 of 000 / 001 where B decides)."""
        return self.positive_definite or self.negative_definite

    @property
    def positive_semidefinite(self) -> bool:
        return self.verdict in ("positive definite", "positive semidefinite", "zero")

    @property
    def negative_semidefinite(self) -> bool:
        return self.verdict in ("negative definite", "negative semidefinite", "zero")

    def __str__(self):
        ev = ", ".join(f"{e:.4g}" for e in self.eigenvalues)
        return f"{self.verdict} (eigenvalues [{ev}], tol {self.tol:.1e}, margin {self.margin:.3g})"


def definiteness(M, atol: float = 0.0, rtol: float | None = None) -> Definiteness:
    """Classify a symmetric matrix as positive/negative (semi)definite or indefinite.

    The default ``rtol = 100 * n * eps`` covers the backward error of the
    symmetric eigensolver (O(n eps ||M||)). It does **not** cover errors in
    M itself, such as those from an inexact critical point: pass ``atol``
    for those (the notebooks print the margin either way).
    """
    M = as_float_array(M, "M")
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"M must be a non-empty square matrix, got shape {M.shape}")
    asym = np.abs(M - M.T).max()
    scale = np.abs(M).max()
    if asym > 1e-8 * max(scale, 1e-300):
        raise ValueError(f"M must be symmetric (max |M - M^T| = {asym:.2e})")
    n = M.shape[0]
    if rtol is None:
        rtol = 100 * n * np.finfo(float).eps
    atol, rtol = check_real(atol, "atol", low=0.0), check_real(rtol, "rtol", low=0.0)
    ev = np.linalg.eigvalsh(0.5 * (M + M.T))
    tol = max(float(atol), float(rtol) * float(np.abs(ev).max()), np.finfo(float).tiny)
    pos, neg = ev > tol, ev < -tol
    zero = ~(pos | neg)
    if pos.all():
        verdict = "positive definite"
    elif neg.all():
        verdict = "negative definite"
    elif zero.all():
        verdict = "zero"
    elif not neg.any():
        verdict = "positive semidefinite"
    elif not pos.any():
        verdict = "negative semidefinite"
    else:
        verdict = "indefinite"
    margin = float(np.abs(ev).min() / tol)
    return Definiteness(ev, tol, verdict, margin)


# ---------------------------------------------------------- Lemma 1 basis
@dataclass
class Lemma1Basis:
    """The change of basis of Lemma 1 (000) / Lemma 12 (001).

    ``matrix`` P has the new basis vectors as columns, ordered in the blocks
    ``blocks["u_sum"], blocks["v_sum"], blocks["w_bar"], blocks["u_diff"],
    blocks["v_diff"]`` (slices of the columns). The Hessian in this basis is
    ``P.T @ H @ P``. ``w_bar_small`` lists the small network's flat indices
    of w_bar, in the order of the w_bar block; ``u_small``/``v_small`` those
    of u_r and v_r.
    """

    matrix: np.ndarray
    blocks: dict
    w_bar_small: np.ndarray
    u_small: np.ndarray
    v_small: np.ndarray
    alpha: float
    beta: float


def lemma1_basis(net: Network, layer: int, r: int, alpha: float, beta: float) -> Lemma1Basis:
    """Basis (u_{-1}+u_r, v_{-1}+v_r, w_bar, alpha u_{-1} - beta u_r, v_{-1} - v_r) of Lemma 1.

    ``net`` is the **smaller** network; the basis lives in the parameter
    space of the network with one more neuron in ``layer``.
    """
    layer, r = _check_neuron(net, layer, r)
    alpha, beta = _check_lambda(alpha, "alpha"), _check_lambda(beta, "beta")
    if alpha + beta == 0:
        raise ValueError("alpha + beta must be non-zero (lambda = beta / (alpha + beta))")
    widths = list(net.widths)
    widths[layer] += 1
    big = net.with_widths(widths)
    new = net.widths[layer]                                    # code index of n(l, -1)
    u_small = net.incoming_indices(layer, r)
    v_small = net.outgoing_indices(layer, r)
    special = set(u_small) | set(v_small)
    w_bar_small = np.array([p for p in range(net.n_params) if p not in special], dtype=int)
    to_big = small_to_big_indices(net, layer)
    u_r, v_r = big.incoming_indices(layer, r), big.outgoing_indices(layer, r)
    u_m, v_m = big.incoming_indices(layer, new), big.outgoing_indices(layer, new)
    nu, nv, nw = len(u_r), len(v_r), len(w_bar_small)
    P = np.zeros((big.n_params, big.n_params))
    col = 0
    for i in range(nu):                                        # u_{-1,i} + u_{r,i}
        P[u_m[i], col] = P[u_r[i], col] = 1.0
        col += 1
    for s in range(nv):                                        # v_{s,-1} + v_{s,r}
        P[v_m[s], col] = P[v_r[s], col] = 1.0
        col += 1
    for p in w_bar_small:                                      # w_bar
        P[to_big[p], col] = 1.0
        col += 1
    for i in range(nu):                                        # alpha u_{-1,i} - beta u_{r,i}
        P[u_m[i], col], P[u_r[i], col] = alpha, -beta
        col += 1
    for s in range(nv):                                        # v_{s,-1} - v_{s,r}
        P[v_m[s], col], P[v_r[s], col] = 1.0, -1.0
        col += 1
    assert col == big.n_params
    o = 0
    blocks = {}
    for name, n in (("u_sum", nu), ("v_sum", nv), ("w_bar", nw), ("u_diff", nu), ("v_diff", nv)):
        blocks[name] = slice(o, o + n)
        o += n
    return Lemma1Basis(P, blocks, w_bar_small, u_small, v_small, alpha, beta)


def lemma1_hessian(objective: SquaredLoss, theta, layer: int, r: int, lam: float,
                   alpha: float | None = None, beta: float | None = None) -> tuple[np.ndarray, Lemma1Basis]:
    """The Hessian at gamma_lambda^r(theta) in the Lemma 1 basis, **from the formula**.

    Built from the smaller network's exact Hessian and B, D (000, Lemma 1 /
    001, Lemma 12), with the factor 2c of the objective's normalisation (see
    the module docstring). ``objective`` is the **smaller** network's loss.
    Compare with ``P.T @ H_big @ P`` computed directly.
    Returns ``(matrix, basis)``.
    """
    objective, theta, layer, r = _checked(objective, theta, layer, r)
    net = objective.net
    lam = _check_lambda(lam)
    if alpha is None and beta is None:
        alpha, beta = alpha_beta(lam)
    elif alpha is None or beta is None:
        raise ValueError("give both alpha and beta, or neither")
    alpha, beta = _check_lambda(alpha, "alpha"), _check_lambda(beta, "beta")
    if alpha + beta == 0 or not np.isclose(beta / (alpha + beta), lam, rtol=1e-12, atol=1e-12):
        raise ValueError(f"alpha={alpha}, beta={beta} do not satisfy lambda = beta/(alpha+beta) = {lam}")
    basis = lemma1_basis(net, layer, r, alpha, beta)
    H = objective.hessian(theta)
    H += H.T
    H *= 0.5
    terms = _layer_terms(objective, theta, layer, r)
    B, D = terms.B(net.activation), terms.D(net.activation)      # D is [i, s]
    two_c = 2.0 * objective.c
    idx = np.concatenate([basis.u_small, basis.v_small, basis.w_bar_small])
    n_top = len(idx)
    nu, nv = len(basis.u_small), len(basis.v_small)
    M = np.zeros((net.n_params + nu + nv,) * 2)
    top = M[:n_top, :n_top]
    top[...] = H[np.ix_(idx, idx)]
    top[nu:nu + nv] *= 2.0                         # S H S with S = 2 on the v_r entries
    top[:, nu:nu + nv] *= 2.0
    return lemma1_blocks(M, basis.blocks, B, D, two_c, alpha, beta), basis


def lemma1_blocks(M, blocks: dict, B, D, k, alpha, beta):
    """Write the B and D blocks of 000 Lemma 1 (001 Lemma 12) into ``M`` and return it.

    (v_sum, u_diff) = k (alpha - beta) D^T, (u_diff, u_diff) = k alpha beta B,
    (u_diff, v_diff) = k (alpha + beta) D and their transposes, with k = 2c
    (c of the normalisation). ``blocks`` are the slices of :class:`Lemma1Basis`;
    ``M``, ``B``, ``D`` may be numpy arrays or sympy matrices (the same layout
    serves the numerical and the symbolic check of chapter P5).
    """
    M[blocks["v_sum"], blocks["u_diff"]] = k * (alpha - beta) * D.T
    M[blocks["u_diff"], blocks["v_sum"]] = k * (alpha - beta) * D
    M[blocks["u_diff"], blocks["u_diff"]] = k * alpha * beta * B
    M[blocks["u_diff"], blocks["v_diff"]] = k * (alpha + beta) * D
    M[blocks["v_diff"], blocks["u_diff"]] = k * (alpha + beta) * D.T
    return M


# -------------------------------------------------------------- directions
def degenerate_direction(net: Network, theta, layer: int, r: int) -> np.ndarray:
    """d/d lambda of gamma_lambda^r(theta), in the bigger network's parameters.

    Moving along it changes lambda only (v_{-1} += v*, v_r -= v*): the loss
    is constant along this line (000, proof of Theorem 6 and Fig. 3(b)).
    """
    layer, r = _check_neuron(net, layer, r)
    theta = net.check_params(theta)
    widths = list(net.widths)
    widths[layer] += 1
    big = net.with_widths(widths)
    v = theta[net.weight_slice(layer + 1)].reshape(net.widths[layer + 1], net.widths[layer])[:, r]   # v*_{s,r}
    d = np.zeros(big.n_params)
    d[big.outgoing_indices(layer, net.widths[layer])] = v
    d[big.outgoing_indices(layer, r)] = -v
    return d


def descent_direction(objective: SquaredLoss, theta, layer: int, r: int, lam: float, atol: float = 0.0):
    """A direction of negative curvature at gamma_lambda^r(theta) predicted by Lemma 1.

    If D != 0, this is the vector of the proof of Lemma 8(b) (000) / A.1(b)
    (001): with g = 2c alpha beta B and h = 2c (alpha + beta) D, take z with
    hz != 0 (the top right singular vector of h) and coordinates
    (u_diff, v_diff) = (hz, -t z) with t so large that
    (hz)^T g (hz) - 2 t ||hz||^2 < 0. If D = 0 (within ``atol`` plus
    round-off) it is the eigenvector of alpha beta B with the most negative
    eigenvalue. D counts as zero when ``max|D| <= max(atol, 1e-8 * scale)``, the
    scale being eq. (2) with absolute values. Returns ``(direction, curvature)`` with ``direction`` of unit
    norm in the bigger network's parameter space and ``curvature`` the
    second derivative of the loss along it predicted by Lemma 1.
    Raises ``ValueError`` when Lemma 1 predicts no negative curvature
    (a local minimum: D = 0 and alpha beta B positive semidefinite).
    """
    objective, theta, layer, r = _checked(objective, theta, layer, r)
    net = objective.net
    lam = _check_lambda(lam)
    alpha, beta = alpha_beta(lam)
    atol = _check_lambda(atol, "atol")
    if atol < 0:
        raise ValueError(f"atol must be non-negative, got {atol!r}")
    basis = lemma1_basis(net, layer, r, alpha, beta)
    terms = _layer_terms(objective, theta, layer, r)
    B = terms.B(net.activation)
    D, scale = terms.D(net.activation, return_scale=True)
    two_c = 2.0 * objective.c
    g = two_c * alpha * beta * B
    h = two_c * (alpha + beta) * D
    P = basis.matrix
    Pu, Pv = P[:, basis.blocks["u_diff"]], P[:, basis.blocks["v_diff"]]
    # D counts as zero below 1e-8 of its scale (the sum of the absolute values of
    # its summands): a critical point polished to ||grad|| <= 1e-10 leaves D at
    # about 1e-11 of its scale in the last hidden layer (Proposition 1(i)), and
    # below ~1e-7 of its scale the negative eigenvalue it causes (-||h||^2/||g||,
    # chapter P6) is lost in round-off anyway.
    d_tol = max(atol, 1e-8 * float(scale.max(initial=0.0)))
    if np.abs(D).max() > d_tol:
        _, svals, vt = np.linalg.svd(h)
        z = vt[0]
        hz = h @ z
        t = max(0.0, float(hz @ g @ hz) / (2.0 * float(hz @ hz))) + 1.0
        cu, cv = hz, -t * z
        curvature = float(hz @ g @ hz - 2.0 * t * (hz @ hz))
    else:
        ev, vec = np.linalg.eigh(g)
        if ev[0] >= 0:
            raise ValueError(f"lam={lam}: Lemma 1 predicts no negative curvature here "
                             f"(D = 0 within {d_tol:.1e} and alpha*beta*B is positive semidefinite, "
                             f"smallest eigenvalue {ev[0]:.3e})")
        cu, cv = vec[:, 0], np.zeros(Pv.shape[1])
        curvature = float(ev[0])
    d = Pu @ cu + Pv @ cv
    # curvature of the loss along d / ||d|| (the quadratic form scales with ||d||^2)
    nrm = float(np.linalg.norm(d))
    return canonical_sign(d / nrm), curvature / nrm**2


def canonical_sign(v, rtol: float = 1e-6) -> np.ndarray:
    """``v`` or ``-v``, whichever has its first entry of (nearly) largest magnitude positive.

    Eigenvectors and singular vectors are defined up to sign, and LAPACK's
    choice depends on the BLAS kernels of the machine; a direction of negative
    curvature at a saddle and its opposite are equally valid but lead to
    different places. "First entry within ``rtol`` of max|v|" (not the exact
    argmax) keeps the choice stable when two entries tie up to round-off.
    """
    v = np.asarray(v, dtype=float)
    a = np.abs(v)
    if v.ndim != 1 or not a.size or not np.all(np.isfinite(v)):
        raise ValueError(f"v must be a finite non-empty vector, got shape {v.shape}")
    i = int(np.argmax(a >= (1.0 - rtol) * a.max()))
    return -v if v[i] < 0 else v.copy()


# ------------------------------------------- the Hessian's kernel at the image
def lambda_tangents(net: Network, theta, layer: int, r: int, lambdas) -> np.ndarray:
    """d/d lambda_k of gamma_{lambda_t}^r o ... o gamma_{lambda_1}^r (theta), k = 1..t: shape (t, P_big).

    gamma_lambda^r is linear in the parameters, so the derivative of the
    later embeddings is the embedding itself: tangent k is
    :func:`lossland.embedding.degenerate_direction` at step k pushed
    through steps k+1..t by :func:`lossland.embedding.embed_repeatedly`.
    The loss is constant along each (the network function does not depend
    on lambda; 000 proof of Theorem 6, 001 proof of Theorem 13). The t
    tangents span the same space as :func:`redistribution_directions`
    when n_{l+1} = 1.
    """
    lambdas = list(lambdas)
    if not lambdas:
        raise ValueError("lambdas must contain at least one value")
    nets, thetas = [net], [net.check_params(theta)]
    for lam in lambdas:
        n2, t2 = embed_neuron(nets[-1], thetas[-1], layer, r, lam)
        nets.append(n2)
        thetas.append(t2)
    out = []
    for k in range(len(lambdas)):
        d = degenerate_direction(nets[k], thetas[k], layer, r)
        rest = lambdas[k + 1:]
        if rest:
            _, d = embed_repeatedly(nets[k + 1], d, layer, r, rest)
        out.append(d)
    return np.array(out)


def redistribution_directions(net: Network, layer: int, r: int, copies) -> np.ndarray:
    """Unit vectors e_{v_{s,k}} - e_{v_{s,r}} / sqrt(2) for each copy k of neuron r and each s.

    Moving weight between the outgoing weights of neurons with identical
    incoming weights leaves the network function unchanged (001, proof of
    Theorem 13: "weight can be redistributed from v_{.,1} to v_{.,-t'}").
    Shape ``(len(copies) * n_{l+1}, P)``. ``copies`` are code indices of
    neurons in ``layer`` (the caller guarantees they copy neuron ``r``).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossland.Network, got {type(net).__name__}")
    layer = net.check_layer(layer, hidden=True)
    r = check_int(r, "r", 0)
    copies = [check_int(k, "copies", 0) for k in copies]
    n = net.widths[layer]
    if r >= n or any(k >= n for k in copies):
        raise ValueError(f"r and copies must be neurons 0..{n - 1} of layer {layer}, got r={r}, copies={copies}")
    if r in copies or len(set(copies)) != len(copies):
        raise ValueError(f"copies must be distinct and different from r={r}, got {copies}")
    vr = net.outgoing_indices(layer, r)
    rows = []
    for k in copies:
        vk = net.outgoing_indices(layer, k)
        for s in range(len(vr)):
            d = np.zeros(net.n_params)
            d[vk[s]], d[vr[s]] = 1.0, -1.0
            rows.append(d / np.sqrt(2.0))
    return np.array(rows).reshape(len(rows), net.n_params)


@dataclass
class HessianKernel:
    """The numerical null space of the exact Hessian.

    ``basis`` (P, dim) has orthonormal columns: the eigenvectors with
    ``|mu| <= tol``. ``eigenvalues`` is the whole ascending spectrum.
    ``gap`` is the smallest ``|mu|`` outside the kernel divided by ``tol``
    (how clearly the kernel is separated; inf if the kernel is everything).
    """

    basis: np.ndarray
    eigenvalues: np.ndarray
    tol: float
    gap: float

    @property
    def dim(self) -> int:
        return self.basis.shape[1]


def hessian_kernel(objective: SquaredLoss, theta, atol: float = 0.0, rtol: float = 1e-9) -> HessianKernel:
    """Eigenvectors of the exact Hessian with ``|mu| <= max(atol, rtol * ||H||_2)``.

    At an embedded critical point the redistribution directions are in the
    kernel only up to ~||grad L|| (H d = (grad terms) for d a
    redistribution), hence a relative default ``rtol = 1e-9`` well above
    round-off but far below the smallest non-zero eigenvalue of the book's
    examples; the ``gap`` reports the separation.
    """
    check_objective(objective)
    atol = check_real(atol, "atol", low=0.0)
    rtol = check_real(rtol, "rtol", low=0.0)
    H = objective.hessian(theta)
    ev, vec = np.linalg.eigh(0.5 * (H + H.T))
    tol = max(float(atol), float(rtol) * float(np.abs(ev).max()), np.finfo(float).tiny)
    inside = np.abs(ev) <= tol
    outside = np.abs(ev[~inside])
    gap = float(outside.min() / tol) if outside.size else float("inf")
    return HessianKernel(vec[:, inside], ev, tol, gap)


@dataclass
class EmbeddedPointCheck:
    """What :func:`check_embedded_point` measured at a (putative) critical point.

    ``grad_norm`` is ||grad L||; ``kernel`` the numerical null space of the
    Hessian; ``n_negative`` the number of eigenvalues below ``-kernel.tol``;
    ``angle`` the largest principal angle (radians) between the kernel and
    the span of the predicted directions (``inf`` if the dimensions differ).
    """

    grad_norm: float
    kernel: HessianKernel
    n_negative: int
    angle: float
    predicted_dim: int

    @property
    def eigenvalues(self) -> np.ndarray:
        return self.kernel.eigenvalues

    @property
    def positive_semidefinite(self) -> bool:
        return self.n_negative == 0


def check_embedded_point(objective: SquaredLoss, theta, predicted, atol: float = 0.0,
                         rtol: float = 1e-9) -> EmbeddedPointCheck:
    """Gradient norm, Hessian kernel and its angle to the predicted degenerate directions.

    ``predicted`` has the predicted directions as rows (e.g.
    :func:`redistribution_directions` or :func:`lambda_tangents`; an empty
    ``(0, P)`` array predicts a positive definite Hessian). The kernel is
    taken with :func:`hessian_kernel` (``atol``, ``rtol``); the angle uses
    :func:`scipy.linalg.subspace_angles`. Theorem 6 of 000 (9 of 001) and
    the proof of Theorem 13 of 001 predict kernel = span(predicted) at the
    local minima they construct.
    """
    theta = check_objective(objective).net.check_params(theta)
    P = as_float_array(predicted, "predicted")
    if P.ndim != 2 or P.shape[1] != objective.net.n_params:
        raise ValueError(f"predicted must have shape (k, {objective.net.n_params}), got {P.shape}")
    rank = int(np.linalg.matrix_rank(P)) if P.shape[0] else 0
    if rank != P.shape[0]:
        raise ValueError(f"predicted directions must be linearly independent (rank {rank} < {P.shape[0]})")
    g = float(np.linalg.norm(objective.gradient(theta)))
    ker = hessian_kernel(objective, theta, atol=atol, rtol=rtol)
    n_neg = int(np.sum(ker.eigenvalues < -ker.tol))
    if ker.dim != rank:
        angle = float("inf")
    elif rank == 0:
        angle = 0.0
    else:
        angle = float(subspace_angles(ker.basis, P.T).max())
    return EmbeddedPointCheck(g, ker, n_neg, angle, rank)
