"""The cell reader (intake/reader.py) on XML written here: text, references, escapes, number
formats, cells, and the package around them. Every sheet case is read twice, as Excel writes
it (the fast path) and with its attributes in another order (the general parser): both must
give the same cells."""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

import pytest

from xlsx_tool.forms.layout import column_letters
from xlsx_tool.intake import reader as R
from xlsx_tool.intake.reader import RawCell, RawWorkbook, SharedStrings

# --- text ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "text"), [
    (b"plain", "plain"),
    (b"a &lt; b &gt; c &amp; &quot;d&quot; &apos;e&apos;", "a < b > c & \"d\" 'e'"),
    (b"&#65;&#x42;&#x1F600;", "AB\U0001F600"),
    ("達成".encode(), "達成"),
    (b"<![CDATA[<b>&amp;</b>]]> &amp; x", "<b>&amp;</b> & x"),
    (b"a<![CDATA[1]]>b<![CDATA[2]]>c", "a1b2c"),
])
def test_xml_text(raw, text):
    assert R.xml_text(raw) == text


@pytest.mark.parametrize("raw", [b"&nbsp;", b"&#0;", b"&#xD800;", b"&#x110000;", b"&unknown;"])
def test_xml_text_refuses_what_no_parser_accepts(raw):
    with pytest.raises(ValueError):
        R.xml_text(raw)


@pytest.mark.parametrize("code", [0x0, 0x1, 0x8, 0x9, 0xA, 0xB, 0xD, 0x1F, 0x20, 0xD7FF, 0xD800, 0xDBFF, 0xDFFF,
                                  0xE000, 0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x10FFFF, 0x110000])
@pytest.mark.parametrize("form", ["&#x{:X};", "&#{:d};"])
def test_character_references_are_taken_exactly_where_an_xml_parser_takes_them(code, form):
    import xml.etree.ElementTree as ET

    ref = form.format(code).encode()
    try:
        expected = ET.fromstring(b"<t>" + ref + b"</t>").text
    except ET.ParseError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            R.xml_text(ref)
    else:
        assert R.xml_text(ref) == expected == chr(code)


@pytest.mark.parametrize(("text", "decoded"), [
    ("a_x000D_b", "a\rb"),
    ("_x005F_x0041_", "_x0041_"),  # a typed _x0041_ as Excel stores it
    ("_x0041__x0042_", "AB"),
    ("_xD83D__xDE00_", "\U0001F600"),  # an escaped surrogate pair is one character
    ("_xD83D_", "\ufffd"),  # a lone surrogate cannot be text
    ("a_xD800_b", "a\ufffdb"), ("a_xDFFF_b", "a\ufffdb"), ("_xD7FF__xE000_", "\ud7ff\ue000"),  # the surrogate range's ends
    ("_x00G1_", "_x00G1_"),
    ("no escapes", "no escapes"),
    ("_x41_", "_x41_"),
])
def test_decode_escapes(text, decoded):
    assert R.decode_escapes(text) == decoded


@pytest.mark.parametrize(("body", "text"), [
    (None, ""),
    (b"", ""),
    ("<t>達成</t>".encode(), "達成"),
    ('<r><rPr><b/></rPr><t>取組</t></r><r><t xml:space="preserve"> 実績</t></r>'.encode(), "取組 実績"),
    ('<t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/>'.encode(), "漢字"),
    (b"<x:t>prefixed</x:t>", "prefixed"),
    (b"<t>a_x000A_b</t>", "a\nb"),
    (b"<t/>", ""),
])
def test_rich_text(body, text):
    assert R.rich_text(body) == text


def test_shared_strings_are_decoded_when_asked():
    data = (b'<sst><si><t>one</t></si><si><t xml:space="preserve"> two </t></si>'
            b"<si><r><t>thr</t></r><r><t>ee</t></r></si><si><t>&amp;_x0041_</t></si><si/></sst>")
    table = SharedStrings(data)
    assert len(table) == 5
    assert table.done == {}
    assert table[2] == "three" and set(table.done) == {2}
    assert [table[i] for i in range(5)] == ["one", " two ", "three", "&A", ""]
    assert R.shared_strings(data) == ["one", " two ", "three", "&A", ""]
    with pytest.raises(IndexError):
        table[-1]
    with pytest.raises(IndexError):
        table[5]


# --- number formats -----------------------------------------------------------------------

@pytest.mark.parametrize(("code", "cls"), [
    ("General", ""), ("0", ""), ("#,##0.00", ""), ("0.0%", "percent"), ("0%", "percent"),
    ("yyyy/m/d", "date"), ("[$-411]ggge\"年\"m\"月\"d\"日\"", "date"), ("h:mm", "date"), ("[h]:mm", "date"),
    ("0.00E+00", ""), ('"年"0', ""), ('0"%"', ""), ("\\%0", ""), ("[Red]0", ""), ("0;[Red]-0%", ""),
    ("#,##0_);(#,##0)", ""), ("mm:ss", "date"), ('[$¥-411]#,##0', ""), ("B1yyyy", "date"),
    ("0.00e+00", ""), ("##0.0E-0", ""),  # scientific in either case is a number, not the era year e
])
def test_format_class(code, cls):
    assert R.format_class(code) == cls


