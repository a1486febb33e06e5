"""A master kept as CSV: what the section is told when the file cannot be read as one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.define.master import load, load_master
from xlsx_tool.define.survey import load_definition

HEADER = "施策番号,施策名,基本方針,所管課\r\n"


def problems_of(folder: Path) -> list[tuple[str, str, str]]:
    _loaded, problems = load(folder)
    return [(p.code, p.file, p.message) for p in problems]


def survey(tmp_path: Path) -> tuple[Path, Path]:
    folder = make_survey(tmp_path / "s", "2025", ["施策番号"], [])
    return folder, folder / "施策マスタ.csv"


def test_a_master_in_neither_utf8_nor_shift_jis(tmp_path):
    folder, path = survey(tmp_path)
    path.write_bytes(HEADER.encode() + "1,施策,Ⅰ,課A\r\n".encode("utf-16-le"))
    assert problems_of(folder) == [("master-unreadable", "施策マスタ.csv",
                                    "読み込めません（文字コードを判別できません。UTF-8 または Shift_JIS で保存してください）。")]


def test_a_master_with_text_in_nul_bytes(tmp_path):
    folder, path = survey(tmp_path)
    path.write_bytes(HEADER.encode() + b"1,\x00\x00,I,A\r\n")
    assert problems_of(folder) == [("master-unreadable", "施策マスタ.csv",
                                    "読み込めません（テキスト（CSV）ではありません。Excel で開いて .xlsx 形式で保存し直してください）。")]


def test_an_unclosed_quote_names_the_row_where_it_opens(tmp_path):
    """A quote left open swallows the rest of the file into one field, until the csv module gives up."""
    folder, path = survey(tmp_path)
    rows = [f"{i},施策{i},Ⅰ,課A\r\n" for i in range(1, 4)] + ['4,"施策4,Ⅰ,課A\r\n'] + ["5,施策,Ⅰ,課A\r\n"] * 15000
    path.write_text(HEADER + "".join(rows), encoding="utf-8", newline="")  # newline="": these bytes, on Windows too
    assert problems_of(folder) == [("master-unreadable", "施策マスタ.csv",
                                    "読み込めません（CSV の 5 行目付近の書式が読めません（引用符 \" の対応を確認してください））。")]


@pytest.mark.parametrize(("error", "detail"), [
    (PermissionError(13, "Permission denied"), "読み取る権限がありません"),  # as Windows answers a locked file
    (OSError(5, "Input/output error"), "ファイルを読み取れません"),  # a network drive gone mid-read
])
def test_a_master_that_cannot_be_read(tmp_path, monkeypatch, error, detail):
    folder, path = survey(tmp_path)
    real = Path.read_bytes

    def fail(self: Path) -> bytes:
        if self == path:
            raise error
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", fail)
    assert problems_of(folder) == [("master-unreadable", "施策マスタ.csv", f"読み込めません（{detail}）。")]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_breaks_inside_a_quoted_cell_are_kept_as_line_breaks(tmp_path, newline):
    folder, path = survey(tmp_path)
    path.write_bytes((HEADER + f'1,"電子申請の{newline}拡大",Ⅰ,課A\r\n').encode())
    loaded, problems = load(folder)
    assert problems == []
    assert loaded.master.measures[0].name == "電子申請の\n拡大"


def test_a_master_that_is_a_folder(tmp_path):
    folder, path = survey(tmp_path)
    path.unlink()
    path.mkdir()
    assert problems_of(folder) == [("master-unreadable", "施策マスタ.csv",
                                    "読み込めません（通常のファイルではありません（フォルダ・リンク・パイプなど））。")]


@pytest.mark.parametrize("content", ["", "\r\n,,,\r\n\r\n"])
def test_a_master_with_nothing_in_it(tmp_path, content):
    folder, path = survey(tmp_path)
    path.write_text(content, encoding="utf-8", newline="")
    assert problems_of(folder) == [("empty-master", "施策マスタ.csv", "施策が1件もありません。2行目以降に施策を入力してください。")]


def test_every_column_of_a_master_row_reaches_its_measure(tmp_path):
    """Columns in any order, an unnamed column, blank and short rows, numbers missing or repeated."""
    folder, path = survey(tmp_path)
    path.write_text(
        "施策名,,基本方針,所管課,指標,単位,目標値,前年度施策番号,施策番号\r\n"
        "窓口の電子化,メモ,Ⅰ,ICT推進課,電子申請対応手続数,件,120,0-1,1\r\n"
        ",,,,,,,,\r\n"
        "番号のない施策,,Ⅰ,ICT推進課,,,,\r\n"  # one cell short of the number's column
        "番号が重なる施策,,Ⅰ,ICT推進課,,,,,1\r\n"
        "研修の充実,,Ⅱ,人事課,受講率,%,80,,2\r\n", encoding="utf-8", newline="")
    loaded, problems = load(folder)
    assert [(p.code, p.row) for p in problems] == [("empty-measure-number", 4), ("duplicate-measure", 5)]
    assert problems[1].message == "施策番号「1」が 2 行目と重複しています。番号を修正してください。"
    got = [(m.number, m.name, m.group, m.department, m.indicator, m.unit, m.target, m.previous_number, m.row)
           for m in load_master_of(folder)]
    assert got == [("1", "窓口の電子化", "Ⅰ", "ICT推進課", "電子申請対応手続数", "件", "120", "0-1", 2),
                   ("2", "研修の充実", "Ⅱ", "人事課", "受講率", "%", "80", "", 6)]


def test_a_row_shorter_than_the_header_reads_its_missing_cells_as_empty(tmp_path):
    folder, path = survey(tmp_path)
    path.write_text("施策番号,施策名,基本方針,所管課,指標\r\n3,短い行,Ⅰ,課A\r\n", encoding="utf-8", newline="")
    assert problems_of(folder) == []
    assert [(m.number, m.department, m.indicator) for m in load_master_of(folder)] == [("3", "課A", "")]


def test_a_column_named_twice_is_one_problem_and_the_columns_after_it_are_read(tmp_path):
    folder, path = survey(tmp_path)
    path.write_text("施策番号,施策名,施策名,基本方針,所管課\r\n1,A,B,Ⅰ,課A\r\n", encoding="utf-8", newline="")
    assert problems_of(folder) == [("duplicate-column", "施策マスタ.csv",
                                    "列名「施策名」が見出し行に2回あります。片方の名前を変えてください。")]


def load_master_of(folder: Path):
    survey_, _problems = load_definition(folder)
    master, _found = load_master(survey_)
    return master.measures
