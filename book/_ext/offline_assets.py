"""Serve MathJax from the built book, so it renders offline.

jupyter-book 1 loads MathJax from a CDN by default; without network the math
stays raw TeX. This extension points ``mathjax_path`` at a local copy and
copies it into ``_build/html/_static/`` when the build finishes (files placed
in a book's ``_static`` folder would be added to every page as scripts, hence
the copy at the end). MathJax 3 comes from the PyPI package
``django-static-mathjax`` (module ``mathjax``, pinned in requirements.txt), so
the build needs nothing beyond pip.

No widget manager: a slider needs a kernel, which a static page does not have.
Each widget of the book has a kernel-free twin (precomputed frames,
``lossland.plotting.frame_slider``) shown on the page, and the live widget's
output is left out of the page (cell tag ``remove-output``). ``nb_ipywidgets_js``
is emptied so that myst-nb never adds require.js or the CDN widget manager to a
page.
"""
from __future__ import annotations

import pathlib
import shutil

from sphinx.errors import ExtensionError

MATHJAX_SCRIPT = "mathjax/tex-chtml.js"


def _mathjax_dir() -> pathlib.Path:
    import mathjax  # django-static-mathjax

    path = pathlib.Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (path / "tex-chtml.js").exists():
        raise ExtensionError(f"offline_assets: MathJax not found at {path}")
    return path


def _configure(app, config):
    config.mathjax_path = MATHJAX_SCRIPT
    config.nb_ipywidgets_js = {}


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = pathlib.Path(app.outdir) / "_static"
    mj, dest = _mathjax_dir(), static / "mathjax"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mj / "tex-chtml.js", dest / "tex-chtml.js")
    # what tex-chtml.js loads on demand: TeX extensions, CHTML fonts, menu, a11y
    for sub in ("input/tex", "output/chtml", "ui", "a11y", "adaptors"):
        if (mj / sub).exists():
            shutil.copytree(mj / sub, dest / sub, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.map"))


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
