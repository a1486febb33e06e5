"""The year of the 2020-style reference report (../shared/reference/004_…), as a survey.

「板橋区ICT推進・活用計画2020」令和元年度 (FY2019): 41 measures in six groups, rated against
平成30年度. The numbers are the report's: A評価 24, B評価 14, 終了 3; directions 計画どおり推進 36
(A:23 B:13), 計画修正 1 (B:1), 完了 4 (A:1 終了:3); the changes it names (No.4, 36, 21, 24, 27,
40, 41 improved, No.35 declined). Measures the report does not name are numbered to fit. The
departments give the reasons the report's change sentences carry (評価の変更理由, issue 26).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.survey_helpers import fill_placeholders, write_master

ROOT = Path(__file__).resolve().parents[1]
GROUPS = [("①", "開かれた区政の実現"), ("②", "区民サービスの向上"), ("③", "情報セキュリティの強化"),
          ("④", "安全・安心の向上"), ("⑤", "行政事務の効率化"), ("計画に関する進捗管理", "")]
NAMES = {4: "新公会計システムの運用", 36: "施設利用管理システムの再構築及び運用", 21: "障害時緊急対応手順の運用",
         24: "全庁的な情報リテラシーの向上", 27: "EMSツールを活用した環境データの一元管理",
         40: "RPAを活用した業務効率化の推進", 41: "AIを活用したシステムの導入",
         35: "板橋区教育ICT化推進計画の進捗管理"}
# group index -> {measure number: this year's rating}
RATINGS = {
    0: {1: "A", 2: "A", 3: "A", 4: "A"},
    1: {5: "A", 6: "A", 7: "A", 8: "A", 9: "A", 36: "A", 10: "B", 11: "B", 12: "B", 13: "B", 37: "B",
        14: "終了", 15: "終了"},
    2: {16: "A", 17: "A", 18: "B"},
    3: {19: "A", 20: "A", 21: "A", 22: "B"},
    4: {23: "A", 25: "A", 26: "A", 27: "A", 28: "A", 29: "A", 38: "A", 40: "A", 41: "A",
        24: "B", 30: "B", 31: "B", 32: "B", 39: "B", 33: "終了"},
    5: {34: "B", 35: "B"},
}
PREVIOUS = {4: "B", 36: "B", 21: "B", 24: "C", 27: "B", 40: "B", 41: "B", 35: "A"}  # the rest: unchanged
# the reasons as the reference report words them (its ３ 各基本目標別の実施結果); No.27, 40 and 41 share one
REASONS = {4: "新公会計システムにて財務諸表を作成及び公表をすることができた", 36: "令和元年５月に運用が開始した",
           21: "平成30年度から引き続き指標の目標を100％で維持しているため", 24: "指標①の実績値が大きく伸びた",
           27: "着実に検討が進み、計画どおりのスケジュールで進捗しており",
           40: "着実に検討が進み、計画どおりのスケジュールで進捗しており",
           41: "着実に検討が進み、計画どおりのスケジュールで進捗しており",
           35: "国の新たな動きに対応する必要が出てきた影響により"}
ENDED = {14, 15, 33}  # 完了 in 平成30年度: 終了 now, not asked
DIRECTION = {9: "完了", 22: "計画修正"}  # the rest: 計画どおり推進
DEPARTMENTS = ["情報政策課", "区政情報課", "総務課", "危機管理室", "財政課", "教育総務課"]


def pieces(sentence: str) -> list[str]:
    """A change sentence cut where the report's own wording differs only in form (its 【No24 …】
    without a dot or a space, a comma after a reason or not): each piece must be the report's."""
    return [p for p in re.split(r"、|【No\.\S+ |】", sentence) if p]


def build(folder: Path) -> dict[str, dict[str, str]]:
    """Write the survey folder; return the answers each department gives (measure -> field -> value)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "templates" / "2020.toml").read_text(encoding="utf-8")
    text = fill_placeholders(text.replace('master = "施策マスタ.xlsx"', 'master = "施策マスタ.csv"'))
    text = text.replace("fiscal_year = 2025", "fiscal_year = 2019")
    text = text.replace('plan = "ICT推進計画2020"', 'plan = "板橋区ICT推進・活用計画2020"\nplan_end = 2020')
    groups = "".join(f'\n[[groups]]\nid = "{gid}"\nname = "{name}"\n' for gid, name in GROUPS)
    text = text.replace("[scales.", groups + "\n[scales.", 1)
    (folder / "survey.toml").write_text(text, encoding="utf-8")
    rows, answers = [], {}
    for g, ratings in RATINGS.items():
        gid = GROUPS[g][0]
        for number, rating in ratings.items():
            ended = number in ENDED
            previous = PREVIOUS.get(number, "A" if ended else rating)
            rows.append([number, NAMES.get(number, f"施策{number}"), gid, DEPARTMENTS[number % len(DEPARTMENTS)],
                         "", "", "", previous, "完了" if ended else "計画どおり推進"])
            if not ended:
                answers[str(number)] = {"評価": rating, "方向性": DIRECTION.get(number, "計画どおり推進"),
                                        "取組実績": f"施策{number}の取組を実施した。"}
                if number in REASONS:
                    answers[str(number)]["評価の変更理由"] = REASONS[number]
    rows.sort(key=lambda r: r[0])
    write_master(folder, ["施策番号", "施策名", "基本目標", "所管課", "指標", "単位", "目標値", "前年度評価",
                          "前年度方向性"], rows)
    for sub in ("1_配布", "2_回収", "3_集計"):
        (folder / sub).mkdir(exist_ok=True)
    return answers
