"""survey.toml read into a Survey (define/survey.py): what the templates give, the defaults a
section relies on, and each definition mistake as its own problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.define import survey as S
from xlsx_tool.define.survey import (
    Group,
    Scale,
    ScaleValue,
    definitions_message,
    field_name_problem,
    load_definition,
)


def definition(tmp_path: Path, template: str = "2025", edit=None):
    folder = make_survey(tmp_path / "s", template, toml_edit=edit)
    return load_definition(folder)


def built(tmp_path: Path, template: str = "2025", edit=None) -> S.Survey:
    survey, problems = definition(tmp_path, template, edit)
    assert survey is not None, [p.message for p in problems]
    assert [p for p in problems if p.is_error] == []
    return survey


def codes(tmp_path: Path, edit, template: str = "2025") -> list[str]:
    survey, problems = definition(tmp_path, template, edit)
    errors = [p.code for p in problems if p.is_error]
    assert (survey is None) == bool(errors)
    return [p.code for p in problems if p.severity != "notice"]


def test_the_2025_template(tmp_path):
    s = built(tmp_path)
    assert (s.id, s.title, s.fiscal_year, s.year_label) == ("ict2025-jisseki", "ICT推進・活用計画2025 実績調査", 2021, "令和3年度")
    assert (s.rating_field, s.direction_field, s.direction_scale, s.report_style) == ("評価", None, None, "2025")
    assert [(f.name, f.type, f.required, f.scale, f.max_length) for f in s.fields] == [
        ("評価", "choice", True, "評価", None), ("実績値", "number", False, None, None),
        ("取組実績", "text", True, None, 400), ("課題・今後の取組", "text", False, None, 400)]
    assert s.rating is s.fields[0] and s.rating_scale.names == ("達成+", "達成", "未達成")
    assert s.rating_scale.definition("達成+") == "令和3年度計画の事業量を上回る実績となっている"  # {年度} filled in
    assert [g.id for g in s.groups] == ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"] and s.group("Ⅱ").name == "マイナンバーカードの普及・活用"
    assert s.group("Ⅴ") is None
    assert (s.input_sheet, s.instructions_sheet, s.status_file, s.summary_file) == ("調査票", "記入要領", "回収状況.xlsx", "集計結果.xlsx")
    assert (s.master_file, s.departments_file, s.group_label) == ("施策マスタ.csv", "", "基本方針")
    assert (s.plan_end, s.prefill_previous, s.password, s.previous) == (None, False, "", "")
    assert s.deadline == "令和4年5月13日（金）" and s.contact == "情報政策課（内線 2021）"
    assert s.return_to == "情報政策課（joho@example.lg.jp）" and s.achievement_field is None
    assert s.path(S.RETURNS_DIR) == s.folder / "2_回収"


def test_the_2020_template(tmp_path):
    s = built(tmp_path, "2020")
    assert (s.rating_field, s.direction_field, s.report_style, s.group_label) == ("評価", "方向性", "2020", "基本目標")
    assert s.direction_scale.names == ("計画どおり推進", "事業拡大", "事業縮小", "計画修正", "中止（休止）", "完了")
    scale = s.rating_scale
    assert scale.names == ("AA", "A", "B", "C", "その他", "終了")
    assert scale.selectable == ("AA", "A", "B", "C", "その他")  # 終了 is the tool's to set
    assert [scale.rank(v) for v in scale.names] == [0, 1, 2, 3, None, None]
    assert scale.rank("Z") is None


def test_the_report_style_follows_the_direction_field_unless_given(tmp_path):
    def no_style(t):
        return t.replace('style = "2020"', "")
    assert built(tmp_path / "a", "2020", no_style).report_style == "2020"
    assert built(tmp_path / "b", "2020", lambda t: t.replace('style = "2020"', 'style = "2025"')).report_style == "2025"


def test_defaults_a_section_relies_on(tmp_path):
    def edit(t):
        t = t.replace('plan = "ICT推進・活用計画2025"\n', "").replace("max_length = 400\n", "")
        return t.replace("[survey]\n", '[survey]\nplan_end = 2025\nplan_short = "ICT計画"\n')
    s = built(tmp_path, "2025", edit)
    assert s.plan == s.title  # no plan: the title stands in
    assert (s.plan_end, s.plan_short) == (2025, "ICT計画")
    text = [f for f in s.fields if f.type == "text"]
    assert [f.max_length for f in text] == [32767, 32767]  # a text cell holds at most 32,767 characters


def test_form_and_output_settings(tmp_path):
    def edit(t):
        t = t.replace('input_sheet = "調査票"', 'input_sheet = " 回答 "').replace('status = "回収状況.xlsx"', 'status = "状況.xlsx"')
        t = t.replace('summary = "集計結果.xlsx"', 'summary = "結果.xlsx"')
        t = t.replace("[survey]\n", '[survey]\nprevious = "../令和2年度"\nachievement_field = "取組実績"\n'
                                        'departments = "所管課一覧.csv"\nresubmit_deadline = "令和4年6月1日"\n')
        return t.replace("[form]\n", '[form]\npassword = "secret"\nprefill_previous = true\n')
    s = built(tmp_path, "2025", edit)
    assert (s.input_sheet, s.status_file, s.password, s.prefill_previous) == ("回答", "状況.xlsx", "secret", True)
    assert (s.summary_file, s.previous, s.achievement_field) == ("結果.xlsx", "../令和2年度", "取組実績")
    assert (s.departments_file, s.resubmit_deadline) == ("所管課一覧.csv", "令和4年6月1日")


def test_field_options(tmp_path):
    def edit(t):
        return t.replace('type = "number"\n', 'type = "number"\nminimum = 0\nmaximum = 100.5\nwidth = 12\npercent = true\n')
    f = built(tmp_path, "2025", edit).field("実績値")
    assert (f.minimum, f.maximum, f.width, f.percent, f.help) == (0.0, 100.5, 12.0, True, "指標の実績値を半角数字で入力（単位は不要）")
    g = built(tmp_path / "b", "2025").field("実績値")
    assert (g.minimum, g.maximum, g.width, g.percent) == (None, None, None, False)


def test_mail_settings(tmp_path):
    def edit(t):
        return t + ('\n[mail]\nfrom = "ict@example.lg.jp"\nsmtp_host = "smtp.example.lg.jp"\nsmtp_port = 587\nstarttls = true\n'
                    'timeout = 5\nreply_to = "joho@example.lg.jp"\nusername = "ict01"\n'
                    '[mail.remind]\nsubject = "{所管課}へ"\nbody = "{状況}"\n')
    m = built(tmp_path, "2025", edit).mail
    assert (m.sender, m.smtp_host, m.smtp_port, m.starttls, m.ssl, m.timeout) == (
        "ict@example.lg.jp", "smtp.example.lg.jp", 587, True, False, 5.0)
    assert (m.reply_to, m.username) == ("joho@example.lg.jp", "ict01")
    tls = built(tmp_path / "c", "2025", lambda t: t + '\n[mail]\nsmtp_host = "smtp.example.lg.jp"\nssl = true\n').mail
    assert (tls.ssl, tls.starttls) == (True, False)
    half = built(tmp_path / "d", "2025", lambda t: t + '\n[mail.remind]\nsubject = "督促"\n[mail.distribute]\nbody = "本文"\n').mail
    assert half.messages == {"remind": ("督促", ""), "distribute": ("", "本文")}  # either part alone replaces its own
    assert m.messages == {"remind": ("{所管課}へ", "{状況}")}
    plain = built(tmp_path / "b").mail
    assert (plain.smtp_port, plain.timeout, plain.messages) == (0, 30.0, {})


# Headers of the form's own columns that are not master columns: a field may not take one.
COMBINED_HEADERS = {"extension": "内線", "indicator-target": "指標・目標値", "previous-rating-direction": "前年度の評価・方向性"}
RATING_SCALE = re.compile(r'\[scales\."評価"\]\nvalues = \[.*?\]\n', re.S)  # the 2025 template's one scale


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(lambda t: t.replace('rating_field = "評価"', 'rating_field = "取組実績"'), ["bad-rating-field"], id="rating-not-a-choice"),
    pytest.param(lambda t: t.replace('rating_field = "評価"', 'rating_field = "評定"'), ["bad-rating-field"], id="rating-unknown"),
    pytest.param(lambda t: t.replace("[survey]\n", '[survey]\ndirection_field = "実績値"\n'), ["bad-direction-field"], id="direction-not-a-choice"),
    pytest.param(lambda t: t.replace("[survey]\n", '[survey]\nachievement_field = "成果"\n'), ["bad-value"], id="achievement-unknown"),
    pytest.param(lambda t: t.replace('summary = "集計結果.xlsx"', 'summary = "回収状況.xlsx"'), ["file-name-reused"], id="two-outputs-one-name"),
    pytest.param(lambda t: t.replace('summary = "集計結果.xlsx"', 'summary = "回収状況.XLSX"'), ["file-name-reused"], id="names-differ-in-case"),
    pytest.param(lambda t: t.replace('master = "施策マスタ.csv"', 'master = "survey.toml"'), ["bad-value", "file-name-reused"], id="master-is-the-definition"),
    pytest.param(lambda t: t.replace("[survey]\n", '[survey]\ndepartments = "回収状況.xlsx"\n'), ["file-name-reused"],
                 id="department-list-is-an-output"),
    pytest.param(lambda t: t + '\n[mail.remind]\nsubject = "{所属}へ"\n', ["bad-placeholder"], id="unknown-placeholder"),
    pytest.param(lambda t: t + '\n[mail.distribute]\nbody = "{所管課}様\\n{締切}まで"\n', ["bad-placeholder"],
                 id="unknown-placeholder-in-a-body"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "達成,以上",'), ["bad-choice"], id="choice-with-comma"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "=A1",'), ["bad-choice"], id="choice-like-a-formula"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "-",'), ["bad-choice"], id="choice-minus"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "+α",'), ["bad-choice"], id="choice-plus"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "@α",'), ["bad-choice"], id="choice-at"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = " ",'), ["bad-value"], id="choice-empty"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "' + "長" * 256 + '",'), ["bad-choice"], id="choice-too-long"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "達成 ",'), ["duplicate-choice"], id="choice-twice"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ value = "未達成",'), ["duplicate-choice"], id="choice-twice-exactly"),
    pytest.param(lambda t: 'scales = "評価"\n' + RATING_SCALE.sub("", t), ["bad-value"], id="scales-not-a-table"),
    pytest.param(lambda t: RATING_SCALE.sub('[scales]\n"評価" = "達成"\n', t), ["bad-value"], id="scale-not-a-table"),
    pytest.param(lambda t: 'survey = "ICT推進・活用計画"\n' + re.sub(r"\[survey\]\n.*?\n(?=\[)", "", t, flags=re.S), ["bad-value"],
                 id="survey-not-a-table"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '1, { value = "達成+",'), ["bad-value"], id="choice-a-number"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ definition = "x" }, { value = "達成+",'), ["missing-key"],
                 id="choice-without-value"),
    pytest.param(lambda t: t.replace('definition = "{年度}計画の事業量を上回る実績となっている" }',
                                     'definition = "x", selectable = false }').replace(
        '又は施策としては完了している" }', '又は施策としては完了している", selectable = false }').replace(
        '又は施策として完了していない" }', '又は施策として完了していない", selectable = false }'),
        ["no-selectable-choice"], id="nothing-selectable"),
    pytest.param(lambda t: t.split('[scales."評価"]')[0] + '[scales."評価"]\nvalues = []\n' + "[[fields]]"
                 + t.split("[[fields]]", 1)[1], ["bad-value"], id="scale-without-values"),
    pytest.param(lambda t: t.split('[scales."評価"]')[0] + '[scales."評価"]\n' + "[[fields]]"
                 + t.split("[[fields]]", 1)[1], ["missing-key"], id="scale-without-a-values-key"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "評価"'), ["duplicate-field"], id="field-twice"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "施策名"'), ["reserved-field"], id="field-named-as-a-master-column"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "記入者"'), ["reserved-field"], id="field-named-as-the-respondent"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "施策 名"'), ["reserved-field"], id="field-named-as-a-column-spaced"),
    *(pytest.param(lambda t, n=name: t.replace('name = "実績値"', f'name = "{n}"'), ["reserved-field"], id=f"field-named-{id_}")
      for id_, name in COMBINED_HEADERS.items()),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "' + "長" * 41 + '"'), ["bad-field-name"], id="field-name-too-long"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "=SUM"'), ["bad-field-name"], id="field-name-formula"),
    pytest.param(lambda t: t.replace('type = "number"\n', 'type = "number"\nminimum = 10\nmaximum = 1\n'), ["bad-range"], id="range-upside-down"),
    pytest.param(lambda t: t.replace('id = "Ⅱ"', 'id = "Ⅰ"'), ["duplicate-group"], id="group-twice"),
    # A field refused, or all of them, is one mistake: the names in [survey] pointing at it are not a second.
    pytest.param(lambda t: t.split("[[fields]]")[0], ["missing-key"], id="fields-missing"),
    pytest.param(lambda t: "fields = []\n" + t.split("[[fields]]")[0], ["bad-value"], id="fields-empty"),
    pytest.param(lambda t: 'fields = "評価"\n' + t.split("[[fields]]")[0], ["bad-value"], id="fields-not-tables"),
    pytest.param(lambda t: "fields = [1, 2]\n" + t.split("[[fields]]")[0], ["bad-value"], id="fields-not-all-tables"),
    pytest.param(lambda t: 'fields = [1, { name = "評価", type = "choice" }, { name = "甲" }, { name = "甲" }]\n'
                 + t.split("[[fields]]")[0], ["bad-value", "duplicate-field"], id="fields-partly-tables"),
    pytest.param(lambda t: t.replace('type = "choice"', 'type = "choise"'), ["bad-value"], id="rating-field-of-unknown-type"),
    pytest.param(lambda t: t.replace('name = "評価"\ntype', 'name = "施策名"\ntype').replace(
        'rating_field = "評価"', 'rating_field = "施策名"'), ["reserved-field"], id="rating-field-reserved"),
    pytest.param(lambda t: t.replace('name = "評価"\ntype', 'name = "=評価"\ntype').replace(
        'rating_field = "評価"', 'rating_field = "=評価"'), ["bad-field-name"], id="rating-field-badly-named"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "@実績値"').replace(
        "[survey]\n", '[survey]\nachievement_field = "@実績値"\n'), ["bad-field-name"], id="achievement-field-badly-named"),
])
def test_each_definition_mistake(tmp_path, edit, expected):
    assert codes(tmp_path, edit) == expected


# What the section reads for each mistake above: one sentence naming the key, the value and what to do.
MESSAGES = {
    'rating-not-a-choice': ['rating_field「取組実績」は fields にある選択式（choice）の項目ではありません。fields の選択式の項目名を指定してください。'],
    'rating-unknown': ['rating_field「評定」は fields にある選択式（choice）の項目ではありません。fields の選択式の項目名を指定してください。'],
    'direction-not-a-choice': ['direction_field「実績値」は fields にある選択式（choice）の項目ではありません。fields の選択式の項目名を指定してください。'],
    'achievement-unknown': ['「survey.achievement_field」の値「成果」は使えません。fields にある項目名を指定してください。'],
    'two-outputs-one-name': ['ファイル名「回収状況.xlsx」が別の用途（調査定義・施策マスタ・所管課一覧・台帳・出力）と重なっています。別の名前にしてください。'],
    'department-list-is-an-output': ['ファイル名「回収状況.xlsx」が別の用途（調査定義・施策マスタ・所管課一覧・台帳・出力）と重なっています。別の名前にしてください。'],
    'names-differ-in-case': ['ファイル名「回収状況.XLSX」が別の用途（調査定義・施策マスタ・所管課一覧・台帳・出力）と重なっています。別の名前にしてください。'],
    'master-is-the-definition': ['「survey.master」の値「survey.toml」は使えません。拡張子を .xlsx / .xlsm / .csv にしてください。', 'ファイル名「survey.toml」が別の用途（調査定義・施策マスタ・所管課一覧・台帳・出力）と重なっています。別の名前にしてください。'],
    'unknown-placeholder': ['「mail.remind.subject」の差し込み項目 {所属} は使えません。使える項目: {所管課}、{担当者}、{年度}、{調査名}、{提出期限}、{再提出期限}、{問合せ先}、{返送先}、{未提出施策}、…。'],
    'unknown-placeholder-in-a-body': ['「mail.distribute.body」の差し込み項目 {締切} は使えません。使える項目: {所管課}、{担当者}、{年度}、{調査名}、{提出期限}、{再提出期限}、{問合せ先}、{返送先}、{未提出施策}、…。'],
    'choice-with-comma': ['選択肢「評価」の値「達成,以上」は使えません（カンマを含みます）。値を修正してください。'],
    'choice-like-a-formula': ['選択肢「評価」の値「=A1」は使えません（先頭が = + - @ です（Excel が数式とみなします））。値を修正してください。'],
    'choice-minus': ['選択肢「評価」の値「-」は使えません（先頭が = + - @ です（Excel が数式とみなします））。値を修正してください。'],
    'choice-plus': ['選択肢「評価」の値「+α」は使えません（先頭が = + - @ です（Excel が数式とみなします））。値を修正してください。'],
    'choice-at': ['選択肢「評価」の値「@α」は使えません（先頭が = + - @ です（Excel が数式とみなします））。値を修正してください。'],
    'choice-empty': ['「scales."評価".values[1].value」の値「 」は使えません。空にはできません。'],
    'choice-too-long': ['選択肢「評価」の値「長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長…」は使えません（256文字で長すぎます（255文字以内））。値を修正してください。'],
    'choice-twice': ['選択肢「評価」の値「達成」が重複しています。1つにしてください。'],
    'choice-twice-exactly': ['選択肢「評価」の値「未達成」が重複しています。1つにしてください。'],
    'nothing-selectable': ['選択肢「評価」の値がすべて selectable = false で、調査票で選べる値がありません。少なくとも1つは選べるようにしてください。'],
    'scale-without-values': ['「scales."評価".values」の値「[]」は使えません。値を1つ以上並べてください。'],
    'scale-without-a-values-key': ['必須の項目「scales."評価".values」がありません。追記してください。'],
    'field-twice': ['項目名「評価」が重複しています。別の名前にしてください。'],
    'field-named-as-a-master-column': ['項目名「施策名」は調査票の固定列と同じ名前です。別の名前にしてください。'],
    'field-named-as-the-respondent': ['項目名「記入者」は調査票の固定列と同じ名前です。別の名前にしてください。'],
    'field-named-as-a-column-spaced': ['項目名「施策 名」は調査票の固定列と同じ名前です。別の名前にしてください。'],
    **{f"field-named-{id_}": [f"項目名「{name}」は調査票の固定列と同じ名前です。別の名前にしてください。"]
       for id_, name in COMBINED_HEADERS.items()},
    'field-name-too-long': ['項目名「長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長…」は使えません（41文字で長すぎます（40文字以内））。'],
    'field-name-formula': ['項目名「=SUM」は使えません（先頭が = + - @ です（Excel が数式とみなします））。'],
    'range-upside-down': ['項目「実績値」の minimum（10）が maximum（1）より大きくなっています。'],
    'group-twice': ['groups の id「Ⅰ」が重複しています。1つにしてください。'],
    'fields-missing': ['必須の項目「fields」がありません。追記してください。'],
    'fields-empty': ['「fields」の値「[]」は使えません。[[fields]] を1つ以上書いてください。'],
    'fields-not-tables': ['「fields」の値「評価」は使えません。[[表]] の並びで指定してください。'],
    'fields-not-all-tables': ['「fields」の値「[1, 2]」は使えません。[[表]] の並びで指定してください。'],
    'fields-partly-tables': ["「fields」の値「[1, {'name': '評価', 'type': 'choice'}, {…」は使えません。[[表]] の並びで指定してください。",
                             '項目名「甲」が重複しています。別の名前にしてください。'],
    'rating-field-of-unknown-type': ['「fields[1].type」の値「choise」は使えません。次のいずれか：choice / number / text / dateで指定してください。'],
    'rating-field-reserved': ['項目名「施策名」は調査票の固定列と同じ名前です。別の名前にしてください。'],
    'rating-field-badly-named': ['項目名「=評価」は使えません（先頭が = + - @ です（Excel が数式とみなします））。'],
    'achievement-field-badly-named': ['項目名「@実績値」は使えません（先頭が = + - @ です（Excel が数式とみなします））。'],
    'scales-not-a-table': ['「scales」の値「評価」は使えません。[表]で指定してください。'],
    'scale-not-a-table': ['「scales.評価」の値「達成」は使えません。[scales."名前"] の表にしてください。'],
    'survey-not-a-table': ['「survey」の値「ICT推進・活用計画」は使えません。[表]で指定してください。'],
    'choice-a-number': ['「scales."評価".values[1]」の値「1」は使えません。"値" または { value = "値", definition = "内容" } にしてください。'],
    'choice-without-value': ['必須の項目「scales."評価".values[1].value」がありません。追記してください。'],
}


def test_each_definition_mistake_is_one_sentence_naming_it(tmp_path):
    for param in test_each_definition_mistake.pytestmark[0].args[1]:
        edit, _codes = param.values
        _survey, problems = definition(tmp_path / param.id, "2025", edit)
        assert [p.message for p in problems if p.severity != "notice"] == MESSAGES[param.id], param.id


def test_a_range_that_is_one_value_is_fine(tmp_path):
    assert codes(tmp_path, lambda t: t.replace('type = "number"\n', 'type = "number"\nminimum = 1\nmaximum = 1\n')) == []


def test_a_placeholder_left_is_reported_but_the_survey_is_built(tmp_path):
    survey, problems = definition(tmp_path, "2025", lambda t: t.replace('deadline = "令和4年5月13日（金）"',
                                                                         'deadline = "（提出期限を記入）"'))
    assert survey is not None and survey.deadline == "（提出期限を記入）"
    assert [(p.code, p.file) for p in problems] == [("placeholder-left", "survey.toml")]


def test_no_fields_at_all(tmp_path):
    def edit(t):
        return t.split("[[fields]]")[0] + "fields = []\n"
    survey, problems = definition(tmp_path, "2025", edit)
    assert survey is None
    assert "missing-key" in [p.code for p in problems]


@pytest.mark.parametrize(("message", "text"), [
    ("Expected '=' after a key in a key/value pair (at line 5, column 12)", "5 行目 12 文字目付近"),
    ("Unclosed array (at line 7)", "7 行目付近"),
    ("Invalid statement (at end of document)", "位置不明"),
])
def test_toml_errors_in_japanese(message, text):
    assert S.toml_error_text(message) == text


def test_a_toml_syntax_error_names_its_line(tmp_path):
    survey, problems = definition(tmp_path, "2025", lambda t: t.replace('title = "', 'title = '))
    assert survey is None
    (p,) = problems
    assert p.code == "toml-syntax" and "6 行目" in p.message


@pytest.mark.parametrize(("name", "reason"), [
    ("取組実績", None), ("長" * 40, None), ("長" * 41, "41文字で長すぎます（40文字以内）"),
    ("取組\n実績", "改行などの制御文字を含みます"), ("=A", "先頭が = + - @ です（Excel が数式とみなします）"),
    ("+1", "先頭が = + - @ です（Excel が数式とみなします）"), ("@x", "先頭が = + - @ です（Excel が数式とみなします）"),
    ("a-b", None), ("-1", "先頭が = + - @ です（Excel が数式とみなします）"),
    ("実績 値", None), ("実績\x1f値", "改行などの制御文字を含みます"),  # a space is fine, a control character is not
])
def test_field_name_problem(name, reason):
    assert field_name_problem(name) == reason


def test_scale_lookup_and_the_dropdown_message():
    scale = Scale("評価", (ScaleValue("達成+", "上回る"), ScaleValue("達成", ""), ScaleValue("終了", "完了済", False, False)))
    assert [scale.lookup(t) for t in ("達成＋", " 達成 ", "達 成", "終了", "たぶん", "")] == ["達成+", "達成", "達成", "終了", None, None]
    assert scale.definition("達成+") == "上回る" and scale.definition("なし") == ""
    assert definitions_message(scale) == "達成+：上回る\n達成"


@pytest.mark.parametrize(("group", "ordinal", "shown", "title"), [
    (Group("Ⅰ", "業務の改善"), True, "業務の改善", "基本方針Ⅰ：業務の改善"),
    (Group("①", ""), True, "①", "基本方針①"),
    (Group("1234", "x"), True, "x", "基本方針1234：x"),
    (Group("計画に関する進捗管理", ""), False, "計画に関する進捗管理", "計画に関する進捗管理"),
    (Group("12345", "x"), False, "x", "12345"),
])
def test_group_names(group, ordinal, shown, title):
    assert (group.ordinal, group.display_name, group.title("基本方針")) == (ordinal, shown, title)


def test_the_fingerprint_follows_what_a_form_depends_on(tmp_path):
    base = built(tmp_path / "a").fingerprint()
    assert built(tmp_path / "b").fingerprint() == base
    assert built(tmp_path / "c", edit=lambda t: t.replace('deadline = "令和4年5月13日（金）"',
                                                          'deadline = "令和4年5月20日（金）"')).fingerprint() == base
    for i, edit in enumerate([lambda t: t.replace("max_length = 400", "max_length = 300", 1),
                              lambda t: t.replace('{ value = "達成+",', '{ value = "達成++",'),
                              lambda t: t.replace("fiscal_year = 2021", "fiscal_year = 2022"),
                              lambda t: t.replace('input_sheet = "調査票"', 'input_sheet = "回答"')]):
        assert built(tmp_path / f"d{i}", edit=edit).fingerprint() != base


def _scales_swapped(text: str) -> str:
    start, middle, end = text.index('[scales."評価"]'), text.index('[scales."方向性"]'), text.index("[[fields]]")
    return text[:start] + text[middle:end].rstrip() + "\n\n" + text[start:middle] + text[end:]


def test_the_fingerprint_does_not_follow_the_order_of_scales_in_the_file(tmp_path):
    """Moving a scale's table in survey.toml changes no form: generate must not call them changed."""
    base = built(tmp_path / "a", "2020")
    moved = built(tmp_path / "b", "2020", edit=_scales_swapped)
    assert list(moved.scales) == ["方向性", "評価"] and list(base.scales) == ["評価", "方向性"]
    assert moved.fingerprint() == base.fingerprint()


