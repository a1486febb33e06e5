"""Deciding each department's answer from the files it sent (collect/decide.py), with no file
read: submissions are built as the validation would leave them."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.collect.decide import (
    MISSING,
    NEEDS_FIX,
    SUBMITTED,
    ChangedAnswer,
    Evidence,
    Replacement,
    decide,
    parse_time,
    received,
)
from xlsx_tool.collect.validate import Submission
from xlsx_tool.define.master import load
from xlsx_tool.ledger import OnRecord

# 2020 template: 課C's only measure ended last year (前年度方向性 完了), so it is not asked.
HEADER = ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"]
ROWS = [[1, "施策1", "1：目標一", "課A", "A", ""], [2, "施策2", "1：目標一", "課A", "B", ""],
        [10, "施策10", "2：目標二", "課A", "A", ""], [3, "施策3", "2：目標二", "課B", "A", ""],
        [4, "施策4", "2：目標二", "課C", "A", "完了"]]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    loaded, problems = load(make_survey(tmp_path_factory.mktemp("decide") / "survey", "2020", HEADER, ROWS))
    assert loaded is not None, problems
    return loaded


def sub(file: str, department: str = "課A", saved: str = "2022-05-09T01:00:00Z", mtime: str = "",
        sha: str = "", answers: dict | None = None, **kw) -> Submission:
    return Submission(file=file, department=department, identified=bool(department), saved_at=saved,
                      mtime=mtime, sha256=sha or file, answers=answers or {}, **kw)


def record(path: str, saved: str, answers: dict, respondent: dict | None = None, mtime: str = "",
           first_collect: int = 1) -> tuple[OnRecord, Submission]:
    """A department's earlier file as the ledger knows it (a row, and its stored result)."""
    rec = OnRecord(path, path, "課A", "", first_collect, saved, "", "", mtime, "fp", "c", False)
    return rec, Submission(file=path, sha256=path, department="課A", identified=True, saved_at=saved, mtime=mtime,
                           answers=answers, respondent=respondent or {})


def on_record(*records: tuple[OnRecord, Submission], department: str = "課A") -> Evidence:
    """Evidence of earlier collects: the files on record and their stored results."""
    stored = {sub.sha256: sub for _rec, sub in records}
    return Evidence({department: [rec for rec, _sub in records]}, stored.get, {}, "fp", "c", 2)


def test_with_nothing_returned_every_asked_department_is_missing(loaded):
    result = decide(loaded, [], [])
    assert [(d.department, d.status, d.measures) for d in result.departments] == [
        ("課A", MISSING, 3), ("課B", MISSING, 1), ("課C", SUBMITTED, 1)]  # 課C has nothing to answer
    assert not result.complete
    assert (result.count(MISSING), result.count(SUBMITTED), result.count(NEEDS_FIX)) == (2, 1, 0)
    assert result.problems == [] and result.replacements == []


def test_the_newest_save_wins_and_the_older_is_superseded(loaded):
    old = sub("a_old.xlsx", saved="2022-05-09T01:00:00Z", answers={"1": {"評価": "A"}})
    new = sub("a_new.xlsx", saved="2022-05-10T01:00:00+09:00", answers={"1": {"評価": "A"}})
    result = decide(loaded, [new, old], [])
    a = result.departments[0]
    assert (a.status, a.file, a.received) == (SUBMITTED, "a_new.xlsx", "2022-05-10T01:00:00+09:00")
    (p,) = result.problems
    assert (p.code, p.file, p.department) == ("superseded", "a_old.xlsx", "課A")
    assert "a_new.xlsx" in p.message
    assert result.replacements == []  # same answers: nothing replaced


def test_the_save_time_inside_the_file_wins_over_the_file_time(loaded):
    inside_newer = sub("x.xlsx", saved="2022-05-10T00:00:00Z", mtime="2022-05-01T00:00:00+09:00")
    file_newer = sub("y.xlsx", saved="2022-05-09T00:00:00Z", mtime="2022-06-01T00:00:00+09:00")
    assert decide(loaded, [file_newer, inside_newer], []).departments[0].file == "x.xlsx"


