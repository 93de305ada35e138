"""Fault injection: kill docret while it writes, and run readers beside two writers.

Usage (from a checkout):

    python bench/faults.py                     # 24 kills, then 120 s of 3 readers + 2 writers
    python bench/faults.py --kills 2 --seconds 20 --readers 2   # a quick look

1. Kills. A small index of the bundled sample corpus is built once. Each trial copies it, starts
   ``index --retrain``, ``add`` or ``retrain`` as a child process, and sends it SIGKILL or SIGINT
   at a random moment of its run. Afterwards ``docret check`` must pass, a query must answer, and
   the database must be either the old index (same model, ids and codes, byte for byte) or the
   complete new one (all expected ids, codes of one model; for ``add`` the old model).
2. Readers and writers. For a fixed time, N processes run ``docret query`` in a loop while two
   writers change the index: one adds batches of new documents, the other adds its own batches,
   removes documents it added, and retrains. Every write that reported success must be in the
   final index (writes lost = 0), every reader run must exit 0 with hits (reader errors = 0), and
   ``docret check`` must pass at the end.
3. Writes during a rebuild's reading. ``index PATH --retrain`` is stopped (SIGSTOP) while it
   reads PATH; an update, an add and a remove commit; the rebuild goes on. None may be undone.
4. Crafted databases. Copies of the index are damaged with SQLite directly, one way each
   (:data:`CRAFTED`: term ids past the vocabulary, invalid UTF-8, damaged pages, numbers and JSON
   that are not, weights of the wrong shape, ...), and every command of :data:`CRAFTED_COMMANDS`
   runs on each in a child process of bounded memory. Each must end cleanly (exit 0, or exit 1
   with one ``Error:`` line; no traceback, no crash) and ``check`` must report every kind.
   ``--crafted-only`` runs this part alone.
5. Bad inputs. Options out of range or not numbers, empty patterns, odd files (a name that is not
   UTF-8, a JSON line nested too deep, UTF-16 without a byte-order mark, an unknown word of 100,000
   letters), qrels of another form: each command must end cleanly as above, and nothing stored
   may change (the index's ids and codes are compared before and after).
   ``--inputs-only`` runs this part alone.

Everything runs through ``python -m docret`` with tiny training settings, so what is measured is
the storage layer, not the model. tests/test_faults.py runs a few seconds of the same code in CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample"
# The storage layer is under test, not the model: the smallest training that still runs.
TINY = ["--epochs", "2", "--hidden", "32", "--code-size", "8", "--vocab-size", "500"]
TINY += ["--no-pretrain", "--device", "cpu"]
# The same for the Python API (Index.build, Index.retrain).
TINY_OPTIONS = dict(epochs=2, hidden=(32,), code_size=8, vocab_size=500, pretrain=False)
TINY_OPTIONS.update(device="cpu", seed=0)


def docret(db: Path, *args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start ``python -m docret -d DB ARGS`` from this checkout (output captured)."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(
        [sys.executable, "-m", "docret", "-d", str(db), *args],
        cwd=REPO,
        env=environment,
        text=True,
        **popen,
    )


def run(db: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``docret`` to the end; return its exit code and output."""
    proc = docret(db, *args)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@dataclass(frozen=True)
class State:
    """What an index holds, to compare before and after a fault."""

    model_id: int | None
    ids: frozenset[str]
    digest: str  # model id, ids, hashes and codes in storage order


def state(db: Path) -> State:
    """Read ``db`` directly with SQLite (read-only), independent of docret's own code."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("select key, value from meta").fetchall())
        model_id = int(meta["model_id"]) if "model_id" in meta else None
        digest = hashlib.sha256(str(model_id).encode())
        ids = []
        for doc_id, doc_hash, code in conn.execute(
            "select d.id, d.hash, c.code from documents d left join codes c on c.id = d.id "
            "order by d.rowid"
        ):
            ids.append(doc_id)
            digest.update(f"{doc_id}\0{doc_hash}\0".encode() + (code or b""))
        return State(model_id, frozenset(ids), digest.hexdigest())
    finally:
        conn.close()


def common_word(db: Path) -> str:
    """A word of the index's vocabulary found in many documents: a query that always has hits."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(
            "select s.word from surface_forms s join vocabulary v on v.term_id = s.term_id "
            "order by v.df desc, s.word limit 1"
        ).fetchone()[0]
    finally:
        conn.close()


