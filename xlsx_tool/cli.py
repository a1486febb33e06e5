"""The command line: a thin click layer over pipeline.py.

Exit codes: 0 done and nothing to fix; 1 done, but problems were found (or a department
has not submitted); 2 the command could not run (wrong arguments, unreadable definition,
an output that cannot be written). `--debug` adds the traceback and keeps the exit code.
"""

from __future__ import annotations

import json
import stat
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

import click

from xlsx_tool import __version__, cli_text
from xlsx_tool.errors import ToolError
from xlsx_tool.problems import NOTICE, SEVERITY_LABEL, WARNING, Problem, sentence
from xlsx_tool.textnorm import clip, display_width, pad
from xlsx_tool.xlsxout import path_too_long, too_long_remedy

cli_text.install()

MAX_LINES_PER_CODE = 20  # repeated problems of one kind are summarised beyond this


class _SurveyFolder(click.ParamType):
    """An existing survey folder, refused in Japanese."""

    name = "調査フォルダ"

    def convert(self, value: Any, param: Any, ctx: Any) -> Path:
        path = Path(value)
        try:
            found = stat.S_ISDIR(path.stat().st_mode)
        except OSError as exc:
            if length := path_too_long(exc, path):  # Windows says "not found" past 260 characters
                self.fail(f"フォルダ「{value}」を開けません。{too_long_remedy(length)}。", param, ctx)
            found = False
        if not found:
            self.fail(f"フォルダ「{value}」がありません。調査フォルダのパスを確認してください。", param, ctx)
        return path


class _NewFolder(click.ParamType):
    name = "フォルダ"

    def convert(self, value: Any, param: Any, ctx: Any) -> Path:
        path = Path(value)
        if path.exists() and not path.is_dir():
            self.fail(f"「{value}」はファイルです。作成するフォルダの名前を指定してください。", param, ctx)
        return path


class _Year(click.IntRange):
    """A fiscal year in the western calendar, refused in Japanese (「2021」, not 「integer range」)."""

    name = "西暦の年度（例: 2021）"

    def _describe_range(self) -> str:
        return f"{self.min}〜{self.max}"


EXISTING_FOLDER = _SurveyFolder()
NEW_FOLDER = _NewFolder()


class Failure(click.ClickException):
    """A ToolError on its way out: its problems, one Japanese sentence, exit code 2."""

    exit_code = 2

    def __init__(self, error: ToolError):
        super().__init__(str(error))
        self.error = error

    def show(self, file: Any = None) -> None:
        problems = getattr(self.error, "problems", None)
        if problems:
            echo_problems(problems, err=True)
        click.echo(f"エラー: {self.format_message()}", err=True)
        if State.debug:
            traceback.print_exception(self.error)


