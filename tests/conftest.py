"""Shared fixtures and helpers for the collect tests.

The example survey (examples/ict2025) is built once per test module: copy_example, load,
generate the forms, and fill every department's form with the example answers into a cache
beside the survey folder (not inside 2_回収). Each test then gets a fresh copy of the survey
folder (``survey_env``), so tests never see each other's files.

Every filled form is stamped with a fixed save time (docProps/core.xml dcterms:modified),
because openpyxl writes "now" on every save and collect orders a department's submissions
by that time: tests that need a newer submission stamp it later than ``STAMP``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from xlsx_tool import demo
from xlsx_tool.define import master
from xlsx_tool.define import survey as S
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.generate import generate
from xlsx_tool.forms.layout import ID_SHEET

STAMP = "2022-05-09T01:00:00Z"  # save time of every valid filled form
NEWER = "2022-05-12T01:00:00Z"  # a later save time, for resubmissions
INPUT_SHEET = "調査票"
TARGET = "ICT推進課"  # the department most tests play with (7 measures, rows 6-12)


# --- zip-level helpers --------------------------------------------------------------------

def rewrite_zip(src: Path | bytes, dst: Path, replace: dict[str, bytes | Callable[[bytes], bytes]]
                | None = None, drop: Iterable[str] = ()) -> Path:
    """Copy a zip entry by entry into dst, replacing (bytes or a function of the old bytes)
    or dropping entries; entries named in `replace` but absent are added."""
    replace = dict(replace or {})
    drop = set(drop)
    data = src if isinstance(src, bytes) else Path(src).read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            body = zin.read(info.filename)
            if info.filename in replace:
                new = replace.pop(info.filename)
                body = new(body) if callable(new) else new
            zout.writestr(info.filename, body)
        for name, new in replace.items():
            zout.writestr(name, new(b"") if callable(new) else new)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(out.getvalue())
    return dst


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def set_modified(path: Path, iso: str) -> Path:
    """Set the save time a spreadsheet program writes (docProps/core.xml dcterms:modified)."""
    def patch(core: bytes) -> bytes:
        new, n = _MODIFIED.subn(rb"\g<1>" + iso.encode() + rb"\g<2>", core)
        assert n == 1, core
        return new
    return rewrite_zip(path, path, {"docProps/core.xml": patch})


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime (ns) of every file below folder."""
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                               p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- form layout --------------------------------------------------------------------------

def form_layout(wb) -> tuple[dict[str, str], dict[str, int]]:
    """(field or column key -> column letter, measure number -> row) from the _id sheet."""
    from openpyxl.utils import get_column_letter

    columns, rows = {}, {}
    for kind, key, value in wb[ID_SHEET].iter_rows(min_col=1, max_col=3, values_only=True):
        if kind == "column":
            columns[key] = get_column_letter(int(value))
        elif kind == "measure":
            rows[key] = int(value)
    return columns, rows


