"""Full-batch gradient descent and stochastic gradient descent with exact gradients.

Corollary 1 of paper 000 (Corollary 3 of 001) says that a proof that "gradient
descent always reaches a global minimum" cannot rest on the loss surface
alone: it has to use properties of the learning procedure ("such as the
stochasticity of stochastic gradient descent"), of the initialization, or of
the data. The discussion after it (000 Section III-B, 001 Section 3.1) expects
SGD to escape non-attracting regions "with infinite time at hand". This
module runs the two procedures so that chapter P13 can compare them:

* :func:`gd`: theta <- theta - lr * grad L(theta), with L the full squared
  loss of the :class:`~lossland.derivatives.SquaredLoss` objective;
* :func:`sgd`: theta <- theta - lr * grad L_S(theta), with
  L_S = (N / B) * c * sum_{alpha in S} (f(x_alpha) - y_alpha)^2 on a mini-batch S
  of B samples drawn uniformly without replacement at every step, so that
  E[L_S] = L and ``batch_size = N`` is exactly :func:`gd`.

Gradients are exact (backpropagation, the identities of Nguyen & Hein,
Lemma 2.1, as in :meth:`SquaredLoss.gradient`), vectorised over several runs
at once: ``theta0`` may be one start (P,) or a stack of K starts (K, P), and
every run draws its own mini-batches. :func:`batch_value_and_gradient` is
the batched, sample-weighted backpropagation behind both; its agreement with
:meth:`SquaredLoss.value_and_gradient` is tested.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from ._validation import as_float_array, check_int, check_objective, check_real, check_rng
from .derivatives import SquaredLoss

__all__ = ["Trajectory", "batch_value_and_gradient", "gd", "sgd", "minibatch_step_bound"]


@dataclass
class Trajectory:
    """The outcome of :func:`gd` or :func:`sgd`.

    ``losses[t]`` is the full-batch loss L(theta_t) after t steps
    (t = 0..steps), shape ``(steps + 1,)`` for one run or
    ``(steps + 1, K)`` for K runs. ``thetas`` holds theta_t at the steps
    listed in ``recorded`` (every ``record_every`` steps and the last),
    shape ``(len(recorded), P)`` or ``(len(recorded), K, P)``.
    ``batch_size`` is ``None`` for full-batch gradient descent.
    """

    losses: np.ndarray
    thetas: np.ndarray
    recorded: np.ndarray
    lr: float | np.ndarray
    steps: int
    batch_size: int | None

    @property
    def final_theta(self) -> np.ndarray:
        """theta after the last step, (P,) or (K, P)."""
        return self.thetas[-1]

    @property
    def final_loss(self):
        """L(theta) after the last step, a float or shape (K,)."""
        last = self.losses[-1]
        return float(last) if np.ndim(last) == 0 else last


# ----------------------------------------------------------------- checks
def _check_thetas(objective, thetas, name):
    T = as_float_array(thetas, name)
    P = objective.net.n_params
    if T.ndim not in (1, 2) or T.shape[-1] != P:
        raise ValueError(f"{name} must have shape ({P},) or (K, {P}), got {T.shape}")
    if T.ndim == 2 and T.shape[0] < 1:
        raise ValueError(f"{name} must contain at least one start")
    return T


def _check_lr(lr, n_runs):
    """A positive step size, or one per run (shape (K,))."""
    if np.ndim(lr) == 0:
        if isinstance(lr, np.ndarray):
            lr = lr.item()
        return check_real(lr, "lr", positive=True)
    arr = as_float_array(lr, "lr")
    if arr.shape != (n_runs,):
        raise ValueError(f"lr must be a number or have one entry per run, shape ({n_runs},), got {arr.shape}")
    if not np.all(arr > 0):
        raise ValueError("lr must contain positive finite numbers")
    return arr


# ------------------------------------------------------- batched gradient
def batch_value_and_gradient(objective: SquaredLoss, thetas, weights=None):
    """Weighted squared loss and its exact gradient for K parameter vectors at once.

    L_w(theta_k) = c * sum_alpha w_{k,alpha} (f(x_alpha; theta_k) - y_alpha)^2
    with c from the objective's normalisation; ``weights=None`` means all
    w = 1, i.e. the objective's own loss (:meth:`SquaredLoss.value_and_gradient`
    for every row). Backpropagation as in :mod:`lossland.derivatives`
    (Nguyen & Hein, Lemma 2.1), with a leading axis of length K.

    Parameters
    ----------
    objective : SquaredLoss
    thetas : array (K, P)
    weights : array (K, N) or (N,), optional
        Non-negative sample weights (:func:`sgd` uses N / B on the batch
        and 0 elsewhere).

    Returns
    -------
    values : (K,) the weighted losses
    grads : (K, P) their gradients
    full : (K,) the unweighted losses L(theta_k) (free: all samples are
        evaluated anyway)
    """
    check_objective(objective)
    T = _check_thetas(objective, thetas, "thetas")
    if T.ndim == 1:
        T = T[None, :]
    K, N = T.shape[0], objective.n_samples
    if weights is not None:
        w = as_float_array(weights, "weights")
        if w.shape == (N,):
            w = np.broadcast_to(w, (K, N))
        if w.shape != (K, N):
            raise ValueError(f"weights must have shape ({N},) or ({K}, {N}), got {np.shape(weights)}")
        if np.any(w < 0):
            raise ValueError("weights must be finite and non-negative")
    return _batch_vg(objective, T, None if weights is None else w)


def _batch_vg(objective, T, w):
    """:func:`batch_value_and_gradient` without input checks (T is (K, P))."""
    with np.errstate(over="ignore", invalid="ignore"):
        values, grads, full = _batch_vg_raw(objective, T, w)
    ok = np.isfinite(full) & np.isfinite(grads).all(axis=1)
    if not ok.all():
        raise ValueError(f"thetas: the forward or backward pass overflowed for runs "
                         f"{np.flatnonzero(~ok).tolist()} (the step size is probably too large)")
    return values, grads, full


def _batch_vg_raw(objective, T, w):
    """Forward and backward pass for K parameter vectors at once; no checks, no errstate."""
    net = objective.net
    L, K = net.depth, T.shape[0]
    act_fn = net.activation
    Ws, acts, pres = [None], [objective.X], [None]
    a = objective.X                                       # (N, n_0), broadcast against (K, ...)
    for l in range(1, L + 1):
        W = T[:, net.weight_slice(l)].reshape(K, net.widths[l], net.widths[l - 1])
        z = np.matmul(a, W.transpose(0, 2, 1))
        if net.biases:
            z += T[:, net.bias_slice(l)][:, None, :]
        Ws.append(W)
        pres.append(z)
        a = act_fn.f(z) if l < L else z
        acts.append(a)
    r = a[:, :, 0] - objective.y                          # (K, N)
    full = objective.c * np.einsum("kn,kn->k", r, r)
    wr = r if w is None else w * r
    values = full if w is None else objective.c * np.einsum("kn,kn->k", wr, r)
    grads = np.empty_like(T)
    delta = (2.0 * objective.c * wr)[:, :, None]          # dL/dn(L), (K, N, 1)
    for l in range(L, 0, -1):
        gW = np.matmul(delta.transpose(0, 2, 1), acts[l - 1])
        grads[:, net.weight_slice(l)] = gW.reshape(K, -1)
        if net.biases:
            grads[:, net.bias_slice(l)] = delta.sum(axis=1)
        if l > 1:
            delta = np.matmul(delta, Ws[l]) * act_fn.d1(pres[l - 1])
    return values, grads, full


# --------------------------------------------------------------- descent
def _run(objective, theta0, lr, steps, record_every, batch_size, rng):
    T0 = _check_thetas(objective, theta0, "theta0")
    single = T0.ndim == 1
    T = np.array(T0[None, :] if single else T0, dtype=float)
    K, N = T.shape[0], objective.n_samples
    lr = _check_lr(lr, K)
    if single and np.ndim(lr) == 1:
        raise ValueError("lr: one step size per run needs theta0 of shape (K, P)")
    step = lr if np.ndim(lr) == 0 else lr[:, None]
    recorded = sorted(set(range(0, steps + 1, record_every)) | {steps})
    rec_set = set(recorded)
    losses = np.empty((steps + 1, K))
    thetas = np.empty((len(recorded), K, T.shape[1]))
    j = 0
    for t in range(steps + 1):
        if batch_size is None or t == steps:
            w = None
        else:
            # B samples per run, uniformly without replacement (the B smallest of N
            # uniform numbers), weight N / B
            u = rng.random((K, N))
            kth = np.partition(u, batch_size - 1, axis=1)[:, batch_size - 1:batch_size]
            w = np.where(u <= kth, N / batch_size, 0.0)
        try:
            _, g, full = _batch_vg(objective, T, w)
        except ValueError as exc:
            raise ValueError(f"lr: the run diverged at step {t} ({exc})") from None
        losses[t] = full
        if t in rec_set:
            thetas[j] = T
            j += 1
        if t < steps:
            T = T - step * g
    if single:
        losses, thetas = losses[:, 0], thetas[:, 0]
    return Trajectory(losses, thetas, np.array(recorded), lr, steps, batch_size)


def gd(objective: SquaredLoss, theta0, lr, steps: int, record_every: int = 1) -> Trajectory:
    """Full-batch gradient descent theta_{t+1} = theta_t - lr * grad L(theta_t).

    The gradient is the exact gradient of the objective's loss (000/001:
    L = sum (f - y)^2, or 1/2 of it with ``normalization="half"``).
    ``theta0`` is one start (P,) or K starts (K, P), run side by side;
    ``lr`` is one step size or one per run (K,). Records L(theta_t) at
    every step and theta_t every ``record_every`` steps. Raises
    ``ValueError`` if a run overflows.
    """
    check_objective(objective)
    steps = check_int(steps, "steps", 0)
    record_every = check_int(record_every, "record_every", 1)
    return _run(objective, theta0, lr, steps, record_every, None, None)


def sgd(objective: SquaredLoss, theta0, lr, steps: int, batch_size: int, rng,
        record_every: int = 1) -> Trajectory:
    """Mini-batch stochastic gradient descent with exact mini-batch gradients.

    At every step each run draws ``batch_size`` = B of the N samples
    uniformly without replacement and steps along the exact gradient of
    L_S = (N / B) c sum_{alpha in S} (f(x_alpha) - y_alpha)^2, an unbiased
    estimate of grad L (000 Section III-B / 001 Section 3.1: "the
    stochasticity of stochastic gradient descent"). ``batch_size = N`` is
    :func:`gd` exactly. ``theta0`` and ``lr`` as in :func:`gd`. ``rng``
    is a :class:`numpy.random.Generator` or an integer seed (``None`` is
    refused: runs must be reproducible).
    ``losses`` records the full-batch loss L(theta_t).
    """
    check_objective(objective)
    steps = check_int(steps, "steps", 0)
    batch_size = check_int(batch_size, "batch_size", 1, objective.n_samples)
    record_every = check_int(record_every, "record_every", 1)
    rng = check_rng(rng)
    return _run(objective, theta0, lr, steps, record_every, batch_size, rng)


def minibatch_step_bound(objective: SquaredLoss, theta, batch_size: int, max_batches: int = 10_000) -> float:
    """2 / max_S lambda_max((N / B) Hess L_S(theta)) over all mini-batches S of size B.

    Near theta an SGD step on batch S is, to first order, a gradient step on
    (N / B) L_S; below this step size every one of them is stable at theta
    (the full-batch analogue is 2 / lambda_max(Hess L)). Exact Hessians
    (:meth:`SquaredLoss.hessian`) of all C(N, B) batches; raises
    ``ValueError`` if there are more than ``max_batches`` of them. Returns
    ``inf`` if no batch Hessian has a positive eigenvalue.
    """
    check_objective(objective)
    theta = objective.net.check_params(theta)
    N = objective.n_samples
    B = check_int(batch_size, "batch_size", 1, N)
    max_batches = check_int(max_batches, "max_batches", 1)
    if comb(N, B) > max_batches:
        raise ValueError(f"batch_size={B}: C({N}, {B}) = {comb(N, B)} mini-batches exceed max_batches={max_batches}")
    top = -np.inf
    for S in combinations(range(N), B):
        idx = list(S)
        H = SquaredLoss(objective.net, objective.X[idx], objective.y[idx], objective.normalization).hessian(theta)
        top = max(top, N / B * float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1]))
    return 2.0 / top if top > 0 else float("inf")
