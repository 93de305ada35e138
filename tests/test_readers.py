"""Each reader on a fixture the test writes itself: exact text, title and metadata."""

from __future__ import annotations

import json
import mailbox
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from docret.corpus import read_documents
from docret.readers.base import ReadOptions, decode, detect_encoding
from docret.readers.registry import READERS, missing_modules, reader_for

from .conftest import write_corpus


def _installed(*modules: str) -> bool:
    from docret.readers.registry import _importable

    return all(_importable(m) for m in modules)


# The readers of the core install are tested everywhere; these only where their library is.
needs_pdf = pytest.mark.skipif(
    not _installed("pypdf", "fpdf"), reason="needs docret[formats] and fpdf2 (docret[test])"
)
needs_lxml = pytest.mark.skipif(not _installed("lxml"), reason="needs docret[formats]")


def one(path: Path, **options):
    """The single document read from ``path``, with nothing skipped."""
    result = read_documents(path, options=ReadOptions(**options))
    assert result.skipped == []
    (doc,) = result.documents
    return doc


def write_pdf(path: Path, pages: list[str], title: str = "", author: str = "") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_creation_date(__import__("datetime").datetime(2024, 3, 5, 10, 30))
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))
    return path


@needs_pdf
def test_pdf_text_title_and_metadata(tmp_path):
    path = write_pdf(
        tmp_path / "paper.pdf",
        ["Rocket engines burn fuel.\nThrust lifts the rocket.", "Orbits follow Kepler's laws."],
        title="On Rockets",
        author="Ada Lovelace",
    )
    doc = one(path)
    assert doc.id == "paper.pdf"
    assert doc.text == (
        "Rocket engines burn fuel.\nThrust lifts the rocket.\n\nOrbits follow Kepler's laws."
    )
    assert doc.title == "On Rockets"
    assert dict(doc.metadata) == {
        "type": "pdf",
        "pages": 2,
        "author": "Ada Lovelace",
        "date": "2024-03-05T10:30:00",
    }
    assert doc.path == str(path.resolve())


@needs_pdf
def test_pdf_without_title_takes_its_first_line_and_splits_into_pages(tmp_path):
    path = write_pdf(tmp_path / "notes.pdf", ["First page line\nmore", "", "Third page"])
    assert one(path).title == "First page line"
    docs = read_documents(path, options=ReadOptions(split_pages=True)).documents
    # the empty second page is no document; ids point into the file
    assert [(d.id, d.title, d.text, d.metadata["page"]) for d in docs] == [
        ("notes.pdf#p1", "First page line (page 1)", "First page line\nmore", 1),
        ("notes.pdf#p3", "Third page (page 3)", "Third page", 3),
    ]


