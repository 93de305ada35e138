import gzip
import hashlib
import json

import pytest

from docret.corpus import Document, ReadOptions, body_of, read_documents, title_of
from docret.errors import CorpusError


def test_folder_is_read_recursively_with_ids_and_labels(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "deep").mkdir()
    (tmp_path / "a" / "one.txt").write_text("Title one\nbody")
    (tmp_path / "a" / "deep" / "two.md").write_text("Title two\nbody")
    (tmp_path / "top.txt").write_text("\n\n  Top title  \nbody")
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    result = read_documents(tmp_path, ["*.txt", "*.md"])
    docs = {d.id: d for d in result.documents}
    assert sorted(docs) == ["a/deep/two.md", "a/one.txt", "top.txt"]
    # Only files exactly one folder deep take the folder as label.
    assert docs["a/one.txt"].labels == ("a",)
    assert docs["a/deep/two.md"].labels == ()
    assert docs["top.txt"].labels == ()
    assert docs["top.txt"].title == "Top title"
    assert result.skipped == []


def test_glob_selects_other_files(tmp_path):
    (tmp_path / "x.dat").write_text("hello world")
    (tmp_path / "y.txt").write_text("hello")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "z.txt").write_text("deeper")
    ids = [d.id for d in read_documents(tmp_path, ["*.dat"]).documents]
    assert ids == ["x.dat"]
    assert [d.id for d in read_documents(tmp_path, ["sub/*.txt"]).documents] == ["sub/z.txt"]
    # without --glob every file docret can read, but not a .dat it knows nothing about
    result = read_documents(tmp_path)
    assert [d.id for d in result.documents] == ["sub/z.txt", "y.txt"]
    assert [(s.source, s.reason) for s in result.skipped] == [("x.dat", "unknown file type")]


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
    assert texts == {"latin.txt": "café crème", "utf.txt": "café"}  # BOM dropped
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
    with pytest.raises(CorpusError, match="the folder has no files"):
        read_documents(tmp_path)
    with pytest.raises(CorpusError, match=r"no files match \*\.txt"):
        read_documents(tmp_path, ["*.txt"])
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(CorpusError, match="1 skipped: 1 empty"):
        read_documents(tmp_path)


def test_an_empty_jsonl_says_so(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(CorpusError) as e:
        read_documents(tmp_path / "empty.jsonl")
    assert "the file is empty" in str(e.value) and "match" not in str(e.value)


@pytest.mark.parametrize(
    "labels, found",
    [
        (5, ("5",)),  # a class number is a label
        ("solo", ("solo",)),
        (["a", 7], ("a", "7")),
        (None, ()),
    ],
)
def test_jsonl_labels_that_are_labels(tmp_path, labels, found):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "some text", "labels": labels}))
    assert read_documents(path).documents[0].labels == found


@pytest.mark.parametrize(
    "labels, found",
    [(True, "true"), ([None, {"a": 1}], "null"), ({"a": 1}, '{"a": 1}'), (1.5, "1.5")],
)
def test_jsonl_labels_that_are_not_labels_skip_the_line_with_a_reason(tmp_path, labels, found):
    path = tmp_path / "c.jsonl"
    lines = [
        {"id": "bad", "text": "some text", "labels": labels},
        {"id": "good", "text": "other text", "labels": ["ok"]},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines))
    result = read_documents(path)
    assert [(d.id, d.labels) for d in result.documents] == [("good", ("ok",))]
    (skip,) = result.skipped
    assert (skip.source, skip.reason) == ("c.jsonl:1", "bad labels")
    assert f"(found {found})" in skip.detail


def test_truncated_jsonl_gz_names_how_much_was_read_and_fails_under_strict(tmp_path):
    lines = [json.dumps({"id": i, "text": f"document number {i} " * 20}) for i in range(400)]
    whole = gzip.compress("\n".join(lines).encode())
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    result = read_documents(path)
    assert 0 < len(result.documents) < 400
    last = result.skipped[-1]
    assert last.reason == "truncated or damaged file"
    assert f"read {len(result.documents):,} documents" in last.detail
    with pytest.raises(CorpusError, match="--strict"):
        read_documents(path, options=ReadOptions(strict=True))


