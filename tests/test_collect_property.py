"""Property tests for reading and validating returned forms (no worker processes: fast).

1. Random edits to the input sheet of a valid filled form (any value type, deleted or
   swapped rows): validation never raises, every measure either gets all its required
   answers or a problem naming it, and every problem has a known code and a Japanese message.
2. Random byte corruption of a valid form, of the file or of one XML part: read_workbook
   never raises and yields either a failure code or readable cells.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import INPUT_SHEET, STAMP, Env, form_layout, put_text, set_modified
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsx_tool import problems as P
from xlsx_tool.collect.validate import check_submission
from xlsx_tool.intake.reader import RawCell, read_workbook

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# --- values a department might put in a cell ----------------------------------------------

_chars = st.characters(blacklist_categories=("Cs", "Cc", "Cn"))
TYPICAL = ["達成+", "達成", "未達成", "達成＋", " 達成　", "達 成", "良い", "終了", "約50", "１２",
           "1,234", "12.5", "-3", "=1+1", '=HYPERLINK("http://x","y")', "=A1&B1", "#N/A",
           "#REF!", "", "   ", "\u3000", "ＡＢＣ", "①", "Ⅰ", "<b>x</b>", "&amp;",
           # measure numbers: of this or another department, as text, number, full width
           "1", "2", "8", "No.8", "８", "99", 2, 8.0, 20]
values = st.one_of(
    st.sampled_from(TYPICAL),
    st.text(_chars, max_size=40),
    st.text(st.sampled_from("あいうえお漢字施策実績ＡＢＣ０１２ 　,.＝="), min_size=380, max_size=460),
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 12, 31)),
)

# an edit: ("set", row offset, column, value, as text), ("delete", row offset), ("swap", a, b)
edits = st.lists(st.one_of(
    st.tuples(st.just("set"), st.integers(0, 7), st.integers(1, 10), values, st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 7)),
    st.tuples(st.just("swap"), st.integers(0, 7), st.integers(0, 7)),
), min_size=1, max_size=8)


def _apply(ws, first: int, count: int, ops) -> None:
    for op in ops:
        if op[0] == "set":
            _, off, col, value, as_text = op
            cell = ws.cell(first + off % count, col)
            if isinstance(value, str) and as_text:
                put_text(cell, value)  # typed as text: kept as text even if it starts with '='
            else:
                cell.value = value  # '=…' becomes a formula (no cached value), '#N/A' an error
        elif op[0] == "delete":
            ws.delete_rows(first + op[1] % count)
        else:
            a, b = first + op[1] % count, first + op[2] % count
            for col in range(1, 11):
                ca, cb = ws.cell(a, col), ws.cell(b, col)
                (va, ta), (vb, tb) = (ca.value, ca.data_type), (cb.value, cb.data_type)
                ca.value, cb.value = vb, va
                ca.data_type, cb.data_type = tb, ta


@SETTINGS
@given(department_index=st.integers(0, 8), ops=edits)
def test_random_edits_never_crash_and_every_measure_is_accounted_for(
        survey_env: Env, tmp_path_factory, department_index: int, ops):
    env = survey_env
    department = env.base.departments[department_index]
    wb = openpyxl.load_workbook(env.base.filled[department])
    columns, rows = form_layout(wb)
    _apply(wb[INPUT_SHEET], min(rows.values()), len(rows), ops)
    fresh = tmp_path_factory.mktemp("returns")  # a fresh 2_回収 for this example
    path = fresh / "edited.xlsx"
    wb.save(path)
    set_modified(path, STAMP)

    raw = read_workbook(path, (INPUT_SHEET,))
    assert not raw.failure, (raw.failure, raw.detail)
    sub = check_submission(env.loaded, raw, "2_回収/edited.xlsx")

    assert sub.identified and sub.department == department
    for p in sub.problems:
        assert p.code in P.MESSAGES, p
        assert p.severity == P.MESSAGES[p.code][0]
        assert p.message.strip() and JAPANESE.search(p.message), p
    survey = env.loaded.survey
    required = [f.name for f in survey.fields if f.required]
    named = {p.measure for p in sub.problems if p.measure}
    for m in env.loaded.master.of(department):
        answered = all(name in sub.answers.get(m.number, {}) for name in required)
        assert answered or m.number in named, (m.number, sub.answers.get(m.number), sub.problems)
    # what lands in the answers is well-typed
    scale = survey.rating_scale
    fields = {f.name: f for f in survey.fields}
    for number, answer in sub.answers.items():
        for name, value in answer.items():
            f = fields[name]
            if f.type == "choice":
                assert value in scale.selectable
            elif f.type == "number":
                assert isinstance(value, int | float) and not isinstance(value, bool)
                assert math.isfinite(value)
            else:
                assert isinstance(value, str) and value.strip()
                if f.max_length and len(value) > f.max_length:
                    assert any(p.code == "too-long" and p.measure == number and p.field == name
                               for p in sub.problems)


# --- raw bytes ----------------------------------------------------------------------------

mutations = st.lists(st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
), min_size=1, max_size=6)


def _mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for op in ops:
        if not buf:
            break
        pos = int(op[1] * len(buf))
        if op[0] == "flip":
            buf[min(pos, len(buf) - 1)] ^= 1 << op[2]
        elif op[0] == "truncate":
            del buf[pos:]
        else:
            buf[pos:pos] = op[2]
    return bytes(buf)


def _mutate_part(data: bytes, name: str, ops) -> bytes:
    """Corrupt one part's XML, then store the package again (CRCs valid: the parser sees it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            body = zin.read(info.filename)
            z.writestr(info.filename, _mutate(body, ops) if info.filename == name else body)
    return out.getvalue()


