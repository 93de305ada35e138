"""MkDocs hooks: the site also holds bench/RESULTS.md and research/FINDINGS.md, and the
Python API page shows the docstrings' Sphinx roles as code.

The pages link to each other and to those two files by their paths in the repository, so the
links work where the Markdown files are read as they are (on disk, in a repository browser). On
the site the two files become pages beside the others, and every link between repository files
is rewritten to the page that the site makes of its target. A link to any other file outside
docs/ is left alone, so the strict build still reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
DOCS = "docs/"
# repository path -> the page it becomes on the site
EXTRA_PAGES = {"bench/RESULTS.md": "results.md", "research/FINDINGS.md": "findings.md"}
# [text](target#anchor): the target is a relative path (no scheme, no leading slash)
LINK = re.compile(r"(\]\()(?![a-z]+:|/|#)([^)\s#]+)(#[^)\s]*)?(\))")
# :class:`~docret.errors.DatabaseError` in a docstring, as mkdocstrings renders it
ROLE = re.compile(r":(?:attr|class|data|exc|func|meth|mod|obj):<code>(~?)([^<]+)</code>")


def on_files(files, config):
    """Add the two repository files as generated pages."""
    for path, page in EXTRA_PAGES.items():
        files.append(File.generated(config, page, abs_src_path=str(ROOT / path)))
    return files


def repository_path(page_uri: str) -> str:
    """The repository path of the site page ``page_uri`` (a path under docs/)."""
    for path, page in EXTRA_PAGES.items():
        if page == page_uri:
            return path
    return DOCS + page_uri


def site_link(target: str, source: str, page_uri: str) -> str | None:
    """The link from the page ``page_uri`` (repository path ``source``) to what the repository
    link ``target`` names, or None when the target is not part of the site."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
    if path in EXTRA_PAGES:
        page = EXTRA_PAGES[path]
    elif path.startswith(DOCS):
        page = path[len(DOCS) :]
    else:
        return None
    return posixpath.relpath(page, posixpath.dirname(page_uri) or ".")


def on_page_markdown(markdown, page, config, files):
    """Rewrite the page's links between repository files into links between site pages."""
    page_uri = page.file.src_uri
    source = repository_path(page_uri)

    def rewrite(match: re.Match) -> str:
        link = site_link(match.group(2), source, page_uri)
        if link is None:
            return match.group(0)
        return f"{match.group(1)}{link}{match.group(3) or ''}{match.group(4)}"

    return LINK.sub(rewrite, markdown)


def on_page_content(html, page, config, files):
    """``:class:`~a.b.C``` -> ``C`` and ``:func:`a.b``` -> ``a.b``, as Sphinx shows them."""

    def shown(match: re.Match) -> str:
        name = match.group(2).rsplit(".", 1)[-1] if match.group(1) else match.group(2)
        return f"<code>{name}</code>"

    return ROLE.sub(shown, html)
