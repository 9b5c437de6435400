"""R10: random versus rich subglobal minima on scikit-learn's digits (002, Section 4.2, Table 1, eq. (8)).

Section 4.2 of 002 trains networks d-2k-k-10 with biases, softmax outputs and
the cross-entropy loss, Adam and mini-batches of 100 on MNIST, in two ways:

``"rich"``
    the real ReLU network, h_2 = σ(W_2 σ(W_1 x_i + b_1) + b_2);
``"random"``
    eq. (8): the ReLUs removed and replaced by fixed activation values drawn
    once, per training sample and node, with P(a = 1) = P(a = 0) = 1/2,

        h_A(x_i, θ) = diag(a_i2) (W_2 diag(a_i1) (W_1 x_i + b_1) + b_2),

    a_i1 ∈ {0, 1}^(2k), a_i2 ∈ {0, 1}^k; the output is softmax(W_3 h + b_3)
    in both cases. With a_i = 1(pre-activation > 0) of the real network,
    eq. (8) *is* the ReLU network (σ(z) = diag(1(z > 0)) z, the biases inside
    the masks as in eq. (2)): :meth:`DigitsObjective.pattern` gives these
    masks.

Table 1 reports the accuracy, mean and standard deviation over 100
repetitions, for k = 16 ... 256. The masks exist only for the training
samples, so the accuracy here is the **training** accuracy (the only one the
random model has).

Here the data are :func:`sklearn.datasets.load_digits` (1797 images of 8x8
pixels, 16 grey levels, 10 classes; bundled in the scikit-learn wheel, so no
download at build time) instead of MNIST (60000 images of 28x28): inputs
x / 16 in [0, 1]^64. Networks of 002's widths saturate on 1797 samples, so
the default grid is k = 1, 2, 4, 8, 16 (:class:`R10Config`).

Everything is plain numpy with exact backpropagation (:class:`DigitsObjective`
for one parameter vector; :func:`train_adam` trains a stack of repetitions at
once with the same formulas). Parameters are flat vectors in the layout of
the core :class:`lossland.Network` ``((d, 2k, k, 10), "relu")``: W_1 row by
row, b_1, W_2, b_2, W_3, b_3, so ``objective.net(theta, X)`` evaluates the
rich network's logits independently.

Protocol (defaults of :class:`R10Config`): He-normal weights (standard
deviation sqrt(2 / fan_in)), zero biases; Adam with Kingma & Ba's defaults
(learning rate 1e-3, β_1 = 0.9, β_2 = 0.999, ε = 1e-8, bias correction);
mini-batches of 100 from a fresh permutation every epoch (the last batch of
an epoch has 97 samples); the mean cross-entropy of a batch is minimised; a
fixed number of epochs is the stopping rule, with the training accuracy and
loss recorded every ``eval_every`` epochs. Repetition r of width k draws its
initial parameters, batch order and masks from
``SeedSequence(config.seed, spawn_key=(k, r))`` (:func:`rep_streams`): the
random and the rich run of a repetition start from the same parameters and
see the same batches (a paired design).

The full run (400 runs of 800 epochs, about 630 s of CPU: 6.4 minutes on
two cores) goes through :func:`lossland.runner.run` and is cached in
``data/r10/`` (:func:`save_r10`, :func:`load_r10`; :func:`replay_r10`
recomputes the final accuracies from the cached end points)::

    .venv/bin/python -m lossland.relu_regions.digits --jobs 2
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from numbers import Integral
from pathlib import Path

import numpy as np

from .._validation import as_float_array, check_choice, check_int, check_real, check_rng
from ..network import Network
from ..runner import load_cached, run, save_cached

__all__ = ["PAPER_TABLE", "KINDS", "R10Config", "R10_DIR", "digits_data", "random_masks",
           "DigitsObjective", "rep_streams", "r10_problem", "Training", "train_adam", "r10_task",
           "R10Result", "run_r10", "r10_parameters", "r10_command", "save_r10", "load_r10",
           "replay_r10", "summary_table", "format_table", "compare_statistically", "n_params",
           "main"]

PAPER_TABLE = {
    16: ((82.59, 0.32), (98.10, 0.20)),
    32: ((92.84, 0.24), (99.41, 0.13)),
    64: ((98.19, 0.27), (99.80, 0.06)),
    128: ((99.61, 0.07), (99.88, 0.04)),
    256: ((99.60, 0.06), (99.91, 0.03)),
}
"""002, Table 1 (MNIST): k -> ((random mean, sd), (rich mean, sd)), accuracy in %."""

KINDS = ("random", "rich")
"""The two kinds of runs of Section 4.2: eq. (8) with random masks, and the real ReLU network."""

R10_DIR = Path(__file__).resolve().parents[2] / "data" / "r10"
"""Where the cached R10 run lives (``data/r10/r10.npz`` and ``r10.json``)."""

N_CLASSES = 10


# ------------------------------------------------------------------ config
def _positive_ints(value, name):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}")
    out = tuple(check_int(v, name, 1) for v in value)
    if not out:
        raise ValueError(f"{name} must not be empty")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat, got {out}")
    return out


def _positive_real(value, name, high=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, float, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value > 0 and (high is None or value < high)):
        raise ValueError(f"{name} must be positive{'' if high is None else f' and below {high}'}, "
                         f"got {value!r}")
    return value


@dataclass(frozen=True)
class R10Config:
    """Parameters of the R10 experiment (002, Section 4.2, on scikit-learn's digits).

    ``ks``: the widths k (networks d-2k-k-10); ``reps``: repetitions per
    width and kind (002: 100); ``epochs``: the stopping rule (a fixed number
    of passes over the 1797 samples); ``batch``: mini-batch size (002: 100);
    ``lr``, ``beta1``, ``beta2``, ``eps``: Adam's (Kingma & Ba's defaults;
    002 does not give them); ``eval_every``: epochs between two records of
    the training accuracy and loss; ``block``: repetitions trained together
    in one task of the runner; ``seed``: the root of every random stream.
    """

    ks: tuple = (1, 2, 4, 8, 16)
    reps: int = 40
    epochs: int = 800
    batch: int = 100
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eval_every: int = 50
    block: int = 20
    seed: int = 2018

    def __post_init__(self):
        object.__setattr__(self, "ks", _positive_ints(self.ks, "ks"))
        for name in ("reps", "epochs", "batch", "eval_every", "block"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, 1))
        object.__setattr__(self, "seed", check_int(self.seed, "seed", 0))
        object.__setattr__(self, "lr", _positive_real(self.lr, "lr"))
        object.__setattr__(self, "eps", _positive_real(self.eps, "eps"))
        object.__setattr__(self, "beta1", _positive_real(self.beta1, "beta1", 1.0))
        object.__setattr__(self, "beta2", _positive_real(self.beta2, "beta2", 1.0))
        if self.epochs % self.eval_every:
            raise ValueError(f"epochs ({self.epochs}) must be a multiple of eval_every "
                             f"({self.eval_every})")

    @property
    def eval_epochs(self) -> np.ndarray:
        """The epochs after which accuracy and loss are recorded (the last is ``epochs``)."""
        return np.arange(self.eval_every, self.epochs + 1, self.eval_every)


def _check_config(config):
    if config is None:
        return R10Config()
    if not isinstance(config, R10Config):
        raise TypeError(f"config must be an R10Config, got {type(config).__name__}")
    return config


def n_params(k: int, d: int = 64, n_classes: int = N_CLASSES) -> int:
    """Number of parameters of the network d-2k-k-n_classes with biases."""
    k = check_int(k, "k", 1)
    d = check_int(d, "d", 1)
    n_classes = check_int(n_classes, "n_classes", 2)
    return d * 2 * k + 2 * k + 2 * k * k + k + k * n_classes + n_classes


# -------------------------------------------------------------------- data
@lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits
    data = load_digits()
    X = np.ascontiguousarray(data.data, dtype=float) / 16.0
    y = np.asarray(data.target, dtype=np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def digits_data() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: inputs X (1797, 64) = pixel / 16 in [0, 1], labels (1797,) in 0..9.

    The data ship inside the scikit-learn wheel (no download). The arrays
    are read-only and shared between calls.
    """
    return _digits()


