"""Physical lines -> logical lines: rejoin the paragraphs of a hard-wrapped text. Pure: no I/O.

A text is hard-wrapped when many of its lines stop at one display width (Gutenberg files, text-mode
browser dumps). The width is taken per section (a chapter may wrap at 35 characters and the next at
26) from the distribution of line widths, not from the widest line: a rule line or a paragraph left
unwrapped must not set it. A line continues the paragraph before it when that line reaches the wrap
width, less a character or three, and it is not indented more than the section's body text.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

IDEOGRAPHIC_SPACE = "\u3000"
SPACES = f" \t\r\n\f\v{IDEOGRAPHIC_SPACE}"
MIN_WRAP = 40  # columns: a wrap narrower than 20 Han characters is verse, not a wrapped text
MAX_WRAP = 240  # columns: no wrapping program breaks lines wider than this
MIN_WRAPPED_LINES = 3
MIN_WRAPPED_SHARE = 0.2  # of a section's text lines that are full and continued
MAX_WIDER_SHARE = 0.1  # of a section's text lines that are wider than its wrap
BLANK_SEPARATED_SHARE = 0.7  # of a section's short lines that a blank line follows
MIN_SECTION = 12  # text lines: a shorter section takes the width of the whole text


@dataclass(frozen=True)
class PhysicalLine:
    """One line of the seed as read, before any joining: its number, raw text and a markup hint."""

    number: int
    raw: str  # without the line end; indentation kept
    hint: str = ""  # "heading" where markup said so (<center>, <b>, a setext underline)

    @cached_property
    def width(self) -> int:
        """Display columns up to the line's last visible character; a line longer than any wrap is
        measured only as that (twice its length), which is all a wrap needs to know of it."""
        text = self.raw.rstrip(SPACES)
        return display_width(text) if len(text) <= MAX_WRAP else 2 * len(text)


@dataclass(frozen=True)
class Line:
    """A logical line: a paragraph's whole text, stripped of indentation."""

    number: int  # the first physical line
    text: str
    hint: str = ""


@dataclass(frozen=True)
class Wrap:
    """A section's wrap: lines from `low` to `high` columns are full and continue on the next line,
    unless the next is indented more than `base` columns (the body text's own indentation)."""

    first_line: int
    low: int
    high: int
    base: int = 0
    blank_separated: bool = False  # paragraphs end at blank lines: a short line ends none
    width: int = 0  # the wrap width itself, the most common width of a full line


def display_width(text: str) -> int:
    """Columns a text takes in a fixed-width dump: 2 for wide (CJK) characters, 1 for others."""
    return len(text.translate(_COLUMNS))  # one character per column, looked up in C


class _Columns(dict[int, str]):
    """str.translate's table from a character to as many characters as the columns it takes
    (Unicode East Asian Width: wide and fullwidth take two), filled as characters are met."""

    def __missing__(self, code: int) -> str:
        columns = self[code] = "xx" if unicodedata.east_asian_width(chr(code)) in "WF" else "x"
        return columns


_COLUMNS = _Columns()


def _indent(raw: str) -> int:
    """Columns of leading white space (none in a blank line)."""
    stripped = raw.lstrip(SPACES)
    if not stripped:
        return 0
    return display_width(raw[: len(raw) - len(stripped)].replace("\t", "    "))


def find_wraps(lines: Sequence[PhysicalLine], opens_section: Callable[[str], bool]) -> list[Wrap]:
    """The wrap of each section (low > high where it is not hard-wrapped); sections begin at the
    lines `opens_section` accepts."""
    sections: list[list[PhysicalLine]] = [[]]
    for line in lines:
        if opens_section(line.raw.strip(SPACES)) and sections[-1]:
            sections.append([])
        sections[-1].append(line)
    whole = _wrap_of(list(lines))
    wraps = []
    for section in sections:
        texts = [line for line in section if line.raw.strip(SPACES)]
        wrap = _wrap_of(section) if len(texts) >= MIN_SECTION else whole
        if section:
            wraps.append(Wrap(section[0].number, *wrap) if wrap else Wrap(section[0].number, 0, -1))
    return wraps


