"""What a reader must not meet on a rendered page, as one JavaScript check.

Used by ``test_book.py`` on the whole book and by ``scripts/preview.py`` on a
few chapters while writing them. The page is first unfolded (``hide-input``
cells, folded solutions), so that folded content is measured too.
"""
from __future__ import annotations

# A block may be this many pixels wider than its column before it counts (borders, round-off).
SLACK_PX = 2

UNFOLD = """() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    // folded solutions (sphinx-togglebutton): show the content; clicking the button
    // instead would fold again what removing the class has just shown
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
}"""

REPORT = """(slack) => {
    const text = e => (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 90);
    const article = document.querySelector('.bd-article') || document.body;
    const column = article.getBoundingClientRect();
    const wide = [];
    // code and output blocks: their own scroll width beyond their box
    for (const pre of article.querySelectorAll('pre')) {
        if (pre.offsetParent === null) continue;
        if (pre.scrollWidth > pre.clientWidth + slack)
            wide.push(`block ${pre.scrollWidth}px > ${pre.clientWidth}px: ${text(pre)}`);
    }
    // display equations: the typeset formula beyond the column
    for (const m of article.querySelectorAll('div.math mjx-container, mjx-container[display="true"]')) {
        const r = (m.querySelector('mjx-math') || m).getBoundingClientRect();
        if (r.width > 0 && r.right > column.right + slack)
            wide.push(`equation ends at ${Math.round(r.right)}px > column ${Math.round(column.right)}px: ${text(m.closest('.math') || m)}`);
    }
    // tables and HTML outputs
    for (const t of article.querySelectorAll('table, .output.text_html > *')) {
        const r = t.getBoundingClientRect();
        if (r.width > 0 && r.right > column.right + slack)
            wide.push(`${t.tagName.toLowerCase()} ends at ${Math.round(r.right)}px > column ${Math.round(column.right)}px: ${text(t)}`);
    }
    const stderr = [...article.querySelectorAll('.output.stderr')].map(text);
    const noAlt = [...article.querySelectorAll('img')]
        .filter(i => !i.alt || /^[0-9a-f]{16,}\\.(png|svg|jpe?g)$/.test(i.alt.trim()))
        .map(i => i.src.split('/').pop().slice(0, 60));
    const sliders = article.querySelectorAll('input.anim-slider').length;
    const deadWidgets = article.querySelectorAll('.jupyter-widgets, script[type*="widget-view"]').length;
    return {wide, stderr, noAlt, sliders, deadWidgets};
}"""


def check_page(pg, slack: int = SLACK_PX) -> dict:
    """Unfold the page and return what is wrong with it (lists of short descriptions)."""
    pg.evaluate(UNFOLD)
    pg.wait_for_timeout(200)
    return pg.evaluate(REPORT, slack)


def problems(report: dict) -> list[str]:
    """The report's findings as lines (empty when the page is clean)."""
    out = [f"too wide: {w}" for w in report["wide"]]
    out += [f"stderr output shown: {s}" for s in report["stderr"]]
    out += [f"image without alt text: {s}" for s in report["noAlt"]]
    if report["deadWidgets"]:
        out.append(f"{report['deadWidgets']} ipywidgets on the page (they need a kernel: "
                   "tag the cell remove-output and show a frame_slider twin)")
    return out
