"""Theorem 3.8 and Corollary 3.9 of 003: one layer with at least N - 1 neurons.

003 (Nguyen and Hein 2017), Theorem 3.8: if ``n_k >= N - 1`` for a hidden
layer k, every critical point that is non-degenerate on the parameters
``{(W_l, b_l) : l in I}`` of a set I of upper layers with ``k+1 in I``
(Definitions 3.6, 3.7) and at which ``W_{k+2}, ..., W_L`` have full column
rank is a global minimum. Corollary 3.9: so is every non-degenerate local
minimum with full column rank ``W_{k+2}, ..., W_L``.

Layer k+1 sees the layers below only through (003, Section 2, in 003's
orientation; lossland's ``W[k+1]`` is ``W_{k+1}^T``)::

    G_{k+1} = [F_k, 1_N] V,      V = [W_{k+1}; b_{k+1}^T]  ((n_k + 1) x n_{k+1}).

For z in the null space of ``E_k = [F_k, 1_N]`` and any c in R^{n_{k+1}},
``V + t z c^T`` gives the same ``G_{k+1}``, hence the same loss, whatever
the parameters of the layers above. So the direction ``z (x) c``
(:func:`flat_direction`) lies in the kernel of the block Hessian on every
I that contains k+1, at every parameter point, and the block of
``(W_{k+1}, b_{k+1})`` has nullity at least ``(n_k + 1 - rank E_k) n_{k+1}``
(:func:`wide_layer_kernel`, :func:`check_block_kernel`). Non-degeneracy on
such an I therefore needs ``n_k + 1 <= N``, i.e. ``n_k = N - 1`` under the
theorem's width condition, and ``rank E_k = N``: condition 1 of Lemma 3.5 at
the point itself. :func:`theorem38_scope` adds the count at a global
minimum, where the Hessian has rank at most ``N m``. :func:`fit_zero_loss`
trains a wide network to zero residuals with exact derivatives (chapter N6).
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy.linalg import subspace_angles

from .._validation import as_float_array, check_int, check_network, check_real
from ..objective import Objective
from ..optimize import find_critical_point
from .nondegenerate import block_hessian, layer_indices
from .rank_conditions import RankMargin, feature_matrix, numerical_rank

__all__ = ["flat_direction", "WideLayerKernel", "wide_layer_kernel", "BlockKernelCheck",
           "check_block_kernel", "Theorem38Scope", "theorem38_scope", "fit_zero_loss"]


# ------------------------------------------------------------------ checks
def _check_objective(objective):
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a lossland.objective.Objective, "
                        f"got {type(objective).__name__}")
    if not objective.net.biases:
        raise ValueError(f"objective: 003's networks have biases b_k, and [F_k, 1_N] needs "
                         f"them; got {objective.net}")
    return objective


def _check_k(net, k):
    """A layer k in 0..L-1 (003: k in [L-1]; k = 0 is the input layer, F_0 = X)."""
    return check_int(k, "k", 0, net.depth - 1)


def _check_layers(net, k, layers):
    """The set I of 003's Theorem 3.8: distinct layers in k+1..L containing k+1, sorted."""
    if layers is None:
        return (k + 1,)
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of layer indices, got {layers!r}")
    out = []
    for l in layers:
        if isinstance(l, (bool, np.bool_)) or not isinstance(l, (Integral, np.integer)):
            raise TypeError(f"layers must contain integers, got {l!r}")
        if not k + 1 <= l <= net.depth:
            raise ValueError(f"layers must lie in {k + 1}..{net.depth} (the layers above "
                             f"k = {k}), got {l}")
        out.append(int(l))
    if len(set(out)) != len(out):
        raise ValueError(f"layers must be distinct, got {tuple(layers)}")
    if k + 1 not in out:
        raise ValueError(f"layers must contain k+1 = {k + 1} (003, Theorem 3.8: "
                         f"k+1 in I), got {tuple(out)}")
    return tuple(sorted(out))