def test_style_classes_map_each_cell_style():
    styles = ('<styleSheet><numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/>'
              '<numFmt numFmtId="165" formatCode="yyyy&quot;年&quot;"/><numFmt numFmtId="x" formatCode="0%"/></numFmts>'
              '<cellStyleXfs><xf numFmtId="14"/></cellStyleXfs>'
              '<cellXfs count="7"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="9"/>'
              '<xf numFmtId="164"/><xf numFmtId="165"/><xf/><xf numFmtId="10"></xf><xf numFmtId="49"/></cellXfs>'
              '</styleSheet>').encode()
    assert R.style_classes(styles) == ["", "date", "percent", "percent", "date", "", "percent", ""]
    assert R.style_classes(b"<styleSheet/>") == []
    # a custom format without its id is no format; one without its code formats nothing
    partial = (b'<styleSheet><numFmts><numFmt formatCode="0%"/><numFmt numFmtId="166"/>'
               b'<numFmt numFmtId="1" formatCode="0%"/></numFmts>'
               b'<cellXfs><xf numFmtId="166"/><xf/></cellXfs></styleSheet>')
    assert R.style_classes(partial) == ["", ""]  # an xf without numFmtId is General (0), whatever 1 became


def test_number_formats_are_those_of_numfmts_as_excel_chooses_the_cell_styles():
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    styles = (f'<styleSheet xmlns="{main}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
              '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/>'
              '<numFmt numFmtId="165" formatCode="&quot;未&quot;@"/></numFmts>'
              '<cellXfs count="4"><xf numFmtId="0"/>'
              # a branch another vendor's program reads, then the one Excel reads (Hancom Office writes these)
              '<mc:AlternateContent><mc:Choice xmlns:hs="urn:example:hancom" Requires="hs"><xf numFmtId="14"/>'
              '</mc:Choice><mc:Fallback><xf numFmtId="164"/></mc:Fallback></mc:AlternateContent>'
              '<xf numFmtId="9"/><xf numFmtId="165"/></cellXfs>'
              # a differential format (conditional formatting) styles no cell: its numFmt changes nothing
              '<dxfs><dxf><numFmt numFmtId="164" formatCode="yyyy/m/d"/></dxf></dxfs></styleSheet>').encode()
    formats = R.number_formats(R.plain_xml(styles, "styles"))
    assert formats == [R.GENERAL, R.NumberFormat("percent", "0.0%"), R.NumberFormat("percent", "0%"),
                       R.NumberFormat("", '"未"@', True)]
    # the text a cell shows through a format with a text section
    assert R.cell_text(RawCell("達成", "s", False, "", '"未"@')) == ("未達成", True)
    assert R.cell_text(RawCell("達成", "s", False, "", ";;;")) == ("", True)
    assert R.cell_text(RawCell(0.6, "n", False, "percent", "0%")) == ("60%", True)
    assert R.cell_text(RawCell(0.25, "n", False, "", "# ?/?")) == ("0.25", False)  # shown as General


def test_text_cells_carry_a_format_only_when_it_changes_what_they_show():
    styles = [R.GENERAL, R.NumberFormat("", '"未"@', True), R.NumberFormat("", "@")]
    xml = ('<row r="1"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" s="1" t="inlineStr"><is><t>x</t></is></c>'
           '<c r="C1" s="2" t="s"><v>0</v></c><c r="D1" s="1"><v>3</v></c></row>')
    fmt = '"未"@'
    expected = {(1, 1): RawCell("達成", "s", False, "", fmt), (1, 2): RawCell("x", "s", False, "", fmt),
                (1, 3): RawCell("達成", "s"), (1, 4): RawCell(3.0, "n", False, "", fmt)}
    for xml_form in (xml, general(xml)):  # the one-pass scan and the general parser
        assert R.sheet_cells(f"<worksheet><sheetData>{xml_form}</sheetData></worksheet>".encode(),
                             STRINGS, styles) == expected


@pytest.mark.parametrize("fid", [14, 22, 27, 36, 45, 47, 50, 58, 71, 81])
def test_builtin_date_formats(fid):
    assert R.style_classes(f'<cellXfs><xf numFmtId="{fid}"/></cellXfs>'.encode()) == ["date"]


@pytest.mark.parametrize("fid", [0, 1, 8, 11, 13, 23, 26, 37, 44, 48, 49, 59, 70, 82])
def test_builtin_plain_formats(fid):
    assert R.style_classes(f'<cellXfs><xf numFmtId="{fid}"/></cellXfs>'.encode()) == [""]


# --- cells -------------------------------------------------------------------------------------

STRINGS = SharedStrings("<sst><si><t>達成</t></si><si><t>取組_x000D_実績</t></si></sst>".encode())
STYLES = [R.GENERAL, R.NumberFormat("date", "yyyy/m/d"), R.NumberFormat("percent", "0%")]


def general(xml: str) -> str:
    """The same cells with t before r and one more attribute: the general parser's work."""
    import re

    def swap(m):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        order = [k for k in ("t", "s", "r") if k in attrs]
        return "<c " + " ".join(f'{k}="{attrs[k]}"' for k in order) + ' cm="0"' + m.group(2)
    return re.sub(r"<c ([^>]*?)(/?>)", swap, xml)


def cells(xml: str) -> dict:
    if not xml.startswith("<row"):
        xml = f'<row r="1">{xml}</row>'
    data = f"<worksheet><sheetData>{xml}</sheetData></worksheet>".encode()
    fast = R.sheet_cells(data, STRINGS, STYLES)
    slow = R.sheet_cells(f"<worksheet><sheetData>{general(xml)}</sheetData></worksheet>".encode(), STRINGS, STYLES)
    assert fast == slow
    # Excel's own attribute order is read in one pass, not handed to the general parser
    assert R._fast_cells(xml.encode(), STRINGS, STYLES) == fast
    return fast


