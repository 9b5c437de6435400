"""Make lossland's plain-text docstrings safe for reStructuredText.

The package's docstrings write absolute values and norms the way the papers
do, ``|y|`` and ``||grad||``; in reStructuredText ``|y|`` is a substitution
reference and breaks the API page. This hook escapes every ``|`` (except in
table borders) before autodoc parses the docstring.
"""
from __future__ import annotations


def _escape(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("|", "+-", "+=")):
            continue                                   # a table border
        parts = line.split("``")                       # odd parts are inline literals
        lines[i] = "``".join(p if k % 2 else p.replace("|", "\\|") for k, p in enumerate(parts))


def setup(app):
    app.connect("autodoc-process-docstring", _escape)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