@needs_pdf
def test_damaged_and_textless_pdfs_are_one_skip_each(tmp_path):
    good = write_pdf(tmp_path / "good.pdf", ["Some text"])
    (tmp_path / "damaged.pdf").write_bytes(good.read_bytes()[:400])
    (tmp_path / "garbage.pdf").write_bytes(b"%PDF-1.4\n\x00\x01 not really a pdf")
    write_pdf(tmp_path / "scan.pdf", ["", ""])
    skipped = []
    result = read_documents(tmp_path, on_skip=skipped.append)
    assert [d.id for d in result.documents] == ["good.pdf"]
    reasons = {s.source: s.reason for s in skipped}
    assert reasons == {
        "damaged.pdf": "damaged PDF file",
        "garbage.pdf": "damaged PDF file",
        "scan.pdf": "PDF without a text layer (a scan?)",
    }
    assert all(s.detail for s in skipped)  # each says what went wrong


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<title>  Sourdough   Basics </title>
<meta name="author" content="Jo Baker"><meta name="date" content="2023-09-01">
<style>body { color: red }</style><script>var tracking = "do not index";</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/shop">Shop</a></nav></header>
<nav class="crumbs">Recipes &gt; Bread</nav>
<main><article>
<header><h1>How to bake sourdough</h1></header>
<p>Feed the <b>starter</b> the night before.</p>
<ul><li>flour</li><li>water &amp; salt</li></ul>
<p>Bake at 250&deg;C<br>for 40 minutes.</p>
<div hidden>hidden text</div><span style="display: none">invisible</span>
<table><tr><th>Step</th><th>Time</th></tr><tr><td>Proof</td><td>4 h</td></tr></table>
</article></main>
<aside>Related: pizza</aside>
<footer>&copy; 2023 Bakery</footer>
<script>console.log("late script")</script><noscript>Enable JS</noscript>
</body></html>"""


@needs_lxml
def test_html_visible_text_only(tmp_path):
    path = tmp_path / "bread.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    doc = one(path)
    assert doc.title == "Sourdough Basics"
    assert doc.text == (
        "How to bake sourdough\n\nFeed the starter the night before.\n\nflour\n\n"
        "water & salt\n\nBake at 250°C\nfor 40 minutes.\n\nStep Time\n\nProof 4 h"
    )
    assert dict(doc.metadata) == {
        "type": "html",
        "author": "Jo Baker",
        "date": "2023-09-01",
        "language": "en",
    }


@needs_lxml
def test_xhtml_and_html_in_a_declared_encoding(tmp_path):
    xhtml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>X page</title></head><body><p>Café text</p></body></html>"
    )
    (tmp_path / "a.xhtml").write_text(xhtml, encoding="utf-8")
    latin = (
        '<html><head><meta charset="iso-8859-1"><title>Crème</title></head>'
        "<body><p>Crème brûlée</p></body></html>"
    )
    (tmp_path / "b.htm").write_bytes(latin.encode("latin-1"))
    docs = {d.id: d for d in read_documents(tmp_path).documents}
    assert (docs["a.xhtml"].title, docs["a.xhtml"].text) == ("X page", "Café text")
    assert (docs["b.htm"].title, docs["b.htm"].text) == ("Crème", "Crème brûlée")


def test_docx(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.core_properties.title = "Quarterly Report"
    d.core_properties.author = "Finance Team"
    d.add_heading("Revenue", 1)
    d.add_paragraph("Revenue grew by ten percent.")
    table = d.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Q1", (0, 1): "100", (1, 0): "Q2", (1, 1): "110"}.items():
        table.cell(r, c).text = value
    d.add_paragraph("Costs stayed flat.")
    d.save(tmp_path / "report.docx")
    doc = one(tmp_path / "report.docx")
    assert doc.text == "Revenue\nRevenue grew by ten percent.\nQ1 100\nQ2 110\n\nCosts stayed flat."
    assert doc.title == "Quarterly Report"
    assert doc.metadata["type"] == "docx" and doc.metadata["author"] == "Finance Team"


def write_odt(path: Path) -> Path:
    content = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:text>
<text:h text:outline-level="1">Garden plan</text:h>
<text:p>Plant<text:s text:c="2"/>tomatoes in May.<text:note><text:note-body><text:p>fn</text:p>
</text:note-body></text:note></text:p>
<table:table><table:table-row><table:table-cell><text:p>Bed</text:p></table:table-cell>
<table:table-cell><text:p>North</text:p></table:table-cell></table:table-row></table:table>
<text:p>Water<text:line-break/>daily.</text:p>
</office:text></office:body></office:document-content>"""
    meta = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"><office:meta>
<dc:title>Spring Garden</dc:title><meta:initial-creator>Gil</meta:initial-creator>
<meta:creation-date>2024-04-01T09:00:00</meta:creation-date></office:meta></office:document-meta>"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text"
        )  # stored first
        z.writestr("content.xml", content)
        z.writestr("meta.xml", meta)
    return path


def test_odt(tmp_path):
    doc = one(write_odt(tmp_path / "garden.odt"))
    assert doc.text == "Garden plan\nPlant  tomatoes in May.\nBed North\nWater\ndaily."
    assert doc.title == "Spring Garden"
    assert dict(doc.metadata) == {"type": "odt", "author": "Gil", "date": "2024-04-01T09:00:00"}


