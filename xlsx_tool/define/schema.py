"""survey.toml against a schema: unknown keys, wrong types and unsafe paths are problems.

A misspelt key (`requird = true`) must not be ignored, `required = "no"` must not mean
required, and an output name must not reach outside the survey folder. Every finding names
the key as a dotted path (`fields[2].required`) and, for an unknown key, the nearest known
one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.problems import Problem
from xlsx_tool.textnorm import sheet_name_problem

_WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
# An address as an SMTP envelope takes it (RFC 5321): an ASCII local part (a mail server without
# SMTPUTF8 refuses anything else), and a domain name that IDNA turns into ASCII (例え.jp is
# xn--r8jz45g.jp on the wire).
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
SHAPE = "name@example.lg.jp の形にしてください"


def mail_problem(address: str) -> str | None:
    """Why an address cannot be written to, in the section's words; None when it can.

    Catches what a pasted or IME-typed address brings along: a zero-width space, full-width
    letters (ｊｉｎｊｉ@…), Japanese before the @ (じんじ@…), which a mail server refuses.
    """
    hidden = _INVISIBLE.search(address)
    if hidden:
        return (f"{hidden.start() + 1} 文字目に見えない文字（U+{ord(hidden.group()):04X}、貼り付けで紛れ込むゼロ幅"
                "スペースなど）があります。アドレスを削除して半角で打ち直してください")
    if any(ch.isspace() for ch in address):
        return "空白が含まれています。空白を削除してください"
    folded = unicodedata.normalize("NFKC", address)
    if folded != address and folded.isascii():
        return f"全角の文字が含まれています。半角で「{folded}」としてください"
    if address.count("@") != 1:
        return SHAPE
    local, domain = address.split("@")
    if not local.isascii():
        return (f"「@」より前（{local}）に日本語などの全角文字は使えません（メールサーバーが受け付けません）。"
                "半角英数字のアドレスにしてください")
    if not _LOCAL.match(local) or envelope_domain(domain) is None:
        return SHAPE
    return None


def envelope_domain(domain: str) -> str | None:
    """The domain as ASCII (IDNA for a Japanese domain name), or None when it is no domain name."""
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None
    return ascii_domain


def envelope(address: str) -> str:
    """An address checked by mail_problem, as the SMTP envelope and the headers carry it."""
    local, _at, domain = address.rpartition("@")
    return f"{local}@{envelope_domain(domain) or domain}"
PLACEHOLDER = re.compile(r"（[^（）]*を記入）")  # the templates' 「（提出期限を記入）」 and the like


@dataclass(frozen=True)
class Key:
    kind: str  # str, bool, int, number, file, sheet, mail, choice, table, tables, map, values
    required: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    suffixes: tuple[str, ...] = ()
    nonempty: bool = False
    keys: dict[str, Key] = field(default_factory=dict)  # for tables
    hint: str = ""
    oneline: bool = False  # goes into a mail header: no line breaks


def _t(**keys: Key) -> dict[str, Key]:
    return keys


MAIL_KINDS = ("distribute", "remind", "correct", "receipt")
MESSAGE = _t(subject=Key("str", nonempty=True), body=Key("str", nonempty=True))

SCHEMA: dict[str, Key] = _t(
    survey=Key("table", required=True, keys=_t(
        id=Key("str", required=True, nonempty=True),
        title=Key("str", required=True, nonempty=True),
        plan=Key("str"), plan_short=Key("str"),
        fiscal_year=Key("int", required=True, low=1989, high=2200,
                        hint="西暦の年度を数字で指定してください（例：2021）。"),
        plan_start=Key("int", low=1989, high=2300, hint="計画期間の最初の年度を西暦で指定してください（例：2021）。"),
        plan_end=Key("int", low=1989, high=2300, hint="計画の最終年度を西暦で指定してください（例：2020）。"),
        group_label=Key("str", nonempty=True),
        master=Key("file", suffixes=(".xlsx", ".xlsm", ".csv")),
        departments=Key("file", suffixes=(".xlsx", ".xlsm", ".csv")),
        deadline=Key("str"), resubmit_deadline=Key("str"), contact=Key("str"),
        return_to=Key("str", hint="返送先（メールアドレスや部署名）を書いてください。"),
        rating_field=Key("str", nonempty=True), direction_field=Key("str"),
        achievement_field=Key("str"),
        previous=Key("str", hint="前年度の調査フォルダへの相対パスです（init --from が書きます）。"),
    )),
    form=Key("table", keys=_t(
        input_sheet=Key("sheet"), instructions_sheet=Key("sheet"), password=Key("str", high=255),
        prefill_previous=Key("bool"),
    )),
    outputs=Key("table", keys=_t(status=Key("file", suffixes=(".xlsx",)),
                                 summary=Key("file", suffixes=(".xlsx",)),
                                 report=Key("file", suffixes=(".docx",)))),
    report=Key("table", keys=_t(
        style=Key("choice", choices=("2025", "2020")),
        template=Key("file", suffixes=(".docx",),
                     hint="調査フォルダにある Word ファイル（.docx）の名前を指定してください。"),
        period=Key("str", hint="計画期間の名前を書いてください（例：\"前期実施計画\"）。"),
    )),
    groups=Key("tables", keys=_t(id=Key("str", required=True, nonempty=True), name=Key("str"))),
    scales=Key("map", required=True, keys=_t(values=Key("values", required=True))),
    fields=Key("tables", required=True, nonempty=True, keys=_t(
        name=Key("str", required=True, nonempty=True),
        type=Key("choice", choices=("choice", "number", "text", "date")),
        scale=Key("str", nonempty=True), required=Key("bool"),
        max_length=Key("int", low=1, high=32767, hint="1〜32767 の整数にしてください（Excel のセルの上限）。"),
        minimum=Key("number"), maximum=Key("number"), help=Key("str"),
        width=Key("number", low=4, high=80, hint="4〜80 の数値（列幅、全角1文字がおよそ2）にしてください。"),
        percent=Key("bool"),
        required_when=Key("choice", choices=("rating-changed",),
                          hint="\"rating-changed\"（評価が前年度評価と違うときだけ必須）を指定してください。"),
    )),
    mail=Key("table", keys=_t(**{
        "from": Key("mail"), "reply_to": Key("mail"), "smtp_host": Key("str", nonempty=True),
        "from_name": Key("str", high=64, oneline=True, hint="差出人の表示名（例：ICT推進課 ICT推進係）を1行で書いてください。"),
        "signature": Key("str", high=1000),
        "smtp_port": Key("int", low=1, high=65535), "starttls": Key("bool"), "ssl": Key("bool"),
        "username": Key("str"), "timeout": Key("number", low=1, high=600),
        **{kind: Key("table", keys=MESSAGE) for kind in MAIL_KINDS},
    })),
)

SCALE_VALUE = _t(value=Key("str", required=True, nonempty=True), definition=Key("str"),
                 ranked=Key("bool"), selectable=Key("bool"))

_TYPE_WORDS = {
    "str": "文字列（\"…\" で囲む）", "bool": "true または false（引用符なし）", "int": "整数（引用符なし）",
    "number": "数値（引用符なし）", "file": "ファイル名（\"…\" で囲む）", "sheet": "シート名（\"…\" で囲む）",
    "mail": "メールアドレス（\"…\" で囲む）", "choice": "次のいずれか", "table": "[表]",
    "tables": "[[表]] の並び", "map": "[表]", "values": "値の並び [ … ]",
}


def check(data: dict[str, Any], file: str) -> list[Problem]:
    """Every schema problem of a parsed survey.toml."""
    found: list[Problem] = []
    _table(data, SCHEMA, "", file, found)
    return found


def _problem(found: list[Problem], file: str, code: str, **kw: Any) -> None:
    found.append(P.make(code, file=file, **kw))


def _table(data: dict[str, Any], spec: dict[str, Key], where: str, file: str, found: list[Problem]) -> None:
    for key, value in data.items():
        path = f"{where}{key}"
        if key not in spec:
            near = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
            hint = f"「{near[0]}」の誤りではありませんか。" if near else f"使える項目: {'、'.join(spec)}。"
            _problem(found, file, "unknown-key", key=path, hint=hint)
            continue
        _value(value, spec[key], path, file, found)
    for key, k in spec.items():
        if k.required and key not in data:
            _problem(found, file, "missing-key", key=f"{where}{key}")


def _value(value: Any, k: Key, path: str, file: str, found: list[Problem]) -> None:
    def bad(hint: str = "") -> None:
        what = _TYPE_WORDS[k.kind]
        if k.kind == "choice":
            what += "：" + " / ".join(k.choices)
        _problem(found, file, "bad-value", key=path, value=_show(value),
                 hint=hint or k.hint or f"{what}で指定してください。")

    kind = k.kind
    if kind in ("str", "file", "sheet", "mail", "choice"):
        if not isinstance(value, str):
            return bad()
        if k.nonempty and not value.strip():
            return bad("空にはできません。")
        if k.high is not None and len(value) > k.high:
            return bad(f"{int(k.high)}文字以内にしてください。")
        if kind == "choice" and value not in k.choices:
            return bad()
        if kind == "mail" and value:
            why = mail_problem(value.strip())
            if why:
                return bad("name@example.lg.jp の形のメールアドレスにしてください。" if why == SHAPE else why + "。")
        if k.oneline and any(ord(ch) < 32 for ch in value):
            return bad("改行などの制御文字を含めず1行で書いてください。")
        if kind == "sheet":
            reason = sheet_name_problem(value)
            if reason or value.startswith("_"):
                return bad(f"Excel のシート名に使えません（{reason or '「_」で始まる名前はツールが使います'}）。")
        if kind == "file":
            return _file(value, k, path, file, found)
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else bad()
    if kind in ("int", "number"):
        ok = isinstance(value, int) if kind == "int" else isinstance(value, int | float)
        if not ok or isinstance(value, bool) or value != value:
            return bad()
        if (k.low is not None and value < k.low) or (k.high is not None and value > k.high):
            return bad()
        return None
    if kind == "table":
        if not isinstance(value, dict):
            return bad()
        return _table(value, k.keys, f"{path}.", file, found)
    if kind == "tables":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return bad()
        if k.nonempty and not value:
            return bad(f"[[{path}]] を1つ以上書いてください。")
        for i, item in enumerate(value, 1):
            _table(item, k.keys, f"{path}[{i}].", file, found)
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return bad()
        for name, item in value.items():
            if not isinstance(item, dict):
                _problem(found, file, "bad-value", key=f"{path}.{name}", value=_show(item),
                         hint="[scales.\"名前\"] の表にしてください。")
                continue
            _table(item, k.keys, f"{path}.\"{name}\".", file, found)
        return None
    if kind == "values":
        if not isinstance(value, list) or not value:
            return bad("値を1つ以上並べてください。")
        for i, item in enumerate(value, 1):
            if isinstance(item, str):
                continue
            if not isinstance(item, dict):
                _problem(found, file, "bad-value", key=f"{path}[{i}]", value=_show(item),
                         hint="\"値\" または { value = \"値\", definition = \"内容\" } にしてください。")
                continue
            _table(item, SCALE_VALUE, f"{path}[{i}].", file, found)
    return None


def _file(value: str, k: Key, path: str, file: str, found: list[Problem]) -> None:
    """A file name inside the survey folder: no folders, Windows-valid, the right kind."""
    name = value.strip()
    # The pattern holds / and \ (a folder); ".", ".." end with a dot, which Windows refuses.
    if not name or _WINDOWS_BAD.search(name) or name.endswith("."):
        _problem(found, file, "unsafe-path", key=path, value=_show(value))
        return
    if k.suffixes and not name.lower().endswith(k.suffixes):
        _problem(found, file, "bad-value", key=path, value=_show(value),
                 hint=f"拡張子を {' / '.join(k.suffixes)} にしてください。")


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    if isinstance(value, bool):
        text = "true" if value else "false"
    return text if len(text) <= 40 else text[:39] + "…"


def placeholders(data: dict[str, Any], file: str) -> list[Problem]:
    """The templates' 「（…を記入）」 left in a value that forms or mails show."""
    found: list[Problem] = []
    survey = data.get("survey")
    if not isinstance(survey, dict):
        return found  # the schema has said so
    for key in ("deadline", "contact", "return_to", "resubmit_deadline"):
        value = survey.get(key)
        if isinstance(value, str) and PLACEHOLDER.search(value):
            _problem(found, file, "placeholder-left", key=f"survey.{key}", value=_show(value))
    return found
