"""The loss along lines and planes in parameter space.

Used for the figures of paper 000 Fig. 3 / 001 Fig. 3: the loss along random
directions at a constructed minimum, the minimum over directions, and the
loss along the degenerate and descent directions.

Random-direction scans evaluate the loss at many thousands of parameter
vectors; :func:`losses_at` does that in one batched forward pass (the
parameter vectors form a leading batch axis of every layer's weights), and
:func:`direction_scan` uses it for 001 Fig. 3 style scans. The module is also
a command line tool that recomputes a scan from a saved point and writes it,
with its parameters and the package versions, to an ``.npz`` file::

    python -m lossland.landscape IN.npz OUT.npz --directions 5000 --seed 0 \\
        --t-max 0.05 --n-t 41

where ``IN.npz`` holds ``widths``, ``activation``, ``biases``,
``normalization``, ``theta``, ``X`` and ``y`` (see :func:`save_point`).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, check_int, check_objective, check_real, check_rng, check_vector, versions
from .derivatives import SquaredLoss
from .network import Network

__all__ = ["loss_along", "random_directions", "loss_along_many", "losses_at",
           "DirectionScan", "direction_scan", "save_point", "load_point", "scan_file",
           "loss_roundoff_bound"]

_CHUNK_FLOATS = 4_000_000          # activations per block in losses_at (about 32 MB)


def _check(objective, theta, direction):
    check_objective(objective)
    theta = objective.net.check_params(theta)
    d = objective.net.check_params(direction, "direction")
    return theta, d


def _check_ts(ts):
    return check_vector(ts, "ts")


def _check_rows(objective, value, name):
    """A finite (K, P) array of parameter vectors or directions."""
    V = as_float_array(value, name)
    P = objective.net.n_params
    if V.ndim != 2 or V.shape[1] != P:
        raise ValueError(f"{name} must have shape (K, {P}), got {V.shape}")
    return V


def loss_along(objective: SquaredLoss, theta, direction, ts) -> np.ndarray:
    """L(theta + t * direction) for each t in ``ts``."""
    theta, d = _check(objective, theta, direction)
    ts = _check_ts(ts)
    return np.array([objective.value(theta + t * d) for t in ts])


def random_directions(n_params: int, n_directions: int, rng) -> np.ndarray:
    """``n_directions`` directions drawn uniformly from the unit sphere, shape (K, P).

    ``rng`` is a :class:`numpy.random.Generator` or a non-negative integer seed.
    """
    n_params = check_int(n_params, "n_params", 1)
    n_directions = check_int(n_directions, "n_directions", 1)
    rng = check_rng(rng)
    V = rng.standard_normal((n_directions, n_params))
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def losses_at(objective: SquaredLoss, thetas) -> np.ndarray:
    """L(theta_k) for every row theta_k of ``thetas`` (K, P): shape (K,).

    One batched forward pass: the K weight matrices of layer l form an array
    (K, n_l, n_{l-1}) and the activations of all samples an array
    (K, N, n_l) (processed in blocks of rows to bound memory). The arithmetic
    is that of :meth:`SquaredLoss.value` up to the order of summation, so the
    two agree to round-off (a few ulps of the loss), not bit for bit: compare
    values from this function with values from this function.
    """
    check_objective(objective)
    net = objective.net
    T = _check_rows(objective, thetas, "thetas")
    X, y, c = objective.X, objective.y, objective.c
    N, L = X.shape[0], net.depth
    sigma = net.activation.f
    block = max(1, _CHUNK_FLOATS // (N * max(net.widths)))
    out = np.empty(T.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, T.shape[0], block):
            tb = T[start:start + block]
            a = None
            for l in range(1, L + 1):
                W = tb[:, net.weight_slice(l)].reshape(-1, net.widths[l], net.widths[l - 1])
                z = np.matmul(X, W.transpose(0, 2, 1)) if a is None else np.matmul(a, W.transpose(0, 2, 1))
                if net.biases:
                    z += tb[:, net.bias_slice(l)][:, None, :]
                a = sigma(z) if l < L else z
            r = a[:, :, 0] - y
            out[start:start + block] = c * np.einsum("kn,kn->k", r, r)
    if not np.all(np.isfinite(out)):
        raise ValueError("thetas: the forward pass overflowed (non-finite loss) for "
                         f"{int(np.sum(~np.isfinite(out)))} parameter vectors")
    return out


def loss_along_many(objective: SquaredLoss, theta, directions, ts) -> np.ndarray:
    """L(theta + t * d_k) for every direction d_k (rows) and t in ``ts``: shape (K, T).

    All directions are evaluated in one batched forward pass per t
    (:func:`losses_at`).
    """
    check_objective(objective)
    theta = objective.net.check_params(theta)
    V = _check_rows(objective, directions, "directions")
    ts = _check_ts(ts)
    out = np.empty((V.shape[0], ts.size))
    for j, t in enumerate(ts):
        out[:, j] = losses_at(objective, theta[None, :] + t * V)
    return out


# ----------------------------------------------------------------- scans
@dataclass
class DirectionScan:
    """The loss along K directions at a point (001 Fig. 3 (a), (c)).

    ``losses[k, j]`` is L(theta + ts[j] d_k); ``value`` is L(theta) computed by
    the same batched evaluation (so that comparisons with it are free of the
    few-ulp difference between :func:`losses_at` and :meth:`SquaredLoss.value`).
    """

    ts: np.ndarray
    losses: np.ndarray
    value: float

    @property
    def n_directions(self) -> int:
        return self.losses.shape[0]

    @property
    def min_over_directions(self) -> np.ndarray:
        """The bottom panel of 001 Fig. 3 (a)/(c): min_k L(theta + t d_k) for each t."""
        return self.losses.min(axis=0)

    def largest_decrease(self) -> float:
        """value - min over all directions and t (negative: no direction goes below the value)."""
        return float(self.value - self.losses.min())

    def decreasing(self, tol: float) -> np.ndarray:
        """Boolean mask of the directions along which the loss gets below ``value - tol``."""
        tol = check_real(tol, "tol", low=0.0)
        return self.losses.min(axis=1) < self.value - tol

    def n_decreasing(self, tol: float) -> int:
        """How many directions find a loss below ``value - tol`` somewhere on the grid."""
        return int(self.decreasing(tol).sum())


def direction_scan(objective: SquaredLoss, theta, directions, ts) -> DirectionScan:
    """Scan the loss along the rows of ``directions`` at the t-values ``ts`` (batched)."""
    losses = loss_along_many(objective, theta, directions, ts)
    value = float(losses_at(objective, objective.net.check_params(theta)[None, :])[0])
    return DirectionScan(_check_ts(ts).copy(), losses, value)


# ------------------------------------------------------- files and CLI
def save_point(path, objective: SquaredLoss, theta, **extra) -> None:
    """Save a network, its data and a parameter vector for :func:`scan_file` (``.npz``)."""
    check_objective(objective)
    net = objective.net
    theta = net.check_params(theta)
    np.savez(path, widths=np.array(net.widths), activation=net.activation.name,
             biases=net.biases, normalization=objective.normalization, theta=theta,
             X=objective.X, y=objective.y, **extra)


def load_point(path) -> tuple[SquaredLoss, np.ndarray]:
    """Inverse of :func:`save_point`: ``(objective, theta)``."""
    with np.load(path, allow_pickle=False) as f:
        missing = {"widths", "activation", "biases", "normalization", "theta", "X", "y"} - set(f.files)
        if missing:
            raise ValueError(f"path {path}: missing arrays {sorted(missing)}")
        net = Network([int(w) for w in f["widths"]], str(f["activation"]), biases=bool(f["biases"]))
        obj = SquaredLoss(net, f["X"], f["y"], str(f["normalization"]))
        return obj, net.check_params(f["theta"])


def scan_file(in_path, out_path, n_directions: int, seed: int, t_max: float, n_t: int) -> DirectionScan:
    """Recompute a random-direction scan for the point in ``in_path`` and save it.

    The directions are :func:`random_directions` with ``np.random.default_rng(seed)``,
    ``ts = np.linspace(-t_max, t_max, n_t)``. The output stores the curves,
    the value at the point, the parameters and the package versions.
    """
    n_directions = check_int(n_directions, "n_directions", 1)
    seed = check_int(seed, "seed", 0)
    t_max = check_real(t_max, "t_max", positive=True)
    n_t = check_int(n_t, "n_t", 2)
    obj, theta = load_point(in_path)
    V = random_directions(obj.net.n_params, n_directions, np.random.default_rng(seed))
    scan = direction_scan(obj, theta, V, np.linspace(-t_max, t_max, n_t))
    v = versions()
    np.savez_compressed(out_path, ts=scan.ts, losses=scan.losses, value=scan.value,
                        n_directions=n_directions, seed=seed, t_max=t_max, n_t=n_t,
                        **{f"{k}_version": val for k, val in v.items()})
    return scan


def _main(argv=None):
    p = argparse.ArgumentParser(prog="python -m lossland.landscape",
                                description="Random-direction loss scan (001 Fig. 3) of a saved point.")
    p.add_argument("in_path")
    p.add_argument("out_path")
    p.add_argument("--directions", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--t-max", type=float, default=0.05)
    p.add_argument("--n-t", type=int, default=41)
    a = p.parse_args(argv)
    scan = scan_file(a.in_path, a.out_path, a.directions, a.seed, a.t_max, a.n_t)
    print(f"{scan.n_directions} directions x {scan.ts.size} t-values -> {a.out_path}; "
          f"largest decrease below L = {scan.largest_decrease():.3e}")


if __name__ == "__main__":
    _main()


def loss_roundoff_bound(objective: SquaredLoss, theta) -> float:
    """A bound on the round-off in L(theta) and in the construction of theta on the path.

    Running error analysis of the forward pass (Higham, *Accuracy and
    Stability of Numerical Algorithms*, 2002, Section 3.1): with unit
    round-off u, the computed n(l) = w^l act(l-1) + w^l_0 errs by at most
    K_l u (|w^l| |act(l-1)| + |w^l_0|) plus |w^l| times the error of
    act(l-1), and sigma adds sigma' times that plus u |act(l)|. K_l =
    4 (n_{l-1} + N + 2) covers the dot products (gamma_{n_{l-1}+1}), and the
    backward errors, of the same form, of the N x N solve of Lemma 3 / 17
    (gamma_{3N}) and of sigma^{-1} (Lemma 4 / 18). With e the bound on the
    outputs and r the residuals, |dL| <= c (2 |r|.e + e.e + (N + 2) u r.r).
    """
    check_objective(objective)
    net = objective.net
    theta = net.check_params(theta)
    fw = net.forward(theta, objective.X)
    W, b = net.unflatten(theta)
    u = np.finfo(float).eps / 2
    N = objective.X.shape[0]
    err = np.zeros_like(fw.act[0])
    for l in range(1, net.depth + 1):
        K = 4 * (net.widths[l - 1] + N + 2)
        mag = np.abs(fw.act[l - 1]) @ np.abs(W[l]).T + np.abs(b[l])
        ez = K * u * mag + err @ np.abs(W[l]).T
        if l < net.depth:
            err = net.activation.d1(fw.pre[l]) * ez + u * np.abs(fw.act[l])
    e = ez[:, 0]
    r = fw.output - objective.y
    return float(objective.c * (2 * np.abs(r) @ e + e @ e + (N + 2) * u * (r @ r)))