@needs_lxml
def test_epub_reads_chapters_in_spine_order(tmp_path):
    path = tmp_path / "book.epub"
    chapter = "<html><head><title>{0}</title></head><body><h1>{0}</h1><p>{1}</p></body></html>"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr(
            "META-INF/container.xml",
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/book.opf"/></rootfiles></container>',
        )
        z.writestr(
            "OEBPS/book.opf",
            '<package xmlns="http://www.idpf.org/2007/opf"><metadata '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Sea Stories</dc:title>'
            "<dc:creator>M. Sailor</dc:creator><dc:language>en</dc:language></metadata>"
            '<manifest><item id="c1" href="one.xhtml"/><item id="c2" href="two.xhtml"/>'
            '</manifest><spine><itemref idref="c2"/><itemref idref="c1"/></spine></package>',
        )
        z.writestr("OEBPS/one.xhtml", chapter.format("One", "The ship sailed."))
        z.writestr("OEBPS/two.xhtml", chapter.format("Two", "Prologue at the harbor."))
    doc = one(path)
    assert doc.text == "Two\n\nPrologue at the harbor.\n\nOne\n\nThe ship sailed."
    assert doc.title == "Sea Stories"
    assert dict(doc.metadata) == {"type": "epub", "author": "M. Sailor", "language": "en"}


def test_rtf(tmp_path):
    pytest.importorskip("striprtf")
    (tmp_path / "memo.rtf").write_text(
        r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Memo about {\b caf\'e9} hours.\par"
        r" Open at nine.\par}"
    )
    doc = one(tmp_path / "memo.rtf")
    assert doc.text == "Memo about café hours.\nOpen at nine."
    assert doc.title == "Memo about café hours."
    assert doc.metadata["type"] == "rtf"


def html_only_message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ann Example <ann@example.org>"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Launch window moved"
    msg["Date"] = "Tue, 05 Mar 2024 10:30:00 +0100"
    msg["Message-ID"] = "<m1@example.org>"
    msg.set_content(
        "<html><body><p>The launch is now on <b>Friday</b>.</p><script>x()</script></body></html>",
        subtype="html",
    )
    return msg


@needs_lxml
def test_eml_with_html_only_body(tmp_path):
    (tmp_path / "launch.eml").write_bytes(bytes(html_only_message()))
    doc = one(tmp_path / "launch.eml")
    assert doc.text == "The launch is now on Friday."
    assert doc.title == "Launch window moved"
    assert dict(doc.metadata) == {
        "type": "email",
        "from": "Ann Example <ann@example.org>",
        "to": "bob@example.org",
        "date": "2024-03-05T10:30:00+01:00",
        "message_id": "<m1@example.org>",
    }


def test_encoded_subjects_unknown_charsets_and_attachments(tmp_path):
    raw = (
        b"From: =?utf-8?q?Jos=C3=A9?= <jose@example.org>\n"
        b"Subject: =?iso-8859-1?q?Caf=E9_menu?=\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain; charset=x-made-up\n\nCaf\xe9 au lait today\n"
        b"--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\n"
        b"attached, not the body\n--b--\n"
    )
    (tmp_path / "m.eml").write_bytes(raw)
    doc = one(tmp_path / "m.eml")
    assert (doc.title, doc.text) == ("Café menu", "Café au lait today")
    assert doc.metadata["from"] == "José <jose@example.org>"


def test_mbox_one_document_per_message(tmp_path):
    box = mailbox.mbox(tmp_path / "inbox.mbox")
    for i, subject in enumerate(["Oven repair", "Garden party", "Flight delayed"], start=1):
        msg = EmailMessage()
        msg["From"] = f"sender{i}@example.org"
        msg["Subject"] = subject
        msg["Date"] = f"Wed, 0{i} May 2024 08:00:00 +0000"
        if i == 2:  # plain and HTML alternatives: the plain one is the text
            msg.set_content(f"Plain body {i}.\n")
            msg.add_alternative("<p>HTML body</p>", subtype="html")
        else:
            msg.set_content(f"Body of message {i}.\nFrom the sender.\n")
        box.add(msg)
    box.close()
    docs = read_documents(tmp_path / "inbox.mbox").documents
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("inbox.mbox#1", "Oven repair", "Body of message 1.\nFrom the sender."),
        ("inbox.mbox#2", "Garden party", "Plain body 2."),
        ("inbox.mbox#3", "Flight delayed", "Body of message 3.\nFrom the sender."),
    ]
    assert docs[2].metadata["from"] == "sender3@example.org"
    assert docs[2].metadata["date"] == "2024-05-03T08:00:00+00:00"


