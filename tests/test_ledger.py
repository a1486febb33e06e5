"""The ledger on its own: a real SQLite file, written and read back through the Ledger API.

What collect, summarize, generate and mail rely on: a file checked once is known by its
sha256 and the fingerprint it was checked against; the snapshot is what summarize tallies;
a department's earlier files come newest first; a form version and a mail are recorded
once; and any SQLite failure is one Japanese sentence naming the ledger and the remedy.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from xlsx_tool import ledger as L
from xlsx_tool.errors import OutputError
from xlsx_tool.ledger import SCHEMA_VERSION, exists, open_ledger


def row(sha: str, department: str = "ICT推進課", outcome: str = "identified", **result) -> dict:
    """A ledger row as Submission.record() makes it."""
    body = {"department": department, "answers": {}, "invalid": [], **result}
    return {"sha256": sha, "path": f"2_回収/{sha}.xlsx", "path_bytes": f"2_回収/{sha}.xlsx".encode(),
            "size": 1000, "mtime": "2022-05-09T10:00:00+09:00", "saved_at": "2022-05-09T01:00:00Z",
            "department": department if outcome == "identified" else None, "form_version": "v1",
            "outcome": outcome, "errors": 0 if outcome == "identified" else 1, "warnings": 2,
            "result": json.dumps(body, ensure_ascii=False)}


@pytest.fixture
def clock(monkeypatch):
    """Stamps the ledger writes, one minute apart, so the order of events is known."""
    times = iter(f"2022-05-{day:02d}T09:00:00+09:00" for day in range(1, 29))
    monkeypatch.setattr(L, "now", lambda: next(times))


@pytest.fixture
def db(tmp_path: Path):
    with open_ledger(tmp_path / "回収台帳.sqlite3") as ledger:
        yield ledger


def test_a_new_ledger_records_its_schema_and_is_empty(tmp_path: Path):
    path = tmp_path / "回収台帳.sqlite3"
    assert not exists(path)
    with open_ledger(path) as db:
        snap = db.snapshot()
        assert (snap.fingerprint, snap.collected_at, snap.collect_number) == ("", "", 0)
        assert (snap.answers, snap.status, snap.invalid) == ({}, {}, set())
        assert db.history() == [] and db.earlier() == {} and db.distributions() == {}
    assert exists(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (str(SCHEMA_VERSION),)


def test_the_ledger_waits_for_another_program_as_long_as_it_says(tmp_path: Path):
    with open_ledger(tmp_path / "回収台帳.sqlite3") as db:
        assert db.conn.execute("PRAGMA busy_timeout").fetchone() == (int(L.LOCK_WAIT * 1000),)


def test_exists_wants_a_file_with_content(tmp_path: Path):
    (tmp_path / "empty.sqlite3").write_bytes(b"")
    (tmp_path / "folder.sqlite3").mkdir()
    assert not exists(tmp_path / "empty.sqlite3")
    assert not exists(tmp_path / "folder.sqlite3")
    assert not exists(tmp_path / "absent.sqlite3")
    (tmp_path / "one.sqlite3").write_bytes(b"x")
    assert exists(tmp_path / "one.sqlite3")


def test_a_checked_file_is_found_again_only_under_the_same_fingerprint(db):
    db.record_collect([row("aa", answers={"1": {"評価": "達成"}})], {"ICT推進課": ("aa", "submitted")}, "fp1")
    assert db.cached("aa", "fp1") == {"department": "ICT推進課", "answers": {"1": {"評価": "達成"}}, "invalid": []}
    assert db.cached("aa", "fp2") is None
    assert db.cached("bb", "fp1") is None


def test_a_file_without_a_digest_is_not_recorded(db):
    """A file too large or unreadable to hash has no sha256: nothing can find it again."""
    db.record_collect([row(""), row("aa")], {}, "fp")
    assert [h["sha256"] for h in db.history()] == ["aa"]


def test_recording_a_file_again_keeps_when_it_was_first_seen(db, clock):
    db.record_collect([row("aa")], {}, "fp1")
    again = {**row("aa"), "path": "2_回収/改名.xlsx", "outcome": "corrupt", "errors": 1, "department": None}
    db.record_collect([again], {}, "fp2")
    (h,) = db.history()
    assert h["first_seen"] == "2022-05-01T09:00:00+09:00"
    assert h["last_seen"] == "2022-05-02T09:00:00+09:00"
    assert (h["path"], h["outcome"], h["errors"], h["department"]) == ("2_回収/改名.xlsx", "corrupt", 1, None)
    assert db.cached("aa", "fp2") is not None and db.cached("aa", "fp1") is None


def test_history_lists_every_file_by_first_seen_then_path(db, clock):
    db.record_collect([row("bb"), row("aa")], {}, "fp")
    db.record_collect([row("cc", department="人事課"), row("aa")], {}, "fp")
    history = db.history()
    assert [h["sha256"] for h in history] == ["aa", "bb", "cc"]
    assert set(history[0]) == {"sha256", "first_seen", "last_seen", "path", "size", "saved_at", "department",
                               "outcome", "errors", "warnings"}
    assert (history[2]["department"], history[2]["size"], history[2]["warnings"]) == ("人事課", 1000, 2)


def test_the_snapshot_is_the_last_collect_without_the_measures_in_error(db, clock):
    db.record_collect([row("old", answers={"1": {"評価": "未達成"}})], {"ICT推進課": ("old", "submitted")}, "fp0")
    ict = row("aa", answers={"1": {"評価": "達成"}, "2": {"評価": "たぶん"}}, invalid=["2"])
    hr = row("bb", department="人事課", answers={"9": {"評価": "達成+"}})
    db.record_collect([ict, hr], {"ICT推進課": ("aa", "needs_fix"), "人事課": ("bb", "submitted"),
                                  "総務課": (None, "missing")}, "fp1")
    snap = db.snapshot()
    assert snap.answers == {"1": {"評価": "達成"}, "9": {"評価": "達成+"}}
    assert snap.invalid == {"2"}
    assert snap.status == {"ICT推進課": "needs_fix", "人事課": "submitted", "総務課": "missing"}
    assert (snap.fingerprint, snap.collected_at) == ("fp1", "2022-05-02T09:00:00+09:00")
    assert snap.collect_number == 2


def test_every_collect_counts_even_within_one_second(db, monkeypatch):
    monkeypatch.setattr(L, "now", lambda: "2022-05-01T09:00:00+09:00")
    for expected in (1, 2, 3):
        db.record_collect([], {}, "fp")
        assert db.snapshot().collect_number == expected


def test_earlier_files_are_those_of_departments_that_sent_more_than_one_newest_first(db, clock):
    db.record_collect([row("a1", answers={"1": {"評価": "未達成"}}), row("h1", department="人事課")], {}, "fp")
    db.record_collect([row("a2", answers={"1": {"評価": "達成"}}), row("x1", outcome="corrupt")], {}, "fp")
    db.record_collect([row("a3")], {}, "fp")
    earlier = db.earlier()
    assert list(earlier) == ["ICT推進課"]  # 人事課 sent one; a corrupt file belongs to nobody
    assert [e["sha256"] for e in earlier["ICT推進課"]] == ["a3", "a2", "a1"]
    first = earlier["ICT推進課"][2]
    assert first == {"sha256": "a1", "path": "2_回収/a1.xlsx", "saved_at": "2022-05-09T01:00:00Z",
                     "mtime": "2022-05-09T10:00:00+09:00", "result": json.loads(row("a1", answers={
                         "1": {"評価": "未達成"}})["result"])}


def test_a_new_form_version_replaces_the_current_one_and_keeps_the_old(db, clock):
    db.record_distribution([("ICT推進課", "v1", "1_配布/ICT推進課.xlsx", ["1", "2"], "s1"),
                            ("人事課", "v1", "1_配布/人事課.xlsx", ["9"], "s2")])
    db.record_distribution([("ICT推進課", "v2", "1_配布/ICT推進課_v2.xlsx", ["1", "2", "3"], "s3")])
    current = db.distributions()
    assert current["ICT推進課"] == {"version": "v2", "file": "1_配布/ICT推進課_v2.xlsx", "measures": ["1", "2", "3"],
                                  "generated_at": "2022-05-02T09:00:00+09:00", "sha256": "s3"}
    assert current["人事課"]["version"] == "v1"
    assert db.versions("ICT推進課") == {"v1": ["1", "2"], "v2": ["1", "2", "3"]}
    assert db.versions("総務課") == {}
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("SELECT version, current FROM distributions WHERE department='ICT推進課' "
                            "ORDER BY version").fetchall() == [("v1", 0), ("v2", 1)]


def test_a_delivery_is_known_by_department_kind_and_key(db, clock):
    db.record_delivery("ICT推進課", "remind", "missing:3", "ict@example.jp", "<m1@x>")
    assert db.delivered("ICT推進課", "remind", "missing:3")
    assert not db.delivered("ICT推進課", "remind", "missing:4")
    assert not db.delivered("ICT推進課", "distribute", "missing:3")
    assert not db.delivered("人事課", "remind", "missing:3")
    db.record_delivery("人事課", "distribute", "v1", "hr@example.jp", "<m2@x>")
    assert db.deliveries() == [
        {"department": "ICT推進課", "kind": "remind", "key": "missing:3", "recipient": "ict@example.jp",
         "sent_at": "2022-05-01T09:00:00+09:00", "message_id": "<m1@x>"},
        {"department": "人事課", "kind": "distribute", "key": "v1", "recipient": "hr@example.jp",
         "sent_at": "2022-05-02T09:00:00+09:00", "message_id": "<m2@x>"}]


def test_a_file_that_is_not_a_database_is_one_sentence_with_the_remedy(tmp_path: Path):
    path = tmp_path / "回収台帳.sqlite3"
    path.write_bytes(b"this is not a database, it is a note someone saved here" * 100)
    with pytest.raises(OutputError) as caught:
        open_ledger(path).__enter__()
    assert str(caught.value) == f"回収台帳 {path} を使えません。台帳ファイルが壊れています。別名で退避してから collect を再実行してください。"


def test_a_ledger_held_by_another_program_says_so(tmp_path: Path, monkeypatch):
    path = tmp_path / "回収台帳.sqlite3"
    with open_ledger(path):
        pass
    monkeypatch.setattr(L, "LOCK_WAIT", 0.05)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OutputError, match="別のプログラム（別の xlsx-tool や DB ツール）が使用中です"):
            with open_ledger(path) as db:
                db.record_collect([row("aa")], {}, "fp")
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.parametrize(("error", "why"), [
    ("database is locked", "別のプログラム（別の xlsx-tool や DB ツール）が使用中です。終了してから再実行してください"),
    ("database table is busy", "別のプログラム（別の xlsx-tool や DB ツール）が使用中です。終了してから再実行してください"),
    ("attempt to write a readonly database", "書き込みできません（読み取り専用）。ファイルやフォルダの設定を確認してください"),
    ("read-only file system", "書き込みできません（読み取り専用）。ファイルやフォルダの設定を確認してください"),
    ("database or disk is full", "ディスクの空き容量が足りません"),
    ("database disk image is malformed", "台帳ファイルが壊れています。別名で退避してから collect を再実行してください"),
    ("unable to open database file", "開けません。ファイルのアクセス権や空き容量を確認してください"),
    ("disk I/O error", "開けません。ファイルのアクセス権や空き容量を確認してください"),
])
def test_each_sqlite_failure_names_its_remedy(tmp_path: Path, error: str, why: str):
    path = tmp_path / "回収台帳.sqlite3"
    assert str(L._failure(path, sqlite3.OperationalError(error))) == f"回収台帳 {path} を使えません。{why}。"


def test_a_failure_inside_a_read_is_the_same_sentence(db):
    db.conn.execute("DROP TABLE received")
    with pytest.raises(OutputError, match=r"^回収台帳 .* を使えません。開けません。"):
        db.cached("aa", "fp")
    with pytest.raises(OutputError, match=r"^回収台帳 .* を使えません。"):
        db.record_collect([row("aa")], {}, "fp")
