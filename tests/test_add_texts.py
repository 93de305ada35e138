"""Index.add_texts: documents given as values (the web API's additions), updated when given
again, refused whole when one cannot be stored as given."""

from __future__ import annotations

from pathlib import Path

import pytest

from docret.corpus import TEXTS_SOURCE
from docret.errors import CorpusError, DocretError
from docret.index import Index
from tests.serve_helpers import build_index, copy_db


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("texts"))


@pytest.fixture
def index(built: Path, tmp_path: Path):
    with Index.open(copy_db(built, tmp_path)) as opened:
        yield opened


def test_texts_given_again_are_unchanged_or_updated(index):
    doc = {"id": "note-1", "text": "A note\n\nrocket orbit launch", "labels": ["space"]}
    assert index.add_texts([doc]).added == ["note-1"]
    again = index.add_texts([doc])
    assert again.added == [] and again.updated == [] and again.unchanged == 1
    changed = index.add_texts([{**doc, "text": "A note\n\nrocket comet satellite"}])
    assert changed.updated == ["note-1"]
    stored = index.document("note-1")
    assert stored.text.endswith("comet satellite") and stored.path is None
    assert stored.title == "A note" and stored.labels == ["space"]
    assert index.store.document_sources(["note-1"]) == {"note-1": TEXTS_SOURCE}


@pytest.mark.parametrize(
    "records, words",
    [
        ([], "No documents"),
        ([{"id": "x", "text": "  \n "}], "Document 1 ('x') has no text"),
        ([{"text": "rocket"}], "Document 1 has no id"),
        ([{"id": "a\x00b", "text": "rocket"}], "NUL"),
        (
            [{"id": "d", "text": "rocket"}, {"id": "d", "text": "orbit"}],
            "'d'): the id is given twice",
        ),
        ([{"id": "s", "text": "rocket \ud800"}], "surrogate"),
        ([{"id": "l", "text": "rocket", "labels": "space"}], "labels"),
    ],
)
def test_records_that_cannot_be_stored_write_nothing(index, records, words):
    before = len(index.ids)
    with pytest.raises(CorpusError) as raised:
        index.add_texts(records)
    assert words in str(raised.value)
    with pytest.raises(CorpusError):  # a good record beside a bad one is not written either
        index.add_texts([{"id": "fine", "text": "rocket orbit"}, {"id": "bad", "text": " "}])
    assert len(index.reload().ids) == before


def test_an_id_stored_from_a_path_needs_replace(index):
    doc = {"id": "space/001.txt", "text": "Replaced\n\nrocket orbit"}
    with pytest.raises(DocretError, match="ask to replace"):
        index.add_texts([doc])
    assert index.add_texts([doc], replace=True).updated == ["space/001.txt"]
