"""Squared loss, its exact gradient, exact Hessian and Hessian-vector products.

Normalisation. Paper 000 (Section III-A) and 001 (Section 3) define
L = sum_alpha (f(x_alpha) - y_alpha)^2 (``normalization="sum"``, the default);
the proof of Theorem 1 in 000 (Appendix A) and the ReLU paper (002, eq. (3)) use
L = 1/2 sum_alpha (f(x_alpha) - y_alpha)^2 (``normalization="half"``). The two
differ by a factor of 2 in the loss, gradient and Hessian.

Derivatives are exact: the gradient is backpropagation (the identities of
Nguyen & Hein, Lemma 2.1: dL/dW^l = delta_l^T act(l-1), delta_{l-1} =
(delta_l W^l) * sigma'(n(l-1))), and the Hessian is second-order
backpropagation (Pearlmutter's R-operator applied to the forward and
backward pass), for all parameters of one layer at a time;
:meth:`SquaredLoss.hvp` uses the R-operator along arbitrary directions.
Finite differences live only in :func:`fd_gradient` and :func:`fd_hessian`,
documented cross-checks.
"""
from __future__ import annotations

import numpy as np

from .network import Network

__all__ = [
    "SquaredLoss",
    "fd_gradient",
    "fd_hessian",
    "NORMALIZATIONS",
]

NORMALIZATIONS = {"sum": 1.0, "half": 0.5}
"""Accepted values of ``normalization`` and the factor c in L = c * sum (f - y)^2."""


