"""Proposition 2 of 004: a strict local minimum of the 1-1-1 network for N >= 7 (chapters G4, G6).

For F_2 = w_2 sigma(w_1 x + b_1) + b_2 (004, eq. (5)) and generic X with
N >= 7, data Y of eq. (57) make W-hat = (1, 0, w_2, 0) a strict local
minimum with R(W-hat) > 0 (proof in A.2.2). :func:`proposition2_construction`
follows the proof: A(X), the functions of B_2 (Assumption 1, catalogue name
``"B2"``) at the samples (:func:`b2_matrix`), and vectors v_k orthogonal to
some of them and positive on others (:func:`sign_constrained_vectors`,
eq. (50)-(56), also used by Proposition 4). :func:`high_precision_gradient`
redoes the orthogonality in mpmath, :func:`profile_loss` and
:func:`better_point` show that W-hat is not global ("bad"),
:func:`check_proposition2` asserts every claim of the proposition, and
:func:`proposition2_figure` draws the profile loss and the loss along the
Hessian eigenvectors (the widget of chapter G4, whose callback is
:func:`show_proposition2`; :func:`draw_proposition2` draws the same figure on a
given one, the frames of the widget's kernel-free twin).

Parameters use :class:`lossland.Network`'s flat order, for the 1-1-1 network
with biases 004's (w_1, b_1, w_2, b_2); 004's loss is
R = sum_i (F(x_i) - y_i)^2 (``normalization="sum"``).
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from .._validation import check_dps, check_int, check_objective, check_real
from ..activations import Activation, get_activation
from ..derivatives import SquaredLoss
from ..network import Network
from ._common import WidthOneConstruction, as_activation, as_samples, positive_constants
from .function_sets import FUNCTION_SETS, evaluate

__all__ = [
    "sign_constrained_vectors",
    "B2_NAMES",
    "b2_matrix",
    "Proposition2",
    "proposition2_construction",
    "high_precision_gradient",
    "profile_loss",
    "better_point",
    "check_proposition2",
    "proposition2_figure",
    "draw_proposition2",
    "show_proposition2",
]

_B2 = FUNCTION_SETS["B2"]

B2_NAMES = _B2.names
"""The functions of B_2 (004, Assumption 1) in the order of the proof of Proposition 2.

