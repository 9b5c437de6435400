"""Sufficient conditions for D = 0: paper 000, Proposition 1 (001, Proposition 15).

Theorem 6 of 000 (001, Theorem 9) turns a local minimum of a smaller network
into a non-attracting region of local minima of the network with one more
neuron in hidden layer l **only if** the matrix D^{r,s}_i of eq. (2) is zero
(:func:`lossland.embedding.D_matrix`). Proposition 1 lists three sufficient
conditions, at a critical point whose neuron r has sum_s v*_{s,r} != 0:

* (i) l is the last hidden layer: :func:`condition_last_hidden`;
* (ii) dh/dn(l+1, s; x_alpha) is the same for every s, at each alpha:
  :func:`condition_equal_output_derivatives`;
* (iii) dL_alpha/dn(l+1, t; x_alpha) = (f - y) dh/dn(l+1, t) = 0 for every t and
  alpha: :func:`condition_zero_loss_derivative`.

All three proofs rest on one identity, valid at **every** parameter point
(000, Appendix C; the chain rule through n(l+1, s) = sum_r v_{s,r} act(l, r)):

    dL/du_{r,i} = 2 * sum_s v*_{s,r} * D^{r,s}_i          (L = sum (f - y)^2),

so at a critical point one combination of the columns of D vanishes; (i) and
(ii) make all columns equal to it (:func:`D_from_gradient`), (iii) makes every
summand of eq. (2) zero.

Every check returns a :class:`ConditionCheck`: the verdict, the measured
quantity, the tolerance it was compared with and the margin between them.
Tolerances are documented per function; the notebooks print the margins.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import NamedTuple

import numpy as np
from scipy import optimize as _sopt

from .._validation import as_float_array, check_network, check_objective, check_real
from ..derivatives import SquaredLoss
from ..embedding import D_matrix, embed_neuron
from ..network import Network

__all__ = [
    "ConditionCheck",
    "condition_last_hidden",
    "condition_equal_output_derivatives",
    "condition_zero_loss_derivative",
    "outgoing_sum",
    "check_outgoing_sum",
    "check_D_zero",
    "D_from_gradient",
    "DBound",
    "D_bound",
    "check_proposition1",
    "add_dead_neuron",
]


# ----------------------------------------------------------------- results
@dataclass(frozen=True)
class ConditionCheck:
    """Verdict of a numerical check, with the numbers it was made from.

    ``measured`` is compared with ``tol``: a zero test holds when
    ``measured <= tol``, a non-zero test (:func:`check_outgoing_sum`) when
    ``measured > tol``. ``margin`` = max(measured, tol) / min(measured, tol)
    >= 1 says how safe the verdict is (a margin of 1e6 is robust, 3 is not;
    ``inf`` for structural checks and exact zeros). ``scale`` is the size
    the tolerance is relative to (``nan`` if it is absolute).

    Unpacks as ``holds, margin = check``; ``bool(check)`` is ``holds``.
    """

    name: str
    holds: bool
    measured: float
    tol: float
    scale: float = float("nan")

    @property
    def margin(self) -> float:
        lo, hi = sorted((abs(self.measured), abs(self.tol)))
        if hi == 0.0:
            return float("inf")
        return float("inf") if lo == 0.0 else hi / lo

    def __iter__(self):
        return iter((self.holds, self.margin))

    def __bool__(self):
        return bool(self.holds)

    def __str__(self):
        verdict = "holds" if self.holds else "fails"
        return (f"{self.name}: {verdict} (measured {self.measured:.3e}, tol {self.tol:.1e}, "
                f"margin {self.margin:.3g})")


def _zero_test(name, measured, tol, scale=float("nan")):
    return ConditionCheck(name, bool(measured <= tol), float(measured), float(tol), float(scale))


def _check_neuron_index(net, layer, r):
    return net.check_hidden_neuron(layer, r)




# -------------------------------------------------------------- conditions
def condition_last_hidden(net: Network, layer: int) -> ConditionCheck:
    """Condition (i) of Proposition 1 (000) / 15 (001): l is the last hidden layer.

    Structural, so the check is exact: ``measured`` is the number of hidden
    layers after l (L - 1 - l) and ``tol`` is 0.
    """
    net = check_network(net)
    layer = net.check_layer(layer, hidden=True)
    after = net.depth - 1 - layer
    return _zero_test("(i) last hidden layer", float(after), 0.0)


def condition_equal_output_derivatives(objective: SquaredLoss, theta, layer: int,
                                       rtol: float = 1e-10) -> ConditionCheck:
    """Condition (ii) of Proposition 1 (000): dh/dn(l+1, s; x_alpha) equal for all s, alpha-wise.

    ``measured`` = max_alpha (max_s - min_s) dh/dn(l+1, s; x_alpha), compared
    with ``tol = rtol * max |dh/dn(l+1, .)|``. The derivatives are computed by
    backpropagation, so equal derivatives agree to a few ulps; ``rtol=1e-10``
    leaves room for that and nothing else. When layer l+1 is the output
    (l the last hidden layer) there is one s and (ii) holds trivially: (i) is
    the special case n_{l+1} = 1 of (ii).
    001 states (ii) for dl_alpha/dn(l+1, t) = 2 (f - y) dh/dn(l+1, t); the
    two agree at every sample with a non-zero residual. Uses only the network
    and the inputs of ``objective`` (not y).
    """
    objective = check_objective(objective)
    layer = objective.net.check_layer(layer, hidden=True)
    rtol = check_real(rtol, "rtol", low=0.0)
    g = objective.output_deltas(theta)[layer + 1]
    spread = float((g.max(axis=1) - g.min(axis=1)).max())
    scale = float(np.abs(g).max())
    return _zero_test("(ii) equal dh/dn(l+1, s)", spread, rtol * scale, scale)


def condition_zero_loss_derivative(objective: SquaredLoss, theta, layer: int,
                                   atol: float = 1e-10) -> ConditionCheck:
    """Condition (iii) of Proposition 1 (000): (f(x_a) - y_a) dh/dn(l+1, t; x_a) = 0 for all a, t.

    ``measured`` = ``max over alpha, t of |(f - y) dh/dn(l+1, t)|`` (000's form;
    dL_alpha/dn(l+1, t) is twice this), compared with the **absolute**
    ``atol`` (units of y times those of dh/dn). Every summand of D's eq. (2)
    is bounded by ``measured * max|sigma'(n(l, r))| * max|act(l-1, i)|``.
    """
    objective = check_objective(objective)
    layer = objective.net.check_layer(layer, hidden=True)
    atol = check_real(atol, "atol", low=0.0)
    res = objective.residuals(theta)
    g = objective.output_deltas(theta)[layer + 1]
    measured = float(np.abs(res[:, None] * g).max())
    return _zero_test("(iii) zero dL_alpha/dn(l+1, t)", measured, atol)


# -------------------------------------------------------------- hypothesis
def outgoing_sum(net: Network, theta, layer: int, r: int) -> float:
    """sum_s v*_{s,r}: the sum of the outgoing weights of neuron r of hidden ``layer``.

    v_{s,r} is the weight from neuron r of layer l to neuron s of layer l+1
    (000, Section V), i.e. column r of W[l+1]. Proposition 1 assumes it is
    non-zero.
    """
    net = check_network(net)
    layer, r = _check_neuron_index(net, layer, r)
    W, _ = net.unflatten(theta)
    return float(W[layer + 1][:, r].sum())


def check_outgoing_sum(net: Network, theta, layer: int, r: int, rtol: float = 1e-12) -> ConditionCheck:
    """The hypothesis sum_s v*_{s,r} != 0 of Proposition 1 (a non-zero test).

    Holds when ``|sum_s v_{s,r}| > rtol * sum_s |v_{s,r}|`` (cancellation to
    round-off counts as zero; all-zero outgoing weights never pass).
    """
    net = check_network(net)
    layer, r = _check_neuron_index(net, layer, r)
    rtol = check_real(rtol, "rtol", low=0.0)
    W, _ = net.unflatten(theta)
    v = W[layer + 1][:, r]
    measured, scale = abs(float(v.sum())), float(np.abs(v).sum())
    return ConditionCheck("sum_s v_{s,r} != 0", bool(measured > rtol * scale), measured,
                          rtol * scale, scale)


# ---------------------------------------------------------------- D itself
def check_D_zero(objective: SquaredLoss, theta, layer: int, r: int, rtol: float = 1e-8,
                 atol: float = 0.0) -> ConditionCheck:
    """Is D^{r,s}_i of 000 eq. (2) zero? A relative test against the size of its summands.

    ``measured = max |D|``, ``scale = max over (i, s) of sum_alpha |summand|``
    (``D_matrix(..., return_scale=True)``), ``tol = max(atol, rtol * scale)``.
    Round-off in D is about N eps * scale; at an inexact critical point cases
    (i)/(ii) leave ``|D_i| <= ||grad L|| / (2 |sum_s v_{s,r}|)``, about 1e-10 at
    the book's polished points. ``rtol=1e-8`` is above both and far below the
    relative size of a generic non-zero D (1e-4 to 1e-1). Where D vanishes
    because every summand does (condition (iii)), the scale shrinks with D:
    use ``atol`` there.
    """
    objective = check_objective(objective)
    layer, r = _check_neuron_index(objective.net, layer, r)
    rtol, atol = check_real(rtol, "rtol", low=0.0), check_real(atol, "atol", low=0.0)
    D, S = D_matrix(objective, theta, layer, r, return_scale=True)
    scale = float(S.max(initial=0.0))
    return _zero_test("D = 0", float(np.abs(D).max(initial=0.0)), max(atol, rtol * scale), scale)


def D_from_gradient(objective: SquaredLoss, theta, layer: int, r: int) -> np.ndarray:
    """dL/du_{r,i} / (2 c sum_s v*_{s,r}): what the proofs of (i) and (ii) say every column of D equals.

    000, Appendix C (001, Appendix A.3), with L = c sum (f - y)^2 (c = 1 in
    the papers, ``objective.c``): from
    dL/du_{r,i} = 2 c sum_s v_{s,r} D^{r,s}_i, when all columns D^{r,s} agree
    (condition (i): one column; (ii): equal dh/dn(l+1, s)) each equals this
    vector, at **any** parameter point; at a critical point it is zero.
    Returned with the indices i of :func:`lossland.embedding.D_matrix`.
    Raises ``ValueError`` when sum_s v_{s,r} = 0 (the proofs divide by it).
    """
    objective = check_objective(objective)
    net = objective.net
    layer, r = _check_neuron_index(net, layer, r)
    vsum = outgoing_sum(net, theta, layer, r)
    if vsum == 0.0:
        raise ValueError(f"sum_s v_(s,r) = 0 for neuron r={r} of layer {layer}: "
                         "Proposition 1's proof divides by it")
    grad = objective.gradient(theta)
    return grad[net.incoming_indices(layer, r)] / (2.0 * objective.c * vsum)


class DBound(NamedTuple):
    """Outcome of :func:`D_bound`: ``max |D|``, the bound it must stay under, and D's scale."""

    measured: float
    bound: float
    scale: float


