"""Fault injection for the storage tests: tiny trainings, ``python -m docret`` as a child
process, an index's state read with SQLite alone, writers killed at random moments, readers
beside two writers, writes during a rebuild's reading, and crafted (damaged) database files.

The tests run these for a few seconds (tests/test_faults.py, tests/test_crafted.py, ...);
``python -m bench.faults`` runs the same steps for minutes and reports what survived.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


# -- kills -----------------------------------------------------------------------------------------
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


# -- readers and writers ---------------------------------------------------------------------------
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

    writers = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    reader = (db, query, traffic, lock, writing)
    reading = [threading.Thread(target=_read, args=reader) for _ in range(readers)]
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


def _read(
    db: Path, query: str, traffic: Traffic, lock: threading.Lock, writing: threading.Event
) -> None:
    """One reader of :func:`readers_and_writers`: query ``db`` while ``writing`` is set, and
    count the reads and the failures in ``traffic``."""
    while writing.is_set():
        done = run(db, "query", query, "-k", "5", "--json")
        ok = answered(done)
        with lock:
            traffic.reads += 1
            if not ok:
                traffic.reader_errors.append(done.stderr.strip()[-300:] or done.stdout[:300])


# -- writes during a rebuild's reading -------------------------------------------------------------
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


# -- crafted databases -----------------------------------------------------------------------------
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
# The commands tried on each crafted file; ``add`` adds a folder of new documents, ``remove``
# removes the first stored document (:func:`crafted_args`).
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


def build(db: Path, corpus: Path) -> None:
    """A tiny index of ``corpus`` in ``db``, checkpointed so that the file can be copied."""
    done = run(db, "index", str(corpus), *TINY)
    if done.returncode != 0:
        raise RuntimeError(f"index failed: {done.stderr[-2000:]}")
    checkpoint(db)