# ------------------------------------------------------------- directions
def flat_direction(net, k, z, c) -> np.ndarray:
    """The flat parameter vector of the move ``V -> V + z c^T`` of ``(W_{k+1}, b_{k+1})``.

    ``V = [W_{k+1}; b_{k+1}^T]`` in 003's orientation (Section 2): ``z`` has
    length ``n_k + 1`` (its last entry moves the bias), ``c`` length
    ``n_{k+1}``. In lossland's orientation ``W[k+1]`` (``n_{k+1} x n_k``)
    moves by ``c z[:n_k]^T`` and ``b[k+1]`` by ``z[n_k] c``; every other
    entry is 0. If ``[F_k, 1_N] z = 0`` the move leaves ``G_{k+1}`` unchanged.
    """
    net = check_network(net)
    if not net.biases:
        raise ValueError(f"net: 003's networks have biases b_k; got {net}")
    k = _check_k(net, k)
    n_k, n_up = net.widths[k], net.widths[k + 1]
    z = as_float_array(z, "z", ndim=1)
    c = as_float_array(c, "c", ndim=1)
    if z.shape[0] != n_k + 1:
        raise ValueError(f"z must have length n_k + 1 = {n_k + 1}, got {z.shape[0]}")
    if c.shape[0] != n_up:
        raise ValueError(f"c must have length n_(k+1) = {n_up}, got {c.shape[0]}")
    d = np.zeros(net.n_params)
    d[net.weight_slice(k + 1)] = np.outer(c, z[:n_k]).ravel()
    d[net.bias_slice(k + 1)] = z[n_k] * c
    return d


@dataclass(frozen=True)
class WideLayerKernel:
    """The directions ``z (x) c`` of ``(W_{k+1}, b_{k+1})`` that do not change G_{k+1}.

    ``feature`` is the numerical rank of ``[F_k, 1_N]`` (003, Lemma 3.5,
    condition 1); ``z`` (``n_k + 1, q``) an orthonormal basis of its numerical
    null space, ``q = n_k + 1 - rank``; ``directions`` (``q n_{k+1}, P``) the
    flat vectors :func:`flat_direction` of ``z_a e_j^T`` for every basis vector
    ``z_a`` and unit vector ``e_j`` of R^{n_{k+1}} (orthonormal rows). The
    basis comes from an SVD: only its span is machine-independent.
    """

    k: int
    feature: RankMargin
    z: np.ndarray
    directions: np.ndarray

    @property
    def nullity(self) -> int:
        """``(n_k + 1 - rank [F_k, 1_N]) n_{k+1}``: the predicted nullity of the (k+1) block."""
        return int(self.directions.shape[0])


def wide_layer_kernel(objective, theta, k, rtol=None) -> WideLayerKernel:
    """The null space of ``[F_k, 1_N]`` and the flat directions ``z (x) c`` it gives.

    ``rtol`` is the relative threshold of
    :func:`lossland.deep_wide.rank_conditions.numerical_rank` (default
    ``max(N, n_k + 1) eps``). Along each direction the loss is constant
    (003, eq. (1): Phi depends on ``(W_{k+1}, b_{k+1})`` only through
    ``G_{k+1}``), so it is in the kernel of the Hessian on every set of
    layers I with ``k+1 in I`` (Definition 3.6).
    """
    objective = _check_objective(objective)
    net = objective.net
    theta = net.check_params(theta)
    k = _check_k(net, k)
    E = feature_matrix(objective, theta, k)
    rank = numerical_rank(E, rtol)
    _, _, Vt = np.linalg.svd(E)
    Z = Vt[rank.rank:].T
    eye = np.eye(net.widths[k + 1])
    rows = [flat_direction(net, k, Z[:, a], eye[j])
            for a in range(Z.shape[1]) for j in range(eye.shape[0])]
    D = np.array(rows).reshape(len(rows), net.n_params)
    return WideLayerKernel(k, rank, Z, D)


