"""collect on every kind of file a department (or a mail client, or an attacker) can return.

One table: each case writes its file(s) into 2_回収/ next to the valid returned forms of the
other eight departments, runs collect, and checks the outcome for that file: the problem
code (or skip code), where it points (sheet/cell/measure/field), the status of the
department the file belongs to (ICT推進課), and that the other departments are unaffected.
Every input file's bytes and mtime must be unchanged afterwards.

Then: the CLI's --json output over all the table's files at once, the correction copies in
3_集計/修正依頼/ (and a fixed resubmission), and the status workbook 回収状況.xlsx.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import (
    INPUT_SHEET,
    NEWER,
    STAMP,
    TARGET,
    Env,
    form_layout,
    put_text,
    rewrite_zip,
    set_modified,
    snapshot,
    touch_back,
)

from tests.support import memory
from xlsx_tool import problems as P
from xlsx_tool.cli import cli
from xlsx_tool.collect.corrections import CORRECTION_PREFIX, CORRECTIONS_DIR
from xlsx_tool.collect.validate import check_submission
from xlsx_tool.demo import typed as _typed
from xlsx_tool.intake.reader import read_workbook

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MB = 1024 * 1024


# --- expected answers ---------------------------------------------------------------------

def expected_answers(env: Env, department: str = TARGET) -> dict[str, dict[str, object]]:
    """What a valid filled form of `department` must read as: the example answers, typed."""
    fields = {f.name: f for f in env.loaded.survey.fields}
    out = {}
    for number in env.base.measures[department]:
        row = {}
        for name, text in env.base.answers[number].items():
            if name not in fields or text in ("", None):
                continue
            value = _typed(text)
            row[name] = value if fields[name].type == "number" else str(value)
        out[number] = row
    return out


def chosen(result, department: str = TARGET):
    status = next(d for d in result.departments if d.department == department)
    return next(s for s in result.submissions if s.file == status.file)


# --- the zip bomb (session-cached: it takes a couple of seconds to deflate) ----------------

BOMB_SHEET_BYTES = 1100 * MB


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory) -> Path:
    """A 5 MB .xlsx whose sheet1.xml inflates to 1.1 GB of spaces, written in chunks."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxml'
                   'formats.org/officeDocument/2006/relationships"><sheets><sheet name="調査票" '
                   'sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns='
                   '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                   'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        chunk = b" " * (16 * MB)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            written = 0
            while written < BOMB_SHEET_BYTES:
                fh.write(chunk)
                written += len(chunk)
    return path


# --- case builders ------------------------------------------------------------------------

def _write(env: Env, name: str, data: bytes) -> list[Path]:
    path = env.returns / name
    path.write_bytes(data)
    return [path]


def make_empty(env):
    return _write(env, "empty.xlsx", b"")


def make_text(env):
    return _write(env, "text.xlsx", "施策番号,評価\n1,達成\n".encode())


