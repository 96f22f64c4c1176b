"""Headings: which lines open chapters, and the chapters they make. Pure: no I/O.

A heading is a whole line (第三回 …, 楔子 …, 一, a short line that ends no sentence, or one that
markup or an underline marks). A bare 第三回 takes its title from the line below; a heading run
into the text is split off; a heading repeated at once opens one chapter; no chapter is empty.
"""

from __future__ import annotations

import dataclasses
import re

from .model import Block, Chapter, Finding
from .rules import Rules
from .text import IDEOGRAPHIC_SPACE, chinese_number
from .unwrap import SPACES, Line, PhysicalLine

# Closing quotes and brackets may follow the sentence-end mark: 。” and ！）
_CLOSERS = "”’）》〉」』】〕〗\"')]"
SENTENCE = re.compile("[。！？]")
CLAUSE = re.compile("[。！？；，,;]")
_RUN_IN_SPACE = re.compile("[ \t\u3000]+")
_HEADING_SPACE = re.compile("[ \t\u3000]+")
_GAP = f"[ \t{IDEOGRAPHIC_SPACE}]"
_COUPLET = re.compile(f"第[^回章]{{1,8}}[回章]{_GAP}+(?P<first>[^ \t{IDEOGRAPHIC_SPACE}，。]{{4,12}}){_GAP}*")


def split_run_in_headings(lines: list[Line], rules: Rules, source: str, findings: list[Finding]) -> list[Line]:
    """Lines with the numbered headings run into them split off: a heading that opens a line of
    body text (`第一回　甄士隐梦幻识通灵　贾雨村风尘怀闺秀此开卷…`) or follows a chapter's closing
    formula mid-line (`…且听下回分解。第十三回　…话说…`)."""
    result = []
    for line in lines:
        while not line.hint and (pieces := _split_run_in_heading(line.text, rules)):
            before, heading, after = pieces
            message = "a heading run into body text was split off"
            findings.append(Finding("heading-split", message, source, line.number, heading))
            if before:
                result.append(Line(line.number, before))
            result.append(Line(line.number, heading, "heading"))
            line = Line(line.number, after)
        result.append(line)
    return result


def _split_run_in_heading(text: str, rules: Rules) -> tuple[str, str, str] | None:
    """(text before, heading, text after) when a numbered heading is run into a line of text; else None."""
    if rules.numbered_heading.fullmatch(text):
        return None
    starts = [0] if rules.numbered_heading.match(text) else []
    if "第" in text[1:]:  # a heading mid-line, after a chapter's closing formula
        starts += [m.end() for m in rules.closing_formula.finditer(text) if rules.bare_heading.match(text, m.end())]
    for start in starts:
        rest = text[start:]
        for end in _heading_ends(rest, rules):
            heading, body = rest[:end].strip(SPACES), rest[end:].strip(SPACES)
            if rules.numbered_heading.fullmatch(heading) and SENTENCE.search(body) and len(body) > 10:
                return text[:start].strip(SPACES), heading, body
    return None


def _heading_ends(text: str, rules: Rules) -> list[int]:
    """Where a heading that opens `text` may end, best first: before a chapter's opening words
    (话说, 却说), after the second half of a couplet title as long as the first, or at the last
    space within a heading's reach."""
    ends = []
    if opener := rules.body_opener.search(text, 0, 60):
        ends.append(opener.start())
    if couplet := _COUPLET.match(text):
        half = len(couplet["first"])
        second = text[couplet.end() : couplet.end() + half]
        if len(second) == half and not CLAUSE.search(second):
            ends.append(couplet.end() + half)
    spaces = [m.start() for m in _RUN_IN_SPACE.finditer(text, 0, 49)]
    if spaces:
        ends.append(spaces[-1])
    return ends


def join_bare_headings(lines: list[Line], rules: Rules) -> list[Line]:
    """A bare numbered heading (`第三回`) takes the short line below it, past rule lines, as its title:
    Gutenberg texts set the couplet title on the next line, often under a rule and indented."""
    result: list[Line] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        result.append(line)
        index += 1
        if not rules.bare_heading.fullmatch(line.text):
            continue
        after = index
        while after < len(lines) and lines[after].hint == "rule":
            after += 1
        if after < len(lines) and _is_title_line(lines[after].text, rules):
            title = tidy_heading(lines[after].text)
            result[-1] = Line(line.number, f"{line.text}{IDEOGRAPHIC_SPACE}{title}", "heading")
            result.extend(lines[index:after])  # the rule lines, reported as removed
            index = after + 1
    return result


def _is_title_line(text: str, rules: Rules) -> bool:
    """Whether a line can be a heading's title: short, no heading itself, no sentence in it."""
    return (
        0 < len(text) <= rules.heading_max_length + 10
        and not rules.numbered_heading.match(text)
        and not SENTENCE.search(text)
        and text[-1] not in rules.sentence_end
    )


def mark_underlined_headings(lines: list[PhysicalLine], rules: Rules) -> list[PhysicalLine]:
    """A short line alone above a rule line (`第一章　葬花` over `-----`, Markdown's setext form) is a
    heading: the underline is the strongest heading mark a plain text has."""
    result = list(lines)
    for index in range(1, len(lines)):
        above = lines[index - 1].raw.strip(SPACES)
        before = lines[index - 2].raw.strip(SPACES) if index >= 2 else ""
        if (
            rules.rule_line.fullmatch(lines[index].raw.strip(SPACES))
            and above
            and not before
            and not rules.rule_line.fullmatch(above)
            and len(above) <= rules.heading_max_length
            and not SENTENCE.search(above)
        ):
            result[index - 1] = dataclasses.replace(lines[index - 1], hint="heading")
    return result


