"""The ledger: an SQLite file in the survey folder that remembers everything that went out and
everything that came back, and the one place that reads and writes checked results.

- received: every file ever collected, keyed by its sha256: what checking it found (a
  `Submission`, stored as JSON that this module alone writes and reads), the fingerprint of
  the definition and master it was checked against, the checker that checked it, and the
  evidence of when it was sent (the collect that first saw it, the save time inside it and
  the program that wrote it). A superseded or later deleted submission stays on record.
- snapshot: each department's answer and status at the last collect, with the fingerprint it
  belongs to; `current_answers()` turns it into the answers every later stage uses.
- distributions: each form version generated for a department (what went out).
- deliveries: each mail sent (so a re-run never sends the same message twice).

The schema has a version: an older ledger is migrated when it is opened for writing (and
read through a migrated copy in memory when it is only read), a newer one is refused with a
sentence. The ledger stays in a rollback-journal mode, never WAL: WAL does not work on the
network file systems survey folders live on.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from xlsx_tool import problems as P
from xlsx_tool.errors import OutputError
from xlsx_tool.problems import Problem
from xlsx_tool.xlsxout import database_path_too_long

if TYPE_CHECKING:
    from xlsx_tool.define.master import Loaded

T = TypeVar("T")

SCHEMA_VERSION = 3
LOCK_WAIT = 10.0  # seconds to wait for another program holding the ledger
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS received (
    sha256 TEXT PRIMARY KEY,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    path TEXT NOT NULL,          -- as shown (undecodable bytes replaced)
    path_bytes BLOB,             -- exactly as the file system names it
    size INTEGER,
    mtime TEXT,
    saved_at TEXT,               -- the save time written inside the file, as written
    department TEXT,
    form_version TEXT,
    outcome TEXT NOT NULL,       -- "identified" or the problem code that stopped it
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    fingerprint TEXT,            -- definition + master it was checked against
    result TEXT,                 -- JSON (Submission.to_json)
    first_collect INTEGER,       -- the collect that first saw it: the order files were received
    application TEXT,            -- the program that saved it (docProps/app.xml)
    zip_time TEXT,               -- the newest time of its zip entries (local time, no zone)
    checker TEXT,                -- which checker checked it (collect/validate.CHECKER_VERSION)
    present INTEGER NOT NULL DEFAULT 1,   -- in 2_回収 at the last collect
    withdrawn INTEGER NOT NULL DEFAULT 0  -- gone, and let go by the section (--forget-missing)
);
CREATE TABLE IF NOT EXISTS snapshot (
    department TEXT PRIMARY KEY,
    sha256 TEXT,
    status TEXT NOT NULL,
    collected_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS distributions (
    department TEXT NOT NULL,
    version TEXT NOT NULL,
    file TEXT NOT NULL,
    measures TEXT NOT NULL,      -- JSON list of the measure numbers on the form
    generated_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    current INTEGER NOT NULL DEFAULT 1,
    names TEXT,                  -- JSON: measure number -> the name the form showed
    PRIMARY KEY (department, version)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    department TEXT NOT NULL,
    kind TEXT NOT NULL,          -- distribute, remind, correct
    key TEXT NOT NULL,           -- what makes the message new (form version, copy hash, collect)
    recipient TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    message_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_key ON deliveries (department, kind, key);
CREATE INDEX IF NOT EXISTS received_department ON received (department, outcome);
"""
# Columns added since schema 2 (release 0.1.0), for the migration: (table, column, definition).
_ADDED = (
    ("received", "first_collect", "INTEGER"), ("received", "application", "TEXT"),
    ("received", "zip_time", "TEXT"), ("received", "checker", "TEXT"),
    ("received", "present", "INTEGER NOT NULL DEFAULT 1"),
    ("received", "withdrawn", "INTEGER NOT NULL DEFAULT 0"),
    ("distributions", "names", "TEXT"),
)


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def same_basis(stored: str, fingerprint: str) -> bool:
    """Were answers stored under `stored` checked against this definition and master?

    Release 0.1.0 stored "<fingerprint>:<release>"; the fingerprint part is compared.
    """
    return bool(stored) and stored.split(":", 1)[0] == fingerprint


# --- the record of one checked file -----------------------------------------------------------

IDENTIFIED = "identified"