def test_without_a_save_time_the_file_time_decides_then_the_name(loaded):
    a = sub("a.xlsx", saved="", mtime="2022-05-10T09:00:00+09:00")
    b = sub("b.xlsx", saved="", mtime="2022-05-11T09:00:00+09:00")
    result = decide(loaded, [b, a], [])
    assert (result.departments[0].file, result.departments[0].received) == ("b.xlsx", "2022-05-11T09:00:00+09:00")
    same_time = [sub("c.xlsx", mtime="x"), sub("d.xlsx", mtime="x")]
    assert decide(loaded, same_time, []).departments[0].file == "d.xlsx"


def test_an_unidentified_file_is_nobodys_answer_but_its_problems_are_listed(loaded):
    stray = Submission(file="何か.xlsx")
    stray.add("not-a-form")
    result = decide(loaded, [stray], [{"file": "x.tmp", "code": "temp-file", "reason": "一時ファイル"}])
    assert [p.code for p in result.problems] == ["not-a-form"]
    assert all(d.status == MISSING for d in result.departments[:2])
    assert result.skipped == [{"file": "x.tmp", "code": "temp-file", "reason": "一時ファイル"}]


def test_an_error_makes_the_department_needs_fix_with_its_counts(loaded):
    s = sub("b.xlsx", department="課B", respondent={"記入者": "山田", "内線": "1234"})
    s.add("unknown-choice", field="評価", value="たぶん", choices="A、B", measure="3")
    s.add("normalized", field="評価", value="Ａ", normalized="A", measure="3")
    s.add("measure-added-after-form", measure="3")
    result = decide(loaded, [s], [])
    b = result.departments[1]
    assert (b.department, b.status, b.errors, b.warnings, b.unanswered) == ("課B", NEEDS_FIX, 1, 1, 1)
    assert b.respondent == {"記入者": "山田", "内線": "1234"}
    assert b.respondent is not s.respondent
    assert [p.code for p in result.problems] == ["unknown-choice", "normalized", "measure-added-after-form"]


def test_complete_needs_every_department_submitted_and_nothing_unanswered(loaded):
    a, b = sub("a.xlsx"), sub("b.xlsx", department="課B")
    assert decide(loaded, [a, b], []).complete
    late = sub("b.xlsx", department="課B")
    late.add("measure-added-after-form", measure="3")
    result = decide(loaded, [a, late], [])
    assert result.count(SUBMITTED) == 3 and not result.complete


def test_a_newer_file_that_changes_answers_is_a_replacement_listing_each_change(loaded):
    old = sub("a1.xlsx", saved="2022-05-09T01:00:00Z", respondent={"記入者": "佐藤"},
              answers={"1": {"評価": "A", "取組実績": "実施"}, "10": {"評価": "B"}, "2": {"評価": "B"}})
    new = sub("a2.xlsx", saved="2022-05-12T01:00:00Z", respondent={"記入者": "鈴木"},
              answers={"1": {"評価": "B", "取組実績": "実施"}, "10": {"評価": "A"}, "2": {"評価": "B", "課題": "なし"}})
    result = decide(loaded, [old, new], [])
    (r,) = result.replacements
    assert (r.department, r.old_file, r.new_file, r.old_saved, r.new_saved) == (
        "課A", "a1.xlsx", "a2.xlsx", "2022-05-09T01:00:00+00:00", "2022-05-12T01:00:00+00:00")
    assert (r.old_respondent, r.new_respondent) == ("佐藤", "鈴木")
    assert r.changes == [ChangedAnswer("1", "評価", "A", "B"), ChangedAnswer("2", "課題", None, "なし"), ChangedAnswer("10", "評価", "B", "A")]
    assert result.departments[0].replaced