def D_bound(objective: SquaredLoss, theta, layer: int, r: int) -> DBound:
    """max |D^{r,s}_i| and the bound an inexact critical point leaves for it in cases (i)/(ii).

    000, Appendix C (001, Appendix A.3): where all columns of D agree (one
    column when n_{l+1} = 1), each equals dL/du_{r,i} / (2 c sum_s v_{s,r})
    (:func:`D_from_gradient`), so

        max |D| <= ||grad L|| / (2 c |sum_s v_{s,r}|) + 1000 eps scale,

    the last term the round-off of eq. (2), ``scale`` the largest sum of the
    absolute values of its summands (``D_matrix(..., return_scale=True)``).
    At a polished critical point (||grad L|| <= 1e-10) this is how small
    "D = 0" can be asked to be. Returns ``(measured, bound, scale)``.
    """
    objective = check_objective(objective)
    net = objective.net
    layer, r = _check_neuron_index(net, layer, r)
    theta = net.check_params(theta)
    D, S = D_matrix(objective, theta, layer, r, return_scale=True)
    vsum = abs(outgoing_sum(net, theta, layer, r))
    if vsum == 0.0:
        raise ValueError(f"sum_s v_(s,r) = 0 for neuron r={r} of layer {layer}: the bound divides by it")
    scale = float(S.max(initial=0.0))
    g = float(np.linalg.norm(objective.gradient(theta)))
    bound = g / (2.0 * objective.c * vsum) + 1e3 * np.finfo(float).eps * scale
    return DBound(float(np.abs(D).max(initial=0.0)), float(bound), scale)


