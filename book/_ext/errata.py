"""The errata page of the book (book/x02-errata.md), built from what the chapters record.

A chapter records a disagreement with a paper where its evidence is::

    :::{erratum} 000, Lemma 1: a factor 2
    What the paper prints, what the check found, the corrected formula,
    and whether the proof still goes through.
    :::

The block renders in place as an admonition titled "Erratum (...)". The page
``book/x02-errata.md`` has one heading per paper and chapter, each followed by
``{errata-list} notebooks/part1/p02-...`` (a document name), which is replaced at
build time by that chapter's errata (title, text and a link back to the
chapter), so no erratum is typed twice. ``{errata-list}`` without an argument
lists every erratum. The build warns (an error under ``-W``) when a chapter's
errata are listed nowhere, or a list names a chapter that has none, so the
page's headings cannot drift from the chapters. Modelled on ``sphinx.ext.todo``.
"""
from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


class erratum_node(nodes.Admonition, nodes.Element):
    pass


class errata_list_node(nodes.General, nodes.Element):
    pass


class ErratumDirective(SphinxDirective):
    """``{erratum} <paper>, <place>: <short title>`` with the evidence as content."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {"class": directives.class_option}

    def run(self):
        title = self.arguments[0].strip()
        env = self.env
        serial = env.new_serialno("erratum")
        target_id = f"erratum-{serial}"
        target = nodes.target("", "", ids=[target_id])
        node = erratum_node("\n".join(self.content))
        node["classes"] += ["admonition", "warning", "erratum"]
        node += nodes.title(title, f"Erratum ({title})")
        self.state.nested_parse(self.content, self.content_offset, node)
        if not hasattr(env, "errata_all"):
            env.errata_all = []
        env.errata_all.append({"docname": env.docname, "target": target_id, "title": title,
                               "node": node.deepcopy()})
        return [target, node]


class ErrataListDirective(SphinxDirective):
    """``{errata-list} [docname]``: the errata of one chapter, or of all without argument."""

    has_content = False
    optional_arguments = 1

    def run(self):
        node = errata_list_node("")
        node["source_doc"] = self.arguments[0].strip() if self.arguments else None
        if not hasattr(self.env, "errata_lists"):
            self.env.errata_lists = []
        self.env.errata_lists.append((self.env.docname, node["source_doc"]))
        return [node]


def _purge(app, env, docname):
    if hasattr(env, "errata_all"):
        env.errata_all = [e for e in env.errata_all if e["docname"] != docname]
    if hasattr(env, "errata_lists"):
        env.errata_lists = [x for x in env.errata_lists if x[0] != docname]


def _merge(app, env, docnames, other):
    for attr in ("errata_all", "errata_lists"):
        if not hasattr(env, attr):
            setattr(env, attr, [])
        if hasattr(other, attr):
            getattr(env, attr).extend(getattr(other, attr))


def _check(app, env):
    """Every chapter with errata is listed on the page; every listed chapter has errata."""
    lists = getattr(env, "errata_lists", [])
    if not lists or any(doc is None for _, doc in lists):
        return
    listed = {doc for _, doc in lists}
    recorded = {e["docname"] for e in getattr(env, "errata_all", [])}
    for doc in sorted(recorded - listed):
        logger.warning(f"errata: {doc} records errata, but no {{errata-list}} {doc} lists them "
                       f"(add a heading and the list to {lists[0][0]})")
    for page, doc in lists:
        if doc not in recorded:
            logger.warning(f"errata: {{errata-list}} {doc} on {page}: that chapter records no erratum",
                           location=page)


def _resolve(app, doctree, fromdocname):
    env = app.builder.env
    everything = sorted(getattr(env, "errata_all", []),
                        key=lambda e: (e["docname"], int(e["target"].rsplit("-", 1)[1])))
    for node in doctree.findall(errata_list_node):
        doc = node.get("source_doc")
        errata = [e for e in everything if doc is None or e["docname"] == doc]
        content = []
        if not errata:
            content.append(nodes.paragraph(text="No chapter has recorded an erratum yet."))
        for e in errata:
            section = nodes.container(classes=["errata-entry"])
            para = nodes.paragraph()
            ref = nodes.reference("", "")
            ref["refuri"] = app.builder.get_relative_uri(fromdocname, e["docname"]) + "#" + e["target"]
            title = env.titles.get(e["docname"])
            ref += nodes.Text(title.astext() if title is not None else e["docname"])
            para += nodes.strong(text=e["title"])
            para += nodes.Text(" — the evidence is in ")
            para += ref
            section += para
            body = e["node"].deepcopy()
            # drop the duplicated title inside the copied admonition
            for t in list(body.findall(nodes.title)):
                t.parent.remove(t)
            section += body.children
            content.append(section)
        node.replace_self(content)


def _visit(self, node):
    self.visit_admonition(node)


def _depart(self, node):
    self.depart_admonition(node)


def setup(app):
    app.add_node(erratum_node, html=(_visit, _depart), latex=(_visit, _depart), text=(_visit, _depart))
    app.add_node(errata_list_node)
    app.add_directive("erratum", ErratumDirective)
    app.add_directive("errata-list", ErrataListDirective)
    # the list's entries (with their math) arrive only at doctree-resolved, after
    # Sphinx decided which pages need MathJax: load it on every page
    app.set_html_assets_policy("always")
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-resolved", _resolve)
    app.connect("env-check-consistency", _check)
    return {"version": "1.0", "env_version": 2, "parallel_read_safe": True, "parallel_write_safe": True}