def random_masks(n_samples: int, k: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Fixed activation values of eq. (8) of 002: a_i1 (N, 2k), a_i2 (N, k), i.i.d. Bernoulli(1/2).

    One row per training sample; ``rng`` is a Generator or an integer seed.
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    k = check_int(k, "k", 1)
    rng = check_rng(rng)
    A1 = rng.random((n_samples, 2 * k)) < 0.5
    A2 = rng.random((n_samples, k)) < 0.5
    return A1, A2


# ------------------------------------------------------- the stacked engine
def _layers(net, P):
    """Views W_l (R, n_l, n_{l-1}) and b_l (R, n_l) of stacked flat parameters P (R, n_params)."""
    R = P.shape[0]
    Ws = [P[:, net.weight_slice(l)].reshape(R, net.widths[l], net.widths[l - 1]) for l in (1, 2, 3)]
    bs = [P[:, net.bias_slice(l)] for l in (1, 2, 3)]
    return Ws, bs


def _forward(net, P, X, M1, M2):
    """Forward pass of R stacked networks; X (B, d) shared or (R, B, d); masks None (ReLU) or (R, B, n).

    Returns z1, a1, h1, z2, a2, h2, logits; the a's are the factors that
    multiply z (float 0/1): the ReLU pattern 1(z > 0) or the fixed masks.
    """
    (W1, W2, W3), (b1, b2, b3) = _layers(net, P)
    z1 = np.matmul(X, W1.transpose(0, 2, 1))
    z1 += b1[:, None, :]
    a1 = (z1 > 0).astype(float) if M1 is None else M1
    h1 = z1 * a1
    z2 = np.matmul(h1, W2.transpose(0, 2, 1))
    z2 += b2[:, None, :]
    a2 = (z2 > 0).astype(float) if M2 is None else M2
    h2 = z2 * a2
    logits = np.matmul(h2, W3.transpose(0, 2, 1))
    logits += b3[:, None, :]
    return z1, a1, h1, z2, a2, h2, logits


def _softmax_ce(logits, labels):
    """Probabilities (R, B, C) and the mean cross-entropy per stack member (R,).

    log sum_j exp(z_j - z_max) is computed as log1p of the sum over the
    entries below the maximum (plus the number of further maxima), so that
    losses far below the machine epsilon keep their relative accuracy.
    """
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=-1, keepdims=True)
    p = e / s
    top = z == 0.0
    rest = np.where(top, 0.0, e).sum(axis=-1) + (top.sum(axis=-1) - 1)
    zy = np.take_along_axis(z, labels[..., None], axis=-1)[..., 0]
    loss = (np.log1p(rest) - zy).mean(axis=-1)
    return p, loss