def check_proposition1(objective: SquaredLoss, theta, layer: int, r: int, *, rtol_ii: float = 1e-10,
                       atol_iii: float = 1e-10, rtol_D: float = 1e-8, atol_D: float = 0.0) -> dict:
    """All checks of Proposition 1 (000) / 15 (001) for neuron r of hidden ``layer``.

    Returns a dict of :class:`ConditionCheck` with keys ``"(i)"``, ``"(ii)"``,
    ``"(iii)"`` (the three sufficient conditions), ``"sum v != 0"`` (the
    hypothesis) and ``"D = 0"`` (the conclusion), computed by
    :func:`condition_last_hidden`, :func:`condition_equal_output_derivatives`,
    :func:`condition_zero_loss_derivative`, :func:`check_outgoing_sum` and
    :func:`check_D_zero` with the tolerances given. The proposition says: at
    a critical point, hypothesis and any one condition imply ``"D = 0"``.
    """
    objective = check_objective(objective)
    net = objective.net
    layer, r = _check_neuron_index(net, layer, r)
    return {
        "(i)": condition_last_hidden(net, layer),
        "(ii)": condition_equal_output_derivatives(objective, theta, layer, rtol_ii),
        "(iii)": condition_zero_loss_derivative(objective, theta, layer, atol_iii),
        "sum v != 0": check_outgoing_sum(net, theta, layer, r),
        "D = 0": check_D_zero(objective, theta, layer, r, rtol_D, atol_D),
    }