def copy_database(source: Path, target: Path) -> None:
    """Copy a checkpointed database file, dropping the target's stale side files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, target)


def checkpoint(db: Path) -> None:
    """Fold the write-ahead log into the file, so that copying the file copies everything."""
    conn = sqlite3.connect(db)
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()


def write_batch(folder: Path, name: str, texts: list[str]) -> tuple[Path, list[str]]:
    """Write ``texts`` as ``folder/name/name/NNN.txt``; return the folder to add and the ids
    docret gives them (``name/NNN.txt``: ids are relative to the folder added)."""
    target = folder / name / name
    target.mkdir(parents=True, exist_ok=True)
    ids = []
    for i, text in enumerate(texts):
        (target / f"{i:03d}.txt").write_text(f"{text}\n\n{name} {i}\n", encoding="utf-8")
        ids.append(f"{name}/{i:03d}.txt")
    return folder / name, ids


def sample_texts(corpus: Path = SAMPLE) -> list[str]:
    """Texts of the bundled sample corpus, in a fixed order."""
    return [p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*.txt"))]


def cpu_seconds(pid: int) -> float | None:
    """CPU time a running process has used so far (Linux /proc), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def answered(done: subprocess.CompletedProcess) -> bool:
    """Whether a ``query --json`` run exited 0 with at least one hit."""
    try:
        return done.returncode == 0 and len(json.loads(done.stdout)) > 0
    except json.JSONDecodeError:
        return False


# -- 1. kills ---------------------------------------------------------------------------------
@dataclass
class KillResult:
    """One killed run and what the database held after it."""

    operation: str
    signal: str
    delay: float  # seconds of wall time, or of the process's CPU time, when it was killed
    outcome: str  # "old", "new", or what was wrong
    check_ok: bool
    query_ok: bool
    killed: bool = True  # False if the operation had finished before the signal was sent


