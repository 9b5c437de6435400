"""One figure style for the whole book.

Every notebook calls :func:`use_book_style` once; figures then share fonts,
sizes and colours (d2l's lesson: one plotting helper, one look).
:func:`frame_slider` gives each widget of the book its kernel-free twin.
"""
from __future__ import annotations

import html
import pathlib
import re
import tempfile

import matplotlib as mpl

from ._validation import check_callable, check_int, check_real, check_vector

__all__ = ["use_book_style", "COLORS", "frame_slider", "FrameSlider"]

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


class FrameSlider:
    """A figure with a slider that needs no kernel (see :func:`frame_slider`).

    Displays as matplotlib's JavaScript animation player (``to_jshtml``): one
    precomputed PNG per value, a range input to pick it, nothing loaded from
    the network. ``values``, ``label``, ``alt``, ``nbytes`` and
    ``distinct_frames`` describe it for the notebook's asserts.
    """

    def __init__(self, html: str, values, label: str, alt: str):
        self.html, self.values, self.label, self.alt = html, values, label, alt
        self.frames = _FRAME.findall(html)

    @property
    def nbytes(self) -> int:
        """Size of the HTML the page embeds, in bytes."""
        return len(self.html.encode())

    @property
    def distinct_frames(self) -> int:
        """How many frames differ from each other (a slider that changes nothing has 1)."""
        return len(set(self.frames))

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        v = self.values
        return (f"<figure with a kernel-free slider: {len(v)} frames, "
                f"{self.label} from {v[0]:g} to {v[-1]:g}>")


_FRAME = re.compile(r'frames\[\d+\] = "data:image/png;base64,([^"]*)"')


def frame_slider(draw, values, *, label: str, alt: str, figsize=(6.0, 3.0), dpi: int = 72,
                 fmt: str = "{:.2f}", max_bytes: float = 1.5e6) -> FrameSlider:
    """Precompute ``draw(fig, value)`` for each value behind a slider that works without a kernel.

    The rendered book cannot run a widget's callback (a static page has no
    kernel), so each ``ipywidgets`` figure of the book has this twin: the
    frames are drawn now, embedded as PNGs with matplotlib's
    ``Animation.to_jshtml``, and the slider only switches between them. It works
    offline, in the built book and in JupyterLab alike.

    Parameters
    ----------
    draw : callable
        ``draw(fig, value)`` draws the figure for one value on an empty ``fig``.
    values : array_like, shape (n,)
        The slider's positions (at least 2, finite); each becomes one frame,
        titled ``"{label} = {value}"`` (formatted with ``fmt``).
    label : str
        The parameter's name, shown in each frame's title.
    alt : str
        Alt text of the image, describing what the frames show.
    figsize, dpi :
        Size of each frame; the default keeps 30 frames well under 1 MB.
    max_bytes : float
        Refuse (``ValueError``) to embed more than this many bytes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import HTMLWriter

    draw = check_callable(draw, "draw")
    values = check_vector(values, "values")
    if values.size < 2:
        raise ValueError(f"values: expected at least 2 slider positions, got {values.size}")
    for name, text in (("label", label), ("alt", alt), ("fmt", fmt)):
        if not isinstance(text, str) or not text.strip():
            raise TypeError(f"{name}: expected a non-empty string, got {text!r}")
    dpi = check_int(dpi, "dpi", low=20, high=300)
    max_bytes = check_real(max_bytes, "max_bytes", positive=True)

    # matplotlib's own player (what Animation.to_jshtml writes), fed one savefig per
    # frame: to_jshtml would also redraw the canvas before each save, twice the work
    fig = plt.figure(figsize=figsize, dpi=dpi)
    writer = HTMLWriter(fps=4, embed_frames=True, default_mode="once")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "frames.html"
            with writer.saving(fig, out, dpi=dpi):
                for value in values:
                    fig.clf()
                    draw(fig, value)
                    fig.suptitle(f"{label} = {fmt.format(value)}", fontsize=10)
                    writer.grab_frame()
            page = out.read_text()
    finally:
        plt.close(fig)
    # the player's button icons are Font Awesome classes, which the book's theme and
    # JupyterLab already ship: drop the CDN stylesheet so that nothing leaves the machine
    page = re.sub(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">', "", page)
    page = re.sub(r'<img id="(_anim_img\w+)">',
                  lambda m: f'<img id="{m.group(1)}" alt="{html.escape(alt, quote=True)}">', page)
    result = FrameSlider(page, values, label, alt)
    if result.nbytes > max_bytes:
        raise ValueError(f"max_bytes: the {len(values)} frames take {result.nbytes / 1e6:.2f} MB "
                         f"> {max_bytes / 1e6:.2f} MB; use fewer values, a smaller figsize or a lower dpi")
    return result
