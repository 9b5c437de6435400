"""The chapter pattern of CONTRIBUTING.md, checked on the stored notebooks.

What a reader meets on the rendered page is checked in Chromium by
``tests/browser/test_book.py``; these checks run in a second on the ``.ipynb``
files and say which cell to fix.
"""
from __future__ import annotations

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
CHAPTERS = [nb for nb in NOTEBOOKS if nb.parent.name != "across"]  # Parts I-IV: summary + exercises
# Characters per line of code or printed output that fit the book's column at 1280 px
# (a folded `hide-input` cell is the narrowest box, 666 px of 8.5 px characters).
WIDTH = 75
# Inside a solution box the column is narrower (617 px); book/_static/lossland.css sets
# its code 10% smaller so that the same number of characters fits.
SOLUTION_WIDTH = WIDTH
DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}(.*)$", re.M)


def _nb(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell):
    return "".join(cell["source"])


def _markdown(nb):
    return "\n".join(_src(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_title_is_plain_text(path):
    first = _src(_nb(path)["cells"][0]).splitlines()[0]
    assert re.match(r"^# [A-Z]\d+ · \S", first), f"title {first!r}: expected '# P3 · <name>'"
    assert not re.search(r"[$\\`{}]", first), f"title {first!r}: TeX/markup shows raw in tabs and search"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lines_fit_the_column(path):
    long, in_solution = [], False
    for i, cell in enumerate(_nb(path)["cells"]):
        if cell["cell_type"] == "markdown":
            if "{solution-start}" in _src(cell):
                in_solution = True
            if "{solution-end}" in _src(cell):
                in_solution = False
        if cell["cell_type"] != "code" or "remove-cell" in _tags(cell):
            continue
        width = SOLUTION_WIDTH if in_solution else WIDTH
        lines = [("code", l) for l in _src(cell).splitlines()] if "remove-input" not in _tags(cell) else []
        if "remove-output" not in _tags(cell):
            for out in cell.get("outputs", []):
                text = out.get("text") or out.get("data", {}).get("text/plain", "")
                if out.get("data", {}).keys() & {"image/png", "text/html"}:
                    continue  # a figure's repr is not shown
                lines += [("output", l) for l in "".join(text).splitlines()]
        long += [f"cell {i} {kind} ({len(l)} > {width} chars): {l[:60]}..."
                 for kind, l in lines if len(l) > width]
    assert not long, f"{path.name}: lines wider than the column:\n  " + "\n  ".join(long)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_stderr_on_the_page(path):
    shown = [i for i, c in enumerate(_nb(path)["cells"]) if c["cell_type"] == "code"
             and not {"remove-stderr", "remove-output", "remove-cell"} & set(_tags(c))
             and any(o.get("name") == "stderr" for o in c.get("outputs", []))]
    assert not shown, f"{path.name}: cells {shown} show stderr (progress bars: tag remove-stderr)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_figures_are_numbered_captioned_referenced_and_described(path):
    nb = _nb(path)
    md, bad = _markdown(nb), []
    assert not re.search(r"^#+ Figure", md, re.M), f"{path.name}: a 'Figure: ...' heading stands in for a caption"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or {"remove-output", "remove-cell"} & set(_tags(cell)):
            continue
        images = sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        if not images:
            continue
        meta = cell.get("metadata", {}).get("mystnb", {})
        fig, alt = meta.get("figure", {}), meta.get("image", {}).get("alt", "")
        name = fig.get("name", "")
        if images > 1:
            bad.append(f"cell {i}: {images} images in one cell (one figure per cell)")
        if not (fig.get("caption") and name.startswith("fig-")):
            bad.append(f"cell {i}: no mystnb.figure caption and name 'fig-...'")
        elif not re.search(r"\{numref\}`[^`]*" + re.escape(name) + r">?`", md):
            bad.append(f"cell {i}: the text never refers to {name} with {{numref}}")
        if len(alt) < 30:
            bad.append(f"cell {i}: alt text {alt!r} does not describe the figure")
    assert not bad, f"{path.name}:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_one_numbering_scheme(path):
    """Statement boxes are unnumbered and titled with the papers' numbers; links say which."""
    md = _markdown(_nb(path))
    bad = [f"{{{m.group(2)}}}{m.group(3)} without :nonumber:" for m in DIRECTIVE.finditer(md)
           if m.group(2).startswith("prf:") and m.group(2) != "prf:proof"
           and ":nonumber:" not in md[m.end():m.end() + 300].split("\n\n")[0]]
    bad += [f"{{prf:ref}}`{t}` without link text" for t in re.findall(r"\{prf:ref\}`([^`]*)`", md)
            if "<" not in t]
    assert not bad, f"{path.name}:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_summary_then_exercises_with_solutions(path):
    md = _markdown(_nb(path))
    heads = re.findall(r"^## (.*)$", md, re.M)
    assert heads[-2:] == ["Summary", "Exercises"], f"{path.name}: ends with {heads[-2:]}"
    exercises = re.findall(r"\{exercise\}[^\n]*\n:label: (ex-[\w-]+)", md)
    solved = re.findall(r"\{solution(?:-start)?\} (ex-[\w-]+)", md)
    assert 2 <= len(exercises) <= 4, f"{path.name}: {len(exercises)} exercises (2 to 4)"
    assert sorted(solved) == sorted(exercises), f"{path.name}: exercises {exercises}, solutions {solved}"
    folded = re.findall(r"\{solution(?:-start)?\} ex-[\w-]+\n:class: dropdown", md)
    assert len(folded) == len(solved), f"{path.name}: every solution folded (:class: dropdown)"
    assert md.count("{solution-start}") == md.count("{solution-end}")
    # at least one solution computes its answer and asserts it (CONTRIBUTING, item 10)
    inside, asserted = False, 0
    for cell in _nb(path)["cells"]:
        src = _src(cell)
        if cell["cell_type"] == "markdown":
            inside = (inside or "{solution-start}" in src) and "{solution-end}" not in src
        elif inside and re.search(r"^\s*assert\b", src, re.M):
            asserted += 1
    assert asserted, f"{path.name}: no solution has a code cell that asserts its answer"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_widgets_have_kernel_free_twins(path):
    nb = _nb(path)
    live = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
            and re.search(r"\binteract(ive)?\(", _src(c))]
    dead = [i for i in live if "remove-output" not in _tags(nb["cells"][i])]
    assert not dead, f"{path.name}: widget cells {dead} must be tagged remove-output (dead in the book)"
    if live:
        twins = [c for c in nb["cells"] if c["cell_type"] == "code" and "frame_slider(" in _src(c)]
        assert len(twins) >= len(live), f"{path.name}: {len(live)} widgets, {len(twins)} frame_slider twins"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_valid_nbformat(path):
    import nbformat

    nbformat.validate(nbformat.read(path, as_version=4))
