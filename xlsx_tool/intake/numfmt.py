"""What Excel shows for a number: its number format applied (ECMA-376 Part 1, §18.8.31).

Excel keeps what a person types as a number plus a format: 「60%」 is 0.6 with 0%, 「2025/3/31」
is 45747 with yyyy/m/d, 「1,234」 is 1234 with #,##0, 「0012」 is 12 with 0000, 「令和7年3月31日」
is 45747 with [$-411]ggge"年"m"月"d"日". `shown()` gives the text the cell shows for the formats
people type or pick in a Japanese Excel: sections for positive, negative and zero, percentages,
thousands separators and scaling, fixed and optional decimals, zero padding and digits laid
into literals (〒 000-0000), literal text, dates and times with the Japanese era and weekdays,
elapsed time. For what it cannot show faithfully (fractions, scientific notation, conditions,
Kanji numerals, a negative date, which Excel shows as ####) it returns None, and the caller
says so. Built-in formats are shown as a Japanese Excel shows them (the ids that depend on the
language of Excel are listed with their Japanese codes).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ECMA-376 Part 1 §18.8.30: the built-in formats a file names by id only. 14, 22, 27–36 and
# 50–58 are the Japanese column of that table (what Excel shows in Japan); 5–8 and 41–44 are the
# yen currency and accounting formats of a Japanese Excel.
BUILTIN = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: '"¥"#,##0;"¥"\\-#,##0', 6: '"¥"#,##0;[Red]"¥"\\-#,##0',
    7: '"¥"#,##0.00;"¥"\\-#,##0.00', 8: '"¥"#,##0.00;[Red]"¥"\\-#,##0.00',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "yyyy/m/d", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM",
    20: "h:mm", 21: "h:mm:ss", 22: "yyyy/m/d h:mm",
    27: '[$-411]ge.m.d', 28: '[$-411]ggge"年"m"月"d"日"', 29: '[$-411]ggge"年"m"月"d"日"', 30: "m/d/yy",
    31: 'yyyy"年"m"月"d"日"', 32: 'h"時"mm"分"', 33: 'h"時"mm"分"ss"秒"', 34: 'yyyy"年"m"月"', 35: 'm"月"d"日"',
    36: '[$-411]ge.m.d',
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
    41: '_ * #,##0_ ;_ * \\-#,##0_ ;_ * "-"_ ;_ @_ ', 42: '_ "¥"* #,##0_ ;_ "¥"* \\-#,##0_ ;_ "¥"* "-"_ ;_ @_ ',
    43: '_ * #,##0.00_ ;_ * \\-#,##0.00_ ;_ * "-"??_ ;_ @_ ',
    44: '_ "¥"* #,##0.00_ ;_ "¥"* \\-#,##0.00_ ;_ "¥"* "-"??_ ;_ @_ ',
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0", 48: "##0.0E+0", 49: "@",
    50: '[$-411]ge.m.d', 51: '[$-411]ggge"年"m"月"d"日"', 52: 'yyyy"年"m"月"', 53: 'm"月"d"日"',
    54: '[$-411]ggge"年"m"月"d"日"', 55: 'yyyy"年"m"月"', 56: 'm"月"d"日"', 57: '[$-411]ge.m.d',
    58: '[$-411]ggge"年"m"月"d"日"',
}

# Japanese eras as Excel counts them: (first day, initial, first character, name).
_ERAS = ((dt.date(2019, 5, 1), "R", "令", "令和"), (dt.date(1989, 1, 8), "H", "平", "平成"),
         (dt.date(1926, 12, 25), "S", "昭", "昭和"), (dt.date(1912, 7, 30), "T", "大", "大正"),
         (dt.date(1868, 9, 8), "M", "明", "明治"))
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS_JA = "月火水木金土日"

_TOKEN = re.compile(r'"[^"]*"?|\\.|_.?|\*.?|\[[^\]]*\]?|[Gg]eneral|G/標準|AM/PM|am/pm|A/P|a/p|'
                    r'([yYmMdDhHsSgGeEaAbB])\1*|.', re.S)
_DATE_LETTERS = set("yYmMdDhHsSgGeEaAbB")
_COLOURS = re.compile(r"(?i)red|black|blue|cyan|green|magenta|white|yellow|colou?r\s*\d{1,2}")
Token = tuple[str, str]


class _Unshowable(Exception):
    """The format holds something this module does not show as Excel does."""


def shown(value: float, code: str, date1904: bool = False) -> str | None:
    """The text a cell holding `value` with the number format `code` shows; None when it
    cannot be shown faithfully. General (or no code) shows the number itself."""
    if value != value or value in (float("inf"), float("-inf")):
        return None
    try:
        section, sign = _section(_split(code or "General"), value)
        tokens = _tokens(section)
        if any(kind == "date" for kind, _t in tokens):
            return _date(value, tokens, date1904)
        return _number(value, tokens, sign)
    except (_Unshowable, OverflowError, ValueError, InvalidOperation):
        return None


def general(value: float) -> str:
    """A number as General shows it in a wide column: up to 15 significant digits, without
    the noise of binary fractions (0.1 + 0.2 shows 0.3)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}E{exponent[0]}{exponent[1:].zfill(2)}"
    return text


