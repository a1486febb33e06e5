"""The report model at the edges of the counts (issue 22): every sentence right, or a placeholder.

Pure: a survey folder from a template and a CSV master, answers as dicts, the model built from
the tally (xlsx_tool.summarize.report.build). What the CLI writes from this model is checked in
tests/test_document.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.define.master import load
from xlsx_tool.summarize import report
from xlsx_tool.summarize.report import Paragraph, Placeholder
from xlsx_tool.summarize.tally import tally
from xlsx_tool.summarize.wording import Wording, plain

H2020 = ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"]
GROUPS_2020 = '[[groups]]\nid = "①"\nname = "目標一"\n\n[[groups]]\nid = "②"\nname = "目標二"\n\n[[fields]]'


def survey2020(tmp_path, rows, edit=lambda t: t):
    folder = make_survey(tmp_path / "s", "2020", H2020, rows,
                         lambda t: edit(t.replace("[[fields]]", GROUPS_2020, 1)))
    loaded, problems = load(folder)
    assert loaded is not None and not [p for p in problems if p.is_error], [p.text() for p in problems]
    return loaded


def rated(**ratings: str) -> dict:
    return {n.lstrip("m"): {"評価": v, "方向性": "計画どおり推進", "取組実績": f"施策{n.lstrip('m')}の取組"}
            for n, v in ratings.items()}


def group_texts(rep, index: int) -> list[str]:
    """The paragraphs of the index-th group section (level 2 after the 各基本目標別 heading)."""
    groups = [s for s in rep.sections if s.level == 2 and s.heading and s.heading.text.startswith("(")]
    return [b.text for b in groups[index].blocks if isinstance(b, Paragraph)]


SAME = "令和２年度と比較しても同様の評価であるため、順調に進捗していることが分かる。"


@pytest.mark.parametrize(("rows", "answers", "expected"), [
    pytest.param([[1, "施策一", "①", "課A", "A", ""], [2, "施策二", "①", "課A", "B", ""]],
                 rated(m1="A", m2="B"), [SAME], id="all-unchanged"),
    pytest.param([[1, "施策一", "①", "課A", "A", ""], [2, "施策二", "①", "課A", "A", ""]],
                 {**rated(m1="A"), **{"2": {"評価": "その他", "方向性": "中止（休止）"}}},
                 ["令和２年度A評価であった【No.２ 施策二】が、（理由を記入）その他となった。"], id="A-to-other-stopped"),
    pytest.param([[1, "施策一", "①", "課A", "", ""], [2, "施策二", "①", "課A", "", ""]],
                 rated(m1="A", m2="B"), ["（実施結果を記入）"], id="new-measures-only"),
    pytest.param([[1, "施策一", "①", "課A", "A", ""], [2, "施策二", "①", "課A", "", ""]],
                 rated(m1="A", m2="B"), ["（実施結果を記入）"], id="unchanged-and-a-new-one"),
    pytest.param([[1, "施策一", "①", "課A", "A", "完了"], [2, "施策二", "①", "課A", "A", "完了"]],
                 {}, ["（実施結果を記入）"], id="only-ended"),
    pytest.param([[1, "施策一", "①", "課A", "A", "完了"], [2, "施策二", "①", "課A", "B", ""]],
                 rated(m2="B"), [SAME], id="ended-and-an-unchanged-one"),
    pytest.param([[1, "施策一", "①", "課A", "A", ""]], rated(m1="A"), [SAME], id="single-measure"),
    pytest.param([[1, "施策一", "①", "課A", "B", ""], [2, "施策二", "①", "課A", "A", ""]],
                 rated(m1="A"), ["令和２年度B評価であった【No.１ 施策一】は、（理由を記入）A評価に改善した。", "（実施結果を記入）"],
                 id="a-change-and-an-unanswered-one"),
])
def test_2020_group_text_is_right_or_a_placeholder(tmp_path, rows, answers, expected):
    s = survey2020(tmp_path, rows + [[9, "施策九", "②", "課B", "A", ""]])
    t = tally(s.survey, s.master, {**answers, **rated(m9="A")})
    rep = report.build(s.survey, s.master, t)
    assert group_texts(rep, 0) == expected
    assert group_texts(rep, 1) == [SAME]


def test_2020_placeholder_help_says_why_no_sentence_is_written(tmp_path):
    s = survey2020(tmp_path, [[1, "施策一", "①", "課A", "A", "完了"], [2, "施策二", "②", "課A", "", ""],
                              [3, "施策三", "②", "課A", "A", ""]])
    t = tally(s.survey, s.master, {**rated(m2="B"), "3": {}})
    helps = [p.help for p in report.build(s.survey, s.master, t).placeholders() if p.text == "（実施結果を記入）"]
    assert helps[0] == "この基本目標の施策は、いずれも前年度以前に方向性を「完了」とした施策（終了）です。"
    assert helps[1] == ("■ 前年度の評価がない施策（比較できません）\n\nNo.2 施策二（課A）【B評価】\n取組実績：施策2の取組"
                        "\n\n■ 評価が未回答の施策\n\nNo.3 施策三（課A）【A評価 → 未回答】")


def test_2020_direction_sentence_names_unanswered_directions(tmp_path):
    """「これら以外は０施策」 is false while a measure has no direction: it is named as 未回答."""
    s = survey2020(tmp_path, [[1, "施策一", "①", "課A", "A", ""], [2, "施策二", "②", "課A", "A", ""]])
    t = tally(s.survey, s.master, rated(m1="A"))
    assert Wording(s.survey).overall(t)[1] == (
        "また、計画の方向性については、「計画どおり推進」が１施策、未回答が１施策であり、これら以外は０施策であった。")


def test_a_group_without_a_name_is_a_placeholder_in_its_heading(tmp_path):
    s = survey2020(tmp_path, [[1, "施策一", "①", "課A", "A", ""]],
                   lambda t: t.replace('name = "目標一"\n', ""))
    t = tally(s.survey, s.master, rated(m1="A"))
    heading = Wording(s.survey).group_heading_runs(0, t.groups[0], t)
    assert plain(heading) == "(1) ① （名称を記入）（A評価：１施策）"
    assert isinstance(heading[1], Placeholder) and "[[groups]]" in heading[1].help


@pytest.mark.parametrize(("style", "fy", "start", "end", "period", "expected"), [
    # the 2025 reference: 「令和4年度はICT計画2025前期実施計画の中間年度にあたる。」
    pytest.param("2025", 2021, 2021, 2023, "前期実施計画", "令和4年度はICT計画2025前期実施計画の中間年度にあたる。",
                 id="2025-middle-year"),
    pytest.param("2025", 2022, 2021, 2023, "前期実施計画", "令和5年度はICT計画2025前期実施計画の最終年度にあたる。",
                 id="2025-final-year-next"),
    pytest.param("2025", 2023, 2021, 2023, "前期実施計画", "ICT計画2025前期実施計画は、令和5年度をもって計画期間が満了した。",
                 id="2025-period-over"),
    pytest.param("2025", 2021, None, 2025, "", "ICT計画2025は、令和7年度までを計画期間としており、残すところあと4か年となっている。",
                 id="2025-no-start"),
    # the 2020 reference: 「本推進計画は、令和２年度までを計画期間としているものであり、残すところあと１か年となっている。」
    pytest.param("2020", 2019, None, 2020, "", "本推進計画は、令和２年度までを計画期間としているものであり、"
                 "残すところあと１か年となっている。", id="2020-one-year-left"),
    pytest.param("2020", 2020, None, 2020, "", "本推進計画は、令和２年度をもって計画期間が満了した。", id="2020-over"),
])
def test_the_outlook_follows_the_plan_period(tmp_path, style, fy, start, end, period, expected):
    folder = make_survey(tmp_path / "s", style)
    loaded, _ = load(folder)
    survey = dataclasses.replace(loaded.survey, fiscal_year=fy, plan_start=start, plan_end=end, report_period=period,
                                 plan_short="ICT計画2025" if style == "2025" else "")
    where, rest = Wording(survey).future()
    assert plain(where).startswith(expected)
    assert plain(rest) == "また、（今後の予定を記入）"
    assert isinstance(rest[1], Placeholder) and f"{Wording(survey).year(end + 1)}以降" in rest[1].help


def test_without_a_plan_end_the_period_is_a_placeholder(tmp_path):
    loaded, _ = load(make_survey(tmp_path / "s", "2020"))
    where, _rest = Wording(loaded.survey).future()
    assert isinstance(where[0], Placeholder) and "plan_end" in where[0].help


def test_every_placeholder_is_marked_and_helped(tmp_path):
    """Each 「（…を記入）」 of the model is a Placeholder (highlighted in every output) with help."""
    s = survey2020(tmp_path, [[1, "施策一", "①", "課A", "B", ""], [2, "施策二", "②", "課A", "", ""]])
    rep = report.build(s.survey, s.master, tally(s.survey, s.master, rated(m1="A", m2="A")))
    texts = []
    for section in rep.sections:
        paragraphs = [section.heading] if section.heading else []
        paragraphs += [b for b in section.blocks if isinstance(b, Paragraph)]
        for p in paragraphs:
            for run in p.runs:
                if isinstance(run, str):
                    assert "を記入）" not in run, run
                else:
                    assert run.help, run
                    texts.append(run.text)
    assert texts == ["（理由を記入）", "（実施結果を記入）", "（計画期間を記入）", "（今後の予定を記入）"]


@pytest.mark.parametrize(("edit", "message"), [
    pytest.param(lambda t: t.replace("fiscal_year = 2021", "fiscal_year = 2021\nplan_start = 2024\nplan_end = 2022"),
                 "survey.toml: 計画期間の plan_start（2024）が plan_end（2022）より後になっています。", id="period-reversed"),
    pytest.param(lambda t: t.replace('summary = "集計結果.xlsx"', 'summary = "集計結果.xlsx"\nreport = "実績報告書.xlsx"'),
                 "survey.toml: 「outputs.report」の値「実績報告書.xlsx」は使えません。拡張子を .docx にしてください。",
                 id="report-not-docx"),
    pytest.param(lambda t: t.replace('summary = "集計結果.xlsx"', 'summary = "集計結果.xlsx"\nreport = "集計結果.xlsx"'),
                 "survey.toml: 「outputs.report」の値「集計結果.xlsx」は使えません。拡張子を .docx にしてください。",
                 id="report-named-like-the-summary"),
    pytest.param(lambda t: t.replace('style = "2020"', 'style = "2020"\ntemplate = "../ひな形.docx"'),
                 "survey.toml: 「report.template」の「../ひな形.docx」は調査フォルダ内のファイル名として使えません。",
                 id="template-outside-the-folder"),
])
def test_check_names_a_bad_report_setting(tmp_path, edit, message):
    from click.testing import CliRunner

    from xlsx_tool.cli import cli

    folder = make_survey(tmp_path / "s", "2020", toml_edit=edit)
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 1
    assert any(line.startswith(f"[エラー] {message}") for line in result.output.splitlines()), result.output
