"""Markdown: the text as written, with YAML front matter taken out and used as metadata.

Front matter is the block between a first line ``---`` and the next ``---`` (or ``...``) line;
its ``title`` becomes the title, its ``tags`` (a list or a comma-separated string) the labels,
after the folder label, and ``author``/``date`` go to the metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from docret.readers.base import (
    Document,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    make_document,
)
from docret.readers.text import file_text


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter as a dict, the rest of the text); ({}, text) when there is none or it is
    not a YAML mapping, so that a document that merely starts with a rule loses nothing."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        return {}, text
    import yaml

    try:
        # libyaml's loader where PyYAML was built with it: the pure-Python one is slow
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load("\n".join(lines[1:end]), Loader=loader)
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return data, "\n".join(lines[end + 1 :])


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    return tuple(str(t).strip() for t in value if isinstance(t, (str, int)) and str(t).strip())


def _scalar(value: Any) -> str | None:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):  # several authors
        return ", ".join(str(v) for v in value if isinstance(v, (str, int)))
    return None


def read_markdown(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document per file; front matter out of the text and into title, labels, metadata."""
    text = file_text(source)
    if text is None:
        yield Skipped(source.id, "binary file")
        return
    front, body = split_front_matter(text)
    tags = tuple(t for t in _tags(front.get("tags")) if t not in source.labels)
    yield make_document(
        source,
        body,
        "markdown",
        title=_scalar(front.get("title")) or "",
        labels=source.labels + tags,
        author=_scalar(front.get("author")),
        date=_scalar(front.get("date")),
    )


READER = Reader(
    name="markdown",
    extensions=(".md", ".markdown", ".mdown", ".mkd"),
    read=read_markdown,
    label="Markdown",
)