ONE_CELL = [
    ('<c r="A1" t="s"><v>0</v></c>', RawCell("達成", "s")),
    ('<c r="A1" t="s"><v>1</v></c>', RawCell("取組\r実績", "s")),
    ('<c r="A1" t="s"><v>7</v></c>', RawCell("#REF!", "e")),
    ('<c r="A1" t="s"><v>x</v></c>', RawCell("#REF!", "e")),
    ('<c r="A1"><v>12.5</v></c>', RawCell(12.5, "n", False, "")),
    ('<c r="A1" t="n"><v>3</v></c>', RawCell(3.0, "n", False, "")),
    ('<c r="A1" s="1"><v>44562</v></c>', RawCell(44562.0, "n", False, "date", "yyyy/m/d")),
    ('<c r="A1" s="2"><v>0.75</v></c>', RawCell(0.75, "n", False, "percent", "0%")),
    ('<c r="A1" s="9"><v>1</v></c>', RawCell(1.0, "n", False, "")),
    ('<c r="A1"><v>abc</v></c>', RawCell("abc", "s")),
    ('<c r="A1" t="b"><v>1</v></c>', RawCell(True, "b")),
    ('<c r="A1" t="b"><v>0</v></c>', RawCell(False, "b")),
    ('<c r="A1" t="b"><v>true</v></c>', RawCell(True, "b")),
    ('<c r="A1" t="e"><v>#N/A</v></c>', RawCell("#N/A", "e")),
    ('<c r="A1" t="d"><v>2022-05-09T00:00:00</v></c>', RawCell("2022-05-09T00:00:00", "d")),
    ('<c r="A1" t="str"><v>a_x000A_b</v></c>', RawCell("a\nb", "s")),
    ('<c r="A1" t="str"><f>A2&amp;"x"</f><v>yx</v></c>', RawCell("yx", "s", True)),
    ('<c r="A1"><f>1+1</f><v>2</v></c>', RawCell(2.0, "n", True, "")),
    ('<c r="A1"><f>1+1</f></c>', RawCell(None, "s", True)),
    ('<c r="A1"><f>1+1</f><v></v></c>', RawCell(None, "s", True)),
    ('<c r="A1" t="inlineStr"><is><t>手入力</t></is></c>', RawCell("手入力", "s")),
    ('<c r="A1" t="inlineStr"><is><t xml:space="preserve"> a_x0041_ </t></is></c>', RawCell(" aA ", "s")),
    ('<c r="A1" t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c>', RawCell("ab", "s")),
    ('<c r="A1" t="inlineStr"><f>"x"</f><is><t>x</t></is></c>', RawCell("x", "s", True)),
    ('<c r="A1" t="inlineStr"><f>"x"</f></c>', RawCell(None, "s", True)),
    ('<c r="A1" s="3"><v>5</v></c>', RawCell(5.0, "n", False, "")),  # one past the last style: none
    # a formula's flag survives whatever type its cached value has
    ('<c r="A1" t="s"><f>A2</f><v>0</v></c>', RawCell("達成", "s", True)),
    ('<c r="A1" t="s"><f>A2</f><v>7</v></c>', RawCell("#REF!", "e", True)),
    ('<c r="A1" t="s"><f>A2</f><v>x</v></c>', RawCell("#REF!", "e", True)),
    ('<c r="A1" t="b"><f>TRUE()</f><v>1</v></c>', RawCell(True, "b", True)),
    ('<c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c>', RawCell("#DIV/0!", "e", True)),
    ('<c r="A1" t="d"><f>TODAY()</f><v>2022-05-09T00:00:00</v></c>', RawCell("2022-05-09T00:00:00", "d", True)),
    ('<c r="A1"><f>A2</f><v>abc</v></c>', RawCell("abc", "s", True)),
    ('<c r="A1" s="1"><f>TODAY()</f><v>44562</v></c>', RawCell(44562.0, "n", True, "date", "yyyy/m/d")),  # keeps its format
    ('<c r="A1"><v><![CDATA[5]]></v></c>', RawCell(5.0, "n", False, "")),  # CDATA, as an XML parser reads it
    ('<c r="A1" t="str"><v><![CDATA[a<b]]></v></c>', RawCell("a<b", "s")),
]


@pytest.mark.parametrize(("xml", "expected"), ONE_CELL)
def test_one_cell(xml, expected):
    assert cells(xml) == {(1, 1): expected}


def test_every_kind_of_cell_in_one_row_with_empty_cells_between():
    """No cell ends the reading of the ones after it, on either path."""
    xml, expected = "", {}
    for i, (one, cell) in enumerate(ONE_CELL):
        column = R.column_index("B") + 2 * i
        letters = column_letters(column)
        xml += NOTHING[i % len(NOTHING)].replace('r="A1"', f'r="{letters}1"')
        xml += one.replace('r="A1"', f'r="{column_letters(column + 1)}1"')
        expected[(1, column + 1)] = cell
    assert cells(xml) == expected


@pytest.mark.parametrize("odd", ["<c/>", "<c></c>", "<c><v>9</v></c>"])
def test_a_sheet_with_cells_in_another_form_is_read_whole_by_the_general_parser(odd):
    """One cell the one-pass scan cannot take (attributes in another order, no reference) sends
    the whole sheet to the general parser; nothing is dropped."""
    xml = f'<row r="1"><c r="A1"><v>1</v></c><c t="n" r="B1"><v>5</v></c>{odd}</row>'.encode()
    assert R._fast_cells(xml, [], []) is None
    expected = {(1, 1): RawCell(1.0, "n", False, ""), (1, 2): RawCell(5.0, "n", False, "")}
    if "9" in odd:
        expected[(1, 3)] = RawCell(9.0, "n", False, "")
    assert R.sheet_cells(b"<worksheet><sheetData>" + xml + b"</sheetData></worksheet>", [], []) == expected