def test_without_a_save_time_the_file_time_decides_not_the_name(loaded):
    # neither file has a save time inside: the one saved to disk later is the current one
    later = sub("a.xlsx", saved="", mtime="2022-05-11T09:00:00+09:00", answers={"1": {"評価": "A"}})
    earlier = sub("b.xlsx", saved="", mtime="2022-05-10T09:00:00+09:00", answers={"1": {"評価": "B"}})
    result = decide(loaded, [earlier, later], [])
    assert result.departments[0].file == "a.xlsx"
    (r,) = result.replacements
    assert (r.old_file, r.new_file) == ("b.xlsx", "a.xlsx")


def test_a_replacement_is_against_the_newest_earlier_file(loaded):
    # three files of one department: the newest is compared with the one saved just before it,
    # by the time saved inside the files, whatever the files' own times and names say
    a = sub("a.xlsx", saved="2022-05-01T00:00:00Z", mtime="2022-05-20T00:00:00Z", answers={"1": {"評価": "A"}})
    b = sub("b.xlsx", saved="2022-05-05T00:00:00Z", mtime="2022-05-02T00:00:00Z", answers={"1": {"評価": "B"}})
    c = sub("c.xlsx", saved="2022-05-09T00:00:00Z", mtime="2022-05-21T00:00:00Z", answers={"1": {"評価": "C"}})
    (r,) = decide(loaded, [a, b, c], []).replacements
    assert (r.old_file, r.new_file, r.changes) == ("b.xlsx", "c.xlsx", [ChangedAnswer("1", "評価", "B", "C")])
    # without save times, the files' own times order them
    a2 = sub("a.xlsx", saved="", mtime="2022-05-03T00:00:00Z", answers={"1": {"評価": "A"}})
    b2 = sub("b.xlsx", saved="", mtime="2022-05-01T00:00:00Z", answers={"1": {"評価": "B"}})
    c2 = sub("c.xlsx", saved="", mtime="2022-05-05T00:00:00Z", answers={"1": {"評価": "C"}})
    (r,) = decide(loaded, [a2, b2, c2], []).replacements
    assert (r.old_file, r.new_file) == ("a.xlsx", "c.xlsx")


def test_earlier_collects_are_searched_past_the_current_file_itself(loaded):
    # the current file was already seen by an earlier collect; the file before it still counts
    now = sub("a3.xlsx", sha="s3", saved="", mtime="2022-05-09T00:00:00Z", answers={"1": {"評価": "A"}})
    seen_rec, seen = record("a3.xlsx", "", {"1": {"評価": "A"}}, mtime="2022-05-09T00:00:00Z")
    seen_rec = OnRecord(**{**seen_rec.__dict__, "sha256": "s3"})
    older = record("a0.xlsx", "", {"1": {"評価": "B"}}, mtime="2022-05-01T00:00:00Z")
    oldest = record("a1.xlsx", "", {"1": {"評価": "C"}}, mtime="2022-04-01T00:00:00Z")  # by time, not name
    (r,) = decide(loaded, [now], [], on_record((seen_rec, seen), oldest, older)).replacements
    assert (r.old_file, r.old_saved, r.changes) == ("a0.xlsx", "2022-05-01T00:00:00Z",
                                                    [ChangedAnswer("1", "評価", "B", "A")])


def test_a_ledger_row_without_answers_or_respondent_compares_as_empty(loaded):
    # a row stored before those keys existed: every answer of the new file is a change
    new = sub("a2.xlsx", answers={"1": {"評価": "A"}, "10": {"評価": "B"}}, respondent={"記入者": "鈴木"})
    (r,) = decide(loaded, [new], [], on_record(record("a1.xlsx", "2022-05-01T00:00:00Z", {}))).replacements
    assert r.changes == [ChangedAnswer("1", "評価", None, "A"), ChangedAnswer("10", "評価", None, "B")]
    assert (r.old_respondent, r.new_respondent) == ("", "鈴木")