def _split(code: str) -> list[str]:
    """The sections of a format, split at the semicolons outside quotes and brackets."""
    sections: list[str] = []
    current: list[str] = []
    for m in _TOKEN.finditer(code):
        if m.group(0) == ";":
            sections.append("".join(current))
            current = []
        else:
            current.append(m.group(0))
    sections.append("".join(current))
    return sections


def _section(sections: list[str], value: float) -> tuple[str, bool]:
    """The section Excel uses for `value`, and whether a minus sign is to be written."""
    if len(sections) > 4 or any(re.search(r"\[[<>=]", s) for s in sections):
        raise _Unshowable  # conditions ([>=100]) choose the section themselves
    if value < 0 and len(sections) >= 2:
        return sections[1], False  # the negative section writes its own sign (or brackets)
    if value == 0 and len(sections) >= 3:
        return sections[2], False
    return sections[0], value < 0


def _tokens(section: str) -> list[Token]:
    """(kind, text): literal, digit (0 # ?), point, comma, percent, slash, exponent, date,
    ampm, general, text (@) or gannen (the first year of an era written 元)."""
    out: list[Token] = []
    for m in _TOKEN.finditer(section):
        t = m.group(0)
        first = t[0]
        if first == '"':
            out.append(("literal", t[1:-1] if len(t) > 1 and t.endswith('"') else t[1:]))
        elif first == "\\":
            out.append(("literal", t[1:]))
        elif first == "_":
            out.append(("pad", " "))  # a space as wide as the next character: layout
        elif first == "*":
            continue  # a character repeated to fill the column: nothing in a text
        elif first == "[":
            out.extend(_bracket(t))
        elif t in ("General", "general", "G/標準"):
            out.append(("general", t))
        elif t.upper() in ("AM/PM", "A/P"):
            out.append(("ampm", t))
        elif first in "eE" and t in ("E", "e") and out and out[-1][0] in ("digit", "point"):
            out.append(("exponent", t))  # 0.00E+00
        elif first in "bB":
            raise _Unshowable  # Buddhist era years
        elif first in _DATE_LETTERS:
            out.append(("date", t))
        else:
            out.append(_SIMPLE.get(t, ("literal", t)))
    return out


_SIMPLE = {"0": ("digit", "0"), "#": ("digit", "#"), "?": ("digit", "?"), ".": ("point", "."),
           ",": ("comma", ","), "%": ("percent", "%"), "/": ("slash", "/"), "@": ("text", "@")}


def _bracket(t: str) -> list[Token]:
    inner = t[1:-1] if t.endswith("]") else t[1:]
    if re.fullmatch(r"(?i)h+|m+|s+", inner):
        return [("date", t)]  # elapsed time: [h]:mm
    if inner.startswith("$"):
        # [$¥-411]: a currency symbol, then the language; [$-411] the language only
        symbol, _, language = inner[1:].partition("-")
        marks: list[Token] = [("literal", symbol)] if symbol else []
        if "gannen" in language.lower():  # [$-ja-JP-x-gannen]: the first year shows as 元年
            marks.append(("gannen", ""))
        return marks
    if _COLOURS.fullmatch(inner):
        return []  # a colour changes no character
    raise _Unshowable  # [DBNum1] (Kanji numerals) and the like


def shown_text(text: str, code: str) -> str | None:
    """The text a cell holding the text `text` shows with the format `code`: the format's text
    section (the fourth, or a lone section with @) puts literals around it, or hides it (;;;);
    None when that section holds anything else."""
    sections = _split(code or "General")
    try:
        if len(sections) >= 4:
            tokens = _tokens(sections[3])
        elif len(sections) == 1 and ("text", "@") in (tokens := _tokens(sections[0])):
            pass
        else:
            return text  # no text section: text shows as it is
    except _Unshowable:
        return None
    out = []
    for kind, t in tokens:
        if kind == "text":
            out.append(text)
        elif kind == "literal":
            out.append(t)
        elif kind != "pad":
            return None  # digits or dates in a text section: not for text
    return "".join(out)


# --- numbers ---------------------------------------------------------------------------------

