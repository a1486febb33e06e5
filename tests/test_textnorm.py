"""Text normalisation, pinned case by case: what a clerk types and what Excel and Windows allow."""

from __future__ import annotations

import pytest

from xlsx_tool.textnorm import (
    choice_key,
    clip,
    clip_middle,
    display_width,
    measure_key,
    natural_key,
    pad,
    safe_file_name,
    sheet_name_problem,
    squash,
)


@pytest.mark.parametrize(("typed", "expected"), [
    ("達成", "達成"),
    ("達成＋", "達成+"),                # full-width plus
    ("Ａ", "A"),                      # full-width letter
    ("　達成　", "達成"),               # ideographic spaces around
    (" 達成 ", "達成"),
    ("情報  政策\t課", "情報 政策 課"),    # runs of spaces and a tab become one space
    ("情報\n課", "情報 課"),
    ("ｼｽﾃﾑ", "システム"),               # half-width katakana
    ("", ""),
    ("a b", "a b"),                   # a single space inside is kept
])
def test_squash(typed, expected):
    assert squash(typed) == expected


@pytest.mark.parametrize(("a", "b"), [("達成＋", "達成+"), ("Ａ", "a"), ("計画 どおり", "計画どおり"), ("ＡＡ", "aa")])
def test_choice_key_treats_spellings_of_one_choice_alike(a, b):
    assert choice_key(a) == choice_key(b)


def test_choice_key_keeps_different_choices_apart():
    assert choice_key("A") != choice_key("AA")
    assert choice_key("達成") != choice_key("達成+")


@pytest.mark.parametrize(("value", "key"), [
    (None, ""), (4, "4"), (4.0, "4"), (4.5, "4.5"), ("4", "4"), ("４", "4"), ("No.4", "4"), ("No. 4", "4"),
    ("NO.12", "12"), ("no4", "4"), ("№7", "7"), (" 4 ", "4"), ("1-2", "1-2"), ("", ""), (0, "0"),
])
def test_measure_key(value, key):
    assert measure_key(value) == key


def test_natural_key_sorts_numbers_by_value_and_keeps_text_stable():
    values = ["10", "2", "1-10", "1-2", "B", "A", "1"]
    assert sorted(values, key=natural_key) == ["1", "1-2", "1-10", "2", "10", "A", "B"]
    assert natural_key("7") == ((0, 7, ""),)
    assert natural_key("a1") == ((1, 0, "a"), (0, 1, ""))


@pytest.mark.parametrize(("text", "width"), [("", 0), ("abc", 3), ("達成", 4), ("達成+", 5), ("ｱ", 1), ("①", 2)])
def test_display_width_counts_full_width_as_two(text, width):
    assert display_width(text) == width


def test_pad_fills_to_the_column_and_never_cuts():
    assert pad("達成", 6) == "達成  "
    assert pad("abc", 3) == "abc"
    assert pad("達成達成", 2) == "達成達成"


@pytest.mark.parametrize(("name", "problem"), [
    ("調査票", None),
    ("a" * 31, None),
    ("", "空の名前"),
    ("a" * 32, "32文字で上限31文字を超えています"),
    ("評価/方向性", "使えない文字 / を含みます"),
    ("[a]:b", "使えない文字 : [ ] を含みます"),
    ("'調査票", "先頭または末尾がアポストロフィです"),
    ("調査票'", "先頭または末尾がアポストロフィです"),
    ("調'査票", None),
    ("History", "History は Excel の予約語です"),
    ("HISTORY", "History は Excel の予約語です"),
    ("Histories", None),
])
def test_sheet_name_problem(name, problem):
    assert sheet_name_problem(name) == problem


@pytest.mark.parametrize(("stem", "name"), [
    ("令和3年度_ICT推進課", "令和3年度_ICT推進課.xlsx"),
    ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j.xlsx"),
    ("tab\there", "tab_here.xlsx"),
    ("末尾の点. ", "末尾の点.xlsx"),
    ("...", "_.xlsx"),
    ("", "_.xlsx"),
    ("CON", "_CON.xlsx"),
    ("con.backup", "_con.backup.xlsx"),
    ("LPT9", "_LPT9.xlsx"),
    ("COM10", "COM10.xlsx"),
    ("CONSOLE", "CONSOLE.xlsx"),
    ("CON .課", "_CON .課.xlsx"),  # Windows ignores the spaces before the dot: still the console
    ("conin$", "_conin$.xlsx"),
    ("COM¹", "_COM¹.xlsx"),
    ("LPT0", "_LPT0.xlsx"),
    ("FAX", "FAX.xlsx"),  # only dots and spaces are taken off the end
    ("a.b", "a.b.xlsx"),
])
def test_safe_file_name(stem, name):
    assert safe_file_name(stem) == name


def test_safe_file_name_default_bound_is_150_bytes():
    assert safe_file_name("a" * 150) == "a" * 150 + ".xlsx"
    assert safe_file_name("a" * 151) == "a" * 150 + ".xlsx"


def test_safe_file_name_bounds_utf8_bytes_and_keeps_the_suffix():
    name = safe_file_name("課" * 100, suffix=".eml", limit=150)
    assert name == "課" * 50 + ".eml"  # 3 bytes each
    assert safe_file_name("ab" * 10, limit=5) == "ababa.xlsx"
    assert safe_file_name("ab. x", limit=3) == "ab.xlsx"  # cut, then no trailing dot or space


def test_safe_file_name_composes_decomposed_kana():
    decomposed = "か\u3099"  # が as macOS writes it
    assert safe_file_name(decomposed) == "が.xlsx"


def test_clip_marks_the_cut():
    assert clip("あ" * 80) == "あ" * 80
    assert clip("あ" * 81) == "あ" * 79 + "…"
    assert clip("abcdef", 4) == "abc…"


def test_clip_middle_keeps_both_ends():
    text = "2_回収/" + "x" * 300 + "/ICT推進課.xlsx"
    short = clip_middle(text, 41)
    assert len(short) == 41
    assert short.startswith("2_回収/xx") and short.endswith("x/ICT推進課.xlsx") and "…" in short
    assert clip_middle("short", 160) == "short"
    assert clip_middle("x" * 160) == "x" * 160
    assert clip_middle("x" * 161) == "x" * 79 + "…" + "x" * 79  # 160 by default
    assert clip_middle("abcdefghij", 10) == "abcdefghij"
    assert clip_middle("abcdefghijk", 10) == "abcd…hijk"
