"""The normalization report and the normalized text as Markdown: pure functions, no I/O."""

from __future__ import annotations

import re
from typing import Any

from .model import TABLE_CELL, Block, Manuscript
from .normalize import punctuation_changes
from .render import credit_lines

_MARKDOWN_START = re.compile(r"^([#>*+\-!|]|\d+[.)]|\[\^)")


# Finding codes: (heading in the report, what the finding means). Stable: README lists them.
FINDING_CODES: dict[str, tuple[str, str]] = {
    "encoding": ("encoding", "the encoding a seed was decoded with"),
    "script": ("script", "Simplified or Traditional, told from the text (OpenCC), and the language tag used"),
    "converted": ("script conversion", "characters OpenCC converted (book.yaml `convert`)"),
    "replacement-char": (
        "replacement characters",
        "U+FFFD in the text: bytes that did not decode, or damage already in the source (count and first line:column)",
    ),
    "invalid-char": (
        "invalid characters",
        "characters XML forbids (controls, lone surrogates, U+FFFE/U+FFFF), removed",
    ),
    "boilerplate": ("licence text removed", "a Project Gutenberg licence header or footer removed (its lines)"),
    "markup": ("markup read", "HTML left in a .txt seed read as markup (a paragraph tag breaks, a centred line heads)"),
    "paragraph-mark": ("paragraph marks", "private-use paragraph marks (U+E40C) made paragraph breaks"),
    "private-use": ("private-use characters", "characters no font has (private use), set as 〓; count and first place"),
    "unwrapped": ("hard wraps joined", "hard-wrapped lines joined into paragraphs, with the wrap widths found"),
    "removed": ("removed lines", "a line removed as web cruft or a rule line, with the rule that matched it"),
    "removed-inline": ("removed markers", "a marker removed from inside a line (a wiki's [编辑])"),
    "byline": ("bylines", "a byline turned into creators"),
    "title": ("title", "the line taken as the book's title"),
    "heading": ("headings", "a line that opens a chapter"),
    "heading-split": ("headings split off", "a numbered heading run into the body text, split into heading and text"),
    "heading-gap": ("heading numbers skipped", "numbered headings skip (第十二章 then 第十四章); nothing is invented"),
    "heading-order": ("heading numbers out of order", "a numbered heading repeats (one chapter) or goes back"),
    "empty-chapter": ("headings without text", "a heading with no text under it: a part opening, or a last paragraph"),
    "notes": ("notes", "a 注释 block paired with the marks (〔1〕, ①) of its chapter as endnotes, or why not"),
    "punctuation": ("punctuation", "ASCII or half-width marks made full-width inside Chinese text, per line"),
    "fullwidth": ("full-width letters", "full-width Latin letters and digits made half-width (GB/T 15835)"),
    "quotes": ("unbalanced quotes", "a paragraph whose quotation marks no reading balances (left as read)"),
    "damaged": ("damaged text", "`?` written for lost characters by a lossy conversion: kept, with count and lines"),
    "escape": ("escapes", "literal \\uXXXX escapes in the text"),
    "mojibake": ("mojibake", "text read one byte out of step after a lost byte (GBK)"),
    "no-chinese": ("no Chinese text", "the seeds hold no Han character at all: the wrong file, or the wrong encoding"),
    "config": ("config", "book.yaml asks for something the text does not have"),
    "missing-glyph": ("missing glyphs", "a character no face of the book has"),
    "cover": ("cover", "the cover's size, its spine and where it folds"),
    "document": ("document", "what a Word document's reader said, or left out of the book (page headers and footers)"),
    "style-unmapped": ("Word styles not mapped", "a Word style with no mapping (once): its paragraphs read as text"),
    "unmapped": ("elements not mapped", "an HTML element of a document with no mapping, read as text, and how often"),
    "image-missing": ("images not found", "a figure whose image is not beside the seed: the line stays text"),
    "paragraph-split": ("paragraphs split", "paragraphs an EPUB's export ran together, split (…。　　…, 第N条)"),
    "metadata": ("document metadata", "what a document says of itself and was not used (a language that is no tag)"),
}
# What --strict fails on: findings that mean the text is damaged or incomplete.
STRICT_CODES = (
    "replacement-char",
    "invalid-char",
    "private-use",
    "heading-gap",
    "heading-order",
    "config",
    "missing-glyph",
    "damaged",
    "escape",
    "mojibake",
)


def format_report(manuscript: Manuscript, limit: int = 12) -> str:
    """A short, readable report: what was removed, which headings and bylines were found, punctuation."""
    meta = manuscript.metadata
    lines = [
        f"《{meta.title}》",
        f"  作者 creators: {'；'.join(credit_lines(meta.creators)) or '(none)'}",
        f"  chapters: {len(manuscript.chapters)}, paragraphs: {sum(len(c.paragraphs) for c in manuscript.chapters)}",
    ]
    for number, chapter in enumerate(manuscript.chapters, start=1):
        lines.append(f"    {number:>3}. {chapter.title} ({len(chapter.paragraphs)} paragraphs)")
    for code, (heading, _) in FINDING_CODES.items():
        found = manuscript.findings_of(code)
        if not found or code == "punctuation":
            continue
        lines.append(f"  {heading} ({len(found)}):")
        for f in found[:limit]:
            text = f.text if len(f.text) <= 40 else f.text[:39] + "…"
            lines.append(
                f"    {f.source}:{f.line}: {text}  [{f.message}]"
                if f.line
                else f"    {f.source + ': ' if f.source else ''}{f.message}"
            )
        if len(found) > limit:
            lines.append(f"    … and {len(found) - limit} more (see the JSON report)")
    totals = punctuation_changes(manuscript)
    summary = ", ".join(f"{mark} {n}" for mark, n in sorted(totals.items())) or "none"
    lines.append(f"  punctuation marks changed: {sum(totals.values())} ({summary})")
    return "\n".join(lines)


