"""Make lossland's plain-text docstrings safe for reStructuredText.

The package's docstrings write absolute values and norms the way the papers
do, ``|y|`` and ``||grad||``, and indices as ``J_+_j``; in reStructuredText
``|y|`` is a substitution reference and ``j_`` a hyperlink reference, which
break the API page. This hook escapes both (outside inline literals and table
borders) before autodoc parses the docstring.
"""
from __future__ import annotations

import re


# "word_" followed by a space or punctuation is a hyperlink reference in reST;
# in the docstrings it is an index (J_+_j, a_i_), never a link
_TRAILING_UNDERSCORE = re.compile(r"(?<=[\w\]\)])_(?=[^\w{]|$)")


def _escape_prose(text: str) -> str:
    text = text.replace("|", "\\|")
    return _TRAILING_UNDERSCORE.sub(r"\\_", text)


def _escape(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("+-", "+=")) or (stripped.startswith("| ") and stripped.rstrip().endswith("|")):
            continue                                   # a table border or row
        parts = line.split("``")                       # odd parts are inline literals
        lines[i] = "``".join(p if k % 2 else _escape_prose(p) for k, p in enumerate(parts))


def setup(app):
    app.connect("autodoc-process-docstring", _escape)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