# ------------------------------------------------------------ block Hessian
@dataclass(frozen=True)
class BlockKernelCheck:
    """The kernel of the block Hessian on I against the predicted ``z (x) c`` directions.

    ``eigenvalues`` ascending, of the block on ``layers``; an eigenvalue
    counts as zero when ``|mu| <= tol = max(atol, rtol ||H_I||_2)``;
    ``nullity`` counts them and ``predicted`` is
    ``(n_k + 1 - rank [F_k, 1_N]) n_{k+1}``; ``residual`` is
    ``max ||H_I d|| / ||H_I||_2`` over the predicted orthonormal directions d
    (0 if none); ``angle`` the largest principal angle (radians) between
    the predicted span and the numerical kernel (0 if nothing is
    predicted, inf if the kernel is smaller than predicted): ~0 means the
    predicted directions lie in the kernel. ``gap`` is the smallest
    ``|mu|`` outside the kernel divided by ``tol`` (inf if none).
    """

    k: int
    layers: tuple
    eigenvalues: np.ndarray
    tol: float
    nullity: int
    predicted: int
    residual: float
    angle: float
    gap: float
    feature: RankMargin

    @property
    def nondegenerate(self) -> bool:
        """003, Definition 3.7: the block is non-singular (no eigenvalue within ``tol`` of 0)."""
        return self.nullity == 0

    @property
    def size(self) -> int:
        return int(self.eigenvalues.shape[0])


def check_block_kernel(objective, theta, k, layers=None, rtol: float = 1e-10,
                       atol: float = 0.0, feature_rtol=None) -> BlockKernelCheck:
    """Eigenvalues of the block Hessian on ``layers`` (default ``(k+1,)``) and its kernel.

    ``layers`` is the set I of 003's Theorem 3.8 (in ``k+1..L``, containing
    ``k+1``). The prediction, from :func:`wide_layer_kernel` with
    ``feature_rtol``: every ``z (x) c`` is in the kernel, so
    ``nullity >= predicted``; equality holds e.g. for the output layer
    (``k+1 = L``) when ``l'' tau'^2 + l' tau''`` is non-zero at every residual.
    The default ``rtol = 1e-10``: on the ``z (x) c`` directions the block is
    zero up to round-off (~1e-16 ||H_I||) at every point; the further zero
    eigenvalues at a global minimum are of the size of the residuals.
    """
    objective = _check_objective(objective)
    net = objective.net
    theta = net.check_params(theta)
    k = _check_k(net, k)
    layers = _check_layers(net, k, layers)
    rtol = check_real(rtol, "rtol", low=0.0)
    atol = check_real(atol, "atol", low=0.0)
    kern = wide_layer_kernel(objective, theta, k, feature_rtol)
    idx = layer_indices(net, layers)
    HI = block_hessian(objective, theta, layers)
    ev, vec = np.linalg.eigh(0.5 * (HI + HI.T))
    norm = float(np.abs(ev).max())
    tol = max(atol, rtol * norm, np.finfo(float).tiny)
    inside = np.abs(ev) <= tol
    outside = np.abs(ev[~inside])
    gap = float(outside.min() / tol) if outside.size else float("inf")
    D = kern.directions[:, idx]
    if D.shape[0] == 0:
        residual, angle = 0.0, 0.0
    else:
        residual = float(np.linalg.norm(D @ HI, axis=1).max() / max(norm, np.finfo(float).tiny))
        if inside.sum() < D.shape[0]:
            angle = float("inf")
        else:
            angle = float(subspace_angles(vec[:, inside], D.T).max())
    return BlockKernelCheck(k, layers, ev, tol, int(inside.sum()), kern.nullity, residual,
                            angle, gap, kern.feature)


