"""The documentation stays true to the code and to itself: the CLI reference is the CLI's own
help, links and anchors between the Markdown files resolve, the Python API page names objects
that exist, and no page carries history or machine paths (that lives in git)."""

from __future__ import annotations

import importlib
import importlib.util
import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "python docs/gen_cli.py"

# The Markdown a reader meets: the README, the site's pages, the benchmarks' and research's notes.
PAGES = sorted(
    [ROOT / "README.md"]
    + list((ROOT / "docs").glob("**/*.md"))
    + list((ROOT / "bench").glob("**/*.md"))
    + list((ROOT / "research").glob("*.md"))
)
# What the history check reads: the pages, the site's configuration and its scripts.
HISTORY_CHECKED = PAGES + [ROOT / "mkdocs.yml"] + sorted((ROOT / "docs").glob("**/*.py"))

ORDINALS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    "thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth"
)
HISTORY = {
    "an issue number": re.compile(r"(?<![\w/&])#\d+\b|\bissues?[ -]#?\d+", re.IGNORECASE),
    "a session": re.compile(r"\bsessions?\b", re.IGNORECASE),
    "a round of work": re.compile(
        rf"\b(?:{ORDINALS})[ -](?:round|session)s?\b|\bround \d+\b|^#+ (?:{ORDINALS})\b",
        re.IGNORECASE | re.MULTILINE,
    ),
    "an ordinal as history": re.compile(
        r"\b(?:Eleventh|Twelfth|Thirteenth|Fourteenth|Fifteenth|Sixteenth|Seventeenth|"
        r"Eighteenth|Nineteenth|Twentieth)\b"
    ),
    "a machine path": re.compile(r"(?<![\w.~-])/(?:tmp|work|home)\b"),
}
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def load_generator():
    """docs/gen_cli.py as a module (it is a script beside the pages, not part of the package)."""
    spec = importlib.util.spec_from_file_location("gen_cli", ROOT / "docs" / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_the_clis_help() -> None:
    expected = load_generator().render()
    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == expected, f"docs/cli.md differs from the CLI's --help: run {REGENERATE}"


def test_cli_reference_has_every_command() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in ("index", "add", "remove", "retrain", "query", "similar", "serve", "check"):
        assert f"\n## docret {command}\n" in page
        assert f"Usage: docret {command} [OPTIONS]" in page


def test_no_history_or_paths() -> None:
    hits = []
    for path in HISTORY_CHECKED:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for what, pattern in HISTORY.items():
                if pattern.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert not hits, "history or machine paths (history lives in git):\n" + "\n".join(hits)


def test_the_history_check_finds_what_it_looks_for() -> None:
    found = {
        "see #12": "an issue number",
        "Issue 10: the targets": "an issue number",
        "the fourth session's run": "a session",
        "a third round of work": "a round of work",
        "## Fourteenth: oracle": "an ordinal as history",
        "`python x.py --cache /tmp/q`": "a machine path",
        "in /work/shared": "a machine path",
    }
    for text, what in found.items():
        assert HISTORY[what].search(text), (text, what)
    clean = ["`inbox.mbox#3`", "`data.csv#17`", "the first query", "in a thirteenth of the time"]
    for text in clean:
        assert not any(p.search(text) for p in HISTORY.values()), text


def slug(heading: str) -> str:
    """The anchor MkDocs (and, for plain headings, GitHub) gives a heading."""
    text = re.sub(r"[`*]", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def test_links_between_the_files_resolve() -> None:
    broken = []
    for page in PAGES:
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_python_api_page_names_what_exists() -> None:
    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    names = re.findall(r"^::: ([\w.]+)$", page, re.MULTILINE)
    assert "docret.Index" in names
    for name in names:
        module, _, attribute = name.rpartition(".")
        try:
            found = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            found = importlib.import_module(name)
        assert found is not None, name
    errors = importlib.import_module("docret.errors")
    for member in re.findall(r"^ {8}- (\w+)$", page, re.MULTILINE):
        assert isinstance(getattr(errors, member), type), member