def test_strict_refuses_any_skip(tmp_path):
    (tmp_path / "a.txt").write_text("fine")
    (tmp_path / "b.txt").write_text("")
    assert len(read_documents(tmp_path).documents) == 1
    with pytest.raises(CorpusError, match=r"1 skipped .* --strict .*b\.txt: empty"):
        read_documents(tmp_path, options=ReadOptions(strict=True))


def test_jsonl_field_choice_and_ids_inside_a_folder(tmp_path):
    rows = [
        {"key": "k1", "subject": "S1", "body": "Body one", "extra": "More", "tag": "t"},
        {"key": "k2", "subject": "S2", "body": "Body two", "tag": ["u", "v"]},
    ]
    (tmp_path / "col").mkdir()
    path = tmp_path / "col" / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    options = ReadOptions(
        text_fields=("body", "extra"), title_field="subject", id_field="key", label_field="tag"
    )
    docs = read_documents(path, options=options).documents
    assert [(d.id, d.title, d.text, d.labels) for d in docs] == [
        ("k1", "S1", "Body one\n\nMore", ("t",)),
        ("k2", "S2", "Body two", ("u", "v")),
    ]
    # in a folder, record ids are prefixed by the file's id so two files cannot collide
    docs = read_documents(tmp_path, options=options).documents
    assert [(d.id, d.labels) for d in docs] == [
        ("col/data.jsonl#k1", ("col", "t")),
        ("col/data.jsonl#k2", ("col", "u", "v")),
    ]


def test_links_leaving_the_folder_are_not_followed_unless_asked(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret outside text")
    (outside / "more.txt").write_text("more outside text")
    root = tmp_path / "root"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "real.txt").write_text("real text")
    (root / "inside-link.txt").symlink_to(root / "docs" / "real.txt")
    (root / "passwd.txt").symlink_to(outside / "secret.txt")
    (root / "away").symlink_to(outside, target_is_directory=True)
    (root / "broken.txt").symlink_to(tmp_path / "gone.txt")
    (root / "loop").symlink_to(root, target_is_directory=True)
    result = read_documents(root)
    assert [d.id for d in result.documents] == ["docs/real.txt", "inside-link.txt"]
    assert sorted((s.source, s.reason) for s in result.skipped) == [
        ("away/", "link leads outside the folder"),
        ("broken.txt", "broken link"),
        ("passwd.txt", "link leads outside the folder"),
    ]
    followed = read_documents(root, options=ReadOptions(follow_links=True))
    assert [d.id for d in followed.documents] == [
        "away/more.txt",
        "away/secret.txt",
        "docs/real.txt",
        "inside-link.txt",
        "passwd.txt",
    ]  # the loop back to root is read once
    assert [(s.source, s.reason) for s in followed.skipped] == [("broken.txt", "broken link")]


def test_a_named_link_is_read(tmp_path):
    (tmp_path / "target.txt").write_text("linked text")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    (doc,) = read_documents(tmp_path / "link.txt").documents
    assert (doc.id, doc.text) == ("link.txt", "linked text")


def test_titles_and_bodies_of_messages():
    msg = "From: a@b.org\nSubject: Re: Orbits\nLines: 2\n\nThe body.\n"
    assert title_of(msg) == "Re: Orbits"
    assert body_of(msg) == "The body."
    assert title_of("Plain title\nrest") == "Plain title"
    assert body_of("Plain title\nrest") == "rest"
    assert body_of("Plain title\nrest", title="Plain title") == "rest"
    # a title from metadata (a PDF's, a message's subject) leaves the first line in the body
    assert body_of("First line\nrest", title="Report") == "First line\nrest"
    assert title_of("x" * 500) == "x" * 200


def test_content_hash_changes_with_text_title_and_metadata():
    a = Document(id="a", text="one")
    assert a.content_hash == Document(id="b", text="one").content_hash
    assert a.content_hash != Document(id="a", text="two").content_hash
    # a plain document hashes as its text alone, as indexes built before metadata stored it
    assert a.content_hash == hashlib.md5(b"one").hexdigest()
    assert Document(id="a", text="one", metadata={"type": "text"}).content_hash == a.content_hash
    assert Document(id="a", text="one", title="Other").content_hash != a.content_hash
    assert Document(id="a", text="one", metadata={"author": "X"}).content_hash != a.content_hash
