"""Notes of a plain-text seed: a title or a sentence marked (1), 〔1〕 or ①, and a 注释 block after
the text that explains each mark, paired into the chapter's endnotes. Pure: no I/O.

Pairing is made only where it is clear: every note's number is marked exactly once in the chapter,
and every mark has its note. Otherwise the text stays as it is, and a finding says why.
"""

from __future__ import annotations

import dataclasses
import re

from .model import Block, Chapter, Finding
from .rules import Rules

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _label(match: re.Match[str]) -> str:
    """The note number a mark or a note line names: 3 for (3), 〔3〕, [3] and ③."""
    number = match["number"] or match.groupdict().get("bare")
    return str(int(number)) if number else str(_CIRCLED.index(match["circled"]) + 1)


def pair_notes(chapters: list[Chapter], rules: Rules, findings: list[Finding]) -> list[Chapter]:
    """Chapters with each clear 注释 block made the endnotes of the chapter before it (or that holds it)."""
    result: list[Chapter] = []
    for chapter in chapters:
        if result and rules.notes_heading.fullmatch(chapter.title) and chapter.blocks:
            paired = _paired(result[-1], chapter.blocks, chapter.title_line, rules, findings)
            if paired is not None:
                result[-1] = paired
                continue
        inside = next(
            (
                i
                for i, b in enumerate(chapter.blocks)
                if b.kind == "paragraph" and rules.notes_heading.fullmatch(b.text)
            ),
            None,
        )
        if inside is not None and inside + 1 < len(chapter.blocks):
            text = dataclasses.replace(chapter, blocks=chapter.blocks[:inside])
            paired = _paired(text, chapter.blocks[inside + 1 :], chapter.blocks[inside].line, rules, findings)
            if paired is not None:
                chapter = paired
        result.append(chapter)
    return result


def _paired(
    chapter: Chapter, note_blocks: tuple[Block, ...], line: int, rules: Rules, findings: list[Finding]
) -> Chapter | None:
    """The chapter with the notes of `note_blocks` as its endnotes and its marks as references; None
    (and a finding) when the pairing is not clear."""
    notes: list[Block] = []
    for block in note_blocks:
        match = rules.note_line.fullmatch(block.text)
        if match:
            notes.append(Block("note", match["text"], block.line, label=_label(match)))
        elif notes and block.kind == "paragraph":  # a note of several paragraphs
            notes[-1] = dataclasses.replace(notes[-1], text=f"{notes[-1].text}{block.text}")
        else:
            return None  # not a notes block: text that happens to follow a 注释 line
    labels = [note.label for note in notes]
    marks = [(-1, m) for m in rules.note_mark.finditer(chapter.title)]
    marks += [
        (i, m) for i, b in enumerate(chapter.blocks) if b.kind != "note" for m in rules.note_mark.finditer(b.text)
    ]
    marked = [_label(m) for _, m in marks]
    title = chapter.title or "(untitled)"
    if sorted(marked, key=int) != sorted(labels, key=int) or len(set(labels)) != len(labels):
        message = (
            f"a 注释 block of {len(notes)} note(s) after 「{title}」 does not pair with the marks in its text "
            f"(notes {', '.join(labels) or 'none'}; marks {', '.join(marked) or 'none'}): left as text"
        )
        findings.append(Finding("notes", message, chapter.source, line))
        return None
    if any("*" in chapter.blocks[i].text for i, _ in marks if i >= 0 and not chapter.blocks[i].markdown):
        findings.append(
            Finding("notes", f"notes after 「{title}」 left as text: a marked line holds `*`", chapter.source, line)
        )
        return None
    blocks = list(chapter.blocks)
    title_note = ""
    for index, match in reversed(marks):
        if index < 0:
            title_note = _label(match)
            continue
        block = blocks[index]
        text = block.text[: match.start()] + f"[^{_label(match)}]" + block.text[match.end() :]
        blocks[index] = dataclasses.replace(block, text=text, markdown=True)
    new_title = rules.note_mark.sub("", chapter.title).rstrip() if title_note else chapter.title
    message = f"{len(notes)} note(s) of the 注释 block paired with their marks: endnotes of 「{new_title}」"
    findings.append(Finding("notes", message, chapter.source, line))
    return dataclasses.replace(
        chapter, title=new_title, blocks=(*blocks, *notes), title_note=title_note or chapter.title_note
    )
