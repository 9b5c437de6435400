"""The positive semidefiniteness criteria of 000 Lemma 8 / 001 Lemma A.1 (chapter P6).

(a) M = [[a, 2b, c], [2b^T, 4d, 2e], [c^T, 2e^T, f]] (+) x is PSD iff
    M' = [[a, b, c], [b^T, d, e], [c^T, e^T, f]] (+) x is: M = S M' S with
    S = diag(1, 2, 1, 1) (a congruence, so the inertia is the same).
(b) x = [[g, h], [h^T, 0]] is PSD iff g is PSD and h = 0: for h z != 0 the
    vector w = ((h z)^T, -t z^T) gives w^T x w = (hz)^T g (hz) - 2 t ||hz||^2,
    negative for t > t* = (hz)^T g (hz) / (2 ||hz||^2).

In Lemma 1 (000) / Lemma 12 (001) the block x of the Hessian at
gamma_lambda^r(w) in the directions (alpha u_{-1} - beta u_r, v_{-1} - v_r)
is of form (b) with g = 2c alpha beta B and h = 2c (alpha + beta) D
(:func:`x_block`).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .._validation import as_float_array, check_int, check_objective, check_real, check_rng
from ..derivatives import SquaredLoss
from ..embedding import alpha_beta, definiteness, embed_neuron, lemma1_basis
from ..symbolic import symbol_matrix

__all__ = ["lemma8a_matrices", "inertia", "random_symmetric", "three_block", "lemma8b_matrix",
           "lemma8b_form", "lemma8b_certificate", "x_block"]


def lemma8a_matrices(sizes, scale: int):
    """M (``scale`` = 2) or M' (``scale`` = 1) of Lemma 8(a) with generic blocks of sizes (n1, n2, n3, n4), and S.

    The blocks a, d, f, x are symmetric; S = diag(I_{n1}, 2 I_{n2}, I_{n3}, I_{n4}).
    """
    sizes = [check_int(n, "sizes", 1) for n in sizes]
    if len(sizes) != 4:
        raise ValueError(f"sizes must be (n1, n2, n3, n4), got {sizes}")
    n1, n2, n3, n4 = sizes
    a, d, f, x = (symbol_matrix(s, n, n, symmetric=True) for s, n in zip("adfx", sizes))
    b, c, e = symbol_matrix("b", n1, n2), symbol_matrix("c", n1, n3), symbol_matrix("e", n2, n3)
    k = sp.Integer(check_int(scale, "scale", 1))
    top = sp.Matrix(sp.BlockMatrix([[a, k * b, c], [k * b.T, k**2 * d, k * e], [c.T, k * e.T, f]]))
    M = sp.diag(top, x)
    S = sp.diag(sp.eye(n1), 2 * sp.eye(n2), sp.eye(n3), sp.eye(n4))
    return M, S


def inertia(A, atol: float = 0.0) -> tuple[int, int, int]:
    """(#positive, #negative, #zero) eigenvalues of a symmetric A, zero meaning |mu| <= the tolerance of
    :func:`lossland.embedding.definiteness` (Sylvester: a congruence keeps it, Lemma 8(a))."""
    v = definiteness(A, atol=atol)
    mu = v.eigenvalues
    return int((mu > v.tol).sum()), int((mu < -v.tol).sum()), int((np.abs(mu) <= v.tol).sum())


def random_symmetric(n: int, rng, psd: bool) -> np.ndarray:
    """Q diag(mu) Q^T with Q random orthogonal and mu in {0} u +-[0.1, 2] (a third of them 0 on average).

    ``psd=True``: all mu >= 0; ``psd=False``: at least one mu < 0.
    """
    n = check_int(n, "n", 1)
    rng = check_rng(rng)
    mu = rng.choice([0.0, 1.0, 1.0], n) * rng.uniform(0.1, 2.0, n)
    if not psd:
        mu *= rng.choice([-1.0, 1.0], n)
        mu[rng.integers(n)] = -rng.uniform(0.1, 2.0)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return (Q * mu) @ Q.T


def three_block(a, b, c, d, e, f, kb, kd, ke) -> np.ndarray:
    """[[a, kb b, c], [kb b, kd d, ke e], [c, ke e, f]] for 1x1 blocks: M of Lemma 8(a) is (kb, kd, ke) = (2, 4, 2)."""
    vals = [check_real(v, nm) for v, nm in zip((a, b, c, d, e, f, kb, kd, ke),
                                                 ("a", "b", "c", "d", "e", "f", "kb", "kd", "ke"))]
    a, b, c, d, e, f, kb, kd, ke = vals
    return np.array([[a, kb * b, c], [kb * b, kd * d, ke * e], [c, ke * e, f]], dtype=float)


def _g_h(g, h):
    g = as_float_array(g, "g", 2)
    h = as_float_array(h, "h", 2)
    if g.shape[0] != g.shape[1] or h.shape[0] != g.shape[0]:
        raise ValueError(f"g must be square (m, m) and h (m, k), got {g.shape} and {h.shape}")
    return g, h


def lemma8b_matrix(g, h) -> np.ndarray:
    """x = [[g, h], [h^T, 0]] of Lemma 8(b)."""
    g, h = _g_h(g, h)
    k = h.shape[1]
    return np.block([[g, h], [h.T, np.zeros((k, k))]])


def lemma8b_form(g, h, z, t: float) -> float:
    """w^T x w for w = ((hz)^T, -t z^T), computed from the full matrix x (the proof of Lemma 8(b))."""
    g, h = _g_h(g, h)
    z = as_float_array(z, "z", 1)
    if z.shape != (h.shape[1],):
        raise ValueError(f"z must have shape ({h.shape[1]},), got {z.shape}")
    t = check_real(t, "t")
    w = np.r_[h @ z, -t * z]
    return float(w @ lemma8b_matrix(g, h) @ w)


def lemma8b_certificate(g, h):
    """The proof's vector w with w^T x w < 0 and the predicted value, or ``(None, None)`` if g is PSD and h = 0.

    h != 0: z the top right singular vector of h (so hz != 0), t = t* + 1,
    value (hz)^T g (hz) - 2 t ||hz||^2 = -2 ||hz||^2.
    h = 0: the eigenvector of g's most negative eigenvalue, if there is one.
    """
    g, h = _g_h(g, h)
    k = h.shape[1]
    if np.any(h != 0):
        z = np.linalg.svd(h)[2][0]
        hz = h @ z
        t = float(hz @ g @ hz) / (2 * float(hz @ hz)) + 1.0
        return np.r_[hz, -t * z], -2 * float(hz @ hz)
    mu, Q = np.linalg.eigh(g)
    return (np.r_[Q[:, 0], np.zeros(k)], float(mu[0])) if mu[0] < 0 else (None, None)


def x_block(objective: SquaredLoss, theta, layer: int, r: int, lam: float):
    """The (u_diff, v_diff) block x of the bigger network's exact Hessian in the Lemma 1 basis, and its round-off.

    At gamma_lambda^r(theta), (alpha, beta) = (1 - lambda, lambda); the
    Hessian is computed directly (not from Lemma 1's formula) and
    symmetrised. The round-off returned is 10 eps max |H|.
    """
    check_objective(objective)
    lam = check_real(lam, "lam")
    alpha, beta = alpha_beta(lam)
    big, tb = embed_neuron(objective.net, theta, layer, r, lam)
    Hb = SquaredLoss(big, objective.X, objective.y, objective.normalization).hessian(tb)
    bas = lemma1_basis(objective.net, layer, r, alpha, beta)
    P = bas.matrix[:, bas.blocks["u_diff"].start:bas.blocks["v_diff"].stop]
    return P.T @ (0.5 * (Hb + Hb.T)) @ P, 10 * np.finfo(float).eps * float(np.abs(Hb).max())