def edit_form(src: Path, dst: Path, edit: Callable | None = None, modified: str | None = STAMP) -> Path:
    """Open src with openpyxl, call edit(wb, ws, columns, rows), save as dst, stamp the save time."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    columns, rows = form_layout(wb)
    if edit is not None:
        edit(wb, wb[INPUT_SHEET], columns, rows)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    if modified:
        set_modified(dst, modified)
    return dst


def put_text(cell, value: str) -> None:
    """Type text into a cell as text, even when it starts with '=' (as Excel keeps a
    text-formatted cell or a value typed after an apostrophe)."""
    cell.value = value
    cell.data_type = "s"


# --- the example survey -------------------------------------------------------------------

@dataclass
class Base:
    root: Path  # holds survey/ and filled/
    folder: Path  # the survey folder (2_回収 empty)
    departments: tuple[str, ...]
    form_names: dict[str, str]  # department -> form file name
    filled: dict[str, Path]  # department -> a valid filled form (stamped STAMP), outside the survey
    answers: dict[str, dict[str, str]]  # measure -> field -> example answer (text as in the CSV)
    measures: dict[str, tuple[str, ...]]  # department -> its measure numbers, in form order


def build_base(root: Path) -> Base:
    folder = root / "survey"
    demo.copy_example(folder)
    loaded, problems = master.load(folder)
    assert loaded is not None and not [p for p in problems if p.is_error], problems
    paths = generate(loaded).written
    departments = loaded.master.departments
    names = L.file_names(loaded.survey, departments)
    assert sorted(p.name for p in paths) == sorted(names.values())
    assert all(p.is_file() for p in paths), "generate did not write every form"
    answers = demo.example_answers(folder)
    filled_dir = root / "filled"
    filled = {}
    at = L.respondent_cells(L.columns(loaded))
    for department, name in names.items():
        out = filled_dir / name
        contact = loaded.departments_list.get(department)  # who filled it in, as a department writes it
        demo.fill_form(folder / S.FORMS_DIR / name, out, answers,
                       {"記入者": (at["記入者"][1] + 1, contact.person), "内線": (at["内線"][1] + 1, contact.extension)})
        set_modified(out, STAMP)
        filled[department] = out
    return Base(root, folder, departments, names, filled, answers,
                {d: tuple(m.number for m in loaded.master.of(d)) for d in departments})


@dataclass
class Env:
    """A fresh copy of the example survey for one test."""

    base: Base
    folder: Path
    loaded: object = None
    made: list[Path] = field(default_factory=list)

    def __post_init__(self):
        loaded, _problems = master.load(self.folder)
        self.loaded = loaded

    @property
    def returns(self) -> Path:
        return self.folder / S.RETURNS_DIR

    @property
    def output(self) -> Path:
        return self.folder / S.OUTPUT_DIR

    def form(self, department: str) -> Path:
        """The distributed (empty) form."""
        return self.folder / S.FORMS_DIR / self.base.form_names[department]

    def rel(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def put_valid(self, departments: Iterable[str] | None = None, exclude: Iterable[str] = ()) -> list[Path]:
        """Copy valid filled forms into 2_回収 (all departments by default)."""
        exclude = set(exclude)
        out = []
        for d in departments if departments is not None else self.base.departments:
            if d in exclude:
                continue
            dst = self.returns / self.base.form_names[d]
            shutil.copy2(self.base.filled[d], dst)
            out.append(dst)
        return out

    def edited(self, name: str, edit: Callable | None, department: str = TARGET,
               modified: str | None = STAMP, sub: str = "") -> Path:
        """A department's valid filled form, edited with openpyxl, saved into 2_回収/[sub/]name."""
        dst = self.returns / sub / name if sub else self.returns / name
        return edit_form(self.base.filled[department], dst, edit, modified)

    def collect(self, **kw):
        from xlsx_tool.collect.run import collect

        return collect(self.loaded, **kw)


@pytest.fixture(scope="module")
def example_base(tmp_path_factory) -> Base:
    return build_base(tmp_path_factory.mktemp("example"))


@pytest.fixture
def survey_env(example_base: Base, tmp_path: Path) -> Env:
    folder = tmp_path / "survey"
    shutil.copytree(example_base.folder, folder)
    assert not any((folder / S.RETURNS_DIR).iterdir())
    return Env(example_base, folder)


@pytest.fixture
def in_tokyo(monkeypatch):
    """This computer's local time is Japan's, as the section's PC is (and LibreOffice started by the
    test inherits it)."""
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only: the local zone cannot be set for this test on Windows")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def touch_back(path: Path, seconds: float) -> None:
    """Move a file's mtime `seconds` into the past (negative: into the future)."""
    st = path.stat()
    os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))


# --- under mutation testing (mutmut sets MUTANT_UNDER_TEST) ------------------------------
#
# mutmut learns which tests cover a function by recording the calls made in its own process,
# and a mutant is tested only by the tests that covered its function. The reader and the
# validation run in spawned workers, so without this every mutant there would be "no tests".
# Under mutmut the pool therefore reads in this process, exactly as a worker would (the same
# task, the same failure mapping: sandbox.run_one); test_two_workers_give_exactly_what_a_serial_run_gives pins
# that the two give the same result. Tests marked real_pool (the confinement itself: crashes,
# timeouts, memory) keep the real workers, and mutmut leaves them out (pyproject.toml): their
# outcome depends on timing, and the pool is not among the mutated modules.

UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ
if UNDER_MUTMUT:  # a mutant that disables a size check must not take the machine down
    from xlsx_tool.intake.sandbox import _limit_memory

    _limit_memory(6 * 1024 ** 3)


def _run_in_this_process(self, paths, task=None):
    from xlsx_tool.intake.sandbox import run_one

    if task is not None:
        self.task = task
    for path in paths:
        yield Path(path), run_one(self.task, Path(path))


