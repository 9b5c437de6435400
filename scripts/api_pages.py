"""Write the API reference: one page per module of ``lossland``, grouped as the package is.

    .venv/bin/python scripts/api_pages.py          # (re)write book/api/*.md and the api entry of _toc.yml
    .venv/bin/python scripts/api_pages.py --check  # exit 1 if they are not up to date (tests/test_layout.py)

Pages: ``book/api/core.md`` (the flat core) and one page per subpackage
(``lossland.nonattracting``, ...), each followed by its modules' pages
(``book/api/lossland.network.md``, ...), each an ``automodule`` of the
module's public names (``__all__``). Run it after adding or removing a module.
"""
from __future__ import annotations

import importlib
import pathlib
import pkgutil
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
API = ROOT / "book" / "api"
PARTS = {"nonattracting": "Part I (papers 000/001)", "deep_wide": "Part II (paper 003)",
         "relu_regions": "Part III (paper 002)", "bad_minima": "Part IV (paper 004)"}
# modules whose page lists chosen members instead of __all__
MEMBERS = {"lossland.activations": "Activation, get_activation, ACTIVATIONS, SMOOTH_ACTIVATIONS",
           "lossland.network": "Network, Forward"}


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_") and not m.ispkg]


def _summary(name: str) -> str:
    doc = (importlib.import_module(name).__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else ""


def _automodule(name: str, members: bool = True) -> str:
    opts = f"\n   :members: {MEMBERS.get(name, '')}".rstrip() if members else ""
    return f"```{{eval-rst}}\n.. automodule:: {name}{opts}\n```\n"


def _table(modules: list[str]) -> str:
    rows = "\n".join(f"| {{doc}}`{m} <{m}>` | {_summary(m)} |" for m in modules)
    return f"| module | what it holds |\n|---|---|\n{rows}\n" if modules else ""


def pages() -> tuple[dict[str, str], list[dict]]:
    """Page texts by file name, and the ``sections`` of the api entry of _toc.yml."""
    out, toc = {}, []
    core = _modules("lossland")
    out["core.md"] = ("# The core\n\nThe flat core of `lossland`: the objects every part uses. "
                      "A core module never imports a part's subpackage.\n\n" + _table(core))
    toc.append({"file": "book/api/core", "sections": [{"file": f"book/api/{m}"} for m in core]})
    for m in core:
        out[f"{m}.md"] = f"# {m}\n\n{_automodule(m)}"
    for sub, part in PARTS.items():
        name = f"lossland.{sub}"
        mods = _modules(name)
        has_all = hasattr(importlib.import_module(name), "__all__")
        out[f"{name}.md"] = (f"# {name}\n\n{part}: this part's own constructions, one module per "
                             f"result.\n\n{_automodule(name, members=has_all)}\n{_table(mods)}")
        entry = {"file": f"book/api/{name}"}
        if mods:
            entry["sections"] = [{"file": f"book/api/{m}"} for m in mods]
        toc.append(entry)
        for m in mods:
            out[f"{m}.md"] = f"# {m}\n\n{_automodule(m)}"
    return out, toc


def _toc_with(sections: list[dict]) -> dict:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            if chapter["file"] == "book/api":
                chapter["sections"] = sections
                return toc
    raise SystemExit("_toc.yml has no entry for book/api")


def main(argv=None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    texts, sections = pages()
    toc = _toc_with(sections)
    stale = sorted(n for n, t in texts.items() if not (API / n).exists() or (API / n).read_text() != t)
    extra = sorted(p.name for p in API.glob("*.md") if p.name not in texts) if API.exists() else []
    toc_stale = yaml.safe_load((ROOT / "_toc.yml").read_text()) != toc
    if check:
        for n in stale:
            print(f"book/api/{n}: missing or out of date")
        for n in extra:
            print(f"book/api/{n}: no such module")
        if toc_stale:
            print("_toc.yml: the api entry does not list the module pages")
        return 1 if stale or extra or toc_stale else 0
    API.mkdir(exist_ok=True)
    for n in extra:
        (API / n).unlink()
    for n, t in texts.items():
        (API / n).write_text(t)
    (ROOT / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, width=100))
    print(f"wrote {len(texts)} pages under book/api and the api entry of _toc.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
