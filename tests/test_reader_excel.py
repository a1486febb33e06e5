"""The reader reads what Excel reads: whatever XML allows around a cell's text gives the value
Excel shows, or the file is refused with a reason.

Each case is hand-built XML (tests/support/ooxml.py), read through read_workbook; where the case
matters to a department, it is also carried by the answer cell of a returned form and read
through collect. What "Excel shows" rests on: XML 1.0 (a comment or a processing instruction
is no content, §2.5/§2.6; a CDATA section is character data, §2.7), Namespaces in XML (an
element is its namespace and local name, whatever the prefix), Markup Compatibility (ECMA-376
Part 3: elements of an ignorable namespace are skipped with their content, an
mc:AlternateContent shows one branch), and, for white space, Excel's own trimming of a <t>
without xml:space="preserve", which python-calamine follows since its PR 671 and is compared
with here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import INPUT_SHEET, TARGET, Env, form_layout, rewrite_zip

from tests.support.ooxml import Package, Sheet, inline, n, row, s
from xlsx_tool.intake.reader import RawCell, read_workbook

MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
FOO = 'xmlns:foo="urn:example:not-excel"'  # another vendor's namespace: Excel understands none of it
X14 = 'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"'
IGNORABLE = f' {MC} {FOO} {X14} mc:Ignorable="foo"'

SHARED = ["<t>達成</t>", "<t>未達成</t>"]
PLAIN = {(1, 1): RawCell("達成", "s"), (1, 2): RawCell(12.5, "n", False, "", ""), (1, 3): RawCell("取組", "s")}
A1, B1, C1 = s("A1", 0), n("B1", "12.5"), inline("C1", "<t>取組</t>")


def cells(tmp_path: Path, rows: str, root_attrs: str = IGNORABLE, shared: list[str] | None = None):
    path = tmp_path / "case.xlsx"
    path.write_bytes(Package([Sheet("調査票", rows)], shared or SHARED, root_attrs=root_attrs).build())
    raw = read_workbook(path, ("調査票",))
    return path, raw


# --- the same cells, whatever XML wraps them ---------------------------------------------------

SAME_CELLS = {
    "comment between cells": row(1, A1, "<!-- 入力者メモ -->", B1, C1),
    # a comment or an instruction is no content: the cell inside is no cell, for Excel as for any XML reader
    "a cell in a comment after the real one": row(1, A1, B1, '<!-- <c r="B1"><v>999</v></c> -->', C1),
    "a cell in a processing instruction": row(1, A1, B1, '<?note <c r="B1"><v>999</v></c>?>', C1),
    "a row in a comment": row(1, A1, B1, C1) + '<!-- <row r="1"><c r="B1"><v>999</v></c></row> -->',
    "CDATA around a number": row(1, A1, '<c r="B1"><v><![CDATA[12.5]]></v></c>', C1),
    "CDATA around text": row(1, A1, B1, inline("C1", "<t><![CDATA[取組]]></t>")),
    "references in text and attributes": row(1, A1, '<c r="&#66;1"><v>1&#50;.5</v></c>',
                                             inline("C1", "<t>&#21462;組</t>")),
    "attributes in another order, one more": row(1, '<c t="s" cm="1" r="A1"><v>0</v></c>', B1, C1),
    "a line break after the element's name": row(1, A1, '<c\nr="B1"><v>12.5</v></c>', C1),
    # an ignorable attribute whose value holds ">" and "/>": the tag goes on after it
    "'/>' inside an attribute value": row(1, A1, '<c r="B1" foo:note="a/>b"><v>12.5</v></c>', C1),
    # t in another namespace is not the cell's type
    "a type attribute of another namespace": row(1, A1, '<c r="B1" foo:t="s"><v>12.5</v></c>', C1),
    # elements of an ignorable namespace are skipped with their content (ECMA-376 Part 3 §10.1)
    "a cell inside an ignorable element": row(1, A1, B1, '<foo:hidden><c r="B1"><v>999</v></c></foo:hidden>', C1),
    "a text run of an ignorable namespace": row(1, A1, B1, inline("C1", "<t>取組</t><foo:t>999</foo:t>")),
    # of mc:AlternateContent Excel shows the first branch whose namespaces it understands
    "a branch for another vendor, then the fallback": row(
        1, A1, f'<mc:AlternateContent><mc:Choice Requires="foo"><c r="B1"><v>999</v></c></mc:Choice>'
               f'<mc:Fallback>{B1}</mc:Fallback></mc:AlternateContent>', C1),
    "a branch Excel understands before the fallback": row(
        1, A1, f'<mc:AlternateContent><mc:Choice Requires="x14">{B1}</mc:Choice>'
               '<mc:Fallback><c r="B1"><v>999</v></c></mc:Fallback></mc:AlternateContent>', C1),
    # mc:ProcessContent: an ignored element whose content still counts
    "the content of an ignored wrapper Excel is told to read": row(
        1, A1, f'<foo:wrap mc:ProcessContent="foo:wrap">{B1}</foo:wrap>', C1),
    "names that only begin like c and t": row(1, A1, B1, '<c-x r="B1"><v>999</v></c-x>',
                                              inline("C1", "<t>取組</t><t.x>999</t.x>")),
}


@pytest.mark.parametrize("rows", SAME_CELLS.values(), ids=SAME_CELLS.keys())
def test_what_xml_allows_around_cells_gives_the_cells_excel_shows(tmp_path, rows):
    _path, raw = cells(tmp_path, rows)
    assert not raw.failure, (raw.failure, raw.detail)
    assert raw.cells["調査票"] == PLAIN


def test_spreadsheetml_under_a_prefix_and_cells_of_another_namespace_beside_it(tmp_path):
    # SpreadsheetML bound to x: (some .NET writers): read by namespace, not by prefix
    prefixed = (row(1, A1, B1, C1).replace("<c ", "<x:c ").replace("</c>", "</x:c>").replace("<v>", "<x:v>")
                .replace("</v>", "</x:v>").replace("<is>", "<x:is>").replace("</is>", "</x:is>")
                .replace("<t>", "<x:t>").replace("</t>", "</x:t>")
                .replace("<row ", "<x:row ").replace("</row>", "</x:row>"))
    path = tmp_path / "prefixed.xlsx"
    path.write_bytes(Package([Sheet("調査票", prefixed)], SHARED, prefix="x:").build())
    assert read_workbook(path, ("調査票",)).cells["調査票"] == PLAIN
    # unprefixed cells there belong to the default namespace, here another vendor's: not SpreadsheetML,
    # and not ignorable (no prefix can name it in mc:Ignorable), so Excel refuses the file
    beside = prefixed.replace("</x:row>", '<c r="B1"><v>999</v></c></x:row>')
    path.write_bytes(Package([Sheet("調査票", beside)], SHARED, prefix="x:",
                             root_attrs=' xmlns="urn:example:not-excel"').build())
    raw = read_workbook(path, ("調査票",))
    assert (raw.failure, raw.cells) == ("corrupt", {})


def test_cdata_holds_text_that_looks_like_markup(tmp_path):
    rows = row(1, inline("A1", "<t><![CDATA[a</t><t>b]]></t>"), '<c r="B1" t="str"><v><![CDATA[<v>1</v>]]></v></c>')
    _path, raw = cells(tmp_path, rows, shared=["<t><![CDATA[x</t>]]></t>"])
    assert raw.cells["調査票"] == {(1, 1): RawCell("a</t><t>b", "s"), (1, 2): RawCell("<v>1</v>", "s")}


# --- merged cells: Excel shows the first cell of a merge only ------------------------------------

def merged(tmp_path: Path, rows: str, merges: str):
    """A sheet whose <mergeCells> (after sheetData, where Excel writes it) is `merges`."""
    path = tmp_path / "merged.xlsx"
    path.write_bytes(Package([Sheet("調査票", rows, tail=merges)], SHARED, root_attrs=IGNORABLE).build())
    return path, read_workbook(path, ("調査票",))


def test_a_value_under_a_merge_is_not_read_as_excel_does_not_show_it(tmp_path):
    # LibreOffice keeps the contents of the cells a merge hides when asked to; a crafted file may too
    rows = row(1, A1, B1, C1) + row(2, n("A2", "1"), n("B2", "2"))
    _path, raw = merged(tmp_path, rows, '<mergeCells count="2"><mergeCell ref="A1:B1"/>'
                                        '<mergeCell ref="$A$2:$B$3"/></mergeCells>')
    assert raw.cells["調査票"] == {(1, 1): PLAIN[(1, 1)], (1, 3): PLAIN[(1, 3)],
                                  (2, 1): RawCell(1.0, "n", False, "", "")}
    # a merge only a comment or an ignorable element speaks of merges nothing
    for hidden in ('<!-- <mergeCells><mergeCell ref="A1:C1"/></mergeCells> -->',
                   '<foo:x><mergeCells><mergeCell ref="A1:C1"/></mergeCells></foo:x>'):
        assert merged(tmp_path, row(1, A1, B1, C1), hidden)[1].cells["調査票"] == PLAIN


def test_merges_over_the_whole_sheet_cost_no_more_than_its_cells(tmp_path, monkeypatch):
    from xlsx_tool.intake import reader as R

    rows = row(1, A1, B1, C1)
    whole = '<mergeCells>' + '<mergeCell ref="A1:XFD1048576"/>' * 3 + '</mergeCells>'
    assert merged(tmp_path, rows, whole)[1].cells["調査票"] == {(1, 1): PLAIN[(1, 1)]}
    monkeypatch.setattr(R, "MAX_MERGE_WORK", 2)
    _path, raw = merged(tmp_path, rows, whole)
    assert (raw.failure, raw.detail) == ("too-large", "結合セルの範囲が大きすぎます")


# --- refused, with the reason --------------------------------------------------------------------

REFUSED = {
    # Excel refuses an element it neither understands nor may ignore (ECMA-376 Part 3 §10.1)
    "an element of another namespace among the cells, not ignorable": (
        row(1, A1, '<bar:note xmlns:bar="urn:example:other">999</bar:note>', B1),
        "セルの内容に Excel が表示しない部分（別の名前空間の要素・代替コンテンツ）があります"),
    "a namespace Excel must understand and cannot": (
        row(1, A1, B1).replace('<row r="1">', '<row r="1" mc:MustUnderstand="foo">'),
        "セルの内容に Excel が表示しない部分（別の名前空間の要素・代替コンテンツ）があります"),
    "a comment that never ends": (row(1, A1, "<!-- ", B1), "ファイルの中身（XML）が壊れています"),
    "a prefix bound to nothing": (row(1, A1, "<nobody:c/>", B1), "ファイルの中身（XML）が壊れています"),
}


@pytest.mark.parametrize(("rows", "detail"), REFUSED.values(), ids=REFUSED.keys())
def test_what_excel_would_not_show_is_refused_with_its_reason(tmp_path, rows, detail):
    _path, raw = cells(tmp_path, rows)
    assert (raw.failure, raw.detail, raw.cells) == ("corrupt", detail, {})


# --- white space: what Excel trims --------------------------------------------------------------

TRIMMED = {  # the <si> or <is> body, the text Excel shows
    "spaces": ("<t>  達成 </t>", "達成"),
    "preserved": ('<t xml:space="preserve">  達成 </t>', "  達成 "),
    "tab and line feeds": ("<t>\t取組\n実績\n</t>", "取組\n実績"),
    "references": ("<t>&#32;&#9;達成&#10;</t>", "達成"),  # a reference is the character it stands for
    "full-width and no-break": ("<t>\u3000達成\u00a0</t>", "\u3000達成\u00a0"),  # these are text
    "escapes": ("<t>_x0020_達成_x000D_</t>", " 達成\r"),  # decoded after the trim
    "runs": ('<r><t>取組 </t></r><r><t xml:space="preserve"> 実績</t></r>', "取組 実績"),  # each on its own
    "only spaces": ("<t>   </t>", ""),
}


@pytest.mark.calamine
@pytest.mark.parametrize(("body", "text"), TRIMMED.values(), ids=TRIMMED.keys())
def test_edge_white_space_is_trimmed_as_excel_trims_it(tmp_path, body, text):
    from python_calamine import CalamineWorkbook

    path, raw = cells(tmp_path, row(1, s("A1", 0), inline("B1", body)), shared=[body])
    got = raw.cells["調査票"]
    assert got.get((1, 1), RawCell("", "s")).value == text
    assert got.get((1, 2), RawCell("", "s")).value == text
    theirs = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("調査票").to_python(skip_empty_area=False)
    assert theirs[0][:2] == [text, text]


# --- through collect: an answer cell carrying the trick -------------------------------------------

def _answer_cells(env: Env) -> tuple[str, str, str]:
    """The 実績値 and 取組実績 cells of measure 1 on ICT推進課's filled form."""
    import openpyxl

    columns, rows = form_layout(openpyxl.load_workbook(env.base.filled[TARGET]))
    r = rows["1"]
    return f"{columns['実績値']}{r}", f"{columns['取組実績']}{r}", str(r)