def test_the_fingerprint_stays_the_same_across_versions_of_the_tool(tmp_path):
    """Every distributed form and the ledger keep a version made from this fingerprint; a tool
    update that computed another one would call every form of a running survey changed."""
    # (the template itself changed once: its 取組実績 help lost 「を400字以内で」, which the form
    # already says; with the old text the computation still gives af3c65c9…)
    assert built(tmp_path / "a").fingerprint() == (
        "77ee4cc78cf272349b61a1fc153bc68701254490e6d1df8228c7d3f5eaa1a420")


@pytest.mark.parametrize("year", ['"2021"', "1800", "2201", "true"])
def test_a_fiscal_year_out_of_range_is_one_problem_and_the_rest_is_still_checked(tmp_path, year):
    survey, problems = definition(tmp_path, edit=lambda t: t.replace("fiscal_year = 2021", f"fiscal_year = {year}"))
    assert survey is None
    assert [p.code for p in problems if p.severity != "notice"] == ["bad-value"]
    assert "fiscal_year" in problems[0].message or "年度" in problems[0].message


def test_numbers_in_messages_drop_a_zero_fraction_only():
    assert [S._show_number(v) for v in (10.0, 10, 2.5, -3.0)] == ["10", "10", "2.5", "-3"]


@pytest.mark.parametrize(("year", "label"), [(1989, "平成元年度"), (2200, "令和182年度")])
def test_the_first_and_last_fiscal_years_accepted_name_themselves_in_the_scale_definitions(tmp_path, year, label):
    survey = built(tmp_path, edit=lambda t: t.replace("fiscal_year = 2021", f"fiscal_year = {year}"))
    assert survey.fiscal_year == year
    assert survey.scales["評価"].values[0].definition == f"{label}計画の事業量を上回る実績となっている"


