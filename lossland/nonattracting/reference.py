"""The conventions of the public reference code of paper 001 (Sections 5.4, 5.5).

The experiments of 001 (and 000 Sections V-D, V-E) were run with code that
draws everything from numpy's *legacy global* generator (``np.random.seed``),
uses sigmoid networks **without biases** in the **row-vector** convention
(``act(l) = sigmoid(act(l-1) @ U_l)``, ``U_l`` of shape ``(n_{l-1}, n_l)``), a
linear output, the loss sum (f - y)^2, and trains with
``scipy.optimize.minimize(..., method="BFGS")`` on **finite-difference**
gradients (no ``jac``). This module reproduces those conventions exactly (the
same arithmetic in the same order, so that the same floating-point numbers
come out) and converts to and from :class:`lossland.Network`, whose weight
matrices are the transposes ``W[l] = U_l.T``.

Training: :func:`train_bfgs_fd` (plain scipy) and :func:`train_reference_fd`
(the same trajectory, bit for bit, with the batched forward differences of
:class:`ReferenceFDGradient`) share one default, :data:`REFERENCE_GTOL` =
1e-100 of the code of 001 Section 5.4 (run until scipy gives up). The code of
000 Section V-E (chapter P11) kept scipy's default options: it passes
:data:`SCIPY_BFGS_GTOL` = 1e-5.

Only chapters that reproduce the papers' numbers use this module; everything
else in the book uses :mod:`lossland.derivatives` and :mod:`lossland.optimize`.

It also holds the helpers those chapters use to compare a reproduced number
with a printed one: :func:`significant_digits` (how many digits a printed
number has), :func:`rounds_to` (does a value round to the printed number?) and
:func:`agreeing_digits` (to how many significant digits two values agree).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from numbers import Integral, Real

import numpy as np
from scipy import optimize as _sopt

from .._validation import check_real
from ..network import Network

__all__ = [
    "legacy_uniform",
    "layer_shapes",
    "reference_forward",
    "flat_weights",
    "unflat_weights",
    "reference_loss",
    "REFERENCE_GTOL",
    "SCIPY_BFGS_GTOL",
    "train_bfgs_fd",
    "ReferenceFDGradient",
    "train_reference_fd",
    "to_lossland",
    "from_lossland",
    "ReferenceSetup",
    "teacher_student_setup",
    "significant_digits",
    "rounds_to",
    "agreeing_digits",
]


def legacy_uniform(shape) -> np.ndarray:
    """``10 * np.random.random(shape) - 5``: a weight draw of the reference code.

    Uses (and advances) numpy's legacy global generator: call
    ``np.random.seed(s)`` first and draw in the reference code's order.
    """
    return 10 * np.random.random(shape) - 5


def layer_shapes(widths) -> list[tuple[int, int]]:
    """Row-vector weight shapes ``[(n_0, n_1), (n_1, n_2), ..., (n_{L-1}, 1)]``."""
    widths = [int(w) for w in widths]
    if len(widths) < 2 or widths[-1] != 1 or min(widths) < 1:
        raise ValueError(f"widths must be positive (n_0, ..., 1), got {widths}")
    return [(widths[i], widths[i + 1]) for i in range(len(widths) - 1)]


def _sigmoid(x):
    # the reference code's activation, verbatim
    return 1. / (1 + np.exp(-x))


def reference_forward(mats, inputs) -> np.ndarray:
    """The reference ``network_function``: sigmoid hidden layers, linear output, shape (N, 1)."""
    if len(mats) < 1:
        raise ValueError("mats must contain at least one weight matrix")
    layer = inputs
    for U in mats[:-1]:
        layer = _sigmoid(np.dot(layer, U))
    return np.dot(layer, mats[-1])


def flat_weights(mats) -> np.ndarray:
    """``np.concatenate([U.flatten(), V.flatten(), ...])``: the reference flat order."""
    return np.concatenate([np.asarray(m, dtype=float).flatten() for m in mats])


def unflat_weights(flat, shapes) -> list[np.ndarray]:
    """Inverse of :func:`flat_weights` for the given row-vector ``shapes``."""
    flat = np.asarray(flat, dtype=float)
    sizes = [a * b for a, b in shapes]
    if flat.ndim != 1 or flat.size != sum(sizes):
        raise ValueError(f"flat must be a vector of length {sum(sizes)} for shapes {shapes}, got {flat.shape}")
    out, start = [], 0
    for (a, b), n in zip(shapes, sizes):
        out.append(flat[start:start + n].reshape(a, b))
        start += n
    return out


def reference_loss(flat, inputs, labels, shapes) -> float:
    """``np.sum((network_function(...) - labels)**2)`` with ``labels`` of shape (N, 1)."""
    guess = reference_forward(unflat_weights(flat, shapes), inputs)
    return np.sum((guess - labels) ** 2)


# ------------------------------------------------------------------- training
REFERENCE_GTOL = 1e-100
"""``gtol`` of the reference code of 001 Section 5.4 (and 000 Section V-D): ``options={"gtol": 1e-100}``.