@dataclass
class Submission:
    """One returned file, identified (or not), with what it answered and what is wrong.

    The ledger stores it (`to_json`, `record`) and gives it back (`from_stored`): this class
    alone decides what the stored JSON holds.
    """

    file: str  # relative to the survey folder, as shown (undecodable bytes replaced)
    path_bytes: bytes = b""  # the name exactly as the file system has it
    sha256: str = ""
    size: int = 0
    mtime: str = ""
    saved_at: str = ""  # dcterms:modified as written inside the file
    department: str = ""
    form_version: str = ""
    identified: bool = False
    answers: dict[str, dict[str, object]] = field(default_factory=dict)  # own measure -> field -> value
    typed: dict[str, dict[str, object]] = field(default_factory=dict)  # as typed, for corrections
    invalid: set[str] = field(default_factory=set)  # own measures that carry an error
    problems: list[Problem] = field(default_factory=list)
    respondent: dict[str, str] = field(default_factory=dict)  # 記入者, 内線
    application: str = ""  # the program that last saved it (docProps/app.xml <Application>)
    zip_time: str = ""  # the newest time of its zip entries, local time without a zone
    first_collect: int = 0  # the collect that first saw it (0: this one)
    present: bool = True  # in 2_回収 now (False: known from the ledger only)

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == P.WARNING for p in self.problems)

    def add(self, code: str, **kw: Any) -> None:
        kw.setdefault("department", self.department)
        self.problems.append(P.make(code, file=self.file, **kw))

    @property
    def outcome(self) -> str:
        return IDENTIFIED if self.identified else (self.problems[0].code if self.problems else "unknown")

    def to_json(self) -> str:
        return json.dumps({
            "department": self.department, "form_version": self.form_version,
            "identified": self.identified, "answers": self.answers, "typed": self.typed,
            "invalid": sorted(self.invalid), "respondent": self.respondent, "saved_at": self.saved_at,
            "application": self.application, "zip_time": self.zip_time,
            "problems": [p.as_dict() for p in self.problems]}, ensure_ascii=False, default=str)

    def record(self) -> dict[str, Any]:
        """A row of `received` (Ledger.record_collect)."""
        return {"sha256": self.sha256, "path": self.file, "path_bytes": self.path_bytes,
                "size": self.size, "mtime": self.mtime, "saved_at": self.saved_at,
                "application": self.application, "zip_time": self.zip_time,
                "department": self.department or None, "form_version": self.form_version,
                "outcome": self.outcome, "errors": self.errors, "warnings": self.warnings,
                "present": int(self.present), "result": self.to_json()}

    @classmethod
    def from_stored(cls, result: Mapping[str, Any], file: str, path_bytes: bytes = b"", sha256: str = "",
                    size: int = 0, mtime: str = "") -> Submission:
        """A file as the ledger has it; problems are renamed to where the file is now."""
        problems = [Problem(**{**p, "file": file}) for p in result.get("problems", [])]
        return cls(file=file, path_bytes=path_bytes, sha256=sha256, size=size, mtime=mtime,
                   saved_at=result.get("saved_at", ""), department=result.get("department", ""),
                   form_version=result.get("form_version", ""), identified=result.get("identified", False),
                   answers=result.get("answers", {}), typed=result.get("typed", {}),
                   invalid=set(result.get("invalid", [])), problems=problems,
                   respondent=result.get("respondent", {}), application=result.get("application", ""),
                   zip_time=result.get("zip_time", ""))


@dataclass(frozen=True)
class OnRecord:
    """An identified file the ledger knows, without its answers (those load on demand)."""

    sha256: str
    path: str
    department: str
    form_version: str
    first_collect: int
    saved_at: str
    application: str
    zip_time: str
    mtime: str
    fingerprint: str
    checker: str
    present: bool


# --- what the answers are now -------------------------------------------------------------

class AnswersState(StrEnum):
    CURRENT = "current"  # collected against this definition and master
    STALE = "stale"  # collected, but the definition or master changed since
    NEVER = "never"  # never collected


