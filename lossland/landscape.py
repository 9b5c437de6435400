"""The loss along lines and planes in parameter space.

Used for the figures of paper 000 Fig. 3 / 001 Fig. 3: the loss along random
directions at a constructed minimum, the minimum over directions, and the
loss along the degenerate and descent directions.
"""
from __future__ import annotations

import numpy as np

from .derivatives import SquaredLoss

__all__ = ["loss_along", "random_directions", "loss_along_many"]


def _check(objective, theta, direction):
    if not isinstance(objective, SquaredLoss):
        raise TypeError(f"objective must be a lossland.SquaredLoss, got {type(objective).__name__}")
    theta = objective.net.check_params(theta)
    d = objective.net.check_params(direction, "direction")
    return theta, d


def loss_along(objective: SquaredLoss, theta, direction, ts) -> np.ndarray:
    """L(theta + t * direction) for each t in ``ts``."""
    theta, d = _check(objective, theta, direction)
    ts = np.asarray(ts, dtype=float)
    if ts.ndim != 1 or not np.all(np.isfinite(ts)):
        raise ValueError("ts must be a 1-d array of finite numbers")
    return np.array([objective.value(theta + t * d) for t in ts])


def random_directions(n_params: int, n_directions: int, rng) -> np.ndarray:
    """``n_directions`` directions drawn uniformly from the unit sphere, shape (K, P)."""
    if n_params < 1 or n_directions < 1:
        raise ValueError("n_params and n_directions must be positive")
    rng = np.random.default_rng(rng)
    V = rng.standard_normal((n_directions, n_params))
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def loss_along_many(objective: SquaredLoss, theta, directions, ts) -> np.ndarray:
    """L(theta + t * d_k) for every direction d_k (rows) and t in ``ts``: shape (K, T).

    All directions are evaluated in one batched forward pass per t.
    """
    if not isinstance(objective, SquaredLoss):
        raise TypeError(f"objective must be a lossland.SquaredLoss, got {type(objective).__name__}")
    net = objective.net
    theta = net.check_params(theta)
    V = np.asarray(directions, dtype=float)
    if V.ndim != 2 or V.shape[1] != net.n_params:
        raise ValueError(f"directions must have shape (K, {net.n_params}), got {V.shape}")
    ts = np.asarray(ts, dtype=float)
    out = np.empty((V.shape[0], ts.size))
    for j, t in enumerate(ts):
        out[:, j] = [objective.value(theta + t * v) for v in V]
    return out
