"""Lemma 1 of 000 / Lemma 12 of 001, checked numerically on random deep networks (chapter P5).

:func:`lemma1_error` compares the lemma's matrix (built by
:func:`lossland.embedding.lemma1_hessian` from the smaller network's Hessian
and B, D of eq. (1)-(2)) with P^T H P, H the exact Hessian of the larger
network at gamma_lambda^r(theta) and P the basis of
:func:`lossland.embedding.lemma1_basis`. :func:`relative_D` measures D
against its scale (Proposition 1(i): D = 0 in the last hidden layer at a
critical point). :func:`noisy_teacher_critical_point` makes the test points.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_int, check_objective, check_real
from ..datasets import teacher_student
from ..derivatives import SquaredLoss
from ..embedding import D_matrix, embed_neuron, lemma1_hessian
from ..network import Network
from ..optimize import CriticalPoint, find_critical_point

__all__ = ["lemma1_error", "lemma1_errors", "relative_D", "noisy_teacher_critical_point"]


def lemma1_error(objective: SquaredLoss, theta, layer: int, r: int, lam: float,
                 alpha: float | None = None, beta: float | None = None) -> float:
    """max |P^T H P - F| / max |F| at gamma_lambda^r(theta), F the matrix of 000 Lemma 1 / 001 Lemma 12.

    ``objective`` is the smaller network's loss; the larger network's loss
    uses the same data and normalisation (the factor 2c of the lemma).
    """
    check_objective(objective)
    F, basis = lemma1_hessian(objective, theta, layer, r, lam, alpha, beta)
    big, theta_big = embed_neuron(objective.net, theta, layer, r, lam)
    H = SquaredLoss(big, objective.X, objective.y, objective.normalization).hessian(theta_big)
    P = basis.matrix
    return float(np.abs(P.T @ H @ P - F).max() / np.abs(F).max())


def lemma1_errors(objective: SquaredLoss, theta, choices) -> list:
    """:func:`lemma1_error` for every hidden layer, every neuron r and every (lambda, alpha, beta) in ``choices``.

    ``alpha = beta = None`` in a choice means the default (1 - lambda, lambda).
    """
    check_objective(objective)
    choices = [tuple(ch) for ch in choices]
    if not choices or any(len(ch) != 3 for ch in choices):
        raise ValueError("choices must be a non-empty list of (lambda, alpha, beta) triples")
    net = objective.net
    return [lemma1_error(objective, theta, layer, r, *ch)
            for layer in net.hidden_layers for r in range(net.widths[layer]) for ch in choices]


def relative_D(objective: SquaredLoss, theta, layer: int, r: int) -> float:
    """max |D^{r,s}_i| / max S, S the scale of D (eq. (2) of 000 with absolute values of the summands)."""
    D, scale = D_matrix(objective, theta, layer, r, return_scale=True)
    return float(np.abs(D).max() / scale.max())


def noisy_teacher_critical_point(activation, widths, seed: int, n: int = 100, noise: float = 0.05,
                                 weight_scale: float = 1.5) -> tuple[SquaredLoss, CriticalPoint]:
    """A critical point of a bias-free student on noisy data of a teacher of the same architecture.

    Teacher parameters and n inputs in [-2, 2]^{n_0} from
    :func:`lossland.datasets.teacher_student` (seed ``seed``); the targets get
    Gaussian noise of ``noise`` times their standard deviation, so the loss
    at the critical point is non-zero; the search starts at the teacher.
    Returns ``(objective, critical_point)``.
    """
    seed = check_int(seed, "seed", 0)
    n = check_int(n, "n", 1)
    noise = check_real(noise, "noise")
    rng = np.random.default_rng(seed)
    net = Network(widths, activation, biases=False)
    X, y, theta_teacher = teacher_student(net, n, rng, low=-2.0, high=2.0, weight_scale=weight_scale)
    y = y + noise * y.std() * rng.standard_normal(n)
    objective = SquaredLoss(net, X, y)
    return objective, find_critical_point(objective, theta_teacher, maxiter=200)
