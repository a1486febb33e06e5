"""Findings as data: a Problem record and every user-facing message, keyed by a stable code.

The Japanese wording lives here, in one table, so it can be reviewed in one place.
Templates are `str.format` strings filled from the keyword arguments of `make()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"

# code -> (severity, message template)
MESSAGES: dict[str, tuple[str, str]] = {
    # --- survey definition (survey.toml) ---
    "toml-syntax": (ERROR, "TOML の書式に誤りがあります（{detail}）。該当行を修正してください。"),
    "missing-key": (ERROR, "必須の項目「{key}」がありません。追記してください。"),
    "bad-value": (ERROR, "「{key}」の値「{value}」は使えません。{hint}"),
    "unknown-field-type": (ERROR, "項目「{field}」の型「{value}」は使えません。choice / number / text / date のいずれかにしてください。"),
    "unknown-scale": (ERROR, "項目「{field}」が参照する選択肢「{value}」が [scales] にありません。名前を確認してください。"),
    "duplicate-field": (ERROR, "項目名「{field}」が重複しています。別の名前にしてください。"),
    "reserved-field": (ERROR, "項目名「{field}」は調査票の固定列と同じ名前です。別の名前にしてください。"),
    "empty-scale": (ERROR, "選択肢「{scale}」に値がありません。values に値を追加してください。"),
    "duplicate-choice": (ERROR, "選択肢「{scale}」の値「{value}」が重複しています。1つにしてください。"),
    "bad-choice": (ERROR, "選択肢「{scale}」の値「{value}」は使えません（空、カンマを含む、または255文字超）。値を修正してください。"),
    "bad-sheet-name": (ERROR, "シート名「{value}」は Excel で使えません（{reason}）。31文字以内で [ ] : * ? / \\ を含まない名前にしてください。"),
    "list-too-long": (NOTICE, "選択肢「{scale}」は Excel の直接指定の上限（255文字）を超えるため、非表示の一覧シートを参照するドロップダウンにします。"),
    "message-too-long": (WARNING, "選択肢「{scale}」の定義は入力時メッセージの上限（255文字）に収まらないため、メッセージでは「記入要領」シートを案内します。"),
    "bad-rating-field": (ERROR, "rating_field「{value}」は選択式（choice）の項目ではありません。fields の項目名を指定してください。"),
    "bad-direction-field": (ERROR, "direction_field「{value}」は選択式（choice）の項目ではありません。fields の項目名を指定してください。"),
    "no-ended-value": (WARNING, "前年度方向性が「完了」の施策がありますが、評価の選択肢に「終了」がないため、通常の施策として調査します。"),
    "password-too-long": (ERROR, "シート保護のパスワードは255文字以内にしてください。"),
    "file-name-clash": (ERROR, "所管課「{department}」と「{other}」は調査票のファイル名が同じになります。所管課名を区別できるようにしてください。"),
    # --- measure master ---
    "master-missing": (ERROR, "施策マスタ「{file}」が見つかりません。survey.toml の master に正しいファイル名を指定してください。"),
    "master-unreadable": (ERROR, "施策マスタを読み込めません（{detail}）。Excel で開けるか確認し、.xlsx または .csv で保存し直してください。"),
    "missing-column": (ERROR, "必須の列「{column}」が見出し行にありません。1行目に列名を追加してください。"),
    "duplicate-column": (ERROR, "列名「{column}」が見出し行に2回あります。片方の名前を変えてください。"),
    "empty-master": (ERROR, "施策が1件もありません。2行目以降に施策を入力してください。"),
    "empty-measure-number": (ERROR, "施策番号が空です。番号を入力してください。"),
    "duplicate-measure": (ERROR, "施策番号「{measure}」が {other_row} 行目と重複しています。番号を修正してください。"),
    "empty-measure-name": (ERROR, "施策番号「{measure}」の施策名が空です。入力してください。"),
    "empty-department": (ERROR, "施策番号「{measure}」の所管課が空です。入力してください。"),
    "empty-group": (ERROR, "施策番号「{measure}」の{label}が空です。入力してください。"),
    "unknown-group": (ERROR, "施策番号「{measure}」の{label}「{value}」は survey.toml の groups にありません。{choices} のいずれかにしてください。"),
    "bad-previous": (ERROR, "施策番号「{measure}」の{column}「{value}」は選択肢にありません。{choices} のいずれかにしてください。"),
    "example-row": (WARNING, "施策番号「{measure}」は init が入れた記入例の行です。実際の施策に書き換えるか削除してください。"),
    # --- collect: the file as a whole ---
    "lock-file": (NOTICE, "Excel が開いている間に作る一時ファイル（~$）のため読み飛ばしました。"),
    "temp-file": (NOTICE, "一時ファイルまたは隠しファイルのため読み飛ばしました。"),
    "not-spreadsheet": (NOTICE, "Excel ブック（.xlsx）ではないため読み飛ばしました。"),
    "empty-file": (ERROR, "ファイルが空（0バイト）です。保存し直したファイルを再提出してもらってください。"),
    "encrypted": (ERROR, "パスワードで保護（暗号化）されているため読み込めません。パスワードを解除して保存し直し、再提出してください。"),
    "legacy-xls": (ERROR, "古い Excel 形式（.xls）のため読み込めません。配布した .xlsx の調査票に入力して再提出してください。"),
    "not-a-workbook": (ERROR, "Excel ブックではありません（{detail}）。配布した調査票（.xlsx）を再提出してください。"),
    "corrupt": (ERROR, "ファイルが壊れているため読み込めません（{detail}）。保存し直して再提出してください。"),
    "too-large": (ERROR, "ファイルの展開後のサイズ等が上限を超えるため読み込みを中止しました（{detail}）。配布した調査票に入力して再提出してください。"),
    "hostile-xml": (ERROR, "通常の Excel が書き出さない定義（DOCTYPE/ENTITY）を含むため読み込みを中止しました。配布した調査票に入力して再提出してください。"),
    "reader-failed": (ERROR, "読み込み中に処理が異常終了しました（{detail}）。保存し直して再提出してください。"),
    "reader-timeout": (ERROR, "読み込みが {seconds} 秒を超えたため中止しました。配布した調査票に入力して再提出してください。"),
    "not-a-form": (ERROR, "この調査の調査票ではありません（識別情報がありません）。配布した調査票に入力して再提出してください。"),
    "other-survey": (ERROR, "別の調査（{value}）の調査票です。今回配布した調査票に入力して再提出してください。"),
    "other-year": (ERROR, "{value}年度の調査票です。今回（{expected}年度）配布した調査票に入力して再提出してください。"),
    "unknown-department": (ERROR, "所管課「{value}」は施策マスタにありません。配布した調査票か確認してください。"),
    "old-form": (WARNING, "調査票の配布後に施策マスタまたは調査定義が変わっています。最新の調査票で提出されているか確認してください。"),
    "missing-sheet": (ERROR, "シート「{sheet}」がありません。シート名を変更・削除せず、配布した調査票に入力して再提出してください。"),
    "superseded": (NOTICE, "同じ所管課のより新しい提出（{newer}）があるため、こちらは採用しませんでした（台帳には記録済み）。"),
    # --- collect: cells ---
    "required": (ERROR, "「{field}」が未入力です。入力してください。"),
    "unknown-choice": (ERROR, "「{field}」の「{value}」は選択肢にありません。一覧（{choices}）から選んでください。"),
    "normalized": (NOTICE, "「{field}」の「{value}」を「{normalized}」として読み取りました。"),
    "not-selectable": (ERROR, "「{field}」の「{value}」はこの施策では選べません。{choices} から選んでください。"),
    "not-a-number": (ERROR, "「{field}」の「{value}」は数値ではありません。単位や「約」を付けず半角数字だけを入力してください。"),
    "out-of-range": (ERROR, "「{field}」の「{value}」は範囲外です。{hint}"),
    "not-a-date": (ERROR, "「{field}」の「{value}」は日付として読めません。2025/4/1 の形で入力してください。"),
    "too-long": (ERROR, "「{field}」が {length} 文字あり、上限 {limit} 文字を超えています。短くしてください。"),
    "error-value": (ERROR, "「{field}」がエラー値「{value}」です。正しい値を入力してください。"),
    "formula-no-value": (ERROR, "「{field}」は数式ですが計算結果が保存されていません。値を直接入力してください。"),
    "formula-value": (NOTICE, "「{field}」は数式のため、計算結果「{value}」を読み取りました。"),
    "measure-missing": (ERROR, "施策番号「{measure}」の行がありません。行を削除せず、配布した調査票に入力してください。"),
    "measure-added": (ERROR, "施策番号「{measure}」はこの所管課の施策ではありません。行を追加せず、配布した調査票に入力してください。"),
    "measure-other-department": (ERROR, "施策番号「{measure}」は {value} の施策です。この所管課の調査票からは削除してください。"),
    "duplicate-row": (ERROR, "施策番号「{measure}」の行が2つあります。1行にしてください。"),
    "fixed-changed": (WARNING, "固定の項目「{field}」が配布時の「{expected}」から「{value}」に変わっています。変更はできないため、配布時の値で集計します。"),
    "ended-changed": (WARNING, "終了した施策の「{field}」が変更されています。「{expected}」として集計します。"),
}


@dataclass(frozen=True)
class Problem:
    """One finding: what (code, severity, message) and where (file, sheet, cell, row…)."""

    code: str
    severity: str
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    row: int | None = None
    column: str = ""
    measure: str = ""
    field: str = ""
    department: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def where(self) -> str:
        """The position in the words a user reads: file, sheet, cell / row, column."""
        parts = []
        if self.sheet:
            parts.append(f"シート「{self.sheet}」")
        if self.cell:
            parts.append(f"セル {self.cell}")
        if self.row is not None:
            parts.append(f"{self.row}行目")
        if self.column:
            parts.append(f"列「{self.column}」")
        if self.measure and not self.cell:
            parts.append(f"施策番号 {self.measure}")
        head = self.file
        if parts:
            head = f"{head} " + " ".join(parts) if head else " ".join(parts)
        return head

    def text(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict:
        return asdict(self)


SEVERITY_LABEL = {ERROR: "エラー", WARNING: "警告", NOTICE: "お知らせ"}


def make(code: str, *, severity: str | None = None, **kw) -> Problem:
    """Build a Problem from its code; keyword arguments fill the template and the position."""
    default_severity, template = MESSAGES[code]
    position = {k: kw.pop(k) for k in list(kw) if k in _POSITION}
    fill = {**position, **kw}
    message = template.format_map(_Blank(fill))
    return Problem(code=code, severity=severity or default_severity, message=message, **position)


_POSITION = {"file", "sheet", "cell", "row", "column", "measure", "field", "department"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
