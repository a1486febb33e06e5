"""collect: every file in 2_回収/ accounted for, each department given a status.

提出済 (submitted), 要修正 (needs_fix) or 未提出 (missing). Returned files are only read,
each in a worker process (intake/sandbox.py), where it is also checked. A file already
checked against the same definition and master is taken from the ledger instead of being
read again, so a second collect costs little.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xlsx_tool import problems as P
from xlsx_tool.collect.decide import CollectResult, decide
from xlsx_tool.collect.validate import Submission, check_submission
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.intake.preflight import MAX_FILE_BYTES
from xlsx_tool.intake.reader import read_workbook
from xlsx_tool.intake.sandbox import Pool
from xlsx_tool.ledger import open_ledger

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".zip"}
TEMP_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
MAX_DEPTH = 32  # folders below 2_回収; deeper ones are listed, not walked


def display(path: str) -> str:
    """A path as text a user can read. A name that is not UTF-8 is most often Shift_JIS (a zip
    made on a Japanese Windows, unpacked elsewhere): shown as such when it decodes, else with �.
    Each folder and file name is read on its own: they may come from different places."""
    return "/".join(_display_part(part) for part in path.split("/"))


def _display_part(path: str) -> str:
    raw = path.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
    # cp932 maps stray bytes to private-use characters: then it was not Shift_JIS after all
    if any("\ue000" <= ch <= "\uf8ff" or ord(ch) < 32 for ch in text):
        return raw.decode("utf-8", "replace")
    return text


def skip_reason(name: str, suffix: str) -> str | None:
    """Files that are not submissions: Excel lock files, temp files, other documents."""
    if name.startswith("~$"):
        return "lock-file"
    lower = name.lower()
    if name.startswith((".", "~")) or lower.endswith((".tmp", "~", ".bak")) or lower in TEMP_NAMES:
        return "temp-file"
    if suffix.lower() not in SPREADSHEET_SUFFIXES:
        return "not-spreadsheet"
    return None


@dataclass
class Entry:
    path: Path
    rel: str  # as shown


def scan_returns(folder: Path, returns: Path) -> tuple[list[Entry], list[dict[str, str]]]:
    """Every file below 2_回収 to read, and every entry passed over with its reason.

    Walked without recursion (a thousand nested folders must not overflow the stack);
    symbolic links are followed once, loops and dangling links are reported.
    """
    files: list[Entry] = []
    skipped: list[dict[str, str]] = []

    def rel(path: Path) -> str:
        try:
            return display(path.relative_to(folder).as_posix())
        except ValueError:
            return display(str(path))

    def skip(path: Path, code: str) -> None:
        skipped.append({"file": rel(path), "code": code, "reason": P.MESSAGES[code][1]})

    if not returns.is_dir():
        return files, skipped
    seen_dirs: set[tuple[int, int]] = set()
    try:
        st = returns.stat()
        seen_dirs.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    stack: list[tuple[Path, int]] = [(returns, 0)]
    while stack:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            skip(current, "folder-denied")
            continue
        except OSError:
            skip(current, "folder-unreadable")
            continue
        subdirs = []
        for e in entries:
            path = Path(e.path)
            try:
                st = os.stat(e.path)  # follows links
            except FileNotFoundError:
                skip(path, "broken-link")
                continue
            except OSError as exc:
                skip(path, "link-loop" if exc.errno == 40 else "entry-unreadable")
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen_dirs:
                    skip(path, "link-loop")
                elif depth + 1 > MAX_DEPTH:
                    skip(path, "too-deep")
                else:
                    seen_dirs.add(key)
                    subdirs.append((path, depth + 1))
                continue
            if not stat.S_ISREG(st.st_mode):
                skip(path, "special-file")
                continue
            reason = skip_reason(e.name, path.suffix)
            if reason:
                skip(path, reason)
            else:
                files.append(Entry(path, rel(path)))
        stack.extend(reversed(subdirs))
    files.sort(key=lambda f: f.rel)
    return files, skipped


def _mtime(path: Path) -> str:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    except (OSError, OverflowError, ValueError):
        return ""


class CollectTask:
    """Read and check one returned file, in a worker."""

    def __init__(self, loaded: Loaded, versions: dict[str, dict[str, list[str]]], names: dict[str, str]):
        self.loaded, self.versions, self.names = loaded, versions, names

    def run(self, path: Path) -> Submission:
        raw = read_workbook(path, (self.loaded.survey.input_sheet,))
        file = self.names.get(str(path), display(str(path)))
        return check_submission(self.loaded, raw, file, _mtime(path), self.versions)

    def failed(self, path: Path, code: str, detail: str) -> Submission:
        sub = Submission(file=self.names.get(str(path), display(str(path))), mtime=_mtime(path))
        sub.add(code, **({"seconds": detail} if code == "reader-timeout" else {"detail": detail}))
        return sub


def _digest(path: Path) -> tuple[str, int]:
    """sha256 and size, read here (no parsing): how the ledger knows a file it has seen."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return "", size
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return h.hexdigest(), size
    except OSError:
        return "", 0


def collect(loaded: Loaded, pool: Pool | None = None, progress: Callable[[int, int], None] | None = None,
            write_outputs: bool = True, workers: int | None = None,
            resubmit_deadline: str | None = None) -> CollectResult:
    survey = loaded.survey
    folder = survey.folder
    entries, skipped = scan_returns(folder, survey.path(S.RETURNS_DIR))
    names = {str(e.path): e.rel for e in entries}
    key = loaded.check_key
    submissions: list[Submission] = []
    with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
        versions = {d: ledger.versions(d) for d in loaded.asked} if entries else {}
        to_read: list[Path] = []
        for e in entries:
            sha, size = _digest(e.path)
            stored = ledger.cached(sha, key) if sha else None
            if stored is not None:
                submissions.append(Submission.from_record(stored, e.rel, os.fsencode(e.path), sha, size,
                                                          _mtime(e.path)))
            else:
                to_read.append(e.path)
        done = len(submissions)
        if progress and entries:
            progress(done, len(entries))
        if to_read:
            task = CollectTask(loaded, versions, names)
            own = pool is None
            active = pool or Pool(workers)
            try:
                for path, sub in active.run(to_read, task):
                    sub.path_bytes = os.fsencode(path)
                    submissions.append(sub)
                    done += 1
                    if progress:
                        progress(done, len(entries))
            finally:
                if own:
                    active.close()
        submissions.sort(key=lambda s: s.file)
        earlier = ledger.earlier()
        result = decide(loaded, submissions, skipped, earlier)
        sha_by_file = {s.file: s.sha256 for s in submissions}
        current = {d.department: (sha_by_file.get(d.file), d.status) for d in result.departments}
        ledger.record_collect((s.record() for s in submissions), current, key)
        history = ledger.history() if write_outputs else []
    if write_outputs:
        from xlsx_tool.collect.corrections import write_corrections
        from xlsx_tool.collect.status_book import status_workbook
        from xlsx_tool.xlsxout import atomic_write

        result.outputs += write_corrections(loaded, result, resubmit_deadline)
        path = survey.path(S.OUTPUT_DIR, survey.status_file)
        atomic_write(path, status_workbook(loaded, result, history))
        result.outputs.insert(0, path)
    return result


__all__ = ["CollectResult", "collect", "read_workbook", "scan_returns"]