NOTHING = ['<c r="A1"/>', '<c r="A1" s="1"/>', '<c r="A1"></c>', '<c r="A1"><v></v></c>',
           '<c r="A1" t="inlineStr"></c>', '<c r="A1" t="s"><v/></c>', '<c r="A1" t="inlineStr"/>']


@pytest.mark.parametrize("xml", NOTHING)
def test_cells_that_hold_nothing(xml):
    assert cells(xml) == {}


def test_positions_and_limits():
    xml = ('<row r="2"><c r="B2"><v>1</v></c><c r="AA2"><v>2</v></c></row>'
           '<row r="3"><c r="XFD3"><v>3</v></c><c r="XFE3"><v>4</v></c></row>'
           '<row r="4"><c r="XFE4"><v>7</v></c><c r="B4"><v>8</v></c></row>'  # out of order: B4 still read
           '<row r="1048576"><c r="A1048576"><v>5</v></c></row><row r="1048577"><c r="A1048577"><v>6</v></c></row>')
    got = cells(xml)
    assert sorted(got) == [(2, 2), (2, 27), (3, 16384), (4, 2), (1048576, 1)]


def test_cells_without_references_follow_the_previous_one():
    data = (b"<worksheet><sheetData><row><c><v>1</v></c><c><v>2</v></c></row>"
            b'<row r="5"><c><v>3</v></c><c r="D5"><v>4</v></c><c><v>5</v></c></row><row><c><v>6</v></c></row>'
            b"</sheetData></worksheet>")
    got = R.sheet_cells(data, [], [])
    assert {k: v.value for k, v in got.items()} == {(1, 1): 1.0, (1, 2): 2.0, (5, 1): 3.0, (5, 4): 4.0, (5, 5): 5.0,
                                                   (6, 1): 6.0}


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def test_prefixed_elements_are_read_by_their_namespace():
    data = (f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c>'
            '<x:c r="B1" t="inlineStr"><x:is><x:t>b</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>').encode()
    assert R.sheet_cells(R.plain_xml(data, "sheet"), STRINGS, STYLES) == {
        (1, 1): RawCell("達成", "s"), (1, 2): RawCell("b", "s")}
    # the same elements in another namespace are not SpreadsheetML: no cell for Excel, none for us
    other = data.replace(MAIN.encode(), b"urn:other")
    assert R.sheet_cells(R.plain_xml(other, "sheet"), STRINGS, STYLES) == {}


def test_an_empty_sheet():
    assert R.sheet_cells(b"<worksheet><sheetData/></worksheet>", [], []) == {}
    assert R.sheet_cells(b"<worksheet/>", [], []) == {}


def test_the_cell_cap(monkeypatch):
    monkeypatch.setattr(R, "MAX_CELLS", 2)
    ok = '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>'
    assert len(cells(ok)) == 2
    over = '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c><c r="C1"><v>3</v></c></row>'
    for xml in (over, general(over)):
        with pytest.raises(R.Refused) as caught:
            R.sheet_cells(f"<worksheet><sheetData>{xml}</sheetData></worksheet>".encode(), [], [])
        assert (caught.value.code, caught.value.detail) == ("too-large", "1 シートに 2 個を超えるセルがあります")


@pytest.mark.parametrize(("letters", "n"), [("A", 1), ("Z", 26), ("AA", 27), ("AZ", 52), ("BA", 53), ("XFD", 16384)])
def test_column_index(letters, n):
    assert R.column_index(letters) == n


# --- the package -------------------------------------------------------------------------------

# the quote closing the encoding's name is the 201st byte
DECLARED_LATE = b"<?xml version='1.0'" + b" " * 166 + b"encoding='cp932'?>" + "<a>達成</a>".encode("cp932")


@pytest.mark.parametrize(("data", "text"), [
    (b"\xef\xbb\xbf<a>x</a>", b"<a>x</a>"),
    ("<a>達成</a>".encode("utf-16"), "<a>達成</a>".encode()),
    ("<a>達成</a>".encode("utf-16-le"), "<a>達成</a>".encode()),
    ("<a>達成</a>".encode("utf-16-be"), "<a>達成</a>".encode()),
    ("<?xml version='1.0' encoding='Shift_JIS'?><a>達成</a>".encode("cp932"),
     "<?xml version='1.0' encoding='Shift_JIS'?><a>達成</a>".encode()),
    (b'<?xml version="1.0" encoding="UTF-8"?><a/>', b'<?xml version="1.0" encoding="UTF-8"?><a/>'),
    (b"<a/>", b"<a/>"),
    # declared UTF-8: passed on untouched (a broken byte is the XML parser's to report)
    (b'<?xml version="1.0" encoding="utf_8"?><a>\xff</a>', b'<?xml version="1.0" encoding="utf_8"?><a>\xff</a>'),
    (b'<?xml version="1.0" encoding="UTF8"?><a>\xff</a>', b'<?xml version="1.0" encoding="UTF8"?><a>\xff</a>'),
    # a declaration is looked for in the first 200 bytes only, as a prolog is short
    (DECLARED_LATE, DECLARED_LATE),
])
def test_parts_become_utf8(data, text):
    assert R._to_utf8(data) == text


