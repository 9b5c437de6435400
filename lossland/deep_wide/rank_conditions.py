"""The rank conditions of paper 003, with the margins by which they hold.

Theorem 3.4 needs rank [X, 1_N] = N and full column rank of the upper weight
matrices W_l; Lemma 3.5 needs rank [F_k, 1_N] = N at a hidden layer k, full
column rank of W_l for l = k+2..L, and a vanishing gradient with respect to
(W_{k+1}, b_{k+1}). A numerical rank is only as good as the gap between the
singular values kept and the threshold, so every verdict here comes with
its singular values, the threshold and the margin.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_int, check_real
from ..objective import Objective, paper_matrices

__all__ = ["RankMargin", "numerical_rank", "feature_matrix", "Lemma35Report", "lemma35_report"]


@dataclass(frozen=True)
class RankMargin:
    """Numerical rank of a matrix with its evidence.

    ``singular_values`` descending; ``tol`` the threshold (values above it
    count); ``margin`` = s_r / tol for the smallest kept value s_r (> 1 means
    the rank holds, the larger the safer; inf when the matrix is zero and
    rank 0); ``gap`` = s_r / s_{r+1} (inf when nothing is dropped).
    """

    rank: int
    shape: tuple
    singular_values: np.ndarray
    tol: float
    margin: float
    gap: float

    @property
    def full_row_rank(self) -> bool:
        return self.rank == self.shape[0]

    @property
    def full_column_rank(self) -> bool:
        return self.rank == self.shape[1]

    def __str__(self):
        s = self.singular_values
        smin = s[self.rank - 1] if self.rank else 0.0
        return (f"rank {self.rank} of {self.shape[0]}x{self.shape[1]}: "
                f"s_r = {smin:.3g}, tol = {self.tol:.1e}, "
                f"margin = {self.margin:.2e}")


def numerical_rank(M, rtol: float | None = None) -> RankMargin:
    """Rank of ``M`` from its singular values, with the margin of the verdict.

    The threshold is ``rtol * s_max`` with ``rtol`` defaulting to
    ``max(shape) * eps`` (numpy's ``matrix_rank`` rule).
    """
    M = as_float_array(M, "M", ndim=2)
    if M.size == 0:
        raise ValueError(f"M must be a non-empty matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError("M must have finite entries")
    if rtol is None:
        rtol = max(M.shape) * np.finfo(float).eps
    rtol = check_real(rtol, "rtol", positive=True)
    s = np.linalg.svd(M, compute_uv=False)
    tol = float(rtol * s[0]) if s[0] > 0 else 0.0
    r = int(np.sum(s > tol))
    if r == 0:
        margin = np.inf
    else:
        margin = float(s[r - 1] / tol) if tol > 0 else np.inf
    gap = float(s[r - 1] / s[r]) if 0 < r < s.size and s[r] > 0 else np.inf
    return RankMargin(r, M.shape, s, tol, margin, gap)


def _check_objective(objective):
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a lossland.objective.Objective, got {type(objective).__name__}")
    return objective


def feature_matrix(objective: Objective, theta, k: int) -> np.ndarray:
    """[F_k, 1_N] of 003 (Lemma 3.5), shape (N, n_k + 1); F_0 = X."""
    _check_objective(objective)
    net = objective.net
    k = check_int(k, "k", 0, net.depth - 1)
    F = objective.forward(theta).act[k]
    return np.hstack([F, np.ones((F.shape[0], 1))])


@dataclass(frozen=True)
class Lemma35Report:
    """The three conditions of 003's Lemma 3.5 at a point, with their margins.

    ``feature``: rank of [F_k, 1] (needs N); ``upper``: layer l -> rank of
    003's W_l (n_{l-1} x n_l; needs n_l) for l = k+2..L;
    ``grad_norm_layer``: norm of the gradient with respect to W_{k+1}, b_{k+1};
    ``delta_norms``: layer -> Frobenius norm of Delta_l; ``holds``: all three
    conditions, the last with ``gtol``.
    """

    k: int
    feature: RankMargin
    upper: dict
    grad_norm_layer: float
    delta_norms: dict
    gtol: float

    @property
    def holds(self) -> bool:
        return (self.feature.full_row_rank
                and all(r.full_column_rank for r in self.upper.values())
                and self.grad_norm_layer <= self.gtol)


def lemma35_report(objective: Objective, theta, k: int, gtol: float = 1e-8) -> Lemma35Report:
    """Check the hypotheses of 003's Lemma 3.5 at layer ``k`` (1..L-1)."""
    _check_objective(objective)
    net = objective.net
    k = check_int(k, "k", 1, net.depth - 1)
    gtol = check_real(gtol, "gtol", positive=True)
    theta = net.check_params(theta)
    pm = paper_matrices(objective, theta)
    g = objective.gradient(theta)
    idx = [net.weight_slice(k + 1)] + ([net.bias_slice(k + 1)] if net.biases else [])
    layer_grad = float(np.linalg.norm(np.concatenate([g[s] for s in idx])))
    upper = {l: numerical_rank(pm.W[l]) for l in range(k + 2, net.depth + 1)}
    deltas = {l: float(np.linalg.norm(pm.Delta[l])) for l in range(1, net.depth + 1)}
    return Lemma35Report(k, numerical_rank(pm.E(k)), upper, layer_grad, deltas, gtol)
