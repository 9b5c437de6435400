"""Finding critical points to machine precision with exact derivatives.

The reference code of paper 001 (Section 5.4-5.5) trains with scipy's BFGS on
finite-difference gradients and stops near ||grad L|| ~ 1e-5. Claims such as
"D = 0 at a critical point" (000, Proposition 1) can only be checked at a true
critical point, so here a quasi-Newton or trust-region run with the exact
gradient and Hessian is followed by Newton polishing (least-squares Newton
steps, which also work at the degenerate critical points that the embedding
gamma_lambda produces), until ||grad L|| <= gtol.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize as _sopt

from ._validation import check_bool, check_choice, check_int, check_objective, check_real
from .derivatives import SquaredLoss

__all__ = ["CriticalPoint", "find_critical_point", "newton_polish", "hessian_report"]


@dataclass
class CriticalPoint:
    """Outcome of :func:`find_critical_point`.

    ``grad_norm`` is the Euclidean norm of the exact gradient at ``theta``;
    ``eigenvalues`` the ascending spectrum of the exact (symmetrised)
    Hessian there; ``converged`` says whether ``grad_norm <= gtol``.
    """

    theta: np.ndarray
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray
    converged: bool
    gtol: float
    iterations: int
    newton_steps: int
    message: str

    @property
    def min_eigenvalue(self) -> float:
        return float(self.eigenvalues[0])

    def summary(self) -> str:
        """One line: loss, gradient norm and the extreme Hessian eigenvalues."""
        ev = self.eigenvalues
        return (f"loss = {self.loss:.12g}, ||grad|| = {self.grad_norm:.2e} (gtol {self.gtol:.0e}), "
                f"Hessian eigenvalues in [{ev[0]:.3e}, {ev[-1]:.3e}]")


def _symmetric(H):
    return 0.5 * (H + H.T)


def hessian_report(objective: SquaredLoss, theta) -> np.ndarray:
    """Ascending eigenvalues of the symmetrised exact Hessian at ``theta``."""
    check_objective(objective, general=True)
    H = objective.hessian(theta)
    return np.linalg.eigvalsh(_symmetric(H))


def newton_polish(objective: SquaredLoss, theta, gtol: float = 1e-10, max_steps: int = 50,
                  rcond: float = 1e-13):
    """Least-squares Newton steps theta <- theta - H^+ grad until ||grad|| <= gtol.

    Each step is accepted only if it does not increase ||grad|| by more than a
    factor 10 (guarding against a jump to a far-away critical point). At most
    ``max_steps`` (>= 0) steps; ``rcond`` (>= 0) is the cut-off of
    :func:`numpy.linalg.lstsq` for small singular values of H. Returns
    ``(theta, grad_norm, steps)``.
    """
    check_objective(objective, general=True)
    gtol = check_real(gtol, "gtol", positive=True)
    max_steps = check_int(max_steps, "max_steps", 0)
    rcond = check_real(rcond, "rcond", low=0.0)
    theta = objective.net.check_params(theta).copy()
    g = objective.gradient(theta)
    gn = float(np.linalg.norm(g))
    steps = 0
    while gn > gtol and steps < max_steps:
        H = _symmetric(objective.hessian(theta))
        step = np.linalg.lstsq(H, -g, rcond=rcond)[0]
        cand = theta + step
        try:
            g_new = objective.gradient(cand)
        except ValueError:
            break
        gn_new = float(np.linalg.norm(g_new))
        steps += 1
        if not np.isfinite(gn_new) or gn_new > 10 * gn:
            break
        if gn_new >= gn and gn < 1e3 * gtol:
            theta, g, gn = cand, g_new, gn_new
            break
        theta, g, gn = cand, g_new, gn_new
    return theta, gn, steps


def find_critical_point(objective: SquaredLoss, theta0, *, method: str = "trust-exact",
                        gtol: float = 1e-10, maxiter: int = 2000, polish: bool = True) -> CriticalPoint:
    """Minimise the loss from ``theta0`` with exact derivatives, then Newton-polish.

    Parameters
    ----------
    objective : SquaredLoss
    theta0 : array (P,)
        Start point.
    method : {"trust-exact", "BFGS", "L-BFGS-B", "Newton-CG", "trust-ncg", "none"}
        scipy.optimize.minimize method; every one gets the exact gradient, the
        trust-region and Newton methods also the exact Hessian. ``"none"``
        skips straight to Newton polishing (for points already near a
        critical point, such as the image of gamma_lambda).
    gtol : float
        Target gradient norm, positive. The default 1e-10 is the book's
        standard gradient norm for a polished critical point (the reference
        code of paper 001 stops near 1e-5).
    maxiter : int
        At most this many (>= 1) iterations of the scipy method.
    polish : bool
        Whether to follow with :func:`newton_polish`.
    """
    check_objective(objective, general=True)
    theta0 = objective.net.check_params(theta0, "theta0")
    methods = ["BFGS", "L-BFGS-B", "Newton-CG", "none", "trust-exact", "trust-ncg"]
    method = check_choice(method, "method", methods)
    gtol = check_real(gtol, "gtol", positive=True)
    maxiter = check_int(maxiter, "maxiter", 1)
    polish = check_bool(polish, "polish")
    iterations, message = 0, "no minimisation"
    theta = theta0
    if method != "none":
        def fun(t):
            return objective.value_and_gradient(t)

        kw = dict(jac=True, method=method)
        if method in {"trust-exact", "Newton-CG", "trust-ncg"}:
            kw["hess"] = lambda t: _symmetric(objective.hessian(t))
        opts = {"maxiter": maxiter}
        if method in {"BFGS", "trust-exact", "trust-ncg"}:
            opts["gtol"] = gtol
        res = _sopt.minimize(fun, theta0, options=opts, **kw)
        theta, iterations, message = res.x, int(res.nit), str(res.message)
    steps = 0
    if polish:
        theta, _, steps = newton_polish(objective, theta, gtol=gtol)
    value, g = objective.value_and_gradient(theta)
    gn = float(np.linalg.norm(g))
    return CriticalPoint(theta=theta, loss=value, grad_norm=gn,
                         eigenvalues=hessian_report(objective, theta), converged=gn <= gtol,
                         gtol=gtol, iterations=iterations, newton_steps=steps, message=message)