def _gradient(net, P, X, labels, M1, M2, G=None):
    """Exact gradient of the mean cross-entropy (backpropagation) of R stacked networks.

    ``labels`` (R, B) ints; writes into ``G`` (R, n_params) if given; returns (G, loss (R,)).
    """
    X3 = X if X.ndim == 3 else np.broadcast_to(X, (P.shape[0],) + X.shape)
    z1, a1, h1, z2, a2, h2, logits = _forward(net, P, X3, M1, M2)
    p, loss = _softmax_ce(logits, labels)
    R, B = labels.shape
    g3 = p
    g3[np.arange(R)[:, None], np.arange(B)[None, :], labels] -= 1.0
    g3 /= B                                              # d(mean CE)/d logits
    G = np.empty_like(P) if G is None else G
    (gW1, gW2, gW3), (gb1, gb2, gb3) = _layers(net, G)
    (W1, W2, W3), _ = _layers(net, P)
    np.matmul(g3.transpose(0, 2, 1), h2, out=gW3)
    np.sum(g3, axis=1, out=gb3)
    gz2 = np.matmul(g3, W3)
    gz2 *= a2
    np.matmul(gz2.transpose(0, 2, 1), h1, out=gW2)
    np.sum(gz2, axis=1, out=gb2)
    gz1 = np.matmul(gz2, W2)
    gz1 *= a1
    np.matmul(gz1.transpose(0, 2, 1), X3, out=gW1)
    np.sum(gz1, axis=1, out=gb1)
    return G, loss