@pytest.mark.parametrize(("path", "norm"), [("xl/worksheets/../sharedStrings.xml", "xl/sharedStrings.xml"),
                                            ("xl/./a.xml", "xl/a.xml"), ("../../a.xml", "a.xml"), ("a//b", "a/b")])
def test_normpath(path, norm):
    assert R._normpath(path) == norm


def test_attributes_take_either_quote_and_keep_prefixes():
    assert R._attrs(' r:id="rId1" name=\'調査票\' state = "hidden" name="second" x:r="A1"'.encode()) == {
        "r:id": "rId1", "name": "調査票", "state": "hidden", "x:r": "A1"}  # x:r is no r
    # an attribute's value is never read as more attributes, whatever its name is made of
    assert R._attrs(' 名=\' t="s" \' r="A1"'.encode()) == {"名": ' t="s" ', "r": "A1"}


def xlsx(parts: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body if isinstance(body, bytes) else body.encode("utf-8"))
    return buf.getvalue()


REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CORE_NS = ('xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
           'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
CUSTOM_NS = ('xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
             'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"')


def workbook_parts(sheets: str = '<sheet name="調査票" sheetId="1" r:id="rId1"/>', main: str = "xl/workbook.xml",
                   extra: dict | None = None) -> dict:
    up = "" if main.startswith("xl/") else "../xl/"  # sheets stay in xl/, named from the workbook's folder
    parts = {
        "[Content_Types].xml": f'<Types><Override PartName="/{main}" ContentType="application/vnd.openxmlformats-'
                               'officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": f'<Relationships><Relationship Id="rId1" Type="{REL}/officeDocument" Target="{main}"/>'
                       f'<Relationship Id="rId2" Type="{REL}/metadata/core-properties" Target="docProps/core.xml"/>'
                       f'<Relationship Id="rId3" Type="{REL}/custom-properties" Target="/docProps/custom.xml"/>'
                       '<Relationship Id="rId9" Type="x" Target="http://example.com" TargetMode="External"/></Relationships>',
        main: f'<workbook xmlns:r="{REL}"><workbookPr date1904="1"/><sheets>{sheets}</sheets></workbook>',
        main.rsplit("/", 1)[0] + "/_rels/" + main.rsplit("/", 1)[1] + ".rels":
            f'<Relationships><Relationship Id="rId1" Type="{REL}/worksheet" Target="{up}worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
            f'<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="{up}sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
        "xl/worksheets/sheet2.xml": '<worksheet><sheetData><row r="1"><c r="A1"><v>2</v></c></row></sheetData></worksheet>',
        "xl/sharedStrings.xml": "<sst><si><t>施策番号</t></si></sst>",
        "docProps/core.xml": f"<cp:coreProperties {CORE_NS}><dcterms:modified xsi:type=\"x\"> 2022-05-09T01:00:00Z "
                             "</dcterms:modified></cp:coreProperties>",
        "docProps/custom.xml": f'<Properties {CUSTOM_NS}><property fmtid="x" pid="2" name="xlsx_tool_survey">'
                               '<vt:lpwstr>s&amp;1</vt:lpwstr>'
                               '</property><property name="empty"><vt:lpwstr></vt:lpwstr></property>'
                               '<property name="bare"/><property><vt:lpwstr>nameless</vt:lpwstr></property></Properties>',
    }
    parts.update(extra or {})
    return parts


def read(parts: dict, want=("調査票",), tmp: Path | None = None) -> RawWorkbook:
    result = RawWorkbook()
    R.read_bytes(xlsx(parts), result, want)
    return result


def test_a_workbook_read_through_its_relationships():
    sheets = '<sheet name="調査票" sheetId="1" r:id="rId1"/><sheet name="集計" sheetId="2" state="hidden" r:id="rId2"/>'
    result = read(workbook_parts(sheets))
    assert result.sheets == [("調査票", "visible"), ("集計", "hidden")]
    assert result.cells == {"調査票": {(1, 1): RawCell("施策番号", "s")}}
    assert result.date1904 and result.modified == "2022-05-09T01:00:00Z"
    assert result.custom == {"xlsx_tool_survey": "s&1", "empty": ""}
    assert read(workbook_parts(sheets), want=("集計",)).cells == {"集計": {(1, 1): RawCell(2.0, "n", False, "")}}
    assert read(workbook_parts(sheets), want=("調査表",)).cells == {}
    assert set(read(workbook_parts(sheets), want=("調査票", "集計")).cells) == {"調査票", "集計"}


def test_the_first_visible_sheet_and_names_in_any_case():
    sheets = '<sheet name="Hidden" sheetId="2" state="hidden" r:id="rId2"/><sheet name="Input" sheetId="1" r:id="rId1"/>'
    result = read(workbook_parts(sheets), want=(R.FIRST_SHEET,))
    assert result.first_sheet() == "Input" and list(result.cells) == ["Input"]
    assert list(read(workbook_parts(sheets), want=("input",)).cells) == ["Input"]
    all_hidden = RawWorkbook(sheets=[("a", "hidden"), ("b", "veryHidden")])
    assert all_hidden.first_sheet() == "a" and RawWorkbook().first_sheet() is None


@pytest.mark.parametrize("second", ["INPUT", "Input", "input"])
def test_two_sheets_of_one_name_are_refused(second):
    # Excel refuses sheet names that differ at most in case: which one it shows is not ours to guess
    sheets = f'<sheet name="Input" sheetId="1" r:id="rId1"/><sheet name="{second}" sheetId="2" r:id="rId2"/>'
    with pytest.raises(R.Refused) as caught:
        read(workbook_parts(sheets), want=("Input",))
    assert (caught.value.code, caught.value.detail) == ("corrupt", "同じ名前のシートが複数あります")


def test_the_id_sheet_is_always_read():
    sheets = '<sheet name="調査票" sheetId="1" r:id="rId1"/><sheet name="_id" sheetId="2" state="veryHidden" r:id="rId2"/>'
    assert set(read(workbook_parts(sheets), want=()).cells) == {"_id"}


def test_a_workbook_elsewhere_in_the_package_and_a_missing_root_relationship():
    parts = workbook_parts(main="book/wb.xml")
    assert read(parts).cells["調査票"] == {(1, 1): RawCell("施策番号", "s")}
    parts = workbook_parts()
    del parts["_rels/.rels"]
    result = read(parts)
    assert result.cells["調査票"] and result.modified == "2022-05-09T01:00:00Z"  # found by the usual names


@pytest.mark.parametrize(("parts", "code", "detail"), [
    ({"word/document.xml": "<w/>"}, "not-a-workbook", "Word の文書"),
    ({"ppt/presentation.xml": "<p/>"}, "not-a-workbook", "PowerPoint の資料"),
    ({"返却/ICT推進課.xlsx": b"PK"}, "zip-archive", "Excel ファイルを圧縮した ZIP ファイル"),
    ({"返却/ICT推進課.XLSM": b"PK"}, "zip-archive", "Excel ファイルを圧縮した ZIP ファイル"),
    ({"memo.txt": "x"}, "zip-archive", "ZIP 圧縮ファイル"),
    ({"xl/workbook.bin": b"\x00"}, "xlsb", ""),
])
def test_what_a_package_is_when_it_is_no_workbook(parts, code, detail):
    with pytest.raises(R.Refused) as caught:
        read(parts)
    assert (caught.value.code, caught.value.detail) == (code, detail)


def test_a_main_part_that_is_another_document():
    parts = workbook_parts()
    parts["[Content_Types].xml"] = ('<Types><Override PartName="/xl/workbook.xml" ContentType="application/'
                                    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    with pytest.raises(R.Refused) as caught:
        read(parts)
    assert caught.value.detail == "Word の文書"


def test_a_workbook_without_sheets_is_corrupt():
    with pytest.raises(R.Refused) as caught:
        read(workbook_parts(sheets=""))
    assert (caught.value.code, caught.value.detail) == ("corrupt", "ブックにシートがありません")


def test_a_doctype_anywhere_is_refused_before_parsing():
    parts = workbook_parts(extra={"xl/media/note.xml": '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'})
    with pytest.raises(R.Refused) as caught:
        read(parts)
    assert caught.value.code == "hostile-xml"


def test_a_sheet_with_an_undefined_entity_is_corrupt(tmp_path):
    parts = workbook_parts(extra={"xl/sharedStrings.xml": "<sst><si><t>&nbsp;</t></si></sst>"})
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx(parts))
    result = R.read_workbook(path, ("調査票",))
    assert (result.failure, result.detail, result.cells, result.sheets) == (
        "corrupt", "ファイルの中身（XML）が壊れています", {}, [])
    assert result.size == path.stat().st_size and len(result.sha256) == 64


def test_read_workbook_failures(tmp_path, monkeypatch):
    good = tmp_path / "ok.xlsx"
    good.write_bytes(xlsx(workbook_parts()))
    result = R.read_workbook(good, ("調査票",))
    assert result.failure == "" and result.cells["調査票"]
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    assert (R.read_workbook(folder).failure, R.read_workbook(folder).detail) == ("not-a-workbook", "フォルダ")
    missing = R.read_workbook(tmp_path / "gone.xlsx")
    assert (missing.failure, missing.detail) == ("unreadable", "ファイルが見つかりません（読み取り中に移動・削除された可能性があります）")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(xlsx(workbook_parts())[:200])
    assert (R.read_workbook(broken).failure, R.read_workbook(broken).detail) == ("corrupt", "ZIP 形式として壊れています")
    monkeypatch.setattr(R.F, "MAX_FILE_BYTES", 100)
    big = R.read_workbook(good)
    assert big.failure == "too-large" and big.detail.endswith("（上限 0 MB）") and big.sha256 == ""


def _patched(data: bytes, part: str, central: tuple[int, bytes], local: tuple[int, bytes]) -> bytes:
    """`data` with one entry's header fields overwritten, in the central directory and locally."""
    out = bytearray(data)
    name = part.encode()
    at = out.find(b"PK\x01\x02" + b"")
    while out[at + 46:at + 46 + len(name)] != name:
        at = out.find(b"PK\x01\x02", at + 4)
    offset = int.from_bytes(out[at + 42:at + 46], "little")
    out[at + central[0]:at + central[0] + len(central[1])] = central[1]
    out[offset + local[0]:offset + local[0] + len(local[1])] = local[1]
    return bytes(out)


@pytest.mark.parametrize(("central", "local", "detail"), [
    ((10, b"\x63\x00"), (8, b"\x63\x00"), "対応していない圧縮方式です"),  # method 99 (AES)
    ((8, b"\x01\x00"), (6, b"\x01\x00"), "要素が暗号化されています"),  # the entry's encrypted flag
])
def test_entries_zipfile_cannot_open_are_named(tmp_path, central, local, detail):
    path = tmp_path / "odd.xlsx"
    path.write_bytes(_patched(xlsx(workbook_parts()), "xl/workbook.xml", central, local))
    got = R.read_workbook(path, ("調査票",))
    assert (got.failure, got.detail, got.cells) == ("corrupt", detail, {})


def test_the_file_size_cap_allows_exactly_the_cap_and_names_whole_megabytes(tmp_path, monkeypatch):
    path = tmp_path / "big.xlsx"
    picture = random.Random(1).randbytes(1_600_000)  # does not compress, as a photograph
    path.write_bytes(xlsx(workbook_parts(extra={"xl/media/image1.png": picture})))
    size = path.stat().st_size
    assert R.F.MB < size < 2 * R.F.MB
    monkeypatch.setattr(R.F, "MAX_FILE_BYTES", size)
    assert R.read_workbook(path, ("調査票",)).failure == ""
    monkeypatch.setattr(R.F, "MAX_FILE_BYTES", R.F.MB)
    got = R.read_workbook(path, ("調査票",))
    assert (got.failure, got.detail) == ("too-large", "ファイルサイズが 1 MB あります（上限 1 MB）")


def test_an_xlsb_with_backslash_part_names_is_named(tmp_path):
    with pytest.raises(R.Refused) as caught:  # named before anything is read
        R.read_bytes(xlsx({"[Content_Types].xml": "<Types/>", "xl\\workbook.bin": b"\x00"}), RawWorkbook(), ("調査票",))
    assert caught.value.code == "xlsb"


def test_line_ends_in_parts_are_read_as_an_xml_parser_reads_them():
    parts = workbook_parts()
    parts["xl/sharedStrings.xml"] = "<sst>\r\n<si><t>取組\r\n実績\rあり</t></si></sst>"
    parts["xl/worksheets/sheet1.xml"] = ('<worksheet>\r\n<sheetData>\r<row r="1"><c r="A1" t="s"><v>0</v></c>'
                                         '<c r="B1" t="inlineStr"><is><t>a\r\nb</t></is></c></row></sheetData></worksheet>')
    assert read(parts).cells["調査票"] == {(1, 1): RawCell("取組\n実績\nあり", "s"), (1, 2): RawCell("a\nb", "s")}


def test_os_reasons():
    assert R._os_reason(OSError(5, "x")) == "入出力エラー（ディスクやネットワークの不調）"
    assert R._os_reason(OSError(28, "x")) == "読み取りエラー"
    assert R._os_reason(OSError("no errno")) == "読み取りエラー"


def test_document_properties_where_the_package_says_else_where_they_usually_are():
    moved = workbook_parts()
    moved["_rels/.rels"] = moved["_rels/.rels"].replace('Target="docProps/core.xml"', 'Target="meta/core1.xml"').replace(
        'Target="/docProps/custom.xml"', 'Target="/meta/custom1.xml"')
    moved["meta/core1.xml"] = moved.pop("docProps/core.xml")
    moved["meta/custom1.xml"] = moved.pop("docProps/custom.xml")
    got = read(moved)
    assert (got.modified, got.custom.get("xlsx_tool_survey")) == ("2022-05-09T01:00:00Z", "s&1")
    # no relationship for them: the usual names, whatever their case
    unlisted = workbook_parts()
    unlisted["_rels/.rels"] = "".join(line for line in re.split(r"(?=<Relationship )", unlisted["_rels/.rels"])
                                      if "properties" not in line)
    unlisted["DOCPROPS/Custom.xml"] = unlisted.pop("docProps/custom.xml")
    got = read(unlisted)
    assert (got.modified, got.custom.get("xlsx_tool_survey")) == ("2022-05-09T01:00:00Z", "s&1")


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("TRUE", True), ("0", False), ("false", False)])
def test_the_1904_calendar_flag(value, on):
    parts = workbook_parts()
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace('date1904="1"', f'date1904="{value}"')
    assert read(parts).date1904 is on
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(f'<workbookPr date1904="{value}"/>', "<workbookPr/>")
    assert read(parts).date1904 is False