def is_chapter_heading(text: str, rules: Rules) -> bool:
    """A heading that opens a chapter by its form, never the book's title: 第三回 …, 楔子 …, 一."""
    return bool(
        rules.numbered_heading.match(text)
        or rules.standalone_heading.fullmatch(text)
        or rules.numeral_heading.fullmatch(text)
    )


def is_heading(text: str, rules: Rules, *, numbered_only: bool = False) -> bool:
    """A numbered heading, or a short line that ends no sentence and holds no full stop inside.

    In a seed with numbered headings, only those and the standalone words (楔子, 后记 …) count."""
    if (
        rules.numbered_heading.fullmatch(text)
        or rules.standalone_heading.fullmatch(text)
        or rules.numeral_heading.fullmatch(text)
    ):
        return True
    if numbered_only:
        return False
    if rules.outline_heading.fullmatch(text):
        return True
    if len(text) > rules.heading_max_length:
        return False
    core = text.rstrip(_CLOSERS)
    if not core or core[-1] in rules.sentence_end:
        return False
    return not any(mark in core for mark in "。．！？!?")


def tidy_heading(text: str) -> str:
    """A heading with each run of spaces made one ideographic space: 第一回  甄士隐 → 第一回　甄士隐."""
    return _HEADING_SPACE.sub(IDEOGRAPHIC_SPACE, text)


def numbering_gaps(chapters: list[Chapter], rules: Rules, source: str) -> list[Finding]:
    """Findings for numbered headings that skip (第十二章 then 第十四章) or go back; nothing is invented."""
    findings = []
    previous: dict[str, tuple[int, Chapter]] = {}
    for chapter in chapters:
        match = rules.numbered_heading.fullmatch(chapter.title) if chapter.title_line else None
        number = chinese_number(match["number"]) if match else None
        if match is None or number is None:
            continue
        unit = match["unit"]
        if unit in previous:
            last, _ = previous[unit]
            if number > last + 1:
                missing = number - last - 1
                findings.append(
                    Finding(
                        "heading-gap",
                        f"{missing} heading(s) missing: 第{last}{unit} is followed by 第{number}{unit}",
                        source,
                        chapter.title_line,
                        chapter.title,
                    )
                )
            elif number <= last:
                findings.append(
                    Finding(
                        "heading-order",
                        f"第{number}{unit} comes after 第{last}{unit}",
                        source,
                        chapter.title_line,
                        chapter.title,
                    )
                )
        previous[unit] = (number, chapter)
    return findings


def _heading_key(title: str, rules: Rules) -> tuple[int | None, str] | str:
    """What makes two headings the same: their number and unit (第四十五回), else their text."""
    match = rules.numbered_heading.fullmatch(title)
    return (chinese_number(match["number"]), match["unit"]) if match else title


def merge_repeated_headings(chapters: list[Chapter], rules: Rules, findings: list[Finding]) -> list[Chapter]:
    """A heading repeated right after itself (the same 第二十一回 twice) opens one chapter, not two:
    the text under both is kept, in order, and the repeat is a heading-order finding."""
    result: list[Chapter] = []
    for chapter in chapters:
        previous = result[-1] if result else None
        if (
            previous is not None
            and previous.title_line
            and chapter.title_line
            and _heading_key(previous.title, rules) == _heading_key(chapter.title, rules)
        ):
            result[-1] = dataclasses.replace(previous, blocks=previous.blocks + chapter.blocks)
            message = f"the heading repeats (first at line {previous.title_line}): one chapter, its text kept in order"
            findings.append(Finding("heading-order", message, chapter.source, chapter.title_line, chapter.title))
            continue
        result.append(chapter)
    return result


def without_empty_chapters(chapters: list[Chapter], findings: list[Finding]) -> list[Chapter]:
    """No chapter without text: a heading over another heading opens a part (第一卷 over 第一回, a
    Markdown ## over ###), and a heading at the end with no text under it is the last chapter's last
    paragraph. Each is a finding."""
    result: list[Chapter] = []
    for index, chapter in enumerate(chapters):
        if chapter.blocks or chapter.kind != "chapter":
            result.append(chapter)
        elif index < len(chapters) - 1:
            result.append(dataclasses.replace(chapter, kind="part"))
            message = "a heading with no text of its own over the next heading: it opens a part"
            findings.append(Finding("empty-chapter", message, chapter.source, chapter.title_line, chapter.title))
        elif not result:  # a seed that is one heading: its text
            result.append(Chapter("", (Block("paragraph", chapter.title, chapter.title_line),), chapter.source))
        else:
            last = result[-1]
            result[-1] = dataclasses.replace(
                last, blocks=(*last.blocks, Block("paragraph", chapter.title, chapter.title_line))
            )
            message = "a heading with no text under it at the end: kept as the last chapter's last paragraph"
            findings.append(Finding("empty-chapter", message, chapter.source, chapter.title_line, chapter.title))
    return result
