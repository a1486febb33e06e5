"""The sequences the commands run: load, then one stage (or several), sharing worker processes.

cli.py turns options into one call here and a result into words and an exit code. A
command that reads untrusted files (the master, the department list, the returns) starts
one pool of confined workers and uses it for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xlsx_tool.define.master import Loaded, load
from xlsx_tool.errors import ToolError
from xlsx_tool.intake.sandbox import Pool
from xlsx_tool.problems import Problem, sentence

if TYPE_CHECKING:
    from xlsx_tool.collect.decide import CollectResult
    from xlsx_tool.summarize.run import SummaryResult


class DefinitionErrors(ToolError):
    """The definition or the master has errors: nothing else can run."""

    def __init__(self, folder: Path, problems: list[Problem]):
        self.problems = problems
        errors = sum(p.is_error for p in problems) or 1
        super().__init__(sentence("definition-errors", errors=errors, folder=folder))


def load_checked(folder: Path, pool: Pool | None = None) -> Loaded:
    loaded, problems = load(folder, pool)
    if loaded is None or any(p.is_error for p in problems):
        raise DefinitionErrors(folder, problems)
    return loaded


def check(folder: Path) -> tuple[Loaded | None, list[Problem]]:
    """Everything `check` reports: the definition, the master, the department list, last year,
    and what the report document will make of them (its template, empty 主な成果)."""
    from xlsx_tool.define.years import check_against_previous
    from xlsx_tool.summarize.document import template_problems
    from xlsx_tool.summarize.report import check_report

    with Pool(1) as pool:
        loaded, problems = load(folder, pool)
        if loaded is not None:
            problems = problems + check_against_previous(loaded, pool) + template_problems(loaded.survey) \
                + check_report(loaded)
    return loaded, problems


def init_from(folder: Path, previous: Path, year: int | None, allow_incomplete: bool):
    from xlsx_tool.define.years import init_from as carry

    with Pool(1) as pool:
        return carry(folder, previous, year, allow_incomplete, pool)


def generate(folder: Path, force: bool = False, progress: Callable[[str], None] | None = None,
             prefill: bool | None = None):
    from xlsx_tool.forms.generate import generate as write_forms

    loaded = load_checked(folder)
    return loaded, write_forms(loaded, force=force, progress=progress, prefill=prefill)


def collect(folder: Path, progress: Callable[[int, int], None] | None = None,
            resubmit_deadline: str | None = None, workers: int | None = None,
            recheck: bool = False, forget_missing: bool = False):
    from xlsx_tool.collect.run import collect as run_collect

    with Pool(workers) as pool:
        loaded = load_checked(folder, pool)
        return loaded, run_collect(loaded, pool, progress, resubmit_deadline=resubmit_deadline,
                                   recheck=recheck, forget_missing=forget_missing)


def summarize(folder: Path, allow_missing: bool = False, loaded: Loaded | None = None):
    from xlsx_tool.summarize.run import summarize as run_summarize

    with Pool(1) as pool:
        loaded = loaded or load_checked(folder, pool)
        return loaded, run_summarize(loaded, allow_missing=allow_missing, pool=pool)


def mail(folder: Path, kind: str, send: bool = False, dry_run: bool = False):
    from xlsx_tool.mail.send import mail as run_mail

    with Pool(1) as pool:
        loaded = load_checked(folder, pool)
    return loaded, run_mail(loaded, kind, send, dry_run)


@dataclass
class DemoResult:
    loaded: Loaded
    forms: list[Path]
    returned: list[Path]
    collect: CollectResult
    summary: SummaryResult


def demo(folder: Path, say: Callable[[str], None]) -> DemoResult:
    """The whole cycle on the bundled example, departments simulated by filling the forms."""
    from xlsx_tool import demo as D
    from xlsx_tool.collect.run import collect as run_collect
    from xlsx_tool.forms.generate import generate as write_forms
    from xlsx_tool.summarize.run import summarize as run_summarize

    D.copy_example(folder)
    say(f"例の調査をコピーしました: {folder}")
    with Pool() as pool:
        loaded = load_checked(folder, pool)
        made = write_forms(loaded)
        say(f"調査票を作成しました: {len(made.written)} 課（{made.folder}）")
        returned = D.fill_all(loaded, made.written)
        say(f"各課の回答を記入して 2_回収 に置きました: {len(returned)} ファイル")
        result = run_collect(loaded, pool)
    summary = run_summarize(loaded)
    if summary.refused:
        raise ToolError(sentence("demo-unanswered"))
    return DemoResult(loaded, made.written, returned, result, summary)
