"""P11: how often is B definite at a trained network? (000 Section V-E, Fig. 4; 001 Section 5.5), cached in ``data/p11/``.

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
    evaluated by :class:`~lossland.nonattracting.reference.ReferenceFDGradient`, which computes the *same
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

The seeds run on :func:`lossland.runner.run` (in parallel, or on a Dask or Ray
cluster through ``joblib.parallel_config``); the result is cached with
:func:`lossland.runner.save_cached` in ``data/p11/`` (``p11.npz``, ``p11.json``
with :func:`p11_parameters`, versions and timings), and :func:`load_p11`
refuses a cache made with other parameters or by another lossland. Regenerate
it (about 1500 s of CPU, i.e. 12.5 minutes on two otherwise idle cores, with a
progress bar; :func:`p11_command`)::

    .venv/bin/python -m lossland.nonattracting.experiments p11 \\
        --seeds 1000 --jobs 2
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from numbers import Integral
from pathlib import Path

import numpy as np
from scipy import stats as _stats

from .._validation import check_objective
from ..derivatives import SquaredLoss
from ..embedding import B_matrix, D_matrix, definiteness
from ..network import Network
from ..optimize import find_critical_point
from ..runner import load_cached, run, save_cached
from .reference import (_EPS_FD, SCIPY_BFGS_GTOL, layer_shapes, legacy_uniform, reference_forward, to_lossland,
                        train_reference_fd, unflat_weights)

__all__ = [
    "P11Config",
    "P11Problem",
    "P11Result",
    "p11_problem",
    "neuron_statistics",
    "projected_labels",
    "p11_seed",
    "p11_from_fd",
    "replay_p11",
    "FD_TRAINING_KEYS",
    "run_p11",
    "p11_parameters",
    "p11_command",
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

P11_DIR = Path(__file__).resolve().parents[2] / "data" / "p11"
"""Where the cached P11 result lives (``data/p11/p11.npz`` and ``p11.json``)."""

PAPER_COUNTS = {1: (547, 4000), 2: (33, 6000), 3: (6, 4000)}
"""000 Section V-E: B^r positive definite in k of n cases, per hidden layer (as printed)."""

PAPER_BINS = np.array([0.0, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])
"""Bin edges of the reference code's histograms of ``D.max()`` (000, Fig. 4)."""

VERDICTS = ("positive definite", "negative definite", "positive semidefinite",
            "negative semidefinite", "zero", "indefinite")
"""Codes stored for :func:`lossland.embedding.definiteness` verdicts (index into this tuple)."""

PROTOCOLS = ("fd", "exact", "projected")
_FD_DEFAULTS = {"gtol": SCIPY_BFGS_GTOL, "norm": "inf", "maxiter": "200 * P", "eps": _EPS_FD}


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


# -------------------------------------------------------------- statistics
def _verdict_code(M) -> int:
    # M is symmetric in exact arithmetic; its rounding asymmetry can exceed
    # definiteness()'s check (relative to max|M|) when cancellation makes M tiny
    return VERDICTS.index(definiteness(0.5 * (M + M.T)).verdict)


