"""The department list (define/departments.py) piece by piece: a list that cannot be read,
its header, rows shorter than the header, and the workers that read it."""

from __future__ import annotations

import csv

from tests.survey_helpers import make_survey
from xlsx_tool.define.master import load

H25 = ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"]
MEASURES = [[1, "A", "Ⅰ", "ICT推進課", ""], [2, "B", "Ⅰ", "人事課", ""]]
LIST = "所管課一覧.csv"


def _survey(tmp_path, name=LIST, master="施策マスタ.csv"):
    return make_survey(tmp_path / "s", "2025", H25, MEASURES,
                       lambda t: t.replace('master = "施策マスタ.csv"', f'master = "{master}"\ndepartments = "{name}"'))


def _with_rows(tmp_path, rows):
    folder = _survey(tmp_path)
    with open(folder / LIST, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return load(folder)


def test_a_list_that_cannot_be_read_is_named_with_why(tmp_path):
    folder = _survey(tmp_path)
    (folder / LIST).write_bytes(b"\x81\x20\xff\xfe\x80\x81")  # neither UTF-8 nor Shift_JIS
    loaded, problems = load(folder)
    assert [(p.code, p.file, p.severity, p.message) for p in problems] == [
        ("master-unreadable", LIST, "error",
         "読み込めません（文字コードを判別できません。UTF-8 または Shift_JIS で保存してください）。")]
    assert loaded.departments_list is None


def test_a_list_without_its_department_column_names_the_file_and_the_header_row(tmp_path):
    loaded, problems = _with_rows(tmp_path, [[], ["担当者", "内線"], ["佐藤", "2021"]])
    assert [(p.code, p.file, p.row, p.column, p.message) for p in problems] == [
        ("missing-column", LIST, 2, "所管課", "必須の列「所管課」が見出し行にありません。見出し行に列名を追加してください。")]
    assert loaded.departments_list is None


def test_rows_shorter_than_the_header_are_read_with_blanks(tmp_path):
    # a list typed by hand: a row may stop after the last cell written in it
    loaded, problems = _with_rows(tmp_path, [["所管課", "担当者", "内線", "メール"], ["ICT推進課", "佐藤"], ["人事課"]])
    assert problems == []
    contacts = loaded.departments_list.contacts
    assert [(c.department, c.person, c.extension, c.email, c.row) for c in contacts.values()] == [
        ("ICT推進課", "佐藤", "", "", 2), ("人事課", "", "", "", 3)]


def test_a_column_named_twice_is_read_from_the_first(tmp_path):
    # 担当者 twice (main and deputy), and 所管課 again at the end as a note column
    loaded, problems = _with_rows(tmp_path, [
        ["所管課", "担当者", "内線", "担当者", "メール", "所管課"],
        ["ICT推進課", "佐藤", "2021", "鈴木", "ict@example.lg.jp", "旧 情報政策課"],
        ["人事課", "田中", "2105", "", "jinji@example.lg.jp", ""]])
    assert problems == []
    contacts = loaded.departments_list.contacts
    assert [(c.department, c.person, c.extension, c.email) for c in contacts.values()] == [
        ("ICT推進課", "佐藤", "2021", "ict@example.lg.jp"), ("人事課", "田中", "2105", "jinji@example.lg.jp")]


class Recording:
    """A pool that reads in this process and remembers what it was given to read."""

    def __init__(self):
        self.read = []

    def run(self, paths, task):
        for path in paths:
            self.read.append(path.name)
            yield path, task.run(path)


def test_workbooks_are_read_by_the_workers_the_command_gave(tmp_path):
    # a command starts its workers once and reads the master, the department list and every
    # returned file through them; a pool of the list's own would start one more worker
    # (a process start, about a third of a second, more on Windows) on every load
    import openpyxl

    folder = _survey(tmp_path, "所管課一覧.xlsx", "施策マスタ.xlsx")
    for name, rows in (("施策マスタ.xlsx", [H25, *MEASURES]),
                       ("所管課一覧.xlsx", [["所管課", "担当者"], ["ICT推進課", "佐藤"], ["人事課", "田中"]])):
        wb = openpyxl.Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(folder / name)
    pool = Recording()
    loaded, problems = load(folder, pool)
    assert problems == []
    assert pool.read == ["施策マスタ.xlsx", "所管課一覧.xlsx"]
    assert loaded.departments_list.get("人事課").person == "田中"