def _wrap_of(section: list[PhysicalLine]) -> tuple[int, int, int, bool, int] | None:
    """(low, high, base indent, blank-separated, width) of a full line in this stretch of text, in columns;
    None if it is not hard-wrapped."""
    widths = [line.width for line in section]
    counts = Counter(w for w in widths if MIN_WRAP <= w <= MAX_WRAP)
    if not counts:
        return None
    # The wrap width is the most common width, taken with its neighbours (a line falls short by a
    # column or two where a wide character or a word does not fit); ties go to the wider.
    mode = max(counts, key=lambda w: (sum(counts[w - d] for d in range(-2, 3)), w))
    slack = max(4, round(mode * 0.09))
    low, high = mode - slack, mode + max(4, slack // 2)
    texts = sum(1 for width in widths if width)
    wider = sum(1 for width in widths if width > high)  # paragraphs on one line, as unwrapped texts have
    if wider > MAX_WIDER_SHARE * texts:
        return None
    # The body text's indentation, from the lines that follow a full line: most continue a
    # paragraph. (Counted over all lines, short paragraphs' indented first lines could outnumber them.)
    after_full = Counter(
        _indent(section[i + 1].raw)
        for i, width in enumerate(widths[:-1])
        if low <= width <= high and section[i + 1].raw.strip(SPACES)
    )
    base = min(after_full.most_common(1)[0][0], 8) if after_full else _base_indent(section)
    full_and_continued = sum(
        1
        for i, width in enumerate(widths[:-1])
        if low <= width <= high and section[i + 1].raw.strip(SPACES) and _indent(section[i + 1].raw) <= base
    )
    # Where paragraphs are separated by blank lines, a short line followed by text is a line break
    # the source kept inside a paragraph (`容得千百口老小。` / `我們都進去住`), not a paragraph's end.
    short_ends = [
        bool(section[i + 1].raw.strip(SPACES))
        for i, w in enumerate(widths[:-1])
        if 0 < w < low and _indent(section[i].raw) <= base and _indent(section[i + 1].raw) <= base
    ]
    blank_separated = bool(short_ends) and short_ends.count(False) >= BLANK_SEPARATED_SHARE * len(short_ends)
    if full_and_continued >= MIN_WRAPPED_LINES and full_and_continued >= MIN_WRAPPED_SHARE * texts:
        return low, high, base, blank_separated, mode
    return None


def _base_indent(section: Sequence[PhysicalLine]) -> int:
    """The indentation most text lines of a section have (0 in most texts; a dump may indent all)."""
    indents = Counter(_indent(line.raw) for line in section if line.raw.strip(SPACES))
    return min(indents.most_common(1)[0][0], 8) if indents else 0


def join_lines(
    lines: Sequence[PhysicalLine],
    wraps: Sequence[Wrap],
    *,
    is_rule: Callable[[str], bool],
    is_heading: Callable[[str], bool],
    keep_breaks: Callable[[str], bool] | None = None,
) -> list[Line]:
    """Logical lines: blank lines and rule lines end a paragraph; a full line of a wrapped section
    continues on the next unless that is indented, a heading, or marked by markup.

    `keep_breaks` (Markdown): a line it accepts continues the paragraph whatever its width."""
    result: list[Line] = []
    wrap_at = {wrap.first_line: wrap for wrap in wraps}
    wrap: Wrap | None = None
    current: Line | None = None
    previous_full = False
    for line in lines:
        wrap = wrap_at.get(line.number, wrap)
        text = line.raw.strip(SPACES)
        if not text or line.hint == "rule" or is_rule(text):
            if current is not None:
                result.append(current)
            current, previous_full = None, False
            if text:
                result.append(Line(line.number, text, "rule"))
            continue
        indented = _indent(line.raw) > (wrap.base if wrap else 0)
        continues = (
            current is not None
            and previous_full
            and not line.hint
            and not current.hint
            and not (indented and keep_breaks is None)
            and not is_heading(text)
            and (keep_breaks is None or keep_breaks(text))
        )
        if continues and current is not None:
            current = Line(current.number, join_wrapped(current.text, text), current.hint)
        else:
            if current is not None:
                result.append(current)
            current = Line(line.number, text, line.hint)
        if keep_breaks is not None:
            previous_full = keep_breaks(text)
        else:
            width = line.width
            previous_full = wrap is not None and (wrap.low <= width <= wrap.high or wrap.blank_separated)
    if current is not None:
        result.append(current)
    return result


def join_wrapped(first: str, second: str) -> str:
    """Join two pieces of a wrapped line: directly between CJK text, with one space between Latin words."""
    if not first or not second:
        return first + second
    if _is_wide(first[-1]) or _is_wide(second[0]):
        return first + second
    return f"{first} {second}"


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"