def _finite(value, what):
    """Raise instead of returning inf/NaN when the parameters overflow the loss."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"theta: {what} overflowed (non-finite); the parameters are too large "
                         "for this activation and data")
    return value


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
        c = 1 (papers 000/001) or c = 1/2 (002; 000's Appendix A).

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
        with np.errstate(over="ignore"):
            value = float(self.c * (r @ r))
        return _finite(value, "the loss")

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
        with np.errstate(over="ignore", invalid="ignore"):
            value, grad = float(self.c * (r @ r)), self._grad_from_deltas(fw, delta)
        return _finite(value, "the loss"), _finite(grad, "the gradient")

    def gradient(self, theta) -> np.ndarray:
        """Exact gradient by backpropagation."""
        return self.value_and_gradient(theta)[1]

    # ------------------------------------------------------- second order
    def _rop(self, theta, V):
        """R-operator of the gradient along the rows of V: returns V @ H (K, P).

        Forward and backward passes are differentiated along all K directions
        at once (arrays carry a leading axis of length K). Used by :meth:`hvp`;
        :meth:`hessian` exploits the structure of the unit directions instead.
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

    def _layer_passes(self, theta):
        """Forward and backward pass for :meth:`hessian`, samples along the last axis.

        Lists indexed by the layer l = 1..L: ``W[l]``; ``A[l]`` (N, p_l), the
        inputs act(l-1) of layer l followed, with biases, by a column of ones
        (the bias w^l_0 is the weight of a constant input, p_l = n_{l-1} + 1),
        and ``AT[l]`` = ``A[l].T``; ``delta[l]`` = dL/dn(l), ``s[l]`` =
        sigma'(n(l)) and ``e[l]`` = (W[l+1]^T delta[l+1]) * sigma''(n(l)), all
        of shape (n_l, N).
        """
        net, L, n, N = self.net, self.net.depth, self.net.widths, self.n_samples
        act = net.activation
        W, A, AT, s, e, delta = ([None] * (L + 1) for _ in range(6))
        a = self.X.T
        with np.errstate(over="ignore", invalid="ignore"):
            for l in range(1, L + 1):
                W[l] = theta[net._slices[("W", l)]].reshape(n[l], n[l - 1])
                z = W[l] @ a
                if net.biases:
                    z += theta[net._slices[("b", l)]][:, None]
                    a = np.concatenate((a, np.ones((1, N))))
                AT[l], A[l] = a, a.T
                if l < L:
                    a, s[l], e[l] = act.f(z), act.d1(z), act.d2(z)
            r = z[0] - self.y
        if not np.isfinite(r).all():
            net.forward(theta, self.X)          # raises the overflow error of Network.forward
        delta[L] = (2.0 * self.c) * r[None, :]
        for l in range(L, 1, -1):
            back = W[l].T @ delta[l]
            delta[l - 1] = back * s[l - 1]
            e[l - 1] = e[l - 1] * back
        return W, A, AT, s, e, delta

    def hessian(self, theta) -> np.ndarray:
        """Exact Hessian (P, P) by second-order backpropagation.

        Pearlmutter's R-operator (B. A. Pearlmutter, Neural Computation 6,
        147-160, 1994) applied to the forward and backward pass, for all
        parameters of one layer at a time.
        Not symmetrised: the entries above and below the diagonal come from
        different computations (forward R-pass versus backpropagation of the
        perturbed weight), so their agreement is a check of the computation.
        """
        # Derivation. c: the normalization; a: a sample; w^l_{ij} with j = n_{l-1}
        # is the bias of neuron i; H[p, p'] = R{dL/dtheta_p} along theta_p'.
        # Direction theta = w^l_{ij}: R{n(l)} = e_i A[l][a, j], R{n(m)} = 0 for
        # m < l. Above layer l everything is linear in R{n(l)} sample by sample,
        # so the R-pass of all n_l p_l weights of layer l is the R-pass along
        # the n_l unit perturbations of n(l, i), times the scalar A[l][a, j]:
        #   Rz[m][k, i, a] = d n(m, k) / d n(l, i),  Ra[m] = s[m] Rz[m]   (m >= l)
        #   Rz[l] = identity, Rz[m] = W[m] Ra[m-1];  Rd[L] = 2c Rz[L],
        #   Rd[m] = s[m] (W[m+1]^T Rd[m+1]) + e[m] Rz[m]                 (R{delta(m)})
        # and, from dL/dw^m_{kq} = sum_a delta[m][k, a] A[m][a, q],
        #   H[(m,k,q), (l,i,j)] = sum_a A[l][a, j] (Rd[m][k, i, a] A[m][a, q]
        #                                           + delta[m][k, a] Ra[m-1][q, i, a])  (m >= l),
        # where Ra[m-1] = 0 if m = l or q is the bias (a constant input).
        # Below layer l, R{n(m)} = 0, but backpropagation meets R{W[l]} = e_i e_j^T:
        #   R{delta(l-1)} = s[l-1] (W[l]^T R{delta(l)} + R{W[l]}^T delta(l))
        #                 = A[l][a, j] P[l-1][q, i, a] + delta[l][i, a] S[l-1][q, j, a],
        #   P[l-1] = s[l-1] (W[l]^T Rd[l]),  S[l-1][q, j, a] = s[l-1][q, a] [q == j]
        # (no S term for a bias j: R{W[l]} = 0, R{b[l]} = e_i),
        # both backpropagated as P[m] = s[m] (W[m+1]^T P[m+1]), and
        #   H[(m,k,q), (l,i,j)] = sum_a A[m][a, q] (A[l][a, j] P[m][k, i, a]
        #                                           + delta[l][i, a] S[m][k, j, a])  (m < l).
        # Every sum over the samples is one matrix product. Large temporaries are
        # dropped as soon as they are used: holding many of them makes malloc hand
        # memory back to the OS at the end of every call and page-fault it in again
        # on the next (measured: ~1000 faults and 3x the time for 2-21-21-1).
        net = self.net
        theta = net.check_params(theta)
        L, n, N, slc = net.depth, net.widths, self.n_samples, net._slices
        W, A, AT, s, e, delta = self._layer_passes(theta)
        H = np.empty((net.n_params, net.n_params))

        # the parameters of layer l in the flat vector: (slice, index of their input)
        groups = [None] + [[(slc["W", l], slice(n[l - 1]))] for l in range(1, L + 1)]
        if net.biases:
            for l in range(1, L + 1):
                groups[l].append((slc["b", l], n[l - 1]))

        def put(m, l, blk, add=False):
            """Write (or add) blk[k, q, i, j] into H[(m, k, q), (l, i, j)].

            q = n_{m-1} (j = n_{l-1}) is the bias, when blk has that index.
            """
            for rs, q in groups[m][:blk.shape[1] - n[m - 1] + 1]:
                for cs, j in groups[l][:blk.shape[3] - n[l - 1] + 1]:
                    x = blk[:, q, :, j]
                    view = H[rs, cs].reshape(x.shape)
                    if add:
                        view += x
                    else:
                        view[...] = x

        for l in range(1, L + 1):               # the columns of the parameters of layer l
            nl, pl = n[l], A[l].shape[1]
            Rz, Ra = [None] * (L + 1), [None] * (L + 1)
            Rz[l] = np.eye(nl)[:, :, None]
            for m in range(l + 1, L + 1):       # forward R-pass
                Ra[m - 1] = Rz[m - 1] * s[m - 1][:, None, :]
                Rz[m] = (W[m] @ Ra[m - 1].reshape(n[m - 1], -1)).reshape(n[m], nl, N)
            for m in range(L, l - 1, -1):       # backward R-pass: rows of layers m >= l
                if m == L:
                    Rd = 2.0 * self.c * (Rz[L] if l < L else np.ones((1, 1, N)))  # Rz[L] = 1 if l = L
                else:
                    Rd = (W[m + 1].T @ Rd.reshape(n[m + 1], -1)).reshape(n[m], nl, N)
                    Rd *= s[m][:, None, :]
                    Rd += e[m][:, None, :] * Rz[m]
                Rz[m] = None                    # no longer needed (see the note above)
                # sum_a Rd[k, i, a] A[m][a, q] A[l][a, j], as [(k, i), (q, j)]
                C = (AT[m][:, None, :] * AT[l]).reshape(-1, N)
                put(m, l, (Rd.reshape(-1, N) @ C.T).reshape(n[m], nl, -1, pl).transpose(0, 2, 1, 3))
                if m > l:                       # sum_a Ra[m-1][q, i, a] delta[m][k, a] A[l][a, j]
                    D = (delta[m][:, None, :] * AT[l]).reshape(-1, N)
                    T = Ra[m - 1].reshape(-1, N) @ D.T                  # as [(q, i), (k, j)]
                    put(m, l, T.reshape(n[m - 1], nl, n[m], pl).transpose(2, 0, 1, 3), add=True)
                    Ra[m - 1] = T = None
            if l == 1:
                continue
            q = n[l - 1]                        # backpropagation: rows of layers m < l
            P = (W[l].T @ Rd.reshape(nl, -1)).reshape(q, nl, N)
            P *= s[l - 1][:, None, :]
            S = np.eye(q)[:, :, None] * s[l - 1][:, None, :]
            for m in range(l - 1, 0, -1):
                if m < l - 1:
                    P = (W[m + 1].T @ P.reshape(n[m + 1], -1)).reshape(n[m], nl, N)
                    P *= s[m][:, None, :]
                    S = (W[m + 1].T @ S.reshape(n[m + 1], -1)).reshape(n[m], q, N)
                    S *= s[m][:, None, :]
                # sum_a P[k, i, a] A[m][a, q] A[l][a, j], as [(k, i), (q, j)]
                C = (AT[m][:, None, :] * AT[l]).reshape(-1, N)
                put(m, l, (P.reshape(-1, N) @ C.T).reshape(n[m], nl, -1, pl).transpose(0, 2, 1, 3))
                # sum_a S[k, j, a] A[m][a, q] delta[l][i, a], as [(k, j), (q, i)]
                E = (AT[m][:, None, :] * delta[l]).reshape(-1, N)
                put(m, l, (S.reshape(-1, N) @ E.T).reshape(n[m], q, -1, nl).transpose(0, 2, 3, 1), add=True)
        return _finite(H, "the Hessian")

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