def without(*keys: str):
    """An edit removing the lines that set `keys` (each must be there)."""
    def edit(text: str) -> str:
        for key in keys:
            text, n = re.subn(rf"(?m)^{key} = .*\n", "", text)
            assert n == 1, key
        return text
    return edit


def test_what_a_definition_leaves_out_has_a_default_and_what_it_writes_is_taken(tmp_path):
    survey = built(tmp_path / "a", edit=without("rating_field", "input_sheet", "instructions_sheet", "master",
                                                 "status", "summary", "group_label", "plan", "style"))
    assert (survey.rating_field, survey.input_sheet, survey.instructions_sheet) == ("評価", "調査票", "記入要領")
    assert (survey.master_file, survey.status_file, survey.summary_file) == (
        "施策マスタ.xlsx", "回収状況.xlsx", "集計結果.xlsx")
    assert (survey.group_label, survey.plan, survey.report_style) == ("基本方針", survey.title, "2025")
    assert built(tmp_path / "b", "2020", edit=without("style")).report_style == "2020"  # it has a direction field
    survey = built(tmp_path / "c", edit=lambda t: t.replace('instructions_sheet = "記入要領"', 'instructions_sheet = "説明"'))
    assert survey.instructions_sheet == "説明"


@pytest.mark.parametrize(("setting", "got"), [
    ("width = 4", (4.0, 400)), ("width = 80", (80.0, 400)),  # the narrowest and widest column allowed
    ("max_length = 1", (None, 1)), ("max_length = 32767", (None, 32767)),
])
def test_a_text_field_takes_the_limits_at_the_edge_of_what_is_allowed(tmp_path, setting, got):
    field = 'name = "取組実績"\ntype = "text"\nrequired = true\nmax_length = 400\n'
    mine = field.replace("max_length = 400\n", "") if setting.startswith("max_length") else field

    def edit(t: str) -> str:
        assert field in t
        return t.replace(field, f"{mine}{setting}\n", 1)
    f = built(tmp_path, edit=edit).field("取組実績")
    assert (f.width, f.max_length) == got


