"""click's own messages in Japanese.

click passes its messages (Usage, Options, "No such command", "Missing argument", …)
through gettext, binding ``_`` and ``ngettext`` in each of its modules at import. `install`
rebinds them to this table, so no English from click reaches a user; anything missing
from the table falls back to click's text (tests/test_cli.py drives every kind of mistake
and asserts Japanese only).
"""

from __future__ import annotations

import sys
from typing import Any

MESSAGES: dict[str, str] = {
    "Usage:": "使い方:",
    "Options": "オプション",
    "Commands": "コマンド",
    "Positional arguments": "引数",
    "Show this message and exit.": "この説明を表示して終了します。",
    "Show the version and exit.": "バージョンを表示して終了します。",
    "%(prog)s, version %(version)s": "%(prog)s バージョン %(version)s",
    "Error: {message}": "エラー: {message}",
    "Try '{command} {option}' for help.": "説明は「{command} {option}」で表示されます。",
    "No such command {name!r}.": "コマンド「{name}」はありません。",
    "No such option {name!r}.": "オプション「{name}」はありません。",
    "Option {name!r} does not take a value.": "オプション「{name}」には値を付けません。",
    "Missing argument": "引数がありません",
    "Missing command.": "コマンドを指定してください。",
    "Missing option": "オプションがありません",
    "Missing parameter": "指定が足りません",
    "Missing parameter: {param_name}": "指定が足りません: {param_name}",
    "Missing {param_type}": "{param_type}を指定してください",
    "argument": "引数",
    "option": "オプション",
    "parameter": "指定",
    "Invalid value for {param_hint}: {message}": "{param_hint}の値が正しくありません。{message}",
    "Invalid value: {message}": "値が正しくありません。{message}",
    "Aborted!": "中断しました。",
    "default: {default}": "既定: {default}",
    "required": "必須",
    "env var: {var}": "環境変数: {var}",
    "Choose from:\n\t{choices}": "次から選んでください:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "「{value}」は{number_type}ではありません。",
    "integer": "整数",
    "float": "数値",
    "integer range": "範囲内の整数",
    "float range": "範囲内の数値",
    "{value} is not in the range {range}.": "{value} は範囲（{range}）の外です。",
    "{name} {filename!r} does not exist.": "{name}「{filename}」がありません。",
    "{name} {filename!r} is a file.": "{name}「{filename}」はファイルです。",
    "{name} {filename!r} is a directory.": "{name}「{filename}」はフォルダです。",
    "{name} {filename!r} is not readable.": "{name}「{filename}」を読めません。",
    "{name} {filename!r} is not writable.": "{name}「{filename}」に書き込めません。",
    "{name} {filename!r} is not executable.": "{name}「{filename}」を実行できません。",
    "file": "ファイル",
    "directory": "フォルダ",
    "path": "パス",
    "Directory": "フォルダ",
    "File": "ファイル",
    "Path": "パス",
    "Could not open file {filename!r}: {message}": "ファイル「{filename}」を開けません: {message}",
    "unknown error": "不明なエラー",
    "Argument {name!r} takes {nargs} values.": "引数「{name}」には値が {nargs} 個必要です。",
    "Value must be an iterable.": "値の並びを指定してください。",
    "Do you want to continue?": "続けますか？",
    "Repeat for confirmation": "確認のためもう一度入力してください",
    "Error: The two entered values do not match.": "エラー: 2回の入力が一致しません。",
    "Error: invalid input": "エラー: 入力が正しくありません",
    "Press any key to continue...": "何かキーを押すと続けます…",
    "Confirm the action without prompting.": "確認せずに実行します。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "「{value}」は真偽値ではありません（使える値: {states}）。",
    "(dynamic)": "（実行時に決定）",
    "deprecated": "廃止予定",
}

PLURALS: dict[str, str] = {
    "Got unexpected extra argument ({args})": "余分な引数があります（{args}）。",
    "Takes {nargs} values but 1 was given.": "値が {nargs} 個必要ですが 1 個です。",
    "Option {name!r} requires an argument.": "オプション「{name}」には値が必要です。",
    "{value!r} is not {choice}.": "「{value}」は使えません。{choice} を指定してください。",
    "{value!r} does not match the format {format}.": "「{value}」は形式 {format} に合いません。",
    "Did you mean {possibility}?": "{possibility} の誤りではありませんか？",
    "{len_type} values are required, but {len_value} was given.": "値が {len_type} 個必要ですが {len_value} 個です。",
}
PLURALS_MANY: dict[str, str] = {
    "Got unexpected extra arguments ({args})": "余分な引数があります（{args}）。",
    "Takes {nargs} values but {len} were given.": "値が {nargs} 個必要ですが {len} 個です。",
    "Option {name!r} requires {nargs} arguments.": "オプション「{name}」には値が {nargs} 個必要です。",
    "{value!r} is not one of {choices}.": "「{value}」は使えません。{choices}のいずれかを指定してください。",
    "{value!r} does not match the formats {formats}.": "「{value}」は形式 {formats} に合いません。",
    "(Did you mean one of: {possibilities}?)": "（{possibilities} のいずれかの誤りではありませんか？）",
    "{len_type} values are required, but {len_value} were given.": "値が {len_type} 個必要ですが {len_value} 個です。",
}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if n == 1:
        return PLURALS.get(singular, MESSAGES.get(singular, singular))
    return PLURALS_MANY.get(plural, MESSAGES.get(plural, plural))


def quoted(names: object) -> str:
    """「調査フォルダ」, 「--year」 / 「-y」: names in Japanese quotes, not Python's 'repr'."""
    if names is None:
        return ""
    if isinstance(names, str):
        return names if names.startswith("「") else f"「{names.strip(chr(39))}」"
    return " / ".join(quoted(n) for n in names)  # type: ignore[attr-defined]


def _missing_message(self: Any) -> str:
    """click's 「Missing argument '調査フォルダ'.」 as one Japanese sentence."""
    hint = self.param_hint if self.param_hint is not None else (
        self.param.get_error_hint(self.ctx) if self.param is not None else None)
    hint = quoted(hint)
    what = hint or {"argument": gettext("argument"), "option": gettext("option")}.get(
        self.param_type or (self.param.param_type_name if self.param is not None else ""), gettext("parameter"))
    return f"{what}を指定してください。" + (f"{self.message}" if self.message else "")


def _choice_message(self: Any, value: Any, ctx: Any) -> str:
    """「bogus」は使えません。distribute・remind・correct のいずれかを指定してください。"""
    return f"「{value}」は使えません。{'・'.join(str(c) for c in self.choices)} のいずれかを指定してください。"


def install() -> None:
    """Rebind click's gettext functions to the table above, and its formatting of parameter
    names (Python's quotes, a full stop after a Japanese name) to Japanese (idempotent)."""
    import click
    import click.exceptions

    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            if callable(getattr(module, "_", None)):
                setattr(module, "_", gettext)  # noqa: B010 - the name is click's gettext alias
            if callable(getattr(module, "ngettext", None)):
                setattr(module, "ngettext", ngettext)  # noqa: B010
    click.exceptions._join_param_hints = quoted  # type: ignore[assignment]
    click.exceptions.MissingParameter.format_message = _missing_message  # type: ignore[method-assign]
    if hasattr(click.Choice, "get_invalid_choice_message"):
        click.Choice.get_invalid_choice_message = _choice_message  # type: ignore[method-assign]
