"""The rendered book in headless Chromium, offline: math typeset, images loaded
and described (alt text), no error or stderr outputs, nothing wider than its
column, every internal link resolves, and every kernel-free slider moves its
figure."""
from __future__ import annotations

import functools
import html.parser
import pathlib
import urllib.parse

import pytest

from bookpaths import HTML, ROOT
from pagechecks import check_page, problems

# Page errors known to be harmless: sphinx-thebe declares THEBE_JS_URL twice.
HARMLESS = ("THEBE_JS_URL",)
SKIP_PAGES = {"search.html", "genindex.html"}
REDIRECTS = {"index.html"}  # jupyter-book's redirect to the root page
SCREENSHOTS = {"book/intro.html", "book/x02-errata.html", "book/x01-notation.html"}


def _pages():
    if not HTML.exists():
        return []
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).parts[0].startswith(("_", "."))
                  and p.name not in SKIP_PAGES)


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "img", "script", "link"):
                self.links.append(a[key])


@functools.lru_cache(maxsize=None)
def _parse(path: pathlib.Path) -> _Parser:
    p = _Parser()
    p.feed(path.read_text(encoding="utf-8"))
    return p


PAGES = _pages()


def test_book_has_pages():
    assert "index.html" in PAGES and len(PAGES) >= 3, PAGES


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(page):
    src = HTML / page
    broken = []
    for link in _parse(src).links:
        url = urllib.parse.urlsplit(link)
        if url.scheme in ("http", "https", "mailto", "data", "javascript") or link.startswith("//"):
            continue
        target = (src.parent / urllib.parse.unquote(url.path)).resolve() if url.path else src
        if not target.exists():
            broken.append(f"{link} (no file {target})")
            continue
        if url.fragment and target.suffix == ".html" and url.fragment not in _parse(target).ids:
            broken.append(f"{link} (no id #{url.fragment} in {target.name})")
    assert not broken, f"{page}: broken internal links:\n  " + "\n  ".join(broken)


def _offline_page(browser, book_server):
    """A page at the book's width that aborts (and records) every request leaving the book's server."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    outside = []

    def route(r):
        if r.request.url.startswith(book_server):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    return ctx, pg, outside


@pytest.mark.parametrize("page", [p for p in PAGES if p not in REDIRECTS])
def test_page_renders_offline(page, browser, book_server, artifacts):
    ctx, pg, outside = _offline_page(browser, book_server)
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{book_server}/{page}", wait_until="load")
    # wait for MathJax 3 to finish typesetting (if the page loads it)
    uses_mathjax = pg.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')")
    if uses_mathjax:
        pg.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                             timeout=30000)
        pg.evaluate("() => MathJax.startup.promise")
    report = pg.evaluate("""() => {
        const math = [...document.querySelectorAll('.math')];
        const raw = math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80));
        const imgs = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
        const errs = [...document.querySelectorAll('.output.traceback, .output.error, .cell_output .error')]
                     .map(e => e.textContent.slice(0, 200));
        const mjxErrors = [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80));
        return {nmath: math.length, raw, imgs, errs, mjxErrors};
    }""")
    if page in SCREENSHOTS or page.startswith("notebooks/"):
        name = page.replace("/", "__").replace(".html", ".png")
        pg.screenshot(path=str(artifacts / name), full_page=True)
    layout = problems(check_page(pg))
    ctx.close()
    assert not layout, f"{page}: what a reader must not meet:\n  " + "\n  ".join(layout)
    assert not report["raw"], f"{page}: math left as raw TeX: {report['raw'][:5]}"
    assert not report["mjxErrors"], f"{page}: MathJax errors: {report['mjxErrors'][:5]}"
    assert not report["imgs"], f"{page}: images not loaded: {report['imgs']}"
    assert not report["errs"], f"{page}: error outputs shown: {report['errs']}"
    assert not outside, f"{page}: requests to the network (aborted): {outside[:5]}"
    bad = [e for e in errors if not any(h in e for h in HARMLESS)]
    assert not bad, f"{page}: JavaScript errors: {bad}"


SLIDER_CHAPTERS = sorted(nb.relative_to(ROOT).with_suffix(".html").as_posix()
                         for nb in (ROOT / "notebooks").rglob("*.ipynb")
                         if "frame_slider(" in nb.read_text(encoding="utf-8"))


def test_widget_chapters_have_sliders():
    """Every chapter with a live widget has a kernel-free twin (tests/test_chapters.py
    checks the notebooks; this checks that the build put the sliders on the pages)."""
    assert SLIDER_CHAPTERS, "no chapter uses lossland.plotting.frame_slider"
    for page in SLIDER_CHAPTERS:
        assert 'class="anim-slider"' in (HTML / page).read_text(encoding="utf-8"), page


@pytest.mark.parametrize("page", SLIDER_CHAPTERS)
def test_sliders_move_their_figures(page, browser, book_server):
    """Drag each slider to its other end: the picture changes, nothing leaves the machine."""
    ctx, pg, outside = _offline_page(browser, book_server)
    pg.goto(f"{book_server}/{page}", wait_until="load")
    sliders = pg.locator("input.anim-slider")
    n = sliders.count()
    assert n >= 1, f"{page}: no kernel-free slider"
    moved = []
    for i in range(n):
        s = sliders.nth(i)
        s.scroll_into_view_if_needed()
        img = s.evaluate("e => e.closest('.animation').querySelector('img').id")
        before = pg.evaluate("id => document.getElementById(id).src", img)
        start, end = s.get_attribute("value"), s.get_attribute("max")
        # as a reader's drag does: set the value, fire the input event the player listens to
        s.evaluate("(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }", end)
        pg.wait_for_timeout(100)
        after = pg.evaluate("id => document.getElementById(id).src", img)
        box = pg.evaluate("id => document.getElementById(id).getBoundingClientRect().width", img)
        moved.append((i, start, end, before != after, box))
    ctx.close()
    assert all(m[3] for m in moved), f"{page}: sliders that do not change the picture: {moved}"
    assert all(m[4] > 100 for m in moved), f"{page}: a slider's figure is not shown: {moved}"
    assert not outside, f"{page}: requests to the network (aborted): {outside[:5]}"
