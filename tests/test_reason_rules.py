"""Issue 26, the rules alone (no cycle): declaring the reason field in survey.toml, and a
department's reason written into the report's change sentence.

The CLI, the forms, LibreOffice and the documents are in tests/test_reasons.py.
"""

from __future__ import annotations

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import load
from xlsx_tool.define.survey import load_definition
from xlsx_tool.summarize.tally import DECLINED, IMPROVED, Change
from xlsx_tool.summarize.wording import Placeholder, Wording, plain, reason_runs, reason_text

REASON_FIELD = '''[[fields]]
name = "評価の変更理由"
type = "text"
required_when = "rating-changed"
max_length = 200
'''


def definition(tmp_path, template: str, edit):
    return load_definition(make_survey(tmp_path / "s", template, toml_edit=edit))


def with_fields(extra: str):
    return lambda text: text.replace("[[fields]]\nname = \"実績値\"", extra + "\n[[fields]]\nname = \"実績値\"", 1)


# --- survey.toml ----------------------------------------------------------------------------

def test_the_2020_template_asks_the_reason_and_the_2025_template_does_not(tmp_path):
    survey, problems = definition(tmp_path / "a", "2020", None)
    assert survey is not None and not problems
    assert survey.reason_field == "評価の変更理由"
    reason = survey.field("評価の変更理由")
    assert (reason.type, reason.required, reason.required_when, reason.max_length) == ("text", False, "rating-changed", 200)
    survey, _ = definition(tmp_path / "b", "2025", None)
    assert survey.reason_field is None
    # the 2025 template's commented example, its # taken away, is a valid definition
    survey, problems = definition(tmp_path / "c", "2025", lambda t: t.replace("# [[fields]]\n# name = \"評価の変更理由\"",
                                                                            "[[fields]]\nname = \"評価の変更理由\"")
                                  .replace("# type = \"text\"\n# required_when", "type = \"text\"\nrequired_when")
                                  .replace("# max_length = 200\n# help", "max_length = 200\nhelp"))
    assert not problems and survey.reason_field == "評価の変更理由"


@pytest.mark.parametrize(("extra", "code", "said"), [
    (REASON_FIELD.replace('"rating-changed"', '"changed"'), "bad-value",
     "「fields[2].required_when」の値「changed」は使えません。\"rating-changed\"（評価が前年度評価と違うときだけ必須）を指定してください。"),
    (REASON_FIELD.replace('type = "text"', 'type = "number"').replace("max_length = 200\n", ""), "reason-field-type",
     "項目「評価の変更理由」の required_when = \"rating-changed\"（評価を変えたときの理由）は、文章の項目（type = \"text\"）にだけ指定できます。"),
    (REASON_FIELD + "required = true\n", "reason-field-required",
     "項目「評価の変更理由」に required = true（常に必須）と required_when（評価を変えたときだけ必須）の両方があります。どちらか一方にしてください。"),
    (REASON_FIELD + "\n" + REASON_FIELD.replace("評価の変更理由", "変更の理由"), "reason-field-twice",
     "required_when = \"rating-changed\" の項目が「評価の変更理由」と「変更の理由」の2つあります。評価の変更理由の項目は1つにしてください。"),
])
def test_a_reason_field_declared_wrongly_is_one_sentence(tmp_path, extra, code, said):
    survey, problems = definition(tmp_path, "2025", with_fields(extra))
    assert survey is None
    assert [(p.code, p.message) for p in problems] == [(code, said)]


def test_the_reason_field_joins_the_fingerprint_only_where_it_is_used(tmp_path):
    """A form that asks the reason is another form; a survey without it keeps the fingerprint it had
    (the 2025 template's is pinned in test_survey_definition)."""
    plain_text = REASON_FIELD.replace('required_when = "rating-changed"\n', "")
    asked, _ = definition(tmp_path / "a", "2025", with_fields(REASON_FIELD))
    not_asked, _ = definition(tmp_path / "b", "2025", with_fields(plain_text))
    assert asked.fingerprint() != not_asked.fingerprint()
    assert "required_when" not in S.fingerprint_parts(not_asked.field("評価の変更理由"))


def test_without_a_previous_year_the_reason_is_not_asked(tmp_path):
    header = ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"]
    loaded, problems = load(make_survey(tmp_path / "a", "2020", header, [[1, "施策1", "① 行政運営", "課A", "", ""],
                                                                         [2, "施策2", "① 行政運営", "課A", "A", "完了"]]))
    # an ended measure's rating is not one a department changes
    assert loaded.survey.reason_field is None and "評価の変更理由" not in [f.name for f in loaded.survey.fields]
    assert [(p.code, p.column, p.severity) for p in problems] == [("reason-field-unused", "前年度評価", "notice")]
    loaded, problems = load(make_survey(tmp_path / "b", "2020", header, [[1, "施策1", "① 行政運営", "課A", "B", ""]]))
    assert loaded.survey.reason_field == "評価の変更理由" and not problems


