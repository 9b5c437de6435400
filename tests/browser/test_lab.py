"""A widget notebook live in JupyterLab, driven by headless Chromium.

Starts JupyterLab on 127.0.0.1 with a token on a copy of the notebook (config,
runtime, settings and workspace folders in a temporary directory, autosave
off, so nothing is written into the repository), runs all cells, moves a
slider with the keyboard and checks that the widget's output follows.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bookpaths import ARTIFACTS, ROOT

# The notebook, and what its first slider drives: the output must print the
# slider's value as "lambda = <value>" (see the notebook's widget cell).
NOTEBOOK = ROOT / "notebooks" / "part1" / "p03-nitta-critical-points.ipynb"
VALUE_PATTERN = r"lambda = (-?\d+\.\d+)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    if not NOTEBOOK.exists():
        pytest.fail(f"missing {NOTEBOOK}")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    settings = tmp_path / "settings"
    (settings / "@jupyterlab" / "docmanager-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False}))
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False"]
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
            break
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "lab.log").read_text())
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
    yield base, token, NOTEBOOK.name
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _widget_text(page) -> str:
    return page.evaluate("""() => {
        const w = document.querySelector('.jp-OutputArea-output .widget-interact, .jp-OutputArea-output .jupyter-widgets');
        if (!w) return '';
        const cell = w.closest('.jp-Cell');
        return cell ? cell.querySelector('.jp-OutputArea').innerText : '';
    }""")


def test_widget_notebook_live(lab, browser):
    base, token, name = lab
    ARTIFACTS.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
    page.goto(f"{base}/lab/tree/{name}?token={token}", wait_until="domcontentloaded")
    try:
        _drive(page)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-failure.png"))
        raise
    ctx.close()


def _drive(page):
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60000)
    page.locator(".jp-Notebook").first.wait_for(timeout=60000)
    # the kernel is ready when the notebook's session reports an idle kernel
    page.wait_for_function("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
        return k && k.status === 'idle';
    }""", timeout=120000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # every cell has run when no prompt shows [*]
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-InputArea-prompt')].map(p => p.textContent);
        return prompts.length > 0 && prompts.every(t => !t.includes('*')) &&
               prompts.filter(t => /\\[\\d+\\]/.test(t)).length > 0;
    }""", timeout=240000)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg, "
                          ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, "a cell raised an error in JupyterLab"
    slider = page.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle").first
    slider.wait_for(timeout=60000)
    slider.scroll_into_view_if_needed()
    page.wait_for_function("""() => {
        const w = document.querySelector('.jp-OutputArea-output .widget-interact, .jp-OutputArea-output .jupyter-widgets');
        const c = w && w.closest('.jp-Cell');
        return c && /lambda = /.test(c.querySelector('.jp-OutputArea').innerText);
    }""", timeout=60000)
    before = _widget_text(page)
    m0 = re.search(VALUE_PATTERN, before)
    assert m0, f"widget output does not show the slider value: {before[:300]!r}"
    # drag the slider's handle to the right, as a reader would
    box = slider.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=8)
    page.mouse.up()
    # wait for the output to show another slider value (any change of the text is not enough: the
    # output area can be cleared and redrawn with the old value first, as seen under load)
    page.wait_for_function("(old) => { const w = document.querySelector('.jp-OutputArea-output .widget-interact, .jp-OutputArea-output .jupyter-widgets');"
                           " const c = w && w.closest('.jp-Cell'); if (!c) return false;"
                           " const m = /lambda = (-?\\d+\\.\\d+)/.exec(c.querySelector('.jp-OutputArea').innerText);"
                           " return m !== null && m[1] !== old; }",
                           arg=m0.group(1), timeout=60000)
    after = _widget_text(page)
    m1 = re.search(VALUE_PATTERN, after)
    assert m1, f"widget output lost the slider value: {after[:300]!r}"
    assert float(m1.group(1)) > float(m0.group(1)), (m0.group(1), m1.group(1))
    # ... and, as Theorem 4 says, the loss does not change along lambda
    loss0, loss1 = (re.search(r"loss (\d+\.\d+)", t).group(1) for t in (before, after))
    assert loss0 == loss1, (loss0, loss1)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-widget.png"))
