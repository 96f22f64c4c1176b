"""The lines of a print PDF read back (check.py): body lines in reading order against the type
area, which line ends a paragraph, and the line-breaking rows: prohibited line starts and ends,
split dashes, runts, stretched lines and split numbers (issue #27)."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .rules import load_rules
from .text import CLOSING_MARKS, HAN, LINE_END_PROHIBITED, LINE_START_PROHIBITED

if TYPE_CHECKING:
    from .pdf.writer import TypeArea

TOLERANCE = 0.5  # pt: a justified line meets the edges within this (issue: "within 0.5 pt")
_HAN_RE = re.compile(HAN)


@dataclass(frozen=True)
class Check:
    """One preflight row: what was measured, the rule, whether it passed, and the first failures."""

    name: str
    figure: str
    rule: str
    passed: bool
    examples: tuple[str, ...] = ()
    advisory: bool = False  # a failure is shown (WARN) but does not fail the preflight


@dataclass
class Line:
    page: int  # physical page, 1-based
    number: int  # line on its page, 1-based
    chars: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0]["x0"]

    @property
    def x1(self) -> float:
        return self.chars[-1]["x1"]

    @property
    def where(self) -> str:
        return f"p.{self.page} l.{self.number}"


def body_lines(pages: list[list[dict]], body_size: float) -> tuple[list[Line], list[str]]:
    """Body-size lines in reading order, and for each what follows it: "text", "heading" or "end"."""
    lines: list[Line] = []
    kinds: list[str] = []
    for number, chars in enumerate(pages, start=1):
        rows: list[list[dict]] = []
        for char in sorted(chars, key=lambda c: (round(c["top"] / 2), c["x0"])):
            if rows and abs(rows[-1][0]["top"] - char["top"]) < char["size"] / 2:
                rows[-1].append(char)
            else:
                rows.append([char])
        on_page = 0
        for row in rows:
            row.sort(key=lambda c: c["x0"])
            size = Counter(round(c["size"], 1) for c in row).most_common(1)[0][0]
            if size == body_size:
                on_page += 1
                lines.append(Line(number, on_page, row))
                kinds.append("text")
            elif size > body_size and lines:
                kinds[-1] = "heading"  # the line before a heading ends its paragraph
    if kinds:
        kinds[-1] = "end"
    return lines, kinds


# The start of a list item's first line: a bullet, or a number and its stop.
LIST_ITEM = re.compile(r"[•◦▪‣·‧∙]|[0-9]+[.．、](?![0-9])|[一二三四五六七八九十]+、")


def left_offset(line: Line, edges: dict[int, TypeArea], em: float) -> float:
    """How far the line starts from the type area's left edge, in em."""
    return (line.x0 - edges[line.page][0]) / em


def is_body(line: Line, edges: dict[int, TypeArea], em: float) -> bool:
    """A line of body text: it starts at the type area's edge or 2 em in (a paragraph's first
    line, or a quotation's), and is no list item."""
    offset = left_offset(line, edges, em)
    return (abs(offset) < 0.1 or abs(offset - 2) < 0.1) and not LIST_ITEM.match(line.text)


def is_last(index: int, lines: list[Line], kinds: list[str], edges: dict, em: float) -> bool:
    """A block's last line: a heading or the end follows; the line is no body text (a list item, a
    note); it ends a character or more short of the type area's right edge; or the next line starts
    away from the left edge (a paragraph's indent, a list, a quotation)."""
    if kinds[index] != "text" or index + 1 == len(lines):
        return True
    line, following = lines[index], lines[index + 1]
    if not is_body(line, edges, em) or edges[line.page][1] - line.x1 >= em:
        return True
    return abs(left_offset(following, edges, em)) >= 0.1


def ends_at(line: Line, right: float, em: float) -> bool:
    last = line.chars[-1]
    # A closing mark set in half width (halt) has its ink in its first half.
    return abs(last["x1"] - right) <= TOLERANCE or (
        last["text"] in CLOSING_MARKS and abs(last["x0"] + em / 2 - right) <= TOLERANCE
    )


