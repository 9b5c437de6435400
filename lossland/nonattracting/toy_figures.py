"""Figures of the toy landscapes of Definition 1 (000 Fig. 1, 001 Figure 1).

The landscape with its region R of local minima and zero level set, and the
two curves from a start point (gradient flow, non-increasing path) drawn
in the plane and as value against normalised arc length (chapter P1).
:func:`draw_explorer` puts both on an empty figure: one frame of P1's
widget and of its kernel-free twin.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import TwoSlopeNorm

from ..plotting import COLORS
from .toy import _as_points, flow_and_path, get_toy

__all__ = ["LIMITS", "draw_landscape", "normalised_arclength", "draw_curves", "draw_explorer"]

LIMITS = (-0.8, 0.8, -1.6, 1.6)
"""(x_min, x_max, y_min, y_max) of the book's figures of the toy landscapes."""


def _check_limits(lim):
    lim = tuple(float(v) for v in np.asarray(lim, dtype=float).ravel())
    if len(lim) != 4 or not (lim[0] < lim[1] and lim[2] < lim[3]):
        raise ValueError(f"lim must be (x_min, x_max, y_min, y_max) with min < max, got {lim}")
    return lim


def draw_landscape(ax, toy, lim=LIMITS):
    """Filled contours of f (diverging at the region value 0), its zero level set and R (000 Fig. 1)."""
    f = get_toy(toy)
    lim = _check_limits(lim)
    X, Y = np.meshgrid(np.linspace(lim[0], lim[1], 201), np.linspace(lim[2], lim[3], 241))
    F = f.value(np.stack([X, Y], -1))
    vmax = 0.5 * np.abs(F).max()
    ax.contourf(X, Y, np.clip(F, -vmax, vmax), levels=np.linspace(-vmax, vmax, 21), cmap="RdBu_r",
                norm=TwoSlopeNorm(0.0, -vmax, vmax))
    ax.contour(X, Y, F, levels=[0.0], colors=COLORS["grey"], linewidths=0.8)
    yb = min(f.y_bound, lim[3])
    ax.plot([0, 0], [-yb, yb], color=COLORS["minimum"], lw=3, solid_capstyle="butt", label="region $R$")
    ax.set(xlim=lim[:2], ylim=lim[2:], xlabel="$x$", ylabel="$y$", title=f"{f.name}: ${f.latex}$")
    ax.grid(False)


def normalised_arclength(points) -> np.ndarray:
    """s_i / s_end for the polyline through ``points`` (n, 2); zeros if it has length 0."""
    zs = _as_points(points, "points")
    if zs.ndim != 2:
        raise ValueError(f"points must have shape (n, 2), got {zs.shape}")
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(zs, axis=0), axis=1))]
    return s / s[-1] if s[-1] > 0 else s


def draw_curves(ax_plane, ax_value, toy, z0, color, t_max: float):
    """Draw the flow (solid) and the path (dashed) of :func:`~.toy.flow_and_path` from z0.

    ``ax_plane`` gets the curves in the (x, y) plane, ``ax_value`` the value
    f against normalised arc length. Returns ``(flow, path)``.
    """
    f = get_toy(toy)
    flow, path = flow_and_path(f, z0, t_max)
    ax_plane.plot(*flow.T, color=color, lw=1.8)
    ax_plane.plot(*z0, "o", color=color, mec="k", ms=5)
    ax_value.plot(normalised_arclength(flow), f.value(flow), color=color, lw=1.8)
    if path is not None:
        ax_plane.plot(*path.T, "--", color=color, lw=1.4)
        ax_value.plot(normalised_arclength(path), f.value(path), "--", color=color, lw=1.4)
    return flow, path


def draw_explorer(fig, toy, z0, t_max: float, color=COLORS["neutral"]):
    """One frame of chapter P1's explorer on the empty figure ``fig``.

    Left: the landscape (:func:`draw_landscape`) with the gradient flow
    (solid) and the non-increasing path of Definition 1 (dashed, none for
    the attracting landscape) from ``z0``; right: f along both curves
    against normalised arc length, the region's value c as a green line,
    and a title with the value where each curve ends (the value axis is
    cut at c - 1.1, where the flow stops). Returns ``(flow, path)``
    of :func:`~.toy.flow_and_path`.
    """
    f = get_toy(toy)
    ax0, ax1 = fig.subplots(1, 2)
    draw_landscape(ax0, f)
    flow, path = draw_curves(ax0, ax1, f, z0, color, t_max)
    ax1.axhline(f.region_value, color=COLORS["minimum"], lw=1)
    ends = [f"flow ends at f = {float(f.value(flow[-1])):.3f}"]
    ends.append("no non-increasing path" if path is None
                else f"path ends at f = {float(f.value(path[-1])):.3f}")
    ax1.set(xlabel="normalised arc length", ylabel="$f$ along the curves")
    ax1.set_title("\n".join(ends), fontsize=9)
    ax1.set_ylim(max(ax1.get_ylim()[0], f.region_value - 1.1), None)
    return flow, path