def test_csv_with_chosen_columns(tmp_path):
    (tmp_path / "tickets.csv").write_text(
        "key,subject,body,notes,tag\n"
        'T1,Printer jam,"Paper stuck, tray 2",Try again,hardware\n'
        "T2,Login fails,Password reset loops,,accounts\n"
        "T3,Empty,,,misc\n",
        encoding="utf-8",
    )
    result = read_documents(
        tmp_path / "tickets.csv",
        options=ReadOptions(
            text_fields=("body", "notes"), title_field="subject", id_field="key", label_field="tag"
        ),
    )
    assert [(d.id, d.title, d.text, d.labels) for d in result.documents] == [
        ("T1", "Printer jam", "Paper stuck, tray 2\n\nTry again", ("hardware",)),
        ("T2", "Login fails", "Password reset loops", ("accounts",)),
    ]
    assert result.documents[0].metadata == {"type": "csv"}
    assert [(s.source, s.reason) for s in result.skipped] == [("tickets.csv:3", "no text")]


def test_csv_and_tsv_defaults_and_a_missing_text_column(tmp_path):
    (tmp_path / "notes.tsv").write_text("title\ttext\nFirst\tAlpha beta\nSecond\tGamma\n")
    (tmp_path / "other.csv").write_text("a;b\n1;2\n")
    result = read_documents(tmp_path)
    # in a folder, rows are numbered after the file
    assert [(d.id, d.title, d.text) for d in result.documents] == [
        ("notes.tsv#1", "First", "Alpha beta"),
        ("notes.tsv#2", "Second", "Gamma"),
    ]
    (skip,) = result.skipped
    assert (skip.source, skip.reason) == ("other.csv", "no text column")
    assert "'a', 'b'" in skip.detail and "--text-field" in skip.detail


def test_utf16_with_bom_and_other_encodings(tmp_path):
    (tmp_path / "le.txt").write_bytes("Ünïcode title\nbody text".encode("utf-16"))
    (tmp_path / "be.txt").write_bytes(b"\xfe\xff" + "Big endian".encode("utf-16-be"))
    (tmp_path / "bom8.txt").write_bytes("\ufeffcafé".encode())
    (tmp_path / "cp1251.txt").write_bytes(
        "Привет мир, как дела у тебя сегодня? Всё хорошо, спасибо.".encode("cp1251")
    )
    (tmp_path / "latin.txt").write_bytes("café crème".encode("latin-1"))
    (tmp_path / "nobom16.txt").write_bytes("hello world, no bom".encode("utf-16-le"))
    (tmp_path / "nobom16be.txt").write_bytes("hello world, né sans bom".encode("utf-16-be"))
    # NUL bytes at both parities (or mostly unprintable units) are still binary
    (tmp_path / "zeros.txt").write_bytes(bytes(64) + b"abc")
    (tmp_path / "packed.txt").write_bytes(b"".join(i.to_bytes(2, "little") for i in range(64)))
    result = read_documents(tmp_path)
    texts = {d.id: d.text for d in result.documents}
    assert texts == {
        "le.txt": "Ünïcode title\nbody text",
        "be.txt": "Big endian",
        "bom8.txt": "café",
        "cp1251.txt": "Привет мир, как дела у тебя сегодня? Всё хорошо, спасибо.",
        "latin.txt": "café crème",
        "nobom16.txt": "hello world, no bom",
        "nobom16be.txt": "hello world, né sans bom",
    }
    assert [(s.source, s.reason) for s in result.skipped] == [
        ("packed.txt", "binary file"),
        ("zeros.txt", "binary file"),
    ]