def neuron_statistics(objective: SquaredLoss, theta) -> dict:
    """B^r and D^{r,s} (000, eq. (1), (2)) of every hidden neuron of ``objective.net``, summarised.

    Returns, for each hidden layer l (keys suffixed ``_{l}``):
    ``B_eig`` (n_l, n_{l-1}) eigenvalues of the symmetrised B^r, ascending;
    ``B_code`` (n_l,) the :data:`VERDICTS` index of
    :func:`lossland.embedding.definiteness` (default tolerance);
    ``D_max`` the signed maximum entry (the reference's ``D.max()``);
    ``D_absmax`` the largest |entry|; ``D_scale`` the largest entry of the
    sum of absolute summands (:func:`lossland.embedding.D_matrix`), so
    ``D_absmax / D_scale`` is D relative to its own round-off scale.
    """
    obj = check_objective(objective)
    net, out = obj.net, {}
    theta = net.check_params(theta, "theta")
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

    The fd training is :func:`~lossland.nonattracting.reference.train_reference_fd` with scipy's
    default ``gtol`` (:data:`~lossland.nonattracting.reference.SCIPY_BFGS_GTOL`); everything after it is
    :func:`p11_from_fd` on its end point.
    """
    config = _check_config(config)
    prob = p11_problem(seed, config)
    t0 = time.process_time()
    flat, res = train_reference_fd(prob.student, prob.inputs, prob.labels, gtol=_FD_DEFAULTS["gtol"])
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
    out.update({f"fd_{k}": v for k, v in neuron_statistics(obj, theta).items()})
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
    out.update({f"exact_{k}": v for k, v in neuron_statistics(obj, theta_exact).items()})
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
    out.update({f"projected_{k}": v for k, v in neuron_statistics(obj2, theta).items()})
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


def run_p11(seeds, config: P11Config | None = None, jobs: int = 1, progress: bool = True) -> P11Result:
    """Run :func:`p11_seed` for every seed with :func:`lossland.runner.run` (``jobs`` processes, a tqdm bar).

    The result does not depend on ``jobs`` (each seed is computed alone).
    """
    config = _check_config(config)
    seeds = [_check_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must not repeat")
    t0 = time.perf_counter()
    records = run(partial(p11_seed, config=config), seeds, jobs=jobs, progress=progress, desc="P11 seeds")
    wall = time.perf_counter() - t0
    arrays = _stack(records)
    meta = {"timing": {"wall_seconds": round(wall, 1), "jobs": int(jobs),
                       "cpu_seconds": {p: round(float(arrays[f"{p}_cpu"].sum()), 1) for p in PROTOCOLS}}}
    return P11Result(arrays, config, meta)


def _replay_one(task, config):
    seed, theta = task
    return p11_from_fd(seed, theta, config)


def replay_p11(cached: "P11Result", seeds=None, progress: bool = False, jobs: int = 1) -> "P11Result":
    """Recompute, from the cached fd end points, everything :func:`p11_from_fd` records.

    The fd training (about 2000 BFGS iterations on forward differences) is
    chaotic: on another CPU, whose BLAS kernels round in another order, it ends
    at another point, so rerunning it is a new sample, not a check of the
    cache. What follows from the end point is not chaotic; compare the replay
    with the cache by :func:`compare_results` (the training's own quantities,
    :data:`FD_TRAINING_KEYS`, are not in the replay). Runs on
    :func:`lossland.runner.run`.
    """
    if not isinstance(cached, P11Result):
        raise TypeError(f"cached must be a P11Result, got {type(cached).__name__}")
    sub = cached if seeds is None else cached.select(seeds)
    tasks = [(int(s), th) for s, th in zip(sub.seeds, sub["fd_theta"])]
    records = run(partial(_replay_one, config=sub.config), tasks, jobs=jobs, progress=progress,
                  desc="P11 replay")
    return P11Result(_stack(records), sub.config, {})


_EXACT_METHOD = "trust-exact, then Newton polish (lossland.optimize.find_critical_point)"
_CACHE_KEYS = ("parameters", "versions", "regenerate", "arrays", "npz_sha256", "created", "command", "experiment")


def p11_parameters(config: P11Config | None = None, seeds=None) -> dict:
    """What makes a P11 result: the config, the seeds, the fd BFGS options, the exact method.

    The ``parameters`` entry of ``p11.json``; :func:`load_p11` refuses a cache
    whose entry differs. ``seeds`` 0..N-1 are recorded as
    ``{"first": 0, "count": N}``, other lists as they are; ``None`` leaves them out.
    """
    config = _check_config(config)
    out = asdict(config)
    if seeds is not None:
        seeds = [_check_seed(s) for s in seeds]
        if not seeds:
            raise ValueError("seeds must not be empty")
        contiguous = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
        out["seeds"] = {"first": seeds[0], "count": len(seeds)} if contiguous else seeds
    return {**out, "fd_bfgs_options": dict(_FD_DEFAULTS), "exact_method": _EXACT_METHOD}


def p11_command(n_seeds: int = 1000, jobs: int = 2, config: P11Config | None = None, out=None) -> str:
    """The command line of :func:`main` that computes seeds 0..n_seeds-1 of ``config`` into ``out``."""
    config = _check_config(config)
    cmd = ["p11", "--seeds", str(n_seeds), "--jobs", str(jobs)]
    if config.n_samples != P11Config.n_samples:
        cmd += ["--samples", str(config.n_samples)]
    if config.exact_maxiter != P11Config.exact_maxiter:
        cmd += ["--exact-maxiter", str(config.exact_maxiter)]
    if out is not None and Path(out).resolve() != P11_DIR:
        cmd += ["--out", str(out)]
    return ".venv/bin/python -m lossland.nonattracting.experiments " + " ".join(cmd)


def save_p11(result: P11Result, directory=None, regenerate: str | None = None) -> tuple[Path, Path]:
    """Write ``p11.npz`` (compressed arrays) and ``p11.json`` (:func:`lossland.runner.save_cached`).

    The record's ``parameters`` are :func:`p11_parameters` of the result's
    config and seeds; ``regenerate`` defaults to :func:`p11_command` for them.
    """
    if not isinstance(result, P11Result):
        raise TypeError(f"result must be a P11Result, got {type(result).__name__}")
    directory = Path(P11_DIR if directory is None else directory)
    seeds = [int(s) for s in result.seeds]
    if regenerate is None:
        n = len(seeds) if seeds == list(range(len(seeds))) else 1000
        regenerate = p11_command(n, config=result.config, out=directory)
    meta = {"experiment": "P11: 000 Section V-E / 001 Section 5.5, Fig. 4",
            **{k: v for k, v in result.meta.items() if k not in _CACHE_KEYS}}
    return save_cached(directory, "p11", result.arrays, p11_parameters(result.config, seeds),
                       regenerate=regenerate, meta=meta)


def load_p11(directory=None, config: P11Config | None = None, seeds=None) -> P11Result:
    """Read the P11 cache (:func:`lossland.runner.load_cached`), refusing one made otherwise.

    The cache must have been made with ``config`` (default: 000 Section V-E's,
    :class:`P11Config`), the current fd BFGS options and exact method, and,
    if given, ``seeds``; and by this lossland version. Otherwise, or if a file
    is missing or corrupt, a :class:`lossland.runner.CacheError` (a
    ``ValueError``) names the file, what differs and the command that
    regenerates it (:func:`p11_command`).
    """
    config = _check_config(config)
    directory = Path(P11_DIR if directory is None else directory)
    n = 1000
    if seeds is not None:
        seeds = [_check_seed(s) for s in seeds]
        n = len(seeds) if seeds == list(range(len(seeds))) else n
    cached = load_cached(directory, "p11", params=p11_parameters(config, seeds),
                         regenerate=p11_command(n, config=config, out=directory),
                         ignore=("seeds",) if seeds is None else ())
    return P11Result(cached.arrays, config, cached.record)


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
    npz, js = save_p11(result, args.out, p11_command(args.seeds, args.jobs, config, args.out))
    print(f"wrote {npz} and {js} ({result.meta['timing']['wall_seconds']} s wall, {args.jobs} jobs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