# ---------------------------------------------------------------- objective
class DigitsObjective:
    """Mean cross-entropy of 002's Section 4.2 network d-2k-k-10 on (X, labels), exact derivatives.

    ``masks=None``: the real ReLU network ("rich"). ``masks=(A1, A2)`` with
    A1 (N, 2k), A2 (N, k) 0/1: eq. (8) of 002 with these fixed activation
    values, one row per sample ("random"). ``theta`` is a flat vector in the
    layout of ``self.net`` = ``Network((d, 2k, k, 10), "relu")``.
    """

    def __init__(self, X, labels, k: int, masks=None):
        self.X = as_float_array(X, "X", ndim=2)
        N, d = self.X.shape
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.shape[0] != N:
            raise ValueError(f"labels must have shape ({N},), got {lab.shape}")
        if lab.dtype.kind not in "iu":
            raise TypeError(f"labels must be integers, got {lab.dtype} entries")
        if lab.size and (lab.min() < 0 or lab.max() >= N_CLASSES):
            raise ValueError(f"labels must lie in 0..{N_CLASSES - 1}")
        self.labels = lab.astype(np.int64)
        self.k = check_int(k, "k", 1)
        self.net = Network((d, 2 * self.k, self.k, N_CLASSES), "relu", biases=True)
        if masks is None:
            self.masks = None
        else:
            if not isinstance(masks, (tuple, list)) or len(masks) != 2:
                raise TypeError("masks must be None or a pair (A1, A2) of 0/1 arrays")
            out = []
            for name, A, width in (("masks[0]", masks[0], 2 * self.k), ("masks[1]", masks[1], self.k)):
                A = np.asarray(A)
                if A.shape != (N, width):
                    raise ValueError(f"{name} must have shape ({N}, {width}), got {A.shape}")
                if A.dtype != bool:
                    if A.dtype.kind not in "iuf" or not np.isin(A, (0, 1)).all():
                        raise ValueError(f"{name} must hold activation values 0 or 1")
                    A = A.astype(bool)
                out.append(A)
            self.masks = tuple(out)

    @property
    def kind(self) -> str:
        """``"random"`` (eq. (8) with fixed masks) or ``"rich"`` (the ReLU network)."""
        return "rich" if self.masks is None else "random"

    @property
    def n_params(self) -> int:
        return self.net.n_params

    def __repr__(self):
        return (f"DigitsObjective({self.kind}, {'-'.join(map(str, self.net.widths))}, "
                f"N={self.X.shape[0]})")

    def init_params(self, rng) -> np.ndarray:
        """He-normal weights (standard deviation sqrt(2 / fan_in)), zero biases."""
        rng = check_rng(rng)
        theta = np.zeros(self.n_params)
        for l in (1, 2, 3):
            sl = self.net.weight_slice(l)
            theta[sl] = rng.standard_normal(sl.stop - sl.start) * np.sqrt(2.0 / self.net.widths[l - 1])
        return theta

    def _masks(self, rows=None):
        if self.masks is None:
            return None, None
        A1, A2 = self.masks if rows is None else (self.masks[0][rows], self.masks[1][rows])
        return A1[None].astype(float), A2[None].astype(float)

    def _stack(self, theta):
        return self.net.check_params(theta, "theta")[None, :]

    def forward(self, theta) -> dict:
        """Every layer for all samples: ``z1, a1, h1, z2, a2, h2, logits`` (002's h_A is ``h2``)."""
        M1, M2 = self._masks()
        names = ("z1", "a1", "h1", "z2", "a2", "h2", "logits")
        return {n: v[0] for n, v in zip(names, _forward(self.net, self._stack(theta), self.X, M1, M2))}

    def logits(self, theta) -> np.ndarray:
        """W_3 h + b_3 for every sample, (N, 10)."""
        return self.forward(theta)["logits"]

    def hidden(self, theta) -> np.ndarray:
        """The second hidden layer, (N, k): eq. (8)'s h_A (random) or σ(W_2 σ(W_1 x + b_1) + b_2)."""
        return self.forward(theta)["h2"]

    def pattern(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """The ReLU network's activation values at theta (002, Def. 2.1): 1(z > 0) per layer, bool.

        Computed with the ReLU network whatever ``self.masks`` are;
        ``DigitsObjective(X, labels, k, masks=obj.pattern(theta))`` is eq. (8)
        with the real activation values, equal to the ReLU network at theta.
        """
        z1, _, _, z2, _, _, _ = _forward(self.net, self._stack(theta), self.X, None, None)
        return z1[0] > 0, z2[0] > 0

    def value(self, theta) -> float:
        """Mean softmax cross-entropy over the N samples."""
        _, loss = _softmax_ce(self.logits(theta)[None], self.labels[None])
        return float(loss[0])

    def gradient(self, theta, rows=None) -> np.ndarray:
        """Exact gradient of :meth:`value` (of the mean over ``rows`` if given), by backpropagation.

        At a ReLU kink (a pre-activation exactly 0) the rich model uses the
        derivative 0 there (a = 1(z > 0), Definition 2.1's convention).
        """
        theta = self.net.check_params(theta, "theta")
        rows = np.arange(self.X.shape[0]) if rows is None else np.asarray(rows)
        M1, M2 = self._masks(rows)
        G, _ = _gradient(self.net, theta[None, :], self.X[rows], self.labels[rows][None], M1, M2)
        return G[0]

    def scale_output(self, theta, c: float) -> np.ndarray:
        """θ with the output layer (W_3, b_3) multiplied by ``c``: the logits times c, same pattern.

        With c > 1 at a point that classifies every sample correctly, the
        cross-entropy decreases strictly: such a region has no minimum
        (chapter R10).
        """
        theta = self.net.check_params(theta, "theta").copy()
        c = check_real(c, "c")
        theta[self.net.weight_slice(3)] *= c
        theta[self.net.bias_slice(3)] *= c
        return theta

    def predictions(self, theta) -> np.ndarray:
        """argmax of the logits, (N,)."""
        return self.logits(theta).argmax(axis=1)

    def accuracy(self, theta) -> float:
        """Fraction of the samples classified correctly (training accuracy when X is the training set)."""
        return float(np.mean(self.predictions(theta) == self.labels))


# ---------------------------------------------------------------- training
def rep_streams(config: R10Config | None, k: int, rep: int) -> dict:
    """The random streams of repetition ``rep`` of width ``k``: ``init``, ``order``, ``masks``.

    Generators from ``SeedSequence(config.seed, spawn_key=(k, rep))``; the
    random and the rich run of a repetition use the same ``init`` and
    ``order`` streams (same start, same batches).
    """
    config = _check_config(config)
    k, rep = check_int(k, "k", 1), check_int(rep, "rep", 0)
    children = np.random.SeedSequence(config.seed, spawn_key=(k, rep)).spawn(3)
    return {name: np.random.default_rng(s) for name, s in zip(("init", "order", "masks"), children)}


def r10_problem(kind: str, k: int, rep: int, config: R10Config | None = None):
    """Objective, start and batch-order generator of one run: ``(objective, theta0, order_rng)``."""
    kind = check_choice(kind, "kind", list(KINDS))
    config = _check_config(config)
    X, y = digits_data()
    streams = rep_streams(config, k, rep)
    masks = random_masks(X.shape[0], k, streams["masks"]) if kind == "random" else None
    obj = DigitsObjective(X, y, k, masks)
    return obj, obj.init_params(streams["init"]), streams["order"]


@dataclass
class Training:
    """What :func:`train_adam` returns for a stack of R runs.

    ``theta`` (R, n_params) end points; ``eval_epochs`` (E,); ``accuracy``
    and ``loss`` (R, E): training accuracy (fraction) and mean cross-entropy
    on all samples after each of ``eval_epochs``.
    """

    theta: np.ndarray
    eval_epochs: np.ndarray
    accuracy: np.ndarray
    loss: np.ndarray


def _full_eval(net, P, X, labels, M1, M2):
    *_, logits = _forward(net, P, X, M1, M2)
    _, loss = _softmax_ce(logits, np.broadcast_to(labels, logits.shape[:2]))
    acc = (logits.argmax(axis=-1) == labels[None, :]).mean(axis=1)
    return acc, loss


def train_adam(objectives, theta0, orders, config: R10Config | None = None) -> Training:
    """Adam on mini-batches for a stack of runs of 002, Section 4.2, with exact gradients.

    ``objectives``: a sequence of R :class:`DigitsObjective` on the same data
    and width (each its own masks, or all ReLU); ``theta0`` (R, n_params);
    ``orders``: R Generators drawing each run's permutation every epoch.
    ``config`` gives the batch size, Adam's parameters, the epochs and the
    evaluation interval. The runs are trained together (stacked matrix
    products), each on its own batches.
    """
    config = _check_config(config)
    objectives = list(objectives)
    if not objectives or not all(isinstance(o, DigitsObjective) for o in objectives):
        raise TypeError("objectives must be a non-empty sequence of DigitsObjective")
    first = objectives[0]
    for o in objectives[1:]:
        if o.k != first.k or o.kind != first.kind or o.X is not first.X and not np.array_equal(o.X, first.X) \
                or not np.array_equal(o.labels, first.labels):
            raise ValueError("objectives must share the data, the width k and the kind")
    R, net = len(objectives), first.net
    P = np.array(as_float_array(theta0, "theta0", ndim=2), dtype=float)
    if P.shape != (R, net.n_params):
        raise ValueError(f"theta0 must have shape ({R}, {net.n_params}), got {P.shape}")
    orders = [check_rng(g, "orders") for g in orders]
    if len(orders) != R:
        raise ValueError(f"orders must hold {R} generators, got {len(orders)}")
    X, labels = first.X, first.labels
    N = X.shape[0]
    random = first.masks is not None
    if random:
        A1 = np.stack([o.masks[0] for o in objectives]).astype(float)      # (R, N, 2k)
        A2 = np.stack([o.masks[1] for o in objectives]).astype(float)
    m, v, G = np.zeros_like(P), np.zeros_like(P), np.empty_like(P)
    b1, b2, lr, eps, bsz = config.beta1, config.beta2, config.lr, config.eps, config.batch
    rr = np.arange(R)[:, None]
    evals = config.eval_epochs
    acc = np.empty((R, evals.size))
    loss = np.empty((R, evals.size))
    t, e = 0, 0
    for epoch in range(1, config.epochs + 1):
        perm = np.stack([g.permutation(N) for g in orders])                 # (R, N)
        for s in range(0, N, bsz):
            idx = perm[:, s:s + bsz]
            M1 = A1[rr, idx] if random else None
            M2 = A2[rr, idx] if random else None
            _gradient(net, P, X[idx], labels[idx], M1, M2, G)
            t += 1
            m *= b1
            m += (1 - b1) * G
            v *= b2
            G *= G
            v += (1 - b2) * G
            step = np.sqrt(v / (1 - b2 ** t))
            step += eps
            np.divide(m, step, out=step)
            P -= (lr / (1 - b1 ** t)) * step
        if epoch == evals[e]:
            acc[:, e], loss[:, e] = _full_eval(net, P, X, labels, A1 if random else None,
                                               A2 if random else None)
            e += 1
    if not np.all(np.isfinite(P)):
        raise FloatingPointError("train_adam: the parameters became non-finite")
    return Training(P, evals, acc, loss)


def r10_task(task, config: R10Config | None = None) -> dict:
    """One task of the runner: ``task = (kind, k, reps)``, the repetitions trained as one stack.

    Returns plain arrays (one row per repetition): ``rep``, ``accuracy`` and
    ``loss`` (at the end), ``curve_accuracy`` and ``curve_loss`` (R, E),
    ``theta`` (R, n_params), ``theta_norm``; and ``cpu`` (process CPU
    seconds of the task).
    """
    config = _check_config(config)
    kind, k, reps = task
    kind = check_choice(kind, "kind", list(KINDS))
    k = check_int(k, "k", 1)
    reps = [check_int(r, "reps", 0) for r in reps]
    t0 = time.process_time()
    problems = [r10_problem(kind, k, r, config) for r in reps]
    objs = [p[0] for p in problems]
    res = train_adam(objs, np.stack([p[1] for p in problems]), [p[2] for p in problems], config)
    return {"rep": np.asarray(reps, dtype=np.int64), "accuracy": res.accuracy[:, -1],
            "loss": res.loss[:, -1], "curve_accuracy": res.accuracy, "curve_loss": res.loss,
            "theta": res.theta, "theta_norm": np.linalg.norm(res.theta, axis=1),
            "cpu": np.float64(time.process_time() - t0)}


# ------------------------------------------------------------------ running
@dataclass
class R10Result:
    """Arrays keyed ``"<kind>/k<k>/<field>"`` (fields of :func:`r10_task`), the config, metadata."""

    arrays: dict
    config: R10Config
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.arrays[name]

    def get(self, kind: str, k: int, name: str) -> np.ndarray:
        """One field of one kind and width, e.g. ``get("random", 4, "accuracy")``."""
        key = f"{check_choice(kind, 'kind', list(KINDS))}/k{check_int(k, 'k', 1)}/{name}"
        if key not in self.arrays:
            raise KeyError(f"no {key!r} in this result")
        return self.arrays[key]

    @property
    def cells(self) -> list:
        """The (kind, k) pairs this result holds, in the order of KINDS and config.ks."""
        return [(kind, k) for kind in KINDS for k in self.config.ks
                if f"{kind}/k{k}/accuracy" in self.arrays]


def _tasks(config, kinds, ks, reps):
    reps = list(reps)
    blocks = [reps[i:i + config.block] for i in range(0, len(reps), config.block)]
    # the widest networks first: the long tasks start early and the two workers finish together
    return [(kind, k, tuple(b)) for k in sorted(ks, reverse=True) for kind in kinds for b in blocks]


def run_r10(config: R10Config | None = None, *, jobs: int = 1, progress: bool = True,
            kinds=KINDS, ks=None, reps=None) -> R10Result:
    """Every run of the experiment through :func:`lossland.runner.run` (tasks of ``config.block`` reps).

    ``ks`` (default ``config.ks``) and ``reps`` (default ``range(config.reps)``)
    select a subset (the chapter reruns a few inline). Results do not depend
    on ``jobs``. ``meta["timing"]`` holds the wall time and the CPU seconds.
    """
    config = _check_config(config)
    kinds = [check_choice(kd, "kinds", list(KINDS)) for kd in kinds]
    ks = config.ks if ks is None else _positive_ints(ks, "ks")
    reps = range(config.reps) if reps is None else [check_int(r, "reps", 0) for r in reps]
    tasks = _tasks(config, kinds, ks, reps)
    t0 = time.perf_counter()
    results = run(partial(r10_task, config=config), tasks, jobs=jobs, progress=progress,
                  desc="R10 runs")
    wall = time.perf_counter() - t0
    parts, cpu = {}, {}
    for (kind, k, _), res in zip(tasks, results):
        key = f"{kind}/k{k}"
        cpu[key] = cpu.get(key, 0.0) + float(res.pop("cpu"))
        for name, value in res.items():
            parts.setdefault(f"{key}/{name}", []).append(value)
    arrays = {}
    for kind in KINDS:
        for k in config.ks:
            key = f"{kind}/k{k}"
            if f"{key}/rep" not in parts:
                continue
            order = np.argsort(np.concatenate(parts[f"{key}/rep"]), kind="stable")
            for name in ("rep", "accuracy", "loss", "curve_accuracy", "curve_loss", "theta",
                         "theta_norm"):
                arrays[f"{key}/{name}"] = np.concatenate(parts[f"{key}/{name}"])[order]
    meta = {"timing": {"wall_seconds": round(wall, 1), "jobs": int(jobs),
                       "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
                       "cpu_seconds_total": round(sum(cpu.values()), 1)}}
    return R10Result(arrays, config, meta)


def r10_parameters(config: R10Config | None = None) -> dict:
    """What makes an R10 result: the config, the data and the protocol (the cache's ``parameters``)."""
    config = _check_config(config)
    return {**asdict(config),
            "data": "sklearn.datasets.load_digits, X = pixels / 16, all 1797 samples (training set)",
            "network": "d-2k-k-10, biases, softmax, mean cross-entropy",
            "init": "He normal (sd sqrt(2 / fan_in)), zero biases",
            "masks": "Bernoulli(1/2) per training sample and node (002 eq. (8))",
            "seeding": "SeedSequence(seed, spawn_key=(k, rep)).spawn(3): init, order, masks"}


def r10_command(config: R10Config | None = None, jobs: int = 2, out=None) -> str:
    """The command line of :func:`main` that makes the cache of ``config``."""
    config = _check_config(config)
    default = R10Config()
    cmd = ["--jobs", str(jobs)]
    if config.ks != default.ks:
        cmd += ["--ks", ",".join(map(str, config.ks))]
    for name in ("reps", "epochs", "block", "seed"):
        if getattr(config, name) != getattr(default, name):
            cmd += [f"--{name}", str(getattr(config, name))]
    if out is not None and Path(out).resolve() != R10_DIR:
        cmd += ["--out", str(out)]
    return ".venv/bin/python -m lossland.relu_regions.digits " + " ".join(cmd)


_OWN_KEYS = ("parameters", "versions", "regenerate", "arrays", "npz_sha256", "created")


def save_r10(result: R10Result, directory=None, regenerate: str | None = None):
    """Write ``r10.npz`` and ``r10.json`` (:func:`lossland.runner.save_cached`) with timings in the record."""
    if not isinstance(result, R10Result):
        raise TypeError(f"result must be an R10Result, got {type(result).__name__}")
    directory = Path(R10_DIR if directory is None else directory)
    regenerate = r10_command(result.config, out=directory) if regenerate is None else regenerate
    meta = {"experiment": "R10: 002 Section 4.2, Table 1, eq. (8), on sklearn's load_digits",
            **{k: v for k, v in result.meta.items() if k not in _OWN_KEYS}}
    return save_cached(directory, "r10", result.arrays, r10_parameters(result.config),
                       regenerate=regenerate, meta=meta)


def load_r10(directory=None, config: R10Config | None = None) -> R10Result:
    """Read the R10 cache (:func:`lossland.runner.load_cached`), refusing one made otherwise.

    A cache made with another config (default :class:`R10Config`) or
    protocol, or by another lossland version, or a missing or corrupt file,
    raises a :class:`lossland.runner.CacheError` naming the file, what
    differs and the command that regenerates it.
    """
    config = _check_config(config)
    directory = Path(R10_DIR if directory is None else directory)
    cached = load_cached(directory, "r10", params=r10_parameters(config),
                         regenerate=r10_command(config, out=directory))
    return R10Result(cached.arrays, config, cached.record)


def replay_r10(result: R10Result, kind: str, k: int, reps=None) -> dict:
    """Recompute the final training accuracy and loss from the cached end points (deterministic).

    Rebuilds the masks from the seeds, evaluates every cached ``theta``
    (forward pass only) and returns ``accuracy``, ``loss`` (recomputed),
    ``cached_accuracy``, ``cached_loss`` and ``near_ties`` (samples whose
    two largest logits differ by less than 1e-9 of their size, where another
    BLAS kernel could flip the prediction). Training itself is not replayed.
    """
    if not isinstance(result, R10Result):
        raise TypeError(f"result must be an R10Result, got {type(result).__name__}")
    all_reps = result.get(kind, k, "rep")
    pos = {int(r): i for i, r in enumerate(all_reps)}
    reps = list(all_reps) if reps is None else [check_int(r, "reps", 0) for r in reps]
    rows = []
    for r in reps:
        if int(r) not in pos:
            raise ValueError(f"rep {r} is not in this result")
        rows.append(pos[int(r)])
    acc, loss, ties = [], [], []
    for r, i in zip(reps, rows):
        obj, _, _ = r10_problem(kind, k, int(r), result.config)
        theta = result.get(kind, k, "theta")[i]
        z = obj.logits(theta)
        top = np.sort(z, axis=1)[:, -2:]
        ties.append(int(np.sum(top[:, 1] - top[:, 0] <= 1e-9 * np.maximum(1.0, np.abs(top[:, 1])))))
        acc.append(obj.accuracy(theta))
        loss.append(obj.value(theta))
    return {"reps": np.asarray(reps), "accuracy": np.asarray(acc), "loss": np.asarray(loss),
            "cached_accuracy": result.get(kind, k, "accuracy")[rows],
            "cached_loss": result.get(kind, k, "loss")[rows], "near_ties": np.asarray(ties)}


# ------------------------------------------------------------------- tables
def summary_table(result: R10Result) -> list[dict]:
    """Per (kind, k): training accuracy in %, mean, standard deviation (ddof = 1), min, max, n."""
    if not isinstance(result, R10Result):
        raise TypeError(f"result must be an R10Result, got {type(result).__name__}")
    rows = []
    for kind, k in result.cells:
        a = 100.0 * result.get(kind, k, "accuracy")
        rows.append({"kind": kind, "k": k, "n": a.size, "mean": float(a.mean()),
                     "sd": float(a.std(ddof=1)) if a.size > 1 else float("nan"),
                     "min": float(a.min()), "max": float(a.max()),
                     "loss": float(np.mean(result.get(kind, k, "loss")))})
    return rows


def format_table(rows, digits: int = 2) -> str:
    """Table 1's layout: one line per kind, one column "mean ± sd" per k (fits 75 characters for 5 k)."""
    digits = check_int(digits, "digits", 0, 4)
    ks = sorted({r["k"] for r in rows})
    cell = {(r["kind"], r["k"]): r for r in rows}
    width = 8 + 2 * digits
    lines = [f"{'':8}" + "".join(f"{'k = ' + str(k):>{width + 1}}" for k in ks)]
    for kind in KINDS:
        if not any((kind, k) in cell for k in ks):
            continue
        parts = []
        for k in ks:
            r = cell.get((kind, k))
            parts.append(f"{'-':>{width + 1}}" if r is None else
                         f"{r['mean']:>{digits + 4}.{digits}f}±{r['sd']:<{digits + 3}.{digits}f}"
                         .rjust(width + 1))
        lines.append(f"{kind:8}" + "".join(parts))
    return "\n".join(line.rstrip() for line in lines)


def compare_statistically(live: R10Result, cached: R10Result, *, z: float = 4.0,
                          floor: float = 1.0) -> list[dict]:
    """Is each live mean accuracy a sample of the cached distribution? One row per (kind, k) of ``live``.

    A rerun on another machine is a new sample (training amplifies the last
    bits of the BLAS kernels). Each row has the live and cached means (%),
    the cached standard deviation, the margin
    ``max(z * sd_cached / sqrt(n_live), floor)`` (percentage points) and
    ``ok`` = |live mean - cached mean| <= margin.
    """
    for name, res in (("live", live), ("cached", cached)):
        if not isinstance(res, R10Result):
            raise TypeError(f"{name} must be an R10Result, got {type(res).__name__}")
    rows = []
    for kind, k in live.cells:
        a = 100.0 * live.get(kind, k, "accuracy")
        c = 100.0 * cached.get(kind, k, "accuracy")
        sd = float(c.std(ddof=1))
        margin = max(z * sd / np.sqrt(a.size), floor)
        diff = float(a.mean() - c.mean())
        rows.append({"kind": kind, "k": k, "n_live": a.size, "live": float(a.mean()),
                     "cached": float(c.mean()), "sd_cached": sd, "diff": diff, "margin": margin,
                     "ok": abs(diff) <= margin})
    return rows


# ---------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    """``python -m lossland.relu_regions.digits [--jobs J] [--reps R] [--epochs E] [--ks ...] [--out DIR]``"""
    default = R10Config()
    parser = argparse.ArgumentParser(prog="python -m lossland.relu_regions.digits",
                                     description="R10 (002 Section 4.2, Table 1): random vs rich "
                                                 "subglobal minima on sklearn's digits; writes data/r10/.")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--reps", type=int, default=default.reps)
    parser.add_argument("--epochs", type=int, default=default.epochs)
    parser.add_argument("--ks", default=",".join(map(str, default.ks)), help="widths k, e.g. 1,2,4,8,16")
    parser.add_argument("--block", type=int, default=default.block, help="repetitions per task")
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--out", default=str(R10_DIR), help="output directory (default data/r10)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        ks = tuple(int(s) for s in args.ks.split(","))
        config = R10Config(ks=ks, reps=args.reps, epochs=args.epochs, block=args.block, seed=args.seed)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    load = os.getloadavg if hasattr(os, "getloadavg") else (lambda: None)
    start_load = load()
    result = run_r10(config, jobs=args.jobs, progress=not args.no_progress)
    end_load = load()
    import sklearn
    timing = result.meta["timing"]
    timing.update({"cpu_seconds_total_over_jobs": round(timing["cpu_seconds_total"] / args.jobs, 1),
                   "cores": os.cpu_count(),
                   "load_average_1_5_15_min_at_start": None if start_load is None else
                   [round(v, 2) for v in start_load],
                   "load_average_1_5_15_min_at_end": None if end_load is None else
                   [round(v, 2) for v in end_load]})
    result.meta["sklearn"] = sklearn.__version__
    npz, js = save_r10(result, args.out, r10_command(config, args.jobs, args.out))
    print(f"wrote {npz} and {js} ({timing['wall_seconds']} s wall, "
          f"{timing['cpu_seconds_total']} s CPU, {args.jobs} jobs)")
    return 0


if __name__ == "__main__":
    # run the module's own main, not this __main__ copy: the workers unpickle
    # the task function by reference to lossland.relu_regions.digits
    from lossland.relu_regions.digits import main as _main
    raise SystemExit(_main())
