"""The command line: a thin click layer over the core modules.

Exit codes: 0 done and nothing to fix; 1 done, but problems were found (or a department
has not submitted); 2 the command could not run (wrong arguments, unreadable definition,
an output that cannot be written).
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .errors import ToolError
from .problems import SEVERITY_LABEL, Problem

FOLDER = click.Path(file_okay=False, path_type=Path)


class _SurveyFolder(click.ParamType):
    """An existing survey folder, refused in Japanese (click's own message is English)."""

    name = "folder"

    def convert(self, value, param, ctx) -> Path:
        path = Path(value)
        if not path.is_dir():
            self.fail(f"フォルダ「{value}」がありません。調査フォルダのパスを確認してください。", param, ctx)
        return path


EXISTING_FOLDER = _SurveyFolder()


class Context:
    debug = False


def echo_problems(problems: list[Problem] | tuple[Problem, ...], err: bool = False) -> None:
    for p in problems:
        click.echo(f"[{SEVERITY_LABEL[p.severity]}] {p.text()}", err=err)


def emit_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def load_or_fail(folder: Path):
    """Load definition + master; on any error print them all and stop with exit 2."""
    from .master import load

    loaded, problems = load(folder)
    errors = [p for p in problems if p.is_error]
    if loaded is None or errors:
        echo_problems(problems, err=True)
        raise _Stop(
            f"調査定義または施策マスタに {len(errors) or 1} 件のエラーがあります。"
            f"xlsx-tool check {folder} で確認し、修正してから再実行してください。")
    return loaded


class _Stop(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"エラー: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlsx-tool")
@click.option("--debug", is_flag=True, help="エラー時に詳しい情報（トレースバック）を表示します。")
def cli(debug: bool) -> None:
    """区の実績調査を Excel で行うツールです。

    \b
    作業の流れ:
      init      調査フォルダを作る（調査定義と空の施策マスタ）
      check     調査定義と施策マスタを点検する
      generate  所管課ごとの調査票を 1_配布 に作る
      collect   2_回収 に集めた調査票を読み取り、点検する
      summarize 集計結果（集計表・グラフ・報告文案）を 3_集計 に作る
      run       collect と summarize を続けて行う
      demo      同梱の例で全工程を試す
    """
    Context.debug = debug


@cli.command()
@click.argument("folder", type=FOLDER, required=False)
@click.option("--template", "-t", default="2025", show_default=True,
              help="使うテンプレート名（一覧は --list）。")
@click.option("--year", type=int, help="調査する年度（西暦、例: 2021）。省略時は前年度。")
@click.option("--list", "show_list", is_flag=True, help="使えるテンプレートの一覧を表示します。")
def init(folder: Path | None, template: str, year: int | None, show_list: bool) -> None:
    """新しい調査フォルダ FOLDER を作ります（調査定義・空の施策マスタ・作業フォルダ）。"""
    from . import folder as F

    if show_list:
        for name, about in F.templates().items():
            click.echo(f"{name}\t{about}")
        return
    if folder is None:
        raise _Stop("作成する調査フォルダを指定してください（例: xlsx-tool init 令和7年度調査）。")
    made = F.init_survey(folder, template, year)
    click.echo(f"調査フォルダを作成しました: {folder}")
    for path in made:
        click.echo(f"  {path.relative_to(folder)}")
    click.echo("次に、施策マスタに施策を入力し（記入例の行は削除）、survey.toml の提出期限・問合せ先を"
               f"書き換えてから xlsx-tool check {folder} を実行してください。")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
def check(folder: Path) -> None:
    """調査定義（survey.toml）と施策マスタを点検し、問題をすべて表示します。"""
    from .master import load

    loaded, problems = load(folder)
    echo_problems(problems)
    errors = sum(p.is_error for p in problems)
    others = len(problems) - errors
    if loaded is not None:
        m = loaded.master
        click.echo(f"施策 {len(m.measures)} 件、所管課 {len(m.departments)} 課、"
                   f"{loaded.survey.group_label} {len(loaded.survey.groups)} 件を読み込みました。")
    if errors:
        click.echo(f"エラー {errors} 件、その他 {others} 件。エラーを修正してから generate してください。")
        sys.exit(1)
    click.echo(f"エラーはありません（その他 {others} 件）。xlsx-tool generate {folder} で調査票を作れます。")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
def generate(folder: Path) -> None:
    """所管課ごとの調査票を 1_配布 フォルダに作ります。"""
    from .forms import generate as make_forms

    loaded = load_or_fail(folder)
    total = len(loaded.master.departments)
    with click.progressbar(length=total, label="調査票を作成中", file=sys.stderr) as bar:
        paths = make_forms(loaded, progress=lambda _d: bar.update(1))
    click.echo(f"{len(paths)} 課分の調査票を作成しました: {paths[0].parent if paths else folder}")


def _collect(folder: Path, as_json: bool):
    from .collect import STATUS_LABEL
    from .collect import collect as run_collect

    loaded = load_or_fail(folder)
    if as_json:
        result = run_collect(loaded)
        emit_json(result.as_json())
        return loaded, result
    with click.progressbar(length=1, label="回収ファイルを読み取り中", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)
        result = run_collect(loaded, progress=progress)
    click.echo(f"{'所管課':<12}\t状況\tエラー\t警告\tファイル")
    for d in result.departments:
        click.echo(f"{d.department:<12}\t{STATUS_LABEL[d.status]}\t{d.errors}\t{d.warnings}\t{d.file or '-'}")
    shown = [p for p in result.problems if p.severity != "notice"]
    if shown:
        click.echo("")
        echo_problems(shown)
    for k in result.skipped:
        click.echo(f"[読み飛ばし] {k['file']}: {k['reason']}")
    click.echo("")
    unreadable = sum(not s.identified for s in result.submissions)
    click.echo(f"提出済 {result.count('submitted')} 課、要修正 {result.count('needs_fix')} 課、"
               f"未提出 {result.count('missing')} 課（ファイル {len(result.submissions)} 件、"
               f"うち読み取れない・判別できないもの {unreadable} 件、"
               f"読み飛ばし {len(result.skipped)} 件、お知らせ {len(result.problems) - len(shown)} 件）。")
    for path in result.outputs:
        click.echo(f"出力: {path}")
    return loaded, result


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--json", "as_json", is_flag=True, help="結果を JSON で標準出力に出します。")
def collect(folder: Path, as_json: bool) -> None:
    """2_回収 の調査票をすべて読み取り、所管課ごとの提出状況と問題を示します。

    \b
    終了コード: 0 全課が提出済、1 要修正または未提出の課がある、2 実行できない。
    回収状況.xlsx と、問題のある課への修正依頼の調査票を 3_集計 に作ります。
    """
    _loaded, result = _collect(folder, as_json)
    sys.exit(0 if result.complete else 1)


def _summarize(folder: Path, loaded, as_json: bool, allow_missing: bool) -> int:
    from .summarize import summarize as run_summarize

    result = run_summarize(loaded, allow_missing=allow_missing)
    t = result.tally
    if as_json:
        data = t.as_json(loaded.survey)
        data["output"] = str(result.path) if result.path else None
        emit_json(data)
    if result.refused:
        for m in t.missing:
            click.echo(f"[未回答] 施策番号 {m.number} {m.name}（{m.department}）", err=True)
        click.echo(f"未回答の施策が {len(t.missing)} 件あるため集計しませんでした。xlsx-tool collect {folder} で"
                   "状況を確認するか、未回答を含めて集計する場合は --allow-missing を付けてください。", err=True)
        return 1
    if not as_json:
        print_rating_table(loaded.survey, t)
        click.echo(f"出力: {result.path}")
    return 0


def print_rating_table(survey, t) -> None:
    click.echo(f"{survey.year_label} 評価別集計表")
    click.echo("施策の評価\t該当施策\t割合")
    for r in t.ratings:
        click.echo(f"{r.value}\t{r.count}施策\t{r.percent}%")
    click.echo(f"計\t{t.total}施策\t100%")


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--json", "as_json", is_flag=True, help="集計結果を JSON で標準出力に出します。")
@click.option("--allow-missing", is_flag=True, help="未回答の施策を「未回答」として含めて集計します。")
def summarize(folder: Path, as_json: bool, allow_missing: bool) -> None:
    """回収済みの回答を集計し、3_集計 に集計結果（集計表・グラフ・報告文案）を作ります。

    \b
    未回答の施策があるときは、一覧を示して集計しません（--allow-missing で集計）。
    終了コード: 0 作成した、1 未回答があるため作成しなかった、2 実行できない。
    """
    loaded = load_or_fail(folder)
    sys.exit(_summarize(folder, loaded, as_json, allow_missing))


@cli.command()
@click.argument("folder", type=EXISTING_FOLDER)
@click.option("--allow-missing", is_flag=True, help="未回答の施策を「未回答」として含めて集計します。")
def run(folder: Path, allow_missing: bool) -> None:
    """collect（回収）と summarize（集計）を続けて行います。"""
    loaded, result = _collect(folder, as_json=False)
    click.echo("")
    code = _summarize(folder, loaded, False, allow_missing)
    sys.exit(code or (0 if result.complete else 1))


@cli.command()
@click.argument("folder", type=FOLDER, default="xlsx-tool-demo")
def demo(folder: Path) -> None:
    """同梱の例（ICT推進・活用計画2025 令和3年度）で全工程を試します。

    FOLDER（省略時 xlsx-tool-demo）に例をコピーし、調査票を作り、各課の回答を記入して
    2_回収 に置き、回収・集計まで行います。その後は通常の調査フォルダとして使えます。
    """
    from . import demo as D
    from .collect import collect as run_collect
    from .forms import generate as make_forms
    from .summarize import summarize as run_summarize

    D.copy_example(folder)
    click.echo(f"例の調査をコピーしました: {folder}")
    loaded = load_or_fail(folder)
    forms = make_forms(loaded)
    click.echo(f"調査票を作成しました: {len(forms)} 課（{folder / '1_配布'}）")
    D.fill_all(folder, forms)
    click.echo(f"各課の回答を記入して 2_回収 に置きました: {len(forms)} ファイル")
    result = run_collect(loaded)
    click.echo(f"回収: 提出済 {result.count('submitted')} 課、要修正 {result.count('needs_fix')} 課、"
               f"未提出 {result.count('missing')} 課")
    summary = run_summarize(loaded)
    if summary.refused:
        raise _Stop("例の回答に未回答の施策があります（同梱データの誤りです）。")
    click.echo("")
    print_rating_table(loaded.survey, summary.tally)
    click.echo("")
    click.echo("出力:")
    for path in [*result.outputs, summary.path]:
        click.echo(f"  {path}")
    click.echo(f"調査票は {folder / '1_配布'}、回収したファイルは {folder / '2_回収'} にあります。")


def main() -> None:
    # Japanese text on a redirected stdout must not depend on the console's code page.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and not stream.isatty():
            stream.reconfigure(encoding="utf-8")
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("中断しました。", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ToolError as exc:
        click.echo(f"エラー: {exc}", err=True)
        if Context.debug:
            traceback.print_exc()
        sys.exit(2)
    except Exception:
        if Context.debug:
            raise
        click.echo("エラー: 想定外の問題が起きました。--debug を付けて再実行し、表示内容を"
                   "ICT 担当へ知らせてください。", err=True)
        sys.exit(2)
