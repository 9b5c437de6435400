"""One figure style for the whole book.

Every notebook calls :func:`use_book_style` once; figures then share fonts,
sizes and colours (d2l's lesson: one plotting helper, one look).
"""
from __future__ import annotations

import matplotlib as mpl

__all__ = ["use_book_style", "COLORS"]

COLORS = {
    "minimum": "#1b7837",   # local minima, non-increasing paths
    "saddle": "#b2182b",    # saddles, descent directions
    "neutral": "#2166ac",   # everything else
    "grey": "#777777",
}


def use_book_style():
    """Set the book's matplotlib style (figure size, fonts, grid, colour cycle)."""
    mpl.rcParams.update({
        "figure.figsize": (7.0, 3.6),
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "font.size": 10,
        "axes.prop_cycle": mpl.cycler(color=[COLORS["neutral"], COLORS["saddle"], COLORS["minimum"],
                                             "#e08214", "#8073ac", COLORS["grey"]]),
    })