# ----------------------------------------------------------- construction
def add_dead_neuron(objective: SquaredLoss, theta, layer: int, incoming, direction=None,
                    bracket=(-30.0, 30.0), n_grid: int = 601):
    """Append a neuron with zero outgoing weights to hidden ``layer``, at a critical point.

    The case sum_s v*_{s,r} = 0 that Proposition 1 excludes. The new neuron
    (last in its layer, as in :func:`lossland.embedding.embed_neuron`) gets
    the incoming weights u(t) = ``incoming`` + t * ``direction`` (order of
    :meth:`lossland.network.Network.incoming_indices`: n_{l-1} weights, then the bias when the
    network has biases), with t solving

        dL/dv_{new} = 2 c sum_alpha (f - y) dh/dn(l+1) sigma(u(t) . act(l-1)) = 0,

    found by scanning ``bracket`` on ``n_grid`` points for a sign change and
    refining with Brent's method (t = 0 when it already vanishes there, as at
    zero residuals). ``direction`` defaults to the bias (with
    biases) or to ``incoming`` itself (without: u = (1 + t) incoming). The
    network function does not change and every other gradient entry is the
    smaller network's (the new neuron's incoming gradient is 0 because v = 0),
    so the result is a critical point exactly when ``(objective, theta)`` is.
    Needs n_{l+1} = 1 (one equation for one unknown).
    Returns ``(bigger_objective, bigger_theta)``: the bigger network with the
    same data and normalisation.
    """
    obj = check_objective(objective)
    net = obj.net
    layer = net.check_layer(layer, hidden=True)
    if net.widths[layer + 1] != 1:
        raise ValueError(f"layer {layer + 1} must have one neuron (one equation for the one unknown t), "
                         f"got {net.widths[layer + 1]}")
    if isinstance(n_grid, bool) or not isinstance(n_grid, Integral) or n_grid < 3:
        raise ValueError(f"n_grid must be an integer >= 3, got {n_grid!r}")
    try:
        lo, hi = (float(b) for b in bracket)
    except (TypeError, ValueError):
        raise TypeError(f"bracket must be a pair of numbers, got {bracket!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"bracket must be finite with lo < hi, got {bracket!r}")
    n_in = net.widths[layer - 1] + (1 if net.biases else 0)
    u0 = _as_vector(incoming, n_in, "incoming")
    if direction is None:
        e = np.zeros(n_in)
        if net.biases:
            e[-1] = 1.0
        else:
            e = u0.copy()
    else:
        e = _as_vector(direction, n_in, "direction")
    if not np.any(e):
        raise ValueError("direction must be non-zero")
    theta = net.check_params(theta)
    fw = net.forward(theta, obj.X)
    c = (fw.output - obj.y) * obj.output_deltas(theta)[layer + 1][:, 0]
    a = fw.act[layer - 1]
    if net.biases:
        a = np.hstack([a, np.ones((a.shape[0], 1))])
    z0, dz = a @ u0, a @ e
    sigma = net.activation.f

    def phi(t):
        return float(c @ sigma(z0 + t * dz))

    grid = np.linspace(lo, hi, n_grid)
    vals = np.array([phi(t) for t in grid])
    change = np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)[0]
    if phi(0.0) == 0.0:                       # e.g. zero residuals: any weights will do
        t = 0.0
    elif np.any(vals == 0.0):
        t = float(grid[np.nonzero(vals == 0.0)[0][0]])
    elif change.size:
        k = int(change[0])
        t = float(_sopt.brentq(phi, grid[k], grid[k + 1], xtol=1e-15, rtol=4 * np.finfo(float).eps))
    else:
        raise ValueError(f"no t in {tuple(bracket)} makes dL/dv of the new neuron zero for these incoming "
                         "weights; try another incoming/direction or a wider bracket")
    big, big_theta = embed_neuron(net, theta, layer, 0, 0.0)     # appends a neuron, last in its layer
    new = net.widths[layer]
    big_theta[big.incoming_indices(layer, new)] = u0 + t * e
    big_theta[big.outgoing_indices(layer, new)] = 0.0              # lambda * v = 0 (no signed zeros)
    return SquaredLoss(big, obj.X, obj.y, obj.normalization), big_theta


def _as_vector(value, n, name):
    v = as_float_array(value, name).reshape(-1)
    if v.shape != (n,):
        raise ValueError(f"{name} must be {n} finite numbers, got shape {v.shape}")
    return v
