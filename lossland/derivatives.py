"""Squared loss, its exact gradient, exact Hessian and Hessian-vector products.

Normalisation. Paper 000 (Section III-A) and 001 (Section 3) define
L = sum_alpha (f(x_alpha) - y_alpha)^2 (``normalization="sum"``, the default);
the proof of Theorem 1 in 000 (Appendix A) and Nguyen & Hein (003) use
L = 1/2 sum_alpha (f(x_alpha) - y_alpha)^2 (``normalization="half"``). The two
differ by a factor of 2 in the loss, gradient and Hessian.

Derivatives are exact: the gradient is backpropagation (the identities of
Nguyen & Hein, Lemma 2.1: dL/dW^l = delta_l^T act(l-1), delta_{l-1} =
(delta_l W^l) * sigma'(n(l-1))), and the Hessian is second-order
backpropagation (Pearlmutter's R-operator applied to the backward pass),
evaluated for all directions at once. Finite differences live only in
:func:`fd_gradient` and :func:`fd_hessian`, documented cross-checks.
"""
from __future__ import annotations

import numpy as np

from .network import Network

__all__ = [
    "SquaredLoss",
    "loss",
    "gradient",
    "hessian",
    "hvp",
    "residuals",
    "output_deltas",
    "jacobian",
    "fd_gradient",
    "fd_hessian",
    "NORMALIZATIONS",
]

NORMALIZATIONS = {"sum": 1.0, "half": 0.5}
"""Accepted values of ``normalization`` and the factor c in L = c * sum (f - y)^2."""


def _check_network(net):
    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossland.Network, got {type(net).__name__}")
    return net


class SquaredLoss:
    """The squared loss L(theta) = c * sum_alpha (f(x_alpha; theta) - y_alpha)^2 of a data set.

    Parameters
    ----------
    net : Network
    X : array, shape (N, n_0)
    y : array, shape (N,)
    normalization : {"sum", "half"}
        c = 1 (papers 000/001) or c = 1/2 (003; 000's Appendix A).

    The data are validated once here; the methods validate ``theta``.
    """

    def __init__(self, net: Network, X, y, normalization: str = "sum"):
        self.net = _check_network(net)
        self.X = net.check_inputs(X)
        self.y = net.check_targets(y, self.X.shape[0])
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {sorted(NORMALIZATIONS)}, got {normalization!r}")
        self.normalization = normalization
        self.c = NORMALIZATIONS[normalization]

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    # --------------------------------------------------------------- values
    def residuals(self, theta) -> np.ndarray:
        """f(x_alpha) - y_alpha for every sample."""
        return self.net.forward(theta, self.X).output - self.y

    def value(self, theta) -> float:
        """L(theta)."""
        r = self.residuals(theta)
        return float(self.c * (r @ r))

    __call__ = value

    def _deltas(self, fw, W, seed):
        """Backpropagate ``seed`` = dL/df (N,) into delta[l] = dL/dn(l) (N, n_l)."""
        L = self.net.depth
        d1 = self.net.activation.d1
        delta = [None] * (L + 1)
        delta[L] = seed[:, None]
        for l in range(L, 1, -1):
            delta[l - 1] = (delta[l] @ W[l]) * d1(fw.pre[l - 1])
        return delta

    def _grad_from_deltas(self, fw, delta):
        net = self.net
        g = np.empty(net.n_params)
        for l in range(1, net.depth + 1):
            g[net._slices[("W", l)]] = (delta[l].T @ fw.act[l - 1]).ravel()
            if net.biases:
                g[net._slices[("b", l)]] = delta[l].sum(axis=0)
        return g

    def value_and_gradient(self, theta):
        """(L(theta), grad L(theta)) with one forward and one backward pass."""
        theta = self.net.check_params(theta)
        fw = self.net.forward(theta, self.X)
        W, _ = self.net.unflatten(theta)
        r = fw.output - self.y
        delta = self._deltas(fw, W, 2.0 * self.c * r)
        return float(self.c * (r @ r)), self._grad_from_deltas(fw, delta)

    def gradient(self, theta) -> np.ndarray:
        """Exact gradient by backpropagation."""
        return self.value_and_gradient(theta)[1]

    # ------------------------------------------------------- second order
    def _rop(self, theta, V):
        """R-operator of the gradient along the rows of V: returns V @ H (K, P).

        Forward and backward passes are differentiated along all K directions
        at once (arrays carry a leading axis of length K).
        """
        net = self.net
        theta = net.check_params(theta)
        L = net.depth
        act_fn = net.activation
        fw = net.forward(theta, self.X)
        W, _ = net.unflatten(theta)
        r = fw.output - self.y
        delta = self._deltas(fw, W, 2.0 * self.c * r)
        K = V.shape[0]
        dW, db = {}, {}
        for l in range(1, L + 1):
            dW[l] = V[:, net._slices[("W", l)]].reshape(K, net.widths[l], net.widths[l - 1])
            db[l] = V[:, net._slices[("b", l)]] if net.biases else None
        d1 = {l: act_fn.d1(fw.pre[l]) for l in range(1, L)}
        # forward R-pass: Rz[l] = R{n(l)}, Ra[l] = R{act(l)}, shape (K, N, n_l)
        Rz, Ra = [None] * (L + 1), [None] * (L + 1)
        for l in range(1, L + 1):
            z = np.matmul(fw.act[l - 1], dW[l].transpose(0, 2, 1))
            if l > 1:
                z += Ra[l - 1] @ W[l].T
            if db[l] is not None:
                z += db[l][:, None, :]
            Rz[l] = z
            if l < L:
                Ra[l] = d1[l][None] * z
        # backward R-pass
        out = np.empty((K, net.n_params))
        Rdelta = 2.0 * self.c * Rz[L]
        for l in range(L, 0, -1):
            gW = np.matmul(Rdelta.transpose(0, 2, 1), fw.act[l - 1])
            if l > 1:
                gW += np.matmul(delta[l].T, Ra[l - 1])
            out[:, net._slices[("W", l)]] = gW.reshape(K, -1)
            if net.biases:
                out[:, net._slices[("b", l)]] = Rdelta.sum(axis=1)
            if l > 1:
                back = delta[l] @ W[l]
                Rdelta = ((Rdelta @ W[l] + np.matmul(delta[l], dW[l])) * d1[l - 1][None]
                          + (back * act_fn.d2(fw.pre[l - 1]))[None] * Rz[l - 1])
        return out

    def hessian(self, theta) -> np.ndarray:
        """Exact Hessian (P, P) by second-order backpropagation.

        Not symmetrised: the two triangles are computed independently, so
        their agreement is a check of the computation.
        """
        theta = self.net.check_params(theta)
        return self._rop(theta, np.eye(self.net.n_params))

    def hvp(self, theta, v) -> np.ndarray:
        """Hessian-vector product H(theta) v without forming H.

        ``v`` may be one vector (P,) or a stack of vectors (K, P).
        """
        theta = self.net.check_params(theta)
        V = np.asarray(v, dtype=float)
        single = V.ndim == 1
        V = np.atleast_2d(V)
        if V.ndim != 2 or V.shape[1] != self.net.n_params:
            raise ValueError(f"v must have shape ({self.net.n_params},) or (K, {self.net.n_params}), "
                             f"got {np.shape(v)}")
        if not np.all(np.isfinite(V)):
            raise ValueError("v contains non-finite values")
        out = self._rop(theta, V)
        return out[0] if single else out

    # ------------------------------------------------------------ helpers
    def output_deltas(self, theta) -> list:
        """g[l] = d f(x_alpha) / d n(l, k; x_alpha) for every layer, shape (N, n_l).

        This is the paper's dh_{.,l}(n(l; x)) / dn(l, k; x) (000, eq. (1)-(2));
        ``g[L]`` is all ones. ``g[0]`` is ``None``.
        """
        theta = self.net.check_params(theta)
        fw = self.net.forward(theta, self.X)
        W, _ = self.net.unflatten(theta)
        return self._deltas(fw, W, np.ones(self.n_samples))

    def jacobian(self, theta) -> np.ndarray:
        """J[alpha, p] = d f(x_alpha) / d theta_p, shape (N, P)."""
        theta = self.net.check_params(theta)
        net = self.net
        fw = net.forward(theta, self.X)
        g = self.output_deltas(theta)
        J = np.empty((self.n_samples, net.n_params))
        for l in range(1, net.depth + 1):
            J[:, net._slices[("W", l)]] = (g[l][:, :, None] * fw.act[l - 1][:, None, :]).reshape(
                self.n_samples, -1)
            if net.biases:
                J[:, net._slices[("b", l)]] = g[l]
        return J