def test_utf16_without_a_bom_is_text():
    from docret.readers.base import bomless_utf16, looks_binary

    text = "hello world " * 50 + "and an é, a ü and a €"
    for codec in ("utf-16-le", "utf-16-be"):
        data = text.encode(codec)
        assert bomless_utf16(data) == codec and detect_encoding(data) == codec
        assert not looks_binary(data) and decode(data) == text
        assert bomless_utf16(data[:-1]) == codec  # a sample cut inside a code unit
    assert bomless_utf16(b"plain ascii") is None
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")


def test_decode_and_detect_encoding():
    assert decode("é".encode()) == "é"
    assert decode(b"caf\xe9 cr\xe8me") == "café crème"
    assert detect_encoding("x".encode("utf-16")) == "utf-16"
    # a sample cut inside a multi-byte character is still UTF-8
    assert detect_encoding("aé".encode()[:-1]) == "utf-8"


def test_markdown_front_matter(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "trip.md").write_text(
        "---\ntitle: Trip to Lisbon\ntags: [travel, portugal]\nauthor: [Ana, Rui]\n"
        "date: 2024-06-01\n---\n# Day one\nTrams and pastries.\n"
    )
    (tmp_path / "rule.md").write_text("---\nJust a rule, not front matter.\n")
    docs = {d.id: d for d in read_documents(tmp_path).documents}
    trip = docs["notes/trip.md"]
    assert trip.text == "# Day one\nTrams and pastries.\n"
    assert trip.title == "Trip to Lisbon"
    assert trip.labels == ("notes", "travel", "portugal")  # folder label first
    assert dict(trip.metadata) == {"type": "markdown", "author": "Ana, Rui", "date": "2024-06-01"}
    assert docs["rule.md"].text == "---\nJust a rule, not front matter.\n"


def test_every_reader_is_registered_once_by_extension():
    extensions = [e for r in READERS for e in r.extensions]
    assert len(extensions) == len(set(extensions))
    assert all(e.startswith(".") and e == e.lower() for e in extensions)


@needs_pdf
@needs_lxml
def test_files_are_recognised_by_content_without_an_extension(tmp_path):
    write_pdf(tmp_path / "paper", ["Sniffed PDF text"])
    (tmp_path / "page").write_text("<!doctype html><title>T</title><p>Sniffed page</p>")
    (tmp_path / "Inbox").write_bytes(
        b"From a@b.org Mon Jan  1 00:00:00 2024\nFrom: a@b.org\nSubject: Hi\n\nSniffed mail\n"
    )
    (tmp_path / "README").write_text("Plain readme\n")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    (tmp_path / "script.py").write_text("print('hi')\n")
    result = read_documents(tmp_path)
    assert {d.id: (d.metadata["type"], d.text) for d in result.documents} == {
        "paper": ("pdf", "Sniffed PDF text"),
        "page": ("html", "Sniffed page"),
        "Inbox#1": ("email", "Sniffed mail"),
        "README": ("text", "Plain readme\n"),
    }
    assert sorted((s.source, s.reason) for s in result.skipped) == [
        ("photo.jpg", "binary file"),
        ("script.py", "unknown file type"),
    ]
    # a --glob that names a file type docret does not know reads it as text
    (doc,) = read_documents(tmp_path, ["*.py"]).documents
    assert (doc.id, doc.text) == ("script.py", "print('hi')\n")


def test_missing_library_skips_its_files_with_the_extra_to_install(tmp_path, monkeypatch):
    from docret.readers import registry

    pdf_reader = registry.by_name("pdf")
    monkeypatch.setattr(
        registry, "missing_modules", lambda r: ("pypdf",) if r is pdf_reader else ()
    )
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4\n% never opened: its library is missing\n")
    (tmp_path / "b.txt").write_text("plain")
    result = read_documents(tmp_path)
    assert [d.id for d in result.documents] == ["b.txt"]
    (skip,) = result.skipped
    assert (skip.source, skip.reason) == ("a.pdf", "PDF support not installed")
    assert skip.detail == "pip install 'docret[formats]'"
    assert missing_modules(pdf_reader) == (() if _installed("pypdf") else ("pypdf",))