def test_sheets_without_a_name_or_a_part_are_listed_but_not_read():
    sheets = ('<sheet name="調査票" sheetId="1" r:id="rId1"/><sheet sheetId="2" r:id="rId2"/>'
              '<sheet name="幽霊" sheetId="3" r:id="rId8"/><sheet name="欠落" sheetId="4" r:id="rId4"/>')
    parts = workbook_parts(sheets)
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>", f'<Relationship Id="rId4" Type="{REL}/worksheet" Target="worksheets/gone.xml"/></Relationships>')
    got = read(parts, want=("調査票", "幽霊", "欠落"))
    assert got.sheets == [("調査票", "visible"), ("", "visible"), ("幽霊", "visible"), ("欠落", "visible")]
    assert set(got.cells) == {"調査票"} and not got.failure


def test_a_sheet_without_a_relationship_id_names_no_part_and_tables_need_no_id():
    parts = workbook_parts('<sheet name="調査票" sheetId="1" r:id="rId1"/><sheet name="無番" sheetId="2"/>')
    rels = parts["xl/_rels/workbook.xml.rels"]
    # the shared strings without an Id, and a worksheet relationship without one either
    rels = rels.replace('<Relationship Id="rId3" Type', '<Relationship Type')
    parts["xl/_rels/workbook.xml.rels"] = rels.replace('Id="rId2" ', "")
    got = read(parts, want=("調査票", "無番"))
    assert got.sheets == [("調査票", "visible"), ("無番", "visible")]
    assert got.cells == {"調査票": {(1, 1): RawCell("施策番号", "s")}}


