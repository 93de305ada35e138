"""HTML and XHTML through lxml's HTML parser: the visible text, the ``<title>`` as title.

Scripts, styles, templates, forms' controls, navigation, asides, page headers and footers and
elements marked hidden are dropped; block elements become line breaks so that paragraphs and
list items stay apart. Other readers (e-mail, EPUB) use :func:`html_text` for their HTML.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from docret.readers.base import (
    Document,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    clean_title,
    decode,
    has_bom,
    make_document,
    tidy,
)

# Never visible, or the site's furniture rather than the page's content.
_DROP = {
    "script", "style", "noscript", "template", "nav", "aside", "footer", "svg", "math",
    "iframe", "object", "embed", "canvas", "select", "option", "button", "input", "textarea",
    "head", "dialog", "menu",
}  # fmt: skip
# A <header> is navigation at page level but a heading inside an article.
_CONTENT = {"article", "main", "section"}
_BLOCK = {
    "address", "article", "blockquote", "body", "caption", "dd", "details", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "tfoot", "thead", "tr", "ul",
}  # fmt: skip


def parse(data: bytes | str):
    """An lxml HTML tree of ``data``, or None when it is blank. Bytes are decoded by their
    byte-order mark, else as UTF-8 when they decode, else left to libxml2, which honours the
    document's ``<meta charset>``."""
    from lxml import html

    if isinstance(data, bytes):
        if has_bom(data[:4]):
            data = decode(data)
        else:
            with contextlib.suppress(UnicodeDecodeError):
                data = data.decode("utf-8")
    if isinstance(data, str) and data.lstrip().startswith("<?xml"):
        # lxml refuses a str that declares its own encoding in an XML prolog
        data = data[data.find("?>") + 2 :]
    if not data.strip():
        return None
    return html.document_fromstring(data)


def _hidden(el) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    if el.get("role") in ("navigation", "banner", "contentinfo", "search"):
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _dropped(el) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = tag.rsplit("}", 1)[-1].lower()
    if tag in _DROP or _hidden(el):
        return True
    if tag == "header":
        return not any(
            isinstance(a.tag, str) and a.tag.lower() in _CONTENT for a in el.iterancestors()
        )
    return False


def html_text(root) -> str:
    """The visible text under the lxml element ``root``, one line per block element."""
    if root is None:
        return ""
    parts: list[str] = []

    def walk(el) -> None:
        tag = el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""
        if tag and not _dropped(el):  # comments and processing instructions have no str tag
            if tag == "br":
                parts.append("\n")
            block = tag in _BLOCK
            if block:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
            for child in el:
                walk(child)
                if child.tail:
                    parts.append(child.tail)
            if block:
                parts.append("\n")
            elif tag in ("td", "th"):
                parts.append(" ")

    body = root.find("body")
    walk(body if body is not None else root)
    return tidy("".join(parts))


def html_title(root) -> str:
    """The ``<title>``, else the first ``<h1>``, else ""."""
    if root is None:
        return ""
    for path in (".//title", ".//h1"):
        el = root.find(path)
        if el is not None:
            title = clean_title(el.text_content())
            if title:
                return title
    return ""


def _meta(root, *names: str) -> str | None:
    for el in root.iter("meta"):
        key = (el.get("name") or el.get("property") or "").lower()
        if key in names and el.get("content", "").strip():
            return el.get("content").strip()
    return None


def read_html(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document: the visible text of the page; title, author and date from the head."""
    root = parse(source.path.read_bytes())
    if root is None:
        yield Skipped(source.id, "empty")
        return
    yield make_document(
        source,
        html_text(root),
        "html",
        title=html_title(root),
        author=_meta(root, "author", "dc.creator", "article:author"),
        date=_meta(root, "date", "dc.date", "dcterms.date", "article:published_time"),
        language=root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"),
    )


def sniff(path, head: bytes) -> bool:
    """An HTML document starts with a doctype or an ``<html>`` tag (after any prolog)."""
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"<?xml"):
        start = start[start.find(b"?>") + 2 :].lstrip()
    return start.startswith((b"<!doctype html", b"<html"))


READER = Reader(
    name="html",
    extensions=(".html", ".htm", ".xhtml", ".xht", ".shtml"),
    read=read_html,
    requires=("lxml",),
    extra="formats",
    sniff=sniff,
    label="HTML",
)
