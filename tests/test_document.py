"""The published report, 3_集計/実績報告書.docx, written by `summarize` for both report styles.

Both templates go through the CLI: the bundled example (`xlsx-tool demo`, the 2025 reference
year) and the 2020 survey that rebuilds the 2020 reference year (tests/reference2020.py). The
document is read back with python-docx and as XML, and compared with the reference reports
(../shared/reference/): headings, every sentence the numbers determine, the tables' cells, the
comments on the placeholders, the chart part and its labels. Every part is validated against
the ECMA-376 schemas (tests/support/ooxml_schema.py). LibreOffice prints it: A4, the page
count, text of 9 pt or more, and no heading alone at the foot of a page.
"""

from __future__ import annotations

import inspect
import io
import json
import posixpath
import re
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from tests import reference2020 as R
from tests.support.ooxml_schema import schemas_missing_reason, validate
from tests.support.openxml_sdk import validate as sdk_validate
from tests.support.reference import REPORT_2020, REPORT_2025, norm, reference_path
from tests.survey_helpers import forms_of
from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.demo import example_answers, fill_form

pytestmark = pytest.mark.cycle

DOCUMENT = "実績報告書.docx"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS = {"w": W, "c": C, "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
HEADING_STYLES = ("Title", "Heading 1", "Heading 2")
A4 = (595.3, 841.9)  # points


def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def summarize_json(folder: Path) -> dict:
    result = runner().invoke(cli, ["summarize", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


class Read:
    """A written report: python-docx's view, the raw parts, and the summarize --json of the run."""

    def __init__(self, folder: Path, data: dict):
        self.folder, self.data = folder, data
        self.path = Path(data["document"])
        self.blob = self.path.read_bytes()
        self.doc = docx.Document(str(self.path))
        with zipfile.ZipFile(io.BytesIO(self.blob)) as z:
            self.parts = {n: z.read(n) for n in z.namelist()}

    @property
    def paragraphs(self) -> list[tuple[str, str]]:
        return [(p.style.name, p.text) for p in self.doc.paragraphs if p.text]

    @property
    def headings(self) -> list[str]:
        return [text for style, text in self.paragraphs if style in HEADING_STYLES]

    @property
    def text(self) -> str:
        """Every text of the body, tables included, in document order."""
        out = []
        for block in self.doc.element.body.iterchildren():
            out += ["".join(t.text or "" for t in p.iter(f"{{{W}}}t")) for p in block.iter(f"{{{W}}}p")]
        return "\n".join(out)

    def tables(self) -> list[list[list[str]]]:
        return [[[c.text for c in row.cells] for row in t.rows] for t in self.doc.tables]

    def placeholders(self) -> list[tuple[str, str]]:
        """(anchored text, comment text) of every comment: the text a comment marks in the body."""
        comments = {str(c.comment_id): c.text for c in self.doc.comments}
        body = etree.fromstring(self.parts["word/document.xml"])
        out = []
        for start in body.iter(f"{{{W}}}commentRangeStart"):
            cid = start.get(f"{{{W}}}id")
            texts, node = [], start.getnext()
            while node is not None and not (node.tag == f"{{{W}}}commentRangeEnd" and node.get(f"{{{W}}}id") == cid):
                texts += [t.text or "" for t in node.iter(f"{{{W}}}t")]
                node = node.getnext()
            out.append(("".join(texts), comments[cid]))
        return out

    def highlighted(self) -> list[str]:
        body = etree.fromstring(self.parts["word/document.xml"])
        return ["".join(t.text or "" for t in r.iter(f"{{{W}}}t")) for r in body.iter(f"{{{W}}}r")
                if r.find("w:rPr/w:highlight", NS) is not None]

    def chart(self) -> tuple[etree._Element, dict[str, bytes]]:
        """The chart part the body's c:chart points at, and the parts its relationships name."""
        rels = etree.fromstring(self.parts["word/_rels/document.xml.rels"])
        body = etree.fromstring(self.parts["word/document.xml"])
        rid = body.find(".//c:chart", NS).get(f"{{{NS['r']}}}id")
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        assert next(r.get("Type") for r in rels if r.get("Id") == rid).endswith("/relationships/chart")
        part = "word/" + target
        folder, name = part.rsplit("/", 1)
        chart_rels = etree.fromstring(self.parts[f"{folder}/_rels/{name}.rels"])
        embedded = {r.get("Id"): self.parts[posixpath.normpath(posixpath.join(folder, r.get("Target")))]
                    for r in chart_rels if r.get("Type").endswith("/relationships/package")}
        return etree.fromstring(self.parts[part]), embedded


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Read:
    folder = tmp_path_factory.mktemp("doc2025") / "demo"
    result = runner().invoke(cli, ["demo", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "3_集計" / DOCUMENT).is_file()
    assert f"3_集計/{DOCUMENT}" in result.stdout.replace("\\", "/")  # the demo names it among its outputs
    return Read(folder, summarize_json(folder))


@pytest.fixture(scope="module")
def ref2020(tmp_path_factory) -> Read:
    folder = tmp_path_factory.mktemp("doc2020") / "survey"
    answers = R.build(folder)
    loaded, problems = load(folder)
    assert loaded is not None and not [p for p in problems if p.is_error]
    for form in forms_of(loaded):
        fill_form(form, folder / "2_回収" / form.name, answers)
    assert runner().invoke(cli, ["collect", str(folder)]).exit_code == 0
    result = runner().invoke(cli, ["summarize", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"出力: {folder / '3_集計' / DOCUMENT}" in result.stdout
    return Read(folder, summarize_json(folder))


@pytest.fixture(scope="module")
def ref25() -> str:
    return norm(reference_path(REPORT_2025).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ref20() -> str:
    return norm(reference_path(REPORT_2020).read_text(encoding="utf-8"))


def written_sentences(read: Read) -> list[str]:
    """Every sentence of the body paragraphs that holds no placeholder: what the tool asserts."""
    out = []
    for _style, text in read.paragraphs:
        out += [s for s in re.split(r"(?<=。)", text) if s and "を記入）" not in s]
    return out


# --------------------------------------------------------------------------- 2025 style

def test_2025_headings_follow_the_reference(demo, ref25):
    assert demo.headings == [
        "「板橋区 ICT推進・活用計画2025」令和3年度実績報告について",
        "1 令和3年度実績報告概要", "集計結果", "2 基本方針に対する令和3年度実績",
        "(1) 基本方針Ⅰ：業務の改善・効率化（達成+：3施策、達成：8施策、未達成：0施策）",
        "(2) 基本方針Ⅱ：マイナンバーカードの普及・活用（達成+：1施策、達成：2施策、未達成：1施策）",
        "(3) 基本方針Ⅲ：オンライン化の促進（達成+：1施策、達成：3施策、未達成：0施策）",
        "(4) 基本方針Ⅳ：データの利活用（達成+：0施策、達成：6施策、未達成：0施策）",
        "3 今後の予定"]
    for heading in demo.headings:
        assert norm(heading) in ref25, heading


def test_2025_every_sentence_written_is_the_reports(demo, ref25):
    """Nothing the tool writes outside a placeholder differs from the published report…"""
    written = written_sentences(demo)
    assert len(written) >= 25
    for sentence in written:
        assert norm(sentence) in ref25, sentence


def test_2025_every_derivable_sentence_of_the_reference_is_written(demo):
    """…and every sentence of it that the numbers, the master and the years determine is there."""
    text = norm(demo.text)
    for sentence in (
            "「板橋区 ICT 推進・活用計画 2025」（以下、「ICT 計画 2025」という。）の各推進施策の令和 3 年度における取組状況について報告を行う。",
            "現在、25 施策を計画化しており、令和 3 年度における各施策の実績としては、「達成+」が 5 施策、「達成」が 19 施策、「未達成」が 1 施策であった。",
            "以上のことから、令和 3 年度末時点において ICT 計画 2025 は概ね計画どおり実施されており、期間満了までの各施策の着実な実現に向けて、引き続き進捗管理を行っていく。",
            "令和 3 年度実績集計表",
            "ICT 計画 2025 に掲げた基本方針別に各推進施策の令和 3 年度実績を集計した。",
            "令和4年度はICT計画2025前期実施計画の中間年度にあたる。",
            "区における更なるICTの推進・活用を進めるにあたり、各施策は重要な役割を担っているため、引き続き着実に進捗を図っていく。",
            "・Web 会議の推進", "・テレワーク環境の整備及び運用", "・RPA の拡大", "・会議録作成支援システムの活用強化",
            "・スマートシティの推進", "・マイナンバーカードによる諸証明の交付率向上",
            "・ぴったりサービスにおける検索可能な手続きの拡大", "・行政手続きにおけるオンライン申請の拡大",
            "・区税・各種保険料の収納方法及び使用料・手数料の支払い方法の拡大",
            "・GIGAスクール構想で整備した教育ICT環境の更なる活用", "・データ利活用に向けた庁内データの環境整備",
            "・データを用いた区政経営の推進", "・各種広報ツールの活用拡大"):
        assert norm(sentence) in text, sentence
    assert sum(text == "＜主な成果＞" for _s, text in demo.paragraphs) == 4


def test_2025_table_is_the_reports(demo, ref25):
    (table,) = demo.tables()
    assert table[0] == ["施策の評価", "評価の内容", "該当施策", "割合"]
    assert [row[0] for row in table[1:]] == ["達成+", "達成", "未達成", "計"]
    assert [(row[2], row[3]) for row in table[1:]] == [("5施策", "20%"), ("19施策", "76%"), ("1施策", "4%"),
                                                       ("25施策", "100%")]
    for row in table[1:]:
        assert norm("".join(row)) in ref25, row  # 「達成+令和3年度計画の事業量を上回る…5施策20%」


def test_2025_placeholders_are_highlighted_with_the_answers_as_comments(demo):
    marked = demo.placeholders()
    assert [text for text, _comment in marked] == ["（取組の概要を記入）"] * 4 + ["（今後の予定を記入）"]
    assert demo.highlighted() == [text for text, _comment in marked]  # nothing else is highlighted
    answers = example_answers(demo.folder)
    first = marked[0][1]  # 基本方針Ⅰ: 達成+ are No.1, 4, 6 (highest); the rest 達成 (lowest)
    assert "■ 評価が最も高い施策（達成+）" in first and "■ 評価が最も低い施策（達成）" in first
    for number in ("1", "4", "6"):
        assert f"取組実績：{answers[number]['取組実績']}" in first, number
    assert "No.1 Web会議の推進（ICT推進課）【達成+】" in first
    assert "次期計画" in marked[-1][1] and "令和6年度以降" in marked[-1][1]
    assert {c.author for c in demo.doc.comments} == {"xlsx-tool"}


# --------------------------------------------------------------------------- 2020 style

def test_2020_headings_follow_the_reference(ref2020, ref20):
    assert ref2020.headings == [
        "「板橋区ICT推進・活用計画2020」における令和元年度実績報告について", "１ 実績報告の趣旨", "２ 全体評価",
        "３ 各基本目標別の実施結果", "(1) 開かれた区政の実現（A評価：４施策）",
        "(2) 区民サービスの向上（A評価：６施策, B評価：５施策【終了：２施策】）",
        "(3) 情報セキュリティの強化（A評価：２施策, B評価：１施策）", "(4) 安全・安心の向上（A評価：３施策, B評価：１施策）",
        "(5) 行政事務の効率化（A評価：９施策, B評価：５施策【終了：１施策】）", "(6) 計画に関する進捗管理（B評価：２施策）",
        "４ 今後の予定"]
    for heading in ref2020.headings:
        # the report itself calls ④ 安全・安心 in its table and 安心・安全 in its heading
        assert norm(heading.replace("安全・安心の向上（", "安心・安全の向上（")) in ref20, heading


def test_2020_every_sentence_written_is_the_reports(ref2020, ref20):
    # The report adds the plan's history (「平成30年度に追録版を策定し、当初の35施策から６施策増え、」),
    # which no number of the survey holds: the sentence stays true without it.
    history = "現在、推進計画においては、41施策を計画化している。"
    written = written_sentences(ref2020)
    assert history in written
    for sentence in written:
        if sentence == history:
            assert norm("現在、推進計画においては、") in ref20 and norm("41施策を計画化している。") in ref20
            continue
        if "であった【No." in sentence:  # a change with the department's reason: the report's pieces
            assert all(norm(piece) in ref20 for piece in R.pieces(sentence)), sentence
            continue
        # the report's own two spellings of ④ (安全・安心 in its table, 安心・安全 in its heading)
        assert norm(sentence.replace("安全・安心の向上（", "安心・安全の向上（")) in ref20, sentence


def test_2020_every_derivable_sentence_of_the_reference_is_written(ref2020):
    text = norm(ref2020.text)
    for sentence in (
            "「板橋区ICT推進・活用計画2020」（以下、「推進計画」という。）では、推進施策の着実な進捗状況確認を行うため、"
            "各推進施策の取組状況について年１回調査を実施し、その結果をホームページ上で公開することとなっている。",
            "令和元年度における各推進施策の取組状況について調査が完了したため、報告を行う。",
            "令和元年度における各施策の評価としては、「計画どおり進捗しており、目標としている成果が上がっている」A 評価が 24 施策、"
            "「概ね計画どおり進捗しているが、さらに工夫の余地がある」B評価が14施策、「前年度以前に施策の方向性を「完了」とした施策」"
            "の終了が３施策という状況であり、これら以外の評価は０施策であった。",
            "また、計画の方向性については、「計画どおり推進」が36施策、「計画修正」が１施策、「完了」が４施策であり、これら以外は０施策であった。",
            "以上のことから、令和元年度末時点において、本推進計画は概ね計画どおり実施されており、計画期間が満了する令和２年度までに"
            "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。",
            "令和元年度における評価別集計表", "令和元年度における方向性別集計表",
            "平成30年度と比較しても同様の評価であるため、順調に進捗していることが分かる。",
            "本推進計画は、令和 2 年度までを計画期間としているものであり、残すところあと１か年となっている。",
            "区における更なる ICT の推進・活用を進めるにあたっても、各施策は重要な役割を担っているため、引き続き進捗管理を行い、"
            "施策の着実な実施を行っていく。"):
        assert norm(sentence) in text, sentence
    # one digit full width, as the report writes it, in the text as in the tables
    assert "「完了」が４施策であり、これら以外は０施策であった。" in ref2020.text
    # the change sentences carry the reasons the departments gave, in the report's own wording
    assert "平成30年度C評価であった【No.24 全庁的な情報リテラシーの向上】は、指標①の実績値が大きく伸びたことにより、" \
           "B評価に改善した。" in ref2020.text
    assert ("また、平成30年度B評価であった【No.27 EMSツールを活用した環境データの一元管理】、【No.40 RPAを活用した"
            "業務効率化の推進】、【No.41 AIを活用したシステムの導入】は、着実に検討が進み、計画どおりのスケジュールで"
            "進捗しており、A評価に改善した。") in ref2020.text


def test_2020_tables_are_the_reports(ref2020, ref20):
    ratings, directions, groups = ref2020.tables()
    assert ratings[0] == ["施策の評価", "評価の内容", "該当施策"]
    assert [(r[0], r[2]) for r in ratings[1:]] == [("AA評価", "０施策"), ("A評価", "24施策"), ("B評価", "14施策"),
                                                   ("C評価", "０施策"), ("その他", "０施策"), ("終了", "３施策")]
    assert directions == [["施策の方向性", "該当施策"], ["計画どおり推進", "36施策\n(内訳 A:23 B:13)"],
                          ["事業拡大", "０施策"], ["事業縮小", "０施策"], ["計画修正", "１施策\n(内訳 B:１)"],
                          ["中止（休止）", "０施策"], ["完了", "４施策\n(内訳 A:１ 終了:３)"]]
    assert groups[0] == ["基本目標"] + ["評価別件数"] * 7  # merged across the 7 columns
    assert groups[1] == ["基本目標", "計", "AA", "A", "B", "C", "その他", "終了"]
    assert groups[2] == ["① 開かれた区政の実現", "４件", "０件", "４件", "０件", "０件", "０件", "０件"]
    assert groups[-1] == ["合  計", "41件", "０件", "24件", "14件", "０件", "０件", "３件"]
    for table in (ratings, directions, groups[2:]):
        for row in table:
            assert norm("".join(row)) in ref20, row
    assert "基本目標評価別件数計AAABCその他終了" in ref20


def test_2020_pie_is_a_native_chart_with_its_data_embedded(ref2020, ref20):
    chart, embedded = ref2020.chart()
    pie = chart.find(".//c:pieChart", NS)
    assert pie is not None
    assert chart.find(".//c:title//a:t", NS).text == "事業数"
    ser = pie.find("c:ser", NS)
    labels = [v.text for v in ser.findall("c:cat//c:pt/c:v", NS)]
    counts = [int(v.text) for v in ser.findall("c:val//c:pt/c:v", NS)]
    assert counts == [0, 24, 14, 0, 0, 3]
    shown = [label for label, n in zip(labels, counts, strict=True) if n]
    assert shown == ["【A】, 24施策, 59%", "【B】, 14施策, 34%", "【終了】, 3施策, 7%"]
    for label in shown:
        assert norm(label) in ref20, label
    deleted = {int(d.find("c:idx", NS).get("val")) for d in ser.findall("c:dLbls/c:dLbl", NS)
               if d.find("c:delete", NS) is not None}
    assert deleted == {0, 3, 4}  # zero shares have no label
    flags = {e.tag.split("}")[1]: e.get("val") for e in ser.find("c:dLbls", NS) if e.tag.split("}")[1].startswith("show")}
    assert flags["showCatName"] == "1" and flags["showVal"] == flags["showPercent"] == flags["showSerName"] == "0"
    # 「データの編集」: the chart's external data is the embedded workbook, whose cells it names
    rid = chart.find("c:externalData", NS).get(f"{{{NS['r']}}}id")
    book = openpyxl.load_workbook(io.BytesIO(embedded[rid]), data_only=True)
    ws = book[ser.find("c:val//c:f", NS).text.split("!")[0].strip("'")]
    assert ser.find("c:val//c:f", NS).text.endswith("!$B$2:$B$7") and ser.find("c:cat//c:f", NS).text.endswith("!$D$2:$D$7")
    assert [ws.cell(r, 2).value for r in range(2, 8)] == counts
    assert [ws.cell(r, 4).value for r in range(2, 8)][1] == "【A】, 24施策, 59%"
    formulas = openpyxl.load_workbook(io.BytesIO(embedded[rid]))[ws.title]
    assert formulas.cell(3, 4).value.startswith('="【"&A3')  # a label follows an edited count


def test_2020_what_is_left_to_write_is_highlighted_with_its_help(ref2020):
    """Every change came with its department's reason (評価の変更理由): what is left to write is the plans."""
    marked = dict(ref2020.placeholders())
    texts = [text for text, _c in ref2020.placeholders()]
    assert texts == ["（今後の予定を記入）"]
    assert set(ref2020.highlighted()) == set(texts)
    assert marked["（今後の予定を記入）"].startswith("令和３年度以降")


# --------------------------------------------------------------------------- both: one model, valid parts

@pytest.fixture(params=["2025", "2020"])
def written(request, demo, ref2020) -> Read:
    return demo if request.param == "2025" else ref2020


def invalid(blob: bytes, suffix: str) -> list[str]:
    """What the validators find: Microsoft's Open XML SDK (always; CI installs it) and the ECMA-376
    XSDs where they are at hand (their licence keeps them out of the project and of CI)."""
    found = [str(f) for f in sdk_validate(blob, suffix)]
    if schemas_missing_reason() is None:
        found += [str(e) for e in validate(blob)]
    return found


def test_every_part_is_schema_valid(written):
    assert invalid(written.blob, ".docx") == []
    embedded = [n for n in written.parts if n.startswith("word/embeddings/")]  # the pie's data (2020)
    for name in embedded:
        assert invalid(written.parts[name], ".xlsx") == [], name


def test_the_schema_check_is_not_vacuous(demo):
    document = demo.parts["word/document.xml"].replace(b"<w:body>", b"<w:body><w:tbl/>", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in demo.parts.items():
            z.writestr(name, document if name == "word/document.xml" else data)
    (sdk,) = sdk_validate(out.getvalue(), ".docx")
    assert (sdk.part, sdk.kind, sdk.xpath) == ("/word/document.xml", "Schema", "/w:document[1]/w:body[1]/w:tbl[1]")
    if schemas_missing_reason() is None:
        assert [e.part for e in validate(out.getvalue())] == ["word/document.xml"]


def test_json_report_is_the_documents_model(written):
    """summarize --json `report`: the sections, paragraphs and placeholders the document shows."""
    sections = written.data["report"]
    assert [s["heading"] for s in sections if s["heading"]] == written.headings
    body = {text for _style, text in written.paragraphs}
    placeholders = []
    for s in sections:
        for block in s["content"]:
            if block["type"] == "paragraph":
                assert block["text"] in body, block["text"]
                placeholders += [(p["text"], p["help"]) for p in block["placeholders"]]
            elif block["type"] == "table":
                assert block["rows"][0] in [t[len(block["header"])] for t in written.tables()]
    assert placeholders == [(t, c) for t, c in written.placeholders()]
    assert Path(written.data["document"]).name == DOCUMENT


def test_the_draft_sheet_says_what_the_document_says(written):
    """報告文案 (集計結果.xlsx) comes from the same model: every paragraph of the document is a line
    of the sheet, and each placeholder is marked there too (red run, yellow cell, its help as a comment)."""
    book = openpyxl.load_workbook(written.data["output"], rich_text=True)
    cells = [row[0] for row in book["報告文案"].iter_rows() if row[0].value]
    lines = {str(c.value) for c in cells}
    for _style, text in written.paragraphs:
        assert text in lines, text
    marked = [c for c in cells if "を記入）" in str(c.value)]
    assert marked and all(c.fill.fgColor.rgb == "FFFFF2CC" for c in marked)
    assert all(c.comment is not None for c in marked if "（取組の概要を記入）" in str(c.value) or "理由" in str(c.value))
    assert not any("シート）" in line for line in lines)  # no note to the clerk in the report text


def test_tables_fit_a4_and_repeat_their_header(written):
    section = written.doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    text_width = section.page_width - section.left_margin - section.right_margin
    for table in written.doc.tables:
        grid = table._tbl.find("w:tblGrid", NS)
        assert sum(int(c.get(f"{{{W}}}w")) for c in grid) * 635 <= text_width + 635  # twips → EMU
        first = table.rows[0]._tr
        assert first.find("w:trPr/w:tblHeader", NS) is not None
        assert all(r._tr.find("w:trPr/w:cantSplit", NS) is not None for r in table.rows)
        assert table._tbl.find("w:tblPr/w:tblBorders", NS) is not None


def test_headings_keep_with_the_next_paragraph(written):
    for p in written.doc.paragraphs:
        if p.style.name in HEADING_STYLES or p.style.name == "Caption" or p.text == "＜主な成果＞":
            kept = p.paragraph_format.keep_with_next or p.style.paragraph_format.keep_with_next
            assert kept, p.text


# --------------------------------------------------------------------------- the section's template

def make_template(path: Path) -> None:
    d = docx.Document()
    h1 = d.styles["Heading 1"]
    h1.font.color.rgb = RGBColor(0x1F, 0x4E, 0x79)
    h1.font.size = Pt(13)
    section = d.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(30)
    section.header.paragraphs[0].text = "板橋区 ICT推進課"
    d.add_paragraph("ひな形の見本の本文（報告書には入らない）")
    d.save(str(path))


def test_the_sections_template_gives_the_look(tmp_path, demo):
    folder = tmp_path / "styled"
    import shutil

    shutil.copytree(demo.folder, folder)
    make_template(folder / "報告書ひな形.docx")
    toml = folder / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('# template = "報告書ひな形.docx"',
                                                             'template = "報告書ひな形.docx"'), encoding="utf-8")
    assert runner().invoke(cli, ["check", str(folder)]).exit_code == 0
    read = Read(folder, summarize_json(folder))
    assert read.doc.styles["Heading 1"].font.color.rgb == RGBColor(0x1F, 0x4E, 0x79)
    assert round(read.doc.sections[0].left_margin.mm) == 30
    assert read.doc.sections[0].header.paragraphs[0].text == "板橋区 ICT推進課"
    assert "ひな形の見本" not in read.text
    assert read.headings == demo.headings
    # the tables shrink to the template's narrower text width (150 mm)
    grid = read.doc.tables[0]._tbl.find("w:tblGrid", NS)
    assert sum(int(c.get(f"{{{W}}}w")) for c in grid) * 635 <= Mm(150) + 635
    assert invalid(read.blob, ".docx") == []


@pytest.mark.parametrize(("content", "code"), [
    pytest.param(None, "ありません", id="missing"),
    pytest.param(b"not a word file", "読み取れません", id="not-a-docx"),
])
def test_a_bad_template_is_named_and_the_report_written_without_it(tmp_path, demo, content, code):
    import shutil

    folder = tmp_path / "bad"
    shutil.copytree(demo.folder, folder)
    if content is not None:
        (folder / "報告書ひな形.docx").write_bytes(content)
    toml = folder / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('# template = "報告書ひな形.docx"',
                                                             'template = "報告書ひな形.docx"'), encoding="utf-8")
    checked = runner().invoke(cli, ["check", str(folder)])
    assert checked.exit_code == 0 and "[警告] survey.toml: 報告書のひな形「報告書ひな形.docx」" in checked.stdout
    assert code in checked.stdout
    result = runner().invoke(cli, ["summarize", str(folder)])
    assert result.exit_code == 0, result.output
    assert "報告書のひな形「報告書ひな形.docx」" in result.stderr and "Traceback" not in result.output
    assert docx.Document(str(folder / "3_集計" / DOCUMENT)).paragraphs[0].text.startswith("「板橋区")


def test_check_says_when_the_reports_achievement_list_will_be_a_placeholder(tmp_path, demo):
    import shutil

    folder = tmp_path / "carried"
    shutil.copytree(demo.folder, folder)
    master = folder / "施策マスタ.csv"
    lines = master.read_text(encoding="utf-8-sig").splitlines()
    master.write_text("\n".join([lines[0]] + [re.sub(r",[^,]*$", ",", x) for x in lines[1:]]) + "\n",
                      encoding="utf-8-sig")  # 主な成果 emptied, as after init --from
    result = runner().invoke(cli, ["check", str(folder)])
    notices = [x for x in result.stdout.splitlines() if "主な成果" in x]
    assert len(notices) == 4 and all(x.startswith("[お知らせ] 施策マスタ.csv: 「基本方針") for x in notices)
    assert "「基本方針Ⅱ：マイナンバーカードの普及・活用」の施策には「主な成果」がありません" in result.stdout
    assert runner().invoke(cli, ["run", str(folder)]).exit_code == 0
    read = Read(folder, summarize_json(folder))
    items = [(t, c) for t, c in read.placeholders() if t == "（主な成果を記入）"]
    assert len(items) == 4
    assert "No.13 マイナンバーカードによる諸証明の交付率向上（戸籍住民課）【達成+】" in items[1][1]


# --------------------------------------------------------------------------- on paper (LibreOffice)

@pytest.fixture(scope="module")
def printed(demo, ref2020, tmp_path_factory):
    from tests.support.lo import convert_many, libreoffice_or_skip
    from tests.support.pdf import pages, pdftotext_available

    libreoffice_or_skip()
    if not pdftotext_available():
        pytest.skip("pdftotext (poppler-utils) is not installed")
    root = tmp_path_factory.mktemp("printed")
    calibration = root / "calibration.docx"
    d = docx.Document()
    for font in ("ＭＳ 明朝", "ＭＳ ゴシック"):
        run = d.add_paragraph().add_run("九ポイントの較正用の文字列です。令和3年度 24施策")
        run.font.size = Pt(9)
        run.font.name = font
        run._r.get_or_add_rPr().get_or_add_rFonts().set(f"{{{W}}}eastAsia", font)
    d.save(str(calibration))
    copies = [root / "r2025.docx", root / "r2020.docx", root / "s2025.xlsx", root / "s2020.xlsx"]
    for blob, copy in zip((demo.blob, ref2020.blob, Path(demo.data["output"]).read_bytes(),
                           Path(ref2020.data["output"]).read_bytes()), copies, strict=True):
        copy.write_bytes(blob)  # one name each: convert_many names the PDFs by stem
    pdfs = convert_many([calibration, *copies], "pdf", root / "pdf")
    factor = pages(pdfs[0])[0].median_height() / 9.0
    return factor, {"2025": pages(pdfs[1]), "2020": pages(pdfs[2]),
                    "sheet2025": [p for p in pages(pdfs[3]) if "報告文案" in p.text],
                    "sheet2020": [p for p in pages(pdfs[4]) if "報告文案" in p.text],
                    "book2020": pages(pdfs[4])}


def lines_of(page) -> list[str]:
    """The page's text lines from top to bottom, the footer (page number) left out."""
    rows: dict[int, list] = {}
    for w in page.words:
        if w.y0 < page.height - 60:
            rows.setdefault(round(w.y0 / 4), []).append(w)
    return ["".join(w.text for w in sorted(ws, key=lambda w: w.x0)) for _y, ws in sorted(rows.items())]


@pytest.mark.libreoffice
@pytest.mark.parametrize(("style", "most"), [("2025", 3), ("2020", 4)])
def test_printed_on_a4_readable_and_no_heading_alone_at_a_page_foot(printed, demo, ref2020, style, most):
    factor, by_style = printed
    ps = by_style[style]
    read = demo if style == "2025" else ref2020
    assert 2 <= len(ps) <= most  # the reference reports take 3 (2025, with an appendix) and 4 pages
    for p in ps:
        assert (round(p.width, 1), round(p.height, 1)) == A4
        small = [w.text for w in p.words if w.height / factor < 9.0 * 0.97]
        assert not small, (p.number, small[:5])
    kept = [norm(text) for s, text in read.paragraphs if s in (*HEADING_STYLES, "Caption") or text == "＜主な成果＞"]
    for p in ps[:-1]:
        last = norm(lines_of(p)[-1])
        assert not any(last and last in k for k in kept), (p.number, last)
    printed_text = norm("".join(p.text for p in ps))
    for heading in read.headings:
        assert norm(heading) in printed_text, heading


@pytest.mark.libreoffice
@pytest.mark.parametrize("style", ["2025", "2020"])
def test_the_draft_sheet_has_no_heading_alone_at_a_page_foot(printed, demo, ref2020, style):
    """Excel has no keep-with-next: the 報告文案 sheet breaks its pages before such a heading."""
    _factor, by_style = printed
    ps = by_style[f"sheet{style}"]
    read = demo if style == "2025" else ref2020
    assert len(ps) >= 2
    kept = [norm(text) for s, text in read.paragraphs if s in (*HEADING_STYLES, "Caption") or text == "＜主な成果＞"]
    for p in ps[:-1]:
        last = norm(lines_of(p)[-1])
        assert not any(last and last in k for k in kept), (p.number, last)
    assert norm(read.headings[-1]) in norm("".join(p.text for p in ps))


@pytest.mark.libreoffice
def test_the_2020_workbook_prints_counts_in_the_reports_digit_width(printed):
    """Counts stay numbers; [$-411][<10][DBNum3] shows one digit full width (「３施策」) and two digits
    half width (「24施策」), as the 2020 report's text and tables write them (issue 24)."""
    _factor, by_style = printed
    ratings = next(p for p in by_style["book2020"] if "評価別集計表" in p.text and "評価の内容" in p.text)
    text = norm(ratings.text)  # NFKC would hide the width: compare the printed text itself too
    assert "０施策" in ratings.text and "３施策" in ratings.text and "24施策" in ratings.text, ratings.text
    assert "3施策" not in ratings.text.replace("【終了】,3施策", "")  # the pie's labels are half width, as the report's
    assert norm("A評価計画どおり進捗しており、目標としている成果が上がっている24施策") in text
    directions = next(p for p in by_style["book2020"] if "方向性別集計表" in p.text and "内訳" in p.text)
    assert "１施策" in directions.text and "36施策" in directions.text and "B:１" in directions.text
