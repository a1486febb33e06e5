"""The ledger: every file ever collected, in an SQLite file in the survey folder.

Keyed by the file's sha256, so re-running collect is idempotent and a superseded or later
deleted submission stays on record. `current` is the snapshot of the last collect: which
submission is each department's answer. summarize reads the answers from here.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from .errors import OutputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER,
    mtime TEXT,
    saved_at TEXT,
    department TEXT,
    form_version TEXT,
    outcome TEXT NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    sha256 TEXT NOT NULL,
    measure TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (sha256, measure, field)
);
CREATE TABLE IF NOT EXISTS problems (
    sha256 TEXT NOT NULL,
    seq INTEGER NOT NULL,
    code TEXT, severity TEXT, sheet TEXT, cell TEXT, measure TEXT, field TEXT, message TEXT,
    PRIMARY KEY (sha256, seq)
);
CREATE TABLE IF NOT EXISTS current (
    department TEXT PRIMARY KEY,
    sha256 TEXT,
    status TEXT NOT NULL,
    collected_at TEXT NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=10)
        conn.executescript(SCHEMA)
    except sqlite3.Error as exc:
        raise OutputError(f"回収台帳 {path} を開けません（{exc}）。別のプログラムで開いていないか確認してください。") from exc
    return conn


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def record(path: Path, submissions: Iterable, current: dict[str, tuple[str | None, str]]) -> None:
    """Store every submission (upsert by hash) and replace the current snapshot, in one transaction."""
    stamp = now()
    with closing(connect(path)) as conn, conn:
        for s in submissions:
            if not s.sha256:
                continue
            outcome = "identified" if s.identified else (s.problems[0].code if s.problems else "unknown")
            conn.execute(
                """INSERT INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(sha256) DO UPDATE SET last_seen=excluded.last_seen,
                   path=excluded.path, mtime=excluded.mtime, department=excluded.department,
                   form_version=excluded.form_version, outcome=excluded.outcome,
                   errors=excluded.errors, warnings=excluded.warnings""",
                (s.sha256, stamp, stamp, s.file, s.size, s.mtime, s.saved_at, s.department or None,
                 s.form_version, outcome, s.errors, s.warnings))
            conn.execute("DELETE FROM answers WHERE sha256=?", (s.sha256,))
            conn.executemany(
                "INSERT INTO answers VALUES (?,?,?,?)",
                [(s.sha256, m, f, json.dumps(v, ensure_ascii=False))
                 for m, fields in s.answers.items() for f, v in fields.items()])
            conn.execute("DELETE FROM problems WHERE sha256=?", (s.sha256,))
            conn.executemany(
                "INSERT INTO problems VALUES (?,?,?,?,?,?,?,?,?)",
                [(s.sha256, i, p.code, p.severity, p.sheet, p.cell, p.measure, p.field, p.message)
                 for i, p in enumerate(s.problems)])
        conn.execute("DELETE FROM current")
        conn.executemany("INSERT INTO current VALUES (?,?,?,?)",
                         [(d, sha, status, stamp) for d, (sha, status) in current.items()])


def current_answers(path: Path) -> tuple[dict[str, dict[str, object]], dict[str, str], set[str]]:
    """(measure -> field -> value, department -> status, measures with an error) of the snapshot."""
    if not path.exists():
        return {}, {}, set()
    with closing(connect(path)) as conn:
        status = {d: s for d, s in conn.execute("SELECT department, status FROM current")}
        answers: dict[str, dict[str, object]] = {}
        for measure, field, value in conn.execute(
                "SELECT a.measure, a.field, a.value FROM answers a JOIN current c ON a.sha256 = c.sha256"):
            answers.setdefault(measure, {})[field] = json.loads(value)
        bad = {m for (m,) in conn.execute(
            "SELECT DISTINCT p.measure FROM problems p JOIN current c ON p.sha256 = c.sha256 "
            "WHERE p.severity = 'error' AND p.measure != ''")}
    return answers, status, bad


def history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with closing(connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM files ORDER BY first_seen, path")]
