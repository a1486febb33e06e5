"""Findings as data: a Problem record and every user-facing message, keyed by a stable code.

The Japanese wording lives here, in one table, so it can be reviewed in one place.
Templates are `str.format` strings filled from the keyword arguments of `make()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from xlsx_tool.textnorm import clip, clip_middle

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"

# code -> (severity, message template)
MESSAGES: dict[str, tuple[str, str]] = {
    # --- survey definition (survey.toml) ---
    "toml-syntax": (ERROR, "TOML の書式に誤りがあります（{detail}）。引用符・括弧・= の対応を確認して修正してください。"),
    "toml-encoding": (ERROR, "文字コードが UTF-8 ではありません。メモ帳などで UTF-8 を指定して保存し直してください。"),
    "toml-unreadable": (ERROR, "ファイルを読み取れません。別のプログラムで開いていないか、アクセス権を確認してください。"),
    "missing-key": (ERROR, "必須の項目「{key}」がありません。追記してください。"),
    "unknown-key": (ERROR, "項目「{key}」は使えません。{hint}"),
    "bad-value": (ERROR, "「{key}」の値「{value}」は使えません。{hint}"),
    "unsafe-path": (ERROR, "「{key}」の「{value}」は調査フォルダ内のファイル名として使えません。フォルダ名や / \\ : * ? \" < > | を含まない名前にしてください。"),
    "file-name-reused": (ERROR, "ファイル名「{value}」が別の用途（調査定義・施策マスタ・所管課一覧・台帳・出力）と重なっています。別の名前にしてください。"),
    "placeholder-left": (ERROR, "「{key}」がテンプレートの「{value}」のままです。実際の内容に書き換えてください（調査票やメールに表示されます）。"),
    "bad-placeholder": (ERROR, "「{key}」の差し込み項目 {{{value}}} は使えません。使える項目: {choices}。"),
    "bad-field-name": (ERROR, "項目名「{field}」は使えません（{reason}）。"),
    "bad-range": (ERROR, "項目「{field}」の minimum（{low}）が maximum（{high}）より大きくなっています。"),
    "duplicate-group": (ERROR, "groups の id「{value}」が重複しています。1つにしてください。"),
    "unknown-scale": (ERROR, "項目「{field}」が参照する選択肢「{value}」が [scales] にありません。名前を確認してください。"),
    "duplicate-field": (ERROR, "項目名「{field}」が重複しています。別の名前にしてください。"),
    "reserved-field": (ERROR, "項目名「{field}」は調査票の固定列と同じ名前です。別の名前にしてください。"),
    "empty-scale": (ERROR, "選択肢「{scale}」に値がありません。values に値を追加してください。"),
    "no-selectable-choice": (ERROR, "選択肢「{scale}」の値がすべて selectable = false で、調査票で選べる値がありません。少なくとも1つは選べるようにしてください。"),
    "duplicate-choice": (ERROR, "選択肢「{scale}」の値「{value}」が重複しています。1つにしてください。"),
    "bad-choice": (ERROR, "選択肢「{scale}」の値「{value}」は使えません（{reason}）。値を修正してください。"),
    "bad-sheet-name": (ERROR, "シート名「{value}」は Excel で使えません（{reason}）。31文字以内で [ ] : * ? / \\ を含まない名前にしてください。"),
    "list-too-long": (NOTICE, "選択肢「{scale}」は Excel の直接指定の上限（255文字）を超えるため、非表示の一覧シートを参照するドロップダウンにします。"),
    "message-too-long": (WARNING, "選択肢「{scale}」の定義は入力時メッセージの上限（255文字）に収まらないため、メッセージでは「記入要領」シートを案内します。"),
    "bad-rating-field": (ERROR, "rating_field「{value}」は fields にある選択式（choice）の項目ではありません。fields の選択式の項目名を指定してください。"),
    "bad-direction-field": (ERROR, "direction_field「{value}」は fields にある選択式（choice）の項目ではありません。fields の選択式の項目名を指定してください。"),
    "no-ended-value": (WARNING, "前年度方向性が「完了」の施策がありますが、評価の選択肢に「終了」がないため、通常の施策として調査します。"),
    "reason-field-type": (ERROR, "項目「{field}」の required_when = \"rating-changed\"（評価を変えたときの理由）は、文章の項目（type = \"text\"）にだけ指定できます。"),
    "reason-field-required": (ERROR, "項目「{field}」に required = true（常に必須）と required_when（評価を変えたときだけ必須）の両方があります。どちらか一方にしてください。"),
    "reason-field-twice": (ERROR, "required_when = \"rating-changed\" の項目が「{value}」と「{field}」の2つあります。評価の変更理由の項目は1つにしてください。"),
    # --- measure master ---
    "master-missing": (ERROR, "施策マスタ「{file}」が見つかりません。survey.toml の master に正しいファイル名を指定してください。"),
    "master-unreadable": (ERROR, "読み込めません（{detail}）。"),
    "missing-column": (ERROR, "必須の列「{column}」が見出し行にありません。見出し行に列名を追加してください。"),
    "duplicate-column": (ERROR, "列名「{column}」が見出し行に2回あります。片方の名前を変えてください。"),
    "empty-master": (ERROR, "施策が1件もありません。2行目以降に施策を入力してください。"),
    "empty-measure-number": (ERROR, "施策番号が空です。番号を入力してください。"),
    "duplicate-measure": (ERROR, "施策番号「{measure}」が {other_row} 行目と重複しています。番号を修正してください。"),
    "empty-measure-name": (ERROR, "施策番号「{measure}」の施策名が空です。入力してください。"),
    "empty-department": (ERROR, "施策番号「{measure}」の所管課が空です。入力してください。"),
    "empty-group": (ERROR, "施策番号「{measure}」の{label}が空です。入力してください。"),
    "unknown-group": (ERROR, "施策番号「{measure}」の{label}「{value}」は survey.toml の groups にありません。{choices} のいずれかにしてください。"),
    "bad-previous": (ERROR, "施策番号「{measure}」の{column}「{value}」は選択肢にありません。{choices} のいずれかにしてください。"),
    "example-row": (ERROR, "施策番号「{measure}」は init が入れた記入例の行です。実際の施策に書き換えるか削除してください。"),
    "department-spelling": (ERROR, "所管課「{value}」は {other_row} 行目の「{other}」と空白や全角・半角の違いだけで同じ名前です。どちらかに揃えてください（別々の調査票になってしまいます）。"),
    "number-shown-differently": (WARNING, "Excel では「{value}」と表示されていますが、番号は入力されている数値「{detail}」として扱います（調査票・集計結果にも「{detail}」と表示されます）。「{value}」のとおりにする場合は、セルの表示形式を「文字列」にして入力し直してください。"),
    "format-not-shown": (WARNING, "Excel の表示形式「{detail}」のとおりには表示できないため、「{value}」として扱います（調査票・集計結果にもこう表示されます）。表示どおりにする場合は、セルの表示形式を「文字列」にして入力し直してください。"),
    "error-in-table": (WARNING, "エラー値「{detail}」が入っているため、空欄として扱います。数式や参照先を確認してください。"),
    "group-without-name": (WARNING, "{label}「{value}」に名称がありません。survey.toml の [[groups]] に id と name を書くと、集計表と報告文案に名称が入ります。"),
    # --- year after year ---
    "reason-field-unused": (NOTICE, "前年度評価のある施策がないため、「{field}」（評価を変えた理由）の列は調査票に入れません（比べる前年度の評価がありません）。"),
    "previous-incomplete": (ERROR, "前年度の施策番号「{measure}」（{value}）に評価がありません。"),
    "previous-unreadable": (WARNING, "{detail}。前年度との比較（削除された施策の確認）はできません。"),
    "previous-number-unknown": (ERROR, "前年度施策番号「{value}」は前年度（{year}）の施策マスタにありません。番号を確認してください。"),
    "measure-removed-since-previous": (WARNING, "前年度（{year}）の施策番号「{measure}」（{value}）が今年度の施策マスタにありません。廃止・統合した施策ならこのままで構いません（番号を変えた場合は 前年度施策番号 の列に前年度の番号を書いてください）。"),
    "history-missing": (NOTICE, "{detail}。経年比較には読めた年度だけを載せます。"),
    # --- the report document (実績報告書.docx) ---
    "bad-plan-period": (ERROR, "計画期間の plan_start（{low}）が plan_end（{high}）より後になっています。年度（西暦）を確認してください。"),
    "report-template-missing": (WARNING, "報告書のひな形「{value}」が調査フォルダにありません。ファイル名を確認するか、survey.toml の [report] template の行を削除してください。見つかるまでは、ひな形なしの書式で報告書を作ります。"),
    "report-template-unreadable": (WARNING, "報告書のひな形「{value}」を Word 文書として読み取れません（{detail}）。Word で開いて「Word 文書 (*.docx)」として保存し直してください。それまでは、ひな形なしの書式で報告書を作ります。"),
    "achievements-empty": (NOTICE, "「{value}」の施策には「主な成果」がありません（施策マスタの「主な成果」列が空です）。報告書の＜主な成果＞は記入欄になります（評価の高い施策をコメントで示します）。"),
    # --- department list (所管課一覧) ---
    "departments-missing": (ERROR, "所管課一覧「{file}」が見つかりません。survey.toml の departments に正しいファイル名を指定してください（使わない場合は行を削除）。"),
    "departments-empty": (ERROR, "所管課一覧に行がありません。1行目に 所管課・担当者・内線・メール の見出し、2行目以降に各課を入力してください。"),
    "bad-mail": (ERROR, "メールアドレス「{value}」は使えません。{detail}。"),
    "department-not-in-master": (WARNING, "所管課「{value}」は施策マスタにありません（綴りの違いか、今年度は施策のない課です）。"),
    "duplicate-department": (ERROR, "所管課「{value}」が {other_row} 行目と重複しています。1行にしてください。"),
    "contact-without-department": (ERROR, "担当者などが書かれた行に所管課がありません。所管課を入力するか、行を削除してください。"),
    "department-no-contact": (WARNING, "所管課「{value}」が所管課一覧にありません。調査票の連絡先やメールの宛先が空になります。"),
    # --- collect: the file as a whole ---
    "folder-denied": (NOTICE, "フォルダを読む権限がないため、中のファイルを確認できませんでした。アクセス権を確認してください。"),
    "folder-unreadable": (NOTICE, "フォルダを読み取れませんでした。"),
    "broken-link": (NOTICE, "リンク（ショートカット）の先にファイルがないため読み飛ばしました。"),
    "link-loop": (NOTICE, "リンクが循環しているため読み飛ばしました。"),
    "entry-unreadable": (NOTICE, "ファイルの情報を読み取れないため読み飛ばしました。"),
    "path-too-long": (WARNING, "パス（フォルダ名とファイル名）が長すぎるため読み取れません（Windows では 260 文字まで）。"
                               "2_回収 の中のフォルダ名やファイル名を短くするか、調査フォルダを浅い場所に移してください。"),
    "too-deep": (NOTICE, "フォルダの階層が深すぎる（32 階層超）ため、中を確認しませんでした。ファイルを浅い場所に移してください。"),
    "special-file": (NOTICE, "通常のファイルではない（名前付きパイプ・デバイスなど）ため読み飛ばしました。"),
    "lock-file": (NOTICE, "Excel が開いている間に作る一時ファイル（~$）のため読み飛ばしました。"),
    "temp-file": (NOTICE, "一時ファイルまたは隠しファイルのため読み飛ばしました。"),
    "not-spreadsheet": (NOTICE, "Excel ブック（.xlsx）ではないため読み飛ばしました。"),
    "other-document": (NOTICE, "中身が Excel ブックではない文書のため読み飛ばしました（ファイル名ではなく中身で判断しています）。"),
    "empty-file": (ERROR, "ファイルが空（0バイト）です。保存し直したファイルを再提出してもらってください。"),
    "encrypted": (ERROR, "パスワードで保護（暗号化）されているため読み込めません。パスワードを解除して保存し直し、再提出してください。"),
    "legacy-xls": (ERROR, "古い Excel 形式（.xls）のため読み込めません。配布した .xlsx の調査票に入力して再提出してください。"),
    "not-a-workbook": (ERROR, "Excel ブックではありません（{detail}）。配布した調査票（.xlsx）を再提出してください。"),
    "ods": (ERROR, "OpenDocument 形式（.ods）で保存されています。LibreOffice では「名前を付けて保存」で Excel 2007-365（.xlsx）形式を選んで保存し直し、再提出してください。"),
    "xlsb": (ERROR, "Excel バイナリ形式（.xlsb）で保存されています。「名前を付けて保存」で Excel ブック（.xlsx）形式を選んで保存し直し、再提出してください。"),
    "zip-archive": (ERROR, "{detail}です。調査票ではないため読み込めません。中の調査票（.xlsx）を取り出して 2_回収 に置き直してください。"),
    "no-permission": (ERROR, "このファイルを読み取る権限がありません（提出者の不備ではありません）。ファイルのアクセス権を確認するか、コピーを 2_回収 に置き直してください。"),
    "unreadable": (ERROR, "ファイルを読み取れませんでした（{detail}）。ファイルを 2_回収 に置き直して再実行してください。"),
    "corrupt": (ERROR, "ファイルが壊れているため読み込めません（{detail}）。保存し直して再提出してください。"),
    "too-large": (ERROR, "ファイルの展開後のサイズ等が上限を超えるため読み込みを中止しました（{detail}）。配布した調査票に入力して再提出してください。"),
    "hostile-xml": (ERROR, "通常の Excel が書き出さない定義（DOCTYPE/ENTITY）を含むため読み込みを中止しました。配布した調査票に入力して再提出してください。"),
    "reader-failed": (ERROR, "読み込み中に処理が異常終了しました（{detail}）。保存し直して再提出してください。"),
    "reader-timeout": (ERROR, "読み込みが {seconds} 秒を超えたため中止しました。配布した調査票に入力して再提出してください。"),
    "not-a-form": (ERROR, "この調査の調査票ではありません（識別情報がありません）。配布した調査票に入力して再提出してください。"),
    "other-survey": (ERROR, "別の調査（{value}）の調査票です。今回配布した調査票に入力して再提出してください。"),
    "other-year": (ERROR, "{value}の調査票です。今回（{expected}）配布した調査票に入力して再提出してください。"),
    "unknown-department": (ERROR, "所管課「{value}」は施策マスタにありません。配布した調査票か確認してください。"),
    "department-renamed": (WARNING, "調査票の所管課「{value}」は施策マスタにありませんが、この調査票の施策は現在すべて「{current}」の施策のため、「{current}」の提出として読み取りました（組織改正などによる課名の変更）。"),
    "department-split": (ERROR, "調査票の所管課「{value}」は施策マスタにありません。この調査票の施策は現在「{current}」に分かれているため、どの課の回答とも決められません。それぞれの課の新しい調査票（1_配布）で回答してもらってください。"),
    "old-form": (WARNING, "この調査票は施策マスタまたは調査定義が変わる前に作った版です。変わった点は下の各行のとおり扱いました。"),
    "input-sheet-hidden": (ERROR, "シート「{sheet}」が非表示になっているため読み取りませんでした（表示されている別のシートの内容とは限りません）。非表示を解除し、配布した調査票の「{sheet}」シートに入力して再提出してください。"),
    "missing-sheet": (ERROR, "シート「{sheet}」がありません。シート名を変更・削除せず、配布した調査票に入力して再提出してください。"),
    "layout-changed": (ERROR, "列の構成が変わっているため読み取れません（{detail}）。列の追加・削除・見出しの変更をせず、配布した調査票に入力して再提出してください。"),
    "columns-moved": (NOTICE, "列の位置が配布時と違います（列の挿入・削除・移動）。各項目を見出しで確認して読み取りました。"),
    "column-added": (NOTICE, "追加された列「{value}」は集計に使いません。"),
    "fixed-column-missing": (WARNING, "固定の列「{value}」が見つかりません（削除された可能性があります）。回答の読み取りには影響しません。"),
    "superseded": (NOTICE, "同じ所管課の「{newer}」を採用したため、こちらは採用しませんでした（{why}。台帳には記録済み）。"),
    "duplicate-file": (NOTICE, "「{other}」と同じ内容のファイルです。同じ提出として扱いました。"),
    "newest-file-missing": (WARNING, "この課の最新の提出ですが、2_回収 にありません（移動・削除された可能性があります）。台帳に残っているこのファイルの回答を使っています。ファイルを 2_回収 に戻すか、使わない場合は collect に --forget-missing を付けて実行してください。"),
    "newest-file-gone-stale": (WARNING, "この課の最新の提出ですが、2_回収 になく、施策マスタ・調査定義の変更後に確認し直せないため使いませんでした。ファイルを 2_回収 に戻して collect を再実行してください。"),
    "order-unknown": (WARNING, "「{other}」とどちらが新しいか、日時では判断できないため、ファイル名の順でこちらを採用しました。違う場合は古い方を 2_回収 から移してください。"),
    "older-save-chosen": (WARNING, "こちらを採用しましたが（{why}）、ファイル内の保存日時は「{other}」の方が新しくなっています。古いファイルが再送されていないか確認し、違う場合は古い方を 2_回収 から移してください。"),
    # --- mail delivery: what the mail server replied, and what to do ---
    "smtp-recipient-refused": (ERROR, "メールサーバーが宛先 {value} を受け付けませんでした（応答 {reply}）。所管課一覧のメールアドレスに誤りがないか確認してください。"),
    "smtp-recipient-later": (ERROR, "メールサーバーが宛先 {value} を一時的に受け付けませんでした（応答 {reply}）。しばらくしてから再実行してください。"),
    "smtp-too-large": (ERROR, "メールが大きすぎるため受け付けられませんでした（応答 {reply}）。メールサーバーの上限を確認するか、調査票をメール以外（共有フォルダなど）で渡してください。"),
    "smtp-data-refused": (ERROR, "メールサーバーがこのメールを受け付けませんでした（応答 {reply}）。迷惑メール判定など、拒否の理由をメールサーバーの管理者に確認してください。"),
    "smtp-sender-refused": (ERROR, "メールサーバーが差出人 {value} を受け付けませんでした（応答 {reply}）。survey.toml の [mail] の from を確認してください。"),
    "smtp-auth-required": (ERROR, "メールサーバーが送信の前にログインを求めています（応答 {reply}）。survey.toml の [mail] に username を、環境変数 XLSX_TOOL_SMTP_PASSWORD にパスワードを設定してください。"),
    "smtp-no-auth": (ERROR, "メールサーバー {value} はこの接続ではログイン（AUTH）を受け付けません。survey.toml の [mail] で starttls = true にするか、username を外してください。"),
    "smtp-auth-failed": (ERROR, "メールサーバーにログインできません（応答 {reply}）。survey.toml の [mail] の username と環境変数 XLSX_TOOL_SMTP_PASSWORD のパスワードを確認してください。"),
    "smtp-closing": (ERROR, "メールサーバーが接続を打ち切りました（応答 {reply}：サービス停止中または混雑）。しばらくしてから再実行してください（送信済みのメールは二度送りません）。"),
    "smtp-not-sent": (ERROR, "メールサーバーが接続を打ち切ったため送信していません。再実行すると送信します。"),
    "smtp-disconnected": (ERROR, "メールサーバーとの接続が切れました。再実行すると、送れなかったメールだけを送ります。"),
    "smtp-tls": (ERROR, "メールサーバー {value} との暗号化（TLS）を始められません（{detail}）。survey.toml の [mail] の starttls・ssl とポート（STARTTLS は 587、SSL は 465）、サーバーの証明書を確認してください。"),
    "smtp-connect": (ERROR, "メールサーバー {value} に接続できません。サーバー名・ポート・ネットワークを確認してください（下書きは --send なしで作れます）。"),
    "smtp-other": (ERROR, "メールサーバーが応答 {reply} を返したため送信できませんでした。応答コードをメールサーバーの管理者に確認してください。"),
    "respondent-missing": (WARNING, "調査票上部の{value}が空欄です。内容の確認でご連絡するため、記入した方の氏名と内線を入力してください。"),
    # --- collect: cells ---
    "required": (ERROR, "「{field}」が未入力です。入力してください。"),
    "reason-required": (ERROR, "評価を前年度の「{previous}」から「{current}」に変えた場合は「{field}」が必要です。変えた理由を入力してください（例：新システムの運用を開始した）。"),
    "unknown-choice": (ERROR, "「{field}」の「{value}」は選択肢にありません。一覧（{choices}）から選んでください。"),
    "normalized": (NOTICE, "「{field}」の「{value}」を「{normalized}」として読み取りました。"),
    "not-selectable": (ERROR, "「{field}」の「{value}」はこの施策では選べません。{choices} から選んでください。"),
    "not-a-number": (ERROR, "「{field}」の「{value}」は数値ではありません。単位や「約」を付けず半角数字だけを入力してください。"),
    "out-of-range": (ERROR, "「{field}」の「{value}」は範囲外です。{hint}"),
    "not-a-date": (ERROR, "「{field}」の「{value}」は日付として読めません。2025/4/1 の形で入力してください。"),
    "too-long": (ERROR, "「{field}」が {length} 文字あり、上限 {limit} 文字を超えています。短くしてください。"),
    "shown-differs": (ERROR, "「{field}」のセルは「{shown}」と表示されていますが、値は「{value}」です（セルの書式で表示が変えられています）。セルの書式を「標準」に戻し、値を入力し直してください。"),
    "error-value": (ERROR, "「{field}」がエラー値「{value}」です。正しい値を入力してください。"),
    "formula-no-value": (ERROR, "「{field}」は数式ですが計算結果が保存されていません。値を直接入力してください。"),
    "formula-value": (NOTICE, "「{field}」は数式のため、計算結果「{value}」を読み取りました。"),
    "shown-as-number": (NOTICE, "「{field}」は表示形式「{detail}」のとおりには読み取れないため、「{value}」として受け付けました。表示どおりの文字で回答する場合は、セルの表示形式を「文字列」にして入力し直してください。"),
    "measure-missing": (ERROR, "施策番号「{measure}」の行がありません。行を削除せず、配布した調査票に入力してください。"),
    "measure-added-after-form": (WARNING, "施策番号「{measure}」は調査票の作成後に施策マスタへ追加された施策のため、この調査票にはありません（提出者の不備ではありません）。この施策は未回答です。新しい調査票を送って回答を依頼してください。"),
    "row-number-changed": (ERROR, "施策名「{value}」（この調査票の施策番号「{other}」）の行の施策番号が「{typed}」に書き換えられているため、この行は読み取りませんでした。配布したときの施策番号に戻して再提出してください。"),
    "measure-renumbered": (WARNING, "この行の施策「{name}」は、調査票の作成後に施策マスタで施策番号が「{value}」から「{current}」に変わりました。施策番号「{current}」の回答として読み取りました。"),
    "measure-renamed-after-form": (WARNING, "施策番号「{measure}」の施策名が、調査票の作成後に施策マスタで「{value}」から「{current}」に変わっています。同じ施策の回答として集計します。別の施策に替えた場合は、新しい調査票（1_配布）で回答し直してもらってください。"),
    "measure-ambiguous-after-form": (WARNING, "施策番号「{measure}」は調査票の作成後に施策マスタで「{value}」から「{current}」に変わり、「{value}」という名前の施策は今は複数あるため、この行の回答がどの施策のものか決められません。この施策は未回答です。新しい調査票（1_配布）で回答を依頼してください（提出者の不備ではありません）。"),
    "measure-removed-after-form": (NOTICE, "施策番号「{measure}」は調査票の作成後に施策マスタでこの所管課の施策ではなくなったため{value}、この行の回答は集計に使いません。"),
    "master-changed-value": (NOTICE, "「{field}」は調査票の作成後に施策マスタで変更されています（調査票では「{value}」、現在は「{current}」）。現在の施策マスタの値で集計します。"),
    "number-is-date": (ERROR, "「{field}」の値が日付（{value}）として保存されています（「1/2」のような入力を Excel は日付に変えます）。数値だけを半角数字で入力し直してください。"),
    "number-is-percent": (ERROR, "「{field}」の値がパーセント（{value}）として保存されています。「%」を付けず、数値だけを入力し直してください。"),
    "measure-added": (ERROR, "施策番号「{measure}」はこの所管課の施策ではありません。行を追加せず、配布した調査票に入力してください。"),
    "measure-other-department": (ERROR, "施策番号「{measure}」は {value} の施策です。この所管課の調査票からは削除してください。"),
    "duplicate-row": (ERROR, "施策番号「{measure}」の行が2つあります。1行にしてください。"),
    "fixed-changed": (WARNING, "固定の項目「{field}」が配布時の「{expected}」から「{value}」に書き換えられています。変更はできないため、配布時の値で集計します。"),
    "ended-changed": (WARNING, "終了した施策の「{field}」が変更されています。「{expected}」として集計します。"),
}


# Sentences of a command that cannot go on (errors.ToolError and its kinds), keyed like the findings:
# `sentence(code, …)` fills one, and every placeholder must be given (a test holds every call site).
SENTENCES: dict[str, str] = {
    "init-no-folder": "作成する調査フォルダを指定してください（例: xlsx-tool init 令和7年度調査）。",
    "unknown-template": "テンプレート「{name}」はありません。{names} のいずれかを指定してください（一覧は xlsx-tool init --list）。",
    "survey-exists": "{folder} には既に {file} があります。別のフォルダを指定してください。",
    "no-definition": "{folder} に {file} がありません。調査フォルダを指定するか、xlsx-tool init で作成してください。",
    "demo-folder-used": "{folder} には既に調査があります。空のフォルダを指定してください。",
    "demo-unanswered": "例の回答に未回答の施策があります（同梱データの誤りです）。",
    "definition-errors": "調査定義または施策マスタに {errors} 件のエラーがあります。xlsx-tool check {folder} で確認し、修正してから再実行してください。",
    "forms-changed": "配布済みの調査票と内容が変わる所管課が {count} 課あります（{departments}）。施策マスタや調査定義を配布後に変えた場合は、--force を付けて再実行すると新しい版を作り、配布済みの版は {kept} に残します。",
    "stale-answers": "回収（collect）の後に調査定義（survey.toml）または施策マスタが変更されています。回答を新しい施策マスタで確認し直すため、xlsx-tool collect {folder} を実行してから集計してください（xlsx-tool run なら続けて行います）。",
    "previous-errors": "前年度の調査フォルダ {folder} の調査定義または施策マスタにエラーがあります。xlsx-tool check {folder} で確認してください。",
    "previous-not-collected": "前年度の調査フォルダ {folder} に、現在の施策マスタで回収した結果がありません。xlsx-tool collect {folder} を実行してから引き継いでください。",
    "previous-incomplete-measures": "前年度に評価のない施策が {count} 件あります。前年度の回収を完了させるか、前年度評価を空欄のまま引き継ぐ場合は --allow-incomplete を付けてください。",
    "prepared-master-unreadable": "用意されていた施策マスタ {file} を読み込めません。",
    "prepared-master-no-header": "用意されていた施策マスタ {file} に見出し行がありません。見出し行と施策を入力するか、ファイルを移してから再実行してください。",
    "prepared-master-no-number": "用意されていた施策マスタ {file} に「{column}」の列がありません。",
    "ledger-too-new": "回収台帳 {path} は、より新しい版の xlsx-tool で作られています（台帳の形式 {version}、この版が使えるのは {supported} まで）。xlsx-tool を新しい版に更新してから実行してください。",
    "ledger-unusable": "回収台帳 {path} を使えません。{why}。",
    "ledger-locked": "別のプログラム（別の xlsx-tool や DB ツール）が使用中です。終了してから再実行してください",
    "ledger-readonly": "書き込みできません（読み取り専用）。ファイルやフォルダの設定を確認してください",
    "ledger-disk-full": "ディスクの空き容量が足りません",
    "ledger-corrupt": "台帳ファイルが壊れています。別名で退避してから collect を再実行してください",
    "ledger-cannot-open": "開けません。ファイルのアクセス権や空き容量を確認してください",
    # a path longer than the system takes (Windows: 260 characters unless long paths are enabled)
    "too-long-path": "パスが長すぎます（{length} 文字）。調査フォルダを浅い場所（例: C:\\調査）に移すか、Windows の長いパスの設定を有効にしてから再実行してください",
    "mail-forms-missing": "調査票がまだ作られていない所管課があります（{departments}）。xlsx-tool generate {folder} を実行してから配布してください。",
    "mail-not-collected": "まだ回収（collect）の結果がありません。xlsx-tool collect {folder} を実行してから{kind}のメールを作ってください。",
    "mail-stale": "最後の回収（collect）の後に調査定義または施策マスタが変更されています。xlsx-tool collect {folder} を実行してからメールを作ってください。",
    "mail-copy-missing": "{department} の修正依頼の調査票 {file} がありません。xlsx-tool collect を実行し直してください。",
    "mail-no-host": "survey.toml の [mail] に smtp_host（送信に使うメールサーバー）がありません。下書き（--send なし）を作るか、smtp_host と smtp_port を設定してください。",
    "mail-no-sender": "survey.toml の [mail] に from（差出人アドレス）がありません。設定してから送信してください。",
    "mail-no-password": "メールサーバーのパスワードを環境変数 {variable} に設定してください（パスワードはファイルに書きません）。",
    "xlsx-write-failed": "Excel ファイルの書き込みに失敗しました（{what}、コード {ret}）。",
    "xlsx-close-failed": "Excel ファイルを作成できませんでした（{detail}）。",
    "output-unwritable": "{path} に書き込めません。{why}。",
    "output-disk-full": "ディスクの空き容量が足りません。空き容量を増やしてから再実行してください",
    "output-read-only": "書き込みできない場所（読み取り専用）です。書き込めるフォルダで実行してください",
    "output-open-in-excel": "Excel で開いたままか、書き込む権限がありません。ファイルを閉じ、フォルダやファイルの読み取り専用の設定を確認してから再実行してください",
    "output-file-in-the-way": "同じ名前のファイルがあるためフォルダを作れません。そのファイルの名前を変えてから再実行してください",
    "output-folder-in-the-way": "同じ名前のフォルダがあります。フォルダの名前を変えてから再実行してください",
    "output-other": "書き込めませんでした。ディスクやネットワークの状態を確認してから再実行してください",
    # why the section's own table (施策マスタ, 所管課一覧) cannot be read: the detail of master-unreadable
    "table-too-large": "ファイルが大きすぎます（上限 50 MB）",
    "table-no-permission": "読み取る権限がありません",
    "table-unreadable": "ファイルを読み取れません",
    "table-encoding": "文字コードを判別できません。UTF-8 または Shift_JIS で保存してください",
    "table-not-text": "テキスト（CSV）ではありません。Excel で開いて .xlsx 形式で保存し直してください",
    "table-too-many-rows": "行が {limit} 行を超えています",
    "table-csv-syntax": "CSV の {row} 行目付近の書式が読めません（引用符 \" の対応を確認してください）",
    "table-empty-file": "ファイルが空（0 バイト）です",
    "table-encrypted": "パスワードで保護（暗号化）されています。パスワードを解除して保存し直してください",
    "table-legacy-xls": "古い Excel 形式（.xls）です。Excel で .xlsx 形式で保存し直してください",
    "table-xlsb": "Excel バイナリ形式（.xlsb）です。.xlsx 形式で保存し直してください",
    "table-ods": "OpenDocument 形式（.ods）です。.xlsx 形式で保存し直してください",
    "table-zip-archive": "ZIP 圧縮ファイルです。展開した .xlsx を指定してください",
    "table-no-permission-file": "読み取る権限がありません。ファイルのアクセス権を確認してください",
    "table-hostile-xml": "通常の Excel が書き出さない定義（DOCTYPE）を含みます。Excel で開いて保存し直してください",
    "table-reader-timeout": "読み込みに時間がかかりすぎるため中止しました",
    "table-other": "{detail}（Excel で開いて .xlsx 形式で保存し直してください）",
    "table-unknown": "Excel で開けるか確認し、.xlsx 形式で保存し直してください",
}


def sentence(code: str, /, **kw: Any) -> str:
    """One sentence of SENTENCES, every placeholder filled (a missing one is a KeyError)."""
    return SENTENCES[code].format(**kw)


# A few words per code, for tables that summarise what is wrong (回収状況, the console).
SHORT: dict[str, str] = {
    "number-shown-differently": "表示と異なる番号", "format-not-shown": "再現できない表示形式",
    "error-in-table": "エラー値のセル", "shown-as-number": "表示形式どおりに読めない値",
    "required": "未入力", "unknown-choice": "選択肢にない値", "not-selectable": "選べない値",
    "not-a-number": "数値でない", "number-is-date": "日付になった数値", "number-is-percent": "%付きの数値",
    "out-of-range": "範囲外の数値", "not-a-date": "日付でない", "too-long": "文字数超過",
    "error-value": "エラー値", "formula-no-value": "計算結果のない数式", "measure-missing": "行の削除",
    "measure-added": "行の追加", "measure-other-department": "他課の施策の行", "duplicate-row": "行の重複",
    "measure-added-after-form": "作成後に追加された施策", "layout-changed": "列の構成の変更",
    "missing-sheet": "シートの削除・改名", "fixed-changed": "固定項目の書き換え",
    "ended-changed": "終了施策の書き換え", "old-form": "旧版の調査票", "empty-file": "空のファイル",
    "encrypted": "パスワード付き", "legacy-xls": ".xls 形式", "ods": ".ods 形式", "xlsb": ".xlsb 形式",
    "not-a-workbook": "Excel 以外のファイル", "zip-archive": "ZIP ファイル", "corrupt": "壊れたファイル",
    "too-large": "大きすぎるファイル", "hostile-xml": "不審なファイル", "reader-failed": "読み込み失敗",
    "reader-timeout": "読み込み時間切れ", "not-a-form": "調査票でない", "other-survey": "別の調査の調査票",
    "other-year": "別の年度の調査票", "unknown-department": "不明な所管課", "no-permission": "権限なし",
    "unreadable": "読み取り不可", "superseded": "新しい提出あり",
    "department-renamed": "課名の変更", "department-split": "施策が複数の課に分かれた調査票",
    "row-number-changed": "施策番号・施策名の書き換え", "measure-renumbered": "施策番号の変更",
    "measure-renamed-after-form": "作成後の施策名の変更", "measure-ambiguous-after-form": "作成後に番号が変わり特定できない施策",
    "newest-file-missing": "最新の提出が 2_回収 にない", "newest-file-gone-stale": "最新の提出が 2_回収 にない",
    "order-unknown": "新旧が不明な提出", "shown-differs": "表示と値が違うセル", "input-sheet-hidden": "非表示の調査票シート", "older-save-chosen": "保存日時が古い提出を採用",
    "respondent-missing": "記入者・内線の空欄", "reason-required": "評価の変更理由の未入力",
}


def short(code: str) -> str:
    return SHORT.get(code, code)


def summary(problems: list[Problem] | tuple[Problem, ...], severity: str = ERROR, limit: int = 4) -> str:
    """「未入力 2件、選択肢にない値 1件」: what is wrong, in a few words."""
    counts: dict[str, int] = {}
    for p in problems:
        if p.severity == severity:
            counts[short(p.code)] = counts.get(short(p.code), 0) + 1
    parts = [f"{k} {v}件" for k, v in counts.items()]
    if len(parts) > limit:
        parts = parts[:limit] + [f"ほか {len(parts) - limit} 種類"]
    return "、".join(parts)


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
        if self.measure and not self.message.startswith(f"施策番号「{self.measure}」"):
            # with the cell too: a department finds its row by the number, not by E6
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


def make(code: str, *, severity: str | None = None, **kw: Any) -> Problem:
    """Build a Problem from its code; keyword arguments fill the template and the position.

    Every value is bounded (a 2-million-character header must not become a 4 MB line).
    """
    default_severity, template = MESSAGES[code]
    position: dict[str, Any] = {k: _bound(k, kw.pop(k)) for k in list(kw) if k in _POSITION}
    kw = {k: clip(_one_line(str(v)), 160 if k in ("detail", "hint") else 60) if isinstance(v, str) else v
          for k, v in kw.items()}
    fill = {**position, **kw}
    message = template.format_map(_Blank(fill))
    return Problem(code=code, severity=severity or default_severity, message=message, **position)


_POSITION = {"file", "sheet", "cell", "row", "column", "measure", "field", "department"}
_POSITION_LIMIT = {"file": 160, "sheet": 31, "cell": 12, "column": 40, "measure": 20, "field": 40,
                   "department": 60}


def _one_line(text: str) -> str:
    return " ".join(text.split()) if any(ch in text for ch in "\r\n\t") else text


def _bound(key: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    value = _one_line(value)
    return clip_middle(value, _POSITION_LIMIT[key]) if key == "file" else clip(value, _POSITION_LIMIT[key])


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
