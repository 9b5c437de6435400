"""Long experiments of the book, cached in ``data/`` with what made them.

P11 (000 Section V-E and Fig. 4; 001 Section 5.5): how often is the matrix
B^r of Theorem 6 (000, eq. (1)) definite at a trained network, and how large
is D^{r,s} (eq. (2))? The reference code of 001 (repository
``petzkahe/nonattracting_regions_of_local_minima``, notebook "Checking
condtions for D and B in deeper network") does, for each seed i = 0..999:
``np.random.seed(i)``; a bias-free sigmoid teacher 2-8-12-8-1 and a student
2-4-6-4-1 with every weight ``10 * np.random.random(shape) - 5``, drawn in the
order teacher, inputs ``np.random.random((500, 2))``, student; labels are the
teacher's outputs; the student is trained with
``scipy.optimize.minimize(loss, w0, method="BFGS")`` -- default options
(``gtol=1e-5`` on the max-norm of the gradient, ``maxiter=200 * P``) and
**forward-difference** gradients (step ``sqrt(eps)``). Then, for every hidden
neuron r, it classifies B^r by the signs of ``np.linalg.eig(B)`` (strict, no
tolerance) and records the signed maximum ``D.max()``.

Three protocols are computed here for every seed (all with the loss
``sum (f - y)^2`` and 000's B and D; 001's are twice these, which changes no
sign and no ratio):

``fd``
    The paper's training, reproduced. The forward-difference gradient is
    evaluated by :class:`ReferenceFDGradient`, which computes the *same
    numbers* as scipy's 2-point scheme (bitwise: the same steps, the same
    perturbed losses, batched over the coordinates) about 4x faster; the BFGS
    trajectory is then bitwise the one of plain ``scipy.optimize.minimize``.
``exact``
    The ``fd`` end point, continued with exact derivatives
    (:func:`lossland.optimize.find_critical_point`, trust-exact with the exact
    Hessian for at most ``exact_maxiter`` = 25 iterations, then Newton
    polishing) towards a true critical point, ``||grad L|| <= gtol``. (In the
    cached run none gets there: the loss keeps falling slowly.)
``projected``
    The ``fd`` end point itself, with the labels moved by the smallest amount
    that makes it an **exact** critical point: with J = df/dtheta and the
    residual r = f - y, the labels y' = y + P_J r (P_J the orthogonal
    projection onto the range of J) leave the residual r' = (I - P_J) r, so
    grad L = 2 J^T r' = 0 up to round-off. This is where "D = 0 at a
    critical point" (000, Proposition 1 (i)) can be seen.

Regenerate the cached result (``data/p11/``; about 1500 s of CPU, i.e.
12.5 minutes on two otherwise idle cores, with a progress bar)::

    .venv/bin/python -m lossland.nonattracting.experiments p11 --seeds 1000 --jobs 2
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from numbers import Integral
from pathlib import Path

import numpy as np
import scipy
from scipy import optimize as _sopt
from scipy import stats as _stats

from .. import __version__
from ..derivatives import SquaredLoss
from ..embedding import B_matrix, D_matrix, definiteness
from ..network import Network
from ..optimize import find_critical_point
from .reference import (flat_weights, layer_shapes, legacy_uniform, reference_forward, reference_loss,
                        to_lossland, train_bfgs_fd, unflat_weights)

__all__ = [
    "P11Config",
    "P11Problem",
    "P11Result",
    "ReferenceFDGradient",
    "p11_problem",
    "train_reference_fd",
    "neuron_statistics",
    "projected_labels",
    "p11_seed",
    "p11_from_fd",
    "replay_p11",
    "FD_TRAINING_KEYS",
    "run_p11",
    "save_p11",
    "load_p11",
    "compare_results",
    "comparable_neurons",
    "definite_table",
    "d_statistics",
    "PAPER_COUNTS",
    "PAPER_BINS",
    "VERDICTS",
    "P11_DIR",
    "main",
]

P11_DIR = Path(__file__).resolve().parents[1] / "data" / "p11"
"""Where the cached P11 result lives (``data/p11/p11.npz`` and ``p11.json``)."""

PAPER_COUNTS = {1: (547, 4000), 2: (33, 6000), 3: (6, 4000)}
"""000 Section V-E: B^r positive definite in k of n cases, per hidden layer (as printed)."""

PAPER_BINS = np.array([0.0, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])
"""Bin edges of the reference code's histograms of ``D.max()`` (000, Fig. 4)."""

VERDICTS = ("positive definite", "negative definite", "positive semidefinite",
            "negative semidefinite", "zero", "indefinite")
"""Codes stored for :func:`lossland.embedding.definiteness` verdicts (index into this tuple)."""

PROTOCOLS = ("fd", "exact", "projected")
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_EPS_FD = float(np.sqrt(np.finfo(float).eps))        # scipy's default BFGS step (optimize._optimize._epsilon)
_FD_DEFAULTS = {"gtol": 1e-5, "norm": "inf", "maxiter": "200 * P", "eps": _EPS_FD}


