"""Reading speed of every file format docret reads, on files this script writes itself.

Usage (from a checkout, with docret[formats] and fpdf2 installed):

    python bench/formats.py                 # a few minutes on 2 cores
    python bench/formats.py --scale 0.2 --mbox-mb 5 --pdf-pages 50   # a quick look

For each format it writes a folder of realistic files (topic words from four subjects in
sentences, titles, authors, dates; PDFs of several pages; an mbox of many messages; a CSV of
many rows) and times :func:`docret.corpus.read_documents` over it, best of ``--repeat`` runs:
MB of input per second, documents per second and, for PDFs, pages per second. Plain UTF-8 text
is the baseline each format is compared with (the "x text" column: how many times slower per MB).
Then a large mailbox and a long PDF are read as a stream, with the peak memory Python allocated
while reading them (tracemalloc; the documents are dropped as they come).

:func:`write_mixed` also serves ``tests/test_readers.py``: a mixed folder of every type.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import mailbox
import platform
import random
import sys
import tempfile
import time
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
    vocab, filler = TOPICS[topic].split(), FILLER.split()
    out = [rng.choice(vocab) if rng.random() < 0.6 else rng.choice(filler) for _ in range(words)]
    return " ".join(out).capitalize() + "."


def paragraph(rng: random.Random, topic: str, sentences: int = 5) -> str:
    return " ".join(sentence(rng, topic, rng.randint(8, 16)) for _ in range(sentences))


def _pdf(path: Path, title: str, author: str, pages: list[str]) -> None:
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
                _pdf(folder / name, title, author, [paragraph(rng, topic) for _ in range(pages)])
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


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(folder: Path, repeat: int) -> tuple[float, int, int]:
    """(best seconds, documents, pages) of reading ``folder``."""
    from docret.corpus import read_documents

    best, docs = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        docs = read_documents(folder).documents
        best = min(best, time.perf_counter() - start)
    pages = sum(int(d.metadata.get("pages", 0)) for d in docs)
    return best, len(docs), pages


def streaming(root: Path, mbox_mb: int, pdf_pages: int) -> list[tuple[str, float, float, float]]:
    """Large files: (what, input MB, seconds, peak MB allocated by Python while reading).

    The documents are iterated and dropped (``iter_documents``), so the peak shows what the
    reader itself holds: a reader that loaded the whole file would peak at its size or more.
    Time and peak come from two passes, the second traced by tracemalloc.
    """
    import tracemalloc

    from docret.corpus import iter_documents

    rng = random.Random(1)
    box_path = root / "big.mbox"
    # Written as text rather than through mailbox: building 25,000 message objects would take
    # longer than reading them.
    i = 0
    with box_path.open("w", encoding="utf-8") as f:
        while f.tell() < mbox_mb * 1e6:
            topic = list(TOPICS)[i % len(TOPICS)]
            body = "\n\n".join(paragraph(rng, topic, 3) for _ in range(2))
            f.write(
                f"From user{i}@example.org Mon Apr  1 09:00:00 2024\n"
                f"From: {AUTHORS[i % len(AUTHORS)]} <user{i}@example.org>\n"
                f"To: team@example.org\nSubject: Message {i}\n"
                f"Date: Mon, 01 Apr 2024 09:{i % 60:02d}:00 +0000\n"
                f"Content-Type: text/plain; charset=utf-8\n\n{body}\n\n"
            )
            i += 1
    pdf_path = root / "long.pdf"
    _pdf(
        pdf_path, "Long", "A. Writer", [paragraph(rng, "spaceflight", 12) for _ in range(pdf_pages)]
    )
    rows = []
    for what, path in ((f"mbox, {i:,} messages", box_path), (f"PDF, {pdf_pages} pages", pdf_path)):
        start = time.perf_counter()
        for _ in iter_documents(path):
            pass
        seconds = time.perf_counter() - start
        tracemalloc.start()  # a second pass: tracing slows Python's allocations several times
        for _ in iter_documents(path):
            pass
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        rows.append((what, path.stat().st_size / 1e6, seconds, peak))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply every file count")
    parser.add_argument("--repeat", type=int, default=3, help="Best of this many reads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mbox-mb", type=int, default=20, help="Size of the large mailbox")
    parser.add_argument("--pdf-pages", type=int, default=500, help="Pages of the long PDF")
    args = parser.parse_args()
    per_type = max(4, int(100 * args.scale))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        write_mixed(root, per_type=per_type, seed=args.seed, pages=10)
        print(
            f"wrote {per_type} documents of each of {len(TYPES)} types "
            f"({_size(root) / 1e6:.1f} MB) in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
        rows = []
        for kind in TYPES:
            folder = root / kind
            seconds, docs, pages = measure(folder, args.repeat)
            mb = _size(folder) / 1e6
            rows.append((kind, mb, docs, pages, seconds))
        text_rate = next(mb / s for kind, mb, _, _, s in rows if kind == "txt")
        print(f"# bench/formats.py --scale {args.scale} --repeat {args.repeat}")
        print(
            f"# {dt.date.today()} {platform.machine()} {platform.processor() or ''} "
            f"python {platform.python_version()}"
        )
        print("| format | files MB | documents | MB/s | documents/s | pages/s | x text |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind, mb, docs, pages, seconds in rows:
            rate = mb / seconds
            print(
                f"| {kind} | {mb:.2f} | {docs} | {rate:.2f} | {docs / seconds:.0f} | "
                f"{f'{pages / seconds:.0f}' if pages else '-'} | {text_rate / rate:.1f} |"
            )
        print("\n| large file | MB | seconds | MB/s | peak MB held while reading |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for what, mb, seconds, peak in streaming(root, args.mbox_mb, args.pdf_pages):
            print(f"| {what} | {mb:.1f} | {seconds:.1f} | {mb / seconds:.2f} | {peak:.1f} |")


if __name__ == "__main__":
    main()
