"""The ledger: an SQLite file in the survey folder that remembers everything that went out and
everything that came back.

- files: every file ever collected, keyed by its sha256, with what checking it found (as
  JSON) and the fingerprint of the definition and master it was checked against. Re-running
  collect is idempotent, a superseded or later deleted submission stays on record, and a
  file already checked against the same master is not read again.
- current: the snapshot of the last collect (each department's answer and status), with
  the fingerprint it belongs to, so summarize never pairs old answers with a changed master.
- distributions: each form version generated for a department (what went out).
- deliveries: each mail sent (so a re-run never sends the same message twice).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from xlsx_tool.errors import OutputError

T = TypeVar("T")

SCHEMA_VERSION = 2
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
    saved_at TEXT,
    department TEXT,
    form_version TEXT,
    outcome TEXT NOT NULL,       -- "identified" or the problem code that stopped it
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    fingerprint TEXT,            -- definition + master it was checked against
    result TEXT                  -- JSON: answers, invalid measures, problems, respondent
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


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass
class Snapshot:
    """The answers of the last collect: what summarize tallies."""

    fingerprint: str = ""
    collected_at: str = ""
    collect_number: int = 0  # counts collects: two in one second are still two
    answers: dict[str, dict[str, object]] = field(default_factory=dict)  # measure -> field -> value
    status: dict[str, str] = field(default_factory=dict)  # department -> status
    invalid: set[str] = field(default_factory=set)  # measures answered but with an error


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Any SQLite failure becomes one sentence naming the ledger and what to do."""
    @functools.wraps(method)
    def wrapper(self: Ledger, *args: Any, **kw: Any) -> T:
        try:
            return method(self, *args, **kw)
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from exc
    return wrapper