No gradient is that small: BFGS runs until scipy stops on precision loss or
``maxiter``. The default of :func:`train_bfgs_fd` and :func:`train_reference_fd`.
"""

SCIPY_BFGS_GTOL = 1e-5
"""scipy's default ``gtol`` (max-norm of the gradient), which the code of 000 Section V-E (P11) kept."""

_EPS_FD = float(np.sqrt(np.finfo(float).eps))        # scipy's default BFGS step (optimize._optimize._epsilon)


def train_bfgs_fd(mats0, inputs, labels, gtol: float = REFERENCE_GTOL, **options):
    """Train as the reference code does: scipy BFGS with finite-difference gradients.

    ``scipy.optimize.minimize(reference_loss, ..., method="BFGS", options={"gtol": gtol, **options})``
    without ``jac``. ``labels`` is reshaped to (N, 1). Returns ``(mats, result)``
    where ``result`` is scipy's OptimizeResult. The default
    :data:`REFERENCE_GTOL` is 001 Section 5.4's; pass :data:`SCIPY_BFGS_GTOL`
    for 000 Section V-E's default options.
    """
    gtol = check_real(gtol, "gtol", positive=True)
    shapes = [np.shape(m) for m in mats0]
    labels = np.asarray(labels, dtype=float).reshape(-1, 1)
    opts = {"gtol": gtol, **options}
    result = _sopt.minimize(reference_loss, flat_weights(mats0), (inputs, labels, shapes),
                            method="BFGS", options=opts)
    return unflat_weights(result.x, shapes), result


# ------------------------------------------------ fast forward differences
class ReferenceFDGradient:
    """scipy's forward-difference gradient of :func:`reference_loss`, batched.

    ``scipy.optimize.minimize(..., method="BFGS")`` without ``jac`` differentiates
    with ``approx_derivative(method="2-point", abs_step=sqrt(eps))``:
    h_i = sqrt(eps) (or a relative step if x_i + h_i == x_i), dx_i = (x_i + h_i) - x_i,
    g_i = (L(x + h_i e_i) - L(x)) / dx_i, one loss evaluation per coordinate.
    This class evaluates the same formula with the same floating-point
    operations for every perturbed loss (same matrix products, same sigmoid
    ``1 / (1 + exp(-z))``, same summation), but shares the layers below the
    perturbed weight and batches the coordinates of one layer, so the result
    is **bitwise** scipy's (checked in ``tests/test_reference.py``) at a
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


def train_reference_fd(mats0, inputs, labels, gtol: float = REFERENCE_GTOL, *, fast: bool = True,
                       **options):
    """:func:`train_bfgs_fd`, with the forward differences of :class:`ReferenceFDGradient`.

    ``fast=True`` passes :class:`ReferenceFDGradient` as ``jac``: the same
    trajectory as plain scipy, bit for bit, about 4x faster; ``fast=False``
    calls :func:`train_bfgs_fd`. ``gtol`` as there (:data:`REFERENCE_GTOL`;
    000 Section V-E used :data:`SCIPY_BFGS_GTOL`). Returns ``(flat, result)``
    with ``flat`` in the reference's flat order (:func:`flat_weights`).
    """
    gtol = check_real(gtol, "gtol", positive=True)
    shapes = [np.shape(m) for m in mats0]
    labels = np.asarray(labels, dtype=float).reshape(-1, 1)
    with np.errstate(over="ignore"):
        if not fast:
            mats, res = train_bfgs_fd(mats0, inputs, labels, gtol=gtol, **options)
            return flat_weights(mats), res
        jac = ReferenceFDGradient(inputs, labels, shapes)
        res = _sopt.minimize(reference_loss, flat_weights(mats0), (inputs, labels, shapes),
                             method="BFGS", jac=jac, options={"gtol": gtol, **options})
    return res.x, res


def to_lossland(mats) -> tuple[Network, np.ndarray]:
    """The same network as a :class:`lossland.Network` (sigmoid, no biases) and its theta."""
    mats = [np.asarray(m, dtype=float) for m in mats]
    widths = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    for a, b in zip(mats[:-1], mats[1:]):
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"consecutive weight shapes do not chain: {a.shape} then {b.shape}")
    net = Network(widths, "sigmoid", biases=False)
    return net, net.flatten([m.T for m in mats])


def from_lossland(net: Network, theta) -> list[np.ndarray]:
    """Row-vector matrices ``U_l = W[l].T`` of a bias-free lossland network."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossland.Network, got {type(net).__name__}")
    if net.biases:
        raise ValueError("the reference code's networks have no biases; net has biases")
    W, _ = net.unflatten(theta)
    return [W[l].T.copy() for l in range(1, net.depth + 1)]


