"""Pre-flight verdicts (intake/preflight.py) on bytes and zip packages built here: what a
file is, and the caps that apply before any XML is parsed."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest

from xlsx_tool.intake import preflight as F
from xlsx_tool.intake.preflight import Refused


def ole(*streams: str, body: bytes = b"") -> bytes:
    """An OLE container's magic followed by directory names (UTF-16) and a body."""
    return F.OLE_MAGIC + b"\x00" * 24 + b"".join(s.encode("utf-16-le") + b"\x00\x00" for s in streams) + body


BOF = b"\x09\x08\x10\x00" + b"\x00" * 16  # BIFF8 BOF record: type, size 16, 16 bytes of body


@pytest.mark.parametrize(("data", "kind"), [
    (b"", "empty"),
    (b"PK\x03\x04rest", "zip"),
    (b"PK\x05\x06" + b"\x00" * 18, "zip"),
    (ole("EncryptedPackage"), "encrypted"),
    (ole("EncryptionInfo"), "encrypted"),
    (ole("Workbook", body=BOF + b"\x2f\x00\x02\x00ab"), "encrypted"),  # FILEPASS right after BOF
    (ole("Workbook", body=BOF + b"\x86\x00\x00\x00" + b"\x2f\x00\x00\x00"), "encrypted"),  # after WRITEPROT
    (ole("Workbook", body=BOF + b"\x86\x00\x02\x00ab" + b"\x2f\x00\x00\x00"), "encrypted"),  # sizes little-endian
    (ole("Workbook", body=BOF + b"\x86\x00\x02\x01" + b"\x2f\x00\x00\x00"), "xls"),  # 258 bytes skipped
    (ole("WORKBOOK", body=BOF + b"\x42\x00\x02\x00ab"), "xls"),
    (ole("Book"), "xls"),
    (ole("book"), "xls"),
    (ole("WordDocument"), "ole"),
    (b"\x09\x00\x04\x00", "xls"),  # BIFF2
    (b"\x09\x02rest", "xls"),
    (b"\x09\x04rest", "xls"),
    (b"\x09\x08rest", "other"),
    (b"%PDF-1.4", "other"),
])
def test_sniff(data, kind):
    assert F.sniff(data) == kind


def test_filepass_must_come_among_the_first_records():
    far = BOF + b"".join(b"\x42\x00\x00\x00" for _ in range(4)) + b"\x2f\x00\x00\x00"
    assert F.sniff(ole("Workbook", body=far)) == "xls"
    second_bof = BOF + b"\x42\x00\x00\x00" * 5 + BOF + b"\x2f\x00\x00\x00"
    assert F.sniff(ole("Workbook", body=second_bof)) == "encrypted"
    # the usual encrypted workbook: FILEPASS in the globals, then a BOF for each sheet
    with_sheets = BOF + b"\x2f\x00\x00\x00" + b"\x42\x00\x00\x00" * 5 + BOF + BOF
    assert F.sniff(ole("Workbook", body=with_sheets)) == "encrypted"


