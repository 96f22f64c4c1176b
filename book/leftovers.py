"""What a plain-text seed carries besides its text, read before its lines are joined. Pure: no I/O.

Each pass takes the seed's physical lines and returns them with what it found: a Project
Gutenberg licence is removed, HTML left in a .txt file is read as HTML (a paragraph tag breaks the
line, a centred or bold line is a heading, no tag is ever printed), records of a news dump become
articles, a private-use paragraph mark breaks the paragraph, and other private-use characters,
which no font can show, become the geta mark 〓 that Chinese typesetting prints for a missing one.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence

from .model import Finding
from .rules import Rules
from .unwrap import SPACES, PhysicalLine

GETA = "\u3013"  # 〓: stands for a character that cannot be set (GB/T 15834 has no mark; printers use it)
PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010fffd]")


def remove_boilerplate(
    lines: list[PhysicalLine], rules: Rules, source: str
) -> tuple[list[PhysicalLine], list[Finding]]:
    """Without a Project Gutenberg licence header (up to `*** START OF …`) and footer (from `*** END OF …`
    or `End of Project Gutenberg…`): one finding for each, with its line range."""
    findings = []
    start = next((i for i, line in enumerate(lines) if rules.boilerplate_start.match(line.raw.strip(SPACES))), None)
    after = 0 if start is None else start + 1  # the footer follows the text, whatever the header says
    end = next((i for i in range(after, len(lines)) if rules.boilerplate_end.match(lines[i].raw.strip(SPACES))), None)
    kept = lines
    if end is not None:
        first, last = lines[end].number, lines[-1].number
        findings.append(
            Finding("boilerplate", "Project Gutenberg licence footer removed", source, first, "", end_line=last)
        )
        kept = kept[:end]
    if start is not None:
        first, last = lines[0].number, lines[start].number
        findings.append(
            Finding("boilerplate", "Project Gutenberg licence header removed", source, first, "", end_line=last)
        )
        kept = kept[start + 1 :]
    return kept, findings


def gutenberg_title(text: str, rules: Rules) -> tuple[str, str, int] | None:
    """(title, author, line) as a Project Gutenberg file names them: its header's `Title:` and
    `Author:` lines, else its footer's `End of the Project Gutenberg EBook of TITLE, by AUTHOR`."""
    title = author = ""
    line = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not title and (match := rules.gutenberg_title.match(raw.strip(SPACES))):
            title, author, line = (match["title"] or match["title2"]).strip(), (match["author"] or "").strip(), number
        elif title and (match := rules.gutenberg_author.match(raw.strip(SPACES))):
            author = author or match["author"].strip()
    return (title, author, line) if title else None


def mark_paragraphs_and_private_use(
    lines: list[PhysicalLine], rules: Rules, source: str
) -> tuple[list[PhysicalLine], list[Finding]]:
    """Break lines at private-use paragraph marks (U+E40C in GB18030 news dumps); every other
    private-use character becomes 〓, reported with its count and first position."""
    result: list[PhysicalLine] = []
    marks = 0
    others: Counter[str] = Counter()
    first = ""
    for line in lines:
        if not PRIVATE_USE.search(line.raw):
            result.append(line)
            continue
        pieces = [line.raw]
        for mark in rules.paragraph_marks:
            marks += sum(piece.count(mark) for piece in pieces)
            pieces = [part for piece in pieces for part in piece.split(mark)]
        for piece in pieces:
            for match in PRIVATE_USE.finditer(piece):
                others[match[0]] += 1
                first = first or f"{line.number}:{line.raw.find(match[0]) + 1}"
            # The pieces of a paragraph cut at its marks are paragraphs, however short.
            hint = "paragraph" if len(pieces) > 1 else line.hint
            result.append(PhysicalLine(line.number, PRIVATE_USE.sub(GETA, piece), hint))
    findings = []
    if marks:
        findings.append(
            Finding("paragraph-mark", f"{marks} private-use paragraph mark(s) made paragraph breaks", source)
        )
    if others:
        detail = ", ".join(f"U+{ord(ch):04X} ×{n}" for ch, n in others.most_common(6))
        findings.append(
            Finding(
                "private-use",
                f"{sum(others.values())} private-use character(s), set as {GETA}: {detail}; "
                f"first at line:column {first}",
                source,
                int(first.split(":")[0]),
            )
        )
    return result, findings


