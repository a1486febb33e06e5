"""A master kept as CSV: what the section is told when the file cannot be read as one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.define.master import load

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
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
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
    path.write_text(content, encoding="utf-8")
    assert problems_of(folder) == [("empty-master", "施策マスタ.csv", "施策が1件もありません。2行目以降に施策を入力してください。")]