def test_a_field_without_a_type_is_text(tmp_path):
    f = built(tmp_path, edit=lambda t: t.replace('name = "取組実績"\ntype = "text"\n', 'name = "取組実績"\n', 1)).field("取組実績")
    assert (f.type, f.max_length) == ("text", 400)


def test_a_scale_without_values_does_not_hide_the_scales_after_it(tmp_path):
    def edit(t: str) -> str:  # 評価 comes before 方向性 in the 2020 template
        return RATING_SCALE.sub('[scales."評価"]\nvalues = []\n', t)

    assert codes(tmp_path, edit, "2020") == ["bad-value"]


def test_every_refused_field_is_reported_not_only_the_first(tmp_path):
    bad_fields = "".join(f"[[fields]]\n{body}\n\n" for body in (
        'type = "text"',  # no name
        'name = "種別"\ntype = "list"',  # no such type
        'name = "所見"',
        'name = "所見"',  # twice
        'name = "所管課"',  # a column of the form
        'name = "=合計"',  # a formula
        'name = "区分"\ntype = "choice"',  # no scale of that name
        'name = "@備考"',  # a formula again, last
    ))

    def edit(t: str) -> str:
        return t.replace("[[fields]]", bad_fields + "[[fields]]", 1)

    assert codes(tmp_path, edit) == ["missing-key", "bad-value", "duplicate-field", "reserved-field", "bad-field-name",
                                     "unknown-scale", "bad-field-name"]


