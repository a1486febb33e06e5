"""Text normalisation shared by the master reader and intake validation (pure, no I/O)."""

from __future__ import annotations

import re
import unicodedata

# Excel's own limits, obeyed wherever we name a sheet or a file.
SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = set('[]:*?/\\')
_FILE_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
# Windows device names: "NUL.eml" is written into the null device and "CON.xlsx" cannot be
# opened, whatever the extension (also "CON .xlsx": spaces before the dot do not count).
# Windows 10 also reserves the superscript digits ¹²³ after COM and LPT, and Microsoft's list
# names COM0 and LPT0 (creatable in practice; a "_" in front costs nothing).
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                     *(f"COM{i}" for i in "0123456789¹²³"), *(f"LPT{i}" for i in "0123456789¹²³")}
_SPACES = re.compile(r"\s+")
_NEEDS_COLLAPSE = re.compile(r"\s\s|[^\S ]")  # two spaces in a row, or any space but " "
_MEASURE_PREFIX = re.compile(r"^(?:No|NO|no|№)\.?\s*")


def squash(value: str) -> str:
    """NFKC (full-width letters and digits to half-width), spaces collapsed and trimmed.

    Departments type 「Ａ」, 「達成＋」 or 「 達成　」 for A, 達成+ and 達成; NFKC folds the
    width and the ideographic space, and we strip what is left.
    """
    if not unicodedata.is_normalized("NFKC", value):  # the check is much cheaper than normalising
        value = unicodedata.normalize("NFKC", value)
    if _NEEDS_COLLAPSE.search(value):
        value = _SPACES.sub(" ", value)
    return value.strip()


def choice_key(value: str) -> str:
    """The form under which two spellings of one choice compare equal (spaces removed too)."""
    return squash(value).replace(" ", "").casefold()


def measure_key(value: object) -> str:
    """A measure number as text: 4, 4.0, "４", "No.4" and "No. 4" are all "4"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if text.isascii() and text.isdigit():  # the usual case, without the work below
        return text
    return _MEASURE_PREFIX.sub("", squash(text))


def natural_key(value: str) -> tuple:
    """Sort "2" before "10" and keep non-numbers in a stable order."""
    if value.isascii() and value.isdigit():
        return ((0, int(value), ""),)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", value) if p)


def display_width(text: str) -> int:
    """Columns a text takes in Excel's default font: full-width characters count as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "FWA" else 1 for ch in text)


def sheet_name_problem(name: str) -> str | None:
    """Why Excel would refuse this sheet name, or None when it is fine."""
    if not name:
        return "空の名前"
    if len(name) > SHEET_NAME_MAX:
        return f"{len(name)}文字で上限31文字を超えています"
    bad = sorted(set(name) & _SHEET_FORBIDDEN)
    if bad:
        return "使えない文字 " + " ".join(bad) + " を含みます"
    if name.startswith("'") or name.endswith("'"):
        return "先頭または末尾がアポストロフィです"
    if name.casefold() == "history":
        return "History は Excel の予約語です"
    return None


def safe_file_name(stem: str, suffix: str = ".xlsx", limit: int = 150) -> str:
    """A Windows-valid file name: forbidden characters replaced, no reserved device names.

    `limit` counts UTF-8 bytes (Linux allows 255 per name, a Japanese character takes 3),
    which also keeps the name well inside Windows' 255 characters.
    """
    stem = _FILE_FORBIDDEN.sub("_", unicodedata.normalize("NFC", stem)).strip()
    while len(stem.encode("utf-8")) > limit:
        stem = stem[:-1]
    stem = stem.rstrip(". ") or "_"
    if stem.split(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return stem + suffix


def clip(text: str, limit: int = 80) -> str:
    """At most `limit` characters, the cut marked with …: every line a user reads is bounded."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_middle(text: str, limit: int = 160) -> str:
    """A long path keeps its start and its file name."""
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return text[:half] + "…" + text[-half:]


def pad(text: str, width: int) -> str:
    """Left-justify for a console column counting full-width characters as two."""
    return text + " " * max(0, width - display_width(text))
