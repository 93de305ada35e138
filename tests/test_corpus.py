import gzip
import json

import pytest

from docret.corpus import Document, body_of, decode, read_documents, title_of
from docret.errors import CorpusError


def test_folder_is_read_recursively_with_ids_and_labels(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "deep").mkdir()
    (tmp_path / "a" / "one.txt").write_text("Title one\nbody")
    (tmp_path / "a" / "deep" / "two.md").write_text("Title two\nbody")
    (tmp_path / "top.txt").write_text("\n\n  Top title  \nbody")
    (tmp_path / "ignored.csv").write_text("not,matched")
    result = read_documents(tmp_path)
    docs = {d.id: d for d in result.documents}
    assert sorted(docs) == ["a/deep/two.md", "a/one.txt", "top.txt"]
    # Only files exactly one folder deep take the folder as label.
    assert docs["a/one.txt"].labels == ("a",)
    assert docs["a/deep/two.md"].labels == ()
    assert docs["top.txt"].labels == ()
    assert docs["top.txt"].title == "Top title"
    assert result.skipped == []


def test_glob_selects_other_files(tmp_path):
    (tmp_path / "x.csv").write_text("hello world")
    (tmp_path / "y.txt").write_text("hello")
    ids = [d.id for d in read_documents(tmp_path, ["*.csv"]).documents]
    assert ids == ["x.csv"]


def test_hidden_files_and_folders_are_left_out(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.txt").write_text("secret")
    (tmp_path / ".hidden.txt").write_text("secret")
    (tmp_path / "seen.txt").write_text("visible")
    assert [d.id for d in read_documents(tmp_path).documents] == ["seen.txt"]


def test_binary_empty_and_latin1_files(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "empty.txt").write_text("   \n\n")
    (tmp_path / "latin.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "utf.txt").write_bytes("\ufeffcafé".encode())
    skipped = []
    result = read_documents(tmp_path, on_skip=skipped.append)
    texts = {d.id: d.text for d in result.documents}
    assert texts == {"latin.txt": "café crème", "utf.txt": "café"}
    assert sorted((s.source, s.reason) for s in skipped) == [
        ("bin.txt", "binary file"),
        ("empty.txt", "empty"),
    ]
    assert result.skipped == skipped


def test_single_file(tmp_path):
    f = tmp_path / "note.txt"
    f.write_text("Only note\ntext")
    (doc,) = read_documents(f).documents
    assert (doc.id, doc.title) == ("note.txt", "Only note")


@pytest.mark.parametrize("gz", [False, True])
def test_jsonl(tmp_path, gz):
    lines = [
        json.dumps({"id": 1, "text": "First doc\nabout things", "labels": ["a", "b"]}),
        "this is not json",
        json.dumps({"id": "x", "text": "   "}),
        json.dumps({"id": "y", "text": "Labelled", "labels": "solo", "split": "test"}),
        json.dumps({"text": "no id"}),
        json.dumps({"id": 1, "text": "duplicate of the first"}),
        "",
    ]
    data = "\n".join(lines).encode()
    path = tmp_path / ("c.jsonl.gz" if gz else "c.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    result = read_documents(path)
    assert [(d.id, d.labels, d.split) for d in result.documents] == [
        ("1", ("a", "b"), None),
        ("y", ("solo",), "test"),
    ]
    assert result.documents[0].title == "First doc"
    reasons = sorted(s.reason for s in result.skipped)
    assert reasons == ["duplicate id", "no id", "no text", "not valid JSON"]


def test_missing_path_and_nothing_readable(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_documents(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no files match"):
        read_documents(tmp_path)
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(CorpusError, match="1 skipped"):
        read_documents(tmp_path)


def test_titles_and_bodies_of_messages():
    msg = "From: a@b.org\nSubject: Re: Orbits\nLines: 2\n\nThe body.\n"
    assert title_of(msg) == "Re: Orbits"
    assert body_of(msg) == "The body."
    assert title_of("Plain title\nrest") == "Plain title"
    assert body_of("Plain title\nrest") == "rest"
    assert title_of("x" * 500) == "x" * 200


def test_decode_falls_back_to_latin1():
    assert decode("é".encode()) == "é"
    assert decode(b"\xe9") == "é"


def test_content_hash_changes_with_text():
    a = Document(id="a", text="one")
    assert a.content_hash == Document(id="b", text="one").content_hash
    assert a.content_hash != Document(id="a", text="two").content_hash
