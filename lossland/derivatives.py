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

import contextlib
import math

import numpy as np

from ._validation import as_float_array, check_callable, check_choice, check_network, check_real
from .network import Forward, Network

__all__ = [
    "SquaredLoss",
    "fd_gradient",
    "fd_hessian",
    "r_operator",
    "refuse_kinks",
    "NORMALIZATIONS",
]

NORMALIZATIONS = {"sum": 1.0, "half": 0.5}
"""Accepted values of ``normalization`` and the factor c in L = c * sum (f - y)^2."""

_MODERATE = 1e20
"""Parameters and data no larger than this cannot overflow the one-hidden-layer Hessian."""
_NO_ERRSTATE = contextlib.nullcontext()
_max = np.maximum.reduce        # ndarray.max without its Python wrapper (propagates NaN)


def _finite(value, what):
    """Raise instead of returning inf/NaN when the parameters overflow the loss."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"theta: {what} overflowed (non-finite); the parameters are too large "
                         "for this activation and data")
    return value


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
        self.net = check_network(net)
        if net.widths[-1] != 1 or net.output_activation is not None:
            raise ValueError(f"net: SquaredLoss needs one linear output, got {net}; use "
                             "lossland.objective.Objective for m > 1 outputs or an output activation")
        self.X = net.check_inputs(X)
        self.y = net.check_targets(y, self.X.shape[0])
        self.normalization = check_choice(normalization, "normalization", sorted(NORMALIZATIONS))
        self.c = NORMALIZATIONS[normalization]

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    # ------------------------------------------------------- forward pass
    def _size(self, theta) -> float:
        """A bound on max |theta_p| (NaN or inf if an entry is) of a float64 vector of length P, else inf.

        sum |theta_p| for a few parameters (Python's sum beats a numpy
        reduction there), max |theta_p| otherwise.
        """
        if (type(theta) is np.ndarray and theta.ndim == 1 and theta.dtype == np.float64
                and theta.shape[0] == self.net.n_params):
            return sum(map(abs, theta.tolist())) if theta.shape[0] <= 32 else float(_max(np.abs(theta)))
        return math.inf

    def _pass(self, theta, keep=True):
        """``(Forward, W)`` at ``theta``: one forward pass, kept for the last ``theta``.

        Consecutive calls at equal parameters (by value) reuse it, so value,
        gradient, output_deltas, jacobian, hvp, and B and D of
        :mod:`lossland.embedding`, share one forward pass. The cache holds a
        read-only copy of ``theta`` (``W`` are views of it), so the caller's
        later changes to ``theta`` cannot make it stale; the methods return
        new arrays computed from it, :meth:`forward` read-only ones. With
        ``keep=False`` a new pass is not kept (and ``W`` is ``None``): the
        loss alone at ever new points (finite differences, line searches)
        then costs no more than the forward pass.
        """
        if not (type(theta) is np.ndarray and theta.ndim == 1 and theta.dtype == np.float64
                and theta.shape[0] == self.net.n_params):
            theta = self.net.check_params(theta)
        # theta need not be checked for NaN/inf here: a cached key was checked by
        # Network.forward when it was computed, and a new one is checked by it now
        key = theta.tobytes()
        last = self.__dict__.get("_last_pass")
        if last is not None and last[0] == key and last[1] is self.X:
            return last[2], last[3]
        if not keep:
            return self.net.forward(theta, self.X), None
        theta = np.frombuffer(key)                      # read-only copy
        net, n = self.net, self.net.widths
        fw = net.forward(theta, self.X)
        W = {l: theta[net.weight_slice(l)].reshape(n[l], n[l - 1]) for l in range(1, net.depth + 1)}
        self._last_pass = (key, self.X, fw, W)
        return fw, W

    def forward(self, theta) -> Forward:
        """:meth:`Network.forward` of ``theta`` on the data ``X``, as read-only arrays.

        Cached for the last ``theta`` (see :meth:`_pass`): functions that need
        the pre-activations of one point, such as :func:`lossland.embedding.B_matrix`
        and ``D_matrix``, should call this rather than ``net.forward``.
        """
        fw = self._pass(theta)[0]
        for arr in fw.pre[1:] + fw.act[1:] + [fw.output]:
            arr.flags.writeable = False
        return fw

    # --------------------------------------------------------------- values
    def residuals(self, theta) -> np.ndarray:
        """f(x_alpha) - y_alpha for every sample."""
        return self._pass(theta, keep=False)[0].output - self.y

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
            g[net.weight_slice(l)] = (delta[l].T @ fw.act[l - 1]).ravel()
            if net.biases:
                g[net.bias_slice(l)] = delta[l].sum(axis=0)
        return g

    def value_and_gradient(self, theta):
        """(L(theta), grad L(theta)) with one forward and one backward pass."""
        fw, W = self._pass(theta)
        refuse_kinks(self.net, fw)
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

        Used by :meth:`hvp`; :meth:`hessian` exploits the structure of the
        unit directions instead.
        """
        fw, W = self._pass(theta)
        refuse_kinks(self.net, fw)
        delta = self._deltas(fw, W, 2.0 * self.c * (fw.output - self.y))
        coef = np.full((self.n_samples, 1), 2.0 * self.c)
        return r_operator(self.net, fw, W, delta, coef, V)

    def _layer_passes(self, theta):
        """Forward and backward pass for :meth:`_hessian_layers`, samples along the last axis.

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
                W[l] = theta[net.weight_slice(l)].reshape(n[l], n[l - 1])
                z = W[l] @ a
                if net.biases:
                    z += theta[net.bias_slice(l)][:, None]
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

    # Largest N * (n_0 + 1)^2 for which _hessian_one_hidden precomputes the
    # products of the inputs (8 MB); larger problems take _hessian_layers.
    _ONE_HIDDEN_MAX = 2 ** 20

    def hessian(self, theta) -> np.ndarray:
        """Exact Hessian (P, P).

        One hidden layer: the closed form H = 2c (J^T J + sum_alpha r_alpha
        Hess f(x_alpha)) (:meth:`_hessian_one_hidden`). Deeper networks (and
        very many inputs): second-order backpropagation, Pearlmutter's
        R-operator (B. A. Pearlmutter, Neural Computation 6, 147-160, 1994)
        applied to the forward and backward pass for all parameters of one
        layer at a time (:meth:`_hessian_layers`). Both are exact; the tests
        compare them with each other, with finite differences and with sympy.
        """
        size = self._size(theta)
        if not size <= _MODERATE:                  # (also NaN) full check: conversion, or the error
            theta = self.net.check_params(theta)
        if not self.net.activation.smooth:
            refuse_kinks(self.net, self._pass(theta)[0])
        plan = self._one_hidden_plan() if self.net.depth == 2 else None
        if plan is not None:
            return self._hessian_one_hidden(theta, plan, size)
        return self._hessian_layers(theta)

    def _one_hidden_plan(self):
        """What :meth:`_hessian_one_hidden` needs from X and the layout, built once.

        ``None`` when the products of the inputs would be too large. Rebuilt if
        ``X`` or ``y`` is replaced.
        """
        plan = self.__dict__.get("_plan1")
        if plan is not None and plan[0] is self.X and plan[1] is self.y:
            return plan[2]
        net, X, N = self.net, self.X, self.n_samples
        (n0, n1, _), P = net.widths, net.n_params
        p0 = n0 + net.biases                           # inputs of a hidden neuron, with the constant 1
        if N * p0 * p0 > self._ONE_HIDDEN_MAX:
            self._plan1 = (X, self.y, None)
            return None
        # moderate: data no larger than _MODERATE and sigma, sigma', sigma'' no larger
        # than 1e18 (> e^40) on a fine grid of [-40, 40] (true for every registered activation)
        grid = np.linspace(-40.0, 40.0, 8001)
        with np.errstate(all="ignore"):
            values = np.array([net.activation.f(grid), net.activation.d1(grid), net.activation.d2(grid)])
        moderate = bool(np.abs(X).max() <= _MODERATE and np.abs(self.y).max() <= _MODERATE
                        and np.abs(values).max() <= 1e18)
        Xt = np.hstack([X, np.ones((N, 1))]) if net.biases else X       # x~ = (x, 1)
        XT = np.ascontiguousarray(Xt.T)
        XXt = np.hstack([(Xt[:, :, None] * Xt[:, None, :]).reshape(N, -1), Xt])  # [x~ (x) x~ | x~]
        u = net.weight_slice(1).start + np.arange(n1)[:, None] * n0 + np.arange(n0)     # u_{kq}: (n1, p0)
        if net.biases:
            u = np.hstack([u, net.bias_slice(1).start + np.arange(n1)[:, None]])
        out = net.weight_slice(2).start                         # v_k (then b_2) are the last entries
        v = out + np.arange(n1)[:, None]
        # M = [t v r; s r] @ XXt, (2 n1, p0^2 + p0): row k holds the block of neuron k,
        # row n1 + k the coupling of v_k with u_k; src -> tgt: positions in M.ravel() -> H.ravel()
        width = p0 * p0 + p0
        k, q = np.arange(n1)[:, None], np.arange(p0)[None, :]
        src_block = (k[:, :, None] * width + q[:, :, None] * p0 + q[:, None, :]).ravel()
        src_cross = ((n1 + k) * width + p0 * p0 + q).ravel()
        src = np.concatenate([src_block, src_cross, src_cross])
        tgt = np.concatenate([(u[:, :, None] * P + u[:, None, :]).ravel(),
                              (v * P + u).ravel(), (u * P + v).ravel()])
        ones = np.ones((1, N)) if net.biases else None
        x_norm = float(np.abs(Xt).sum(axis=1).max())                    # max_alpha ||x~_alpha||_1
        plan = (XT, XT[:n0], XXt, u, out, src, tgt, ones, moderate, x_norm)
        self._plan1 = (X, self.y, plan)
        return plan

    def _hessian_one_hidden(self, theta, plan, size=math.inf) -> np.ndarray:
        """Exact Hessian of a network with one hidden layer, in closed form.

        f(x) = sum_k v_k sigma(n_k) (+ b_2), n_k = sum_q u_{kq} x~_q with
        x~ = (x, 1) when there are biases (u_{k,n_0} is the bias of neuron k).
        With r = f - y and J[alpha, p] = d f(x_alpha) / d theta_p,

            H = 2c J^T J + 2c sum_alpha r_alpha Hess f(x_alpha),
            df/du_{kq} = v_k sigma'(n_k) x~_q,  df/dv_k = sigma(n_k),  df/db_2 = 1,

        and the only second derivatives of f that are not zero are
        d2f/du_{kq}du_{kq'} = v_k sigma''(n_k) x~_q x~_q' (a block per neuron)
        and d2f/du_{kq}dv_k = sigma'(n_k) x~_q. All sums over the samples are
        one product [t v r; s r] @ [x~ (x) x~ | x~] (t = sigma'', s = sigma'),
        scattered into H by index arrays built once per loss object; J^T J is
        one more product. H is symmetric by construction.

        ``plan`` is :meth:`_one_hidden_plan`; ``size`` bounds max |theta_p| (:meth:`_size`).
        """
        XT, XTw, XXt, u, out, src, tgt, ones, moderate_data, x_norm = plan
        act, n1, N = self.net.activation, self.net.widths[1], self.n_samples
        # Nothing can overflow when theta and the data are moderate and |n_k| <= 40
        # (then |sigma|, |sigma'|, |sigma''| <= 1e18, checked by the plan; every
        # product below stays under 1e117 N n_1): no np.errstate, which costs ~15%
        # of a small Hessian, and no check of H. Otherwise both.
        quiet = moderate_data and size <= _MODERATE
        with _NO_ERRSTATE if quiet else np.errstate(over="ignore", invalid="ignore"):
            z = theta[u] @ XT                                     # n_k(x_alpha), (n1, N)
        # |n_k| <= size max_alpha ||x~_alpha||_1: look at n itself only when that exceeds 40
        quiet = quiet and (size * x_norm <= 40.0 or np.abs(z).max() <= 40.0)
        with _NO_ERRSTATE if quiet else np.errstate(over="ignore", invalid="ignore"):
            a, s, t = act.values(z)
            v = theta[out:out + n1, None]
            vs = v * s
            Ju = (vs[:, None, :] * XTw).reshape(-1, N)           # J^T, rows of the weights u_{kq}
            JT = np.concatenate((Ju, a) if ones is None else (Ju, vs, a, ones))
            r = theta[out:] @ JT[out:] - self.y                   # f - y
            M = (np.concatenate((t * v, s)) * r) @ XXt
            H = JT @ JT.T
            H.reshape(-1)[tgt] += M.reshape(-1)[src]
            H *= 2.0 * self.c
        if not quiet and not np.isfinite(H).all():     # (quiet: finite by the bounds above)
            self.net.forward(theta, self.X)           # raises the overflow error of Network.forward
            _finite(H, "the Hessian")
        return H

    def _hessian_layers(self, theta) -> np.ndarray:
        """Exact Hessian by second-order backpropagation, one layer of parameters at a time.

        ``theta`` already validated. Not symmetrised: the entries above and
        below the diagonal come from different computations (forward R-pass
        versus backpropagation of the perturbed weight), so their agreement is
        a check of the computation.
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
        L, n, N = net.depth, net.widths, self.n_samples
        W, A, AT, s, e, delta = self._layer_passes(theta)
        H = np.empty((net.n_params, net.n_params))

        # the parameters of layer l in the flat vector: (slice, index of their input)
        groups = [None] + [[(net.weight_slice(l), slice(n[l - 1]))] for l in range(1, L + 1)]
        if net.biases:
            for l in range(1, L + 1):
                groups[l].append((net.bias_slice(l), n[l - 1]))

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
        V, single = directions(self.net, v)
        out = self._rop(theta, V)
        return out[0] if single else out

    # ------------------------------------------------------------ helpers
    def output_deltas(self, theta) -> list:
        """g[l] = d f(x_alpha) / d n(l, k; x_alpha) for every layer, shape (N, n_l).

        This is the paper's dh_{.,l}(n(l; x)) / dn(l, k; x) (000, eq. (1)-(2));
        ``g[L]`` is all ones. ``g[0]`` is ``None``.
        """
        fw, W = self._pass(theta)
        refuse_kinks(self.net, fw)
        return self._deltas(fw, W, np.ones(self.n_samples))

    def jacobian(self, theta) -> np.ndarray:
        """J[alpha, p] = d f(x_alpha) / d theta_p, shape (N, P)."""
        net = self.net
        fw, W = self._pass(theta)
        refuse_kinks(self.net, fw)
        g = self._deltas(fw, W, np.ones(self.n_samples))
        J = np.empty((self.n_samples, net.n_params))
        for l in range(1, net.depth + 1):
            J[:, net.weight_slice(l)] = (g[l][:, :, None] * fw.act[l - 1][:, None, :]).reshape(
                self.n_samples, -1)
            if net.biases:
                J[:, net.bias_slice(l)] = g[l]
        return J


def refuse_kinks(net: Network, fw: Forward) -> None:
    """Raise ``ValueError`` if a hidden pre-activation sits on a kink of a non-smooth activation.

    ReLU is not differentiable at 0: where some n(l, k; x_alpha) = 0 the
    gradient of the loss need not exist (002, Definition 2.1 and Fig. 2), so
    the exact derivatives refuse such a point and name the first kink.
    One-sided derivatives there: :mod:`lossland.relu_regions.kinks`.
    Smooth activations cost nothing here.
    """
    if net.activation.smooth:
        return
    for l in net.hidden_layers:
        pre = fw.pre[l]
        if np.count_nonzero(pre) == pre.size:       # the common case, without a temporary array
            continue
        hit = np.argwhere(pre == 0.0)
        if hit.size:
            alpha, k = (int(i) for i in hit[0])
            raise ValueError(
                f"theta: n({l}, {k + 1}; x_{alpha + 1}) = 0 is a kink of {net.activation.name} "
                f"({hit.shape[0]} such pre-activations): theta lies on the boundary of an "
                "activation region, where the gradient and Hessian need not exist; use "
                "lossland.relu_regions.kinks for one-sided derivatives")


def directions(net: Network, v) -> tuple[np.ndarray, bool]:
    """``v`` of shape (P,) or (K, P) as a (K, P) array, and whether it was one vector (for hvp)."""
    V = as_float_array(v, "v")
    single = V.ndim == 1
    V = np.atleast_2d(V)
    if V.ndim != 2 or V.shape[1] != net.n_params:
        raise ValueError(f"v must have shape ({net.n_params},) or (K, {net.n_params}), got {np.shape(v)}")
    return V, single


def r_operator(net: Network, fw: Forward, W: dict, delta: list, coef, V) -> np.ndarray:
    """V @ H for the rows of V (K, P): Pearlmutter's R-operator of the gradient.

    Forward and backward passes are differentiated along all K directions at
    once (arrays carry a leading axis of length K). ``fw``, ``W`` and the
    back-propagated ``delta[l]`` = dLoss/dn(l) (N, n_l) describe the point;
    ``coef`` (N, m) is d delta[L] / d n(L) entrywise: 2c for the squared
    loss with a linear output, l'' tau'^2 + l' tau'' for a loss l after an
    output activation tau (paper 003, :class:`lossland.objective.Objective`).
    """
    L = net.depth
    act_fn = net.activation
    K = V.shape[0]
    dW, db = {}, {}
    for l in range(1, L + 1):
        dW[l] = V[:, net.weight_slice(l)].reshape(K, net.widths[l], net.widths[l - 1])
        db[l] = V[:, net.bias_slice(l)] if net.biases else None
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
    Rdelta = coef[None] * Rz[L]
    for l in range(L, 0, -1):
        gW = np.matmul(Rdelta.transpose(0, 2, 1), fw.act[l - 1])
        if l > 1:
            gW += np.matmul(delta[l].T, Ra[l - 1])
        out[:, net.weight_slice(l)] = gW.reshape(K, -1)
        if net.biases:
            out[:, net.bias_slice(l)] = Rdelta.sum(axis=1)
        if l > 1:
            back = delta[l] @ W[l]
            Rdelta = ((Rdelta @ W[l] + np.matmul(delta[l], dW[l])) * d1[l - 1][None]
                      + (back * act_fn.d2(fw.pre[l - 1]))[None] * Rz[l - 1])
    return out


# --------------------------------------------------- finite-difference checks
def fd_gradient(fun, theta, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar function: a cross-check only.

    Error O(h^2) from truncation plus O(eps / h) from round-off. ``fun`` maps
    a vector like ``theta`` to a number; ``h`` is a positive finite step.
    """
    fun = check_callable(fun, "fun")
    theta = as_float_array(theta, "theta", ndim=1)
    h = check_real(h, "h", positive=True)
    g = np.empty_like(theta)
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h
        g[p] = (fun(theta + e) - fun(theta - e)) / (2 * h)
    return g


def fd_hessian(grad, theta, h: float = 1e-5) -> np.ndarray:
    """Central finite differences of a gradient function: a cross-check only.

    Column p is (grad(theta + h e_p) - grad(theta - h e_p)) / 2h; ``grad``
    maps a vector like ``theta`` to one of the same length, ``h`` is a
    positive finite step.
    """
    grad = check_callable(grad, "grad")
    theta = as_float_array(theta, "theta", ndim=1)
    h = check_real(h, "h", positive=True)
    P = theta.size
    H = np.empty((P, P))
    for p in range(P):
        e = np.zeros(P)
        e[p] = h
        H[:, p] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return H