def make_truncated(env):
    data = env.base.filled[TARGET].read_bytes()
    return _write(env, "truncated.xlsx", data[: len(data) // 2])


def make_encrypted(env):
    body = OLE_MAGIC + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(64) \
        + "EncryptedPackage".encode("utf-16-le") + bytes(2048)
    return _write(env, "encrypted.xlsx", body)


def make_legacy(env):
    body = OLE_MAGIC + bytes(504) + "Root Entry".encode("utf-16-le") + bytes(64) \
        + "Workbook".encode("utf-16-le") + bytes(2048)
    return _write(env, "legacy.xls", body)


LAUGHS = ("<!DOCTYPE lolz [\n <!ENTITY lol0 \"lol\">\n"
          + "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
          + "]>")
INPUT_PART = "xl/worksheets/sheet2.xml"  # 記入要領, 調査票, _id: the input sheet is the second


def with_doctype(xml: bytes, doctype: str, encoding: str = "UTF-8",
                 edit: Callable[[str], str] = lambda body: body) -> bytes:
    """A part re-encoded with an XML declaration and a DOCTYPE before its root element."""
    body = re.sub(r"^<\?xml[^>]*\?>\s*", "", xml.decode("utf-8"))
    text = f'<?xml version="1.0" encoding="{encoding}" standalone="yes"?>\n{doctype}\n{edit(body)}'
    return text.encode(encoding.lower())


def _laughs_sheet(xml: bytes, encoding: str) -> bytes:
    """The input sheet with a billion-laughs DOCTYPE and &lol9; in a text cell of its own at the
    end of the first row (built here, whether the writer used shared or inline strings)."""
    assert b"</row>" in xml
    bomb = '<c r="XFD1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return with_doctype(xml, LAUGHS, encoding, lambda body: body.replace("</row>", bomb, 1))


def make_laughs(env):
    return [rewrite_zip(env.base.filled[TARGET], env.returns / "laughs.xlsx",
                        {INPUT_PART: lambda xml: _laughs_sheet(xml, "UTF-8")})]


def make_laughs_utf16(env):
    return [rewrite_zip(env.base.filled[TARGET], env.returns / "laughs16.xlsx",
                        {INPUT_PART: lambda xml: _laughs_sheet(xml, "UTF-16")})]


def make_xxe(env):
    def patch(xml: bytes) -> bytes:
        return with_doctype(xml, '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', edit=lambda b:
                            b.replace("</workbook>", '<definedNames><definedName name="x">&e;'
                                                     "</definedName></definedNames></workbook>"))
    return [rewrite_zip(env.base.filled[TARGET], env.returns / "xxe.xlsx",
                        {"xl/workbook.xml": patch})]


def make_bomb(env, bomb: Path):
    dst = env.returns / "bomb.xlsx"
    shutil.copyfile(bomb, dst)
    return [dst]


def make_foreign(env):
    import xlsxwriter

    path = env.returns / "foreign.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(INPUT_SHEET)
    ws.write_row(0, 0, ["施策番号", "評価", "実績値"])
    ws.write_row(1, 0, ["1", "達成", 12])
    wb.close()
    return [path]


def make_lock(env):
    valid = env.put_valid([TARGET])[0]
    lock = env.returns / ("~$" + valid.name)
    lock.write_bytes((b"\x05tanaka" + b" " * 60).ljust(165, b"\x00"))
    assert lock.stat().st_size == 165
    return [lock, valid]


def cell_edit(field_name: str, measure: str, value, as_text: bool = False,
              data_type: str | None = None) -> Callable:
    def edit(wb, ws, columns, rows):
        cell = ws[f"{columns[field_name]}{rows[measure]}"]
        if as_text:
            put_text(cell, value)
        else:
            cell.value = value
            if data_type:
                cell.data_type = data_type
    return edit


def make_edit(name: str, *edits: Callable, **kw) -> Callable[[Env], list[Path]]:
    def make(env):
        def edit(wb, ws, columns, rows):
            for e in edits:
                e(wb, ws, columns, rows)
        return [env.edited(name, edit, **kw)]
    return make


def reverse_rows(wb, ws, columns, rows):
    first, last = min(rows.values()), max(rows.values())
    width = len(columns)
    grid = [[(ws.cell(r, c).value, ws.cell(r, c).data_type) for c in range(1, width + 1)]
            for r in range(first, last + 1)]
    for i, r in enumerate(range(last, first - 1, -1)):
        for c, (value, kind) in enumerate(grid[i], 1):
            cell = ws.cell(r, c)
            cell.value = value
            cell.data_type = kind


def id_edit(kind: str, value: str) -> Callable:
    def edit(wb, ws, columns, rows):
        for row in wb["_id"].iter_rows(min_col=1, max_col=2):
            if row[0].value == kind:
                row[1].value = value
                return
        raise AssertionError(kind)
    return edit


def make_superseded(env):
    # The older save (by dcterms:modified) gets the newer file-system time and the name that
    # sorts last, so only the save time inside the files can pick the right one.
    older = env.edited("zz_ICT推進課_old.xlsx", cell_edit("評価", "1", "達成"), modified=STAMP)
    newer = env.edited("aa_ICT推進課_new.xlsx", cell_edit("評価", "1", "未達成"), modified=NEWER)
    touch_back(newer, 3600)
    return [older, newer]


def make_documents(env):
    pdf = env.returns / "説明資料.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    txt = env.returns / "メモ.txt"
    txt.write_text("提出します。よろしくお願いします。", encoding="utf-8")
    return [pdf, txt, *env.put_valid([TARGET])]


def make_subfolder(env):
    sub = env.returns / "ICT推進課から"
    sub.mkdir()
    dst = sub / env.base.form_names[TARGET]
    shutil.copy2(env.base.filled[TARGET], dst)
    return [dst]


# --- extra checks for some cases ---------------------------------------------------------

BOMB_PROBE = """
import json, sys, time
from pathlib import Path
from xlsx_tool.define import master
from xlsx_tool.collect.run import collect

if __name__ == "__main__":
    loaded, _ = master.load(Path(sys.argv[1]))
    start = time.monotonic()
    result = collect(loaded, write_outputs=False)
    elapsed = time.monotonic() - start
    print(json.dumps({"elapsed": elapsed, "peak_mb": peak_rss_mb(),
                      "codes": sorted((p.file, p.code) for p in result.problems)}))
"""


def check_bomb(env, result, elapsed, made):
    # Refused from its declared sizes, never inflated: the parent stays small (times are for
    # benchmarks/, not for assertions). Peak RSS of the collecting (parent) process, measured in a process of its own: this
    # test process's ru_maxrss is a lifetime peak that earlier tests may have raised.
    probe = env.folder.parent / "bomb_probe.py"
    probe.write_text(inspect.getsource(memory) + BOMB_PROBE, encoding="utf-8")
    run = subprocess.run([sys.executable, str(probe), str(env.folder)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    data = json.loads(run.stdout)
    assert [env.rel(made[0]), "too-large"] in data["codes"]
    assert data["peak_mb"] < 500, f"parent peak RSS {data['peak_mb']:.0f} MB"
    own = memory.peak_rss_mb()
    assert own < 500, f"test process peak RSS {own:.0f} MB"


def check_normalized(env, result, elapsed, made):
    sub = chosen(result)
    assert sub.answers["1"]["評価"] == "達成+"
    assert sub.answers["8"]["評価"] == "達成"
    got = {(p.cell, p.severity) for p in result.problems if p.code == "normalized"}
    assert got == {("E6", P.NOTICE), ("E7", P.NOTICE)}


def check_fullwidth(env, result, elapsed, made):
    sub = chosen(result)
    assert sub.answers["1"]["評価"] == "達成+"
    p = next(p for p in result.problems if p.code == "normalized")
    assert p.severity == P.NOTICE and "達成＋" in p.message and "達成+" in p.message


def check_formula_text(env, result, elapsed, made):
    assert chosen(result).answers["1"]["取組実績"] == '=HYPERLINK("http://x","y")'


def check_all_answers(env, result, elapsed, made):
    sub = chosen(result)
    assert sub.file == env.rel(made[0])
    assert sub.answers == expected_answers(env)


def check_superseded(env, result, elapsed, made):
    older, newer = (env.rel(p) for p in made)
    status = next(d for d in result.departments if d.department == TARGET)
    assert status.file == newer
    assert chosen(result).answers["1"]["評価"] == "未達成"
    p = next(p for p in result.problems if p.code == "superseded")
    assert p.file == older and p.severity == P.NOTICE and p.department == TARGET
    assert newer in p.message


def check_subfolder(env, result, elapsed, made):
    status = next(d for d in result.departments if d.department == TARGET)
    assert status.file == f"2_回収/ICT推進課から/{env.base.form_names[TARGET]}"
    assert chosen(result).answers == expected_answers(env)


def check_fixed(env, result, elapsed, made):
    status = next(d for d in result.departments if d.department == TARGET)
    assert status.warnings == 1 and status.errors == 0
    # the master's value counts, not the edited one
    assert chosen(result).answers == expected_answers(env)


# --- the table ----------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    make: Callable
    status: str | None  # expected status of ICT推進課 (None: any)
    codes: dict[int, set[str] | None] = field(default_factory=dict)  # file index -> codes (None: any)
    skips: dict[int, str] = field(default_factory=dict)  # made file index -> skip code
    where: dict = field(default_factory=dict)  # code + sheet/cell/measure/field of one problem
    check: Callable | None = None
    marks: tuple = ()


MISSING, NEEDS_FIX, SUBMITTED = "missing", "needs_fix", "submitted"


def at(code, cell=None, measure=None, field=None, sheet=INPUT_SHEET):
    return {"code": code, "sheet": sheet, "cell": cell, "measure": measure, "field": field}


CASES = [
    Case("empty-file", make_empty, MISSING, {0: {"empty-file"}}),
    Case("text-renamed-xlsx", make_text, MISSING, {0: {"not-a-workbook"}}),
    Case("truncated-zip", make_truncated, MISSING, {0: {"corrupt"}}),
    Case("encrypted", make_encrypted, MISSING, {0: {"encrypted"}}),
    Case("legacy-xls", make_legacy, MISSING, {0: {"legacy-xls"}}),
    Case("zip-bomb-1.1GB", "bomb", MISSING, {0: {"too-large"}}, check=check_bomb),
    Case("billion-laughs", make_laughs, MISSING, {0: {"hostile-xml"}}),
    Case("billion-laughs-utf16", make_laughs_utf16, MISSING, {0: {"hostile-xml"}}),
    Case("external-entity", make_xxe, MISSING, {0: {"hostile-xml"}}),
    Case("foreign-workbook", make_foreign, MISSING, {0: {"not-a-form"}}),
    Case("lock-file", make_lock, SUBMITTED, {}, skips={0: "lock-file"}),
    Case("invalid-rating", make_edit("bad_rating.xlsx", cell_edit("評価", "1", "良い")), NEEDS_FIX,
         {0: {"unknown-choice"}}, where=at("unknown-choice", "E6", "1", "評価")),
    Case("fullwidth-rating", make_edit("fullwidth.xlsx", cell_edit("評価", "1", "達成＋")), SUBMITTED,
         {0: {"normalized"}}, where=at("normalized", "E6", "1", "評価"), check=check_fullwidth),
    Case("width-and-space-variants", make_edit(
        "variants.xlsx", cell_edit("評価", "1", "達成＋"), cell_edit("評価", "8", " 達成　")),
        SUBMITTED, {0: {"normalized"}}, where=at("normalized", "E6", "1", "評価"),
        check=check_normalized),
    Case("approximate-number", make_edit("approx.xlsx", cell_edit("実績値", "1", "約50")), NEEDS_FIX,
         {0: {"not-a-number"}}, where=at("not-a-number", "F6", "1", "実績値")),
    Case("number-overflow", make_edit("overflow.xlsx", cell_edit("実績値", "1", "1e999")), NEEDS_FIX,
         {0: {"not-a-number"}}, where=at("not-a-number", "F6", "1", "実績値")),
    Case("formula-like-text", make_edit("formula_text.xlsx", cell_edit(
        "取組実績", "1", '=HYPERLINK("http://x","y")', as_text=True)), SUBMITTED, {0: set()},
        check=check_formula_text),
    Case("formula-without-value", make_edit("formula.xlsx", cell_edit("実績値", "1", "=1+1")),
         NEEDS_FIX, {0: {"formula-no-value"}}, where=at("formula-no-value", "F6", "1", "実績値")),
    Case("error-value", make_edit("error.xlsx", cell_edit("実績値", "1", "#N/A", data_type="e")),
         NEEDS_FIX, {0: {"error-value"}}, where=at("error-value", "F6", "1", "実績値")),
    Case("rows-reversed", make_edit("reversed.xlsx", reverse_rows), SUBMITTED, {0: set()},
         check=check_all_answers),
    Case("other-department-measure", make_edit("other_measure.xlsx", cell_edit(
        "施策番号", "1", "2", as_text=True)), NEEDS_FIX,
        # the row still shows measure 1's name: a number typed over, not another department's row
        {0: {"row-number-changed"}},
        where=at("row-number-changed", "A6", "1")),
    Case("other-survey", make_edit("other_survey.xlsx", id_edit("survey", "another-survey-r3")),
         MISSING, {0: {"other-survey"}}),
    Case("other-year", make_edit("other_year.xlsx", id_edit("fiscal_year", "2020")), MISSING,
         {0: {"other-year"}}),
    Case("garbled-identification", make_edit("garbled_id.xlsx", id_edit("header_row", "五")),
         SUBMITTED, {0: set()}, check=check_all_answers),
    Case("fixed-cell-changed", make_edit("fixed.xlsx", cell_edit(
        "施策名", "1", "Web会議の推進（改）", as_text=True)), SUBMITTED, {0: {"fixed-changed"}},
        where=at("fixed-changed", "C6", "1", "施策名"), check=check_fixed),
    Case("newer-submission-wins", make_superseded, SUBMITTED, {0: {"superseded"}, 1: set()},
         check=check_superseded),
    Case("documents", make_documents, SUBMITTED, {2: set()},
         skips={0: "not-spreadsheet", 1: "not-spreadsheet"}),
    Case("subfolder", make_subfolder, SUBMITTED, {0: set()}, check=check_subfolder),
]

# cases whose collect is known to crash: left out of the all-at-once CLI run
CRASHES: set[str] = set()


def run_make(case: Case, env: Env, bomb: Path) -> list[Path]:
    return make_bomb(env, bomb) if case.make == "bomb" else case.make(env)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_collect_input(case: Case, survey_env: Env, zip_bomb: Path):
    env = survey_env
    env.put_valid(exclude={TARGET})
    made = run_make(case, env, zip_bomb)
    rels = [env.rel(p) for p in made]
    before = snapshot(env.returns)

    start = time.monotonic()
    result = env.collect()
    elapsed = time.monotonic() - start

    assert snapshot(env.returns) == before, "collect changed a returned file"
    status = {d.department: d for d in result.departments}
    assert set(status) == set(env.base.departments)
    for d in env.base.departments:
        if d != TARGET:
            assert status[d].status == SUBMITTED, (d, [p.text() for p in result.problems])
    if case.status is not None:
        assert status[TARGET].status == case.status, [p.text() for p in result.problems]

    # every problem comes from one of this case's files, and only where expected
    by_file: dict[str, list] = {}
    for p in result.problems:
        assert p.message and p.code in P.MESSAGES and p.severity == P.MESSAGES[p.code][0], p
        by_file.setdefault(p.file, []).append(p)
    assert set(by_file) <= {rels[i] for i in case.codes}, [p.text() for p in result.problems]
    for i, codes in case.codes.items():
        if codes is None:
            continue
        assert {p.code for p in by_file.get(rels[i], [])} == codes, \
            [p.text() for p in by_file.get(rels[i], [])]
    skipped = {(k["file"], k["code"]) for k in result.skipped}
    assert skipped == {(rels[i], code) for i, code in case.skips.items()}
    for k in result.skipped:
        assert k["reason"] == P.MESSAGES[k["code"]][1]

    if case.where:
        where = dict(case.where)
        code = where.pop("code")
        p = next(p for p in by_file[rels[0]] if p.code == code)
        for attr, value in where.items():
            if value is not None:
                assert getattr(p, attr) == value, (attr, p)
    # a problem of an identified file names the department; an unreadable one cannot
    for i in case.codes:
        for p in by_file.get(rels[i], []):
            assert p.department in {TARGET, ""}, p
            if case.status is not None:
                assert p.department == (TARGET if case.status != MISSING else ""), p
    if case.check:
        case.check(env, result, elapsed, made)


# --- the CLI over the whole table at once -------------------------------------------------

def test_cli_json_over_all_cases(survey_env: Env, zip_bomb: Path, capfd):
    env = survey_env
    env.put_valid()
    made = []
    for case in CASES:
        if case.id not in CRASHES:
            made += run_make(case, env, zip_bomb)
    before = snapshot(env.returns)
    assert len(before) >= len(CASES)

    runner = CliRunner()
    res = runner.invoke(cli, ["collect", str(env.folder), "--json"], catch_exceptions=False)
    plain = runner.invoke(cli, ["collect", str(env.folder)], catch_exceptions=False)
    workers = capfd.readouterr()  # what worker processes wrote to the real stdout/stderr

    assert snapshot(env.returns) == before
    for text in (res.stdout, res.stderr, plain.stdout, plain.stderr, workers.out, workers.err):
        assert "Traceback" not in text
    data = json.loads(res.stdout)
    assert {"departments", "problems", "skipped"} <= set(data)
    assert len(data["departments"]) == len(env.base.departments)
    # exit 0 only when every department submitted and every file in 2_回収 was read (DESIGN §5b)
    unread = [p for p in data["problems"] if p["department"] is None and p["severity"] == "error"]
    complete = all(d["status"] == SUBMITTED for d in data["departments"]) and not unread
    assert unread, "the table has unreadable files: this run must not say 0"
    assert res.exit_code == plain.exit_code == (0 if complete else 1)
    files = {env.rel(p) for p in made} | {f"2_回収/{n}" for n in env.base.form_names.values()}
    for p in data["problems"]:
        assert "file" in p and p["file"] in files, p
        assert p["code"] in P.MESSAGES and p["message"]
    # every unreadable case file appears in the JSON with its code
    listed = {(p["file"], p["code"]) for p in data["problems"]}
    for code, name in [("empty-file", "empty.xlsx"), ("too-large", "bomb.xlsx"),
                       ("hostile-xml", "xxe.xlsx"), ("not-a-form", "foreign.xlsx"),
                       ("legacy-xls", "legacy.xls"), ("encrypted", "encrypted.xlsx")]:
        assert (f"2_回収/{name}", code) in listed
    skipped = {(k["file"], k["code"]) for k in data["skipped"]}
    assert ("2_回収/説明資料.pdf", "not-spreadsheet") in skipped
    assert any(code == "lock-file" for _f, code in skipped)
    # the human-readable run names the problem files too
    assert "2_回収/empty.xlsx" in plain.stdout and "[読み飛ばし]" in plain.stdout


# --- correction copies and the status workbook --------------------------------------------

FIXER = "総務課"  # measures 3, 6, 7 on rows 6, 7, 8


@pytest.fixture
def needs_fix_env(survey_env: Env):
    """総務課 returns a form with three errors and a notice; 人事課 returns nothing."""
    env = survey_env
    env.put_valid(exclude={FIXER, "人事課"})

    def edit(wb, ws, columns, rows):
        ws[f"{columns['評価']}{rows['3']}"] = "良い"  # unknown-choice
        put_text(ws[f"{columns['実績値']}{rows['6']}"], "約50")  # not-a-number
        ws[f"{columns['取組実績']}{rows['7']}"] = None  # required
        put_text(ws[f"{columns['実績値']}{rows['7']}"], "１２")  # normalized (notice)
    bad = env.edited("総務課_回答.xlsx", edit, department=FIXER)
    return env, bad


def test_correction_copy_marks_problem_cells_and_fix_resubmits(needs_fix_env):
    env, bad = needs_fix_env
    result = env.collect()
    status = {d.department: d.status for d in result.departments}
    assert status[FIXER] == NEEDS_FIX and status["人事課"] == MISSING

    mine = [p for p in result.problems if p.department == FIXER]
    marked = {p.cell for p in mine if p.severity in (P.ERROR, P.WARNING)}
    assert marked == {"E6", "F7", "G8"}
    assert {p.code for p in mine} == {"unknown-choice", "not-a-number", "required", "normalized"}

    copy = env.output / CORRECTIONS_DIR / (CORRECTION_PREFIX + env.base.form_names[FIXER])
    assert copy in result.outputs and copy.exists()
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]  # only the department with problems
    wb = openpyxl.load_workbook(copy)
    ws = wb[INPUT_SHEET]
    # each marked cell has a rule that keeps it red while the value is still wrong
    rules = {str(rng): [r.formula[0] for r in cf.rules] for rng, cf in
             ((cf.sqref, cf) for cf in ws.conditional_formatting) if any(r.type == "expression" for r in cf.rules)}
    assert rules == {"E6": ['E6="良い"'], "F7": ["NOT(ISNUMBER(F7))"], "G8": ["LEN(G8)=0"]}
    # the reasons are printed in the last column, on the marked cell's row
    columns, rows = form_layout(wb)
    reason_col = max(columns.values(), key=lambda c: openpyxl.utils.column_index_from_string(c))
    reason_col = openpyxl.utils.get_column_letter(openpyxl.utils.column_index_from_string(reason_col) + 1)
    assert ws[f"{reason_col}5"].value == "修正内容"
    assert "選択肢にありません" in ws[f"{reason_col}6"].value
    assert "数値ではありません" in ws[f"{reason_col}7"].value
    assert "未入力" in ws[f"{reason_col}8"].value
    assert f"${reason_col}$" in ws.print_area
    # the request with the resubmission deadline is on the page, not only in a comment
    request = ws["A4"].value
    assert "3 件の修正箇所" in request and "令和4年5月20日（金）までに" in request
    # the department's answers as typed (validated values where they were readable)
    want = expected_answers(env, FIXER)
    want["3"]["評価"] = "良い"
    want["6"]["実績値"] = "約50"
    del want["7"]["取組実績"]
    want["7"]["実績値"] = 12
    for number, row in rows.items():
        for name in ("評価", "実績値", "取組実績", "課題・今後の取組"):
            assert ws[f"{columns[name]}{row}"].value == want[number].get(name), (number, name)

    # the department fixes the marked cells in the copy and sends it back as a newer file
    ws["E6"] = "達成"
    ws["F7"] = 50
    ws["G8"] = "会議録作成支援システムの利用を全庁に広げた。"
    fixed = env.returns / "総務課_再提出.xlsx"
    wb.save(fixed)
    set_modified(fixed, NEWER)

    again = env.collect()
    status = {d.department: d for d in again.departments}
    assert status[FIXER].status == SUBMITTED and status[FIXER].file == env.rel(fixed)
    assert [p.code for p in again.problems if p.department == FIXER] == ["superseded"]
    answers = chosen(again, FIXER).answers
    assert answers["3"]["評価"] == "達成" and answers["6"]["実績値"] == 50
    assert answers["7"]["実績値"] == 12
    assert not copy.exists()  # a fixed department keeps no stale correction copy


@pytest.mark.calamine
def test_status_workbook_lists_departments_and_problem_cells(needs_fix_env):
    from python_calamine import CalamineWorkbook

    env, bad = needs_fix_env
    result = env.collect()
    path = env.output / "回収状況.xlsx"
    assert path in result.outputs
    book = CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name("回収状況").to_python()
    assert "回収状況" in rows[0][0] and rows[1][0].startswith("作成日時")
    assert "提出済 7 課、要修正 1 課、未提出 1 課" in rows[2][0]
    head = rows[3]
    assert head[:2] == ["状況", "所管課"]
    body = [r for r in rows[4:] if r and r[1] in env.base.departments]
    # one row each, ordered by what needs action: 要修正, then 未提出, then 提出済; within each, in
    # the order of the 所管課一覧 (not character-code order: 中央図書館, 人事課, 会計管理室…)
    assert [r[0] for r in body] == ["要修正", "未提出"] + ["提出済"] * 7
    assert [r[1] for r in body] == [FIXER, "人事課", "ICT推進課", "経営改革推進課", "戸籍住民課", "税務課",
                                    "教育総務課", "政策企画課", "広聴広報課"]
    fixer = body[0]
    # who to call, then the address on a line of its own (its column is as wide as the longest)
    assert fixer[head.index("担当者・メール")] == "高橋 健（内線 2110）\nsomu@example.lg.jp"
    what = fixer[head.index("修正が必要な点・連絡事項")]
    assert "選択肢にない値 1件" in what and "修正依頼の調査票（3_集計/修正依頼）を送って" in what
    assert "提出を依頼" in body[1][head.index("修正が必要な点・連絡事項")]
    assert fixer[head.index("提出ファイル（2_回収）")] == bad.name  # inside 2_回収: no folder to repeat
    # received time: an Excel date in local time, not UTC text
    import datetime as dt
    received = fixer[head.index("受付日時")]
    assert isinstance(received, dt.datetime)
    assert received == dt.datetime(2022, 5, 9, 1, 0, tzinfo=dt.UTC).astimezone().replace(tzinfo=None)
    assert all(not re.search(r"[a-z]{4,}", str(cell)) for r in rows for cell in r[:2])

    listed = book.get_sheet_by_name("問題一覧").to_python()
    head = listed[3]
    cols = {name: head.index(name) for name in ("ファイル（2_回収）", "所管課", "セル", "施策番号", "項目", "内容", "重大度")}
    cols["ファイル"] = cols["ファイル（2_回収）"]
    got = {(r[cols["ファイル"]], r[cols["所管課"]], r[cols["セル"]], str(r[cols["施策番号"]]),
            r[cols["項目"]], r[cols["重大度"]]) for r in listed[4:] if r}
    rel = bad.name
    assert {(rel, FIXER, "E6", "3", "評価", "エラー"),
            (rel, FIXER, "F7", "6", "実績値", "エラー"),
            (rel, FIXER, "G8", "7", "取組実績", "エラー"),
            (rel, FIXER, "F8", "7", "実績値", "お知らせ")} <= got
    assert len(listed) - 4 == len(result.problems)
    assert not any(re.fullmatch(r"[a-z-]+", str(c)) for r in listed for c in r)  # no English codes


# --- a returned form with a stray value at the sheet's last row ---------------------------

def test_stray_cell_at_last_row_changes_nothing(survey_env: Env):
    """A note typed far below the table (Z1048576) is neither an answer nor a problem: the file
    reads exactly as the clean one. (How long it takes is for benchmarks/, not a test.)"""
    env = survey_env
    path = env.edited("stray.xlsx", lambda wb, ws, c, r: ws.__setitem__("Z1048576", "メモ"))
    raw = read_workbook(path, (INPUT_SHEET,))
    assert not raw.failure
    sub = check_submission(env.loaded, raw, env.rel(path))
    clean = check_submission(env.loaded, read_workbook(env.base.filled[TARGET], (INPUT_SHEET,)), "clean.xlsx")
    assert sub.identified and sub.department == TARGET
    assert sub.answers == clean.answers and sub.answers
    assert [p.code for p in sub.problems] == [p.code for p in clean.problems]


# --- parallel and serial runs agree ------------------------------------------------------

class InProcess:
    """A serial run: every file read by the task itself, in this process, in the order given."""

    def run(self, paths, task):
        for path in paths:
            yield path, task.run(path)


def test_two_workers_give_exactly_what_a_serial_run_gives(example_base, tmp_path):
    """The pool only changes where and in what order files are read: the decisions, the JSON,
    the status workbook and the ledger of a 2-worker run equal those of a serial run."""
    import openpyxl

    from xlsx_tool.define import survey as S
    from xlsx_tool.ledger import open_ledger

    shutil.copytree(example_base.folder, tmp_path / "a" / "survey")
    first = Env(example_base, tmp_path / "a" / "survey")
    make_text(first)
    make_truncated(first)
    make_encrypted(first)
    make_superseded(first)
    first.put_valid(exclude=[TARGET, "経営改革推進課"])
    first.edited("経営改革推進課_修正.xlsx", cell_edit("評価", "5", "たぶん達成"),
                 department="経営改革推進課")
    shutil.copytree(first.folder, tmp_path / "b" / "survey")
    second = Env(example_base, tmp_path / "b" / "survey")

    started = dt.datetime.now().replace(microsecond=0) - dt.timedelta(seconds=1)
    parallel = first.collect(workers=2)
    serial = second.collect(pool=InProcess())

    def relative(env, data):
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        return json.loads(text.replace(json.dumps(str(env.folder))[1:-1], "<survey>"))  # "\\" on Windows

    got, want = relative(first, parallel.as_json()), relative(second, serial.as_json())
    assert {d["status"] for d in want["departments"]} >= {"submitted", "needs_fix"}
    assert {p["code"] for p in want["problems"]} >= {"corrupt", "encrypted", "superseded", "unknown-choice"}
    assert got == want

    def cells(env):
        """Every cell, the times of the run itself (created, first received) masked."""
        def mask(value):
            if isinstance(value, dt.datetime) and value >= started:
                return "<this run>"
            if isinstance(value, str) and value.startswith("作成日時"):
                return "<created>"
            return value
        wb = openpyxl.load_workbook(env.output / env.loaded.survey.status_file)
        return {ws.title: [tuple(map(mask, row)) for row in ws.iter_rows(values_only=True)] for ws in wb}

    def ledger(env):
        with open_ledger(env.folder / S.LEDGER_FILE) as db:
            now = db.current_answers(env.loaded)
            return now.answers, now.status, now.invalid, db.on_record()

    assert cells(first) == cells(second)
    assert ledger(first) == ledger(second)