def test_an_answer_the_new_file_no_longer_has_is_a_change(loaded):
    old = sub("a1.xlsx", saved="2022-05-01T00:00:00Z", answers={"1": {"評価": "A"}, "2": {"評価": "B"}})
    new = sub("a2.xlsx", saved="2022-05-02T00:00:00Z", answers={"1": {"評価": "A"}})
    (r,) = decide(loaded, [old, new], []).replacements
    assert r.changes == [ChangedAnswer("2", "評価", "B", None)]


def test_a_value_that_was_not_valid_is_shown_as_it_was_typed(loaded):
    old = sub("a1.xlsx", saved="2022-05-01T00:00:00Z", answers={"1": {}}, typed={"1": {"評価": "達成済"}})
    new = sub("a2.xlsx", saved="2022-05-02T00:00:00Z", answers={"1": {"評価": "A"}}, typed={"1": {"評価": "A"}})
    (r,) = decide(loaded, [old, new], []).replacements
    assert r.changes == [ChangedAnswer("1", "評価", "達成済", "A", old_valid=False)]


def test_the_same_file_twice_is_one_submission_named_once(loaded):
    a = sub("a.xlsx", sha="s1", answers={"1": {"評価": "A"}})
    copy = sub("コピー/a.xlsx", sha="s1", saved="2022-05-09T01:00:00Z", answers={"1": {"評価": "A"}})
    rec, stored = record("a.xlsx", "2022-05-09T01:00:00Z", {"1": {"評価": "C"}})
    same = OnRecord(**{**rec.__dict__, "sha256": "s1"})
    result = decide(loaded, [a, copy], [], on_record((same, stored)))
    assert result.replacements == [] and not result.departments[0].replaced
    (p,) = result.problems  # one of the two is named as the other's copy
    assert p.code == "duplicate-file" and {p.file, result.departments[0].file} == {"a.xlsx", "コピー/a.xlsx"}
    # the same name with other content is another file: its answers are compared
    (r,) = decide(loaded, [a], [], on_record((rec, stored))).replacements
    assert r.changes == [ChangedAnswer("1", "評価", "C", "A")]


def test_a_file_received_later_wins_and_is_compared_with_the_answer_before_it(loaded):
    # files of earlier collects, gone from 2_回収 since: the one received now is the answer, and it
    # replaces the best of those before it, whatever their save times say
    new = sub("a2.xlsx", saved="2022-05-12T01:00:00Z", answers={"1": {"評価": "B"}}, respondent={"記入者": "鈴木"})
    gone = record("gone.xlsx", "2022-05-10T00:00:00Z", {"1": {"評価": "A"}}, {"記入者": "佐藤"})
    older = record("older.xlsx", "2022-05-01T00:00:00Z", {"1": {"評価": "C"}})
    result = decide(loaded, [new], [], on_record(gone, older))
    (r,) = result.replacements
    assert (r.old_file, r.old_saved, r.old_respondent, r.reason) == (
        "gone.xlsx", "2022-05-10T00:00:00+00:00", "佐藤", "後から受け付けたため")
    assert r.changes == [ChangedAnswer("1", "評価", "A", "B")]
    assert result.problems == []


def test_an_old_file_sent_again_wins_by_receipt_but_is_named(loaded):
    # received now, but saved before the file of an earlier collect: an old file sent again?
    resent = sub("再送.xlsx", saved="2022-05-01T00:00:00Z", answers={"1": {"評価": "C"}})
    newer = record("最新.xlsx", "2022-05-20T00:00:00Z", {"1": {"評価": "A"}})
    result = decide(loaded, [resent], [], on_record(newer))
    assert result.departments[0].file == "再送.xlsx"
    (p,) = result.problems
    assert (p.code, p.file, p.severity) == ("older-save-chosen", "再送.xlsx", "warning")
    assert "最新.xlsx" in p.message and "後から受け付けたため" in p.message