def test_every_refused_group_is_reported_not_only_the_first(tmp_path):
    bad_groups = "".join(f"[[groups]]\n{body}\n\n" for body in (
        'name = "番号なし"', 'id = "Ⅷ"', 'id = "Ⅷ"', 'id = "Ⅸ"', 'id = "Ⅸ"'))
    assert codes(tmp_path / "a", lambda t: t.replace("[[groups]]", bad_groups + "[[groups]]", 1)) == [
        "missing-key", "duplicate-group", "duplicate-group"]

    def inline(t: str) -> str:  # an entry that is not a table does not hide the ones after it
        return 'groups = ["Ⅰ", { id = "Ⅷ" }, { id = "Ⅷ" }]\n' + re.sub(r"\[\[groups\]\]\n.*?\n\n(?=\[)", "", t, flags=re.S)
    assert codes(tmp_path / "b", inline) == ["bad-value", "duplicate-group"]


def test_a_scale_with_nothing_selectable_does_not_hide_the_scales_after_it(tmp_path):
    def edit(t: str) -> str:  # 評価 comes before 方向性 in the 2020 template
        return RATING_SCALE.sub('[scales."評価"]\nvalues = [{ value = "A", selectable = false }]\n', t)

    assert codes(tmp_path, edit, "2020") == ["no-selectable-choice"]