def _returned(env: Env, name: str, patch) -> Path:
    """ICT推進課's filled form with its input sheet's XML patched."""
    return rewrite_zip(env.base.filled[TARGET], env.returns / name, {"xl/worksheets/sheet2.xml": patch})


def _cell_xml(xml: bytes, ref: str) -> bytes:
    m = re.search(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
    assert m, ref
    return m.group(0)


def _collect(env: Env) -> dict:
    import json

    from click.testing import CliRunner

    from xlsx_tool.cli import cli

    env.put_valid(exclude={TARGET})
    res = CliRunner().invoke(cli, ["collect", str(env.folder), "--json"], catch_exceptions=False)
    return json.loads(res.stdout)


def _answers(env: Env) -> dict:
    from xlsx_tool import ledger

    with ledger.open_ledger(env.folder / "回収台帳.sqlite3") as book:
        return book.current_answers(env.loaded).answers


def test_collect_reads_the_answer_excel_shows_not_one_hidden_in_markup(survey_env: Env):
    env = survey_env
    number_ref, text_ref, r = _answer_cells(env)
    expected_number = env.base.answers["1"]["実績値"]

    def patch(xml: bytes) -> bytes:
        number = _cell_xml(xml, number_ref)
        text = _cell_xml(xml, text_ref)
        fake = number.replace(f"<v>{expected_number}</v>".encode(), b"<v>999999</v>")
        assert fake != number
        # a number the department never sees, after the real one in a comment; text with
        # "</t>" inside CDATA and spaces around it that Excel trims
        xml = xml.replace(number, number + b"<!-- " + fake + b" -->", 1)
        return xml.replace(text, f'<c r="{text_ref}" t="inlineStr"><is><t>  <![CDATA[会議数 </t> 倍増]]>  </t>'
                                 '</is></c>'.encode(), 1)

    _returned(env, "ICT推進課.xlsx", patch)
    data = _collect(env)
    assert [p for p in data["problems"] if p["file"] == "2_回収/ICT推進課.xlsx" and p["severity"] == "error"] == []
    answers = _answers(env)["1"]
    assert str(answers["実績値"]) == expected_number
    assert answers["取組実績"] == "会議数 </t> 倍増"


def test_collect_reads_a_merged_answer_as_the_merge_shows_it(survey_env: Env):
    """実績値 and 取組実績 merged, the text kept under the merge (LibreOffice asks whether to keep
    it): the form shows the number only, so the required text is missing."""
    env = survey_env
    number_ref, text_ref, _r = _answer_cells(env)

    def patch(xml: bytes) -> bytes:
        merge = f'<mergeCells count="1"><mergeCell ref="{number_ref}:{text_ref}"/></mergeCells>'.encode()
        return xml.replace(b"</sheetData>", b"</sheetData>" + merge, 1)

    _returned(env, "ICT推進課.xlsx", patch)
    data = _collect(env)
    found = [(p["code"], p["measure"], p["field"]) for p in data["problems"] if p["file"] == "2_回収/ICT推進課.xlsx"]
    assert found == [("required", "1", "取組実績")]


def test_collect_refuses_a_form_whose_cells_hold_what_excel_would_not_show(survey_env: Env):
    env = survey_env
    number_ref, _text_ref, _r = _answer_cells(env)

    def patch(xml: bytes) -> bytes:
        number = _cell_xml(xml, number_ref)
        return xml.replace(number, number + b'<bar:c xmlns:bar="urn:example:other" r="' + number_ref.encode()
                           + b'"><bar:v>999999</bar:v></bar:c>', 1)

    _returned(env, "ICT推進課.xlsx", patch)
    data = _collect(env)
    found = [p for p in data["problems"] if p["file"] == "2_回収/ICT推進課.xlsx"]
    assert [p["code"] for p in found] == ["corrupt"]
    assert "Excel が表示しない部分" in found[0]["message"]
    assert next(d for d in data["departments"] if d["department"] == TARGET)["status"] != "submitted"
    assert INPUT_SHEET == "調査票"