# ------------------------------------------------------ the 001 experiment's draws
@dataclass
class ReferenceSetup:
    """Teacher, data and student start point drawn as in the code of 001 Section 5.4.

    Row-vector matrices (see :func:`reference_forward`); ``labels`` has shape
    (N, 1), as in the reference code.
    """

    teacher: list
    inputs: np.ndarray
    labels: np.ndarray
    student: list


def teacher_student_setup(seed: int, teacher_widths, n_samples: int, student_widths) -> ReferenceSetup:
    """``np.random.seed(seed)``, then draw in the reference code's order (001, Section 5.4).

    1. the teacher's weights, layer by layer, each ``10 * np.random.random(shape) - 5``;
    2. the inputs ``np.random.random((n_samples, n_0))`` (uniform on [0, 1), no shift);
    3. the student's weights, like the teacher's.

    The labels are the teacher's outputs. Note: this reseeds numpy's *global*
    legacy generator (that is the point: it is what the reference code does).
    """
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    t_shapes, s_shapes = layer_shapes(teacher_widths), layer_shapes(student_widths)
    if t_shapes[0][0] != s_shapes[0][0]:
        raise ValueError(f"teacher_widths and student_widths must have the same input width, "
                         f"got {t_shapes[0][0]} and {s_shapes[0][0]}")
    np.random.seed(int(seed))
    teacher = [legacy_uniform(sh) for sh in t_shapes]
    inputs = np.random.random((int(n_samples), t_shapes[0][0]))
    student = [legacy_uniform(sh) for sh in s_shapes]
    return ReferenceSetup(teacher, inputs, reference_forward(teacher, inputs), student)


# ------------------------------------------------ comparing with printed numbers
def _decimal(text, name="printed"):
    if not isinstance(text, str):
        raise TypeError(f"{name} must be the number as printed (a str), got {type(text).__name__}")
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {text!r}") from None
    if not d.is_finite():
        raise ValueError(f"{name} must be finite, got {text!r}")
    return d


def significant_digits(printed: str) -> int:
    """Number of significant digits of a number as printed: ``"0.0182"`` has 3, ``"4.8170"`` 5."""
    digits = list(_decimal(printed).as_tuple().digits)
    while len(digits) > 1 and digits[0] == 0:
        digits.pop(0)
    return len(digits)


def rounds_to(value, printed: str) -> bool:
    """True when ``value`` rounded (half-even) to the last printed digit equals ``printed``.

    E.g. ``rounds_to(0.0182375, "0.0182")`` is True: the paper's number is
    reproduced to all the digits it prints.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"value must be a finite real number, got {value!r}")
    ref = _decimal(printed)
    got = Decimal(float(value)).quantize(Decimal((0, (1,), ref.as_tuple().exponent)), rounding=ROUND_HALF_EVEN)
    return got == ref


def agreeing_digits(value, reference) -> int:
    """floor(-log10(|value - reference| / |reference|)), capped at 17 (equal values give 17).

    The number of significant digits to which two numbers agree, as a relative
    error: 4.8174941053608356 and 4.8174941053601215 agree to 12 digits.
    """
    for name, x in (("value", value), ("reference", reference)):
        if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(x):
            raise ValueError(f"{name} must be a finite real number, got {x!r}")
    if reference == 0:
        raise ValueError("reference must be non-zero (the agreement is relative)")
    rel = abs(float(value) - float(reference)) / abs(float(reference))
    if rel == 0:
        return 17
    return int(min(17, max(0, math.floor(-math.log10(rel)))))
