"""Render a few chapters from their stored outputs and check them as a reader would.

    .venv/bin/python scripts/preview.py notebooks/part1/p03-nitta-critical-points.ipynb [...]
    .venv/bin/python scripts/preview.py book/intro.md book/x01-notation.md   (prose pages too)

Builds a small book (the given notebooks after the introduction, **not**
executed: the outputs stored in the notebooks are shown, so run
``scripts/execute_notebooks.py`` first) in a temporary folder in seconds, opens
each page in headless Chromium at the book's width, unfolds it, and prints what
a reader must not meet (``tests/browser/pagechecks.py``): code, output, equations
or tables wider than the column, stderr output, images without alt text, dead
widgets. Full-page screenshots go to ``--out`` (default
``test-artifacts/preview``). References to chapters outside the selection are
reported by Sphinx as warnings and otherwise ignored; the strict build is
``make book``. Exit status 1 when a page has a problem.
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from bookpaths import CHROMIUM_FLAGS, chromium_path  # noqa: E402
from pagechecks import check_page, problems  # noqa: E402


# warnings about what lies outside the selected chapters (the full build checks those)
OUTSIDE = ("unknown document", "not found", "undefined label", "Failed to create a cross reference",
           "records no erratum", "lists them", "Unknown source document")


def build(notebooks: list[pathlib.Path], where: pathlib.Path) -> pathlib.Path:
    for name in ("book", "notebooks", "lossland"):
        (where / name).symlink_to(ROOT / name)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (where / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    toc = {"format": "jb-book", "root": "book/intro",
           "chapters": [{"file": str(nb.with_suffix(""))} for nb in notebooks
                        if nb.with_suffix("").as_posix() not in ("book/intro", "book/bibliography")]
           + [{"file": "book/bibliography"}]}
    (where / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    jb = pathlib.Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jb), "build", str(where), "--keep-going"], capture_output=True, text=True)
    names = tuple(str(nb.with_suffix("")) for nb in notebooks)
    warnings = [l for l in (run.stdout + run.stderr).splitlines()
                if "WARNING" in l and any(n in l for n in names)
                and not any(x in l for x in OUTSIDE)]
    for line in warnings:
        print("  sphinx:", line.replace(str(where) + "/", ""))
    html = where / "_build" / "html"
    if run.returncode or not html.exists():
        sys.exit(f"the build failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return html


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=pathlib.Path)
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "test-artifacts" / "preview")
    ap.add_argument("--width", type=int, default=1280, help="viewport width (the browser tests use 1280)")
    args = ap.parse_args(argv)
    notebooks = [nb.resolve().relative_to(ROOT) for nb in args.notebooks]
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    bad = 0
    with tempfile.TemporaryDirectory(prefix="lossland-preview-") as tmp:
        html = build(notebooks, pathlib.Path(tmp))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            pg = browser.new_page(viewport={"width": args.width, "height": 900})
            for nb in notebooks:
                pg.goto((html / nb.with_suffix(".html")).as_uri(), wait_until="load")
                pg.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
                pg.evaluate("() => window.MathJax && MathJax.startup.promise")
                shot = args.out / (nb.stem + ".png")
                pg.screenshot(path=str(shot), full_page=True)
                report = check_page(pg)
                found = problems(report)
                bad += bool(found)
                print(f"{nb}: {'OK' if not found else f'{len(found)} problem(s)'}, "
                      f"{report['sliders']} kernel-free slider(s), screenshot {shot}")
                for line in found:
                    print("  -", line)
            browser.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