def report_data(manuscript: Manuscript) -> dict[str, Any]:
    """The whole normalization report as JSON-ready data."""
    meta = manuscript.metadata
    examples: dict[str, list[str]] = {}
    for finding in manuscript.findings_of("punctuation"):
        for mark, _ in finding.counts:
            if len(examples.setdefault(mark, [])) < 3:
                examples[mark].append(f"{finding.source}:{finding.line}: {finding.text[:40]}")
    return {
        "title": meta.title,
        "creators": [
            {"name": c.name, "role": c.role, "label": c.label, "organization": c.organization} for c in meta.creators
        ],
        "chapters": [
            {"title": c.title, "source": c.source, "line": c.title_line, "paragraphs": len(c.paragraphs)}
            for c in manuscript.chapters
        ],
        "punctuation": {"counts": dict(sorted(punctuation_changes(manuscript).items())), "examples": examples},
        "findings": [
            {"code": f.code, "message": f.message, "source": f.source, "line": f.line, "text": f.text}
            for f in manuscript.findings
            if f.code != "punctuation"
        ],
    }


def report_markdown(manuscript: Manuscript) -> str:
    """The normalization report as Markdown, every finding listed."""
    data = report_data(manuscript)
    lines = [f"# Normalization report: 《{data['title']}》", "", "## Chapters", ""]
    lines += [
        f"{n}. {c['title']} — {c['source']}:{c['line']}, {c['paragraphs']} paragraphs"
        for n, c in enumerate(data["chapters"], start=1)
    ]
    lines += ["", "## Punctuation", ""]
    lines += [
        f"- `{mark}` × {count}: " + "; ".join(data["punctuation"]["examples"].get(mark, []))
        for mark, count in data["punctuation"]["counts"].items()
    ] or ["- none changed"]
    for code, (heading, meaning) in FINDING_CODES.items():
        found = [f for f in data["findings"] if f["code"] == code]
        if found:
            lines += ["", f"## {heading} (`{code}`, {len(found)})", "", f"_{meaning}_", ""]
            lines += [
                f"- {f['source']}:{f['line']}: {f['message']}" + (f" — `{f['text'][:60]}`" if f["text"] else "")
                for f in found
            ]
    return "\n".join(lines) + "\n"


def manuscript_markdown(manuscript: Manuscript) -> dict[str, str]:
    """The normalized chapters as Markdown files with YAML front matter, by file name."""
    meta = manuscript.metadata
    files = {}
    for number, chapter in enumerate(manuscript.chapters, start=1):
        front = [
            "---",
            f"book: {_yaml_string(meta.title)}",
            f"chapter: {number}",
            f"title: {_yaml_string(chapter.title)}",
            f"source: {_yaml_string(chapter.source)}"
            + (f"  # line {chapter.title_line}" if chapter.title_line else ""),
            "---",
            "",
            f"# {chapter.title}",
            "",
        ]
        body = [_block_markdown(block) for block in chapter.blocks]
        files[f"{number:03d}.md"] = "\n".join(front) + "\n" + "\n\n".join(body) + "\n"
    return files


def _block_markdown(block: Block) -> str:
    """A block as the Markdown a seed gives it: normalizing the file again reads the same block."""
    text = block.text if block.markdown else _MARKDOWN_START.sub(r"\\\1", block.text)
    match block.kind:
        case "heading":
            return f"## {block.text}"
        case "quote":
            return f"> {text}"
        case "item":
            return f"- {text}"
        case "ordered-item":
            return f"1. {text}"
        case "note":
            return f"[^{block.label}]: {text}"
        case "figure":
            return f"![{block.text}](images/{block.label})"
        case "code":
            return f"```\n{block.text}\n```"
        case "table":
            return "\n".join(
                "| " + row.replace("|", "\\|").replace(TABLE_CELL, " | ") + " |" for row in text.split("\n")
            )
    return text


def _yaml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manuscript_text(manuscript: Manuscript) -> str:
    """The normalized book as a plain-text seed: normalizing it again gives the same book."""
    meta = manuscript.metadata
    parts = [meta.title] if manuscript.chapters else []  # no text: the title is the file's name, no line
    parts.extend(f"{c.organization}{c.label}/{c.name}" for c in meta.creators if c.label)
    for chapter in manuscript.chapters:
        if chapter.title_line:  # a title the text gave, not one the normalizer made up
            parts.append(chapter.title)
        parts.extend(block.text for block in chapter.blocks)
    return "\n\n".join(parts) + "\n"
