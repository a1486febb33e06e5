"""check: every problem of a definition or master, at once, each with its position."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.survey_helpers import make_survey, write_master
from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.errors import SurveyError

H25 = ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"]

# (id, template, header, rows, toml edit, expected [(code, row, column, measure)])
CASES = [
    ("clean", "2025", H25, [[1, "A施策", "Ⅰ", "課A", "達成"]], None, []),
    ("duplicate-number", "2025", H25, [[1, "A", "Ⅰ", "課A", ""], ["No.1", "B", "Ⅰ", "課A", ""]], None,
     [("duplicate-measure", 3, "施策番号", "1")]),
    ("empty-department", "2025", H25, [[1, "A", "Ⅰ", "", ""]], None,
     [("empty-department", 2, "所管課", "1")]),
    ("unknown-group", "2025", H25, [[1, "A", "Ⅴ", "課A", ""]], None,
     [("unknown-group", 2, "基本方針", "1")]),
    ("group-spellings", "2025", H25,
     [[1, "A", "基本方針Ⅱ", "課A", ""], [2, "B", "Ⅲ：オンライン化の促進", "課A", ""],
      [3, "C", "データの利活用", "課A", ""]], None, []),
    ("previous-outside-scale", "2025", H25, [[1, "A", "Ⅰ", "課A", "AA"]], None,
     [("bad-previous", 2, "前年度評価", "1")]),
    ("previous-full-width", "2025", H25, [[1, "A", "Ⅰ", "課A", "達成＋"]], None, []),
    ("missing-columns", "2025", ["施策番号", "施策名"], [[1, "A"]], None,
     [("missing-column", 1, "基本方針", ""), ("missing-column", 1, "所管課", "")]),
    ("empty-number-and-name", "2025", H25, [["", "A", "Ⅰ", "課A", ""], [2, "", "Ⅰ", "課A", ""]], None,
     [("empty-measure-number", 2, "施策番号", ""), ("empty-measure-name", 3, "施策名", "2")]),
    ("bad-sheet-name", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: t.replace('input_sheet = "調査票"', 'input_sheet = "調査票[入力]"'),
     [("bad-value", None, "", "")]),
    ("long-sheet-name", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: t.replace('input_sheet = "調査票"', 'input_sheet = "' + "あ" * 32 + '"'),
     [("bad-value", None, "", "")]),
    ("same-sheet-names", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: t.replace('input_sheet = "調査票"', 'input_sheet = "記入要領"'),
     [("bad-sheet-name", None, "", "")]),
    ("unknown-scale", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: t.replace('scale = "評価"', 'scale = "評定"'),
     [("unknown-scale", None, "", "")]),  # one mistake, one problem: the field is no less the rating
    ("list-too-long", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: t.replace('{ value = "未達成"', '{ value = "' + "長" * 250 + '" },\n  { value = "未達成"'),
     [("list-too-long", None, "", ""), ("message-too-long", None, "", "")]),
    ("toml-syntax", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: t.replace("[survey]", "[survey"), [("toml-syntax", None, "", "")]),
    ("department-spelt-two-ways", "2025", H25,
     [[1, "A", "Ⅰ", "ICT推進課", ""], [2, "B", "Ⅰ", "ICT 推進課", ""], [3, "C", "Ⅰ", "ＩＣＴ推進課", ""]], None,
     [("department-spelling", 3, "所管課", "2")]),  # full-width ＩＣＴ is folded to ICT silently
    ("example-row-left", "2025", H25, [[1, "（記入例）Web会議の推進", "Ⅰ", "課A", ""], [2, "B", "Ⅰ", "課A", ""]], None,
     [("example-row", 2, "施策名", "1")]),
    ("empty-group", "2025", H25, [[1, "A", "", "課A", ""]], None, [("empty-group", 2, "基本方針", "1")]),
    ("header-only", "2025", H25, [], None, [("empty-master", None, "", "")]),
    ("blank-rows-only", "2025", H25, [["", "", "", "", ""], [" ", "", "", "", ""]], None,
     [("empty-master", None, "", "")]),
    ("column-twice", "2025", ["施策番号", "施策名", "基本方針", "所管課", "施策名"], [[1, "A", "Ⅰ", "課A", "B"]], None,
     [("duplicate-column", 1, "施策名", "")]),
    ("header-below-blank-rows", "2025", ["", "", "", ""], [["施策番号", "施策名", "基本方針", "所管課"],
                                                          [1, "", "Ⅰ", "課A"]], None,
     [("empty-measure-name", 3, "施策名", "1")]),  # rows are counted as the sheet shows them
    ("no-survey-id", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: t.replace('id = "ict2025-jisseki"\n', ""), [("missing-key", None, "", "")]),
    ("no-title", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]],
     lambda t: "\n".join(x for x in t.split("\n") if not x.startswith("title =")), [("missing-key", None, "", "")]),
    ("ended-without-an-ended-value", "2020",
     ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"],
     [[1, "A", "① 目標", "課A", "A", "完了"], [2, "B", "① 目標", "課A", "A", ""]],
     lambda t: "\n".join(x for x in t.split("\n") if not x.startswith('  { value = "終了"')),
     [("no-ended-value", None, "前年度方向性", "")]),
    ("2020-groups-from-master", "2020", None, None, None, []),
    ("2020-bad-direction", "2020",
     ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"],
     [[1, "A", "①", "課A", "B", "拡大する"]], None,
     [("group-without-name", None, "基本目標", ""), ("bad-previous", 2, "前年度方向性", "1")]),
]


# What the section reads for each case: one sentence naming the value and what to do.
MESSAGES = {
    'clean': [],
    'duplicate-number': ['施策番号「1」が 2 行目と重複しています。番号を修正してください。'],
    'empty-department': ['施策番号「1」の所管課が空です。入力してください。'],
    'unknown-group': ['施策番号「1」の基本方針「Ⅴ」は survey.toml の groups にありません。Ⅰ、Ⅱ、Ⅲ、Ⅳ のいずれかにしてください。'],
    'group-spellings': [],
    'previous-outside-scale': ['施策番号「1」の前年度評価「AA」は選択肢にありません。達成+、達成、未達成 のいずれかにしてください。'],
    'previous-full-width': [],
    'missing-columns': ['必須の列「基本方針」が見出し行にありません。見出し行に列名を追加してください。', '必須の列「所管課」が見出し行にありません。見出し行に列名を追加してください。'],
    'empty-number-and-name': ['施策番号が空です。番号を入力してください。', '施策番号「2」の施策名が空です。入力してください。'],
    'bad-sheet-name': ['「form.input_sheet」の値「調査票[入力]」は使えません。Excel のシート名に使えません（使えない文字 [ ] を含みます）。'],
    'long-sheet-name': ['「form.input_sheet」の値「ああああああああああああああああああああああああああああああああ」は使えません。Excel のシート名に使えません（32文字で上限31文字を超えています）。'],
    'same-sheet-names': ['シート名「記入要領」は Excel で使えません（2つのシートが同じ名前です）。31文字以内で [ ] : * ? / \\ を含まない名前にしてください。'],
    'unknown-scale': ['項目「評価」が参照する選択肢「評定」が [scales] にありません。名前を確認してください。'],
    'list-too-long': ['選択肢「評価」は Excel の直接指定の上限（255文字）を超えるため、非表示の一覧シートを参照するドロップダウンにします。', '選択肢「評価」の定義は入力時メッセージの上限（255文字）に収まらないため、メッセージでは「記入要領」シートを案内します。'],
    'toml-syntax': ['TOML の書式に誤りがあります（4 行目 8 文字目付近）。引用符・括弧・= の対応を確認して修正してください。'],
    'department-spelt-two-ways': ['所管課「ICT 推進課」は 2 行目の「ICT推進課」と空白や全角・半角の違いだけで同じ名前です。どちらかに揃えてください（別々の調査票になってしまいます）。'],
    'example-row-left': ['施策番号「1」は init が入れた記入例の行です。実際の施策に書き換えるか削除してください。'],
    'empty-group': ['施策番号「1」の基本方針が空です。入力してください。'],
    'header-only': ['施策が1件もありません。2行目以降に施策を入力してください。'],
    'blank-rows-only': ['施策が1件もありません。2行目以降に施策を入力してください。'],
    'column-twice': ['列名「施策名」が見出し行に2回あります。片方の名前を変えてください。'],
    'header-below-blank-rows': ['施策番号「1」の施策名が空です。入力してください。'],
    'no-survey-id': ['必須の項目「survey.id」がありません。追記してください。'],
    'no-title': ['必須の項目「survey.title」がありません。追記してください。'],
    'ended-without-an-ended-value': ['前年度方向性が「完了」の施策がありますが、評価の選択肢に「終了」がないため、通常の施策として調査します。'],
    '2020-groups-from-master': [],
    '2020-bad-direction': ['基本目標「①」に名称がありません。survey.toml の [[groups]] に id と name を書くと、集計表と報告文案に名称が入ります。', '施策番号「1」の前年度方向性「拡大する」は選択肢にありません。計画どおり推進、事業拡大、事業縮小、計画修正、中止（休止）、完了 のいずれかにしてください。'],
}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_check_finds_every_problem(tmp_path, case):
    case_id, template, header, rows, edit, expected = case
    folder = make_survey(tmp_path / "s", template, header, rows, edit)
    _loaded, problems = load(folder)
    shown = [p for p in problems if p.severity != "notice" or p.code == "list-too-long"]
    assert [(p.code, p.row, p.column, p.measure) for p in shown] == expected
    assert [p.message for p in shown] == MESSAGES[case_id]
    for p in problems:
        assert p.message and p.file, p  # every finding names its file and says what to do


def test_check_cli_lists_all_and_exits_1(tmp_path):
    folder = make_survey(tmp_path / "s", "2025", H25,
                         [[1, "A", "Ⅴ", "課A", ""], [1, "B", "Ⅰ", "", "AA"]])
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 1
    assert "施策マスタ.csv 2行目 列「基本方針」" in result.output
    assert "施策マスタ.csv 3行目 列「施策番号」" in result.output  # the duplicate
    assert "エラー 2 件" in result.output


def test_master_in_cp932_and_xlsx(tmp_path):
    """Excel on Japanese Windows saves CSV as Shift_JIS; an .xlsx master reads the same."""
    folder = make_survey(tmp_path / "s", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]])
    write_master(folder, ["施策番号", "施策名", "基本方針", "所管課", "備考"],
                 [[1, "電子決裁の推進", "Ⅰ", "総務課", "重点"]], encoding="cp932")
    loaded, problems = load(folder)
    assert not problems
    assert loaded.master.measures[0].name == "電子決裁の推進"
    assert loaded.master.extra_columns == ("備考",)  # unknown columns are kept


def test_unknown_columns_kept_and_shown_on_forms(tmp_path):
    import openpyxl

    from tests.survey_helpers import forms_of as generate

    folder = make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課", "担当係"],
                         [[1, "A", "Ⅰ", "課A", "企画係"]])
    loaded, _ = load(folder)
    (path,) = generate(loaded)
    ws = openpyxl.load_workbook(path)["調査票"]
    headers = [c.value for c in ws[5]]
    assert "担当係" in headers
    assert ws.cell(6, headers.index("担当係") + 1).value == "企画係"


def test_init_both_templates_then_check(tmp_path):
    """init writes a template; check refuses it until the placeholders and example row are gone."""
    import csv
    import re

    runner = CliRunner()
    listing = runner.invoke(cli, ["init", "--list"])
    assert "2025" in listing.output and "2020" in listing.output
    for name in ("2025", "2020"):
        folder = tmp_path / name
        result = runner.invoke(cli, ["init", str(folder), "--template", name, "--year", "2024"])
        assert result.exit_code == 0, result.output
        for sub in ("survey.toml", "施策マスタ.xlsx", "所管課一覧.xlsx", "1_配布", "2_回収", "3_集計"):
            assert (folder / sub).exists()
        checked = runner.invoke(cli, ["check", str(folder)])
        assert checked.exit_code == 1, checked.output
        assert "記入例" in checked.output  # the example row is an error
        assert "（提出期限を記入）" in checked.output and "（返送先のメールアドレスを記入）" in checked.output
        # the section finishes the definition and writes its measures: check passes
        toml = folder / "survey.toml"
        text = toml.read_text(encoding="utf-8")
        text = re.sub(r'(?m)^deadline = .*$', 'deadline = "令和7年5月9日（金）"', text)
        text = re.sub(r'(?m)^contact = .*$', 'contact = "ICT推進課（内線 2021）"', text)
        text = re.sub(r'(?m)^return_to = .*$', 'return_to = "ict@example.lg.jp"', text)
        text = text.replace('master = "施策マスタ.xlsx"', 'master = "施策マスタ.csv"').replace(
            'departments = "所管課一覧.xlsx"', 'departments = "所管課一覧.csv"')
        toml.write_text(text, encoding="utf-8")
        label = "基本方針" if name == "2025" else "基本目標"
        group = "Ⅰ" if name == "2025" else "① 開かれた区政の実現"
        write_master(folder, ["施策番号", "施策名", label, "所管課"], [[1, "Web会議の推進", group, "ICT推進課"]])
        with open(folder / "所管課一覧.csv", "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([["所管課", "担当者", "内線", "メール"], ["ICT推進課", "佐藤", "2021", "ict@example.lg.jp"]])
        checked = runner.invoke(cli, ["check", str(folder)])
        assert checked.exit_code == 0, checked.output
    again = runner.invoke(cli, ["init", str(tmp_path / "2025")])
    assert again.exit_code == 2 and "既に" in again.output


def test_every_command_has_japanese_help():
    runner = CliRunner()
    for name in ("init", "check", "generate", "collect", "summarize", "run", "demo"):
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert any("\u3040" <= ch <= "\u30ff" for ch in result.output), name


def _with_departments(tmp_path, rows, header=("所管課", "担当者", "内線", "メール")):
    import csv

    folder = make_survey(tmp_path / "s", "2025", H25, [[1, "A", "Ⅰ", "ICT推進課", ""], [2, "B", "Ⅰ", "人事課", ""]],
                         lambda t: t.replace('master = "施策マスタ.csv"',
                                             'master = "施策マスタ.csv"\ndepartments = "所管課一覧.csv"'))
    with open(folder / "所管課一覧.csv", "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([list(header), *rows])
    return load(folder)


def test_department_list_is_read_and_checked(tmp_path):
    loaded, problems = _with_departments(tmp_path, [
        ["ICT推進課", "佐藤", "2021", "ict@example.lg.jp"],
        ["ＩＣＴ推進課", "佐藤", "2021", "ict@example.lg.jp"],  # the same department, full width
        ["人事課", "鈴木", "2105", "jinji@example"],  # not an address
        ["広報課", "田中", "2070", "koho@example.lg.jp"],  # not in the master
    ])
    found = [(p.code, p.row, p.column) for p in problems]
    assert ("duplicate-department", 3, "所管課") in found
    assert ("bad-mail", 4, "メール") in found
    assert ("department-not-in-master", 5, "所管課") in found
    assert len(found) == 3  # 人事課 has its row (its address is dropped), so no "no contact"
    contacts = loaded.departments_list.contacts
    assert list(contacts) == ["ICT推進課", "人事課"]
    assert (contacts["ICT推進課"].email, contacts["ICT推進課"].row) == ("ict@example.lg.jp", 2)
    assert (contacts["人事課"].person, contacts["人事課"].email) == ("鈴木", "")


def test_department_list_rows_and_columns_as_people_keep_them(tmp_path):
    loaded, problems = _with_departments(tmp_path, [
        ["", "", "", ""],
        ["", "", "佐藤", ""],  # a contact without its department
        ["", "ＩＣＴ 推進課", "", "2021"],  # spelt otherwise than the master: still 「ICT推進課」
        ["jinji@example.lg.jp", "人事課", "鈴木", ""],
    ], header=("E-Mail", "課名", "担当", "電話"))
    assert [(p.code, p.row) for p in problems] == [("contact-without-department", 3)]
    contacts = loaded.departments_list.contacts
    ict, hr = contacts["ICT推進課"], contacts["人事課"]
    assert (ict.department, ict.person, ict.extension, ict.email, ict.row) == ("ICT推進課", "", "2021", "", 4)
    assert (hr.person, hr.extension, hr.email, hr.row) == ("鈴木", "", "jinji@example.lg.jp", 5)
    assert contacts.get("広報課") is None


def test_department_list_messages(tmp_path):
    _loaded, problems = _with_departments(tmp_path, [
        ["ICT推進課", "佐藤", "2021", "ict@example.lg.jp"],
        ["ＩＣＴ推進課", "佐藤", "2021", "ict@example.lg.jp"],
        ["人事課", "鈴木", "2105", "jinji@example"],
        ["広報課", "田中", "2070", "koho@example.lg.jp"],
        ["", "山本", "", ""],
    ])
    assert [(p.code, p.file, p.row, p.column, p.severity, p.message) for p in problems] == [
        ("duplicate-department", "所管課一覧.csv", 3, "所管課", "error",
         "所管課「ICT推進課」が 2 行目と重複しています。1行にしてください。"),
        ("bad-mail", "所管課一覧.csv", 4, "メール", "error",
         "メールアドレス「jinji@example」は使えません。name@example.lg.jp の形にしてください。"),
        ("department-not-in-master", "所管課一覧.csv", 5, "所管課", "warning",
         "所管課「広報課」は施策マスタにありません（綴りの違いか、今年度は施策のない課です）。"),
        ("contact-without-department", "所管課一覧.csv", 6, "所管課", "error",
         "担当者などが書かれた行に所管課がありません。所管課を入力するか、行を削除してください。"),
    ]
    _loaded, problems = _with_departments(tmp_path / "b", [["ICT推進課", "佐藤", "2021", ""]])
    assert [(p.code, p.file, p.severity, p.message) for p in problems] == [
        ("department-no-contact", "所管課一覧.csv", "warning",
         "所管課「人事課」が所管課一覧にありません。調査票の連絡先やメールの宛先が空になります。")]


def test_contact_lines():
    from xlsx_tool.define.departments import Contact

    # shown under labels that say 担当 already (「ご担当」, 「担当者」): not 「担当 佐藤」
    assert Contact("課A", "佐藤", "2021").line() == "佐藤（内線 2021）"
    assert Contact("課A", "", "2021").line() == "内線 2021"
    assert Contact("課A", "佐藤").line() == "佐藤"
    assert Contact("課A").line() == ""


def test_department_list_without_its_department_column(tmp_path):
    loaded, problems = _with_departments(tmp_path, [["佐藤", "2021"]], header=("担当者", "内線"))
    assert loaded.departments_list is None
    assert [(p.code, p.row, p.column) for p in problems] == [("missing-column", 1, "所管課")]


def test_department_list_below_blank_rows(tmp_path):
    loaded, problems = _with_departments(tmp_path, [["所管課", "担当者"], ["ICT推進課", "佐藤"], ["ICT推進課", "鈴木"]],
                                         header=("", ""))
    assert [(p.code, p.row) for p in problems if p.code != "department-no-contact"] == [("duplicate-department", 4)]
    assert "3 行目" in next(p.message for p in problems if p.code == "duplicate-department")
    assert loaded.departments_list.get("ICT推進課").person == "佐藤"


def test_department_list_column_names_and_missing_contacts(tmp_path):
    loaded, problems = _with_departments(tmp_path, [["ICT推進課", "佐藤", "2021", "ict@example.lg.jp"]],
                                         header=("課名", "担当者名", "内線番号", "メールアドレス"))
    assert loaded is not None
    contact = loaded.departments_list.get("ICT推進課")
    assert (contact.person, contact.extension, contact.email) == ("佐藤", "2021", "ict@example.lg.jp")
    assert contact.line() == "佐藤（内線 2021）"
    assert [(p.code, p.severity) for p in problems] == [("department-no-contact", "warning")]
    assert "人事課" in problems[0].message


def test_groups_from_the_master_follow_their_numbers_not_the_row_order(tmp_path):
    rows = [[0, "Z", "③", "課A", "", ""], [1, "A", "③ 情報セキュリティの強化", "課A", "", ""], [2, "B", "① 開かれた区政の実現", "課A", "", ""],
            [3, "C", "計画に関する進捗管理", "課A", "", ""], [4, "D", "② 区民サービスの向上", "課A", "", ""],
            [5, "E", "①", "課A", "", ""], [0, "Z", "③", "課A", "", ""]]
    folder = make_survey(tmp_path / "s", "2020", ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"],
                         rows)
    loaded, problems = load(folder)
    assert [(g.id, g.name) for g in loaded.survey.groups] == [
        ("①", "開かれた区政の実現"), ("②", "区民サービスの向上"), ("③", "情報セキュリティの強化"),
        ("計画に関する進捗管理", "")]
    assert [m.group for m in loaded.master.measures] == ["③", "③", "①", "計画に関する進捗管理", "②", "①"]
    assert not [p for p in problems if p.code == "group-without-name"]  # ① is named by another row


def codes(folder):
    _loaded, problems = load(folder)
    return [(p.code, p.file) for p in problems if p.severity != "notice"]


@pytest.mark.parametrize("error", [PermissionError, FileNotFoundError], ids=["held-by-another-program", "gone-meanwhile"])
def test_a_definition_that_cannot_be_read_says_so_not_that_a_key_is_missing(tmp_path, monkeypatch, error):
    # Windows refuses a file another program holds (a sharing violation, PermissionError); a file can
    # also go between the check that it exists and the reading. Neither is a key missing in it.
    folder = make_survey(tmp_path / "s", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]])
    toml = folder / "survey.toml"
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == toml:
            raise error(13, "refused", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    _loaded, problems = load(folder)
    assert [(p.code, p.file, p.message) for p in problems] == [("toml-unreadable", "survey.toml",
        "ファイルを読み取れません。別のプログラムで開いていないか、アクセス権を確認してください。")]


def test_files_that_cannot_be_read_are_named_with_what_to_do(tmp_path):
    folder = make_survey(tmp_path / "s", "2025", H25, [[1, "A", "Ⅰ", "課A", ""]])
    toml = folder / "survey.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_bytes(text.encode("cp932", "replace"))  # saved by Notepad as ANSI
    assert codes(folder) == [("toml-encoding", "survey.toml")]
    toml.unlink()
    toml.mkdir()  # a folder of that name is no definition
    with pytest.raises(SurveyError, match="survey.toml がありません"):
        load(folder)
    toml.rmdir()
    toml.write_text(text, encoding="utf-8")
    assert codes(folder) == []

    master = folder / "施策マスタ.csv"
    content = master.read_bytes()
    master.unlink()
    assert codes(folder) == [("master-missing", "施策マスタ.csv")]
    master.mkdir()
    assert codes(folder) == [("master-unreadable", "施策マスタ.csv")]
    master.rmdir()
    master.write_bytes(b"PK\x03\x04\x00\x00binary")
    _loaded, problems = load(folder)
    assert [p.code for p in problems] == ["master-unreadable"]
    assert "テキスト（CSV）ではありません" in problems[0].message
    master.write_bytes(content)

    toml.write_text(text.replace('[survey]\n', '[survey]\ndepartments = "所管課一覧.csv"\n'), encoding="utf-8")
    assert codes(folder) == [("departments-missing", "所管課一覧.csv")]
    (folder / "所管課一覧.csv").write_text("\n\n", encoding="utf-8")
    assert codes(folder) == [("departments-empty", "所管課一覧.csv")]