def kill_trials(
    pristine: Path,
    work: Path,
    operations: dict[str, tuple[list[str], set[str], bool]],
    trials: int,
    seed: int,
    delays: tuple[float, float] | None = None,
    query: str | None = None,
) -> list[KillResult]:
    """Kill each operation ``trials`` times in turn; classify the database after each kill.

    ``operations`` maps a name to (docret arguments, ids of the complete new index, whether
    the new index has a new model). Kill moments are uniform over ``delays`` seconds of wall
    time or, by default, over the CPU time the operation takes uninterrupted (measured first):
    on a busy machine wall time varies several-fold from run to run, CPU time hardly at all,
    so the kills spread over the whole run, startup, training and writing alike.
    """
    rng = random.Random(seed)
    old = state(pristine)
    db = work / "fault.db"
    spans: dict[str, tuple[float, float]] = {}
    for name, (args, _, _) in operations.items():
        if delays is not None:
            spans[name] = delays
            continue
        copy_database(pristine, db)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = run(db, *args)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed without a fault: {done.stderr[-2000:]}")
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        spans[name] = (0.02 * cpu, cpu)
    results = []
    names = list(operations)
    for trial in range(trials * len(names)):
        name = names[trial % len(names)]
        args, new_ids, new_model = operations[name]
        sig = signal.SIGKILL if trial % 2 == 0 else signal.SIGINT
        copy_database(pristine, db)
        delay = rng.uniform(*spans[name])
        proc = docret(db, *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if delays is not None:
            time.sleep(delay)
        else:
            while proc.poll() is None and (cpu_seconds(proc.pid) or 0.0) < delay:
                time.sleep(0.01)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(sig)
        proc.wait(timeout=600)
        check = run(db, "check")
        query_ok = query is None or answered(run(db, "query", query, "-k", "3", "--json"))
        after = state(db)
        if after == old:
            outcome = "old"
        elif (
            after.ids == new_ids
            and after.model_id is not None
            and old.model_id is not None
            and (after.model_id > old.model_id) == new_model
        ):
            outcome = "new"
        else:
            outcome = f"neither: {len(after.ids)} ids, model {after.model_id}"
        results.append(
            KillResult(name, sig.name, delay, outcome, check.returncode == 0, query_ok, killed)
        )
    return results


# -- 2. readers and writers -------------------------------------------------------------------
@dataclass
class Traffic:
    """What the readers and writers did, and what was lost."""

    seconds: float
    reads: int = 0
    reader_errors: list[str] = field(default_factory=list)
    writes: dict[str, int] = field(default_factory=dict)  # kind -> successful runs
    writer_errors: list[str] = field(default_factory=list)
    writes_lost: int = 0
    check_ok: bool = False


def readers_and_writers(
    db: Path,
    work: Path,
    texts: list[str],
    seconds: float,
    readers: int,
    query: str,
    batch: int = 5,
    retrain_every: int = 3,
    min_steps: int = 0,
) -> Traffic:
    """Run ``readers`` query loops and two writers against ``db`` for ``seconds`` (and until
    each writer made at least ``min_steps`` writes; readers read until the writers are done).

    Writer A adds batches of ``batch`` new documents; writer B adds batches too, removes a
    document from each of its batches once added, and retrains every ``retrain_every`` steps.
    Ids are unique per batch folder, so every successful ``add`` and ``remove`` has an exact
    expected effect on the final set of ids.
    """
    traffic = Traffic(seconds)
    lock = threading.Lock()
    expected = set(state(db).ids)
    stop = time.monotonic() + seconds
    writing = threading.Event()
    writing.set()

    def more(step: int) -> bool:
        return time.monotonic() < stop or step < min_steps

    def note_write(kind: str, done: subprocess.CompletedProcess, added=(), removed=()) -> None:
        with lock:
            if done.returncode == 0:
                traffic.writes[kind] = traffic.writes.get(kind, 0) + 1
                expected.update(added)
                expected.difference_update(removed)
            else:
                traffic.writer_errors.append(f"{kind}: {done.stderr.strip()[-300:]}")

    def add(writer: str, step: int) -> list[str]:
        name = f"{writer}{step:04d}"
        start = (step * batch) % max(1, len(texts) - batch)
        folder, ids = write_batch(work / "batches", name, texts[start : start + batch])
        note_write("add", run(db, "add", str(folder)), added=ids)
        return ids

    def writer_a() -> None:
        step = 0
        while more(step):
            add("a", step)
            step += 1

    def writer_b() -> None:
        step = 0
        while more(step):
            if retrain_every and step % retrain_every == retrain_every - 1:
                note_write("retrain", run(db, "retrain", *TINY))
            else:
                added = add("b", step)
                if added and added[0] in expected:
                    note_write("remove", run(db, "remove", added[0]), removed=[added[0]])
            step += 1

    def reader() -> None:
        while writing.is_set():
            done = run(db, "query", query, "-k", "5", "--json")
            ok = answered(done)
            with lock:
                traffic.reads += 1
                if not ok:
                    traffic.reader_errors.append(done.stderr.strip()[-300:] or done.stdout[:300])

    writers = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    reading = [threading.Thread(target=reader) for _ in range(readers)]
    for t in writers + reading:
        t.start()
    for t in writers:
        t.join()
    writing.clear()
    for t in reading:
        t.join()
    final = state(db).ids
    traffic.writes_lost = len(expected ^ final)
    traffic.check_ok = run(db, "check").returncode == 0
    return traffic


# -- 3. writes during a rebuild's reading -----------------------------------------------------
@dataclass
class ReadingWrites:
    """Writes committed while ``index PATH --retrain`` was still reading PATH."""

    writes: int = 0  # writes that reported success while the rebuild was stopped mid-read
    lost: list[str] = field(default_factory=list)  # what the finished rebuild undid
    rebuild_ok: bool = False
    check_ok: bool = False


def writes_during_reading(work: Path, corpus: Path) -> ReadingWrites:
    """Stop ``index CORPUS --retrain`` in the middle of reading CORPUS, commit an update of a
    file it has read, an add from another folder and a remove, let it go on, and count what
    the rebuild undid (each must survive: catch-up starts before reading).

    CORPUS is copied with one binary file added after the first folder's files: its skip line
    on stderr says the reader has read that folder and is reading the others.
    """
    result = ReadingWrites()
    copy = work / "reading-corpus"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(corpus, copy)
    first = sorted(p for p in copy.iterdir() if p.is_dir())[0]
    (first / "zzzz.bin").write_bytes(b"\0binary")
    changed = sorted(first.glob("*.txt"))[0]
    changed_id = changed.relative_to(copy).as_posix()
    db = work / "reading.db"
    build(db, copy)
    removed = sorted(state(db).ids - {changed_id})[-1]
    new_text = f"{changed.read_text(encoding='utf-8')}\nrevised while a rebuild read\n"
    folder, added = write_batch(work / "reading-extra", "meanwhile", sample_texts(corpus)[:3])
    proc = docret(db, "index", str(copy), "--retrain", *TINY)
    for line in proc.stderr:
        if line.startswith(f"Skipped {first.name}/zzzz.bin"):
            proc.send_signal(signal.SIGSTOP)
            break
    try:
        changed.write_text(new_text, encoding="utf-8")
        writes = [
            run(db, "add", str(copy)),
            run(db, "add", str(folder)),
            run(db, "remove", removed),
        ]
    finally:
        proc.send_signal(signal.SIGCONT)
    result.writes = sum(w.returncode == 0 for w in writes)
    proc.communicate(timeout=600)
    result.rebuild_ok = proc.returncode == 0
    after = state(db)
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("select text from documents where id = ?", [changed_id]).fetchone()
    finally:
        conn.close()
    if writes[0].returncode == 0 and (row is None or row[0] != new_text):
        result.lost.append(f"update of {changed_id}")
    if writes[1].returncode == 0:
        result.lost += [f"add of {i}" for i in added if i not in after.ids]
    if writes[2].returncode == 0 and removed in after.ids:
        result.lost.append(f"remove of {removed}")
    result.check_ok = run(db, "check").returncode == 0
    return result


# -- 4. crafted databases ---------------------------------------------------------------------
def _int32s(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}i", *values)


def _float32s(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def _sql(*statements: str, params: tuple = ()) -> Callable[[Path], None]:
    """A crafting step: run ``statements`` on the file with SQLite itself (each given
    ``params``), then fold the write-ahead log into the file."""

    def craft(db: Path) -> None:
        conn = sqlite3.connect(db)
        try:
            for sql in statements:
                conn.execute(sql, params if "?" in sql else ())
            conn.commit()
            conn.execute("pragma wal_checkpoint(truncate)")
        finally:
            conn.close()

    return craft


def _damage_pages(db: Path) -> None:
    """Overwrite the middle of every page but the first (the header and schema survive)."""
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for start in range(page, len(data), page):
        data[start + 100 : start + 300] = bytes(range(200))
    db.write_bytes(bytes(data))


def _model(field: str, key: str, value: object) -> Callable[[Path], None]:
    """Set ``key`` in the current model's JSON column ``field``."""
    return _sql(
        f"update models set {field} = json_set({field}, '$.{key}', json(?))",
        params=(json.dumps(value),),
    )


# Each kind of damage a file can carry, as a crafting step on a copy of a good index: what a
# bit flip, a half-written copy, another program or a deliberate attacker could leave behind.
CRAFTED: dict[str, Callable[[Path], None]] = {
    "vector term id past the vocabulary": _sql(
        "update vectors set indices = ?, weights = ? where rowid = 1",
        params=(_int32s(0, 2**31 - 1), _float32s(0.5, 0.5)),
    ),
    "negative vector term id": _sql(
        "update vectors set indices = ?, weights = ? where rowid = 1",
        params=(_int32s(-5, 1), _float32s(0.5, 0.5)),
    ),
    "NaN vector weight": _sql(
        "update vectors set indices = ?, weights = ? where rowid = 1",
        params=(_int32s(0, 1), _float32s(float("nan"), 0.5)),
    ),
    "vector ids and weights of unlike length": _sql(
        "update vectors set weights = ? where rowid = 1", params=(_float32s(0.5),)
    ),
    "truncated vector blob": _sql(
        "update vectors set indices = substr(indices, 1, 7) where rowid = 1"
    ),
    "term count id past the lexicon": _sql(
        "update term_counts set indices = ?, counts = ? where rowid = 1",
        params=(_int32s(0, 2**31 - 1), _float32s(1.0, 1.0)),
    ),
    "negative term count": _sql(
        "update term_counts set indices = ?, counts = ? where rowid = 1",
        params=(_int32s(0, 1), _float32s(1.0, -3.0)),
    ),
    "surface form of no term": _sql("update surface_forms set term_id = 1000000"),
    "invalid UTF-8 in a title": _sql(
        "update documents set title = cast(x'ff' || cast(title as blob) as text)"
    ),
    "invalid UTF-8 in a term": _sql(
        "update vocabulary set term = cast(x'c3' || cast(term as blob) as text) where term_id = 0"
    ),
    "damaged pages": _damage_pages,
    "schema_version not a number": _sql(
        "update meta set value = 'five' where key = 'schema_version'"
    ),
    "model_id not a number": _sql("update meta set value = 'one' where key = 'model_id'"),
    "generation not a number": _sql("update meta set value = 'many' where key = 'generation'"),
    "added_tokens not a number": _sql(
        "insert or replace into meta (key, value) values ('added_tokens', 'lots')"
    ),
    "model_id naming no model": _sql("update meta set value = '99' where key = 'model_id'"),
    "model config not JSON": _sql("update models set config = '{\"vocab_size\": '"),
    "model history not JSON": _sql("update models set history = 'epoch 1'"),
    "settings not JSON": _sql("update meta set value = '{hidden: 32' where key = 'settings'"),
    "labels not JSON": _sql("update documents set labels = '[\"a\"' where rowid = 1"),
    "unknown activation": _model("config", "activation", "swish"),
    "unknown stemmer": _model("analyzer", "stemmer", "klingon"),
    "code size not a number": _model("config", "code_size", "eight"),
    "weight shape unlike its data": _sql(
        "update weights set shape = '[7, 3]' where name = 'input_weight'"
    ),
    "weight shape unlike the model": _sql(
        "update weights set shape = json_array(json_extract(shape, '$[1]'), "
        "json_extract(shape, '$[0]')) where name = 'encoder.0.weight'"
    ),
    "truncated weight blob": _sql(
        "update weights set data = substr(data, 1, 10) where name = 'decoder.0.weight'"
    ),
    "weight missing": _sql("delete from weights where name = 'encoder.0.bias'"),
    "NaN weights": _sql(
        "update weights set data = ? where name = 'input_bias'",
        params=(_float32s(*[float("nan")] * 32),),
    ),
    "code of the wrong length": _sql("update codes set code = substr(code, 1, 12) where rowid = 1"),
    "empty vocabulary": _sql("delete from vocabulary"),
    "empty documents table": _sql(
        *(f"delete from {table}" for table in ("codes", "vectors", "term_counts", "documents"))
    ),
}
# The commands tried on each crafted file; ``add`` adds CRAFTED_ADD's folder, ``remove``
# removes the first stored document.
CRAFTED_COMMANDS = ("info", "query", "query --method lsa", "similar", "words", "explain")
CRAFTED_COMMANDS += ("check", "add", "retrain", "remove")
CRAFTED_MEMORY = 4 << 30  # bytes of address space a command may take (a 16 GiB bincount fails)


def crafted_args(command: str, doc_id: str, word: str, folder: Path) -> list[str]:
    """The arguments of ``command`` on a crafted copy of an index."""
    return {
        "info": ["info"],
        "query": ["query", word],
        "query --method lsa": ["query", word, "--method", "lsa"],
        "similar": ["similar", doc_id],
        "words": ["words", doc_id],
        "explain": ["explain", word],
        "check": ["check"],
        "add": ["add", str(folder)],
        "retrain": ["retrain", *TINY],
        "remove": ["remove", doc_id],
    }[command]


@dataclass
class CraftedRun:
    """One command on one crafted file, and whether it ended cleanly."""

    kind: str
    command: str
    returncode: int
    clean: bool  # exit 0, or exit 1 with one "Error: ..." line (check: one "Problem:" line each)
    output: str


def clean_ending(command: str, returncode: int, stderr: str) -> bool:
    """Whether a command ended as docret promises: exit 0, or exit 1 with one ``Error:`` line
    last (after any progress lines; ``check``: only "Problem: ..." lines), never a traceback
    or a crash."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if "Traceback" in stderr:
        return False
    if returncode == 0:
        return True
    if returncode != 1 or not lines:
        return False
    if command == "check":
        return all(line.startswith("Problem: ") for line in lines)
    errors = [line for line in lines if line.startswith("Error")]
    return len(errors) == 1 and lines[-1].startswith("Error: ")


def limited_memory() -> None:
    """Bound the address space of a child process to :data:`CRAFTED_MEMORY`."""
    resource.setrlimit(resource.RLIMIT_AS, (CRAFTED_MEMORY, CRAFTED_MEMORY))


def crafted_trials(
    pristine: Path, work: Path, kinds: dict[str, Callable[[Path], None]] | None = None
) -> list[CraftedRun]:
    """Run every command of :data:`CRAFTED_COMMANDS` on a copy of ``pristine`` crafted each
    way of ``kinds`` (default :data:`CRAFTED`), each in a child process of bounded memory."""
    conn = sqlite3.connect(f"{pristine.resolve().as_uri()}?mode=ro", uri=True)
    (doc_id,) = conn.execute("select id from documents order by rowid limit 1").fetchone()
    conn.close()
    word = common_word(pristine)
    folder, _ = write_batch(work / "crafted-add", "extra", [f"{word} added text {word}"])
    runs = []
    for kind, craft in (kinds or CRAFTED).items():
        for command in CRAFTED_COMMANDS:
            db = work / "crafted.db"
            copy_database(pristine, db)
            craft(db)
            args = crafted_args(command, doc_id, word, folder)
            proc = docret(db, *args, preexec_fn=limited_memory)
            out, err = proc.communicate(timeout=600)
            clean = clean_ending(command, proc.returncode, err)
            if command == "check":
                clean = clean and proc.returncode == 1  # check must find what was crafted
            runs.append(CraftedRun(kind, command, proc.returncode, clean, err.strip()[-300:]))
    return runs


# -- 5. bad inputs ----------------------------------------------------------------------------
def bad_inputs(work: Path) -> dict[str, list[str]]:
    """Each bad input's arguments for ``docret -d DB``, with the files they need written under
    ``work`` (an index of the sample is in DB)."""
    odd = work / "odd"
    odd.mkdir(exist_ok=True)
    (odd / os.fsdecode(b"bad\xff.txt")).write_text("engine failure on takeoff\n" * 20)
    (odd / "deep.jsonl").write_text(
        "[" * 100_000 + "]" * 100_000 + "\n" + json.dumps({"id": "ok", "text": "engine " * 30})
    )
    (odd / "utf16.txt").write_bytes(("engine failure on takeoff " * 20).encode("utf-16-le"))
    qrels = work / "collection"
    qrels.mkdir(exist_ok=True)
    (qrels / "docs.jsonl").write_text(json.dumps({"id": "d1", "text": "engine " * 50}) + "\n")
    (qrels / "queries.jsonl").write_text(json.dumps({"id": "q1", "text": "engine"}) + "\n")
    (qrels / "qrels.tsv").write_text("q1 d1\n")
    sample = str(SAMPLE)
    inputs = {
        f"index {option} {value}": ["index", sample, "--retrain", option, value]
        for option, value in [
            ("--lr", "nan"),
            ("--lr", "inf"),
            ("--lr", "1e308"),
            ("--code-l2", "inf"),
            ("--noise", "nan"),
            ("--negatives", "1e12"),
            ("--vocab-size", "1"),
            ("--epochs", "-1"),
            ("--hidden", "0"),
            ("--min-df", "nan"),
            ("--glob", ""),
        ]
    }
    inputs.update(
        {
            "add a folder of odd files": ["add", str(odd)],
            "query an unknown word of 100,000 letters": ["query", "q" * 100_000],
            "query nothing but stop words": ["query", "the of and"],
            "query -k 0": ["query", "engine", "-k", "0"],
            "similar an unknown id": ["similar", "no/such/id.txt"],
            "remove an unknown id": ["remove", "no/such/id.txt"],
            "evaluate qrels of two columns": ["evaluate", str(qrels), *TINY],
            "add a path that does not exist": ["add", str(work / "missing")],
        }
    )
    return inputs


@dataclass
class InputRun:
    """One bad input: whether its command ended cleanly (exit 0, or 1 or 2 with an ``Error:``
    line last; no traceback) and lost nothing stored (a refused command changed nothing)."""

    name: str
    returncode: int
    clean: bool
    intact: bool
    output: str


def bad_input_trials(pristine: Path, work: Path) -> list[InputRun]:
    """Run every :func:`bad_inputs` command on a copy of ``pristine``."""
    runs = []
    for name, args in bad_inputs(work).items():
        db = work / "inputs.db"
        copy_database(pristine, db)
        before = state(db)
        done = run(db, *args)
        after = state(db)
        # refused: nothing changed; accepted (odd files are skipped or read): nothing lost
        intact = before == after if done.returncode else before.ids <= after.ids
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        clean = "Traceback" not in done.stderr and (
            done.returncode == 0
            or (done.returncode in (1, 2) and bool(lines) and lines[-1].startswith("Error: "))
        )
        runs.append(InputRun(name, done.returncode, clean, intact, done.stderr.strip()[-300:]))
    return runs


def print_inputs(runs: list[InputRun], seconds: float) -> None:
    """The bad inputs' line of the report."""
    print(
        f"bad inputs tried / handled cleanly: {len(runs)} tried, "
        f"{sum(r.clean for r in runs)} clean, {sum(r.returncode not in (0, 1, 2) for r in runs)} "
        f"crashed, {sum(not r.intact for r in runs)} lost or changed what was stored "
        f"({seconds:.0f} s)"
    )
    for r in runs:
        if not (r.clean and r.intact):
            last = r.output.splitlines()[-1] if r.output else ""
            print(f"  NOT CLEAN: {r.name}: exit {r.returncode}: {last[:160]}")


def build(db: Path, corpus: Path) -> None:
    """A tiny index of ``corpus`` in ``db``, checkpointed so that the file can be copied."""
    done = run(db, "index", str(corpus), *TINY)
    if done.returncode != 0:
        raise RuntimeError(f"index failed: {done.stderr[-2000:]}")
    checkpoint(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=8, help="kills per operation")
    parser.add_argument("--seconds", type=float, default=120.0, help="readers + writers time")
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip-kills", action="store_true", help="only readers and writers (e.g. on old code)"
    )
    parser.add_argument("--crafted-only", action="store_true", help="only crafted databases")
    parser.add_argument("--inputs-only", action="store_true", help="only bad inputs")
    opts = parser.parse_args()
    if opts.crafted_only:
        part_main("crafted", crafted_trials, print_crafted)
        return
    if opts.inputs_only:
        part_main("inputs", bad_input_trials, print_inputs)
        return
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pristine = work / "pristine.db"
        build(pristine, SAMPLE)
        old_ids = set(state(pristine).ids)
        texts = sample_texts()
        folder, added = write_batch(work / "extra", "new", texts[:40])
        operations = {
            "index --retrain": (["index", str(SAMPLE), "--retrain", *TINY], old_ids, True),
            "add": (["add", str(folder)], old_ids | set(added), False),
            "retrain": (["retrain", *TINY], old_ids, True),
        }
        t0 = time.perf_counter()
        query = common_word(pristine)
        kills = (
            []
            if opts.skip_kills
            else kill_trials(pristine, work, operations, opts.kills, opts.seed, query=query)
        )
        kill_seconds = time.perf_counter() - t0
        db = work / "traffic.db"
        copy_database(pristine, db)
        traffic = readers_and_writers(
            db, work, texts, opts.seconds, opts.readers, query, retrain_every=2
        )
        reading = writes_during_reading(work, SAMPLE)
        t0 = time.perf_counter()
        crafted = crafted_trials(pristine, work)
        crafted_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        inputs = bad_input_trials(pristine, work)
        inputs_seconds = time.perf_counter() - t0
    survived = [k for k in kills if k.outcome in ("old", "new") and k.check_ok and k.query_ok]
    print(f"# bench/faults.py, {started}, {platform.node()} ({os.cpu_count()} CPUs)")
    print(f"kills: {len(survived)} of {len(kills)} survived ({kill_seconds:.0f} s)")
    for name in operations:
        mine = [k for k in kills if k.operation == name]
        outcomes = {o: sum(k.outcome == o for k in mine) for o in ("old", "new")}
        print(
            f"  {name}: {len(mine)} kills, old {outcomes['old']}, new {outcomes['new']}, "
            f"check failed {sum(not k.check_ok for k in mine)}, "
            f"query failed {sum(not k.query_ok for k in mine)}, "
            f"finished before the signal {sum(not k.killed for k in mine)}; killed at "
            + ", ".join(f"{k.delay:.1f}" for k in sorted(mine, key=lambda k: k.delay))
            + " s of CPU"
        )
    for k in kills:
        if k not in survived:
            print(f"  NOT SURVIVED: {k}")
    print(
        f"readers and writers, {traffic.seconds:.0f} s, {opts.readers} readers: "
        f"{traffic.reads} reads, reader errors {len(traffic.reader_errors)}; writes "
        f"{traffic.writes}, writer errors {len(traffic.writer_errors)}, "
        f"writes lost {traffic.writes_lost}, check {'ok' if traffic.check_ok else 'FAILED'}"
    )
    for line in traffic.reader_errors[:5] + traffic.writer_errors[:5]:
        print(f"  {line}")
    print(
        f"writes during a rebuild's reading: {reading.writes} of 3 committed, "
        f"writes lost {len(reading.lost)}"
        + (f" ({', '.join(reading.lost)})" if reading.lost else "")
        + f", rebuild {'ok' if reading.rebuild_ok else 'FAILED'}, "
        f"check {'ok' if reading.check_ok else 'FAILED'}"
    )
    print_crafted(crafted, crafted_seconds)
    print_inputs(inputs, inputs_seconds)


def part_main(name: str, trials: Callable, report: Callable) -> None:
    """Build a tiny index, run one part's ``trials`` on it and print its ``report``."""
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pristine = work / "pristine.db"
        build(pristine, SAMPLE)
        t0 = time.perf_counter()
        runs = trials(pristine, work)
        seconds = time.perf_counter() - t0
    print(f"# bench/faults.py --{name}-only, {started}, {platform.node()}")
    report(runs, seconds)


def print_crafted(runs: list[CraftedRun], seconds: float) -> None:
    """The crafted databases' lines of the report."""
    kinds = list(dict.fromkeys(r.kind for r in runs))
    found = [r.kind for r in runs if r.command == "check" and r.clean]
    print(
        f"crafted databases tried / refused cleanly: {len(runs)} runs ({len(kinds)} kinds x "
        f"{len(CRAFTED_COMMANDS)} commands), {sum(r.clean for r in runs)} clean, "
        f"{sum(r.returncode == 1 for r in runs)} refused (exit 1), "
        f"{sum(r.returncode not in (0, 1) for r in runs)} crashed; check found "
        f"{len(found)} of {len(kinds)} kinds ({seconds:.0f} s)"
    )
    for r in runs:
        if not r.clean:
            last = r.output.splitlines()[-1] if r.output else ""
            print(f"  NOT CLEAN: {r.kind} / {r.command}: exit {r.returncode}: {last[:160]}")


if __name__ == "__main__":
    main()