@pytest.fixture(autouse=True)
def _pool_in_process_under_mutmut(request, monkeypatch):
    if UNDER_MUTMUT and request.node.get_closest_marker("real_pool") is None:
        from xlsx_tool.intake.sandbox import Pool

        monkeypatch.setattr(Pool, "run", _run_in_this_process)
    yield


COSTS = Path(__file__).resolve().parents[1] / "test-costs.json"  # beside mutmut's own stats


def pytest_collection_modifyitems(config, items):
    """Under mutmut, run a mutant's tests cheapest first: mutmut stops at the first failure but
    runs them in no particular order. The cost of a test is its whole time in mutmut's stats run,
    fixtures included (mutmut records the test body only), and a module's tests stay together
    so their module-scoped fixtures are built once."""
    if not UNDER_MUTMUT:
        return
    import json

    try:
        costs = json.loads(COSTS.read_text("utf-8"))
    except (OSError, ValueError):
        return

    def cost(item):
        return costs.get(item.nodeid, float("inf"))

    module_cost: dict[str, float] = {}
    for item in items:
        module_cost[item.module.__name__] = module_cost.get(item.module.__name__, 0.0) + cost(item)
    items.sort(key=lambda item: (module_cost[item.module.__name__], item.module.__name__, cost(item)))


_spent: dict[str, float] = {}


def _in_stats_run() -> bool:
    return UNDER_MUTMUT and os.environ.get("MUTANT_UNDER_TEST") == "stats"


def pytest_runtest_logreport(report):
    if _in_stats_run():
        _spent[report.nodeid] = _spent.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    """mutmut's stats run (all tests, or the new ones) records what each test costs."""
    if not _spent:
        return
    import json

    try:
        costs = json.loads(COSTS.read_text("utf-8"))
    except (OSError, ValueError):
        costs = {}
    costs.update(_spent)
    COSTS.write_text(json.dumps(costs), encoding="utf-8")


# mutmut links a function to the tests during which it ran, and a module- or session-scoped
# fixture runs during the first test that uses it only. A mutant in a function that such a
# fixture calls (tally() building the 2020 tally, say) was then tested by that first test
# alone, not by the later tests that check what the fixture built. In the stats run, the
# functions a shared fixture calls are therefore linked to every test that uses the fixture.

_fixture_calls: dict[tuple[str, str], set[str]] = {}


# Likewise a survey loaded by a shared fixture keeps what one test derived from it (the form's
# columns in `Loaded.cache`, the cached properties) for the next test, which then never runs
# the function that derived it: mutmut tested a mutant of the column widths with the first
# test only, and the design-table test that fails on it was never run for it. Every test
# therefore starts with a shared survey's derived values forgotten, under mutmut or not.

def _forget_derived(value: object) -> None:
    from xlsx_tool.define.master import Loaded

    for each in value if isinstance(value, tuple | list) else (value, getattr(value, "loaded", None)):
        if isinstance(each, Loaded):
            each.cache.clear()
            for name, attr in vars(Loaded).items():
                if isinstance(attr, functools.cached_property):
                    each.__dict__.pop(name, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if not _in_stats_run() or fixturedef.scope == "function":
        yield
        return
    from mutmut.state import state

    outer, state()._stats = state()._stats, set()
    try:
        yield
    finally:
        inner = state()._stats
        _fixture_calls.setdefault((fixturedef.baseid, fixturedef.argname), set()).update(inner)
        state()._stats = outer | inner


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield
    for value in item.funcargs.values():
        _forget_derived(value)
    if not _in_stats_run() or not _fixture_calls:
        return
    from mutmut.state import state

    for name in item.fixturenames:
        for fixturedef in item._fixtureinfo.name2fixturedefs.get(name, ()):
            state()._stats.update(_fixture_calls.get((fixturedef.baseid, fixturedef.argname), ()))


@pytest.fixture(autouse=True, scope="session")
def _reader_caches_start_empty_under_mutmut():
    """mutmut forks each mutant's run from a process that has read workbooks already; the reader's
    per-element pattern cache would then hand the mutant patterns built before it existed."""
    if UNDER_MUTMUT:
        from xlsx_tool.intake import reader

        reader._ELEMENT_CACHE.clear()
    yield