def line_breaking(lines: list[Line], kinds: list[str], edges: dict, em: float) -> list[Check]:
    # A paragraph's first line starts where its text starts (a riddle's "——打一果名"): only the
    # lines a break began are judged.
    broken = [lines[i + 1] for i in range(len(lines) - 1) if not is_last(i, lines, kinds, edges, em)]
    starts = [line for line in broken if line.text[0] in LINE_START_PROHIBITED]
    ends = [line for line in lines if line.text[-1] in LINE_END_PROHIBITED]
    split = [
        a
        for a, b in itertools.pairwise(lines)
        if (a.text.endswith("—") and b.text.startswith("—")) or (a.text.endswith("…") and b.text.startswith("…"))
    ]
    return [
        Check(
            "line start",
            f"{len(starts)} lines",
            "no line starts with 、，；：。！？”’）》」』】 … (clreq basic)",
            not starts,
            tuple(f"{line.where}: {line.text[:8]}…" for line in starts[:5]),
        ),
        Check(
            "line end",
            f"{len(ends)} lines",
            "no line ends with “‘（《〈「『【 (clreq basic)",
            not ends,
            tuple(f"{line.where}: …{line.text[-8:]}" for line in ends[:5]),
        ),
        Check(
            "split —— ……",
            f"{len(split)} splits",
            "—— and …… never split across lines",
            not split,
            tuple(f"{line.where}: …{line.text[-6:]}" for line in split[:5]),
        ),
    ]


def han_spacing(line: Line, em: float) -> float:
    """The justification spacing of a line: how much more than 1 em its Han characters advance."""
    advances = [
        b["x0"] - a["x0"] - em
        for a, b in zip(line.chars, line.chars[1:], strict=False)
        if _HAN_RE.match(a["text"]) and _HAN_RE.match(b["text"])
    ]
    return statistics.median(advances) if advances else 0.0


def share_check(name: str, failures: list[str], total: int, what: str, rule: str, minimum: float) -> Check:
    """A check that passes when at least `minimum` of `total` items pass; `failures` describe the others."""
    rate = 1 - len(failures) / total if total else 1.0
    return Check(name, f"{rate:.1%} of {total} {what}", rule, rate >= minimum, tuple(failures[:5]))


# clreq: a paragraph's last line holds more than one character (孤字); issue #27's figures to reach.
RUNT_SHARE = 0.005
STRETCH = 0.1  # em: a line whose Han characters stand further apart than this on average is stretched
STRETCHED_SHARE = 0.005


def line_quality(lines: list[Line], kinds: list[str], edges: dict, em: float) -> list[Check]:
    """Runts, stretched lines and split numbers. Runts and stretched lines are a compositor's
    judgement (advisory: the book prints), a number split from its unit is a fault."""
    last = [is_last(i, lines, kinds, edges, em) for i in range(len(lines))]
    ends = [i for i, end in enumerate(last) if end and (i == 0 or not last[i - 1])]  # paragraphs of 2 lines or more
    runts = [lines[i] for i in ends if len(_HAN_RE.findall(lines[i].text)) <= 1]
    paragraphs = sum(last)
    judged = [(line, han_spacing(line, em) / em) for line, end in zip(lines, last, strict=True) if not end]
    stretched = [(line, spread) for line, spread in judged if spread > STRETCH]
    units = load_rules().number_units
    split = [
        (a, b)
        for i, (a, b) in enumerate(itertools.pairwise(lines))
        if not last[i] and a.text[-1:].isdigit() and (b.text[:1].isdigit() or b.text[:1] in units)
    ]
    runt_share = len(runts) / paragraphs if paragraphs else 0.0
    stretched_share = len(stretched) / len(judged) if judged else 0.0
    return [
        Check(
            "runts",
            f"{runt_share:.1%} of {paragraphs} paragraphs",
            f"≤ {RUNT_SHARE:.1%} of paragraphs end on a line of one Han character or none (clreq 孤字)",
            runt_share <= RUNT_SHARE,
            tuple(f"{line.where}: {line.text}" for line in runts[:5]),
            advisory=True,
        ),
        Check(
            "stretched lines",
            f"{stretched_share:.1%} of {len(judged)} lines",
            f"≤ {STRETCHED_SHARE:.1%} of justified lines space their Han characters over {STRETCH} em",
            stretched_share <= STRETCHED_SHARE,
            tuple(f"{line.where}: {spread:.2f} em …{line.text[-8:]}" for line, spread in stretched[:5]),
            advisory=True,
        ),
        Check(
            "numbers split",
            f"{len(split)} breaks",
            "no line break inside a number or between a number and its unit (GB/T 15835, rules.yaml number_units)",
            not split,
            tuple(f"{a.where}: …{a.text[-4:]} | {b.text[:4]}…" for a, b in split[:5]),
        ),
    ]
