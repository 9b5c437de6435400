"""Local minima at infinity of sigmoid networks (000 Theorem 1 / 001 Theorem 4).

The construction of the proof (000 Appendix A, 001 Appendix A.2), in the
papers' notation: the last hidden layer L-1 has neurons i with incoming
weights u_{i,k} from the neurons k of layer L-2, biases u_{i,0} and outgoing
weights v_{.,i}. With p_i = exp(-u_{i,0}) and a sigmoid sigma,

    f(x_alpha) = sum_i v_{.,i} / (1 + p_i exp(-sum_k u_{i,k} act(L-2, k; x_alpha))) (+ output bias),

so at p_i = 0 (u_{i,0} = infinity) the network is the constant sum_i v_{.,i}.
With c = mean(y) = sum_i v_{.,i}, d_alpha = c - y_alpha and
S_i = sum_alpha d_alpha exp(-sum_k u_{i,k} act(L-2, k; x_alpha)), the proof
writes L = 1/2 sum (f - y)^2 = 1/2 sum d^2 + 1/2 sum eps^2 + (*), with
eps_alpha = f(x_alpha) - c and

    (*) = sum_alpha eps_alpha d_alpha = -sum_i v_{.,i} p_i S_i + O(p^2),

and makes (*) > 0 by choosing v_{.,i} of the sign opposite to S_i. The
signs of S_i are arranged with Lemma 7 (000) / Lemma A.2 (001):
phi(u) = sum_alpha d_alpha exp(-sum_k u_k a_alpha^k) vanishes at u = 0 and
has d phi / d u_r (0) = -sum_alpha d_alpha a_alpha^r, non-zero by the
"mild condition", so u = t e_r gives both signs for small |t|.

In code, the last hidden layer is ``L - 1 = net.depth - 1``; its weight
matrix ``W[L-1]`` has the rows u_i = [u_{i,k}]_k and its bias vector holds
u_{i,0} = -log p_i. The papers' normalisation of this proof is 1/2 sum
(f - y)^2 (``SquaredLoss(net, X, y, "half")``); 000/001 define the loss as
sum (f - y)^2, twice as large, which changes no sign. The functions take
the loss object first (``objective``: network, data and normalisation).
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .._validation import as_float_array, check_network, check_objective, check_real

from ..derivatives import NORMALIZATIONS, SquaredLoss
from ..network import Network
from ._objective import ObjectiveParts

__all__ = [
    "p_from_bias",
    "bias_from_p",
    "lemma7_phi",
    "Lemma7Points",
    "lemma7_points",
    "output_weights",
    "PointAtInfinity",
    "point_at_infinity",
    "point_from_theta",
    "minimum_at_infinity",
]


# ------------------------------------------------------------------ helpers
_as_array = as_float_array


def p_from_bias(u0):
    """p = exp(-u_{i,0}) (000 Appendix A: "we consider p_i = exp(-u_{i,0})")."""
    return np.exp(-_as_array(u0, "u0"))


def bias_from_p(p):
    """u_{i,0} = -log p_i, for p_i > 0 (p_i -> 0 is u_{i,0} -> infinity)."""
    p = _as_array(p, "p")
    if np.any(p <= 0):
        raise ValueError("p must be positive (p = 0 is the point at infinity itself)")
    return -np.log(p)


# ------------------------------------------------------------------ Lemma 7
def _check_d_A(d, A):
    d = _as_array(d, "d", 1)
    A = _as_array(A, "A")
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2 or A.shape[0] != d.shape[0]:
        raise ValueError(f"A must have shape (N, m) with N = {d.shape[0]} rows (one per d_alpha), got {A.shape}")
    if A.shape[1] < 1:
        raise ValueError("A must have at least one column (m >= 1)")
    return d, A


def lemma7_phi(u, d, A):
    """phi(u) = sum_alpha d_alpha exp(-sum_k u_k a_alpha^k) (000 Lemma 7, 001 Lemma A.2).

    ``d`` has shape (N,), ``A`` = [a_alpha^k] shape (N, m), ``u`` shape (m,)
    (returns a float) or (K, m) (returns shape (K,)).
    """
    d, A = _check_d_A(d, A)
    u = _as_array(u, "u")
    if u.shape[-1:] != (A.shape[1],) or u.ndim > 2:
        raise ValueError(f"u must have shape ({A.shape[1]},) or (K, {A.shape[1]}), got {u.shape}")
    out = np.exp(-(u @ A.T)) @ d
    return float(out) if u.ndim == 1 else out


@dataclass
class Lemma7Points:
    """u^> and u^< of Lemma 7 (000) / Lemma A.2 (001), found as in its proof.

    ``g[r] = sum_alpha d_alpha a_alpha^r`` (so d phi / d u_r (0) = -g[r]);
    ``r`` is the coordinate used (largest |g[r]|, code index from 0),
    ``t`` the step: u^> = -sign(g[r]) t e_r, u^< = +sign(g[r]) t e_r.
    ``phi_gt = phi(u^>) > 0 > phi_lt = phi(u^<)``.
    """

    g: np.ndarray
    r: int
    t: float
    u_gt: np.ndarray
    u_lt: np.ndarray
    phi_gt: float
    phi_lt: float


def lemma7_points(d, A, t0: float = 2.0, rtol: float = 1e-10, max_halvings: int = 60) -> Lemma7Points:
    """Find u^> and u^< with phi(u^>) > 0 > phi(u^<) as in the proof of Lemma 7 / A.2.

    Hypotheses (checked, ``ValueError`` otherwise): sum_alpha d_alpha = 0
    (up to ``rtol`` times sum |d_alpha|), and the mild condition
    sum_alpha d_alpha a_alpha^r != 0 for some r (000 proof of Theorem 1),
    i.e. max_r |g[r]| > ``rtol`` times its scale sum_alpha |d_alpha a_alpha^r|.
    The proof moves along the coordinate r with g[r] != 0: phi(t e_r) =
    -t g[r] + O(t^2). Here r maximises |g[r]| and t = t0, t0/2, ... until
    both signs are right. The lemma asks m >= 2; the proof (and this
    function) works for every m >= 1.
    """
    d, A = _check_d_A(d, A)
    t0 = check_real(t0, "t0", positive=True)
    rtol = check_real(rtol, "rtol", positive=True)
    if isinstance(max_halvings, bool) or not isinstance(max_halvings, Integral) or max_halvings < 0:
        raise ValueError(f"max_halvings must be a non-negative integer, got {max_halvings!r}")
    if abs(d.sum()) > rtol * max(np.abs(d).sum(), np.finfo(float).tiny):
        raise ValueError(f"d must sum to zero (Lemma 7 hypothesis), got sum {d.sum():.3e}")
    g = A.T @ d
    scale = np.abs(A).T @ np.abs(d)
    if not np.any(np.abs(g) > rtol * np.maximum(scale, np.finfo(float).tiny)):
        raise ValueError("the mild condition fails: sum_alpha d_alpha a_alpha^r = 0 for every r "
                         f"(|g| = {np.abs(g).max():.3e} at scale {scale.max():.3e})")
    r = int(np.argmax(np.abs(g)))
    s = np.sign(g[r])
    t = t0
    for _ in range(max_halvings + 1):
        e = np.zeros(A.shape[1])
        e[r] = t
        u_gt, u_lt = -s * e + 0.0, s * e + 0.0          # + 0.0: no negative zeros
        phi_gt, phi_lt = lemma7_phi(u_gt, d, A), lemma7_phi(u_lt, d, A)
        if phi_gt > 0 > phi_lt:
            return Lemma7Points(g, r, t, u_gt, u_lt, phi_gt, phi_lt)
        t /= 2
    raise ValueError(f"no step t in [t0 2^-{max_halvings}, t0] gave both signs of phi")


# ------------------------------------------------------- output weights
def output_weights(S, c: float, scale: float = 1.0) -> np.ndarray:
    """v_{.,i} of sign opposite to S_i with sum_i v_{.,i} = c (000 proof of Theorem 1).

    Every neuron starts at magnitude ``scale``; the difference to c is
    added to the neurons that need v > 0 (if c is larger) or to those
    that need v < 0 (if c is smaller), so every sign stays strict. Raises
    ``ValueError`` if some S_i = 0 (no sign to oppose) or if the signs
    cannot sum to c: all S_i of one sign s and c of sign s or zero ("the
    only obstruction" of the proof, which also covers c = 0).
    """
    S = _as_array(S, "S", 1)
    c = check_real(c, "c")
    scale = check_real(scale, "scale", positive=True)
    if S.size == 0:
        raise ValueError("S must contain at least one neuron")
    if np.any(S == 0):
        raise ValueError(f"S must be non-zero for every neuron (S = {S}): v must have the opposite sign")
    pos, neg = S < 0, S > 0                       # neurons that need v > 0, v < 0
    if not neg.any():
        if c <= 0:
            raise ValueError(f"all S_i < 0 need all v > 0, which cannot sum to c = {c}")
        return np.full(S.size, c / S.size)
    if not pos.any():
        if c >= 0:
            raise ValueError(f"all S_i > 0 need all v < 0, which cannot sum to c = {c}")
        return np.full(S.size, c / S.size)
    v = np.where(pos, scale, -scale)
    gap = c - v.sum()
    if gap > 0:
        v[pos] += gap / pos.sum()
    else:
        v[neg] += gap / neg.sum()
    return v


# --------------------------------------------------------- the point
def _check_objective(objective):
    """The objective, if its network fits the construction of 000 Theorem 1."""
    check_objective(objective)
    _check_net(objective.net)
    return objective


def _check_net(net):
    check_network(net)
    if net.activation.name != "sigmoid":
        raise ValueError(f"net must use the sigmoid activation (000 Theorem 1), got {net.activation.name}")
    if not net.biases:
        raise ValueError("net must have biases: the construction sends the biases u_{i,0} to infinity")
    if net.depth < 2:
        raise ValueError(f"net must have at least one hidden layer, got widths {net.widths}")
    return net


@dataclass
class PointAtInfinity(ObjectiveParts):
    """A point with the last hidden layer's biases at +infinity, and the loss near it.

    ``theta_finite`` is the flat parameter vector with the last hidden
    layer's biases set to 0 (a placeholder: :meth:`theta` puts
    u_{i,0} = -log p_i there). ``A`` = act(L-2; x) (N, m), ``U`` the rows
    u_i = [u_{i,k}]_k (n, m), ``v`` the outgoing weights, ``b_out`` the
    output bias. At p = 0 the network is the constant ``limit_constant`` =
    sum_i v_i + b_out, which is c = mean(y) in the construction.
    ``objective`` holds the network, the data and the normalisation.
    """

    objective: SquaredLoss
    theta_finite: np.ndarray
    A: np.ndarray
    U: np.ndarray
    v: np.ndarray
    b_out: float

    # ---------------------------------------------------------- the proof
    @property
    def c(self) -> float:
        """c = mean(y), the loss-minimising constant."""
        return float(self.y.mean())

    @property
    def d(self) -> np.ndarray:
        """d_alpha = c - y_alpha."""
        return self.c - self.y

    @property
    def limit_constant(self) -> float:
        """The network function at p = 0, sum_i v_{.,i} plus the output bias."""
        return float(self.v.sum() + self.b_out)

    @property
    def exponents(self) -> np.ndarray:
        """E[i, alpha] = -sum_k u_{i,k} act(L-2, k; x_alpha), shape (n, N)."""
        return -(self.U @ self.A.T)

    @property
    def S(self) -> np.ndarray:
        """S_i = sum_alpha (c - y_alpha) exp(-sum_k u_{i,k} act(L-2, k; x_alpha))."""
        return np.exp(self.exponents) @ self.d

    @property
    def kappa(self) -> np.ndarray:
        """The first-order coefficients kappa_i = -v_{.,i} S_i, with (*) = sum_i kappa_i p_i + O(p^2)."""
        return -self.v * self.S

    @property
    def sign_conditions_hold(self) -> bool:
        """v_{.,i} S_i < 0 for every neuron i and sum_i v_{.,i} + b_out = c (to 1e-12)."""
        return bool(np.all(self.kappa > 0) and
                    abs(self.limit_constant - self.c) <= 1e-12 * max(1.0, np.abs(self.y).max()))

    @property
    def limit_loss(self) -> float:
        """The loss at p = 0, the normalisation times sum_alpha (limit_constant - y_alpha)^2."""
        r = self.limit_constant - self.y
        return float(NORMALIZATIONS[self.normalization] * (r @ r))

    # ------------------------------------------------------------ along p
    def _p(self, p):
        p = _as_array(p, "p")
        n = self.U.shape[0]
        if p.ndim == 0:
            p = np.full(n, float(p))
        if p.shape[-1] != n or p.ndim > 2:
            raise ValueError(f"p must be a number or have shape ({n},) or (K, {n}), got {p.shape}")
        if np.any(p <= 0):
            raise ValueError("p must be positive (p = 0 is the point at infinity itself)")
        return p

    def theta(self, p) -> np.ndarray:
        """Flat parameters with u_{i,0} = -log p_i; p scalar, (n,) or (K, n) (then (K, P))."""
        p = self._p(p)
        sl = self.net.bias_slice(self.net.depth - 1)
        out = np.broadcast_to(self.theta_finite, p.shape[:-1] + self.theta_finite.shape).copy()
        out[..., sl] = -np.log(p)
        return out

    def loss(self, p) -> float:
        """L at u_{i,0} = -log p_i, from the network's forward pass (p scalar or (n,))."""
        return self.objective.value(self.theta(p))

    def epsilon(self, p) -> np.ndarray:
        """eps_alpha = f(x_alpha) - limit_constant, computed without cancellation.

        1/(1 + p e^E) - 1 = -h with h = p e^E / (1 + p e^E), so
        eps = -sum_i v_i h_i. p scalar or (n,): shape (N,); (K, n): (K, N).
        """
        p = self._p(p)
        q = p[..., :, None] * np.exp(self.exponents)          # (..., n, N)
        return -np.einsum("i,...ia->...a", self.v, q / (1.0 + q))

    def first_order_epsilon(self, p) -> np.ndarray:
        """-sum_i v_{.,i} p_i exp(-sum_k u_{i,k} act(L-2, k; x_alpha)): the proof's expansion."""
        p = self._p(p)
        return -np.einsum("i,...ia->...a", self.v, p[..., :, None] * np.exp(self.exponents))

    def star(self, p):
        """(*) = sum_alpha eps_alpha (limit_constant - y_alpha) (= sum eps d in the construction)."""
        return self.epsilon(p) @ (self.limit_constant - self.y)

    def excess(self, p):
        """L(p) - limit_loss = c_norm (sum eps^2 + 2 (*)), without cancellation.

        The proof's decomposition (000 Appendix A) for L = 1/2 sum (f - y)^2:
        L = 1/2 sum d^2 + 1/2 sum eps^2 + (*); for sum (f - y)^2 everything doubles.
        """
        eps = self.epsilon(p)
        k = NORMALIZATIONS[self.normalization]
        return k * (np.einsum("...a,...a->...", eps, eps) + 2.0 * self.star(p))

    def p_guaranteed(self) -> np.ndarray:
        """Per neuron, p_i below which (*) > 0 is guaranteed: kappa_i / C_i.

        From 1/(1 + p e^E) = 1 - p e^E + R with 0 <= R <= p^2 e^{2E} (p >= 0),
        (*) >= sum_i p_i (kappa_i - C_i p_i) with
        C_i = |v_i| sum_alpha |d_alpha| exp(2 E[i, alpha]). Needs
        :attr:`sign_conditions_hold` (``ValueError`` otherwise).
        """
        if not self.sign_conditions_hold:
            raise ValueError("the sign conditions v_i S_i < 0 and sum v + b_out = c do not hold")
        C = np.abs(self.v) * (np.exp(2 * self.exponents) @ np.abs(self.d))
        return self.kappa / C


