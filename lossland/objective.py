"""The loss of paper 003 with exact derivatives: m outputs, an output activation, any loss l.

Paper 003 (Nguyen & Hein 2017, Section 2, eq. (1)) trains

    Phi(theta) = sum_i sum_j l(f_Lj(x_i) - y_ij),

with m = n_L outputs, the activation applied at the output layer too
(f_L = sigma(g_L)), and a loss l from :mod:`lossland.losses` (Section 3.2:
squared, Pseudo-Huber, Blake-Zisserman, corrupted Gaussian, Cauchy; Section 5,
eq. (4): the class-dependent squared-hinge-type loss, l_1 on the true class and
l_2 elsewhere). :class:`Objective` gives Phi, the matrices Delta_k of
Lemma 2.1, the exact gradient (backpropagation, Lemma 2.1 items 2-3) and the
exact Hessian (second-order backpropagation: Pearlmutter's R-operator along all
unit directions). The single-output squared loss with a linear output is
:class:`lossland.SquaredLoss` with ``normalization="sum"``; :class:`Objective`
hands its derivatives to it, so that case keeps its speed.

:func:`paper_matrices` shows a parameter point in 003's notation (W_k of shape
n_{k-1} x n_k, F_k, G_k, Delta_k, [F_k, 1_N]).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_network
from .derivatives import SquaredLoss, _finite, directions, r_operator, refuse_kinks
from .losses import ClassLoss, Loss, get_loss
from .network import Forward, Network

__all__ = ["Objective", "PaperMatrices", "paper_matrices"]

# Directions per R-operator pass of Objective.hessian (bounds its memory).
_CHUNK = 256


class Objective:
    """Phi(theta) = sum_{i, j} l(f_Lj(x_i) - y_ij) of paper 003, eq. (1) (and eq. (4)).

    Parameters
    ----------
    net : Network
        Any widths ``(d, n_1, ..., n_{L-1}, m)``, with or without an
        ``output_activation``.
    X : array, shape (N, d)
    Y : array, shape (N, m) (or (N,) when m = 1)
    loss : str, Loss or ClassLoss
        A name or object from :mod:`lossland.losses` (default ``"squared"``,
        l(a) = a^2).
    classes : boolean array (N, m), only with a ClassLoss
        ``classes[i, j]`` is "x_i belongs to C_j" (003, eq. (4)): l_1 is
        applied there and l_2 elsewhere.
    """

    def __init__(self, net: Network, X, Y, loss="squared", classes=None):
        self.net = check_network(net)
        self.X = net.check_inputs(X)
        Y = net.check_targets(Y, self.X.shape[0], name="Y")
        self.Y = Y.reshape(self.X.shape[0], net.widths[-1])
        if isinstance(loss, str):
            loss = get_loss(loss)
        if not isinstance(loss, (Loss, ClassLoss)):
            raise TypeError(f"loss must be a name or a lossland.losses Loss/ClassLoss, "
                            f"got {type(loss).__name__}")
        self.loss = loss
        if isinstance(loss, ClassLoss):
            if classes is None:
                raise ValueError(f"classes is required with the class loss {loss.name!r}: a boolean "
                                 f"array of shape {self.Y.shape} (x_i in C_j)")
            c = np.asarray(classes)
            if c.dtype != bool or c.shape != self.Y.shape:
                raise ValueError(f"classes must be a boolean array of shape {self.Y.shape}, "
                                 f"got dtype {c.dtype} and shape {c.shape}")
            self.classes = c.copy()
        else:
            if classes is not None:
                raise ValueError(f"classes is only used with a class loss, not with {loss.name!r}")
            self.classes = None
        fast = (isinstance(loss, Loss) and loss.name == "squared" and net.widths[-1] == 1
                and net.output_activation is None)
        self._fast = SquaredLoss(net, self.X, self.Y[:, 0], "sum") if fast else None

    def __repr__(self):
        return f"Objective({self.net}, N={self.n_samples}, loss={self.loss.name})"

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    # ------------------------------------------------------------ pieces
    def _theta(self, theta):
        return self.net.check_params(theta)

    def _loss_values(self, R):
        """(l, l', l'') of the residuals R = F_L - Y, entrywise."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.classes is None:
                return self.loss.values(R)
            return self.loss.values(R, self.classes)

    def forward(self, theta) -> Forward:
        """The forward pass on ``X``: ``pre[k]`` = G_k, ``act[k]`` = F_k (003, Section 2)."""
        return self.net.forward(self._theta(theta), self.X)

    def residuals(self, theta) -> np.ndarray:
        """F_L - Y, shape (N, m)."""
        return self.forward(theta).act[-1] - self.Y

    def value(self, theta) -> float:
        """Phi(theta), 003 eq. (1)."""
        l = self._loss_values(self.residuals(theta))[0]
        return _finite(float(l.sum()), "the loss")

    __call__ = value

    def _output_terms(self, fw):
        """Delta_L and the second-order coefficient l'' tau'^2 + l' tau'' at the output, (N, m)."""
        out = self.net.output_activation
        R = fw.act[-1] - self.Y
        _, l1, l2 = self._loss_values(R)
        if out is None:
            return l1, l2
        with np.errstate(over="ignore", invalid="ignore"):
            _, t1, t2 = out.values(fw.pre[-1])
            return l1 * t1, l2 * t1 * t1 + l1 * t2

    def _deltas(self, fw, W):
        L = self.net.depth
        d1 = self.net.activation.d1
        delta = [None] * (L + 1)
        delta[L], coef = self._output_terms(fw)
        with np.errstate(over="ignore", invalid="ignore"):
            for l in range(L, 1, -1):
                delta[l - 1] = (delta[l] @ W[l]) * d1(fw.pre[l - 1])
        return delta, coef

    def _weights(self, theta):
        net, n = self.net, self.net.widths
        return {l: theta[net.weight_slice(l)].reshape(n[l], n[l - 1]) for l in range(1, net.depth + 1)}

    def deltas(self, theta) -> list:
        """``[None, Delta_1, ..., Delta_L]``, Delta_k = dPhi/dG_k of shape (N, n_k) (003, Lemma 2.1, item 1)."""
        theta = self._theta(theta)
        fw = self.net.forward(theta, self.X)
        refuse_kinks(self.net, fw)
        delta = self._deltas(fw, self._weights(theta))[0]
        return [None] + [_finite(d, "Delta") for d in delta[1:]]

    def value_and_gradient(self, theta):
        """(Phi, grad Phi): grad_{W_k} = F_{k-1}^T Delta_k, grad_{b_k} = Delta_k^T 1 (003, Lemma 2.1)."""
        if self._fast is not None:
            return self._fast.value_and_gradient(theta)
        theta = self._theta(theta)
        net = self.net
        fw = net.forward(theta, self.X)
        refuse_kinks(net, fw)
        delta = self._deltas(fw, self._weights(theta))[0]
        l = self._loss_values(fw.act[-1] - self.Y)[0]
        g = np.empty(net.n_params)
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(1, net.depth + 1):
                g[net.weight_slice(k)] = (delta[k].T @ fw.act[k - 1]).ravel()
                if net.biases:
                    g[net.bias_slice(k)] = delta[k].sum(axis=0)
        return _finite(float(l.sum()), "the loss"), _finite(g, "the gradient")

    def gradient(self, theta) -> np.ndarray:
        """Exact gradient (backpropagation, 003 Lemma 2.1), flat (P,)."""
        return self.value_and_gradient(theta)[1]

    # ------------------------------------------------------- second order
    def _rop(self, theta, V):
        """V @ H for the rows of V (K, P) (:func:`lossland.derivatives.r_operator`).

        At the output, R{Delta_L} = (l'' tau'^2 + l' tau'') R{G_L} (tau the
        output activation; tau' = 1 and tau'' = 0 when it is linear); then the
        backward R-pass of the recursion of Lemma 2.1.
        """
        fw = self.net.forward(theta, self.X)
        refuse_kinks(self.net, fw)
        W = self._weights(theta)
        delta, coef = self._deltas(fw, W)
        with np.errstate(over="ignore", invalid="ignore"):
            return r_operator(self.net, fw, W, delta, coef, V)

    def hessian(self, theta) -> np.ndarray:
        """Exact Hessian (P, P), symmetrised (second-order backpropagation).

        The single-output squared loss is computed by :meth:`SquaredLoss.hessian`.
        """
        if self._fast is not None:
            return self._fast.hessian(theta)
        theta = self._theta(theta)
        P = self.net.n_params
        H = np.empty((P, P))
        eye = np.eye(P)
        for start in range(0, P, _CHUNK):
            H[start:start + _CHUNK] = self._rop(theta, eye[start:start + _CHUNK])
        H = 0.5 * (H + H.T)
        return _finite(H, "the Hessian")

    def hvp(self, theta, v) -> np.ndarray:
        """Hessian-vector product H(theta) v (``v`` of shape (P,) or (K, P)) without forming H."""
        theta = self._theta(theta)
        V, single = directions(self.net, v)
        out = _finite(self._rop(theta, V), "the Hessian-vector product")
        return out[0] if single else out


@dataclass(frozen=True)
class PaperMatrices:
    """A parameter point in paper 003's notation (Section 2).

    ``W[k]`` (n_{k-1}, n_k) is lossland's ``W[k].T``; ``b[k]`` (n_k,);
    ``F[k]`` (N, n_k) with ``F[0] = X``; ``G[k]`` (N, n_k); ``Delta[k]`` (N, n_k);
    k = 1..L. :meth:`E` is the matrix [F_k, 1_N] of Lemma 3.5.
    """

    W: dict
    b: dict
    F: dict
    G: dict
    Delta: dict

    def E(self, k: int) -> np.ndarray:
        """[F_k, 1_N], shape (N, n_k + 1) (003, Lemma 3.5 and Lemma 4.3)."""
        if k not in self.F:
            raise ValueError(f"k must be a layer 0..{max(self.F)}, got {k!r}")
        F = self.F[k]
        return np.hstack([F, np.ones((F.shape[0], 1))])


def paper_matrices(objective: Objective, theta) -> PaperMatrices:
    """W_k, b_k, F_k, G_k, Delta_k of 003 (Section 2, Lemma 2.1) at ``theta``."""
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a lossland.objective.Objective, got {type(objective).__name__}")
    theta = objective._theta(theta)
    net = objective.net
    W, b = net.unflatten(theta)
    fw = net.forward(theta, objective.X)
    delta = objective.deltas(theta)
    L = net.depth
    return PaperMatrices(W={k: W[k].T.copy() for k in range(1, L + 1)},
                         b={k: b[k].copy() for k in range(1, L + 1)},
                         F={k: fw.act[k] for k in range(0, L + 1)},
                         G={k: fw.pre[k] for k in range(1, L + 1)},
                         Delta={k: delta[k] for k in range(1, L + 1)})
