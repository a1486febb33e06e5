"""The reader of untrusted workbooks: faithful to what Excel stored, precise when it refuses.

Fixtures are built part by part (tests/support/ooxml.py), so each case shows its XML. A
differential test holds the reader against python-calamine, an independent reader.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.ooxml import Package, Sheet, inline, n, row, s
from xlsx_tool.intake import preflight as F
from xlsx_tool.intake.reader import FIRST_SHEET, decode_escapes, format_class, read_workbook

SHARED = [
    "<t>平文</t>",
    "<r><t>前半</t></r><r><rPr><b/></rPr><t>後半</t></r>",  # rich text: runs joined
    '<t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh>',  # furigana is not cell text
    '<t xml:space="preserve">行1_x000D_\n行2</t>',  # Excel writes a CR as _x000D_
    "<t>_x005F_x0041_</t>",  # a typed "_x0041_"
    "<t>&amp;&lt;&gt;&#x3042;</t>",
    '<t xml:space="preserve">  空白 </t>',
]
ROWS = (row(1, *[s(f"{chr(65 + i)}1", i) for i in range(len(SHARED))])
        + row(2, n("A2", "12"), n("B2", "1.5E3"), '<c r="C2" t="b"><v>1</v></c>',
              '<c r="D2" t="e"><v>#N/A</v></c>', '<c r="E2" t="str"><f>A1</f><v>平文</v></c>',
              n("F2", "45000", 1), inline("G2", "<t>インライン_x000D_</t>"), '<c r="H2"><f>1+1</f></c>',
              n("I2", "0.75", 2)))
EXPECTED = {
    (1, 1): "平文", (1, 2): "前半後半", (1, 3): "漢字", (1, 4): "行1\r\n行2", (1, 5): "_x0041_",
    (1, 6): "&<>あ", (1, 7): "  空白 ", (2, 1): 12.0, (2, 2): 1500.0, (2, 3): True, (2, 4): "#N/A",
    (2, 5): "平文", (2, 6): 45000.0, (2, 7): "インライン\r", (2, 9): 0.75,
}


def package(**kw) -> Package:
    return Package([Sheet("調査票", ROWS)], SHARED, xfs=[0, 14, 9], **kw)


def write(tmp_path: Path, data: bytes, name: str = "f.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cells(path: Path, sheet: str = "調査票"):
    raw = read_workbook(path, (sheet,))
    assert not raw.failure, (raw.failure, raw.detail)
    return raw.cells[sheet]


@pytest.mark.parametrize("variant", [
    pytest.param({}, id="excel-names"),
    pytest.param({"workbook_name": "xl/book.xml", "strings_name": "xl/strs.xml", "styles_name": "xl/st.xml",
                  "sheet_dir": "xl/ws"}, id="parts-under-other-names"),
    pytest.param({"workbook_name": "content/workbook.xml", "strings_name": "shared/strings.xml",
                  "styles_name": "content/styles.xml", "sheet_dir": "sheets"}, id="parts-outside-xl"),
    pytest.param({"strict": True}, id="strict-ooxml"),
    pytest.param({"prefix": "x:"}, id="prefixed-elements"),
])
def test_reader_finds_parts_by_relationship_and_reads_every_cell(tmp_path, variant):
    got = cells(write(tmp_path, package(**variant).build()))
    assert {k: c.value for k, c in got.items() if k in EXPECTED} == EXPECTED
    assert got[(2, 4)].kind == "e"  # an error value stays an error, not text
    assert got[(2, 5)].formula and got[(2, 8)].formula and got[(2, 8)].value is None
    assert got[(2, 6)].style == "date" and got[(2, 9)].style == "percent" and got[(2, 1)].style == ""


@pytest.mark.calamine
def test_differential_against_python_calamine(tmp_path):
    """Values agree with an independent reader wherever both can say (calamine turns error
    values into empty cells and gives no formula flag, so those are compared on our side only)."""
    from python_calamine import CalamineWorkbook

    path = write(tmp_path, package().build())
    ours = cells(path)
    theirs = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("調査票").to_python()
    for (r, c), cell in ours.items():
        other = theirs[r - 1][c - 1]
        if cell.kind == "e" or cell.value is None:
            assert other == "", (r, c, other)
        elif cell.style == "date":
            assert other == dt.date(1899, 12, 30) + dt.timedelta(days=cell.value)
        else:
            assert cell.value == other, (r, c, cell, other)


def test_escapes_count_as_the_characters_they_stand_for():
    # A 398-character answer with line breaks: Excel stores each CR as _x000D_.
    text = ("あ" * 97 + "\r\n") * 4
    escaped = text.replace("\r", "_x000D_")
    assert len(text) == 396 and decode_escapes(escaped) == text
    assert decode_escapes("_x005F_x0041_") == "_x0041_"
    assert decode_escapes("_xD83D__xDE00_") == "😀"  # an escaped surrogate pair is one character
    assert decode_escapes("_xD83D_") == "\ufffd"  # a lone surrogate cannot be text


@pytest.mark.parametrize(("code", "expected"), [
    ("0%", "percent"), ("0.0%", "percent"), ('0"%"', ""), ("yyyy/m/d", "date"), ("m/d", "date"),
    ("[$-411]ggge\"年\"m\"月\"d\"日\"", "date"), ("h:mm", "date"), ("#,##0.###", ""), ("0.00E+00", ""),
    ("General", ""), ('#,##0"施策"', ""), ("[Red]#,##0", ""), ("[h]:mm", "date"), ("@", ""),
])
def test_number_format_classes(code, expected):
    assert format_class(code) == expected


# --- verdicts ---------------------------------------------------------------------------------

def zip_of(entries: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in entries.items():
            z.writestr(name, body)
    return out.getvalue()


ODS = zip_of({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"})
ODT = zip_of({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})
DOCX = zip_of({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>",
               "_rels/.rels": '<Relationships><Relationship Id="r" Type="http://schemas.openxmlformats.org/'
                              'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                              "</Relationships>"})
ZIPPED_FORM = zip_of({"調査票.xlsx": b"PK\x03\x04..."})
EMPTY_ZIP = b"PK\x05\x06" + bytes(18)


@pytest.mark.parametrize(("data", "code", "detail"), [
    pytest.param(ODS, "ods", "", id="ods"),
    pytest.param(ODT, "not-a-workbook", "OpenDocument", id="odt"),
    pytest.param(DOCX, "not-a-workbook", "Word", id="docx"),
    pytest.param(ZIPPED_FORM, "zip-archive", "Excel ファイルを圧縮した", id="zipped-form"),
    pytest.param(EMPTY_ZIP, "zip-archive", "空の ZIP", id="empty-zip"),
    pytest.param("施策番号,評価\n1,達成\n".encode("cp932"), "not-a-workbook", "テキスト", id="csv-in-cp932"),
    pytest.param(b"%PDF-1.4\n", "not-a-workbook", "PDF", id="pdf"),
    pytest.param(b"<html><body>x</body></html>", "not-a-workbook", "HTML", id="html"),
    pytest.param(b"", "empty-file", "", id="empty"),
])
def test_precise_verdicts(tmp_path, data, code, detail):
    raw = read_workbook(write(tmp_path, data), ("調査票",))
    assert raw.failure == code and detail in raw.detail, (raw.failure, raw.detail)


def test_a_file_we_may_not_read_is_not_called_corrupt(tmp_path, monkeypatch):
    path = write(tmp_path, package().build())

    def denied(self):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(Path, "read_bytes", denied)
    assert read_workbook(path, ("調査票",)).failure == "no-permission"


def test_entity_bomb_is_hostile_not_too_large(tmp_path):
    """A billion-laughs part that also compresses past the ratio cap is named for what it is."""
    doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    body = doctype + "<sst>" + "&a;" * (5 * 1024 * 1024) + "</sst>"
    data = package().build()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, body if info.filename == "xl/sharedStrings.xml" else zin.read(info))
    info = zipfile.ZipFile(out).getinfo("xl/sharedStrings.xml")
    assert info.file_size > F.MAX_RATIO * info.compress_size  # it would also fail the ratio cap
    raw = read_workbook(write(tmp_path, out.getvalue()), ("調査票",))
    assert raw.failure == "hostile-xml"


def test_a_form_with_a_pasted_bitmap_is_not_refused(tmp_path):
    """A pasted screenshot (an uncompressed bitmap) compresses ~1000:1; it is never inflated."""
    width, height = 1920, 1080
    bmp = b"BM" + bytes(52) + b"\xff" * (width * height * 3)  # a white screen, 6 MB
    data = package().build()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("xl/media/image1.bmp", bmp)
    info = zipfile.ZipFile(out).getinfo("xl/media/image1.bmp")
    ratio = info.file_size / info.compress_size
    assert ratio > 500, ratio  # measured: such a picture alone would fail any 100:1 cap
    assert cells(write(tmp_path, out.getvalue()))[(1, 1)].value == "平文"


def test_a_highly_compressible_part_is_not_refused_for_its_ratio(tmp_path):
    """A long pasted text repeats itself: its part compresses far past POI's 100:1, and that
    alone says nothing about danger once the absolute caps bound what is inflated."""
    pasted = "<t>" + "実績報告の表をそのまま貼り付けた。" * 60000 + "</t>"
    data = Package([Sheet("調査票", row(1, s("A1", 0), s("B1", 1)))], ["<t>平文</t>", pasted]).build()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/sharedStrings.xml")
    assert info.file_size > 100 * 1024 and info.file_size / info.compress_size > 121
    got = cells(write(tmp_path, data))
    assert len(got[(1, 2)].value) == 17 * 60000


def test_cells_beyond_excels_grid_are_ignored(tmp_path):
    data = Package([Sheet("調査票", row(1, s("A1", 0)) + '<row r="9999999"><c r="A9999999"><v>1</v></c></row>')],
                   SHARED).build()
    assert set(cells(write(tmp_path, data))) == {(1, 1)}


def test_first_sheet_in_workbook_order_for_the_master(tmp_path):
    data = Package([Sheet("隠し", row(1, s("A1", 1)), "hidden"), Sheet("一覧", row(1, s("A1", 0)))], SHARED).build()
    raw = read_workbook(write(tmp_path, data), (FIRST_SHEET,))
    assert raw.first_sheet() == "一覧" and raw.cells["一覧"][(1, 1)].value == "平文"


def test_utf16_and_declared_encodings(tmp_path):
    data = package().build()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/sharedStrings.xml":
                body = body.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
            zout.writestr(info.filename, body)
    assert cells(write(tmp_path, out.getvalue()))[(1, 3)].value == "漢字"


# --- verdicts found by the public-corpus sweep ---------------------------------------------------

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BOF8 = b"\x09\x08\x10\x00" + bytes(16)


@pytest.mark.parametrize(("data", "code"), [
    pytest.param(OLE + bytes(500) + "WORKBOOK".encode("utf-16-le") + bytes(100) + BOF8 + b"\x0a\x00\x00\x00",
                 "legacy-xls", id="upper-case-stream-name"),
    pytest.param(b"\x09\x04\x06\x00\x00\x00\x10\x00" + bytes(64), "legacy-xls", id="biff4-without-ole"),
    pytest.param(OLE + bytes(500) + "Workbook".encode("utf-16-le") + bytes(100) + BOF8 + b"\x2f\x00\x36\x00",
                 "encrypted", id="xls-password-to-open"),
    pytest.param(OLE + bytes(500) + "Workbook".encode("utf-16-le") + bytes(100) + BOF8
                 + b"\x86\x00\x00\x00" + b"\x2f\x00\x36\x00", "encrypted", id="xls-password-after-writeprot"),
])
def test_legacy_and_encrypted_xls(tmp_path, data, code):
    assert read_workbook(write(tmp_path, data, "f.xls"), ("調査票",)).failure == code


def test_backslash_part_names_are_read(tmp_path):
    data = package().build()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename.replace("/", "\\") if info.filename.startswith("xl/") else info.filename,
                          zin.read(info))
    assert cells(write(tmp_path, out.getvalue()))[(1, 1)].value == "平文"


def test_an_xlsb_is_named_before_any_size_limit(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.bin", b"x")
        z.writestr("xl/worksheets/sheet1.bin", b"\x00" * (F.MAX_ENTRY_BYTES + 1))
    assert read_workbook(write(tmp_path, out.getvalue(), "f.xlsb"), ("調査票",)).failure == "xlsb"


def test_too_large_names_the_limit_that_applied(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * (F.MAX_ENTRY_BYTES + 1))
    raw = read_workbook(write(tmp_path, out.getvalue()), ("調査票",))
    assert raw.failure == "too-large" and "中の 1 つの要素" in raw.detail and "上限 64 MB" in raw.detail


@pytest.mark.skipif(sys.platform == "win32", reason="byte file names are POSIX: Windows names are Unicode")
def test_a_shift_jis_file_name_is_shown_readably():
    import os

    from xlsx_tool.collect.run import display

    raw = "総務課_提出.xlsx".encode("cp932")
    assert display(os.fsdecode(raw)) == "総務課_提出.xlsx"
    assert display(os.fsdecode(b"\xff\xfe\xfd.xlsx")) == "\ufffd\ufffd\ufffd.xlsx"
