"""Explicit constructions of local minima: the Fukumizu-Amari base case and its wide embeddings.

Paper 000, Section V-B (Theorem 5, Theorem 7, Remark 2); paper 001,
Section 5.2 (Theorem 8, Theorem 13, Remarks 11 and 14):

1. data from a 1-2-1 teacher, so that a 1-2-1 network fits them exactly;
2. a 1-1-1 student trained to a suboptimal local minimum theta* with a
   positive definite Hessian (001 asks for an *isolated* local minimum);
3. B^1_{1,1} of eq. (1) at theta* (a real number: the papers' 1-1-1 has
   the two parameters [u*_{1,1}, v*_{.,1}], no biases);
4. gamma_lambda^1 applied t times with the same lambda gives a 1-(t+1)-1
   network at a local minimum when B > 0 and lambda in (0, 1) (or B < 0
   and lambda outside [0, 1]); with t + 1 > N the network is wide.

After t embeddings of the same neuron r (all copies share the incoming
weights u*, their outgoing weights v_k sum to v*), the Hessian of the
squared loss splits, with rho_k = v_k / v* and delta u_k = delta a / v* + e_k,
sum_k v_k e_k = 0, into

    H[delta] = H_small[(delta a / v*, sum_k delta v_k, w_bar)] + 2c sum_k rho_k e_k^T B e_k

(B of the smaller network, eq. (1) of 000, D = 0 by Proposition 1(i)).
So when H_small is positive definite, B is positive definite and every
rho_k > 0, the kernel of H is exactly the t * n_{l+1} dimensional space of
outgoing-weight redistributions among the copies (sum_k delta v_{s,k} = 0);
no direction of the incoming weights or of w_bar enters it. If some
rho_j < 0 the choice e_j = w, e_k = -rho_j w / (1 - rho_j) (k != j) gives
the value 2c rho_j / (1 - rho_j) w^T B w < 0: a saddle.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_objective, check_real
from ..datasets import teacher_student
from ..derivatives import SquaredLoss
from ..embedding import B_matrix, Definiteness, definiteness, embed_repeatedly
from ..network import Network
from ._objective import ObjectiveParts
from ..optimize import CriticalPoint, find_critical_point

__all__ = [
    "BOOK_EXAMPLE",
    "BaseCase",
    "fa_teacher_data",
    "fukumizu_amari_base_case",
    "fukumizu_amari_example",
    "wide_embedding",
    "copy_weights",
]

BOOK_EXAMPLE = dict(n_samples=8, data_seed=9, weight_scale=2.0, low=-2.0, high=2.0)
"""Teacher-data parameters of the book's example (chapters P4 and P9).

Chosen by the scan shown in P4: the 1-1-1 student has a strict local
minimum with B^1_{1,1} > 0 and a loss far above round-off, while the
1-2-1 teacher fits the 8 samples exactly.
"""


@dataclass
class BaseCase(ObjectiveParts):
    """A strict local minimum of a 1-1-1 student and its B (000 Section V-B, 001 Section 5.2).

    ``objective`` is the student's loss (network, data, normalisation);
    ``seed`` is the student start seed that produced ``theta``; ``tried``
    lists ``(seed, reason)`` for the starts rejected before it, in order.
    ``hessian`` is the definiteness verdict of the exact Hessian at
    ``theta`` and ``B_verdict`` that of B^1 (eq. (1) of 000).
    """

    objective: SquaredLoss
    theta: np.ndarray
    seed: int
    critical_point: CriticalPoint
    hessian: Definiteness
    B: np.ndarray
    B_verdict: Definiteness
    tried: list = field(default_factory=list)
    teacher: Network | None = None
    teacher_theta: np.ndarray | None = None

    @property
    def loss(self) -> float:
        return self.critical_point.loss

    @property
    def B_sign(self) -> int:
        """+1 (B positive definite), -1 (negative definite) or 0 (neither)."""
        if self.B_verdict.positive_definite:
            return 1
        return -1 if self.B_verdict.negative_definite else 0


def fa_teacher_data(n_samples: int = BOOK_EXAMPLE["n_samples"], data_seed: int = BOOK_EXAMPLE["data_seed"], *,
                    activation="sigmoid", biases: bool = False,
                    weight_scale: float = BOOK_EXAMPLE["weight_scale"], low: float = BOOK_EXAMPLE["low"],
                    high: float = BOOK_EXAMPLE["high"]):
    """Data of a random 1-2-1 teacher (000 Section V-B, 001 Section 5.2).

    Returns ``(teacher, teacher_theta, X, y)`` with ``y = f_teacher(X)``
    exactly, so the 1-2-1 architecture reaches loss 0. Thin wrapper on
    :func:`lossland.datasets.teacher_student` with the book's defaults.
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    data_seed = check_int(data_seed, "data_seed", 0)
    teacher = Network((1, 2, 1), activation, biases=biases)
    X, y, theta = teacher_student(teacher, n_samples, data_seed, low=low, high=high,
                                  weight_scale=check_real(weight_scale, "weight_scale", positive=True))
    return teacher, theta, X, y