# --- the reason in the report's sentence ---------------------------------------------------------

@pytest.mark.parametrize(("typed", "written"), [
    # a plain predicate takes 「ことにより、」, as the reference's No.4 and No.36
    ("新公会計システムにて財務諸表を作成及び公表をすることができた", "新公会計システムにて財務諸表を作成及び公表をすることができたことにより、"),
    ("令和元年５月に運用が開始した。", "令和元年５月に運用が開始したことにより、"),  # a trailing 。 dropped
    ("  実績値が1.5倍に伸びた。\n", "実績値が1.5倍に伸びたことにより、"),  # a dot in a number is no sentence's end
    ("行政手続のオンライン化を進めている", "行政手続のオンライン化を進めていることにより、"),
    ("利用者が少ない", "利用者が少ないことにより、"),
    ("導入できたこと", "導入できたことにより、"),
    # a reason that says why already takes only 「、」, as the reference's No.21, No.27 and No.35
    ("平成30年度から引き続き指標の目標を100％で維持しているため", "平成30年度から引き続き指標の目標を100％で維持しているため、"),
    ("着実に検討が進み、計画どおりのスケジュールで進捗しており", "着実に検討が進み、計画どおりのスケジュールで進捗しており、"),
    ("国の新たな動きに対応する必要が出てきた影響により", "国の新たな動きに対応する必要が出てきた影響により、"),
    ("予算が確保できず", "予算が確保できず、"),
    ("国の補助金が廃止されて", "国の補助金が廃止されて、"),
    ("運用を開始した、", "運用を開始したことにより、"),
])
def test_a_reason_that_fits_is_written_as_the_department_wrote_it(typed, written):
    assert reason_runs(reason_text(typed)) == (written,)


@pytest.mark.parametrize(("typed", "quoted", "why"), [
    ("新システムの運用を開始しました。", "「新システムの運用を開始しました」ことにより", "です・ます調"),
    ("新システムの導入", "「新システムの導入」ことにより", "名詞で終わる"),
    ("年度末まで", "「年度末まで」ことにより", "名詞で終わる"),
    ("システムを導入した。運用も開始した。", "「システムを導入した。運用も開始した」ことにより", "複数の文"),
    ("システムを導入\n運用を開始", "「システムを導入　運用を開始」ことにより", "複数の文"),
])
def test_a_reason_that_does_not_fit_is_quoted_for_the_writer(typed, quoted, why):
    runs = reason_runs(reason_text(typed), "各課の回答")
    assert [type(r) for r in runs] == [Placeholder, str] and runs[1] == "、"
    assert runs[0].text == quoted
    assert why in runs[0].help and runs[0].help.endswith("\n\n各課の回答")


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    loaded, _ = load(make_survey(tmp_path_factory.mktemp("w") / "s", "2020"))
    return loaded.survey


def test_one_sentence_per_reason_within_a_move(survey):
    """The reference names No.27, 40 and 41 together because one reason covers them: measures of one
    move with the same reason (a trailing 。 aside) share a sentence; another reason, or none, is a
    sentence of its own, next to the others of its move."""
    w = Wording(survey)
    changes = [Change("1", "施策一", "①", "B", "A", IMPROVED, "研修を実施した"),
               Change("2", "施策二", "①", "A", "C", DECLINED, "予算が確保できず"),
               Change("3", "施策三", "①", "B", "A", IMPROVED, "システムを更新した"),
               Change("4", "施策四", "①", "B", "A", IMPROVED, "研修を実施した。"),
               Change("5", "施策五", "①", "B", "A", IMPROVED)]
    got = w.change_sentences(changes, lambda cs: "、".join(c.measure for c in cs))
    assert [plain(s) for s in got] == [
        "令和２年度B評価であった【No.１ 施策一】、【No.４ 施策四】は、研修を実施したことにより、A評価に改善した。",
        "また、令和２年度B評価であった【No.３ 施策三】は、システムを更新したことにより、A評価に改善した。",
        "また、令和２年度B評価であった【No.５ 施策五】は、（理由を記入）A評価に改善した。",
        "また、令和２年度A評価であった【No.２ 施策二】が、予算が確保できず、C評価となった。"]
    assert [r for r in got[2] if isinstance(r, Placeholder)] == [Placeholder("（理由を記入）", "5")]