def test_a_file_on_record_without_a_save_time_is_shown_with_its_file_time(loaded):
    new = sub("a2.xlsx", answers={"1": {"評価": "B"}})
    earlier = record("a1.xlsx", "", {"1": {"評価": "A"}}, mtime="2022-05-08T09:00:00+09:00")
    (r,) = decide(loaded, [new], [], on_record(earlier)).replacements
    assert (r.old_file, r.old_saved, r.old_respondent, r.new_respondent) == ("a1.xlsx", "2022-05-08T09:00:00+09:00", "", "")


def test_other_departments_records_are_not_compared(loaded):
    new = sub("a2.xlsx", answers={"1": {"評価": "B"}})
    elsewhere = on_record(record("b.xlsx", "2022-05-01T00:00:00Z", {"1": {"評価": "A"}}), department="課B")
    assert decide(loaded, [new], [], elsewhere).replacements == []


def test_replacement_json_cuts_long_answers_only():
    long = "あ" * 300
    r = Replacement("課A", "a1.xlsx", "a2.xlsx", "", "", [ChangedAnswer("1", "取組実績", long, "短い"), ChangedAnswer("1", "実績値", 3, 4)])
    data = r.as_dict()
    changes = data["changes"]
    assert changes[0]["old"] == "あ" * 199 + "…" and changes[0]["new"] == "短い"
    assert (changes[1]["old"], changes[1]["new"]) == (3, 4)
    assert changes[1] == {"measure": "1", "field": "実績値", "old": 3, "new": 4}
    named = Replacement("課A", "a1.xlsx", "a2.xlsx", "", "", [], old_respondent="山田", new_respondent="佐藤",
                        reason="後から受け付けたため").as_dict()
    assert named == {"department": "課A", "old_file": "a1.xlsx", "new_file": "a2.xlsx",
                     "old_respondent": "山田", "new_respondent": "佐藤", "reason": "後から受け付けたため",
                     "changes": []}