# ------------------------------------------------------------- functional API
def loss(net, theta, X, y, normalization="sum") -> float:
    """L = c * sum (f(x) - y)^2 (see :class:`SquaredLoss`)."""
    return SquaredLoss(net, X, y, normalization).value(theta)


def residuals(net, theta, X, y) -> np.ndarray:
    """f(x_alpha) - y_alpha."""
    return SquaredLoss(net, X, y).residuals(theta)


def gradient(net, theta, X, y, normalization="sum") -> np.ndarray:
    """Exact gradient of the squared loss (backpropagation)."""
    return SquaredLoss(net, X, y, normalization).gradient(theta)


def hessian(net, theta, X, y, normalization="sum") -> np.ndarray:
    """Exact Hessian of the squared loss (second-order backpropagation)."""
    return SquaredLoss(net, X, y, normalization).hessian(theta)


def hvp(net, theta, X, y, v, normalization="sum") -> np.ndarray:
    """Exact Hessian-vector product."""
    return SquaredLoss(net, X, y, normalization).hvp(theta, v)


def output_deltas(net, theta, X) -> list:
    """d f / d n(l, k; x) for every layer (see :meth:`SquaredLoss.output_deltas`)."""
    X = net.check_inputs(X)
    return SquaredLoss(net, X, np.zeros(X.shape[0])).output_deltas(theta)


def jacobian(net, theta, X) -> np.ndarray:
    """d f(x_alpha) / d theta (N, P)."""
    X = net.check_inputs(X)
    return SquaredLoss(net, X, np.zeros(X.shape[0])).jacobian(theta)


# --------------------------------------------------- finite-difference checks
def fd_gradient(fun, theta, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar function: a cross-check only.

    Error O(h^2) from truncation plus O(eps / h) from round-off.
    """
    theta = np.asarray(theta, dtype=float)
    g = np.empty_like(theta)
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h
        g[p] = (fun(theta + e) - fun(theta - e)) / (2 * h)
    return g


def fd_hessian(grad, theta, h: float = 1e-5) -> np.ndarray:
    """Central finite differences of a gradient function: a cross-check only.

    Column p is (grad(theta + h e_p) - grad(theta - h e_p)) / 2h.
    """
    theta = np.asarray(theta, dtype=float)
    P = theta.size
    H = np.empty((P, P))
    for p in range(P):
        e = np.zeros(P)
        e[p] = h
        H[:, p] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return H
