"""The yearly cycle at scale, through the real CLI, against bare-library baselines.

    python benchmarks/bench_scale.py [--departments 2000] [--measures 25] [--keep DIR] [--quick]

One invocation builds a synthetic survey (D departments x M measures), then:

  generate   `xlsx-tool generate` vs a bare xlsxwriter loop writing forms of the same shape
             (1 process and 2 spawned processes; the target compares against 2 processes)
  fill       the departments' answers typed in with openpyxl (harness cost, not the tool's)
  collect    `xlsx-tool collect` vs openpyxl read_only and python-calamine reading the same
             returned files; then a second collect, which the ledger's cache should make cheap
  summarize  `xlsx-tool summarize` vs a bare xlsxwriter write of the same rows
  --help     `xlsx-tool --help` must import neither openpyxl nor xlsxwriter

Every CLI step is a subprocess: wall time, CPU time (user+sys of the process and all the
workers it reaped, from os.wait4) and the peak RSS of the whole process tree (sampled from
/proc every 20 ms). Baselines run in this process or in spawned workers and are timed the
same way. Figures are printed as a table with the targets; nothing is asserted, and a
failing CLI step is reported (with its stderr) without stopping the others.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

INPUT_SHEET = "調査票"
INSTRUCTIONS_SHEET = "記入要領"
ID_SHEET = "_id"
RATINGS = ("達成+", "達成", "未達成")
GROUPS = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ")
FORMS, RETURNS, OUTPUTS = "1_配布", "2_回収", "3_集計"
POLL_SECONDS = 0.02
STEP_TIMEOUT = 3600.0  # a hung CLI step is killed rather than stalling the whole run
FILL_BUDGET = 180.0  # seconds; beyond this the fill is spread over two processes
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
BUSY_WARNING = 0.2  # cores, on average, used by other programs: above this a figure is suspect

# --- synthetic survey ------------------------------------------------------------------
# Names are built from parts a Japanese ward office really uses, so strings have realistic
# lengths and character mixes (file names, shared-string tables and widths depend on it).

BUREAUS = [
    "政策経営部", "総務部", "危機管理室", "区民文化部", "産業経済部", "健康生きがい部", "保健所",
    "福祉部", "子ども家庭部", "資源環境部", "都市整備部", "土木部", "会計管理室", "教育委員会事務局",
    "選挙管理委員会事務局", "監査委員事務局", "区議会事務局", "地域振興部", "企画財政部",
    "子ども若者部", "高齢者福祉部", "障がい者福祉部", "環境清掃部", "まちづくり推進部", "住宅政策部",
    "文化観光部", "スポーツ振興部", "生涯学習部", "防災危機管理部", "デジタル推進部", "税務部",
    "保険年金部", "戸籍住民部", "市民協働部", "男女共同参画部", "国際交流部", "上下水道部",
    "消防本部", "病院事業部", "契約財産部",
]
SECTIONS = [
    "総務課", "企画課", "計画調整課", "管理課", "庶務課", "経理課", "人事課", "職員課", "財政課",
    "契約課", "施設管理課", "広報広聴課", "情報政策課", "ICT推進課", "文書法務課", "防災課",
    "地域安全課", "区民相談課", "戸籍住民課", "課税課", "納税課", "国保年金課", "介護保険課",
    "健康推進課", "生活衛生課", "保健予防課", "福祉政策課", "生活支援課", "障がい者支援課",
    "子育て支援課", "保育サービス課", "児童相談課", "学務課", "指導室", "教育支援課", "生涯学習課",
    "スポーツ振興課", "文化振興課", "観光振興課", "産業振興課", "環境政策課", "清掃リサイクル課",
    "都市計画課", "建築指導課", "住宅政策課", "道路課", "公園緑地課", "交通安全課", "地域振興課",
    "協働推進課",
]
SUBJECTS = [
    ("電子申請", "電子申請対応手続数", "手続"), ("窓口キャッシュレス決済", "導入窓口数", "窓口"),
    ("庁内無線LAN", "整備拠点数", "拠点"), ("テレワーク", "テレワーク実施人数", "人"),
    ("ペーパーレス会議", "タブレット活用会議数", "会議"), ("RPA", "RPA適用業務数", "業務"),
    ("AI-OCR", "AI-OCR処理枚数", "枚"), ("オープンデータ", "公開データセット数", "件"),
    ("マイナンバーカード", "交付枚数", "枚"), ("コンビニ交付", "コンビニ交付件数", "件"),
    ("公式LINEアカウント", "友だち登録者数", "人"), ("区ホームページ", "年間閲覧数", "万件"),
    ("電子契約", "電子契約件数", "件"), ("施設予約システム", "オンライン予約率", "%"),
    ("地理情報システム（GIS）", "公開地図数", "件"), ("防災情報システム", "訓練実施回数", "回"),
    ("子育て支援アプリ", "アプリ登録者数", "人"), ("学習用端末", "端末配備台数", "台"),
    ("図書館システム", "電子書籍貸出数", "冊"), ("保育所入所申請", "オンライン申請率", "%"),
    ("粗大ごみ受付", "インターネット受付件数", "件"), ("各種証明書の郵送請求", "オンライン請求件数", "件"),
    ("職員の情報リテラシー研修", "受講者数", "人"), ("情報セキュリティ対策", "監査実施課数", "課"),
    ("ビジネスチャット", "利用職員数", "人"), ("Web会議", "Web会議実施回数", "回"),
    ("キャッシュレスポイント事業", "参加店舗数", "店舗"), ("高齢者向けスマートフォン教室", "参加者数", "人"),
    ("公衆無線LAN", "設置箇所数", "箇所"), ("統合型校務支援システム", "導入校数", "校"),
]
ACTIONS = ["の推進", "の拡大", "の導入", "の運用改善", "の普及促進", "の利用促進", "の充実",
           "の再構築", "の検討", "の周知"]
PEOPLE = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田",
          "山田", "佐々木", "松本", "井上", "木村"]
GIVEN = ["一郎", "花子", "健", "美咲", "翔太", "陽子", "大輔", "恵", "誠", "由美"]
DONE = [
    "計画どおり事業を実施し、年度目標を達成した。",
    "対象となる手続を洗い出し、優先度の高いものから順次オンライン化を進めた。",
    "関係課と連携して運用ルールを整備し、全庁での利用を開始した。",
    "区民向けの説明会を年間12回開催し、延べ340人が参加した。",
    "職員向けの操作研修を実施し、各課の担当者が自律的に運用できる体制を整えた。",
    "利用状況を毎月集計して庁内に共有し、利用の少ない課には個別に支援を行った。",
    "システム更新に合わせて画面構成を見直し、入力項目を約3割削減した。",
    "事業者との協議を経て契約を締結し、年度後半から本格的な運用を開始した。",
    "広報紙と区ホームページで周知を行い、前年度と比べて利用件数が大きく伸びた。",
    "新型感染症の影響により一部の取組を延期したが、代替としてオンラインでの実施に切り替えた。",
    "利用者アンケートでは「手続が簡単になった」との回答が8割を超えた。",
    "国の補助金を活用し、区の財政負担を抑えながら整備を進めた。",
]
ISSUES = [
    "高齢者など操作に不慣れな利用者への支援が引き続き課題である。",
    "運用経費の増加が見込まれるため、費用対効果の検証を行う。",
    "各課の取組状況に差があるため、好事例の共有を進める。",
    "次年度は対象業務を拡大し、さらなる効率化を図る。",
    "システムの老朽化への対応として、次期更新に向けた検討を開始する。",
    "個人情報の取扱いに留意し、情報セキュリティ対策を強化する。",
    "利用者の声を踏まえて画面や案内を改善し、利用率の向上を目指す。",
    "国の標準化の動向を注視し、必要な改修を計画的に進める。",
]


@dataclass(frozen=True)
class MeasureRow:
    number: int
    name: str
    group: str
    department: str
    indicator: str
    unit: str
    target: int


def department_names(count: int) -> list[str]:
    """Unique bureau+section names; the stride spreads bureaus and sections even for small counts."""
    names = []
    for i in range(count):
        q, a = divmod(i, len(BUREAUS))
        base = BUREAUS[a] + SECTIONS[(41 * q + a) % len(SECTIONS)]
        lap = i // (len(BUREAUS) * len(SECTIONS))
        names.append(base if lap == 0 else f"{base}第{lap + 1}分室")
    return names


def build_master(departments: list[str], per_department: int, rng: random.Random) -> list[MeasureRow]:
    rows = []
    for d in departments:
        for _ in range(per_department):
            subject, indicator, unit = rng.choice(SUBJECTS)
            target = rng.choice([10, 20, 30, 50, 80, 100, 120, 200, 300, 500, 1000])
            rows.append(MeasureRow(len(rows) + 1, subject + rng.choice(ACTIONS), rng.choice(GROUPS), d,
                                   indicator, unit, target))
    return rows


def write_survey(folder: Path, departments: list[str], master: list[MeasureRow],
                 rng: random.Random) -> dict[str, tuple[str, str]]:
    """survey.toml from the shipped 2025 template, the master and the department list.

    Returns department -> (person, extension), what each department types as 記入者 / 内線.
    """
    text = (ROOT / "templates" / "2025.toml").read_text(encoding="utf-8")
    # As a section would finish the template: placeholders written, CSV files named.
    replace = {
        "fiscal_year": "2021", "master": '"施策マスタ.csv"', "departments": '"所管課一覧.csv"',
        "deadline": '"令和4年5月13日（金）"', "contact": '"ICT推進課 ICT推進係（内線 2021）"',
        "return_to": '"ICT推進課 ICT推進係（ict-suishin@example.lg.jp）"',
    }
    for key, value in replace.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, f"template has no single {key} line"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "survey.toml").write_text(text, encoding="utf-8")
    with (folder / "施策マスタ.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["施策番号", "施策名", "基本方針", "所管課", "指標", "単位", "目標値"])
        for m in master:
            w.writerow([m.number, m.name, m.group, m.department, m.indicator, m.unit, m.target])
    contacts = {}
    with (folder / "所管課一覧.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["所管課", "担当者", "内線", "メール"])
        for i, d in enumerate(departments):
            person = f"{rng.choice(PEOPLE)} {rng.choice(GIVEN)}"
            extension = str(2000 + i % 8000)
            contacts[d] = (person, extension)
            w.writerow([d, person, extension, f"dept{i:04d}@example.lg.jp"])
    for sub in (FORMS, RETURNS, OUTPUTS):
        (folder / sub).mkdir(exist_ok=True)
    return contacts


def prose(pool: list[str], rng: random.Random, low: int, high: int) -> str:
    """Sentences from `pool` until the text is between `low` and `high` characters."""
    goal = rng.randint(low, high)
    text = ""
    while len(text) < goal:
        sentence = rng.choice(pool)
        if len(text) + len(sentence) > high:
            break
        text += sentence
    return text or pool[0]


def make_answers(master: list[MeasureRow], rng: random.Random) -> dict[str, dict[str, dict[str, object]]]:
    """department -> measure number -> field -> value, as the departments will type them."""
    answers: dict[str, dict[str, dict[str, object]]] = {}
    for m in master:
        rating = rng.choices(RATINGS, weights=(2, 6, 2))[0]
        factor = {"達成+": 1.3, "達成": 1.0, "未達成": 0.6}[rating]
        fields: dict[str, object] = {
            "評価": rating,
            "実績値": max(0, round(m.target * factor * rng.uniform(0.9, 1.1))),
            "取組実績": prose(DONE, rng, 100, 300),
        }
        if rng.random() < 0.8:  # 課題・今後の取組 is optional; some departments leave it empty
            fields["課題・今後の取組"] = prose(ISSUES, rng, 100, 300)
        answers.setdefault(m.department, {})[str(m.number)] = fields
    return answers


# --- measuring a command ---------------------------------------------------------------

@dataclass
class Run:
    wall: float = 0.0
    cpu: float = 0.0
    rss_mb: float | None = None  # peak of the summed process tree
    largest_mb: float | None = None  # the largest single process of the tree, sampled
    others: float | None = None  # cores used by other programs meanwhile, on average
    code: int | None = None
    stdout: str = ""
    stderr: str = ""
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.code not in (0, 1)  # the CLI: 0 done, 1 done with problems, 2 could not run


def tree_rss(root: int) -> tuple[int, int]:
    """Bytes of RSS of `root` and all its descendants (sum, largest single process), from one
    pass over /proc/*/stat."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue  # ended between listdir and open
        # The command name may hold spaces and parentheses: fields start after the last ")".
        rest = data[data.rindex(b")") + 2:].split()
        pid = int(name)
        children.setdefault(int(rest[1]), []).append(pid)  # field 4: ppid
        rss[pid] = int(rest[21]) * PAGE  # field 24: rss in pages
    total, largest, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        largest = max(largest, rss.get(pid, 0))
        stack.extend(children.get(pid, ()))
    return total, largest


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, /proc/stat)."""
    with open("/proc/stat") as fh:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fh.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICK


def others(busy0: float, own_cpu: float, wall: float) -> float:
    """Average cores other programs kept busy: a shared machine makes every figure slower."""
    return max(0.0, busy_seconds() - busy0 - own_cpu) / max(wall, 1e-9)


def run_cli(args: list[str], env: dict[str, str] | None = None) -> Run:
    """Run the CLI; wall time, CPU of the whole tree (wait4) and peak tree RSS (sampled)."""
    out = Run()
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        busy0, self0 = busy_seconds(), time.process_time()
        start = time.perf_counter()
        proc = subprocess.Popen([*cli_command(), *args], stdin=subprocess.DEVNULL, stdout=so, stderr=se,
                                env=env)
        peak = largest = 0
        while True:
            # wait4 rather than Popen.wait: its rusage covers the CLI and every worker it reaped.
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                out.wall = time.perf_counter() - start
                break
            total, single = tree_rss(proc.pid)
            peak, largest = max(peak, total), max(largest, single)
            if time.perf_counter() - start > STEP_TIMEOUT:
                proc.kill()
                out.note = f"killed after {STEP_TIMEOUT:.0f} s"
            time.sleep(POLL_SECONDS)
        proc.returncode = out.code = os.waitstatus_to_exitcode(status)
        out.cpu = usage.ru_utime + usage.ru_stime
        out.rss_mb = peak / 2**20
        # Not wait4's ru_maxrss: on Linux it can carry this (forked) parent's size.
        out.largest_mb = largest / 2**20
        # This process's own polling is not "other programs".
        out.others = others(busy0, out.cpu + time.process_time() - self0, out.wall)
        so.seek(0)
        se.seek(0)
        out.stdout = so.read().decode("utf-8", "replace")
        out.stderr = se.read().decode("utf-8", "replace")
    return out


def cli_command() -> list[str]:
    """The console script installed next to this Python (what a user runs), else the module."""
    script = Path(sys.executable).parent / "xlsx-tool"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from xlsx_tool.cli import main; main()"]


def timed(fn: Callable[[], object]) -> tuple[Run, object]:
    """Run `fn` here; CPU counts this process and any worker processes it reaped meanwhile."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, cpu0 = busy_seconds(), time.process_time()
    start = time.perf_counter()
    value = fn()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return Run(wall=wall, cpu=cpu, others=others(busy0, cpu, wall), code=0), value


def parallel(fn: Callable, jobs: list, workers: int = 2) -> list:
    """`fn` over `jobs` in spawned worker processes, as the tool starts its own."""
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(fn, jobs, chunksize=16))


def report_failure(step: str, run: Run) -> None:
    print(f"!! {step} failed (exit code {run.code}{', ' + run.note if run.note else ''})")
    print((run.stderr.strip() or run.stdout.strip())[-4000:])


# --- generate baseline: bare xlsxwriter forms of the same shape ------------------------

@dataclass
class FormShape:
    """What one generated form holds, read back with openpyxl, for the bare loop to copy."""

    header: list[tuple[int, int, str]]  # input sheet above the table: (row, col, text), 0-based
    first_row: int  # 0-based row of the first measure
    fixed_columns: int  # locked columns in front of the inputs
    input_columns: int
    instructions: list[tuple[int, int, str]]
    id_head: list[tuple[int, int, str]]  # identification rows before the measure rows
    counts: dict[str, int] = field(default_factory=dict)  # sheet -> non-empty cells


def inspect_form(path: Path) -> FormShape:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    counts = {ws.title: sum(c.value not in (None, "") for row in ws.iter_rows() for c in row)
              for ws in wb.worksheets}
    ws = wb[INPUT_SHEET]
    header_row = next(c.row for row in ws.iter_rows() for c in row if c.value == "施策番号")
    header, fixed, inputs = [], 0, 0
    for row in ws.iter_rows(max_row=header_row):
        for c in row:
            if isinstance(c.value, str) and c.value:
                header.append((c.row - 1, c.column - 1, c.value))
    for c in ws[header_row + 1]:
        if c.value is not None or not c.protection.locked:
            if c.protection.locked:
                fixed += 1
            else:
                inputs += 1
    instructions = [(c.row - 1, c.column - 1, c.value) for row in wb[INSTRUCTIONS_SHEET].iter_rows()
                    for c in row if isinstance(c.value, str) and c.value]
    id_head = [(c.row - 1, c.column - 1, str(c.value)) for row in wb[ID_SHEET].iter_rows()
               for c in row if c.value is not None and row[0].value != "measure"]
    return FormShape(header, header_row, fixed, inputs, instructions, id_head, counts)


def bare_form(job: tuple[Path, FormShape, list[tuple[str, str, str, str]]]) -> None:
    """One form written with nothing but xlsxwriter: same cells, validations and protection."""
    import xlsxwriter

    path, shape, rows = job
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    unlocked = wb.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True})
    doc = wb.add_worksheet(INSTRUCTIONS_SHEET)
    for r, c, text in shape.instructions:
        doc.write_string(r, c, text, wrap)
    doc.protect()
    ws = wb.add_worksheet(INPUT_SHEET)
    for r, c, text in shape.header:
        ws.write_string(r, c, text)
    first, inputs = shape.first_row, range(shape.fixed_columns, shape.fixed_columns + shape.input_columns)
    for i, values in enumerate(rows):
        for c, text in enumerate(values):
            ws.write_string(first + i, c, text, wrap)
        for c in inputs:
            ws.write_blank(first + i, c, None, unlocked)
    last = first + len(rows) - 1
    c0 = shape.fixed_columns
    ws.data_validation(first, c0, last, c0, {"validate": "list", "source": list(RATINGS)})
    ws.data_validation(first, c0 + 1, last, c0 + 1, {"validate": "decimal", "criteria": "between",
                                                     "minimum": -1e15, "maximum": 1e15})
    for c in (c0 + 2, c0 + 3):
        ws.data_validation(first, c, last, c, {"validate": "length", "criteria": "<=", "value": 400})
    ws.protect()
    ids = wb.add_worksheet(ID_SHEET)
    for r, c, text in shape.id_head:
        ids.write_string(r, c, text)
    r0 = max((r for r, _c, _t in shape.id_head), default=-1) + 1
    for i, values in enumerate(rows):
        ids.write_string(r0 + i, 0, "measure")
        ids.write_string(r0 + i, 1, values[0])
        ids.write_string(r0 + i, 2, str(first + i + 1))
    ids.very_hidden()
    wb.close()


def form_rows(master: list[MeasureRow]) -> dict[str, list[tuple[str, str, str, str]]]:
    """Per department, the four fixed columns the tool shows (番号, 基本方針, 施策名, 指標・目標値)."""
    out: dict[str, list[tuple[str, str, str, str]]] = {}
    for m in master:
        out.setdefault(m.department, []).append(
            (str(m.number), m.group, m.name, f"{m.indicator}\n目標値：{m.target}{m.unit}"))
    return out


# --- filling the forms -----------------------------------------------------------------

@dataclass(frozen=True)
class Positions:
    """Where a clerk types, found on a form: input columns and rows (1-based), 記入者 / 内線."""

    columns: dict[str, int]
    rows: dict[str, int]
    respondent: dict[str, int]  # label -> column of its input cell
    respondent_row: int
    choices: tuple[str, ...]


def fill_as_clerk(form: Path, out: Path, answers: dict[str, dict[str, object]],
                  person: tuple[str, str]) -> Positions:
    """Open the form in openpyxl and type every answer by hand, finding the cells as a person
    would: the identification sheet for rows and columns, the dropdown for the ratings, the
    first unlocked cell right of 記入者 and 内線. The positions found serve the other forms."""
    import openpyxl

    from xlsx_tool.demo import form_positions

    wb = openpyxl.load_workbook(form)
    sheet, columns, rows = form_positions(wb)
    ws = wb[sheet or INPUT_SHEET]
    choices: tuple[str, ...] = ()
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list" and dv.formula1 and dv.formula1.startswith('"'):
            choices = tuple(dv.formula1.strip('"').split(","))
    respondent, respondent_row = {}, 0
    first = min(rows.values())
    for row in ws.iter_rows(max_row=first - 1):
        for c in row:
            if c.value in ("記入者", "内線"):
                right = next(x for x in range(c.column + 1, c.column + 4)
                             if not ws.cell(c.row, x).protection.locked)
                respondent[c.value] = right
                respondent_row = c.row
    ws.cell(respondent_row, respondent["記入者"]).value = person[0]
    ws.cell(respondent_row, respondent["内線"]).value = person[1]
    for number, fields in answers.items():
        for name, value in fields.items():
            if name == "評価" and value not in choices:
                raise RuntimeError(f"{value} is not offered by the form's dropdown {choices}")
            ws.cell(rows[number], columns[name]).value = value
    wb.save(out)
    return Positions(columns, rows, respondent, respondent_row, choices)


def fill_with_demo(job: tuple[Path, Path, dict[str, dict[str, object]], dict[str, tuple[int, str]]]) -> int:
    from xlsx_tool.demo import fill_form

    form, out, answers, respondent = job
    return fill_form(form, out, answers, respondent)


def fill_all(forms: dict[str, Path], returns: Path, answers: dict[str, dict[str, dict[str, object]]],
             contacts: dict[str, tuple[str, str]]) -> str:
    """Every form filled into 2_回収: one by hand, the rest by the project's demo filler."""
    departments = list(forms)
    jobs = []
    shapes: dict[int, Positions] = {}
    for d in departments:
        size = len(answers[d])
        if size not in shapes:  # one clerk-typed form per distinct form shape
            shapes[size] = fill_as_clerk(forms[d], returns / forms[d].name, answers[d], contacts[d])
            continue
        at = shapes[size].respondent
        jobs.append((forms[d], returns / forms[d].name, answers[d],
                     {"記入者": (at["記入者"], contacts[d][0]), "内線": (at["内線"], contacts[d][1])}))
    # Time a few serially; if the whole lot would take longer than the budget, use two processes.
    sample = jobs[:20]
    t0 = time.perf_counter()
    for job in sample:
        fill_with_demo(job)
    per_file = (time.perf_counter() - t0) / max(len(sample), 1)
    rest = jobs[len(sample):]
    how = f"1 process, {per_file * 1000:.0f} ms/file"
    if rest and per_file * len(rest) > FILL_BUDGET:
        how = f"2 processes (1 process would take ~{per_file * len(jobs):.0f} s)"
        parallel(fill_with_demo, rest)
    else:
        for job in rest:
            fill_with_demo(job)
    return f"{len(shapes)} form(s) typed by hand, {len(jobs)} by demo.fill_form, {how}"


# --- collect baselines -----------------------------------------------------------------

def openpyxl_read(paths: list[Path]) -> int:
    import openpyxl

    cells = 0
    for p in paths:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        for name in (INPUT_SHEET, ID_SHEET):
            for row in wb[name].iter_rows(values_only=True):
                cells += len(row)
        wb.close()
    return cells


def calamine_read(paths: Iterable[Path]) -> int:
    from python_calamine import CalamineWorkbook

    cells = 0
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in (INPUT_SHEET, ID_SHEET):
            cells += sum(len(row) for row in wb.get_sheet_by_name(name).to_python())
        wb.close()
    return cells


def calamine_one(path: Path) -> int:
    return calamine_read([path])


def tool_reader(paths: list[Path]) -> int:
    """The tool's own reader alone (no validation, no workers): where collect's time goes."""
    from xlsx_tool.intake.reader import read_workbook

    return sum(sum(len(c) for c in read_workbook(p, (INPUT_SHEET,)).cells.values()) for p in paths)


# --- summarize baseline ----------------------------------------------------------------

def bare_summary(path: Path, master: list[MeasureRow], answers: dict[str, dict[str, dict[str, object]]]) -> int:
    """The all-measures sheet's rows and a small table, written with nothing but xlsxwriter."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7"})
    text = wb.add_format({"border": 1, "text_wrap": True})
    table = wb.add_worksheet("評価別集計表")
    counts = {r: 0 for r in RATINGS}
    for m in master:
        counts[str(answers[m.department][str(m.number)]["評価"])] += 1
    for c, h in enumerate(("施策の評価", "該当施策", "割合")):
        table.write_string(0, c, h, head)
    for i, (rating, n) in enumerate(counts.items(), 1):
        table.write_string(i, 0, rating, text)
        table.write_number(i, 1, n, text)
        table.write_number(i, 2, n / max(len(master), 1), text)
    ws = wb.add_worksheet("全施策一覧")
    header = ["施策番号", "基本方針", "施策名", "所管課", "指標", "単位", "目標値", "評価", "実績値",
              "取組実績", "課題・今後の取組", "前年度評価", "変化"]
    for c, h in enumerate(header):
        ws.write_string(0, c, h, head)
    for r, m in enumerate(master, 1):
        a = answers[m.department][str(m.number)]
        values = [str(m.number), m.group, m.name, m.department, m.indicator, m.unit, m.target,
                  a["評価"], a["実績値"], a["取組実績"], a.get("課題・今後の取組", ""), "", ""]
        for c, v in enumerate(values):
            if isinstance(v, int | float):
                ws.write_number(r, c, v, text)
            else:
                ws.write_string(r, c, str(v), text)
    ws.autofilter(0, 0, len(master), len(header) - 1)
    wb.close()
    return len(master) * len(header)


# --- --help imports --------------------------------------------------------------------

def help_imports() -> tuple[Run, float | None, list[str]]:
    """`xlsx-tool --help` with -X importtime: its cost, xlsx_tool.cli's import, heavy imports."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    run_cli(["--help"], env)  # first run may compile bytecode: measure the second
    run = run_cli(["--help"], env)
    cli_us, heavy = None, []
    for line in run.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if not m:
            continue
        name = m.group(4)
        if name == "xlsx_tool.cli":
            cli_us = int(m.group(2))
        if name.split(".")[0] in ("openpyxl", "xlsxwriter"):
            heavy.append(name)
    return run, (cli_us / 1e6 if cli_us is not None else None), heavy


# --- report ----------------------------------------------------------------------------

def machine_info() -> list[str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = next(int(x.split()[1]) // 1024 for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem = 0
    versions = []
    for dist in ("xlsx-tool", "openpyxl", "XlsxWriter", "python-calamine", "click", "defusedxml"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    return [f"CPU: {model}; {len(os.sched_getaffinity(0))} cores usable (os.cpu_count {os.cpu_count()}); "
            f"RAM {mem} MB",
            f"Python {platform.python_version()} ({platform.python_implementation()}) on "
            f"{platform.system()} {platform.release()}",
            "Libraries: " + ", ".join(versions)]


@dataclass
class Row:
    step: str
    run: Run | None
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    rss_only: bool = False  # a second target on a run already shown: repeat only its RSS


def divide(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    head = ["step", "wall s", "CPU s", "peak RSS MB", "baseline s", "ratio", "target", "met?", "others"]
    lines = [head]
    for r in rows:
        run = r.run
        times = run if run and not r.rss_only else None
        lines.append([r.step, fmt(times.wall if times else None), fmt(times.cpu if times else None),
                      fmt(run.rss_mb if run else None, 0), fmt(r.baseline), fmt(r.ratio),
                      r.target, "-" if r.met is None else ("yes" if r.met else "NO"),
                      fmt(times.others if times else None, 1)])
    widths = [max(_width(line[i]) for line in lines) for i in range(len(head))]
    for n, line in enumerate(lines):
        cells = [c + " " * (widths[i] - _width(c)) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line)]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --- the run ---------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--departments", type=int, default=2000)
    ap.add_argument("--measures", type=int, default=25, help="measures per department")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="build the survey here and keep it")
    ap.add_argument("--quick", action="store_true", help="100 departments x 10 measures (smoke test)")
    ap.add_argument("--seed", type=int, default=2021)
    args = ap.parse_args()
    if args.quick:
        args.departments, args.measures = 100, 10
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="xlsx-tool-bench-"))
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            sys.exit(f"--keep {args.keep}: the folder is not empty")
        folder = args.keep
    else:
        folder = scratch / "survey"
    rows: list[Row] = []
    notes: list[str] = []
    started = time.perf_counter()
    try:
        print("\n".join(machine_info()))
        total = args.departments * args.measures
        print(f"Survey: {args.departments} departments x {args.measures} measures = {total} measures, "
              f"groups {'/'.join(GROUPS)}; folder {folder}")
        departments = department_names(args.departments)
        master = build_master(departments, args.measures, rng)
        contacts = write_survey(folder, departments, master, rng)
        answers = make_answers(master, rng)

        # generate ------------------------------------------------------------------
        print("generate ...", flush=True)
        gen = run_cli(["generate", str(folder)])
        if gen.failed:
            report_failure("generate", gen)
        forms = sorted((folder / FORMS).glob("*.xlsx"))
        by_department = _forms_by_department(forms, departments)
        shape = inspect_form(forms[0]) if forms else None
        base_1 = base_2 = None
        if shape:
            notes.append(f"generated form cells: {shape.counts} (bare forms copy these counts)")
            table_rows = form_rows(master)
            bare_dir = scratch / "bare_forms"
            bare_dir.mkdir()
            jobs = [(bare_dir / f"{i:05d}.xlsx", shape, table_rows[d]) for i, d in enumerate(departments)]
            print("generate baselines ...", flush=True)
            base_1, _ = timed(lambda: [bare_form(j) for j in jobs])
            base_2, _ = timed(lambda: parallel(bare_form, jobs))
            shutil.rmtree(bare_dir)
        ratio = divide(gen.wall, base_2.wall) if base_2 and not gen.failed else None
        rows.append(Row("generate", gen, base_2.wall if base_2 else None, ratio, "≤ 1.25 × bare(2p)",
                        ratio is not None and ratio <= 1.25))
        rows.append(Row("  bare xlsxwriter, 1 process", base_1))
        rows.append(Row("  bare xlsxwriter, 2 processes", base_2))

        # fill ----------------------------------------------------------------------
        if len(by_department) == len(departments):
            print("fill ...", flush=True)
            fill, how = timed(lambda: fill_all(by_department, folder / RETURNS, answers, contacts))
            rows.append(Row("fill (harness, openpyxl)", fill))
            notes.append(f"fill: {how}")
        else:
            notes.append(f"fill skipped: {len(by_department)} forms for {len(departments)} departments")
        returned = sorted((folder / RETURNS).glob("*.xlsx"))

        # collect -------------------------------------------------------------------
        print("collect ...", flush=True)
        col = run_cli(["collect", str(folder)])
        if col.failed:
            report_failure("collect", col)
        else:
            last = [line for line in col.stdout.splitlines() if line.startswith("提出済")]
            notes.append("collect: " + (last[0] if last else "(no summary line)"))
        print("collect baselines ...", flush=True)
        op, op_cells = timed(lambda: openpyxl_read(returned))
        cal, cal_cells = timed(lambda: calamine_read(returned))
        cal_2, _ = timed(lambda: parallel(calamine_one, returned))
        own, own_cells = timed(lambda: tool_reader(returned))
        notes.append(f"collect baselines read {len(returned)} files: openpyxl {op_cells} cells, "
                     f"calamine {cal_cells} cells (both incl. empty cells of the used range), "
                     f"tool's reader {own_cells} non-empty cells")
        ok = not col.failed
        speedup = divide(op.wall, col.wall) if ok else None
        vs_cal = divide(col.wall, cal.wall) if ok else None
        rows.append(Row("collect", col, op.wall, speedup, "openpyxl/collect ≥ 10",
                        speedup is not None and speedup >= 10))
        rows.append(Row("  … vs calamine", col, cal.wall, vs_cal, "collect/calamine ≤ 2",
                        vs_cal is not None and vs_cal <= 2, rss_only=True))
        # The target is stated for 2,000 files; a smaller run is held to the same bound.
        rows.append(Row("  … peak RSS", col, None, None, "< 300 MB",
                        ok and col.rss_mb is not None and col.rss_mb < 300, rss_only=True))
        rows.append(Row("  openpyxl read_only, 1 process", op))
        rows.append(Row("  calamine, 1 process", cal))
        rows.append(Row("  calamine, 2 processes", cal_2))
        rows.append(Row("  tool's reader alone, 1 process", own))
        col2 = run_cli(["collect", str(folder)])
        if col2.failed:
            report_failure("collect (second run)", col2)
        again = divide(col2.wall, col.wall) if ok and not col2.failed else None
        rows.append(Row("collect again (ledger cache)", col2, col.wall if ok else None, again,
                        "≤ 0.25 × 1st run", again is not None and again <= 0.25))

        # summarize -----------------------------------------------------------------
        print("summarize ...", flush=True)
        summ = run_cli(["summarize", str(folder)])
        if summ.failed or summ.code != 0:
            report_failure("summarize", summ)
        bare_sum, _ = timed(lambda: bare_summary(scratch / "bare_summary.xlsx", master, answers))
        ratio = divide(summ.wall, bare_sum.wall) if summ.code == 0 else None
        rows.append(Row("summarize", summ, bare_sum.wall, ratio, "≤ 2 × bare",
                        ratio is not None and ratio <= 2))
        rows.append(Row("  bare xlsxwriter, 1 process", bare_sum))

        # --help --------------------------------------------------------------------
        help_run, cli_s, heavy = help_imports()
        rows.append(Row("xlsx-tool --help", help_run, None, None, "no openpyxl/xlsxwriter",
                        not heavy and help_run.code == 0))
        notes.append(f"--help: import of xlsx_tool.cli {fmt(cli_s, 3)} s (cumulative, -X importtime); "
                     + (f"heavy imports: {', '.join(sorted(set(heavy)))}" if heavy
                        else "imports neither openpyxl nor xlsxwriter"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print_table(rows)
    print()
    for note in notes:
        print(note)
    largest = [f"{r.step} {r.run.largest_mb:.0f} MB" for r in rows
               if r.run and r.run.largest_mb is not None and not r.rss_only]
    print("Largest single process of each CLI tree (sampled): " + ", ".join(largest))
    print(f"CPU s: user+sys of the process tree (CLI: os.wait4; baselines: this process + reaped "
          f"workers). Peak RSS: sum over the CLI's process tree, sampled every "
          f"{POLL_SECONDS * 1000:.0f} ms. others: cores other programs kept busy meanwhile "
          f"(from /proc/stat), of {len(os.sched_getaffinity(0))}.")
    busy = [r.step.strip() for r in rows
            if r.run and not r.rss_only and r.run.others and r.run.others > BUSY_WARNING]
    if busy:
        print(f"WARNING: other programs used more than {BUSY_WARNING} cores during: {', '.join(busy)}; "
              "those wall times (and ratios) are inflated. Re-run on an idle machine.")
    print(f"Whole benchmark: {time.perf_counter() - started:.0f} s"
          + (f"; survey kept in {folder}" if args.keep else ""))


def _forms_by_department(forms: list[Path], departments: list[str]) -> dict[str, Path]:
    """Match forms to departments by the name's tail (the tool names them …_{所管課}.xlsx)."""
    tails = {p.stem.rsplit("_", 1)[-1]: p for p in forms}
    out = {}
    for d in departments:
        path = tails.get(d) or next((p for p in forms if p.stem.endswith("_" + d)), None)
        if path:
            out[d] = path
    return out


if __name__ == "__main__":
    main()