_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*?(/?)>")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,30}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def read_markup(lines: list[PhysicalLine], rules: Rules, source: str) -> tuple[list[PhysicalLine], list[Finding]]:
    """HTML left in a text read as HTML: block tags break lines, a line wholly centred, bold or in a
    heading tag is a heading, record fields of a news dump (<contenttitle>, <content>) are its
    articles' titles and text, and no tag or entity is left in the text."""
    tags: Counter[str] = Counter()
    entities = 0
    findings: list[Finding] = []
    result: list[PhysicalLine] = []
    if not _carries_markup(lines, rules):
        return lines, findings  # `<b>` once, or `&amp;`, in a text without markup is text
    for line in lines:
        raw = line.raw
        if "<" not in raw and "&" not in raw:
            result.append(line)
            continue
        pieces = _split_blocks(raw, rules, tags)
        for piece, hint in pieces:
            if hint == "drop":
                findings.append(
                    Finding(
                        "removed", "an element that is not text (a record field, a script)", source, line.number, piece
                    )
                )
                continue
            text, count = _ENTITY.subn(lambda m: html.unescape(m[0]), piece)
            entities += count
            result.append(PhysicalLine(line.number, text, hint or line.hint))
    result = _drop_empty_records(result, source, findings)
    if tags or entities:
        detail = ", ".join(f"<{name}>×{n}" for name, n in tags.most_common(8))
        findings.insert(
            0,
            Finding("markup", f"HTML read as markup, not printed: {detail}; {entities} entity reference(s)", source),
        )
    return result, findings


def _carries_markup(lines: list[PhysicalLine], rules: Rules) -> bool:
    """Whether a text carries HTML: two or more tags that format text (<p>, <br>, <center>, <b> …)."""
    found = 0
    for line in lines:
        if "<" in line.raw:
            found += sum(1 for m in _TAG.finditer(line.raw) if m[2].lower() in rules.markup_signs)
            if found >= 2:
                return True
    return False


def _drop_empty_records(lines: list[PhysicalLine], source: str, findings: list[Finding]) -> list[PhysicalLine]:
    """Without the titles of news records that have no text (an empty <content>): each is a finding."""
    result = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        if line.hint == "record" and (following is None or following.hint == "record"):
            findings.append(Finding("removed", "a news record with no text: its title", source, line.number, line.raw))
            continue
        result.append(line)
    return result


def _split_blocks(raw: str, rules: Rules, tags: Counter[str]) -> list[tuple[str, str]]:
    """(text, hint) pieces of a line, cut at block tags. hint "heading": all of the piece's text is
    inside heading tags (<center>, <b>, <h2> …); "record": a news record's title; "drop": a record
    field that is not text (<url>)."""
    pieces: list[tuple[str, str]] = []
    buffer: list[str] = []
    inside_heading = 0
    inside_drop = record_title = False
    text_in_heading = text_outside = False

    def add(chunk: str) -> None:
        nonlocal text_in_heading, text_outside
        buffer.append(chunk)
        if chunk.strip(SPACES):
            if inside_heading:
                text_in_heading = True
            else:
                text_outside = True

    def flush() -> None:
        nonlocal text_in_heading, text_outside
        text = "".join(buffer)
        if inside_drop and text.strip(SPACES):
            pieces.append((text, "drop"))
        elif text.strip(SPACES):
            heading = "record" if record_title else "heading"
            pieces.append((text, heading if text_in_heading and not text_outside else ""))
        buffer.clear()
        text_in_heading = text_outside = False

    position = 0
    for match in _TAG.finditer(raw):
        name = match[2].lower()
        if name not in rules.markup_tags:
            continue
        add(raw[position : match.start()])
        position = match.end()
        tags[name] += 1
        closing = bool(match[1])
        if name in rules.markup_blocks or name in rules.markup_dropped:
            flush()
        if name in rules.markup_dropped:
            inside_drop = not closing
        if name in rules.markup_records:
            record_title = not closing
        if name in rules.markup_headings and not match[3]:
            inside_heading = max(0, inside_heading + (-1 if closing else 1))
    add(raw[position:])
    flush()
    return pieces


def remove_inline_cruft(
    lines: Sequence[PhysicalLine], rules: Rules, source: str
) -> tuple[list[PhysicalLine], list[Finding]]:
    """Without the inline markers of a wiki dump ([编辑]) and the like: each removal a finding."""
    result = []
    findings = []
    for line in lines:
        markers = rules.inline_cruft.findall(line.raw)
        if not markers:
            result.append(line)
            continue
        message = "an inline web marker removed"
        findings += [Finding("removed-inline", message, source, line.number, marker) for marker in markers]
        result.append(PhysicalLine(line.number, rules.inline_cruft.sub("", line.raw), line.hint))
    return result, findings