def point_at_infinity(objective: SquaredLoss, U, v, lower=None, output_bias: float = 0.0) -> PointAtInfinity:
    """Assemble a point with the last hidden layer's biases at infinity (000 Appendix A).

    ``objective`` is the loss (a sigmoid network with biases, the data, the
    normalisation); ``U`` (n_{L-1}, n_{L-2}) are the incoming weights u_{i,k} of the last
    hidden layer, ``v`` (n_{L-1},) its outgoing weights, ``lower`` a flat
    parameter vector of ``net`` whose layers 1..L-2 are used (required when
    there are two or more hidden layers, ignored otherwise). No sign
    condition is imposed (see :attr:`PointAtInfinity.sign_conditions_hold`):
    this is also how a reader builds counterexamples.
    """
    objective = _check_objective(objective)
    net = objective.net
    L = net.depth
    n, m = net.widths[L - 1], net.widths[L - 2]
    U = _as_array(U, "U")
    if U.shape != (n, m):
        raise ValueError(f"U must have shape ({n}, {m}) (last hidden layer x layer L-2), got {U.shape}")
    v = _as_array(v, "v")
    if v.shape != (n,):
        raise ValueError(f"v must have shape ({n},), got {v.shape}")
    b_out = check_real(output_bias, "output_bias")
    if L > 2:
        if lower is None:
            raise ValueError("lower is required: it gives the parameters of layers 1..L-2")
        theta = net.check_params(lower, "lower").copy()
    else:
        theta = np.zeros(net.n_params)
    theta[net.weight_slice(L - 1)] = U.ravel()
    theta[net.bias_slice(L - 1)] = 0.0
    theta[net.weight_slice(L)] = v
    theta[net.bias_slice(L)] = b_out
    A = net.forward(theta, objective.X).act[L - 2]
    return PointAtInfinity(objective, theta, np.array(A, dtype=float), U.copy(), v.copy(), b_out)