def test_a_reader_that_raises_loses_only_the_rest_of_its_file(tmp_path, monkeypatch):
    from docret.readers import registry
    from docret.readers.base import make_document

    def flaky(source, options):
        yield make_document(source, "first record", "text", doc_id=source.sub_id(1))
        raise RuntimeError("boom at record 2")

    broken = registry.by_name("text").__class__(name="text", extensions=(".txt",), read=flaky)
    monkeypatch.setitem(registry._BY_EXTENSION, ".txt", broken)
    (tmp_path / "x.txt").write_text("whatever")
    result = read_documents(tmp_path)
    assert [d.id for d in result.documents] == ["x.txt#1"]
    assert [(s.source, s.reason, s.detail) for s in result.skipped] == [
        ("x.txt", "damaged text file", "boom at record 2")
    ]


def test_reader_for_prefers_the_extension(tmp_path):
    p = tmp_path / "x.md"
    assert reader_for(p, b"%PDF-1.4").name == "markdown"
    assert reader_for(tmp_path / "x.unknown", b"%PDF-1.4").name == "pdf"
    assert reader_for(tmp_path / "x.unknown", b"plain") is None
    assert reader_for(tmp_path / "x.unknown", b"plain", as_text=True).name == "text"


# -- through the command line -----------------------------------------------------------------
TINY = ["--hidden", "32", "--code-size", "8", "--vocab-size", "400", "--epochs", "2",
        "--batch-size", "32", "--device", "cpu", "--no-pretrain"]  # fmt: skip