@pytest.mark.parametrize(("kind", "data", "code", "detail"), [
    ("empty", b"", "empty-file", ""),
    ("encrypted", b"", "encrypted", ""),
    ("xls", b"", "legacy-xls", ""),
    ("ole", b"", "not-a-workbook", "Word・PowerPoint など Office の旧形式の文書"),
    ("other", b"  <!DOCTYPE html><html>", "not-a-workbook", "Web ページ（HTML）"),
    ("other", b"<HTML><body>", "not-a-workbook", "Web ページ（HTML）"),
    ("other", b"<meta charset=utf-8><html>", "not-a-workbook", "Web ページ（HTML）"),
    ("other", b"<?xml version='1.0'?><Workbook>", "not-a-workbook", "XML ファイル"),
    ("other", b"<Workbook>", "not-a-workbook", "XML ファイル"),
    ("other", b"%PDF-1.7", "not-a-workbook", "PDF"),
    ("other", "施策番号,評価\n1,達成\n".encode("cp932"), "not-a-workbook", "テキストファイル（CSV など）"),
    ("other", "施策番号,評価\n1,達成\n".encode(), "not-a-workbook", "テキストファイル（CSV など）"),
    ("other", ("あ" * 1365 + "い").encode("utf-8")[:4097], "not-a-workbook", "テキストファイル（CSV など）"),
    ("other", b"<!DOCTYPE html>\n<!--" + b" " * 300 + b"--><html>", "not-a-workbook", "Web ページ（HTML）"),
    ("other", b"\r\n  <?xml version='1.0'?><Workbook>", "not-a-workbook", "XML ファイル"),
    ("other", b"x" * 252 + b"<html>", "not-a-workbook", "テキストファイル（CSV など）"),  # past the first 256 bytes
    ("other", ("ウ" * 1400).encode("utf-8")[:4096], "not-a-workbook", "テキストファイル（CSV など）"),  # cut mid-character
    ("other", b"a" * 4096 + b"\x00", "not-a-workbook", "テキストファイル（CSV など）"),  # the first 4 KB decide
    ("other", ("イ" * 1400).encode("utf-8")[:4096], "not-a-workbook", "テキストファイル（CSV など）"),
    ("other", ("施策" * 700).encode("utf-8")[:4095], "not-a-workbook", "テキストファイル（CSV など）"),
    ("other", ("施策番号,評価\n" * 500).encode("cp932")[:4095], "not-a-workbook", "テキストファイル（CSV など）"),
    ("other", b"abc" + b"\x81\x20" * 100, "not-a-workbook", "形式が分からないファイル"),
    ("other", b"a" * 10 + b"\x81\x20bc", "not-a-workbook", "形式が分からないファイル"),  # not a cut character
    ("other", b"\x89PNG\r\n\x1a\n\x00\x00", "not-a-workbook", "形式が分からないファイル"),
    ("other", b"\x7fELF\x02\x01\x01\x00", "not-a-workbook", "形式が分からないファイル"),
])
def test_refuse_non_zip(kind, data, code, detail):
    with pytest.raises(Refused) as caught:
        F.refuse_non_zip(kind, data)
    assert (caught.value.code, caught.value.detail) == (code, detail)


def package(entries: list[tuple[str, bytes]], method=zipfile.ZIP_DEFLATED) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, body in entries:
            zf.writestr(name, body)
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def test_entries_are_returned_by_their_slash_name():
    zf = package([("xl\\workbook.xml", b"<w/>"), ("[Content_Types].xml", b"<t/>")])
    assert sorted(F.check_entries(zf)) == ["[Content_Types].xml", "xl/workbook.xml"]


def test_an_empty_zip_is_named_as_such():
    with pytest.raises(Refused) as caught:
        F.check_entries(package([]))
    assert (caught.value.code, caught.value.detail) == ("zip-archive", "空の ZIP ファイル")


def test_duplicate_names_are_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", b"<a/>")
        zf.writestr("xl\\workbook.xml", b"<b/>")
    with pytest.raises(Refused) as caught:
        F.check_entries(zipfile.ZipFile(io.BytesIO(buf.getvalue())))
    assert caught.value.code == "corrupt"


def test_entry_count_cap(monkeypatch):
    monkeypatch.setattr(F, "MAX_ENTRIES", 3)
    F.check_entries(package([(f"p{i}", b"") for i in range(3)]))
    with pytest.raises(Refused) as caught:
        F.check_entries(package([(f"p{i}", b"") for i in range(4)]))
    assert caught.value.code == "too-large"
    assert caught.value.detail == "ファイルの中の要素が 4 個あります（上限 3 個）"


def test_size_caps_count_declared_sizes(monkeypatch):
    monkeypatch.setattr(F, "MAX_ENTRY_BYTES", 2 * F.MB)
    monkeypatch.setattr(F, "MAX_TOTAL_BYTES", 3 * F.MB)
    F.check_entries(package([("a", b"x" * (2 * F.MB))]))
    with pytest.raises(Refused) as caught:
        F.check_entries(package([("a", b"x" * (2 * F.MB + 1))]))
    assert caught.value.detail == "中の 1 つの要素が展開すると 2 MB になります（上限 2 MB）"
    F.check_entries(package([("a", b"x" * (2 * F.MB)), ("b", b"x" * F.MB)]))
    with pytest.raises(Refused) as caught:
        F.check_entries(package([("a", b"x" * (2 * F.MB)), ("b", b"x" * (F.MB + 1))]))
    assert (caught.value.code, caught.value.detail) == ("too-large", "展開すると合計 3 MB を超えます（上限 3 MB）")


