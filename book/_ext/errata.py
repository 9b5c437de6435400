"""The errata page of the book (book/x02-errata.md), built from what the chapters record.

A chapter records a disagreement with a paper where its evidence is::

    :::{erratum} 000, Lemma 1: a factor 2
    What the paper prints, what the check found, the corrected formula,
    and whether the proof still goes through.
    :::

The block renders in place as an admonition titled "Erratum (...)". The page
``book/errata.md`` contains ``{errata-list}``, which is replaced at build time by
every erratum of the book (title, text and a link back to the chapter), so the
page is never typed twice. Modelled on ``sphinx.ext.todo``.
"""
from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective


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
    has_content = False

    def run(self):
        return [errata_list_node("")]


def _purge(app, env, docname):
    if hasattr(env, "errata_all"):
        env.errata_all = [e for e in env.errata_all if e["docname"] != docname]


def _merge(app, env, docnames, other):
    if not hasattr(env, "errata_all"):
        env.errata_all = []
    if hasattr(other, "errata_all"):
        env.errata_all.extend(other.errata_all)


def _resolve(app, doctree, fromdocname):
    env = app.builder.env
    errata = sorted(getattr(env, "errata_all", []), key=lambda e: (e["docname"], e["target"]))
    for node in doctree.findall(errata_list_node):
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
            para += nodes.Text(" — recorded in ")
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
    return {"version": "1.0", "env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