PARTS = ["xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml", "docProps/core.xml",
         "docProps/custom.xml", "[Content_Types].xml"]


@SETTINGS
@given(where=st.sampled_from(["file", *PARTS]), ops=mutations)
def test_corrupted_bytes_never_crash_the_reader(survey_env: Env, tmp_path_factory, where, ops):
    env = survey_env
    original = env.base.filled["ICT推進課"].read_bytes()
    if where != "file":
        assert where in zipfile.ZipFile(io.BytesIO(original)).namelist()
    data = _mutate(original, ops) if where == "file" else _mutate_part(original, where, ops)
    path = tmp_path_factory.mktemp("corrupt") / "corrupt.xlsx"
    path.write_bytes(data)
    raw = read_workbook(path, (INPUT_SHEET,))
    if raw.failure:
        assert raw.failure in P.MESSAGES, raw.failure
        assert P.MESSAGES[raw.failure][0] == P.ERROR
    else:
        assert raw.sheets, "read without failure but found no sheets"
        for sheet, cells in raw.cells.items():
            assert isinstance(sheet, str)
            for (row, col), cell in cells.items():
                assert 1 <= row <= 1_048_576 and 1 <= col <= 16_384, (row, col)
                assert isinstance(cell, RawCell) and cell.kind in {"n", "s", "b", "e", "d"}
                assert cell.value is None or isinstance(cell.value, str | float | bool)
        # a readable file must also pass through validation without raising
        check_submission(env.loaded, raw, "2_回収/corrupt.xlsx")


# --- header fields zipfile refuses (NotImplementedError / RuntimeError) ------------------

def _central_directory_entries(data: bytes):
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        yield pos
        pos = data.find(b"PK\x01\x02", pos + 4)


def _patch_every_entry(data: bytes, offset: int, value: bytes) -> bytes:
    buf = bytearray(data)
    for pos in _central_directory_entries(data):
        buf[pos + offset:pos + offset + len(value)] = value
    return bytes(buf)


@pytest.mark.parametrize("offset, value, what", [
    (10, (99).to_bytes(2, "little"), "compression method 99"),
    (8, (0x0001).to_bytes(2, "little"), "encryption flag"),
    (8, (0x0020).to_bytes(2, "little"), "compressed patched data flag"),
], ids=["method", "encrypted-flag", "patched-flag"])
def test_read_workbook_odd_zip_headers(survey_env: Env, tmp_path: Path, offset, value, what):
    data = _patch_every_entry(survey_env.base.filled["ICT推進課"].read_bytes(), offset, value)
    path = tmp_path / "odd.xlsx"
    path.write_bytes(data)
    raw = read_workbook(path, (INPUT_SHEET,))  # zipfile raises NotImplementedError / RuntimeError inside
    assert raw.failure == "corrupt", what


def test_corrupt_deflate_stream_is_a_failure_code(survey_env: Env, tmp_path: Path):
    """A control for the property: damage inside a compressed part is 'corrupt'."""
    data = survey_env.base.filled["ICT推進課"].read_bytes()
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = zf.getinfo("xl/worksheets/sheet2.xml")
    n, m = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + n + m
    buf = bytearray(data)
    for i in range(start + 10, start + 60):
        buf[i] ^= 0xFF
    path = tmp_path / "bad.xlsx"
    path.write_bytes(bytes(buf))
    raw = read_workbook(path, (INPUT_SHEET,))
    assert raw.failure == "corrupt", raw.detail
