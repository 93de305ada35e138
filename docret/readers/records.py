"""Collections of records: JSON Lines (``.jsonl``, ``.jsonl.gz``) and tables (CSV, TSV).

Each record (line or row) is a document. Which fields hold what is chosen with
:class:`~docret.readers.base.ReadOptions` (``--text-field``, several joined by a blank line;
``--title-field``, ``--id-field``, ``--label-field``); the defaults are ``text``, ``title``,
``id`` (JSON lines; a table's rows are numbered instead) and ``labels`` or ``label``. Records are
read as a stream. A record that cannot be used is skipped with its line number and why; a
truncated gzip file is reported with how much was read.
"""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from docret.readers.base import (
    Document,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    decode,
    detect_encoding,
    make_document,
)

SAMPLE_BYTES = 65_536


class RecordError(ValueError):
    """A record that is not a usable document; the message is the skip reason."""


def _labels(value: Any) -> tuple[str, ...]:
    """Labels from a field: a string, an integer or a list of them; anything else is an error
    (a bare ``true`` or a ``null`` inside a list is a mistake, not a label called "None")."""
    if value is None:
        return ()
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return (str(value),) if str(value).strip() else ()
    if isinstance(value, list):
        bad = [v for v in value if not isinstance(v, (str, int)) or isinstance(v, bool)]
        if bad:
            raise RecordError(f"labels must be strings or integers (found {json.dumps(bad[0])})")
        return tuple(str(v) for v in value if str(v).strip())
    raise RecordError(f"labels must be a string or a list of strings (found {json.dumps(value)})")


def record_document(
    source: Source, record: Mapping[str, Any], key: object, options: ReadOptions, kind: str
) -> Document | Skipped:
    """The document of one record; ``key`` (line or row number) names it in skips and, for
    tables without an id field, in its id."""
    where = f"{source.id}:{key}"
    text_fields = options.text_fields or ("text",)
    missing = [f for f in text_fields if f not in record]
    if len(missing) == len(text_fields):
        return Skipped(where, "no text", f"no field {', '.join(map(repr, text_fields))}")
    texts = [record.get(f) for f in text_fields]
    if any(t is not None and not isinstance(t, (str, int, float)) for t in texts):
        return Skipped(where, "no text", "a text field is not a string")
    present = [str(t) for t in texts if t is not None and str(t).strip()]
    # one field is kept as it is (its hash stays what earlier versions stored); several are
    # trimmed and joined by a blank line
    text = present[0] if len(present) == 1 else "\n\n".join(t.strip() for t in present)
    if not text:
        return Skipped(where, "no text")
    id_field = options.id_field or ("id" if kind == "jsonl" else None)
    if id_field is None:
        doc_id = source.sub_id(key)
    else:
        value = record.get(id_field)
        if value is None or isinstance(value, (dict, list)) or not str(value).strip():
            return Skipped(where, "no id", f"no field {id_field!r}")
        doc_id = source.sub_id(value) if source.in_folder else str(value)
    if options.label_field:
        raw_labels = record.get(options.label_field)
    else:
        raw_labels = record.get("labels", record.get("label"))
    try:
        labels = source.labels + tuple(x for x in _labels(raw_labels) if x not in source.labels)
    except RecordError as e:
        return Skipped(where, "bad labels", str(e))
    title = record.get(options.title_field or "title")
    split = record.get("split")
    doc = make_document(
        source,
        text,
        kind,
        doc_id=doc_id,
        title=title if isinstance(title, str) else "",
        labels=labels,
        split=str(split) if split is not None else None,
    )
    return Skipped(where, "no text") if isinstance(doc, Skipped) else doc


def read_jsonl(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document per JSON object line; ``.gz`` files are decompressed as a stream."""
    gz = source.path.name.lower().endswith(".gz")
    opener = gzip.open if gz else open
    lineno = read = 0
    try:
        with opener(source.path, "rb") as f:
            for lineno, raw in enumerate(f, start=1):  # noqa: B007 - lineno is reported below
                if not raw.strip():
                    continue
                item = _json_line(source, raw, lineno, options)
                read += isinstance(item, Document)
                yield item
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        yield Skipped(
            source.id,
            "truncated or damaged file",
            f"{e}; read {read:,} documents from {lineno:,} lines before it",
        )


def _json_line(source: Source, raw: bytes, lineno: int, options: ReadOptions):
    where = f"{source.id}:{lineno}"
    try:
        try:
            obj = json.loads(raw)
        except UnicodeDecodeError:  # a line in a legacy encoding
            obj = json.loads(decode(raw))
    except json.JSONDecodeError:
        return Skipped(where, "not valid JSON")
    except RecursionError:  # the parser's depth limit: this line only, the file reads on
        return Skipped(where, "JSON nested too deeply")
    if not isinstance(obj, dict):
        return Skipped(where, "not a JSON object")
    return record_document(source, obj, lineno, options, "jsonl")


def read_table(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document per row of a CSV or TSV file with a header row (a stream of rows)."""
    with source.path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample)
    text_sample = sample.decode(encoding, errors="replace")
    if source.path.suffix.lower() in (".tsv", ".tab"):
        dialect: Any = csv.excel_tab
    else:
        whole_lines = text_sample[: text_sample.rfind("\n") + 1] or text_sample
        try:
            dialect = csv.Sniffer().sniff(whole_lines, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    csv.field_size_limit(2**31 - 1)  # a cell may hold a whole long document
    with source.path.open("r", encoding=encoding, errors="replace", newline="") as f:
        rows = csv.DictReader(f, dialect=dialect)
        header = rows.fieldnames or []
        wanted = options.text_fields or ("text",)
        if not any(field in header for field in wanted):
            yield Skipped(
                source.id,
                "no text column",
                f"no column {', '.join(map(repr, wanted))}; it has "
                f"{', '.join(map(repr, header[:10]))}; choose with --text-field",
            )
            return
        for number, row in enumerate(rows, start=1):
            yield record_document(source, row, number, options, "csv")


JSONL = Reader(
    name="jsonl",
    extensions=(".jsonl", ".jsonl.gz", ".ndjson"),
    read=read_jsonl,
    label="JSON Lines",
)
TABLE = Reader(
    name="csv",
    extensions=(".csv", ".tsv", ".tab"),
    read=read_table,
    label="CSV",
)