@dataclass
class CurrentAnswers:
    """The answers every stage after collect uses: one per measure, as they count.

    `answers` hold only valid answers, with the 終了 rule applied; `invalid` are the measures
    answered with an error. Built by `Ledger.current_answers`, the one place that reads them.
    """

    state: AnswersState = AnswersState.NEVER
    collected_at: str = ""
    collect_number: int = 0
    answers: dict[str, dict[str, object]] = field(default_factory=dict)  # measure -> field -> value
    invalid: frozenset[str] = frozenset()
    status: dict[str, str] = field(default_factory=dict)  # department -> Status value
    chosen: dict[str, str] = field(default_factory=dict)  # department -> sha256 of its answer
    problems: dict[str, list[Problem]] = field(default_factory=dict)  # department -> its answer's problems

    @property
    def current(self) -> bool:
        return self.state == AnswersState.CURRENT


# --- the ledger -------------------------------------------------------------------------------

def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Any SQLite failure becomes one sentence naming the ledger and what to do."""
    @functools.wraps(method)
    def wrapper(self: Ledger, *args: Any, **kw: Any) -> T:
        try:
            return method(self, *args, **kw)
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from exc
    return wrapper


class LedgerTooNew(OutputError):
    """The ledger was written by a newer release; this one must not touch it."""


class Ledger:
    def __init__(self, path: Path, readonly: bool = False):
        self.path = path
        self.readonly = readonly
        try:
            if readonly:
                self.conn = _open_readonly(path)
            else:
                self.conn = sqlite3.connect(path, timeout=LOCK_WAIT)
                # a rollback journal, never WAL: WAL needs shared memory, which a file server lacks
                self.conn.execute("PRAGMA journal_mode=DELETE")
                self._prepare()
        except sqlite3.Error as exc:
            raise _failure(path, exc) from exc

    def _prepare(self) -> None:
        version = _schema_version(self.conn)
        if version > SCHEMA_VERSION:
            self.conn.close()
            raise _too_new(self.path, version)
        with self.conn:
            if version and version < SCHEMA_VERSION:
                _migrate(self.conn)
            self.conn.executescript(SCHEMA)
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.conn:
                yield self.conn
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from exc

    @_guarded
    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta"))

    @property
    def collect_number(self) -> int:
        """How many collects this ledger has recorded."""
        return int(self.meta().get("collect_number") or 0)

    # --- received files -------------------------------------------------------------------
    @_guarded
    def cached(self, sha256: str, fingerprint: str, checker: str, file: str, path_bytes: bytes = b"",
               size: int = 0, mtime: str = "") -> Submission | None:
        """A file already checked against this definition and master by this checker."""
        row = self.conn.execute(
            "SELECT result, fingerprint, checker, first_collect FROM received WHERE sha256=?",
            (sha256,)).fetchone()
        if not row or not row[0] or row[2] != checker or not same_basis(row[1] or "", fingerprint):
            return None
        sub = Submission.from_stored(json.loads(row[0]), file, path_bytes, sha256, size, mtime)
        sub.first_collect = row[3] or 0
        return sub

    @_guarded
    def first_collects(self) -> dict[str, int]:
        """sha256 -> the collect that first saw it, for every file on record."""
        return {sha: n or 0 for sha, n in self.conn.execute("SELECT sha256, first_collect FROM received")}

    @_guarded
    def on_record(self) -> dict[str, list[OnRecord]]:
        """Every identified file not let go, per department as its form named it."""
        found: dict[str, list[OnRecord]] = {}
        for row in self.conn.execute(
                "SELECT sha256, path, department, form_version, first_collect, saved_at, application, "
                "zip_time, mtime, fingerprint, checker, present FROM received "
                "WHERE outcome=? AND withdrawn=0 ORDER BY first_collect, first_seen, path", (IDENTIFIED,)):
            rec = OnRecord(row[0], row[1], row[2] or "", row[3] or "", row[4] or 0, row[5] or "", row[6] or "",
                           row[7] or "", row[8] or "", row[9] or "", row[10] or "", bool(row[11]))
            found.setdefault(rec.department, []).append(rec)
        return found

    @_guarded
    def stored(self, sha256: str) -> Submission | None:
        """A file's stored result, as it was when it was last checked."""
        row = self.conn.execute("SELECT result, path, path_bytes, size, mtime, first_collect FROM received "
                                "WHERE sha256=?", (sha256,)).fetchone()
        if not row or not row[0]:
            return None
        sub = Submission.from_stored(json.loads(row[0]), row[1], row[2] or b"", sha256, row[3] or 0, row[4] or "")
        sub.first_collect = row[5] or 0
        return sub

    def record_collect(self, submissions: Iterable[Submission], current: Mapping[str, tuple[str | None, str]],
                       fingerprint: str, checker: str) -> int:
        """Record a collect in one transaction: upsert every file read or found (each marked
        present), mark the others gone, replace the snapshot. Returns the collect's number.

        `submissions` is consumed one at a time (each holds a file's whole result as JSON:
        2,000 at once are ~200 MB). A file seen for the first time is stamped with this collect's
        number: the order files were received in."""
        stamp = now()
        with self.transaction() as conn:
            number = int(dict(conn.execute("SELECT key, value FROM meta")).get("collect_number") or 0) + 1
            conn.execute("UPDATE received SET present=0")
            conn.executemany(
                """INSERT INTO received (sha256, first_seen, last_seen, path, path_bytes, size, mtime,
                   saved_at, department, form_version, outcome, errors, warnings, fingerprint, result,
                   first_collect, application, zip_time, checker, present, withdrawn)
                   VALUES (:sha256,:stamp,:stamp,:path,:path_bytes,:size,:mtime,:saved_at,:department,
                   :form_version,:outcome,:errors,:warnings,:fingerprint,:result,:number,:application,
                   :zip_time,:checker,:present,0)
                   ON CONFLICT(sha256) DO UPDATE SET last_seen=excluded.last_seen,
                   path=excluded.path, path_bytes=excluded.path_bytes, mtime=excluded.mtime,
                   department=excluded.department, form_version=excluded.form_version,
                   outcome=excluded.outcome, errors=excluded.errors, warnings=excluded.warnings,
                   fingerprint=excluded.fingerprint, result=excluded.result,
                   application=excluded.application, zip_time=excluded.zip_time,
                   checker=excluded.checker, present=excluded.present, withdrawn=0,
                   first_collect=COALESCE(received.first_collect, excluded.first_collect)""",
                ({**s.record(), "stamp": stamp, "fingerprint": fingerprint, "checker": checker,
                  "number": number} for s in submissions if s.sha256 and s.present))
            conn.execute("DELETE FROM snapshot")
            conn.executemany("INSERT INTO snapshot VALUES (?,?,?,?)",
                             [(d, sha, status, stamp) for d, (sha, status) in current.items()])
            for key, value in (("snapshot_fingerprint", fingerprint), ("snapshot_at", stamp),
                               ("collect_number", str(number))):
                conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        return number

    def withdraw_missing(self, present: Iterable[str]) -> list[str]:
        """Let go of every identified file no longer in 2_回収 (`present`: the sha256 of those
        that are): it stays on record, but no longer counts. Returns their paths."""
        here = set(present)
        with self.transaction() as conn:
            gone = [(sha, path) for sha, path in conn.execute(
                "SELECT sha256, path FROM received WHERE withdrawn=0 AND outcome=?", (IDENTIFIED,))
                if sha not in here]
            conn.executemany("UPDATE received SET withdrawn=1, present=0 WHERE sha256=?", [(s,) for s, _p in gone])
        return sorted(path for _s, path in gone)

    @_guarded
    def history(self) -> list[dict[str, Any]]:
        self.conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in self.conn.execute(
                "SELECT sha256, first_seen, last_seen, path, size, saved_at, department, outcome, "
                "errors, warnings, present, withdrawn FROM received ORDER BY first_seen, path")]
        finally:
            self.conn.row_factory = None

    @_guarded
    def current_answers(self, loaded: Loaded) -> CurrentAnswers:
        """The last collect's answers for this survey: current, stale or never collected.

        Each measure's answer comes from its department's chosen file; a measure answered with
        an error is `invalid` and has no answer; an ended measure is 終了 whatever came back
        (define/master.final_values). Stale answers are returned too, marked so: a caller
        decides whether it may use them.
        """
        from xlsx_tool.define.master import final_values, is_ended

        meta = self.meta()
        if "snapshot_at" not in meta:
            return CurrentAnswers()
        out = CurrentAnswers(
            AnswersState.CURRENT if same_basis(meta.get("snapshot_fingerprint", ""), loaded.fingerprint)
            else AnswersState.STALE, meta.get("snapshot_at", ""), int(meta.get("collect_number") or 0))
        raw: dict[str, dict[str, object]] = {}
        invalid: set[str] = set()
        for department, sha, status in self.conn.execute("SELECT department, sha256, status FROM snapshot"):
            out.status[department] = status
            if not sha:
                continue
            out.chosen[department] = sha
            row = self.conn.execute("SELECT result FROM received WHERE sha256=?", (sha,)).fetchone()
            result = json.loads(row[0]) if row and row[0] else {}
            mine = set(result.get("invalid", []))
            invalid |= mine
            out.problems[department] = [Problem(**p) for p in result.get("problems", [])]
            for measure, values in result.get("answers", {}).items():
                if measure not in mine:
                    raw[measure] = values
        survey = loaded.survey
        for m in loaded.master.measures:
            given = raw.get(m.number)
            if given is not None or is_ended(survey, m):
                out.answers[m.number] = final_values(survey, m, given or {})
        out.invalid = frozenset(n for n in invalid if n in loaded.by_number
                                and not is_ended(survey, loaded.by_number[n]))
        return out

    # --- distributions ----------------------------------------------------------------------
    @_guarded
    def distributions(self) -> dict[str, dict[str, Any]]:
        """department -> its current form record (version, file, measures, sha256)."""
        return {d: {"version": v, "file": f, "measures": json.loads(m), "generated_at": g, "sha256": s}
                for d, v, f, m, g, s in self.conn.execute(
                    "SELECT department, version, file, measures, generated_at, sha256 FROM distributions "
                    "WHERE current=1")}

    @_guarded
    def versions(self, department: str) -> dict[str, list[str]]:
        """Every form version generated for a department -> its measures, oldest first."""
        return {v: json.loads(m) for v, m in self.conn.execute(
            "SELECT version, measures FROM distributions WHERE department=? ORDER BY generated_at, rowid",
            (department,))}

    @_guarded
    def all_versions(self) -> dict[str, dict[str, tuple[list[str], dict[str, str]]]]:
        """department -> version -> (its measures, the names it showed), oldest version first."""
        found: dict[str, dict[str, tuple[list[str], dict[str, str]]]] = {}
        for d, v, m, n in self.conn.execute(
                "SELECT department, version, measures, names FROM distributions ORDER BY generated_at, rowid"):
            found.setdefault(d, {})[v] = (json.loads(m), json.loads(n) if n else {})
        return found

    def record_distribution(self, rows: Iterable[tuple[str, str, str, list[str], str]],
                            names: Mapping[str, str] | None = None) -> None:
        """(department, version, file, measures, sha256) of forms just written; `names`: measure
        number -> the name its form shows."""
        stamp = now()
        names = names or {}
        with self.transaction() as conn:
            for department, version, file, measures, sha in rows:
                shown = {m: names[m] for m in measures if m in names}
                conn.execute("UPDATE distributions SET current=0 WHERE department=?", (department,))
                conn.execute("INSERT OR REPLACE INTO distributions (department, version, file, measures, "
                             "generated_at, sha256, current, names) VALUES (?,?,?,?,?,?,1,?)",
                             (department, version, file, json.dumps(measures, ensure_ascii=False), stamp, sha,
                              json.dumps(shown, ensure_ascii=False) if shown else None))

    # --- deliveries -------------------------------------------------------------------------
    @_guarded
    def delivered(self, department: str, kind: str, key: str, recipient: str) -> bool:
        """Whether this message already went to this address: a corrected address gets it."""
        return self.conn.execute(
            "SELECT 1 FROM deliveries WHERE department=? AND kind=? AND key=? AND recipient=?",
            (department, kind, key, recipient)).fetchone() is not None

    def record_delivery(self, department: str, kind: str, key: str, recipient: str, message_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO deliveries (department, kind, key, recipient, sent_at, message_id) "
                         "VALUES (?,?,?,?,?,?)", (department, kind, key, recipient, now(), message_id))

    @_guarded
    def deliveries(self) -> list[dict[str, Any]]:
        return [{"department": d, "kind": k, "key": key, "recipient": r, "sent_at": s, "message_id": m}
                for d, k, key, r, s, m in self.conn.execute(
                    "SELECT department, kind, key, recipient, sent_at, message_id FROM deliveries ORDER BY id")]


