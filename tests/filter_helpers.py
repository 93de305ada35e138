"""A small corpus whose documents differ in everything a filter reads: a folder (label) per
topic, plain text, Markdown with front matter (author Ann, dates in 2023, the tag "notes") and
HTML (author Bob, dates in 2024), and a phrase in some of the space documents."""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import TOPICS, make_text

PHRASE = "launch window opens"
FORMATS = ("txt", "md", "html")
COUNT = 84  # 21 per topic, 7 of each format


def document(i: int, rng: random.Random) -> tuple[str, str, str]:
    """Document ``i``'s topic, file name and file content."""
    topic = list(TOPICS)[i % 4]
    fmt = FORMATS[(i // 4) % 3]
    text = make_text(rng, topic)
    if topic == "space" and i % 3 == 0:
        text += f"They say the {PHRASE.title()} at dawn.\n"
    month = i % 12 + 1
    if fmt == "md":
        head = f"---\nauthor: Ann\ndate: 2023-{month:02d}-10\ntags: [notes]\n---\n"
        return topic, f"{i:03d}.md", head + text
    if fmt == "html":
        body = "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
        page = (
            f"<!doctype html><html><head><title>{text.splitlines()[0]}</title>"
            f'<meta name="author" content="Bob"><meta name="date" content="2024-{month:02d}-05">'
            f"</head><body>{body}</body></html>"
        )
        return topic, f"{i:03d}.html", page
    return topic, f"{i:03d}.txt", text


def write_filter_corpus(root: Path, seed: int = 0) -> Path:
    """Write the corpus under ``root`` (``<topic>/<n>.<ext>``); return ``root``."""
    rng = random.Random(seed)
    for i in range(COUNT):
        topic, name, content = document(i, rng)
        (root / topic).mkdir(parents=True, exist_ok=True)
        (root / topic / name).write_text(content, encoding="utf-8")
    return root