# ------------------------------------------------------------------ config
def _widths(value, name):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}")
    out = []
    for w in value:
        if isinstance(w, bool) or not isinstance(w, Integral) or w < 1:
            raise ValueError(f"{name} must contain positive integers, got {value!r}")
        out.append(int(w))
    if len(out) < 3 or out[-1] != 1:
        raise ValueError(f"{name} must be (n_0, n_1, ..., 1) with at least one hidden layer, got {value!r}")
    return tuple(out)


@dataclass(frozen=True)
class P11Config:
    """Parameters of the P11 experiment (defaults: 000 Section V-E).

    ``exact_maxiter`` bounds the trust-exact iterations of the ``exact``
    protocol; ``gtol`` is its target gradient norm (the book's 1e-10).
    """

    teacher: tuple = (2, 8, 12, 8, 1)
    student: tuple = (2, 4, 6, 4, 1)
    n_samples: int = 500
    exact_maxiter: int = 25
    gtol: float = 1e-10

    def __post_init__(self):
        object.__setattr__(self, "teacher", _widths(self.teacher, "teacher"))
        object.__setattr__(self, "student", _widths(self.student, "student"))
        if self.teacher[0] != self.student[0]:
            raise ValueError(f"teacher and student need the same input size, got {self.teacher[0]} "
                             f"and {self.student[0]}")
        for name in ("n_samples", "exact_maxiter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(self.gtol, bool) or not isinstance(self.gtol, (int, float)) or not self.gtol > 0:
            raise ValueError(f"gtol must be a positive number, got {self.gtol!r}")

    @property
    def hidden_layers(self) -> range:
        return range(1, len(self.student) - 1)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return int(seed)


def _check_config(config):
    if config is None:
        return P11Config()
    if not isinstance(config, P11Config):
        raise TypeError(f"config must be a P11Config, got {type(config).__name__}")
    return config


# ----------------------------------------------------------------- problem
@dataclass
class P11Problem:
    """One seed of P11: inputs (N, n_0), teacher labels (N, 1), the student's start weights.

    ``student`` holds the reference code's row-vector matrices ``U_l``
    (shape ``(n_{l-1}, n_l)``); :func:`lossland.nonattracting.reference.to_lossland` converts.
    """

    seed: int
    inputs: np.ndarray
    labels: np.ndarray
    student: list


def p11_problem(seed: int, config: P11Config | None = None) -> P11Problem:
    """Draw seed ``seed`` of P11 exactly as the reference code does (000 Section V-E).

    Uses numpy's legacy global generator (``np.random.seed(seed)``) in the
    order teacher weights, inputs, student weights; the generator's previous
    state is restored afterwards.
    """
    seed, config = _check_seed(seed), _check_config(config)
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        teacher = [legacy_uniform(s) for s in layer_shapes(config.teacher)]
        inputs = np.random.random((config.n_samples, config.teacher[0]))
        with np.errstate(over="ignore"):
            labels = reference_forward(teacher, inputs)
        student = [legacy_uniform(s) for s in layer_shapes(config.student)]
    finally:
        np.random.set_state(state)
    return P11Problem(seed, inputs, labels, student)


# -------------------------------------------------- fast forward differences
class ReferenceFDGradient:
    """scipy's forward-difference gradient of :func:`lossland.nonattracting.reference.reference_loss`, batched.

    ``scipy.optimize.minimize(..., method="BFGS")`` without ``jac`` differentiates
    with ``approx_derivative(method="2-point", abs_step=sqrt(eps))``:
    h_i = sqrt(eps) (or a relative step if x_i + h_i == x_i), dx_i = (x_i + h_i) - x_i,
    g_i = (L(x + h_i e_i) - L(x)) / dx_i, one loss evaluation per coordinate.
    This class evaluates the same formula with the same floating-point
    operations for every perturbed loss (same matrix products, same sigmoid
    ``1 / (1 + exp(-z))``, same summation), but shares the layers below the
    perturbed weight and batches the coordinates of one layer, so the result
    is **bitwise** scipy's (checked in ``tests/test_experiments.py``) at a
    fraction of the cost. Only the column of the perturbed neuron is pushed
    through the sigmoid of the perturbed layer. ``scipy.optimize.approx_fprime``
    with ``epsilon = sqrt(eps)`` computes the same vector.

    Parameters are the reference's: ``inputs`` (N, n_0), ``labels`` (N, 1) or
    (N,), ``shapes`` the row-vector weight shapes.
    """

    def __init__(self, inputs, labels, shapes):
        inputs = np.asarray(inputs, dtype=float)
        if inputs.ndim != 2 or inputs.shape[0] < 1:
            raise ValueError(f"inputs must have shape (N, n_0), got {inputs.shape}")
        labels = np.asarray(labels, dtype=float).reshape(-1, 1) if np.ndim(labels) in (1, 2) else None
        if labels is None or labels.shape[0] != inputs.shape[0]:
            raise ValueError(f"labels must have shape ({inputs.shape[0]}, 1) or ({inputs.shape[0]},)")
        shapes = [tuple(int(v) for v in s) for s in shapes]
        if not shapes or shapes[0][0] != inputs.shape[1] or shapes[-1][1] != 1 or any(
                a[1] != b[0] for a, b in zip(shapes[:-1], shapes[1:])):
            raise ValueError(f"shapes must chain from n_0 = {inputs.shape[1]} to 1, got {shapes}")
        self.inputs = np.ascontiguousarray(inputs)
        self.labels = labels
        self.shapes = shapes
        self.n_params = sum(a * b for a, b in shapes)
        N, L = inputs.shape[0], len(shapes)
        self._blocks = []
        start = 0
        for m, (a, b) in enumerate(shapes):
            K = a * b
            idx = np.arange(K)
            ii, jj = np.divmod(idx, b)                     # row-major position of each weight in U_m
            blk = {"m": m, "K": K, "start": start, "idx": idx, "ii": ii, "jj": jj,
                   "res": np.empty((K, N, 1))}
            if m < L - 1:                                  # preallocated: no page faults per call
                blk["z"] = np.empty((N, K))
                blk["col"] = np.empty((K, N))
                blk["act"] = np.empty((K, N, b))
                blk["down"] = [np.empty((K * N, s[1])) for s in shapes[m + 1:-1]]
                blk["out"] = np.empty((K * N, 1))
            self._blocks.append(blk)
            start += K

    @staticmethod
    def _sigmoid_(buf):
        # 1. / (1 + np.exp(-z)) in place: the same four operations, the same results
        np.negative(buf, out=buf)
        np.exp(buf, out=buf)
        np.add(buf, 1, out=buf)
        np.divide(1., buf, out=buf)
        return buf

    def steps(self, flat) -> tuple[np.ndarray, np.ndarray]:
        """``(h, dx)`` of scipy's 2-point scheme with ``abs_step = sqrt(eps)``."""
        flat = np.asarray(flat, dtype=float)
        sign = (flat >= 0).astype(float) * 2 - 1
        h = np.full(flat.shape, _EPS_FD)
        dx = (flat + h) - flat
        h = np.where(dx == 0, _EPS_FD * sign * np.maximum(1.0, np.abs(flat)), h)
        return h, (flat + h) - flat

    def __call__(self, flat, *args) -> np.ndarray:
        """The gradient at ``flat`` (extra positional arguments, as scipy passes them, are ignored)."""
        flat = np.asarray(flat, dtype=float)
        if flat.shape != (self.n_params,) or not np.all(np.isfinite(flat)):
            raise ValueError(f"flat must be a finite vector of length {self.n_params}, got shape {flat.shape}")
        mats = unflat_weights(flat, self.shapes)
        L, N = len(mats), self.inputs.shape[0]
        with np.errstate(over="ignore"):
            acts = [self.inputs]
            for U in mats[:-1]:
                acts.append(1. / (1 + np.exp(-np.dot(acts[-1], U))))
            f0 = np.sum((np.dot(acts[-1], mats[-1]) - self.labels) ** 2)
            h, dx = self.steps(flat)
            g = np.empty_like(flat)
            for blk in self._blocks:
                m, K, s0 = blk["m"], blk["K"], blk["start"]
                idx, ii, jj = blk["idx"], blk["ii"], blk["jj"]
                pert = flat[s0:s0 + K] + h[s0:s0 + K]
                if m < L - 1:
                    cols = mats[m][:, jj]                  # column k: U_m[:, j_k] with entry i_k moved
                    cols[ii, idx] = pert
                    np.dot(acts[m], cols, out=blk["z"])    # the perturbed column of n(m+1) for each k
                    col = blk["col"]
                    col[...] = blk["z"].T
                    act = blk["act"]
                    act[...] = acts[m + 1]
                    act[idx, :, jj] = self._sigmoid_(col)
                    cur = act.reshape(K * N, -1)
                    for U, buf in zip(mats[m + 1:-1], blk["down"]):
                        np.dot(cur, U, out=buf)
                        cur = self._sigmoid_(buf)
                    out = np.dot(cur, mats[-1], out=blk["out"]).reshape(K, N, 1)
                else:                                      # output weights: the reference's own product shape
                    stack = np.repeat(mats[m][None], K, axis=0)
                    stack[idx, ii, jj] = pert
                    out = np.matmul(acts[m], stack)
                res = np.subtract(out, self.labels, out=blk["res"])
                np.square(res, out=res)
                g[s0:s0 + K] = (np.sum(res, axis=(1, 2)) - f0) / dx[s0:s0 + K]
        return g


def train_reference_fd(mats0, inputs, labels, *, fast: bool = True):
    """Train as the reference code: scipy BFGS, default options, forward-difference gradients.

    ``fast=True`` passes :class:`ReferenceFDGradient` as ``jac`` (bitwise the
    same trajectory); ``fast=False`` calls plain scipy through
    :func:`lossland.nonattracting.reference.train_bfgs_fd` with scipy's default ``gtol=1e-5``.
    Returns ``(flat, result)`` with ``flat`` in the reference's flat order.
    """
    shapes = [np.shape(m) for m in mats0]
    labels = np.asarray(labels, dtype=float).reshape(-1, 1)
    with np.errstate(over="ignore"):
        if not fast:
            mats, res = train_bfgs_fd(mats0, inputs, labels, gtol=_FD_DEFAULTS["gtol"])
            return flat_weights(mats), res
        jac = ReferenceFDGradient(inputs, labels, shapes)
        res = _sopt.minimize(reference_loss, flat_weights(mats0), (inputs, labels, shapes),
                             method="BFGS", jac=jac)
    return res.x, res


# -------------------------------------------------------------- statistics
def _verdict_code(M) -> int:
    # M is symmetric in exact arithmetic; its rounding asymmetry can exceed
    # definiteness()'s check (relative to max|M|) when cancellation makes M tiny
    return VERDICTS.index(definiteness(0.5 * (M + M.T)).verdict)


def neuron_statistics(net: Network, theta, X, y) -> dict:
    """B^r and D^{r,s} (000, eq. (1), (2)) of every hidden neuron, summarised.

    Returns, for each hidden layer l (keys suffixed ``_{l}``):
    ``B_eig`` (n_l, n_{l-1}) eigenvalues of the symmetrised B^r, ascending;
    ``B_code`` (n_l,) the :data:`VERDICTS` index of
    :func:`lossland.embedding.definiteness` (default tolerance);
    ``D_max`` the signed maximum entry (the reference's ``D.max()``);
    ``D_absmax`` the largest |entry|; ``D_scale`` the largest entry of the
    sum of absolute summands (:func:`lossland.embedding.D_matrix`), so
    ``D_absmax / D_scale`` is D relative to its own round-off scale.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossland.Network, got {type(net).__name__}")
    obj, out = SquaredLoss(net, X, y), {}
    for l in net.hidden_layers:
        n_l, n_prev = net.widths[l], net.widths[l - 1] + (1 if net.biases else 0)
        ev, code = np.empty((n_l, n_prev)), np.empty(n_l, dtype=np.int8)
        dmax, dabs, dscale = np.empty(n_l), np.empty(n_l), np.empty(n_l)
        for r in range(n_l):
            B = B_matrix(obj, theta, l, r)
            ev[r] = np.linalg.eigvalsh(0.5 * (B + B.T))
            code[r] = _verdict_code(B)
            D, S = D_matrix(obj, theta, l, r, return_scale=True)
            dmax[r], dabs[r], dscale[r] = D.max(), np.abs(D).max(), S.max()
        out.update({f"B_eig_{l}": ev, f"B_code_{l}": code, f"D_max_{l}": dmax,
                    f"D_absmax_{l}": dabs, f"D_scale_{l}": dscale})
    return out


def projected_labels(objective: SquaredLoss, theta) -> np.ndarray:
    """Labels y' = f - (I - P_J)(f - y) that make ``theta`` an exact critical point.

    P_J is the orthogonal projection onto the range of the Jacobian
    J = df/dtheta, computed from the SVD of J with numpy's numerical rank
    (singular values above ``s_max * max(N, P) * eps``). The new residual
    f - y' = (I - P_J)(f - y) is orthogonal to every column of J, so
    grad L = 2 J^T (f - y') vanishes up to round-off; y' - y = P_J (f - y) is the
    smallest change of the labels (2-norm) with this property. Entries of J
    below 1e-100 max|J| (sigmoids saturated far beyond double precision) are
    set to 0 first: they change nothing at working precision but slow LAPACK
    down a hundredfold (subnormal arithmetic).
    """
    if not isinstance(objective, SquaredLoss):
        raise TypeError(f"objective must be a lossland.SquaredLoss, got {type(objective).__name__}")
    theta = objective.net.check_params(theta)
    J = _flush_tiny(objective.jacobian(theta))
    f = objective.net(theta, objective.X)
    r = f - objective.y
    U, s, _ = np.linalg.svd(J, full_matrices=False)
    k = int(np.sum(s > s[0] * max(J.shape) * np.finfo(float).eps)) if s.size and s[0] > 0 else 0
    Uk = U[:, :k]
    r_new = r - Uk @ (Uk.T @ r)
    return f - r_new


def _flush_tiny(A, rel=1e-100):
    # entries below rel * max|A| (sigmoids saturated far beyond double precision)
    # change nothing at working precision but make LAPACK compute with subnormal
    # numbers, a hundred times slower: set them to 0
    A = np.array(A, dtype=float)
    A[np.abs(A) < max(rel * np.abs(A).max(initial=0.0), np.finfo(float).tiny)] = 0.0
    return A


def _hessian_summary(obj, theta, prefix):
    H = _flush_tiny(obj.hessian(theta))
    H = 0.5 * (H + H.T)
    ev = np.linalg.eigvalsh(H)
    return {f"{prefix}_hess_min": ev[0], f"{prefix}_hess_max": ev[-1],
            f"{prefix}_hess_code": np.int8(_verdict_code(H))}


def p11_seed(seed: int, config: P11Config | None = None) -> dict:
    """All three protocols for one seed; a flat dict of numpy values (see the module docstring).

    The fd training is :func:`train_reference_fd`; everything after it is
    :func:`p11_from_fd` on its end point.
    """
    config = _check_config(config)
    prob = p11_problem(seed, config)
    t0 = time.process_time()
    flat, res = train_reference_fd(prob.student, prob.inputs, prob.labels)
    _, theta = to_lossland(unflat_weights(flat, [np.shape(m) for m in prob.student]))
    out = {"seed": np.int64(prob.seed), "fd_ref_loss": float(res.fun), "fd_nit": np.int64(res.nit),
           "fd_nfev": np.int64(res.nfev), "fd_status": np.int8(res.status),
           "fd_fdgrad_inf": float(np.abs(res.jac).max()), "fd_theta": theta}
    train_cpu = time.process_time() - t0
    out.update(p11_from_fd(prob.seed, theta, config))
    out["fd_cpu"] += train_cpu
    return out


FD_TRAINING_KEYS = ("fd_ref_loss", "fd_nit", "fd_nfev", "fd_status", "fd_fdgrad_inf", "fd_theta")
"""Quantities of the fd training itself; :func:`p11_from_fd` computes every other one from ``fd_theta``."""


def p11_from_fd(seed: int, theta, config: P11Config | None = None) -> dict:
    """Everything P11 records that follows from an fd end point ``theta`` (lossland order).

    The fd point's loss, exact gradient, Hessian and neuron statistics, the
    ``exact`` continuation and the ``projected`` labels. These are
    deterministic functions of ``theta`` that do not amplify round-off the way
    2000 BFGS iterations on forward differences do, so recomputing them from a
    cached ``theta`` on another machine reproduces the cache up to round-off
    (:func:`replay_p11`), while rerunning the training itself does not.
    """
    config = _check_config(config)
    prob = p11_problem(seed, config)
    X, y = prob.inputs, prob.labels[:, 0]
    net = Network(config.student, "sigmoid", biases=False)
    theta = net.check_params(theta, "theta")
    obj = SquaredLoss(net, X, y)
    out = {"seed": np.int64(prob.seed)}
    t0 = time.process_time()
    out.update({"fd_loss": obj.value(theta), "fd_grad_norm": float(np.linalg.norm(obj.gradient(theta)))})
    out.update(_hessian_summary(obj, theta, "fd"))
    out.update({f"fd_{k}": v for k, v in neuron_statistics(net, theta, X, y).items()})
    out["fd_cpu"] = time.process_time() - t0
    # exact: exact-derivative continuation towards a true critical point
    t0 = time.process_time()
    try:
        cp = find_critical_point(obj, theta, method="trust-exact", gtol=config.gtol,
                                 maxiter=config.exact_maxiter)
        theta_exact, failed = cp.theta, False
    except (ValueError, np.linalg.LinAlgError):                # recorded, not fatal for a long run
        cp, theta_exact, failed = None, theta, True
    out.update({"exact_failed": failed,
                "exact_loss": np.nan if failed else cp.loss,
                "exact_grad_norm": np.nan if failed else cp.grad_norm,
                "exact_converged": False if failed else bool(cp.converged),
                "exact_nit": np.int64(-1 if failed else cp.iterations),
                "exact_newton": np.int64(-1 if failed else cp.newton_steps),
                "exact_step": float(np.linalg.norm(theta_exact - theta)), "exact_theta": theta_exact})
    out.update(_hessian_summary(obj, theta_exact, "exact"))
    out.update({f"exact_{k}": v for k, v in neuron_statistics(net, theta_exact, X, y).items()})
    out["exact_cpu"] = time.process_time() - t0
    # projected: the fd end point made exactly critical by moving the labels
    t0 = time.process_time()
    y2 = projected_labels(obj, theta)
    obj2 = SquaredLoss(net, X, y2)
    r = obj.residuals(theta)
    J, r2 = obj2.jacobian(theta), obj2.residuals(theta)
    out.update({"projected_loss": obj2.value(theta),
                "projected_grad_norm": float(np.linalg.norm(obj2.gradient(theta))),
                "projected_grad_scale": float(np.linalg.norm(2 * np.abs(J).T @ np.abs(r2))),
                "projected_label_shift": float(np.linalg.norm(y2 - y)),
                "projected_label_norm": float(np.linalg.norm(y)),
                "projected_residual_norm": float(np.linalg.norm(r))})
    out.update(_hessian_summary(obj2, theta, "projected"))
    out.update({f"projected_{k}": v for k, v in neuron_statistics(net, theta, X, y2).items()})
    out["projected_cpu"] = time.process_time() - t0
    return out


# ----------------------------------------------------------------- running
@dataclass
class P11Result:
    """Stacked per-seed results (``arrays[name][i]`` belongs to ``arrays["seed"][i]``) and metadata."""

    arrays: dict
    config: P11Config
    meta: dict = field(default_factory=dict)

    @property
    def seeds(self) -> np.ndarray:
        return self.arrays["seed"]

    def __getitem__(self, name):
        return self.arrays[name]

    def select(self, seeds) -> "P11Result":
        """The rows of the given seeds, in that order."""
        pos = {int(s): i for i, s in enumerate(self.seeds)}
        try:
            rows = [pos[int(s)] for s in seeds]
        except KeyError as exc:
            raise ValueError(f"seed {exc.args[0]} is not in this result") from None
        return P11Result({k: v[rows] for k, v in self.arrays.items()}, self.config, dict(self.meta))


def _stack(records):
    return {k: np.stack([np.asarray(rec[k]) for rec in records]) for k in records[0]}


def _worker(args):
    seed, config = args
    return p11_seed(seed, config)


def run_p11(seeds, config: P11Config | None = None, jobs: int = 1, progress: bool = True) -> P11Result:
    """Run :func:`p11_seed` for every seed, ``jobs`` processes in parallel, with a tqdm bar.

    The result does not depend on ``jobs`` (each seed is computed alone).
    """
    config = _check_config(config)
    seeds = [_check_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must not repeat")
    if isinstance(jobs, bool) or not isinstance(jobs, Integral) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    from tqdm import tqdm

    tasks = [(s, config) for s in seeds]
    bar = tqdm(total=len(seeds), desc="P11 seeds", disable=not progress, file=sys.stderr)
    t0 = time.perf_counter()
    records = []
    if jobs == 1:
        for task in tasks:
            records.append(_worker(task))
            bar.update()
    else:
        import multiprocessing as mp

        # fresh interpreters with single-threaded BLAS: these matrices are too
        # small for threads, and idle BLAS threads spinning cost CPU time
        saved = {k: os.environ.get(k) for k in _THREAD_VARS}
        os.environ.update({k: "1" for k in _THREAD_VARS})
        try:
            pool = mp.get_context("spawn").Pool(jobs)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        with pool:
            for rec in pool.imap(_worker, tasks, chunksize=1):
                records.append(rec)
                bar.update()
    bar.close()
    wall = time.perf_counter() - t0
    arrays = _stack(records)
    meta = {"timing": {"wall_seconds": round(wall, 1), "jobs": int(jobs),
                       "cpu_seconds": {p: round(float(arrays[f"{p}_cpu"].sum()), 1) for p in PROTOCOLS}}}
    return P11Result(arrays, config, meta)


def replay_p11(cached: "P11Result", seeds=None, progress: bool = False) -> "P11Result":
    """Recompute, from the cached fd end points, everything :func:`p11_from_fd` records.

    The fd training (about 2000 BFGS iterations on forward differences) is
    chaotic: on another CPU, whose BLAS kernels round in another order, it ends
    at another point, so rerunning it is a new sample, not a check of the
    cache. What follows from the end point is not chaotic; compare the replay
    with the cache by :func:`compare_results` (the training's own quantities,
    :data:`FD_TRAINING_KEYS`, are not in the replay).
    """
    if not isinstance(cached, P11Result):
        raise TypeError(f"cached must be a P11Result, got {type(cached).__name__}")
    sub = cached if seeds is None else cached.select(seeds)
    from tqdm import tqdm

    records = [p11_from_fd(int(s), th, sub.config)
               for s, th in tqdm(list(zip(sub.seeds, sub["fd_theta"])), desc="P11 replay",
                                 disable=not progress, file=sys.stderr)]
    return P11Result(_stack(records), sub.config, {})


def _versions():
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "lossland": __version__}


def save_p11(result: P11Result, directory=None, command: str | None = None) -> tuple[Path, Path]:
    """Write ``p11.npz`` (compressed arrays) and ``p11.json`` (parameters, versions, timings)."""
    if not isinstance(result, P11Result):
        raise TypeError(f"result must be a P11Result, got {type(result).__name__}")
    directory = Path(P11_DIR if directory is None else directory)
    directory.mkdir(parents=True, exist_ok=True)
    npz, js = directory / "p11.npz", directory / "p11.json"
    np.savez_compressed(npz, **result.arrays)
    seeds = [int(s) for s in result.seeds]
    contiguous = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    meta = {
        "experiment": "P11: 000 Section V-E / 001 Section 5.5, Fig. 4",
        "command": command or ".venv/bin/python -m lossland.nonattracting.experiments p11 --seeds 1000 --jobs 2",
        "parameters": {**asdict(result.config),
                       "seeds": {"first": seeds[0], "count": len(seeds)} if contiguous else seeds,
                       "fd_bfgs_options": _FD_DEFAULTS,
                       "exact_method": "trust-exact, then Newton polish (lossland.optimize.find_critical_point)"},
        "versions": _versions(),
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        **result.meta,
    }
    js.write_text(json.dumps(meta, indent=1) + "\n")
    return npz, js


def load_p11(directory=None) -> P11Result:
    """Read a result written by :func:`save_p11`."""
    directory = Path(P11_DIR if directory is None else directory)
    npz, js = directory / "p11.npz", directory / "p11.json"
    if not npz.exists() or not js.exists():
        raise FileNotFoundError(f"no cached P11 result in {directory}; regenerate with "
                                f"`.venv/bin/python -m lossland.nonattracting.experiments p11 --seeds 1000 --jobs 2`")
    meta = json.loads(js.read_text())
    p = meta["parameters"]
    config = P11Config(tuple(p["teacher"]), tuple(p["student"]), p["n_samples"], p["exact_maxiter"], p["gtol"])
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    return P11Result(arrays, config, meta)


def _noise_floor(result: P11Result, name: str) -> np.ndarray | float:
    """1e-10 of the round-off scale of quantity ``name`` (differences below it are noise)."""
    a = result.arrays
    prefix, _, rest = name.partition("_")
    if rest.startswith("D_") and rest[-2] == "_":                  # D_max_l, D_absmax_l, D_scale_l
        return 1e-10 * a[f"{prefix}_D_scale_{rest[-1]}"]
    if rest.startswith("B_eig_"):
        return 1e-10 * np.abs(a[name]).max(axis=-1, keepdims=True)
    if rest in ("hess_min", "hess_max"):
        return 1e-10 * np.abs(a[f"{prefix}_hess_max"])
    if name == "projected_grad_norm":
        return 1e-10 * a["projected_grad_scale"]
    return 0.0


def compare_results(live: P11Result, cached: P11Result) -> dict:
    """How far ``live`` is from ``cached`` (same seeds), quantity by quantity; timings excluded.

    Only the quantities that ``live`` holds are compared (a :func:`replay_p11`
    holds everything but the fd training's own numbers).

    Integer and boolean quantities (iteration counts, verdict codes, flags)
    give 0 if equal and ``inf`` otherwise. Real quantities give the largest
    ``|live - cached| / |cached|`` over the entries whose difference exceeds
    1e-10 of their round-off scale (D relative to the sum of |summands|, B and
    Hessian eigenvalues relative to the largest one, the projected gradient
    relative to 2 |J|^T |r|): on the same machine and library versions
    everything is 0 (the runs are deterministic); thread counts move only
    round-off-level numbers, which are ignored.
    """
    for name, res in (("live", live), ("cached", cached)):
        if not isinstance(res, P11Result):
            raise TypeError(f"{name} must be a P11Result, got {type(res).__name__}")
    if not np.array_equal(live.seeds, cached.seeds):
        raise ValueError("live and cached must hold the same seeds in the same order (use .select)")
    out = {}
    for k in cached.arrays:
        if k.endswith("_cpu") or k == "seed" or k not in live.arrays:
            continue
        a, b = live.arrays[k], cached.arrays[k]
        if a.shape != b.shape:
            out[k] = np.inf
        elif b.dtype.kind in "biu":
            out[k] = 0.0 if np.array_equal(a, b) else np.inf
        else:
            diff = np.abs(a - b)
            big = diff > _noise_floor(cached, k)
            both_nan = np.isnan(a) & np.isnan(b)
            big &= ~both_nan
            out[k] = float(np.max(diff[big] / np.abs(b[big]), initial=0.0)) if big.any() else 0.0
    return out


# ------------------------------------------------------------------ tables
def comparable_neurons(config: P11Config, layer: int) -> int:
    """Neurons the reference code's tally visits in ``layer``: its layer-2 loop stops at n_1.

    The tally of the second hidden layer runs ``for r in range(dim_layer_1)``,
    so only neurons 0..n_1-1 of that layer are counted (4 of 6), while the
    printed denominator is ``seeds * n_2``.
    """
    config = _check_config(config)
    if layer not in config.hidden_layers:
        raise ValueError(f"layer must be a hidden layer in {list(config.hidden_layers)}, got {layer!r}")
    n = config.student[layer]
    return min(n, config.student[1]) if layer == 2 else n


def _ci(k, n):
    ci = _stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def definite_table(result: P11Result, protocol: str = "fd", paper: dict | None = None) -> list[dict]:
    """How often B^r is positive definite, per hidden layer, in both conventions.

    ``comparable``: the reference code's conventions -- strict signs of the
    eigenvalues (no tolerance) and its neuron range (:func:`comparable_neurons`).
    ``correct``: every neuron, verdict of :func:`lossland.embedding.definiteness`.
    Each row has ``k``, ``n``, the proportion, the Clopper-Pearson 95% interval
    and, for ``comparable``, the paper's count over the slots its code visited
    (``paper_k``, ``paper_n``), whether that proportion lies in the interval
    and the two-sided p-value of Fisher's exact test of equal proportions.
    Negative definite counts are in ``neg_k`` (Theorem 6 admits them too).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    paper = PAPER_COUNTS if paper is None else paper
    S = len(result.seeds)
    rows = []
    for l in result.config.hidden_layers:
        ev = result[f"{protocol}_B_eig_{l}"]
        code = result[f"{protocol}_B_code_{l}"]
        nc = comparable_neurons(result.config, l)
        k_cmp = int(np.all(ev[:, :nc] > 0, axis=2).sum())
        neg_cmp = int(np.all(ev[:, :nc] < 0, axis=2).sum())
        k_cor = int((code == VERDICTS.index("positive definite")).sum())
        neg_cor = int((code == VERDICTS.index("negative definite")).sum())
        for conv, k, n, neg in (("comparable", k_cmp, S * nc, neg_cmp), ("correct", k_cor, S * ev.shape[1], neg_cor)):
            lo, hi = _ci(k, n)
            row = {"protocol": protocol, "layer": l, "convention": conv, "k": k, "n": n, "p": k / n,
                   "ci_low": lo, "ci_high": hi, "neg_k": neg}
            if conv == "comparable" and l in paper:
                pk, pn_printed = paper[l]
                pn = pn_printed * nc // ev.shape[1]        # the slots the reference code visited
                row.update({"paper_k": pk, "paper_n": pn, "paper_n_printed": pn_printed,
                            "paper_inside": bool(lo <= pk / pn <= hi),
                            "fisher_p": float(_stats.fisher_exact([[k, n - k], [pk, pn - pk]])[1])})
            rows.append(row)
    return rows


def d_statistics(result: P11Result, protocol: str, layer: int) -> dict:
    """The D summaries of one protocol and hidden layer, flattened over seeds and neurons.

    ``signed`` (the reference's ``D.max()``), ``absmax`` (max |D|),
    ``relative`` (max |D| / max of the sum of |summands|; 0 where every summand
    is 0, i.e. a neuron saturated on all samples: ``n_zero`` counts D = 0
    exactly), and the paper's
    histogram of ``signed`` (``paper_hist`` on :data:`PAPER_BINS`, which drops
    negative values: ``n_negative`` counts them).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if layer not in result.config.hidden_layers:
        raise ValueError(f"layer must be a hidden layer in {list(result.config.hidden_layers)}, got {layer!r}")
    signed = result[f"{protocol}_D_max_{layer}"].ravel()
    absmax = result[f"{protocol}_D_absmax_{layer}"].ravel()
    scale = result[f"{protocol}_D_scale_{layer}"].ravel()
    relative = np.divide(absmax, scale, out=np.zeros_like(absmax), where=scale > 0)
    return {"signed": signed, "absmax": absmax, "relative": relative, "n_zero": int((absmax == 0).sum()),
            "paper_hist": np.histogram(signed, bins=PAPER_BINS)[0],
            "n_negative": int((signed < 0).sum()), "n_above": int((signed > PAPER_BINS[-1]).sum())}


# --------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    """``python -m lossland.nonattracting.experiments p11 [--seeds N] [--jobs J] [--out DIR] ...``"""
    parser = argparse.ArgumentParser(prog="python -m lossland.nonattracting.experiments",
                                     description="Long experiments of the lossland book, cached in data/.")
    sub = parser.add_subparsers(dest="experiment", required=True)
    p = sub.add_parser("p11", help="how often B is definite (000 Section V-E, 001 Section 5.5, Fig. 4)")
    p.add_argument("--seeds", type=int, default=1000, help="run seeds 0..N-1 (default 1000)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--out", default=str(P11_DIR), help="output directory (default data/p11)")
    p.add_argument("--samples", type=int, default=P11Config.n_samples, help="data set size (default 500)")
    p.add_argument("--exact-maxiter", type=int, default=P11Config.exact_maxiter,
                   help="trust-exact iterations of the exact protocol (default 25)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be positive")
    config = P11Config(n_samples=args.samples, exact_maxiter=args.exact_maxiter)
    cmd = ["p11", "--seeds", str(args.seeds), "--jobs", str(args.jobs)]
    if args.samples != P11Config.n_samples:
        cmd += ["--samples", str(args.samples)]
    if args.exact_maxiter != P11Config.exact_maxiter:
        cmd += ["--exact-maxiter", str(args.exact_maxiter)]
    if Path(args.out).resolve() != P11_DIR:
        cmd += ["--out", args.out]
    load = os.getloadavg if hasattr(os, "getloadavg") else (lambda: None)
    start_load = load()
    result = run_p11(range(args.seeds), config, jobs=args.jobs, progress=not args.no_progress)
    timing = result.meta["timing"]
    cpu = sum(timing["cpu_seconds"].values())
    # other processes on the machine slow the wall time down; CPU time / jobs is the
    # wall time the same run needs on otherwise idle cores
    timing.update({"cpu_seconds_total": round(cpu, 1),
                   "cpu_seconds_total_over_jobs": round(cpu / args.jobs, 1),
                   "load_average_1_5_15_min_at_start": None if start_load is None else
                   [round(v, 2) for v in start_load],
                   "load_average_1_5_15_min_at_end": None if load() is None else [round(v, 2) for v in load()]})
    npz, js = save_p11(result, args.out, ".venv/bin/python -m lossland.nonattracting.experiments " + " ".join(cmd))
    print(f"wrote {npz} and {js} ({result.meta['timing']['wall_seconds']} s wall, {args.jobs} jobs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