# ---------------------------------------------------------------- the scope
@dataclass(frozen=True)
class Theorem38Scope:
    """Dimension counts that decide whether 003's Theorem 3.8 can apply at all.

    ``block_size`` is the number of parameters of the layers in I;
    ``kernel_dim`` = ``max(0, n_k + 1 - N) n_{k+1}`` is a lower bound for the
    nullity of that block at **every** point (the ``z (x) c`` directions,
    since ``rank [F_k, 1_N] <= N``); ``rank_bound`` = ``N m`` bounds the rank
    of the Hessian (and of every principal block) at a point where all
    residuals are stationary points of l, which is what Lemma 3.5 gives at
    a point that satisfies the theorem's hypotheses.
    """

    k: int
    layers: tuple
    n_samples: int
    n_k: int
    n_next: int
    n_outputs: int
    block_size: int
    n_params: int

    @property
    def wide(self) -> bool:
        """The width condition of Theorem 3.8: ``n_k >= N - 1``."""
        return self.n_k >= self.n_samples - 1

    @property
    def kernel_dim(self) -> int:
        return max(0, self.n_k + 1 - self.n_samples) * self.n_next

    @property
    def rank_bound(self) -> int:
        return self.n_samples * self.n_outputs

    @property
    def hypothesis_possible(self) -> bool:
        """Hypothesis 1 of Theorem 3.8 can hold on I: no forced kernel, block not above ``N m``."""
        return self.kernel_dim == 0 and self.block_size <= self.rank_bound

    @property
    def corollary_possible(self) -> bool:
        """A non-degenerate (full) Hessian at a global minimum needs ``P <= N m``."""
        return self.n_params <= self.rank_bound


def theorem38_scope(objective, k, layers=None) -> Theorem38Scope:
    """The counts of :class:`Theorem38Scope` for layer ``k`` and the set I = ``layers``.

    If the hypotheses of 003's Theorem 3.8 hold at a point, the block on I
    has no kernel, so ``kernel_dim = 0`` (``n_k <= N - 1``); then
    ``rank [F_k, 1_N] = N`` and Lemma 3.5 makes every residual a stationary
    point of l, where the Hessian is a sum of ``N m`` rank-one terms, so
    ``block_size <= N m``. ``hypothesis_possible`` is these two necessary
    conditions; ``corollary_possible`` the same count for the full Hessian
    (Corollary 3.9).
    """
    objective = _check_objective(objective)
    net = objective.net
    k = _check_k(net, k)
    layers = _check_layers(net, k, layers)
    w = net.widths
    size = sum((w[l - 1] + 1) * w[l] for l in layers)
    return Theorem38Scope(k, layers, objective.n_samples, w[k], w[k + 1], w[-1], size,
                          net.n_params)


# ----------------------------------------------------------------- training
def fit_zero_loss(objective, seeds, *, scale: float = 1.0, tol: float = 1e-10,
                  gtol: float = 1e-12, maxiter: int = 5000):
    """Train from ``net.init_params(seed, scale)`` for each seed in turn until the residuals vanish.

    Each start runs :func:`lossland.optimize.find_critical_point` (BFGS with
    the exact gradient, then Newton polishing to ``gtol``). Returns
    ``(seed, CriticalPoint)`` for the first start whose largest residual
    ``|F_L - Y|`` is at most ``tol``: a zero of every residual, hence a
    global minimum of 003's eq. (1) for a loss minimal at 0 (squared,
    Pseudo-Huber, Cauchy, ...). A start can also end where sigma'(G_l)
    underflows (saturated units): a tiny gradient at a positive loss, which
    is not a critical point; such starts are skipped. RuntimeError if no
    seed reaches ``tol``.
    """
    objective = _check_objective(objective)
    net = objective.net
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a sequence of integer seeds, got {seeds!r}")
    seeds = [check_int(s, "seeds", 0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    scale = check_real(scale, "scale", positive=True)
    tol = check_real(tol, "tol", positive=True)
    worst = []
    for seed in seeds:
        cp = find_critical_point(objective, net.init_params(seed, scale), method="BFGS",
                                 gtol=gtol, maxiter=maxiter)
        res = float(np.abs(objective.residuals(cp.theta)).max())
        if res <= tol:
            return seed, cp
        worst.append(f"{seed}: {res:.1e}")
    raise RuntimeError(f"no start reached max |F_L - Y| <= {tol:g} (seed: residual {', '.join(worst)})")