class _Group(click.Group):
    """Commands listed once, in the order of the yearly cycle; ToolError becomes exit 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolError as exc:
            raise Failure(exc) from exc


class State:
    debug = False


def echo_problems(problems: list[Problem] | tuple[Problem, ...], err: bool = False) -> None:
    """One line per problem; beyond 20 of one kind in one file, a count instead."""
    seen: dict[tuple[str, str], int] = {}
    for p in problems:
        key = (p.file, p.code)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= MAX_LINES_PER_CODE:
            click.echo(f"[{SEVERITY_LABEL[p.severity]}] {p.text()}", err=err)
    for (file, code), n in seen.items():
        if n > MAX_LINES_PER_CODE:
            label = SEVERITY_LABEL[next(p.severity for p in problems if p.code == code)]
            click.echo(f"[{label}] {file}: ほかに同じ種類の指摘が {n - MAX_LINES_PER_CODE} 件あります"
                       "（回収状況.xlsx の「問題一覧」にすべて載っています）。", err=err)


def emit_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def table(rows: list[list[str]]) -> None:
    """Console columns aligned by display width (a full-width character counts two)."""
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(pad(cell, widths[i]) for i, cell in enumerate(r[:-1])) + "  " + r[-1])


class _Progress:
    """A progress bar on a terminal; on a pipe, nothing until the result."""

    def __init__(self, label: str):
        self.label, self.tty = label, sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self) -> _Progress:
        return self

    def update(self, done: int, total: int) -> None:
        if not self.tty or total < 2:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]},
             options_metavar="[オプション]", subcommand_metavar="コマンド [引数]...")
@click.version_option(__version__, prog_name="xlsx-tool")
@click.option("--debug", is_flag=True, help="エラー時に詳しい情報（トレースバック）も表示します。")
def cli(debug: bool) -> None:
    """区の実績調査を Excel で行うツールです（調査票の配布・回収・集計）。

    各コマンドの説明は「xlsx-tool コマンド --help」で表示されます。
    """
    State.debug = debug


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=NEW_FOLDER, required=False, metavar="フォルダ")
@click.option("--template", "-t", default="2025", show_default=True, metavar="名前",
              help="使うテンプレート名（一覧は --list）。")
@click.option("--from", "previous", type=EXISTING_FOLDER, metavar="前年度の調査フォルダ",
              help="前年度の調査フォルダから引き継いで作ります（年度・施策マスタ・所管課一覧・前年度の評価と方向性）。")
@click.option("--year", type=_Year(1989, 2200), metavar="年度",
              help="調査する年度（西暦、例: 2021）。省略時は前年度（--from では翌年度）。")
@click.option("--allow-incomplete", is_flag=True,
              help="--from で、前年度に評価のない施策があっても引き継ぎます（その施策の前年度評価は空欄）。")
@click.option("--list", "show_list", is_flag=True, help="使えるテンプレートの一覧を表示します。")
def init(folder: Path | None, template: str, previous: Path | None, year: int | None,
         allow_incomplete: bool, show_list: bool) -> None:
    """新しい調査フォルダを作ります（調査定義・施策マスタ・作業フォルダ）。"""
    from xlsx_tool.define import folder as F

    if show_list:
        for name, about in F.templates().items():
            click.echo(f"{name}\t{about}")
        return
    if folder is None:
        raise ToolError(sentence("init-no-folder"))
    if previous is not None:
        from xlsx_tool import pipeline

        for line in pipeline.init_from(folder, previous, year, allow_incomplete).report():
            click.echo(line)
        return
    made = F.init_survey(folder, template, year)
    click.echo(f"調査フォルダを作成しました: {folder}")
    for path in made.made:
        click.echo(f"  {path.relative_to(folder)}")
    for path in made.kept:
        click.echo(f"  {path.relative_to(folder)}（用意されていたものをそのまま使います。上書きしていません）")
    click.echo("次に、施策マスタに施策を入力し（記入例の行は削除）、survey.toml の提出期限・問合せ先を"
               f"書き換えてから xlsx-tool check {folder} を実行してください。")


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=EXISTING_FOLDER, metavar="調査フォルダ")
def check(folder: Path) -> None:
    """調査定義（survey.toml）と施策マスタを点検し、問題をすべて表示します。

    \b
    終了コード: 0 エラーなし、1 エラーあり。
    """
    from xlsx_tool import pipeline

    loaded, problems = pipeline.check(folder)
    echo_problems(problems)
    errors = sum(p.is_error for p in problems)
    if loaded is not None:
        m = loaded.master
        click.echo(f"施策 {len(m.measures)} 件、所管課 {len(m.departments)} 課、"
                   f"{loaded.survey.group_label} {len(loaded.survey.groups)} 件を読み込みました"
                   f"（{loaded.survey.year_label}）。")
    others = counts(problems, (WARNING, NOTICE))
    if errors:
        click.echo(f"エラー {errors} 件" + (f"、{others}" if others else "") + "。エラーを修正してから generate してください。")
        sys.exit(1)
    click.echo("エラーはありません" + (f"（{others}）" if others else "") + f"。xlsx-tool generate {folder} で調査票を作れます。")


def counts(problems: list[Problem] | tuple[Problem, ...], severities: tuple[str, ...]) -> str:
    """「警告 2 件、お知らせ 1 件」: each kind named as its lines are labelled ([警告], [お知らせ])."""
    return "、".join(f"{SEVERITY_LABEL[s]} {n} 件" for s in severities if (n := sum(p.severity == s for p in problems)))


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=EXISTING_FOLDER, metavar="調査フォルダ")
@click.option("--force", is_flag=True,
              help="配布済みの調査票と内容が変わる場合も新しい版を作ります（配布済みの版は 1_配布/旧版 に残します）。")
@click.option("--prefill/--no-prefill", default=None,
              help="前年度の文章の回答（取組実績など）を下書きとして記入しておきます（既定は survey.toml の prefill_previous）。")
def generate(folder: Path, force: bool, prefill: bool | None) -> None:
    """所管課ごとの調査票を 1_配布 フォルダに作ります。"""
    from xlsx_tool import pipeline

    with _Progress("調査票を作成中") as bar:
        count = [0]

        def progress(_department: str) -> None:
            count[0] += 1
            bar.update(count[0], count[0] + 1)
        loaded, result = pipeline.generate(folder, force=force, progress=progress, prefill=prefill)
    asked = len(loaded.asked)
    click.echo(f"調査票 {asked} 課分: 新規 {len(result.new)} 課、作り直し {len(result.changed)} 課、"
               f"変更なし {len(result.unchanged)} 課（{result.folder}）")
    if result.changed:
        from xlsx_tool.define.departments import in_list_order

        click.echo("新しい版を送り直す必要がある所管課: " + "、".join(in_list_order(result.changed, loaded.departments_list)))
    for path in result.kept:
        click.echo(f"配布済みの版を残しました: {path}")
    if result.orphaned:
        click.echo("施策マスタから外れた所管課の調査票が残っています: " + "、".join(result.orphaned))


def _collect_report(loaded: Any, result: Any) -> None:
    from xlsx_tool.define.departments import in_list_order
    from xlsx_tool.states import label, status_counts

    rows = [["所管課", "状況", "エラー", "警告", "ファイル"]]
    by_name = {d.department: d for d in result.departments}
    for name in in_list_order(by_name, loaded.departments_list):
        d = by_name[name]
        if not d.asked:
            rows.append([clip(d.department, 30), label(d.status, asked=False), "-", "-", "-（施策がすべて終了）"])
            continue
        rows.append([clip(d.department, 30), label(d.status), str(d.errors), str(d.warnings),
                     d.file or "-"])
    table(rows)
    if result.problems:
        click.echo("")
        # errors first, then warnings, then notices: every line counted below is shown
        rank = {p: i for i, p in enumerate(SEVERITY_LABEL)}
        echo_problems(sorted(result.problems, key=lambda p: rank[p.severity]))
    for rep in result.replacements:
        click.echo(f"[差し替え] {rep.department}: {rep.old_file} → {rep.new_file}"
                   f"（{len(rep.changes)} 件の回答が変更。{rep.reason}）")
        for c in rep.changes[:5]:
            click.echo(f"    施策番号 {c.measure} {c.field}: {_shown(c.old)} → {_shown(c.new)}")
        if len(rep.changes) > 5:
            click.echo(f"    ほか {len(rep.changes) - 5} 件（回収状況.xlsx の「差し替え」シート）")
    for k in result.skipped:
        click.echo(f"[読み飛ばし] {k['file']}: {k['reason']}")
    for path in result.withdrawn:
        click.echo(f"[取り下げ] {path}: 2_回収 にないため、以後の集計に使いません（台帳には記録が残ります）。")
    click.echo("")
    unreadable = sum(not s.identified for s in result.submissions)
    findings = counts(result.problems, (WARNING, NOTICE))
    click.echo(status_counts(result.departments, total=False) + f"、差し替え {len(result.replacements)} 課"
               f"（ファイル {len(result.submissions)} 件、うち読み取れない・判別できないもの {unreadable} 件、"
               f"読み飛ばし {len(result.skipped)} 件" + (f"、{findings}" if findings else "") + "）。")
    for path in result.outputs:
        click.echo(f"出力: {path}")


def _shown(value: object) -> str:
    return "（なし）" if value is None else clip(str(value).replace("\n", " "), 40)


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=EXISTING_FOLDER, metavar="調査フォルダ")
@click.option("--json", "as_json", is_flag=True, help="結果を JSON で標準出力に出します。")
@click.option("--deadline", metavar="期限", help="修正依頼の調査票に書く再提出期限（例: 令和4年5月20日（金））。")
@click.option("--recheck", is_flag=True, help="台帳に記録済みのファイルも、すべて読み取り直して点検し直します。")
@click.option("--forget-missing", is_flag=True,
              help="2_回収 からなくなったファイルを、以後の集計に使いません（台帳には記録が残ります）。")
def collect(folder: Path, as_json: bool, deadline: str | None, recheck: bool, forget_missing: bool) -> None:
    """2_回収 の調査票をすべて読み取り、所管課ごとの提出状況と問題を示します。

    \b
    回収状況.xlsx と、問題のある課への修正依頼の調査票を 3_集計 に作ります。
    終了コード: 0 全課が提出済で読み取れないファイルもない、1 要修正・未提出の課、
    または読み取れない・判別できないファイルがある、2 実行できない。
    """
    from xlsx_tool import pipeline

    with _Progress("回収ファイルを読み取り中") as bar:
        loaded, result = pipeline.collect(folder, None if as_json else bar.update, deadline,
                                          recheck=recheck, forget_missing=forget_missing)
    if as_json:
        emit_json(result.as_json())
    else:
        _collect_report(loaded, result)
    sys.exit(0 if result.complete else 1)


def _summary_report(folder: Path, loaded: Any, result: Any, as_json: bool) -> int:
    t = result.tally
    echo_problems(result.notes, err=True)  # stderr: a --json stdout stays parseable
    if as_json:
        emit_json(result.as_json(loaded))
    if result.refused:
        for line in t.missing_lines():
            click.echo(line, err=True)
        click.echo(f"回答のそろっていない施策が {len(t.missing)} 件あるため集計しませんでした。"
                   f"xlsx-tool collect {folder} で状況を確認するか、含めて集計する場合は "
                   "--allow-missing を付けてください。", err=True)
        return 1
    if not as_json:
        print_rating_table(loaded.survey, t)
        for path in result.outputs:
            click.echo(f"出力: {path}")
    return 0


def print_rating_table(survey: Any, t: Any) -> None:
    """The rating table as the summary workbook has it: its title, its labels (「A評価」), its
    columns (the 2020 style has no 割合 and no 計)."""
    from xlsx_tool.summarize.wording import Wording

    words = Wording(survey)
    click.echo(words.rating_table_title)
    share = words.percent_column
    rows = [["施策の評価", "該当施策"] + (["割合"] if share else [])]
    rows += [[words.rating_label(r.value), f"{r.count}施策"] + ([f"{r.percent}%"] if share else []) for r in t.ratings]
    if share:
        rows.append(["計", f"{t.total}施策", "100%"])
    table(rows)


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=EXISTING_FOLDER, metavar="調査フォルダ")
@click.option("--json", "as_json", is_flag=True, help="集計結果を JSON で標準出力に出します。")
@click.option("--allow-missing", is_flag=True, help="回答のそろっていない施策を「未回答」として含めて集計します。")
def summarize(folder: Path, as_json: bool, allow_missing: bool) -> None:
    """回収済みの回答を集計し、3_集計 に集計結果（集計表・グラフ・報告文案）を作ります。

    \b
    回答のそろっていない施策があるときは、一覧を示して集計しません（--allow-missing で集計）。
    終了コード: 0 作成した、1 未回答があるため作成しなかった、2 実行できない。
    """
    from xlsx_tool import pipeline

    loaded, result = pipeline.summarize(folder, allow_missing)
    sys.exit(_summary_report(folder, loaded, result, as_json))


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=EXISTING_FOLDER, metavar="調査フォルダ")
@click.option("--allow-missing", is_flag=True, help="回答のそろっていない施策を「未回答」として含めて集計します。")
@click.option("--deadline", metavar="期限", help="修正依頼の調査票に書く再提出期限。")
def run(folder: Path, allow_missing: bool, deadline: str | None) -> None:
    """collect（回収）と summarize（集計）を続けて行います。"""
    from xlsx_tool import pipeline

    with _Progress("回収ファイルを読み取り中") as bar:
        loaded, result = pipeline.collect(folder, bar.update, deadline)
    _collect_report(loaded, result)
    click.echo("")
    _loaded, summary = pipeline.summarize(folder, allow_missing, loaded)
    code = _summary_report(folder, loaded, summary, False)
    sys.exit(code or (0 if result.complete else 1))


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=EXISTING_FOLDER, metavar="調査フォルダ")
@click.argument("kind", type=click.Choice(["distribute", "remind", "correct", "receipt"]), metavar="種類")
@click.option("--send", is_flag=True, help="下書きではなく、survey.toml の [mail] のメールサーバーから送信します。")
@click.option("--dry-run", is_flag=True, help="作成・送信せず、対象の一覧だけを表示します。")
@click.option("--json", "as_json", is_flag=True, help="メールの一覧を JSON で標準出力に出します。")
def mail(folder: Path, kind: str, send: bool, dry_run: bool, as_json: bool) -> None:
    """所管課へのメールを作ります（種類: distribute 配布 / remind 督促 / correct 修正依頼 / receipt 受領通知）。

    \b
    receipt は collect の後、提出ファイルを受領したことと確認の結果（問題なし、または修正が必要な点）を
    知らせます（提出ファイルごとに一度だけ。新しいファイルが届くとまた送ります）。
    既定では 4_メール に下書き（.eml、Outlook で開くとそのまま送信できる）を作ります。
    --send で送信し、送信した記録を台帳に残します（同じメールは二度送りません）。
    パスワードは環境変数 XLSX_TOOL_SMTP_PASSWORD に設定します。
    終了コード: 0 完了、1 宛先のない課または送信に失敗したメールがある、2 実行できない。
    """
    from xlsx_tool import pipeline

    _loaded, result = pipeline.mail(folder, kind, send, dry_run)
    if as_json:
        emit_json(result.as_json())
    else:
        for m in result.messages:
            state = {"draft": "下書き", "sent": "送信", "already-sent": "送信済み", "no-address": "宛先なし",
                     "failed": "失敗", "would-send": "対象"}[m.outcome]
            line = f"[{state}] {m.department} <{m.to or '-'}> {m.subject}"
            if m.attachment:
                line += f"（添付: {m.attachment.name}）"
            if m.detail and m.outcome in ("no-address", "failed"):
                line += f" … {m.detail}"
            click.echo(line)
        click.echo(result.summary())
    sys.exit(1 if result.failed else 0)


@cli.command(options_metavar="[オプション]")
@click.argument("folder", type=NEW_FOLDER, default="xlsx-tool-demo", metavar="フォルダ")
def demo(folder: Path) -> None:
    """同梱の例（ICT推進・活用計画2025 令和3年度）で全工程を試します。

    フォルダ（省略時 xlsx-tool-demo）に例をコピーし、調査票を作り、各課の回答を記入して
    2_回収 に置き、回収・集計まで行います。その後は通常の調査フォルダとして使えます。
    """
    from xlsx_tool import pipeline
    from xlsx_tool.states import status_counts

    result = pipeline.demo(folder, click.echo)
    c = result.collect
    click.echo(f"回収: {status_counts(c.departments, total=False)}")
    click.echo("")
    print_rating_table(result.loaded.survey, result.summary.tally)
    click.echo("")
    click.echo("出力:")
    for path in [*c.outputs, *result.summary.outputs]:
        click.echo(f"  {path}")
    click.echo(f"調査票は {folder / '1_配布'}、回収したファイルは {folder / '2_回収'} にあります。")


def main() -> None:
    # Japanese text on a redirected stdout must not depend on the console's code page.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and not stream.isatty():
            stream.reconfigure(encoding="utf-8", errors="replace")
    warnings.simplefilter("ignore")  # library warnings are not for the user
    code = 0
    try:
        cli.main(standalone_mode=False, prog_name="xlsx-tool")
    except click.exceptions.Abort:
        click.echo("中断しました。", err=True)
        code = 2
    except click.ClickException as exc:
        exc.show()
        code = 2 if exc.exit_code == 1 else exc.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("中断しました。", err=True)
        code = 2
    except Exception:
        click.echo("エラー: 想定外の問題が起きました。--debug を付けて再実行し、表示内容を"
                   "ICT 担当へ知らせてください。", err=True)
        _debug()
        code = 2
    sys.exit(code)


def _debug() -> None:
    """With --debug, the traceback too; the exit code stays what it would be."""
    if State.debug:
        traceback.print_exc()