def test_shared_string_cells_without_a_table_are_errors_not_a_crash():
    parts = workbook_parts()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        f'<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>', "")
    del parts["xl/sharedStrings.xml"]
    assert read(parts).cells["調査票"] == {(1, 1): RawCell("#REF!", "e")}


def package(parts: dict[str, str]) -> R._Package:
    zf = zipfile.ZipFile(io.BytesIO(xlsx(parts)))
    return R._Package(zf, {i.filename: i for i in zf.infolist()})


def test_a_parts_content_type_is_found_by_its_name_in_any_case():
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    types = (f'<Types><Default Extension="xml" ContentType="application/xml"/>'
             f'<Override ContentType="x"/><Override PartName="/xl/other.xml" ContentType="y"/>'
             f'<Override PartName="/XL/Workbook.xml" ContentType="{main}"/><Override PartName="xl/bare.xml"/></Types>')
    p = package({"[content_types].xml": types, "xl/workbook.xml": "<workbook/>"})
    assert p.content_type("xl/workbook.xml") == main  # the table's own name and the part's in another case
    assert p.content_type("xl/bare.xml") == ""  # listed without a type
    assert p.content_type("xl/missing.xml") == ""
    assert p.content_type("/xl/other.xml") == ""  # names are compared without the leading slash on their side only
    assert package({"xl/workbook.xml": "<workbook/>"}).content_type("xl/workbook.xml") == ""  # no table at all


