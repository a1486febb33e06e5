"""Reading a PDF rendered by LibreOffice: pages, words with their boxes, printed text size.

Uses poppler's ``pdftotext -bbox`` (Debian poppler-utils, installed by .ci/run). A word's
box height is about 1.09 times the font size for the CJK fallback fonts LibreOffice uses;
`calibrate` measures that factor on a reference page rather than trusting the number.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words)

    def median_height(self) -> float:
        return statistics.median(w.height for w in self.words) if self.words else 0.0


def columns_text(page: Page, starts: dict[str, str]) -> dict[str, str]:
    """The text of table columns, by position: adjacent wrapped cells interleave in reading
    order, so each column is cut out of the page between its left edge and the next one's.

    `starts` maps a name to the beginning of a text known to sit at the top of that column
    (left-aligned cells start at the column's edge); columns run to the next start or the page.
    """
    edges = {}
    for name, start in starts.items():
        word = next((w for w in page.words if w.text.startswith(start[:6])), None)
        if word is not None:
            edges[name] = word.x0
    ordered = sorted(edges.items(), key=lambda kv: kv[1])
    out = {}
    for i, (name, left) in enumerate(ordered):
        right = ordered[i + 1][1] if i + 1 < len(ordered) else page.width
        words = [w for w in page.words if left - 2 <= w.x0 < right - 2]
        out[name] = "".join(w.text for w in sorted(words, key=lambda w: (w.y0, w.x0)))
    return out


def pdftotext_available() -> bool:
    return shutil.which("pdftotext") is not None


def pages(pdf: Path) -> list[Page]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         encoding="utf-8", check=True, timeout=120).stdout
    found = []
    for n, m in enumerate(_PAGE.finditer(out), 1):
        words = tuple(Word(n, _unescape(w.group(5)), *(float(w.group(i)) for i in range(1, 5)))
                      for w in _WORD.finditer(m.group(3)))
        found.append(Page(n, float(m.group(1)), float(m.group(2)), words))
    return found


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def printed_points(word_height: float, factor: float) -> float:
    """The font size a word was printed at, from its box height."""
    return word_height / factor