@pytest.mark.parametrize(("text", "expected"), [
    ("2022-05-09T01:00:00Z", dt.datetime(2022, 5, 9, 1, tzinfo=dt.UTC)),
    ("2022-05-09T10:00:00+09:00", dt.datetime(2022, 5, 9, 1, tzinfo=dt.UTC)),
    (" 2022-05-09T01:00:00 ", dt.datetime(2022, 5, 9, 1, tzinfo=dt.UTC)),  # no zone: taken as UTC
    ("", None),
    ("昨日", None),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_received_is_the_trusted_save_time_else_the_file_time():
    assert received(sub("a", saved="2022-05-09T01:00:00Z", mtime="M")) == "2022-05-09T01:00:00+00:00"
    assert received(sub("a", saved="", mtime="M")) == "M"
    assert received(sub("a", saved="いつか", mtime="M")) == "M"


def test_result_json_names_every_department_and_problem(loaded):
    s = sub("b.xlsx", department="課B")
    s.add("unknown-choice", field="評価", value="たぶん", choices="A、B", measure="3", sheet="調査票", cell="F6")
    data = decide(loaded, [s], []).as_json()
    assert [(d["department"], d["status"], d["problems"], d["correction"]) for d in data["departments"]] == [
        ("課A", MISSING, 0, None), ("課B", NEEDS_FIX, 1, None), ("課C", SUBMITTED, 0, None)]
    (p,) = data["problems"]
    assert {k: p[k] for k in ("file", "department", "sheet", "cell", "measure", "field", "code", "severity")} == {
        "file": "b.xlsx", "department": "課B", "sheet": "調査票", "cell": "F6", "measure": "3", "field": "評価",
        "code": "unknown-choice", "severity": "error"}
    assert "たぶん" in p["message"]
    b = data["departments"][1]
    assert list(b) == ["department", "status", "file", "received", "measures", "problems", "warnings",
                       "respondent", "correction", "replaced", "unanswered", "asked", "present"]
    assert (b["file"], b["received"], b["measures"], b["warnings"], b["respondent"]) == (
        "b.xlsx", "2022-05-09T01:00:00+00:00", 1, 0, {})
    assert (data["departments"][2]["asked"], b["asked"], b["present"]) == (False, True, True)
    assert list(data) == ["departments", "problems", "replacements", "skipped", "withdrawn", "outputs"]


def test_result_json_lists_the_outputs_as_paths(loaded, tmp_path):
    result = decide(loaded, [], [])
    result.outputs = [tmp_path / "回収状況.xlsx"]
    assert result.as_json()["outputs"] == [str(tmp_path / "回収状況.xlsx")]


# --- which save time can be trusted ------------------------------------------------------------

def test_a_libreoffice_save_is_local_time_marked_utc(loaded, in_tokyo):
    # Saved in LibreOffice at 10:00 in Tokyo: it writes 10:00Z (and its zip entries 01:00, in
    # UTC: measured with LibreOffice 7.4); corrected in Excel at 10:30 the same morning: Excel
    # writes 01:30Z. Excel's is the later save.
    libre = sub("libre.xlsx", saved="2022-05-09T10:00:00Z", answers={"1": {"評価": "B"}},
                application="LibreOffice/7.4.7.2$Linux_X86_64", zip_time="2022-05-09T01:00:02")
    excel = sub("excel.xlsx", saved="2022-05-09T01:30:00Z", answers={"1": {"評価": "A"}},
                application="Microsoft Excel")
    result = decide(loaded, [libre, excel], [])
    assert result.departments[0].file == "excel.xlsx"
    (r,) = result.replacements
    assert (r.old_file, r.new_file, r.old_saved, r.new_saved) == (
        "libre.xlsx", "excel.xlsx", "2022-05-09T10:00:00+09:00", "2022-05-09T01:30:00+00:00")
    assert r.changes == [ChangedAnswer("1", "評価", "B", "A")]
    assert r.reason == "ファイル内の保存日時が新しいため（LibreOffice の保存日時は現地時刻として補正）"
    # the same LibreOffice save at 11:00 is the later one
    later = sub("libre.xlsx", saved="2022-05-09T11:00:00Z", answers={"1": {"評価": "B"}},
                application="LibreOffice/7.4.7.2$Linux_X86_64", zip_time="2022-05-09T02:00:02")
    assert decide(loaded, [later, excel], []).departments[0].file == "libre.xlsx"


def test_a_file_without_a_save_time_does_not_lose_for_that_alone(loaded):
    # saved to 2_回収 on the 12th (no save time inside, as some tools write); the other carries one of the 10th
    bare = sub("bare.xlsx", saved="", mtime="2022-05-12T09:00:00+09:00", answers={"1": {"評価": "A"}})
    dated = sub("dated.xlsx", saved="2022-05-10T00:00:00Z", mtime="2022-05-10T09:00:00+09:00",
                answers={"1": {"評価": "B"}})
    assert decide(loaded, [dated, bare], []).departments[0].file == "bare.xlsx"


def test_a_newer_form_version_wins_over_a_later_old_form(loaded):
    from xlsx_tool.forms import layout as L

    current = L.form_version(loaded.survey, loaded.measures_of("課A"), L.columns(loaded))
    fresh = sub("新版.xlsx", saved="2022-05-10T00:00:00Z", form_version=current, answers={"1": {"評価": "A"}})
    stale = sub("旧版.xlsx", saved="2022-05-20T00:00:00Z", form_version="v-old", answers={"1": {"評価": "B"}})
    evidence = Evidence(versions={"課A": ["v-old"]})
    result = decide(loaded, [stale, fresh], [], evidence)
    assert result.departments[0].file == "新版.xlsx"
    (p,) = [p for p in result.problems if p.code == "superseded"]
    assert p.file == "旧版.xlsx" and "新しい版の調査票のため" in p.message
    (w,) = [p for p in result.problems if p.code == "older-save-chosen"]
    assert w.file == "新版.xlsx" and "旧版.xlsx" in w.message


def test_a_newest_file_gone_from_the_folder_still_counts_and_is_named(loaded):
    # the ledger received a newer file in an earlier collect; it is no longer in 2_回収
    here = sub("a1.xlsx", saved="2022-05-09T00:00:00Z", answers={"1": {"評価": "B"}}, first_collect=1)
    rec, stored = record("a2.xlsx", "2022-05-12T00:00:00Z", {"1": {"評価": "A"}}, first_collect=2)
    result = decide(loaded, [here], [], Evidence({"課A": [rec]}, {"a2.xlsx": stored}.get, {}, "fp", "c", 3))
    a = result.departments[0]
    assert (a.file, a.present, a.status) == ("a2.xlsx", False, SUBMITTED)
    assert [(p.code, p.file) for p in result.problems] == [("newest-file-missing", "a2.xlsx"),
                                                           ("superseded", "a1.xlsx")]
    assert "--forget-missing" in result.problems[0].message
    assert result.replacements[0].changes == [ChangedAnswer("1", "評価", "B", "A")]


def test_a_gone_file_checked_against_another_master_no_longer_counts(loaded):
    here = sub("a1.xlsx", saved="2022-05-09T00:00:00Z", answers={"1": {"評価": "B"}}, first_collect=1)
    rec, stored = record("a2.xlsx", "2022-05-12T00:00:00Z", {"1": {"評価": "A"}}, first_collect=2)
    evidence = Evidence({"課A": [rec]}, {"a2.xlsx": stored}.get, {}, "another master", "c", 3)
    result = decide(loaded, [here], [], evidence)
    assert (result.departments[0].file, result.departments[0].present) == ("a1.xlsx", True)
    assert [(p.code, p.file) for p in result.problems] == [("newest-file-gone-stale", "a2.xlsx")]


def test_when_nothing_tells_two_files_apart_the_section_is_asked(loaded):
    a = sub("a.xlsx", saved="", mtime="", answers={"1": {"評価": "A"}})
    b = sub("b.xlsx", saved="", mtime="", answers={"1": {"評価": "B"}})
    result = decide(loaded, [a, b], [])
    assert result.departments[0].file == "b.xlsx"
    assert [p.code for p in result.problems] == ["superseded", "order-unknown"]
    assert result.replacements[0].reason == "日時で判断できないため、ファイル名の順で選びました"


@pytest.mark.parametrize(("saved", "application", "zip_time", "how"), [
    ("2022-05-09T01:00:00Z", "Microsoft Excel", "", "utc"),
    ("2022-05-09T10:00:00+09:00", "LibreOffice/7.4", "", "utc"),  # a zone of its own: as written
    ("2022-05-09T10:00:00Z", "LibreOffice/7.4", "", "local"),
    ("2022-05-09T10:00:00Z", "", "2022-05-09T01:00:30", "local"),  # entries in UTC, 9 h before the digits
    ("2022-05-09T01:00:00Z", "LibreOffice/7.4", "2022-05-09T10:00:30", "utc"),  # entries local, 9 h after
    ("2022-05-09T10:00:00Z", "LibreOffice/7.4", "2022-05-09T10:00:30", "local"),  # entries agree either way
    ("2022-05-09T10:00:00Z", "openpyxl", "2026-12-06T12:00:00", "utc"),  # entries tell nothing
    ("", "Microsoft Excel", "", "none"),
    ("いつか", "", "", "unreadable"),
    ("1980-01-01T00:00:00Z", "", "", "unreadable"),
])
def test_save_time_rules(in_tokyo, saved, application, zip_time, how):
    from xlsx_tool.collect.decide import save_time

    assert save_time(saved, application, zip_time).how == how