def test_external_or_targetless_relationships_are_no_parts():
    # a relationship that points outside the package never names a part inside it, whatever it says
    parts = workbook_parts('<sheet name="調査票" sheetId="1" r:id="rId1"/><sheet name="別" sheetId="2" r:id="rId2"/>')
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(
        '<Relationship Id="rId1" Type="', '<Relationship Id="rId1" TargetMode="External" Type="').replace(
        "</Relationships>", f'<Relationship Id="rId5" Type="{REL}/styles"/></Relationships>')
    got = read(parts, want=("調査票", "別"))
    assert "調査票" not in got.cells and not got.failure
    assert got.cells["別"] == {(1, 1): RawCell(2.0, "n", False, "")}  # the relationships after it still count
    parts[rels] = parts[rels].replace('TargetMode="External"', 'TargetMode="external"')
    assert "調査票" not in read(parts).cells


def test_part_names_are_found_in_any_case_and_two_that_differ_only_in_case_are_refused():
    p = package({"x/a.xml": "<a/>", "only/Upper.XML": "<c/>"})
    assert (p.find("x/a.xml"), p.find("X/A.xml"), p.find("only/upper.xml"), p.find("no.xml")) == (
        "x/a.xml", "x/a.xml", "only/Upper.XML", None)
    # OPC compares part names without case (ECMA-376 Part 2 §9.1.1.1.2): a package may not hold both
    with pytest.raises(R.Refused) as caught:
        package({"x/a.xml": "<a/>", "X/A.xml": "<b/>"})
    assert caught.value.args == ("corrupt", "大文字・小文字だけが違う同じ名前の要素があります")


def office_document(main: str, content_type: str | None) -> dict:
    parts = {"_rels/.rels": f'<Relationships><Relationship Id="rId1" Type="{REL}/officeDocument" Target="{main}"/>'
                            f'<Relationship Id="rId2" Target="docProps/app.xml"/></Relationships>',
             main: "<doc/>"}
    if content_type:
        parts["[Content_Types].xml"] = f'<Types><Override PartName="/{main}" ContentType="{content_type}"/></Types>'
    return parts


@pytest.mark.parametrize(("main", "content_type", "detail"), [
    ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
     "PowerPoint の資料"),
    ("ppt/presentation.xml", None, "PowerPoint の資料"),  # no content types: told by the folder
    ("doc/main.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
     "PowerPoint の資料"),  # told by the content type wherever it is
    ("word/document.xml", None, "Word の文書"),
])
def test_the_office_document_a_package_names_is_told_apart(main, content_type, detail):
    with pytest.raises(R.Refused) as caught:
        read(office_document(main, content_type))
    assert (caught.value.code, caught.value.detail) == ("not-a-workbook", detail)


BINARY = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"


@pytest.mark.parametrize(("main", "content_type", "code", "detail"), [
    ("xl/workbook.bin", BINARY, "xlsb", ""),  # an .xlsb renamed to .xlsx
    ("xl/book.BIN", None, "xlsb", ""),  # told by the name, wherever the package puts it
    ("xl/workbook.xml", BINARY, "xlsb", ""),  # told by the type
    ("xl/workbook.dat", "application/octet-stream", "not-a-workbook", "Excel ブックではない Office 文書"),
])
def test_a_main_part_that_is_no_xml_workbook(main, content_type, code, detail):
    with pytest.raises(R.Refused) as caught:
        read(office_document(main, content_type))
    assert (caught.value.code, caught.value.detail) == (code, detail)


def test_a_workbook_without_a_content_types_table_is_read():
    parts = workbook_parts()
    del parts["[Content_Types].xml"]
    assert read(parts).cells["調査票"] == {(1, 1): RawCell("施策番号", "s")}


def test_relationship_types_without_a_slash_are_kept_apart():
    parts = workbook_parts()
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(
        "</Relationships>", '<Relationship Id="rId7" Type="thumbnail" Target="docProps/thumb.jpeg"/></Relationships>')
    got = read(parts)
    assert got.custom.get("xlsx_tool_survey") == "s&1" and got.modified == "2022-05-09T01:00:00Z"
