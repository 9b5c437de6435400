"""The layout rules of CONTRIBUTING.md ("Where code goes"), checked on the source.

* The core (the modules directly in ``lossland/``) imports no part's subpackage.
* A part's subpackage imports the core and itself, never another part's subpackage.
* A part's notebooks import the core and their own part's subpackage only.
* One calling convention: a public function that takes ``theta`` takes the data
  through the loss object, never as ``X``/``y`` beside it.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import pytest

import lossland

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lossland"
PARTS = {"part1": "nonattracting", "part2": "deep_wide", "part3": "relu_regions", "part4": "bad_minima"}
SUBPACKAGES = set(PARTS.values())


def _imported_modules(source: str, module: str) -> set[str]:
    """Absolute names of the lossland modules a source imports (relative imports resolved)."""
    out = set()
    package = module.split(".") if module.endswith("__init__") is False else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)
    return {m for m in out if m == "lossland" or m.startswith("lossland.")}


def _part_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else None


def _package_sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        yield path, ".".join(rel.parts)


def test_the_parts_have_homes():
    for sub in SUBPACKAGES:
        assert (PACKAGE / sub / "__init__.py").is_file(), sub


@pytest.mark.parametrize("path,module", list(_package_sources()), ids=lambda v: str(v)[-40:])
def test_imports_follow_the_layout(path, module):
    own = _part_of(module)
    for name in _imported_modules(path.read_text(), module):
        other = _part_of(name)
        if own is None:
            assert other is None, f"core module {module} imports part module {name}"
        else:
            assert other in (None, own), f"{module} (part {own}) imports another part's module {name}"


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("part*/*.ipynb")), ids=lambda p: p.name)
def test_notebooks_import_their_part_and_the_core(notebook):
    own = PARTS[notebook.parent.name]
    cells = json.loads(notebook.read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    for name in _imported_modules(source, "notebook"):
        assert _part_of(name) in (None, own), f"{notebook.name} imports {name}"


def _public_functions():
    for info in pkgutil.walk_packages(lossland.__path__, "lossland."):
        mod = importlib.import_module(info.name)
        names = getattr(mod, "__all__", None) or [n for n, o in vars(mod).items() if not n.startswith("_")
                                                  and getattr(o, "__module__", None) == info.name]
        for name in names:
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                yield f"{info.name}.{name}", obj
            elif inspect.isclass(obj) and str(getattr(obj, "__module__", "")).startswith("lossland"):
                for meth_name, meth in vars(obj).items():
                    if inspect.isfunction(meth) and not meth_name.startswith("_"):
                        yield f"{info.name}.{name}.{meth_name}", meth


def test_one_calling_convention():
    """Data travel inside the loss object: no public function takes a network or theta beside X or y.

    (``Network.forward(theta, X)`` evaluates the network itself and is not a function "of the data".)
    """
    found = [(n, f) for n, f in _public_functions() if not n.startswith("lossland.network.Network.")]
    assert len(found) > 100                                    # the walk saw the package
    offenders = [name for name, fn in found
                 if {"theta", "net"} & set(params := inspect.signature(fn).parameters) and {"X", "y"} & set(params)]
    assert not offenders, offenders


def test_api_pages_list_every_module():
    """book/api has one page per module, listed in _toc.yml (scripts/api_pages.py writes them)."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "api_pages.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, ("run `.venv/bin/python scripts/api_pages.py`:\n"
                                 + run.stdout + run.stderr)