class Ledger:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.conn = sqlite3.connect(path, timeout=LOCK_WAIT)
            self.conn.executescript(SCHEMA)
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self.conn.commit()
        except sqlite3.Error as exc:
            raise _failure(path, exc) from exc

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.conn:
                yield self.conn
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from exc

    # --- received files -------------------------------------------------------------------
    @_guarded
    def cached(self, sha256: str, fingerprint: str) -> dict[str, Any] | None:
        """The stored result of a file already checked against this definition and master."""
        row = self.conn.execute("SELECT result FROM received WHERE sha256=? AND fingerprint=?",
                                (sha256, fingerprint)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def record_collect(self, rows: Iterable[dict[str, Any]], current: dict[str, tuple[str | None, str]],
                       fingerprint: str) -> None:
        """Upsert every file and replace the snapshot, in one transaction. `rows` is consumed
        one at a time (each holds a file's whole result as JSON: 2,000 at once are ~200 MB)."""
        stamp = now()
        with self.transaction() as conn:
            conn.executemany(
                """INSERT INTO received VALUES (:sha256,:stamp,:stamp,:path,:path_bytes,:size,:mtime,
                   :saved_at,:department,:form_version,:outcome,:errors,:warnings,:fingerprint,:result)
                   ON CONFLICT(sha256) DO UPDATE SET last_seen=excluded.last_seen,
                   path=excluded.path, path_bytes=excluded.path_bytes, mtime=excluded.mtime,
                   department=excluded.department, form_version=excluded.form_version,
                   outcome=excluded.outcome, errors=excluded.errors, warnings=excluded.warnings,
                   fingerprint=excluded.fingerprint, result=excluded.result""",
                ({**r, "stamp": stamp, "fingerprint": fingerprint} for r in rows if r.get("sha256")))
            conn.execute("DELETE FROM snapshot")
            conn.executemany("INSERT INTO snapshot VALUES (?,?,?,?)",
                             [(d, sha, status, stamp) for d, (sha, status) in current.items()])
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot_fingerprint', ?)", (fingerprint,))
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot_at', ?)", (stamp,))
            conn.execute("""INSERT INTO meta VALUES ('collect_number', '1') ON CONFLICT(key)
                            DO UPDATE SET value = CAST(value AS INTEGER) + 1""")

    @_guarded
    def earlier(self) -> dict[str, list[dict[str, Any]]]:
        """The identified files on record of each department that sent more than one (for
        replacements), newest first; one query, however many departments there are."""
        rows = self.conn.execute(
            "SELECT department, sha256, path, saved_at, mtime, result FROM received "
            "WHERE outcome='identified' AND department IN (SELECT department FROM received "
            "WHERE outcome='identified' GROUP BY department HAVING COUNT(*) > 1) "
            "ORDER BY first_seen DESC")
        found: dict[str, list[dict[str, Any]]] = {}
        for d, s, p, sa, m, r in rows:
            found.setdefault(d, []).append({"sha256": s, "path": p, "saved_at": sa or "", "mtime": m or "",
                                            "result": json.loads(r) if r else {}})
        return found

    @_guarded
    def history(self) -> list[dict[str, Any]]:
        self.conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in self.conn.execute(
                "SELECT sha256, first_seen, last_seen, path, size, saved_at, department, outcome, "
                "errors, warnings FROM received ORDER BY first_seen, path")]
        finally:
            self.conn.row_factory = None

    @_guarded
    def snapshot(self) -> Snapshot:
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        snap = Snapshot(meta.get("snapshot_fingerprint", ""), meta.get("snapshot_at", ""),
                        int(meta.get("collect_number") or 0))
        for department, sha, status in self.conn.execute("SELECT department, sha256, status FROM snapshot"):
            snap.status[department] = status
            if not sha:
                continue
            row = self.conn.execute("SELECT result FROM received WHERE sha256=?", (sha,)).fetchone()
            result = json.loads(row[0]) if row and row[0] else {}
            invalid = set(result.get("invalid", []))
            snap.invalid |= invalid
            for measure, values in result.get("answers", {}).items():
                if measure not in invalid:
                    snap.answers[measure] = values
        return snap

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
        """Every form version ever generated for a department -> its measures."""
        return {v: json.loads(m) for v, m in self.conn.execute(
            "SELECT version, measures FROM distributions WHERE department=?", (department,))}

    def record_distribution(self, rows: Iterable[tuple[str, str, str, list[str], str]]) -> None:
        """(department, version, file, measures, sha256) of forms just written."""
        stamp = now()
        with self.transaction() as conn:
            for department, version, file, measures, sha in rows:
                conn.execute("UPDATE distributions SET current=0 WHERE department=?", (department,))
                conn.execute("INSERT OR REPLACE INTO distributions VALUES (?,?,?,?,?,?,1)",
                             (department, version, file, json.dumps(measures, ensure_ascii=False), stamp, sha))

    # --- deliveries -------------------------------------------------------------------------
    @_guarded
    def delivered(self, department: str, kind: str, key: str) -> bool:
        return self.conn.execute("SELECT 1 FROM deliveries WHERE department=? AND kind=? AND key=?",
                                 (department, kind, key)).fetchone() is not None

    def record_delivery(self, department: str, kind: str, key: str, recipient: str, message_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO deliveries (department, kind, key, recipient, sent_at, message_id) "
                         "VALUES (?,?,?,?,?,?)", (department, kind, key, recipient, now(), message_id))

    @_guarded
    def deliveries(self) -> list[dict[str, Any]]:
        return [{"department": d, "kind": k, "key": key, "recipient": r, "sent_at": s, "message_id": m}
                for d, k, key, r, s, m in self.conn.execute(
                    "SELECT department, kind, key, recipient, sent_at, message_id FROM deliveries ORDER BY id")]


def _failure(path: Path, exc: sqlite3.Error) -> OutputError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        why = "別のプログラム（別の xlsx-tool や DB ツール）が使用中です。終了してから再実行してください"
    elif "readonly" in text or "read-only" in text:
        why = "書き込みできません（読み取り専用）。ファイルやフォルダの設定を確認してください"
    elif "disk" in text and "full" in text:
        why = "ディスクの空き容量が足りません"
    elif "not a database" in text or "malformed" in text:
        why = "台帳ファイルが壊れています。別名で退避してから collect を再実行してください"
    else:
        why = "開けません。ファイルのアクセス権や空き容量を確認してください"
    return OutputError(f"回収台帳 {path} を使えません。{why}。")


@contextmanager
def open_ledger(path: Path) -> Iterator[Ledger]:
    ledger = Ledger(path)
    try:
        yield ledger
    finally:
        ledger.close()


def exists(path: Path) -> bool:
    return path.is_file() and os.path.getsize(path) > 0