def test_a_dropdown_list_and_message_of_exactly_255_characters_fit_excel(tmp_path):
    # Excel's limits: a validation list written inline ≤ 255 characters with its commas, and an
    # input message ≤ 255. Two values of 127 make both exactly 255 ("," and a line break between).
    def scale(first: int):
        return lambda t: RATING_SCALE.sub(f'[scales."評価"]\nvalues = ["{"A" * first}", "{"B" * 127}"]\n', t)

    fits = built(tmp_path / "a", "2025", scale(127)).scales["評価"]
    assert len(",".join(fits.selectable)) == len(S.definitions_message(fits)) == 255
    _, problems = definition(tmp_path / "a", "2025", scale(127))
    assert [p.code for p in problems if p.code in ("list-too-long", "message-too-long")] == []
    _, problems = definition(tmp_path / "b", "2025", scale(128))
    assert [p.code for p in problems if p.code in ("list-too-long", "message-too-long")] == [
        "list-too-long", "message-too-long"]


def test_a_choice_of_exactly_255_characters_is_accepted():
    assert S.choice_problem("長" * 255) is None and S.choice_problem("長" * 256) == "256文字で長すぎます（255文字以内）"


def test_every_bad_choice_of_a_scale_is_reported_not_only_the_first(tmp_path):
    def values(listed: str):
        return lambda t: RATING_SCALE.sub(f'[scales."評価"]\nvalues = [{listed}]\n', t)

    assert codes(tmp_path / "a", values('"A", "A", "=b"')) == ["duplicate-choice", "bad-choice"]
    assert codes(tmp_path / "b", values('"=a", "+b"')) == ["bad-choice", "bad-choice", "empty-scale"]  # none is left
    # A choice without a value is no value at all: not one called "None", which would leave the scale a choice.
    assert codes(tmp_path / "c", values('{ definition = "x" }')) == ["missing-key", "empty-scale"]


def test_a_choice_without_a_definition_has_none(tmp_path):
    survey = built(tmp_path, "2020")
    assert [v.definition for v in survey.scales["方向性"].values] == [""] * 6