Assumption 1 as printed lists x sigma'' twice; the proof (A.2.2) uses
x^2 sigma'' for the last one, as here (catalogue name ``"B2"``).
"""


# ====================================================== sign conditions
def sign_constrained_vectors(orthogonal, positive, *, rank_rtol: float = 1e-10):
    """Linearly independent v_k orthogonal to some vectors, positive on others (004, eq. (50)-(56)).

    Returns ``(V, margin)``: the rows of ``V`` are N - r linearly
    independent unit-scale vectors (r = rank of ``orthogonal``) with
    <v_k, o> = 0 for every column o of ``orthogonal`` and <v_k, p> > 0 for
    every column p of ``positive``. Construction: Q, an orthonormal basis of
    the orthogonal complement of the columns of ``orthogonal``; the
    projections P = Q^T p, normalised to unit columns P^; the least-norm
    z_0 with P^T z_0 = 1 (all normalised inner products equal), scaled to
    ||z_0|| = 1, so that P^T z_0 = margin * 1 with margin = 1 / ||P^(P^T P)^{-1} 1||;
    then z_1 = z_0 and z_{j+1} = z_0 + (margin / 2) u_j for an orthonormal
    basis u_j of z_0's complement in the span of Q. Every normalised inner
    product is then at least margin / 2, and the z_k are independent.

    With no positive vectors (``positive`` of shape (N, 0)) the rows of ``V``
    are an orthonormal basis of the complement and ``margin`` is ``inf``.
    Raises ``ValueError`` when the projections of ``positive`` are linearly
    dependent (relative tolerance ``rank_rtol``), the non-generic case.
    """
    O = np.asarray(orthogonal, dtype=float)
    P = np.asarray(positive, dtype=float)
    if P.ndim == 2 and P.shape[1] == 0 and P.shape[0] == 0:
        P = np.zeros((O.shape[0], 0))
    if O.ndim != 2 or P.ndim != 2 or O.shape[0] != P.shape[0]:
        raise ValueError("orthogonal and positive must be 2-d arrays with one row per sample")
    U, S, _ = np.linalg.svd(O, full_matrices=True)
    rank = int((S > rank_rtol * S[0]).sum()) if S.size else 0
    Q = U[:, rank:]
    dim = Q.shape[1]
    k = P.shape[1]
    if dim < max(k, 1):
        raise ValueError(f"the orthogonal complement has dimension {dim} < {max(k, 1)} (need more samples)")
    if k == 0:
        return Q.T.copy(), np.inf
    Pp = Q.T @ P
    norms = np.linalg.norm(Pp, axis=0)
    scale = np.linalg.norm(P, axis=0)
    if np.any(norms <= rank_rtol * scale):
        raise ValueError("a positive vector lies in the span of the orthogonal ones (X not generic)")
    Ph = Pp / norms
    sv = np.linalg.svd(Ph, compute_uv=False)
    if sv[-1] <= rank_rtol * sv[0]:
        raise ValueError("the projections of the positive vectors are linearly dependent (X not generic)")
    z0 = Ph @ np.linalg.solve(Ph.T @ Ph, np.ones(k))
    margin = 1.0 / float(np.linalg.norm(z0))
    z0 = z0 * margin
    # orthonormal basis of z0's complement inside R^dim
    Uz = np.linalg.svd(z0[:, None], full_matrices=True)[0][:, 1:]
    Z = np.vstack([z0, z0[None, :] + 0.5 * margin * Uz.T])
    return Z @ Q.T, margin



# ============================================================ Proposition 2
def b2_matrix(activation, x) -> np.ndarray:
    """A(X) of 004, proof of Proposition 2: the B_2 functions at the samples, shape (N, 7)."""
    return evaluate(_B2, activation, x)


def _b2_columns(names, name):
    if isinstance(names, str):
        raise TypeError(f"{name} must be a sequence of names from B2_NAMES, got the string {names!r}")
    return [_B2.position(n) for n in names]


@dataclass
class Proposition2(WidthOneConstruction):
    """The construction of 004, Proposition 2 (proof in A.2.2).

    ``theta`` = W-hat = (w_1, b_1, w_2, b_2) = (1, 0, w2, b2); ``V`` has the
    v_k as rows; ``delta_y`` = Delta Y = F_2(X) - Y = w2 sum_k c_k v_k;
    ``A`` = A(X), the B_2 functions at the samples; ``rank_margin`` the
    smallest singular value of A with unit-norm columns divided by the
    largest (positive: rank 7); ``sign_margin`` the margin of
    :func:`sign_constrained_vectors`.
    """

    activation: Activation
    net: Network
    X: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    w2: float
    b2: float
    c: np.ndarray
    V: np.ndarray
    delta_y: np.ndarray
    A: np.ndarray
    rank_margin: float
    sign_margin: float
    orthogonal: tuple
    positive: tuple

    def inner_products(self) -> dict:
        """<Delta Y, f(X)> for every f in B_2 (004, eq. (58)-(60))."""
        return {n: float(self.delta_y @ self.A[:, j]) for j, n in enumerate(B2_NAMES)}

    def jacobian(self) -> np.ndarray:
        """dF_2(x_i)/d(w_1, b_1, w_2, b_2) at W-hat: [w2 x sigma', w2 sigma', sigma, 1]."""
        A = self.A
        return np.column_stack([self.w2 * A[:, 3], self.w2 * A[:, 2], A[:, 1], A[:, 0]])

    def gradient_formula(self) -> np.ndarray:
        """2 (w2 <dY, x sigma'>, w2 <dY, sigma'>, <dY, sigma>, <dY, 1>): eq. (61)-(64) with the factor w2."""
        return 2.0 * self.jacobian().T @ self.delta_y

    def second_order_matrix(self) -> np.ndarray:
        """K = sum_i Delta Y_i Hess F_2(x_i) at W-hat, so that H = 2 J^T J + 2 K.

        Nonzero entries: K[w1,w1] = w2 <dY, x^2 sigma''>, K[w1,b1] = w2 <dY, x sigma''>,
        K[b1,b1] = w2 <dY, sigma''>, K[w1,w2] = <dY, x sigma'>, K[b1,w2] = <dY, sigma'>.
        """
        ip = self.inner_products()
        w2 = self.w2
        K = np.zeros((4, 4))
        K[0, 0] = w2 * ip["x^2 sigma''"]
        K[0, 1] = K[1, 0] = w2 * ip["x sigma''"]
        K[1, 1] = w2 * ip["sigma''"]
        K[0, 2] = K[2, 0] = ip["x sigma'"]
        K[1, 2] = K[2, 1] = ip["sigma'"]
        return K

    def hessian_formula(self) -> np.ndarray:
        """The exact Hessian at W-hat, 2 J^T J + 2 K (see :meth:`second_order_matrix`)."""
        J = self.jacobian()
        return 2.0 * J.T @ J + 2.0 * self.second_order_matrix()


def proposition2_construction(activation, X, c=1.0, w2: float = 1.0, b2: float = 0.0, *,
                              orthogonal=("1", "sigma", "sigma'", "x sigma'", "x sigma''"),
                              positive=("sigma''", "x^2 sigma''"),
                              rank_rtol: float = 1e-10) -> Proposition2:
    """Build the data Y and the point W-hat of 004, Proposition 2, as the proof does.

    1. A(X) = [1, sigma, sigma', x sigma', sigma'', x sigma'', x^2 sigma''] at the
       samples must have rank 7 (generic X, eq. (49)); else ``ValueError``.
    2. v_k, k = 1..N-5: orthogonal to 1, sigma, sigma', x sigma', x sigma''
       (eq. (50)-(54)) and with <v_k, sigma''> > 0, <v_k, x^2 sigma''> > 0
       (eq. (55)-(56)), by :func:`sign_constrained_vectors`.
    3. y_i = F_2(x_i) - w2 sum_k c_k [v_k]_i at W-hat = (1, 0, w2, b2) (eq. (57)).

    ``orthogonal`` and ``positive`` (names from :data:`B2_NAMES`) change the
    conditions of step 2, e.g. to the ones printed in eq. (58)-(60), or to
    the four gradient conditions alone (``positive=()``, then N >= 5 and the
    v_k are an orthonormal basis of the complement). The rank check of
    step 1 is made on the functions used.

    Parameters
    ----------
    activation : Activation or str
    X : array (N,), N >= 7
    c : float or array of positive numbers
        The constants c_k (one value for all, or one per v_k).
    w2 : float
        The outgoing weight of W-hat; the proof fixes w2 > 0.
    b2 : float
        The output bias of W-hat (the proof uses 0; any value works).
    """
    act = as_activation(activation)
    x = as_samples(X, "X")
    N = x.shape[0]
    oi, pi = _b2_columns(orthogonal, "orthogonal"), _b2_columns(positive, "positive")
    used = sorted(set(oi) | set(pi))
    need = len(used) + (0 if pi else 1)
    if N < need:
        raise ValueError(f"this construction needs N >= {need} samples (Proposition 2: N >= 7), got N = {N}")
    w2 = check_real(w2, "w2", positive=True)
    b2 = check_real(b2, "b2")
    A = b2_matrix(act, x)
    norms = np.linalg.norm(A[:, used], axis=0)
    if np.any(norms == 0):
        raise ValueError(f"X is not generic for {act.name}: a B_2 function vanishes at every sample")
    An = A[:, used] / norms
    sv = np.linalg.svd(An, compute_uv=False)
    rank_margin = float(sv[-1] / sv[0])
    if rank_margin <= rank_rtol:
        raise ValueError(f"X is not generic for {act.name}: the B_2 functions used have numerical rank "
                         f"< {len(used)} at X (singular value ratio {rank_margin:.1e})")
    V, margin = sign_constrained_vectors(A[:, oi], A[:, pi].reshape(N, len(pi)), rank_rtol=rank_rtol)
    K = V.shape[0]
    c_arr = positive_constants(c, K)
    net = Network((1, 1, 1), act, biases=True)
    theta = np.array([1.0, 0.0, w2, b2])
    delta_y = w2 * (c_arr @ V)
    y = net(theta, x) - delta_y
    return Proposition2(act, net, x, y, theta, w2, b2, c_arr, V, delta_y, A, rank_margin, margin,
                        tuple(orthogonal), tuple(positive))


def high_precision_gradient(cons: Proposition2, dps: int = 50) -> dict:
    """Redo the orthogonality of Delta Y in ``dps``-digit arithmetic (mpmath).

    The float64 Delta Y is projected, at ``dps`` digits, onto the orthogonal
    complement of the columns named in ``cons.orthogonal`` (sigma and its
    derivatives evaluated from the activation's sympy expression). Returns
    ``gradient``: max |component| of eq. (61)-(64) (with the factor w2) for
    that projected Delta Y, ``moved``: ||projected - float Delta Y|| / ||Delta Y||
    (how far the float64 data are from data with an exact critical point),
    and the signs' values ``positive`` (dict) at high precision.
    """
    if not isinstance(cons, Proposition2):
        raise TypeError(f"cons must be a Proposition2, got {type(cons).__name__}")
    dps = check_dps(dps, 20)
    rows = evaluate(_B2, cons.activation, cons.X, dps=dps)
    with mpmath.workdps(dps):
        cols = {n: [r[j] for r in rows] for j, n in enumerate(B2_NAMES)}
        N = len(rows)
        Om = mpmath.matrix(N, len(cons.orthogonal))
        for j, n in enumerate(cons.orthogonal):
            for i in range(N):
                Om[i, j] = cols[n][i]
        d = mpmath.matrix([mpmath.mpf(float(v)) for v in cons.delta_y])
        coef = mpmath.lu_solve(Om.T * Om, Om.T * d)
        dp = d - Om * coef
        w2 = mpmath.mpf(cons.w2)

        def ip(name):
            return mpmath.fsum(dp[i] * cols[name][i] for i in range(N))

        grad = [2 * w2 * ip("x sigma'"), 2 * w2 * ip("sigma'"), 2 * ip("sigma"), 2 * ip("1")]
        norm_d = mpmath.sqrt(mpmath.fsum(v * v for v in d))
        moved = mpmath.sqrt(mpmath.fsum((dp[i] - d[i]) ** 2 for i in range(N))) / norm_d
        return {"gradient": float(max(abs(g) for g in grad)), "moved": float(moved),
                "positive": {n: float(ip(n)) for n in cons.positive}, "dps": dps}


def profile_loss(objective: SquaredLoss, w1, b1):
    """min over (w_2, b_2) of R(w_1, b_1, w_2, b_2) for the 1-1-1 network, on a grid.

    ``objective``: the loss of a 1-1-1 network with biases (e.g.
    ``Proposition2.objective``). For fixed (w_1, b_1) the network is linear in
    (w_2, b_2), so the minimum is a least-squares fit of y by
    [sigma(w_1 x + b_1), 1]. ``w1`` and ``b1`` are broadcast against each
    other; returns ``(P, w2, b2)`` of that shape, P in the objective's
    normalisation.
    """
    check_objective(objective)
    net = objective.net
    if net.widths != (1, 1, 1) or not net.biases:
        raise ValueError(f"objective must be the loss of a 1-1-1 network with biases, got widths {net.widths}")
    act, x, y = net.activation, objective.X[:, 0], objective.y
    W1, B1 = np.broadcast_arrays(np.asarray(w1, dtype=float), np.asarray(b1, dtype=float))
    if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(B1))):
        raise ValueError("w1 and b1 must be finite")
    phi = act.f(W1[..., None] * x + B1[..., None])
    phic = phi - phi.mean(axis=-1, keepdims=True)
    yc = y - y.mean()
    num = phic @ yc
    den = np.einsum("...i,...i->...", phic, phic)
    ok = den > 1e-14 * x.shape[0] * (1.0 + np.abs(phi).max(axis=-1)) ** 2
    safe = np.where(ok, den, 1.0)
    w2 = np.where(ok, num / safe, 0.0)
    b2 = y.mean() - w2 * phi.mean(axis=-1)
    P = yc @ yc - np.where(ok, num**2 / safe, 0.0)
    return objective.c * P, w2, b2


def better_point(cons: Proposition2, w1_range=(-8.0, 8.0), b1_range=(-8.0, 8.0), n: int = 161):
    """The lowest point of :func:`profile_loss` on a grid: an explicit W with its exact loss.

    Returns ``(theta, loss)`` with ``loss`` = R(theta) from
    :class:`lossland.SquaredLoss`. If ``loss < cons.loss`` the local minimum
    W-hat is not global ("bad").
    """
    if not isinstance(cons, Proposition2):
        raise TypeError("cons must be a Proposition2")
    n = check_int(n, "n", 2)
    g1 = np.linspace(*w1_range, n)
    g2 = np.linspace(*b1_range, n)
    W1, B1 = np.meshgrid(g1, g2, indexing="ij")
    P, w2, b2 = profile_loss(cons.objective, W1, B1)
    k = np.unravel_index(np.argmin(P), P.shape)
    theta = np.array([W1[k], B1[k], w2[k], b2[k]])
    return theta, cons.objective.value(theta)



def _claim(condition, message):
    if not condition:
        raise AssertionError(message)


def check_proposition2(activation, X, c=1.0):
    """Build the construction and assert every claim of Proposition 2 (chapter G4); return it with its spectrum.

    Asserted: A(X) has full rank (singular value ratio > 1e6 eps); Delta Y is
    orthogonal to 1, sigma, sigma', x sigma', x sigma'' and positive on sigma'',
    x^2 sigma'' (to 1e-13 of the size of the gradient's terms); R(W-hat) > 0;
    the exact gradient vanishes to the same tolerance; the exact Hessian equals
    :meth:`Proposition2.hessian_formula` and is positive definite (smallest
    eigenvalue > 1e8 eps times the largest). Returns ``(cons, eigenvalues)``.
    """
    cn = proposition2_construction(activation, X, c=c)
    o = cn.objective
    H_ = o.hessian(cn.theta)
    e = np.linalg.eigvalsh(0.5 * (H_ + H_.T))
    gs = 2 * np.abs(cn.delta_y) @ np.abs(cn.jacobian())
    ipc = cn.inner_products()
    eps = np.finfo(float).eps
    _claim(cn.rank_margin > 1e6 * eps, f"A(X) is numerically singular (ratio {cn.rank_margin:.1e})")
    _claim(max(abs(ipc[k]) for k in ("1", "sigma", "sigma'", "x sigma'", "x sigma''")) < 1e-13 * gs.max(),
           "Delta Y is not orthogonal to the functions of eq. (50)-(54)")
    _claim(ipc["sigma''"] > 0 and ipc["x^2 sigma''"] > 0, "eq. (55)-(56): a sign condition fails")
    _claim(cn.loss > 0, "R(W-hat) = 0")
    _claim(np.abs(o.gradient(cn.theta)).max() <= 1e-13 * gs.max(), "the gradient does not vanish")
    _claim(np.allclose(H_, cn.hessian_formula(), rtol=0, atol=1e-12 * np.abs(H_).max()),
           "the exact Hessian differs from 2 J^T J + 2 K")
    _claim(e[0] > 1e8 * eps * e[-1], f"the Hessian is not positive definite (lambda_min = {e[0]:.2e})")
    return cn, e


def _proposition2_data(name, N, c, rho):
    act = get_activation(name, beta=2.0) if name == "swish" else get_activation(name)
    N = check_int(N, "N", 7)
    xN = np.sort(np.random.default_rng(1).uniform(-3, 3, N))
    cn = proposition2_construction(act, xN, c=c * rho ** np.arange(N - 5))
    e, vecs = np.linalg.eigh(cn.objective.hessian(cn.theta))
    thb, Lb = better_point(cn)
    return cn, e, vecs, thb, Lb


def proposition2_figure(name="gelu", N=10, c=3.0, rho=1.0, draw=True):
    """The construction for ``name`` on N seeded inputs, c_k = c rho^k; optionally its figure (chapter G4 widget).

    Inputs: N points uniform on [-3, 3] (``default_rng(1)``); Swish with beta = 2.
    The figure (:func:`draw_proposition2`, shown with ``plt.show()``): the
    profile loss :func:`profile_loss` over (w_1, b_1) with W-hat and the lowest
    grid point of :func:`better_point`, and the loss along the four Hessian
    eigenvectors. Returns ``(cons, eigenvalues, lowest grid loss)``.
    """
    cn, e, vecs, thb, Lb = _proposition2_data(name, N, c, rho)
    if draw:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(7.0, 3.4))
        _draw_proposition2(fig, cn, e, vecs, thb, Lb)
        fig.suptitle(f"{name}, N = {cn.n_samples}, c = {c:.3g}, rho = {rho:.3g}", fontsize=10)
        plt.show()
    return cn, e, Lb


def draw_proposition2(fig, name="gelu", N=10, c=3.0, rho=1.0):
    """Draw the figure of :func:`proposition2_figure` on the empty figure ``fig``.

    The frame of the kernel-free twin of chapter G4's widget
    (:func:`lossland.plotting.frame_slider` calls ``draw(fig, value)``, e.g.
    ``lambda fig, c: draw_proposition2(fig, "gelu", 10, c)``). Left:
    log10 of the profile loss over R(W-hat) (blue where it lies below
    R(W-hat)), W-hat and the lowest grid point, R(W-hat) and the lowest grid
    loss in the title; right: the loss along the Hessian eigenvectors, the
    eigenvalues in the legend. The figure's title is left to the caller (the
    slider writes its value there); the layout is fixed, so frames align. Returns ``(cons, eigenvalues, lowest grid loss)`` like
    :func:`proposition2_figure`.
    """
    cn, e, vecs, thb, Lb = _proposition2_data(name, N, c, rho)
    _draw_proposition2(fig, cn, e, vecs, thb, Lb)
    return cn, e, Lb


def show_proposition2(name="gelu", N=10, c=3.0, rho=1.0) -> None:
    """The callback of chapter G4's widget: show the figure of :func:`proposition2_figure`, return None.

    ``ipywidgets.interact`` prints a callback's return value under its figure;
    this one returns nothing.
    """
    proposition2_figure(name, N, c, rho, draw=True)


def _draw_proposition2(fig, cn, e, vecs, thb, Lb):
    from matplotlib.colors import TwoSlopeNorm

    from ..plotting import COLORS

    o = cn.objective
    g1, g2 = np.meshgrid(np.linspace(-8, 8, 161), np.linspace(-8, 8, 161), indexing="ij")
    P, _, _ = profile_loss(o, g1, g2)
    ratio = np.log10(P / cn.loss)
    axes = fig.subplots(1, 2)
    lo, hi = min(ratio.min(), -1e-3), max(ratio.max(), 1e-3)
    levels = np.concatenate([np.linspace(lo, 0.0, 11), np.linspace(0.0, hi, 11)[1:]])
    cs = axes[0].contourf(g1, g2, ratio, levels=levels, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, lo, hi))
    cb = fig.colorbar(cs, ax=axes[0], ticks=[lo, 0.0, hi], format="%.2g")
    cb.set_label(r"$\log_{10} P(w_1, b_1) / \mathcal{R}(\hat W)$", fontsize=9)
    cb.ax.tick_params(labelsize=9)
    axes[0].plot(1, 0, "o", color="black", label=r"$\hat W$")
    axes[0].plot(thb[0], thb[1], "*", ms=12, color=COLORS["minimum"], mec="white", mew=0.5,
                 label="lowest grid point")
    axes[0].set_xlabel("$w_1$")
    axes[0].set_ylabel("$b_1$")
    axes[0].legend(fontsize=9, loc="lower left")
    axes[0].set_title(rf"$\mathcal{{R}}(\hat W)$ = {cn.loss:.3g}, lowest {Lb:.3g}", fontsize=10)
    ts = np.linspace(-0.4, 0.4, 81)
    for j in range(4):
        axes[1].plot(ts, [o.value(cn.theta + s * vecs[:, j]) - cn.loss for s in ts],
                     label=rf"$\lambda_{j + 1} = {e[j]:.3g}$")
    axes[1].set_yscale("symlog", linthresh=1e-3)
    axes[1].set_xlabel("$t$")
    axes[1].set_ylabel(r"$\mathcal{R}(\hat W + t e_j) - \mathcal{R}(\hat W)$")
    axes[1].legend(fontsize=9)
    axes[1].set_title("along the Hessian eigenvectors $e_j$", fontsize=10)
    # a fixed layout (not tight_layout): the frames of a slider keep their axes in place
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.86, wspace=0.6)