@pytest.mark.parametrize("second", ["xl/workbook.xml", "xl\\workbook.xml"])
def test_two_entries_of_one_name_are_corrupt(second):
    """zipfile would silently read the last of them: the file is refused, not guessed at."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it writes
        zf = package([("xl/workbook.xml", b"<a/>"), (second, b"<b/>")])
    with pytest.raises(Refused) as caught:
        F.check_entries(zf)
    assert (caught.value.code, caught.value.detail) == ("corrupt", "同じ名前の要素が重複しています")


def info(size: int, compressed: int) -> zipfile.ZipInfo:
    i = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
    i.file_size, i.compress_size = size, compressed
    return i


def test_the_ratio_cap_applies_to_large_parts_only():
    F.check_ratio(info(F.RATIO_MIN_BYTES, 1))  # small enough, whatever the ratio
    F.check_ratio(info(F.RATIO_MIN_BYTES + 1, (F.RATIO_MIN_BYTES + 1) // F.MAX_RATIO + 1))
    with pytest.raises(Refused) as caught:
        F.check_ratio(info(8 * F.MB, 8 * F.MB // 2000))
    assert (caught.value.code, caught.value.detail) == ("too-large", "展開すると元の 2000 倍に膨らむ不自然な圧縮がされています")
    F.check_ratio(info(F.MAX_RATIO * 5000, 5000))  # exactly at the cap: allowed
    with pytest.raises(Refused) as caught:
        F.check_ratio(info(F.MAX_RATIO * 5000 + 1, 5000))
    assert caught.value.detail == "展開すると元の 1000 倍に膨らむ不自然な圧縮がされています"
    for compressed in (0, 1):  # a size of 0 or 1 byte counts as 1
        with pytest.raises(Refused) as caught:
            F.check_ratio(info(8 * F.MB, compressed))
        assert caught.value.detail == f"展開すると元の {8 * F.MB} 倍に膨らむ不自然な圧縮がされています"


@pytest.mark.parametrize(("data", "hostile"), [
    (b"<?xml version='1.0'?><worksheet/>", False),
    (b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>", True),
    (b"<x><!entity a 'b'></x>", True),
    ("<!DOCTYPE x>".encode("utf-16-le"), True),
    (b"<x>&lt;!DOCTYPE</x>", False),
    (b"<!-- DOCTYPE --><x/>", False),
    # UTF-16 shows a NUL in its first two characters; a NUL further on is no reason to look again
    (b"<x/>\x00<!DOC\x00TYPE x>", False),
    (b"<\x00!DOC\x00TYPE x>", True),
])
def test_scan_xml(data, hostile):
    if hostile:
        with pytest.raises(Refused) as caught:
            F.scan_xml(data)
        assert caught.value.code == "hostile-xml"
    else:
        F.scan_xml(data)


@pytest.mark.parametrize(("mime", "code"), [
    (b"application/vnd.oasis.opendocument.spreadsheet", "ods"),
    (b"application/vnd.oasis.opendocument.spreadsheet-template\n", "ods"),
    (b"application/vnd.oasis.opendocument.text", "not-a-workbook"),
    (b"application/zip", None),
])
def test_odf_verdict(mime, code):
    zf = package([("mimetype", mime), ("content.xml", b"<x/>")], zipfile.ZIP_STORED)
    if code is None:
        F.odf_verdict(zf, F.check_entries(zf))
        return
    with pytest.raises(Refused) as caught:
        F.odf_verdict(zf, F.check_entries(zf))
    assert caught.value.code == code
    if code == "not-a-workbook":
        assert caught.value.detail == "OpenDocument の文書（表計算以外）"


def test_odf_verdict_ignores_a_missing_or_oversized_mimetype():
    zf = package([("content.xml", b"<x/>")])
    F.odf_verdict(zf, F.check_entries(zf))
    zf = package([("mimetype", F.ODS_MIME.ljust(201))])
    F.odf_verdict(zf, F.check_entries(zf))
    zf = package([("mimetype", F.ODS_MIME.ljust(200))])  # 200 bytes are still read
    with pytest.raises(Refused):
        F.odf_verdict(zf, F.check_entries(zf))


def test_refused_without_a_detail():
    assert Refused("ods").detail == ""
    assert Refused("too-large", "x").detail == "x"
