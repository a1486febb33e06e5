"""The ledger on its own: a real SQLite file, written and read back through the Ledger API.

What collect, summarize, generate and mail rely on: a file checked once is known by its
sha256 and the fingerprint it was checked against; the snapshot is what summarize tallies;
a department's earlier files come newest first; a form version and a mail are recorded
once; and any SQLite failure is one Japanese sentence naming the ledger and the remedy.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from xlsx_tool import ledger as L
from xlsx_tool.errors import OutputError
from xlsx_tool.ledger import SCHEMA_VERSION, AnswersState, Submission, exists, open_ledger


def row(sha: str, department: str = "ICT推進課", outcome: str = "identified", **result) -> Submission:
    """A checked file as validation leaves it (a failed read when `outcome` is a problem code)."""
    result = {"saved_at": "2022-05-09T01:00:00Z", **result}
    sub = Submission(file=f"2_回収/{sha}.xlsx", path_bytes=f"2_回収/{sha}.xlsx".encode(), sha256=sha, size=1000,
                     mtime="2022-05-09T10:00:00+09:00", department=department if outcome == "identified" else "",
                     form_version="v1", identified=outcome == "identified", answers=result.pop("answers", {}),
                     invalid=set(result.pop("invalid", [])), **result)
    if outcome != "identified":
        sub.add(outcome, detail="x")
    return sub


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
        assert db.collect_number == 0
        assert db.history() == [] and db.on_record() == {} and db.distributions() == {}
        # a rollback journal, never WAL: WAL does not work on the file servers survey folders live on
        assert db.conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
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


def test_a_checked_file_is_found_again_only_under_the_same_fingerprint_and_checker(db):
    db.record_collect([row("aa", answers={"1": {"評価": "達成"}})], {"ICT推進課": ("aa", "submitted")}, "fp1", "c1")
    found = db.cached("aa", "fp1", "c1", "2_回収/改名.xlsx")
    assert (found.answers, found.department, found.file, found.first_collect) == (
        {"1": {"評価": "達成"}}, "ICT推進課", "2_回収/改名.xlsx", 1)
    assert db.cached("aa", "fp2", "c1", "x") is None  # another master: checked again
    assert db.cached("aa", "fp1", "c2", "x") is None  # another checker (a changed rule): checked again
    assert db.cached("bb", "fp1", "c1", "x") is None


def test_a_file_without_a_digest_is_not_recorded(db):
    """A file too large or unreadable to hash has no sha256: nothing can find it again."""
    db.record_collect([row(""), row("aa")], {}, "fp", "c")
    assert [h["sha256"] for h in db.history()] == ["aa"]


def test_recording_a_file_again_keeps_when_it_was_first_seen(db, clock):
    db.record_collect([row("aa")], {}, "fp1", "c")
    again = row("aa", outcome="corrupt")
    again.file = "2_回収/改名.xlsx"
    db.record_collect([again], {}, "fp2", "c")
    (h,) = db.history()
    assert h["first_seen"] == "2022-05-01T09:00:00+09:00"
    assert h["last_seen"] == "2022-05-02T09:00:00+09:00"
    assert (h["path"], h["outcome"], h["errors"], h["department"]) == ("2_回収/改名.xlsx", "corrupt", 1, None)
    assert db.cached("aa", "fp2", "c", "x") is not None and db.cached("aa", "fp1", "c", "x") is None
    assert db.first_collects() == {"aa": 1}  # received in the first collect, whatever came after


def test_history_lists_every_file_by_first_seen_then_path(db, clock):
    db.record_collect([row("bb"), row("aa")], {}, "fp", "c")
    db.record_collect([row("cc", department="人事課"), row("aa")], {}, "fp", "c")
    history = db.history()
    assert [h["sha256"] for h in history] == ["aa", "bb", "cc"]
    assert set(history[0]) == {"sha256", "first_seen", "last_seen", "path", "size", "saved_at", "department",
                               "outcome", "errors", "warnings", "present", "withdrawn"}
    assert (history[2]["department"], history[2]["size"], history[2]["warnings"]) == ("人事課", 1000, 0)
    assert [h["present"] for h in history] == [1, 0, 1]  # bb was not in 2_回収 at the last collect


def test_every_collect_counts_even_within_one_second(db, monkeypatch):
    monkeypatch.setattr(L, "now", lambda: "2022-05-01T09:00:00+09:00")
    for expected in (1, 2, 3):
        assert db.record_collect([], {}, "fp", "c") == expected
        assert db.collect_number == expected


def test_files_on_record_carry_the_evidence_of_when_they_came(db, clock):
    db.record_collect([row("a1", saved_at="2022-05-09T10:00:00Z", application="LibreOffice/7.4",
                           zip_time="2022-05-09T01:00:00"), row("h1", department="人事課")], {}, "fp", "c")
    db.record_collect([row("a2"), row("x1", outcome="corrupt")], {}, "fp", "c")
    found = db.on_record()
    assert sorted(found) == ["ICT推進課", "人事課"]  # a corrupt file belongs to nobody
    a1, a2 = found["ICT推進課"]
    assert (a1.sha256, a1.first_collect, a1.present, a1.saved_at, a1.application, a1.zip_time) == (
        "a1", 1, False, "2022-05-09T10:00:00Z", "LibreOffice/7.4", "2022-05-09T01:00:00")
    assert (a2.sha256, a2.first_collect, a2.present, a2.fingerprint, a2.checker) == ("a2", 2, True, "fp", "c")
    assert db.stored("a1").saved_at == "2022-05-09T10:00:00Z" and db.stored("zz") is None


def test_files_let_go_stay_on_record_but_no_longer_count(db, clock):
    db.record_collect([row("a1"), row("a2")], {}, "fp", "c")
    assert db.withdraw_missing(["a2"]) == ["2_回収/a1.xlsx"]
    assert [r.sha256 for r in db.on_record()["ICT推進課"]] == ["a2"]
    assert {h["sha256"]: h["withdrawn"] for h in db.history()} == {"a1": 1, "a2": 0}
    db.record_collect([row("a1")], {}, "fp", "c")  # the file comes back: it counts again
    assert [r.sha256 for r in db.on_record()["ICT推進課"]] == ["a1", "a2"]


def test_a_new_form_version_replaces_the_current_one_and_keeps_the_old(db, clock):
    db.record_distribution([("ICT推進課", "v1", "1_配布/ICT推進課.xlsx", ["1", "2"], "s1"),
                            ("人事課", "v1", "1_配布/人事課.xlsx", ["9"], "s2")])
    db.record_distribution([("ICT推進課", "v2", "1_配布/ICT推進課_v2.xlsx", ["1", "2", "3"], "s3")])
    current = db.distributions()
    assert current["ICT推進課"] == {"version": "v2", "file": "1_配布/ICT推進課_v2.xlsx", "measures": ["1", "2", "3"],
                                  "generated_at": "2022-05-02T09:00:00+09:00", "sha256": "s3"}
    assert current["人事課"]["version"] == "v1"
    assert db.versions("ICT推進課") == {"v1": ["1", "2"], "v2": ["1", "2", "3"]}
    assert list(db.versions("ICT推進課")) == ["v1", "v2"]  # oldest first: the order forms went out
    assert db.versions("総務課") == {}
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("SELECT version, current FROM distributions WHERE department='ICT推進課' "
                            "ORDER BY version").fetchall() == [("v1", 0), ("v2", 1)]


def test_a_delivery_is_known_by_department_kind_key_and_recipient(db, clock):
    db.record_delivery("ICT推進課", "remind", "missing:3", "ict@example.jp", "<m1@x>")
    assert db.delivered("ICT推進課", "remind", "missing:3", "ict@example.jp")
    assert not db.delivered("ICT推進課", "remind", "missing:4", "ict@example.jp")
    assert not db.delivered("ICT推進課", "distribute", "missing:3", "ict@example.jp")
    assert not db.delivered("人事課", "remind", "missing:3", "ict@example.jp")
    # the address corrected in the department list never got it
    assert not db.delivered("ICT推進課", "remind", "missing:3", "ict-suishin@example.jp")
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
                db.record_collect([row("aa")], {}, "fp", "c")
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
        db.cached("aa", "fp", "c", "x")
    with pytest.raises(OutputError, match=r"^回収台帳 .* を使えません。"):
        db.record_collect([row("aa")], {}, "fp", "c")


# --- versions of the ledger -------------------------------------------------------------------

RELEASE_010 = Path(__file__).parent / "fixtures" / "release-0.1.0"


def test_a_ledger_of_the_previous_release_is_migrated_when_opened(tmp_path: Path):
    import shutil

    folder = shutil.copytree(RELEASE_010 / "令和3年度", tmp_path / "令和3年度")
    path = folder / "回収台帳.sqlite3"
    with sqlite3.connect(path) as conn:  # as 0.1.0 left it
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("2",)
        (stored,) = conn.execute("SELECT DISTINCT fingerprint FROM received").fetchone()
        assert stored.endswith(":0.1.0")
    with open_ledger(path) as db:
        assert db.collect_number == 1
        files = [r for rs in db.on_record().values() for r in rs]
        assert len(files) == 9 and {r.first_collect for r in files} == {1}
        assert {(r.fingerprint, r.checker) for r in files} == {(stored.split(":")[0], "0.1.0")}
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (str(SCHEMA_VERSION),)
    with open_ledger(path) as db:  # opened again: nothing left to migrate, nothing lost
        assert len([r for rs in db.on_record().values() for r in rs]) == 9


def test_another_years_ledger_is_read_without_being_written(tmp_path: Path):
    import hashlib
    import shutil

    path = shutil.copytree(RELEASE_010 / "令和3年度", tmp_path / "令和3年度") / "回収台帳.sqlite3"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open_ledger(path, readonly=True) as db:
        assert db.collect_number == 1 and len(db.on_record()) == 9
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_ledger_of_a_newer_release_is_refused_and_left_alone(tmp_path: Path):
    path = tmp_path / "回収台帳.sqlite3"
    with open_ledger(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value='9' WHERE key='schema'")
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(OutputError) as caught:
            open_ledger(path, readonly).__enter__()
        assert str(caught.value) == (f"回収台帳 {path} は、より新しい版の xlsx-tool で作られています（台帳の形式 9、"
                                     f"この版が使えるのは {SCHEMA_VERSION} まで）。xlsx-tool を新しい版に更新してから実行してください。")
    assert path.read_bytes() == before


def test_current_answers_say_whether_they_are_current_stale_or_never_collected(tmp_path: Path):
    import shutil

    from xlsx_tool.define.master import load

    folder = shutil.copytree(RELEASE_010 / "令和3年度", tmp_path / "令和3年度")
    loaded, _problems = load(folder)
    assert L.current_answers(loaded).state == AnswersState.CURRENT  # an upgrade keeps them current
    answers = L.current_answers(loaded)
    assert len(answers.answers) == 25 and answers.invalid == frozenset()
    assert set(answers.status.values()) == {"submitted"} and len(answers.chosen) == 9
    (folder / "回収台帳.sqlite3").unlink()
    assert L.current_answers(loaded).state == AnswersState.NEVER