def cli(*args):
    from click.testing import CliRunner

    from docret.cli import cli as command

    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder of every type (240 documents) indexed with a tiny model, and one PDF about
    airships that no other document mentions."""
    if not _installed("pypdf", "fpdf", "lxml", "docx", "striprtf"):
        pytest.skip("needs docret[formats] and fpdf2")
    from tests.format_helpers import write_mixed

    root = tmp_path_factory.mktemp("mixed") / "docs"
    counts = write_mixed(root, per_type=20, seed=1)
    write_pdf(
        root / "pdf" / "airships.pdf",
        ["Zeppelin airships float on hydrogen.\nThe dirigible gondola hangs below the envelope."]
        * 2,
        title="Airships",
        author="F. Zeppelin",
    )
    db = root.parent / "mixed.db"
    # --min-df 1: the airship words occur in one document only
    result = cli("-d", db, "index", root, *TINY, "--min-df", "1", "--json")
    assert result.exit_code == 0, result.output
    return root, db, counts, json.loads(result.stdout)


def test_a_mixed_folder_indexes_every_type(mixed):
    root, db, counts, report = mixed
    assert report["skipped"] == 0
    assert report["documents"] == sum(counts.values()) + 1
    info = json.loads(cli("-d", db, "info", "--json").stdout)
    assert info["types"] == {
        "csv": 20, "docx": 20, "email": 40, "epub": 20, "html": 20, "jsonl": 20,
        "markdown": 20, "odt": 20, "pdf": 21, "rtf": 20, "text": 20,
    }  # fmt: skip
    table = cli("-d", db, "info").stdout
    assert "pdf (21)" in table and "email (40)" in table


def test_a_query_finds_the_pdf_with_its_metadata(mixed):
    root, db, _, _ = mixed
    result = cli("-d", db, "query", "zeppelin dirigible hydrogen", "--hybrid", "--json")
    best = json.loads(result.stdout)[0]
    assert best["id"] == "pdf/airships.pdf"
    assert best["title"] == "Airships"
    # the title came from the PDF's metadata, so the snippet starts at the first line
    assert best["snippet"].startswith("Zeppelin airships float on hydrogen. The dirigible")
    assert best["metadata"] == {
        "path": str((root / "pdf" / "airships.pdf").resolve()),
        "type": "pdf",
        "pages": 2,
        "author": "F. Zeppelin",
        "date": "2024-03-05T10:30:00",
    }
    # a message of the mailbox carries its sender and date
    hits = json.loads(cli("-d", db, "query", "orbit rocket", "-k", "240", "--json").stdout)
    mail = next(h for h in hits if h["id"].startswith("mbox/archive.mbox#"))
    assert mail["metadata"]["type"] == "email" and "@example.org" in mail["metadata"]["from"]


def test_add_and_incremental_index_work_for_every_format(mixed, tmp_path):
    root, db, _, _ = mixed
    copy = tmp_path / "db.db"
    copy.write_bytes(db.read_bytes())
    # nothing changed: nothing re-encoded
    again = json.loads(cli("-d", copy, "index", root, "--json").stdout)
    assert (again["added"], again["updated"], again["removed"]) == ([], [], [])
    assert again["unchanged"] == 241
    # a changed PDF, a new message in the mailbox, a removed HTML page (put back afterwards:
    # the folder is shared with the other tests of this module)
    pdf_file, mbox_file = root / "pdf" / "airships.pdf", root / "mbox" / "archive.mbox"
    saved = {p: p.read_bytes() for p in (pdf_file, mbox_file)}
    write_pdf(pdf_file, ["Airships are slow."], title="Airships")
    box = mailbox.mbox(mbox_file)
    box.add(html_only_message())
    box.close()
    page = sorted((root / "html").glob("*.html"))[0]
    page.rename(tmp_path / page.name)
    try:
        report = json.loads(cli("-d", copy, "index", root, "--json").stdout)
    finally:
        (tmp_path / page.name).rename(page)
        for p, data in saved.items():
            p.write_bytes(data)
    assert report["added"] == ["mbox/archive.mbox#21"]
    assert report["updated"] == ["pdf/airships.pdf"]
    assert report["removed"] == [f"html/{page.name}"]
    # add: a single file of a new format
    (tmp_path / "note.rtf").write_text(r"{\rtf1\ansi Orbit notes\par rocket launch}")
    added = json.loads(cli("-d", copy, "add", tmp_path / "note.rtf", "--json").stdout)
    assert added["added"] == ["note.rtf"]


def test_bad_jsonl_labels_are_a_clean_error_in_index_and_add(built_db, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "orbit rocket launch", "labels": True}) + "\n")
    result = cli("-d", tmp_path / "new.db", "index", bad, *TINY)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Skipped bad.jsonl:1: bad labels (labels must be a string" in result.stderr
    assert result.output.strip().splitlines()[-1].startswith("Error: No readable documents")
    db = tmp_path / "copy.db"
    db.write_bytes(built_db.read_bytes())
    mixed_lines = [
        {"id": "good", "text": "orbit rocket launch", "labels": 5},
        {"id": "nulls", "text": "orbit rocket", "labels": [None, {"a": 1}]},
    ]
    bad.write_text("\n".join(json.dumps(x) for x in mixed_lines))
    result = cli("-d", db, "add", bad, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["added"] == ["good"]
    assert "Skipped bad.jsonl:2: bad labels" in result.stderr
    strict = cli("-d", db, "add", bad, "--strict")
    assert strict.exit_code == 1 and "--strict" in strict.output
    from docret.store import Store

    store = Store.open(db)
    assert store.documents(["good"])["good"].labels == ["5"]
    assert "nulls" not in store.document_hashes()
    store.close()


def test_empty_jsonl_and_truncated_gzip_through_the_cli(tmp_path):
    import gzip

    (tmp_path / "empty.jsonl").write_text("")
    result = cli("-d", tmp_path / "x.db", "index", tmp_path / "empty.jsonl", *TINY)
    assert result.exit_code == 1
    assert "the file is empty" in result.output and "*.txt" not in result.output
    lines = [json.dumps({"id": i, "text": f"orbit rocket launch {i} " * 30}) for i in range(300)]
    data = gzip.compress("\n".join(lines).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    strict = cli("-d", tmp_path / "y.db", "index", tmp_path / "cut.jsonl.gz", *TINY, "--strict")
    assert strict.exit_code == 1 and "truncated or damaged file" in strict.output
    assert (
        not (tmp_path / "y.db").exists()
        or "documents" not in cli("-d", tmp_path / "y.db", "info").output
    )


def test_follow_links_option(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("orbit rocket launch secret")
    root = write_corpus(tmp_path / "root", per_topic=3)
    (root / "link.txt").symlink_to(outside / "secret.txt")
    result = cli("-d", tmp_path / "a.db", "index", root, *TINY, "--json")
    assert json.loads(result.stdout)["documents"] == 12
    assert "Skipped link.txt: link leads outside the folder (--follow-links reads it)" in (
        result.stderr
    )
    result = cli("-d", tmp_path / "b.db", "index", root, *TINY, "--follow-links", "--json")
    assert json.loads(result.stdout)["documents"] == 13


def test_an_index_from_before_metadata_is_upgraded_and_answers(built_db, tmp_path):
    import sqlite3

    db = tmp_path / "old.db"
    db.write_bytes(built_db.read_bytes())
    with sqlite3.connect(db) as conn:  # make it a schema-4 index, as docret wrote it before
        conn.execute("alter table documents drop column metadata")
        conn.execute("delete from _sqlite_migrations where name = 'm005_document_metadata'")
        conn.execute("update meta set value = '4' where key = 'schema_version'")
    hits = json.loads(cli("-d", db, "query", "orbit rocket", "-k", "2", "--json").stdout)
    assert [set(h["metadata"]) for h in hits] == [{"path"}, {"path"}]
    info = json.loads(cli("-d", db, "info", "--json").stdout)
    assert info["types"] == {"unknown": 80}


@needs_pdf
def test_add_with_reading_options(built_db, tmp_path):
    db = tmp_path / "copy.db"
    db.write_bytes(built_db.read_bytes())
    write_pdf(tmp_path / "paper.pdf", ["Rocket launch page", "Orbit comet page"], title="Paper")
    pages = json.loads(
        cli("-d", db, "add", tmp_path / "paper.pdf", "--split", "pages", "--json").stdout
    )
    assert pages["added"] == ["paper.pdf#p1", "paper.pdf#p2"]
    (tmp_path / "t.csv").write_text("key,body,extra\nk1,orbit rocket,launch today\n")
    options = ["--text-field", "body", "--text-field", "extra", "--id-field", "key"]
    added = json.loads(cli("-d", db, "add", tmp_path / "t.csv", *options, "--json").stdout)
    assert added["added"] == ["k1"]
    from docret.index import Index

    with Index.open(db) as index:
        assert index.document("k1").text == "orbit rocket\n\nlaunch today"
        assert index.document("paper.pdf#p2").title == "Paper (page 2)"
        assert index.document("paper.pdf#p2").metadata["page"] == 2


def test_the_missing_extra_hint_is_printed_with_its_brackets(tmp_path, monkeypatch, built_db):
    # rich reads "[formats]" as markup and drops it unless the message is escaped
    import shutil

    from click.testing import CliRunner

    from docret.cli import cli
    from docret.readers import registry

    pdf_reader = registry.by_name("pdf")
    monkeypatch.setattr(
        registry, "missing_modules", lambda r: ("pypdf",) if r is pdf_reader else ()
    )
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(b"%PDF-1.4\n% never opened: its library is missing\n")
    (folder / "b.txt").write_text("engine wing pilot runway")
    db = tmp_path / "copy.db"
    shutil.copy(built_db, db)
    result = CliRunner().invoke(cli, ["-d", str(db), "add", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "a.pdf: PDF support not installed (pip install 'docret[formats]')" in result.output


def test_a_deeply_nested_json_line_skips_only_that_line(tmp_path):
    path = tmp_path / "records.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    nested_text = '{"id": "n", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [
        json.dumps({"id": "a", "text": "first record"}),
        deep,
        nested_text,
        json.dumps({"id": "b", "text": "second record"}),
        json.dumps({"id": "c", "text": "third record"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = read_documents(path)
    assert [d.id for d in result.documents] == ["a", "b", "c"]
    assert [(s.source, s.reason) for s in result.skipped] == [
        ("records.jsonl:2", "JSON nested too deeply"),
        ("records.jsonl:3", "JSON nested too deeply"),
    ]