def _number(value: float, tokens: list[Token], sign: bool) -> str:
    kinds = [k for k, _t in tokens]
    if "exponent" in kinds or ("slash" in kinds and "digit" in kinds):
        raise _Unshowable  # scientific notation and fractions
    tokens = [("literal", t) if k in ("slash", "gannen", "pad") else (k, t) for k, t in tokens]
    kinds = [k for k, _t in tokens]
    minus = "-" if sign else ""
    if "general" in kinds or ("text" in kinds and "digit" not in kinds):
        # General, or @ (the text format: a number typed before it shows as General)
        return minus + "".join(general(abs(value)) if k in ("general", "text") else t
                               for k, t in tokens if k in ("general", "text", "literal"))
    if "text" in kinds:
        raise _Unshowable  # @ among digits
    if "digit" not in kinds:  # literal text only: the "-" of an accounting format's zero
        return minus + "".join(t for k, t in tokens if k == "literal")
    number = Decimal(repr(abs(value))) * Decimal(100) ** kinds.count("percent")
    point = kinds.index("point") if "point" in kinds else len(tokens)
    last = max(i for i, k in enumerate(kinds[:point]) if k == "digit") if "digit" in kinds[:point] else -1
    # commas after the number's last placeholder divide by 1,000 each (#,##0, and 0.0,)
    scaling = sum(1 for k in kinds[last + 1:point] if k == "comma")
    if point < len(tokens):
        tail = max(i for i, k in enumerate(kinds) if k in ("digit", "point"))
        while tail + 1 < len(kinds) and kinds[tail + 1] == "comma":
            scaling += 1
            tail += 1
    number /= Decimal(1000) ** scaling
    places = sum(1 for k in kinds[point + 1:] if k == "digit")
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:f}".partition(".")
    if rounded == 0:
        minus = ""  # -0.001 shown with 0.00 is 0.00
    text = _integer_part(whole, tokens[:point], last)
    if point < len(tokens):
        text += "." + _fraction_part(fraction, tokens[point + 1:])
    return minus + text


def _integer_part(whole: str, tokens: list[Token], last: int) -> str:
    """The integer digits laid into their placeholders from the right; the leftmost takes the
    rest. A comma between placeholders groups the digits by thousands."""
    digits = whole.lstrip("0")
    places = [i for i, (k, _t) in enumerate(tokens) if k == "digit"]
    if not places:  # .00: no integer placeholder, nothing shown before the point
        return "".join(t for k, t in tokens if k == "literal") + ("" if not digits else digits)
    grouped = any(k == "comma" for k, _t in tokens[places[0]:last])
    if grouped:
        if any(k == "literal" for k, _t in tokens[places[0]:last]):
            raise _Unshowable  # thousands separators and literals among the same digits
        forced = sum(1 for i in places if tokens[i][1] == "0")
        body = _group(digits.rjust(forced, "0"))
        if not body and any(tokens[i][1] == "?" for i in places):
            body = " "
        out: list[str] = []
        for i, (k, t) in enumerate(tokens):
            if i == places[0]:
                out.append(body)
            elif k in ("literal", "percent"):
                out.append(t)
        return "".join(out)
    out = []
    remaining = digits
    for i in range(len(tokens) - 1, -1, -1):
        k, t = tokens[i]
        if k == "digit":
            take, remaining = (remaining, "") if i == places[0] else (remaining[-1:], remaining[:-1])
            out.append(take or ("0" if t == "0" else " " if t == "?" else ""))
        elif k in ("literal", "percent"):
            out.append(t)
    return "".join(reversed(out))


def _group(digits: str) -> str:
    parts = []
    while len(digits) > 3:
        parts.append(digits[-3:])
        digits = digits[:-3]
    if digits:
        parts.append(digits)
    return ",".join(reversed(parts))


def _fraction_part(fraction: str, tokens: list[Token]) -> str:
    places = [t for k, t in tokens if k == "digit"]
    digits = list(fraction.ljust(len(places), "0"))
    for i in range(len(places) - 1, -1, -1):  # optional places drop insignificant zeros
        if digits[i] != "0" or places[i] == "0":
            break
        digits[i] = " " if places[i] == "?" else ""
    out, n = [], 0
    for k, t in tokens:
        if k == "digit":
            out.append(digits[n])
            n += 1
        elif k in ("literal", "percent"):
            out.append(t)
    return "".join(out)


# --- dates and times -------------------------------------------------------------------------

