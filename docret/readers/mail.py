"""E-mail with the standard library: ``.eml`` files and ``mbox`` mailboxes, one document per
message.

The subject is the title; the text is the plain-text part, or the HTML part converted to text
when there is no plain one (attachments are left out); headers stay out of the text, but sender,
recipients, date and Message-ID are metadata. Messages are parsed with the ``compat32`` policy
and their parts decoded here: the modern policy's header objects cost far more per message
(bench/formats.py), which matters in a mailbox of 100,000 messages. ``mailbox.mbox`` indexes
the message boundaries in one pass over the file and then reads one message at a time, so a
large mailbox is never in memory whole. Its messages get ids ``inbox.mbox#1``, ``#2``, ... in
file order.
"""

from __future__ import annotations

import email
import mailbox
import re
from collections.abc import Iterator
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime

from docret.readers.base import (
    Document,
    MissingLibrary,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    decode,
    make_document,
    tidy,
)

# mbox writers quote body lines that start with "From " as ">From " (and ">From " as ">>From ").
_FROM_QUOTED = re.compile(rb"^>(>*From )", re.MULTILINE)


def _header(msg: Message, name: str) -> str | None:
    """A header's value with RFC 2047 encoded words decoded and whitespace folded."""
    value = msg.get(name)
    if value is None:
        return None
    try:
        value = str(make_header(decode_header(str(value))))
    except (LookupError, ValueError, UnicodeError, HeaderParseError):
        value = str(value)  # undecodable encoded words: keep them as written
    return " ".join(value.split()) or None


def _date(msg: Message) -> str | None:
    value = _header(msg, "Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return value


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset()
    if charset:
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            pass
    return decode(payload)


def _body_part(msg: Message) -> Message | None:
    """The first inline text/plain part, else the first inline text/html part."""
    html = None
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            return part
        if kind == "text/html" and html is None:
            html = part
    return html


def message_text(msg: Message) -> str:
    """The readable body: the plain part, else the HTML part converted, else ""."""
    body = _body_part(msg)
    if body is None:
        return ""
    text = _decoded(body)
    if body.get_content_subtype() == "html":
        from docret.readers.html import html_text, parse

        try:
            return html_text(parse(text))
        except ImportError:
            raise MissingLibrary("lxml") from None
    return tidy(text)


def message_document(source: Source, msg: Message, doc_id: str) -> Document | Skipped:
    """One message as a document (or a skip when it has no readable text)."""
    try:
        text = message_text(msg)
    except MissingLibrary:
        return Skipped(doc_id, "HTML mail needs lxml", "pip install 'docret[formats]'")
    return make_document(
        source,
        text,
        "email",
        doc_id=doc_id,
        title=_header(msg, "Subject") or "",
        **{
            "from": _header(msg, "From"),
            "to": _header(msg, "To"),
            "date": _date(msg),
            "message_id": _header(msg, "Message-ID"),
        },
    )


def read_eml(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document: the message in the file."""
    with source.path.open("rb") as f:
        msg = email.message_from_binary_file(f)
    yield message_document(source, msg, source.id)


def read_mbox(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document per message of the mailbox, ids ``file#1``, ``file#2``, ..."""
    box = mailbox.mbox(source.path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            doc_id = source.sub_id(number)
            try:
                raw = _FROM_QUOTED.sub(rb"\1", box.get_bytes(key))
                msg = email.message_from_bytes(raw)
                yield message_document(source, msg, doc_id)
            except (ValueError, LookupError, TypeError, IndexError) as e:
                yield Skipped(doc_id, "damaged message", str(e)[:100])
    finally:
        box.close()


def _looks_like_headers(head: bytes) -> bool:
    names = {b"from", b"to", b"subject", b"date", b"received", b"message-id", b"return-path",
             b"mime-version", b"delivered-to", b"x-mozilla-status"}  # fmt: skip
    lines = head.split(b"\n", 8)[:-1]
    found = sum(1 for line in lines if line.split(b":", 1)[0].strip().lower() in names)
    return found >= 2


def sniff_mbox(path, head: bytes) -> bool:
    """A mailbox starts with a ``From `` separator line and then a message's headers."""
    return head.startswith(b"From ") and _looks_like_headers(head.split(b"\n", 1)[-1])


EML = Reader(
    name="email",
    extensions=(".eml",),
    read=read_eml,
    label="e-mail",
)
MBOX = Reader(
    name="mbox",
    extensions=(".mbox", ".mbx"),
    read=read_mbox,
    sniff=sniff_mbox,
    label="mailbox",
)
