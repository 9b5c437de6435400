"""Serve MathJax and the widget manager from the built book, so it renders offline.

jupyter-book 1 loads MathJax, require.js and @jupyter-widgets/html-manager
from CDNs by default; without network the math stays raw TeX and widgets do
not render. This extension points ``mathjax_path`` and myst-nb's
``nb_ipywidgets_js`` at local copies and copies the files into
``_build/html/_static/`` when the build finishes (files placed in a book's
``_static`` folder would be added to every page as scripts, hence the copy at
the end, see TOOLING.md).

Sources: MathJax 3 from the PyPI package ``django-static-mathjax`` (module
``mathjax``, pinned in requirements.txt); require.js and the widget manager
from the npm packages ``requirejs`` and ``@jupyter-widgets/html-manager``,
unpacked by ``make`` into ``$LOSSLAND_JS_DIR`` (default
``.venv/share/lossland-js``; see the Makefile target ``js``).
"""
from __future__ import annotations

import os
import pathlib
import shutil

from sphinx.errors import ExtensionError

MATHJAX_SCRIPT = "mathjax/tex-chtml.js"
REQUIRE_JS = "require.min.js"
EMBED_JS = "html-manager/embed-amd.js"


def _js_dir(app) -> pathlib.Path:
    default = pathlib.Path(app.confdir) / ".venv" / "share" / "lossland-js"
    return pathlib.Path(os.environ.get("LOSSLAND_JS_DIR", default))


def _mathjax_dir() -> pathlib.Path:
    import mathjax  # django-static-mathjax

    path = pathlib.Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (path / "tex-chtml.js").exists():
        raise ExtensionError(f"offline_assets: MathJax not found at {path}")
    return path


def _configure(app, config):
    config.mathjax_path = MATHJAX_SCRIPT
    config.nb_ipywidgets_js = {REQUIRE_JS: {}, EMBED_JS: {}}


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
    js = _js_dir(app)
    req = js / "requirejs" / "require.js"
    manager = js / "html-manager" / "dist"
    if not req.exists() or not (manager / "embed-amd.js").exists():
        raise ExtensionError(f"offline_assets: require.js / embed-amd.js not found under {js}; "
                             "run `make js` (the Makefile does it before every build)")
    shutil.copyfile(req, static / REQUIRE_JS)
    shutil.copytree(manager, static / "html-manager", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.map", "embed.js", "libembed-amd.js"))


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
