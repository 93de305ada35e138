"""Files of every type docret reads, written by the tests themselves: realistic documents
(topic words from six subjects in sentences, titles, authors, dates; PDFs of several pages, an
mbox of several messages, CSV and JSON-lines records). :func:`write_mixed` writes a folder of
them for tests/test_readers.py; ``python -m bench.formats`` times reading the same files at
a larger scale.
"""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import random
import zipfile
from email.message import EmailMessage
from pathlib import Path

# Six subjects, each with its own words, so that a model can tell them apart.
TOPICS = {
    "spaceflight": "orbit rocket launch satellite astronaut booster payload capsule docking "
    "reentry thruster module lunar crew mission trajectory apogee",
    "baking": "flour dough oven yeast knead crust loaf sourdough butter sugar pastry "
    "proof crumb bake whisk batter",
    "finance": "stock bond dividend portfolio market equity interest inflation yield "
    "broker hedge asset liquidity earnings ledger",
    "medicine": "patient symptom diagnosis therapy clinic nurse dose fever vaccine "
    "surgery infection chronic cardiac prescription allergy",
    "gardening": "soil compost seedling prune mulch perennial bulb greenhouse weed "
    "harvest tomato hedge irrigation fertilizer blossom",
    "aviation": "runway pilot cockpit altitude turbulence airliner takeoff landing "
    "hangar propeller fuselage glider navigation airspeed",
}
FILLER = "the a of and to in we our this that with for on was were is it at by from as"
AUTHORS = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"]
TYPES = ("txt", "md", "pdf", "html", "docx", "odt", "epub", "rtf", "eml", "mbox", "csv", "jsonl")


def sentence(rng: random.Random, topic: str, words: int = 12) -> str:
    """A sentence of ``words`` words, most of them ``topic``'s, the rest filler."""
    vocab, filler = TOPICS[topic].split(), FILLER.split()
    out = [rng.choice(vocab) if rng.random() < 0.6 else rng.choice(filler) for _ in range(words)]
    return " ".join(out).capitalize() + "."


def paragraph(rng: random.Random, topic: str, sentences: int = 5) -> str:
    """``sentences`` sentences on ``topic`` of 8 to 16 words each."""
    return " ".join(sentence(rng, topic, rng.randint(8, 16)) for _ in range(sentences))


def write_pdf_pages(path: Path, title: str, author: str, pages: list[str]) -> None:
    """A PDF at ``path`` with one page per text of ``pages``, its title and author set."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creation_date(dt.datetime(2024, 1, 1))
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))


def _html(title: str, author: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>{title}</title>'
        f'<meta name="author" content="{author}"><style>p {{margin: 0}}</style>'
        "<script>window.analytics = {};</script></head><body>"
        '<header><nav><a href="/">Home</a> <a href="/blog">Blog</a></nav></header>'
        f"<main><article><h1>{title}</h1>\n{body}</article></main>"
        "<footer>Site footer, all rights reserved</footer></body></html>"
    )


def _docx(path: Path, title: str, author: str, paragraphs: list[str]) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.author = author
    d.add_heading(title, 1)
    for p in paragraphs:
        d.add_paragraph(p)
    d.save(str(path))


def _odt(path: Path, title: str, author: str, paragraphs: list[str]) -> None:
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr(
            "content.xml",
            f"<office:document-content {ns}><office:body><office:text>"
            f'<text:h text:outline-level="1">{title}</text:h>{body}'
            "</office:text></office:body></office:document-content>",
        )
        z.writestr(
            "meta.xml",
            '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>'
            f"<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator>"
            "</office:meta></office:document-meta>",
        )


def _epub(path: Path, title: str, author: str, chapters: list[list[str]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr(
            "META-INF/container.xml",
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/book.opf"/></rootfiles></container>',
        )
        items = "".join(f'<item id="c{i}" href="c{i}.xhtml"/>' for i in range(len(chapters)))
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        z.writestr(
            "OEBPS/book.opf",
            '<package xmlns="http://www.idpf.org/2007/opf"><metadata '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
            f"<dc:creator>{author}</dc:creator></metadata><manifest>{items}</manifest>"
            f"<spine>{spine}</spine></package>",
        )
        for i, paragraphs in enumerate(chapters):
            z.writestr(f"OEBPS/c{i}.xhtml", _html(f"Chapter {i + 1}", author, paragraphs))


def _rtf(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"{p}\\par\n" for p in paragraphs)
    return f"{{\\rtf1\\ansi{{\\info{{\\title {title}}}}}\\pard {{\\b {title}}}\\par\n{body}}}"


def _message(rng: random.Random, topic: str, subject: str, i: int, html: bool) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{rng.choice(AUTHORS)} <user{i}@example.org>"
    msg["To"] = "team@example.org"
    msg["Subject"] = subject
    msg["Date"] = f"Mon, 0{1 + i % 9} Apr 2024 09:{i % 60:02d}:00 +0000"
    text = "\n\n".join(paragraph(rng, topic, 3) for _ in range(2))
    if html:
        msg.set_content(_html(subject, "", text.split("\n\n")), subtype="html")
    else:
        msg.set_content(text + "\n")
    return msg


def write_mixed(root: Path, per_type: int = 20, seed: int = 0, pages: int = 2) -> dict[str, int]:
    """Write ``per_type`` documents of every type in :data:`TYPES` under ``root/<type>/``,
    topics in turn; return how many documents each type holds (an mbox holds several)."""
    rng = random.Random(seed)
    topics = list(TOPICS)
    counts: dict[str, int] = {}
    for kind in TYPES:
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        rows, messages = [], []
        for i in range(per_type):
            topic = topics[i % len(topics)]
            title = f"{topic.title()} report {i}"
            author = AUTHORS[i % len(AUTHORS)]
            paras = [paragraph(rng, topic) for _ in range(3)]
            name = f"{topic}-{i:03d}.{kind}"
            if kind == "txt":
                (folder / name).write_text(title + "\n\n" + "\n\n".join(paras), encoding="utf-8")
            elif kind == "md":
                front = f"---\ntitle: {title}\nauthor: {author}\ntags: [{topic}]\n---\n"
                (folder / name).write_text(front + "\n\n".join(paras) + "\n", encoding="utf-8")
            elif kind == "pdf":
                write_pdf_pages(
                    folder / name, title, author, [paragraph(rng, topic) for _ in range(pages)]
                )
            elif kind == "html":
                (folder / name).write_text(_html(title, author, paras), encoding="utf-8")
            elif kind == "docx":
                _docx(folder / name, title, author, paras)
            elif kind == "odt":
                _odt(folder / name, title, author, paras)
            elif kind == "epub":
                _epub(folder / name, title, author, [paras[:2], paras[2:]])
            elif kind == "rtf":
                (folder / name).write_text(_rtf(title, paras), encoding="ascii")
            elif kind == "eml":
                msg = _message(rng, topic, title, i, html=i % 2 == 1)
                (folder / name).write_bytes(bytes(msg))
            elif kind == "mbox":
                messages.append(_message(rng, topic, title, i, html=False))
            elif kind == "csv":
                rows.append((f"r{i}", title, " ".join(paras), topic))
            elif kind == "jsonl":
                rows.append({"id": f"j{i}", "title": title, "text": " ".join(paras)})
        if kind == "mbox":
            box = mailbox.mbox(folder / "archive.mbox")
            for msg in messages:
                box.add(msg)
            box.close()
        elif kind == "csv":
            import csv

            with (folder / "records.csv").open("w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows([("id", "title", "text", "label"), *rows])
        elif kind == "jsonl":
            (folder / "records.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        counts[kind] = per_type
    return counts