def _B_scale(net: Network, theta, obj: SquaredLoss) -> float:
    """max_ij sum_alpha |(f - y) v* sigma''(n(1, 0)) x_i x_j|: the size of B's summands.

    B (eq. (1)) is a sum of terms of both signs; round-off and an inexact
    critical point are relative to this scale, not to |B| itself (a 1x1
    B is otherwise "definite" whenever it is not exactly 0).
    """
    fw = net.forward(theta, obj.X)
    W, _ = net.unflatten(theta)
    a = fw.act[0]
    if net.biases:
        a = np.hstack([a, np.ones((a.shape[0], 1))])
    w = np.abs((fw.output - obj.y) * W[2][0, 0] * net.activation.d2(fw.pre[1][:, 0]))
    return float(((np.abs(a) * w[:, None]).T @ np.abs(a)).max())


def fukumizu_amari_base_case(objective: SquaredLoss, *, seeds=range(20), init_scale: float = 1.0,
                             gtol: float = 1e-10, max_abs_param: float = 20.0, min_margin: float = 1e3,
                             require_B: str | None = "definite") -> BaseCase:
    """Search the start seeds in order for a strict local minimum of the 1-1-1 student.

    000 Section V-B / 001 Section 5.2: "we find parameters [u*_{1,1}, v*]
    where the loss is in an (isolated) local minimum with non-zero loss".
    ``objective`` is the student's loss: a network of widths (1, 1, 1)
    (any activation, with or without biases), the data, the normalisation.
    A start ``objective.net.init_params(seed, init_scale)`` is accepted
    when :func:`lossland.optimize.find_critical_point` reaches
    ``||grad|| <= gtol``, every parameter is at most ``max_abs_param`` in
    size (no drift towards a minimum at infinity, 000 Theorem 1), the exact
    Hessian is positive definite with margin >= ``min_margin`` (see
    :func:`lossland.embedding.definiteness`), and B^1 of eq. (1) satisfies
    ``require_B`` (eigenvalues count as zero below 1e3 eps times the size
    of B's summands) (``"positive"``, ``"negative"``, ``"definite"`` or
    ``None``). Raises ``ValueError`` if no seed qualifies.
    """
    if require_B not in (None, "positive", "negative", "definite"):
        raise ValueError(f"require_B must be None, 'positive', 'negative' or 'definite', got {require_B!r}")
    obj = check_objective(objective)
    net = obj.net
    if net.widths != (1, 1, 1):
        raise ValueError(f"objective must be the loss of a 1-1-1 network, got widths {net.widths}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    init_scale = check_real(init_scale, "init_scale", positive=True)
    max_abs_param = check_real(max_abs_param, "max_abs_param", positive=True)
    tried = []
    for seed in seeds:
        seed = check_int(seed, "seeds", 0)
        cp = find_critical_point(obj, net.init_params(seed, init_scale), gtol=gtol)
        if not cp.converged:
            tried.append((seed, f"not converged (||grad|| = {cp.grad_norm:.1e})"))
            continue
        if np.abs(cp.theta).max() > max_abs_param:
            tried.append((seed, f"parameters too large ({np.abs(cp.theta).max():.1f})"))
            continue
        H = obj.hessian(cp.theta)
        hd = definiteness(0.5 * (H + H.T))
        if not (hd.positive_definite and hd.margin >= min_margin):
            tried.append((seed, f"Hessian {hd.verdict} (margin {hd.margin:.2g})"))
            continue
        B = B_matrix(obj, cp.theta, 1, 0)
        bd = definiteness(B, atol=1e3 * np.finfo(float).eps * _B_scale(net, cp.theta, obj))
        ok = {None: True, "positive": bd.positive_definite, "negative": bd.negative_definite,
              "definite": bd.definite}[require_B]
        if not ok:
            tried.append((seed, f"B {bd.verdict}"))
            continue
        return BaseCase(obj, cp.theta, seed, cp, hd, B, bd, tried)
    raise ValueError(f"no seed in {seeds} gave a strict local minimum with B {require_B}: {tried}")


def fukumizu_amari_example(n_samples: int = BOOK_EXAMPLE["n_samples"], data_seed: int = BOOK_EXAMPLE["data_seed"],
                           *, require_B: str | None = "definite", **kwargs) -> BaseCase:
    """The book's base case: :func:`fa_teacher_data` then :func:`fukumizu_amari_base_case`.

    Keyword arguments go to :func:`fa_teacher_data` (``activation``,
    ``biases``, ``weight_scale``, ``low``, ``high``; the student has the
    teacher's activation and biases), ``normalization`` to the student's
    :class:`~lossland.SquaredLoss` (default ``"sum"``, the papers' loss), the
    rest to :func:`fukumizu_amari_base_case`. The teacher is stored in the
    result (``teacher``, ``teacher_theta``).
    """
    data_keys = {"activation", "biases", "weight_scale", "low", "high"}
    data_kw = {k: v for k, v in kwargs.items() if k in data_keys}
    normalization = kwargs.pop("normalization", "sum")
    teacher, t_theta, X, y = fa_teacher_data(n_samples, data_seed, **data_kw)
    student = Network((1, 1, 1), teacher.activation, biases=teacher.biases)
    base_kw = {k: v for k, v in kwargs.items() if k not in data_keys}
    base = fukumizu_amari_base_case(SquaredLoss(student, X, y, normalization), require_B=require_B, **base_kw)
    base.teacher, base.teacher_theta = teacher, t_theta
    return base


def wide_embedding(base: BaseCase, lam: float, times: int):
    """gamma_lambda^1 applied ``times`` times with the same lambda (000 proof of Theorem 7, 001 of Theorem 13).

    Returns ``(net, theta)`` of the 1-(times+1)-1 network; the copies of
    neuron r = 0 are appended last, the k-th (k = 1..times) with outgoing
    weight lambda (1 - lambda)^(k-1) v*, neuron 0 keeps (1 - lambda)^times v*.
    ``times = 0`` returns the base case itself.
    """
    if not isinstance(base, BaseCase):
        raise TypeError(f"base must be a BaseCase, got {type(base).__name__}")
    times = check_int(times, "times", 0)
    if times == 0:
        return base.net, base.theta.copy()
    return embed_repeatedly(base.net, base.theta, 1, 0, [lam] * times)


def copy_weights(v_star: float, lambdas) -> np.ndarray:
    """Outgoing weights of neuron r and its copies after gamma_{lambda_1}^r, ..., gamma_{lambda_t}^r.

    Entry 0 is neuron r: v* prod_k (1 - lambda_k); entry k is the k-th copy:
    lambda_k prod_{j<k} (1 - lambda_j) v*. They sum to v* (000 Section V:
    the network function is unchanged).
    """
    v_star = check_real(v_star, "v_star")
    lambdas = [check_real(lam, "lambdas") for lam in lambdas]
    out = [v_star]
    for lam in lambdas:
        out.append(lam * out[0])
        out[0] = (1.0 - lam) * out[0]
    return np.array(out)