def point_from_theta(objective: SquaredLoss, theta) -> PointAtInfinity:
    """The :class:`PointAtInfinity` whose layers are those of the flat vector ``theta``.

    U = W[L-1], v = W[L], the output bias b[L] and the lower layers are read
    from ``theta``; its last hidden biases u_{i,0} are dropped (p is the
    variable). Used to follow kappa_i = -v_{.,i} S_i (000 Appendix A) at
    finite parameters, e.g. along a training run.
    """
    objective = _check_objective(objective)
    net = objective.net
    W, b = net.unflatten(net.check_params(theta))
    L = net.depth
    return point_at_infinity(objective, W[L - 1], W[L][0], theta, b[L][0])


def minimum_at_infinity(objective: SquaredLoss, lower=None, rng=0, *, t0: float = 2.0, v_scale: float = 1.0):
    """The local minimum at infinity of 000 Theorem 1 / 001 Theorem 4, built as in the proof.

    ``objective`` is the loss of a sigmoid network with biases (its
    normalisation is the proof's 1/2 sum (f - y)^2 with ``"half"``).

    1. Layers 1..L-2 from ``lower`` (a flat vector of ``net``) or, if it is
       ``None``, from ``net.init_params(rng)``; a = act(L-2; x).
    2. c = mean(y), d = c - y; Lemma 7 / A.2 gives u^> and u^<
       (:func:`lemma7_points`, which checks the mild condition).
    3. Neuron 0 of the last hidden layer gets u^>, neuron 1 gets u^< (the
       proof's i_1, i_2); the others alternate, so that **every** S_i is
       non-zero (see chapter P2: the proof needs v_i S_i < 0 for all i).
    4. v of sign opposite to S with sum v = c (:func:`output_weights`),
       output bias 0.

    Returns ``(point, lemma7)``. Requires at least two neurons in the last
    hidden layer (000: "each hidden layer containing at least two neurons").
    """
    objective = _check_objective(objective)
    net = objective.net
    L = net.depth
    n = net.widths[L - 1]
    if n < 2:
        raise ValueError(f"the last hidden layer needs at least two neurons, got widths {net.widths}")
    if lower is None:
        if rng is None or isinstance(rng, bool) or not isinstance(rng, (np.random.Generator, Integral)):
            raise TypeError(f"rng must be a numpy.random.Generator or an integer seed, got {rng!r}")
        lower = net.init_params(rng)
    else:
        lower = net.check_params(lower, "lower")
    m = net.widths[L - 2]
    # act(L-2; x) does not depend on the layers L-1, L: any placeholder works
    probe = point_at_infinity(objective, np.zeros((n, m)), np.zeros(n), lower, 0.0)
    d = probe.c - probe.y
    lem = lemma7_points(d, probe.A, t0=t0)
    U = np.array([lem.u_gt if i % 2 == 0 else lem.u_lt for i in range(n)])
    S = np.exp(-(U @ probe.A.T)) @ d
    v = output_weights(S, probe.c, v_scale)
    point = point_at_infinity(objective, U, v, lower, 0.0)
    return point, lem