def _date(value: float, tokens: list[Token], date1904: bool) -> str:
    tokens, precision = _subseconds(tokens)
    if any(k in ("digit", "exponent", "text", "general") for k, _t in tokens):
        raise _Unshowable  # number placeholders among date parts
    if value < 0:
        raise _Unshowable  # Excel shows a negative date or time as ####
    # Excel rounds to the precision shown for seconds, then takes the parts (10:30:59 with
    # h:mm shows 10:30)
    scale = 86400 * 10 ** precision
    ticks = int(Decimal(repr(value)) * scale + Decimal("0.5"))
    days, rest = divmod(ticks, scale)
    if date1904:
        day = dt.date(1904, 1, 1) + dt.timedelta(days=days)
    elif days == 60:
        raise _Unshowable  # 29 February 1900: Excel's leap-year error, a day that never was
    elif days == 0:
        day = dt.date(1900, 1, 1)  # Excel shows the day as 1900/1/0
    else:
        day = dt.date(1899, 12, 31 if days < 60 else 30) + dt.timedelta(days=days)
    if day.year > 9999:
        raise _Unshowable
    seconds, fraction = divmod(rest, 10 ** precision)
    hour, minute, second = seconds // 3600, seconds // 60 % 60, seconds % 60
    twelve = any(k == "ampm" for k, _t in tokens)
    gannen = any(k == "gannen" for k, _t in tokens)
    minutes = _minute_tokens(tokens)
    out: list[str] = []
    for i, (k, t) in enumerate(tokens):
        low = t.lower()
        if k == "date" and low.startswith("["):
            total_minutes = (days * 24 + hour) * 60 + minute
            total = {"h": days * 24 + hour, "m": total_minutes, "s": total_minutes * 60 + second}[low[1]]
            out.append(str(total).zfill(len(low) - 2))
        elif k == "date" and low[0] == "h":
            out.append(str((hour % 12 or 12) if twelve else hour).zfill(min(len(low), 2)))
        elif k == "date" and low[0] == "m" and i in minutes:
            out.append(str(minute).zfill(min(len(low), 2)))
        elif k == "date" and low[0] == "s":
            out.append(str(second).zfill(min(len(low), 2)))
        elif k == "date":
            out.append(_day_part(low, day, days == 0 and not date1904, gannen))
        elif k == "subsecond":
            out.append("." + str(fraction).zfill(precision))
        elif k == "ampm":
            text = ("AM" if hour < 12 else "PM") if t.upper() == "AM/PM" else ("A" if hour < 12 else "P")
            out.append(text if t[0].isupper() else text.lower())
        elif k == "gannen":
            continue
        else:
            out.append(t)  # literals, padding, and . , % / between date parts
    return "".join(out)


def _subseconds(tokens: list[Token]) -> tuple[list[Token], int]:
    """ss.00: the point and zeros after seconds become one token; the zeros give the places."""
    out: list[Token] = []
    precision = 0
    i = 0
    while i < len(tokens):
        k, t = tokens[i]
        if k == "point" and out and out[-1][0] == "date" and out[-1][1].lower().startswith("s"):
            n = 0
            while i + 1 + n < len(tokens) and tokens[i + 1 + n] == ("digit", "0"):
                n += 1
            if n:
                if n > 3:
                    raise _Unshowable
                out.append(("subsecond", ""))
                precision = n
                i += 1 + n
                continue
        out.append((k, t))
        i += 1
    return out, precision


def _minute_tokens(tokens: list[Token]) -> set[int]:
    """Indexes of m and mm that mean minutes: right after hours, or right before seconds."""
    dates = [(i, t.lower().strip("[]")) for i, (k, t) in enumerate(tokens) if k == "date"]
    found = set()
    for n, (i, t) in enumerate(dates):
        if t[0] != "m" or len(t) > 2 or tokens[i][1].startswith("["):
            continue
        before = dates[n - 1][1] if n else ""
        after = dates[n + 1][1] if n + 1 < len(dates) else ""
        if before.startswith("h") or after.startswith("s"):
            found.add(i)
    return found


def _day_part(token: str, day: dt.date, zeroth: bool, gannen: bool) -> str:
    n, kind = len(token), token[0]
    if kind == "y":
        return str(day.year)[-2:] if n <= 2 else str(day.year)
    if kind == "m":
        if n <= 2:
            return str(day.month).zfill(n)
        return _MONTHS[day.month - 1][:3] if n == 3 else _MONTHS[day.month - 1] if n == 4 \
            else _MONTHS[day.month - 1][0]
    if kind == "d":
        if n <= 2:
            return ("0" if zeroth else str(day.day)).zfill(n)
        return _DAYS[day.weekday()][:3] if n == 3 else _DAYS[day.weekday()]
    if kind == "a" and n >= 3:  # aaa: 月, aaaa: 月曜日
        return _DAYS_JA[day.weekday()] + ("曜日" if n >= 4 else "")
    if kind in "ge":
        for start, initial, first, name in _ERAS:
            if day >= start:
                if kind == "g":
                    return initial if n == 1 else first if n == 2 else name
                year = day.year - start.year + 1
                if year == 1 and gannen:
                    return "元"
                return str(year).zfill(2) if n >= 2 else str(year)
        raise _Unshowable  # before Meiji
    raise _Unshowable
