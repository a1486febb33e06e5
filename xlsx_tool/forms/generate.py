"""generate: every asked department's form into 1_配布/, and a record of what went out.

Forms already distributed are never overwritten silently: a department whose form would
change (the master or the definition changed since) makes generate refuse, unless
`force`, in which case the old form is kept in 1_配布/旧版/ and the department is named as
one that must get the new form. The ledger keeps every version, so collect can read a
returned old form against the measures it really had.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing as mp
import os
import pickle
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.errors import ToolError
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.writer import form_bytes
from xlsx_tool.ledger import open_ledger
from xlsx_tool.problems import sentence
from xlsx_tool.xlsxout import atomic_write, ensure_folder, write_failure

OLD_DIR = "旧版"
PARALLEL_FROM = 24  # below this, starting worker processes costs more than it saves
WRITERS = 2  # threads of the main process writing and syncing the forms the workers build


class FormsChanged(ToolError):
    """Forms already distributed would change; generate needs --force."""

    def __init__(self, departments: list[str]):
        shown = "、".join(departments[:10]) + (f" ほか {len(departments) - 10} 課" if len(departments) > 10 else "")
        super().__init__(sentence("forms-changed", count=len(departments), departments=shown,
                                  kept=f"{S.FORMS_DIR}/{OLD_DIR}"))
        self.departments = departments


@dataclass
class GenerateResult:
    folder: Path
    written: list[Path] = field(default_factory=list)
    new: list[str] = field(default_factory=list)  # departments getting their first form
    changed: list[str] = field(default_factory=list)  # departments that must get the new form
    unchanged: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)  # forms of departments no longer asked
    kept: list[Path] = field(default_factory=list)  # old versions moved to 旧版/

    @property
    def paths(self) -> list[Path]:
        return self.written


_worker_loaded: Loaded | None = None

Job = tuple[str, Path, str, dict]  # department, path, form version, answers to start from


def _init_worker(blob: bytes) -> None:
    global _worker_loaded
    _worker_loaded = pickle.loads(blob)


def _form(loaded: Loaded, job: Job) -> tuple[bytes, str]:
    department, _path, version, answers = job
    data = form_bytes(loaded, department, answers or None, version=version)
    return data, hashlib.sha256(data).hexdigest()


def _build_form(job: Job) -> tuple[bytes, str]:
    assert _worker_loaded is not None
    return _form(_worker_loaded, job)


def generate(loaded: Loaded, force: bool = False, progress: Callable[[str], None] | None = None,
             workers: int | None = None, out_dir: Path | None = None, prefill: bool | None = None) -> GenerateResult:
    """Write the forms that are new or changed; return what was done.

    `prefill` (default: survey.toml [form] prefill_previous) fills last year's text answers in
    as a starting point for the department to revise.
    """
    survey = loaded.survey
    out = out_dir or survey.path(S.FORMS_DIR)
    result = GenerateResult(out)
    asked = list(loaded.asked)
    names = L.file_names(survey, asked)
    cols = L.columns(loaded)
    versions = {d: L.form_version(survey, loaded.measures_of(d), cols) for d in asked}
    start: dict[str, dict[str, object]] = {}
    if survey.prefill_previous if prefill is None else prefill:
        from xlsx_tool.define.years import previous_texts

        start = previous_texts(loaded)
    with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
        records = ledger.distributions()
        jobs: list[Job] = []
        for d in asked:
            path = out / names[d]
            rec = records.get(d)
            if rec and rec["version"] == versions[d] and (out / rec["file"]).is_file():
                result.unchanged.append(d)
                continue
            if rec or path.exists():
                if not rec and _same_form(path, loaded, d):
                    result.unchanged.append(d)
                    ledger.record_distribution([(d, versions[d], names[d], _numbers(loaded, d),
                                                 _sha(path))])
                    continue
                result.changed.append(d)
            else:
                result.new.append(d)
            jobs.append((d, path, versions[d],
                         {m.number: start[m.number] for m in loaded.measures_of(d) if m.number in start}))
        result.orphaned = [d for d in records if d not in versions and (out / records[d]["file"]).exists()]
        if result.changed and not force:
            raise FormsChanged(result.changed)
        ensure_folder(out)
        if force:
            for d in result.changed + result.orphaned:
                rec = records.get(d)
                old = out / (rec["file"] if rec else names[d])
                if old.exists():
                    result.kept.append(_keep(old, rec["version"] if rec else ""))
        shas = dict(_write_all(loaded, jobs, progress, workers))
        ledger.record_distribution([(d, versions[d], path.name, _numbers(loaded, d), shas[d])
                                    for d, path, _v, _a in jobs])
    result.written = [job[1] for job in jobs]
    return result


def _numbers(loaded: Loaded, department: str) -> list[str]:
    return [m.number for m in loaded.measures_of(department)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _same_form(path: Path, loaded: Loaded, department: str) -> bool:
    try:
        return path.read_bytes() == form_bytes(loaded, department)
    except OSError:
        return False


def _keep(path: Path, version: str) -> Path:
    """Move a distributed form to 旧版/, named with its version so none is lost."""
    folder = path.parent / OLD_DIR
    ensure_folder(folder)
    mark = version[:8] or dt.datetime.now().strftime("%Y%m%d%H%M%S")
    target = folder / f"{path.stem}_{mark}{path.suffix}"
    n = 2
    while target.exists():
        target = folder / f"{path.stem}_{mark}_{n}{path.suffix}"
        n += 1
    try:
        os.replace(path, target)
    except OSError as exc:
        raise write_failure(path, exc) from exc
    return target


def _write_all(loaded: Loaded, jobs: list[Job], progress: Callable[[str], None] | None,
               workers: int | None) -> list[tuple[str, str]]:
    """Many forms are built by one process per core and written by the main process.

    The survey is pickled once and sent to each worker as bytes. A worker only builds a
    form; threads of the main process write and fsync it, so the workers' cores never
    wait for the disk. Returns (department, sha256 of the form) in the order of `jobs`.
    """
    workers = workers or os.cpu_count() or 1
    done: list[tuple[str, str]] = []
    if len(jobs) < PARALLEL_FROM or workers < 2:
        for job in jobs:
            data, sha = _form(loaded, job)
            atomic_write(job[1], data)
            done.append((job[0], sha))
            if progress:
                progress(job[0])
        return done
    blob = pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)
    pending: deque[tuple[str, str, Future[None]]] = deque()

    def finish(department: str, sha: str, written: Future[None]) -> None:
        written.result()  # a form that could not be written stops generate with its reason
        done.append((department, sha))
        if progress:
            progress(department)

    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(blob,)) as pool, \
            ThreadPoolExecutor(WRITERS, thread_name_prefix="xlsx-tool-write") as disk:
        for (department, path, _v, _a), (data, sha) in zip(jobs, pool.map(_build_form, jobs, chunksize=16),
                                                           strict=True):  # map keeps the order of jobs
            pending.append((department, sha, disk.submit(atomic_write, path, data)))
            while pending and pending[0][2].done():
                finish(*pending.popleft())
        while pending:
            finish(*pending.popleft())
    return done