# --- schema versions ------------------------------------------------------------------------

def _schema_version(conn: sqlite3.Connection) -> int:
    """0 for an empty database; 2 for a ledger of release 0.1.0 (its meta says so too)."""
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "meta" not in tables:
        return 2 if "received" in tables else 0
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    try:
        return int(row[0]) if row else (2 if "received" in tables else 0)
    except (TypeError, ValueError):
        return SCHEMA_VERSION + 1  # not a number this release knows


def _migrate(conn: sqlite3.Connection) -> None:
    """Schema 2 (release 0.1.0) to 3, inside the caller's transaction; safe to run twice.

    Files keep the order they were first seen in (their collect numbers are rebuilt from it);
    a fingerprint stored as "<fingerprint>:<release>" becomes the fingerprint and, as the
    checker, the release: a file still in 2_回収 is checked again by this release's checker.
    """
    for table, column, definition in _ADDED:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    seen = [s for (s,) in conn.execute("SELECT DISTINCT first_seen FROM received ORDER BY first_seen")]
    order = {s: i for i, s in enumerate(seen, 1)}
    conn.executemany("UPDATE received SET first_collect=? WHERE first_seen=? AND first_collect IS NULL",
                     [(n, s) for s, n in order.items()])
    for sha, stored in conn.execute("SELECT sha256, fingerprint FROM received WHERE checker IS NULL").fetchall():
        basis, _sep, release = (stored or "").partition(":")
        conn.execute("UPDATE received SET fingerprint=?, checker=? WHERE sha256=?", (basis, release or "0", sha))
    row = conn.execute("SELECT value FROM meta WHERE key='snapshot_fingerprint'").fetchone()
    if row and row[0]:
        conn.execute("UPDATE meta SET value=? WHERE key='snapshot_fingerprint'", (row[0].split(":", 1)[0],))
    if order and not conn.execute("SELECT 1 FROM meta WHERE key='collect_number'").fetchone():
        conn.execute("INSERT INTO meta VALUES ('collect_number', ?)", (str(len(order)),))


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A ledger opened to be read only (another year's, for history or init --from): never
    written, and an older schema is migrated in a copy held in memory."""
    uri = path.resolve().as_uri() + "?mode=ro"
    disk = sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT)
    version = _schema_version(disk)
    if version > SCHEMA_VERSION:
        disk.close()
        raise _too_new(path, version)
    if version == SCHEMA_VERSION:
        return disk
    memory = sqlite3.connect(":memory:")
    disk.backup(memory)
    disk.close()
    with memory:
        if version:
            _migrate(memory)
        memory.executescript(SCHEMA)
    return memory


def _too_new(path: Path, version: int) -> LedgerTooNew:
    return LedgerTooNew(P.sentence("ledger-too-new", path=path, version=version, supported=SCHEMA_VERSION))


def _failure(path: Path, exc: sqlite3.Error) -> OutputError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        why = "ledger-locked"
    elif "readonly" in text or "read-only" in text:
        why = "ledger-readonly"
    elif "disk" in text and "full" in text:
        why = "ledger-disk-full"
    elif "unable to open" in text and (length := database_path_too_long(path)):
        return OutputError(P.sentence("ledger-unusable", path=path, why=P.sentence("too-long-path", length=length)))
    elif "not a database" in text or "malformed" in text:
        why = "ledger-corrupt"
    else:
        why = "ledger-cannot-open"
    return OutputError(P.sentence("ledger-unusable", path=path, why=P.sentence(why)))


@contextmanager
def open_ledger(path: Path, readonly: bool = False) -> Iterator[Ledger]:
    ledger = Ledger(path, readonly)
    try:
        yield ledger
    finally:
        ledger.close()


def exists(path: Path) -> bool:
    return path.is_file() and os.path.getsize(path) > 0


def current_answers(loaded: Loaded, readonly: bool = False) -> CurrentAnswers:
    """The survey's current answers (never collected: an empty record, state NEVER)."""
    from xlsx_tool.define import survey as S

    path = loaded.survey.path(S.LEDGER_FILE)
    if not exists(path):
        return CurrentAnswers()
    with open_ledger(path, readonly) as ledger:
        return ledger.current_answers(loaded)
