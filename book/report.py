"""The normalization report and the normalized text as Markdown: pure functions, no I/O."""

from __future__ import annotations

import re

from .model import Manuscript
from .normalize import punctuation_changes
from .render import credit_lines

_MARKDOWN_START = re.compile(r"^([#>*+\-]|\d+[.)])")


def format_report(manuscript: Manuscript) -> str:
    """A short, readable report: what was removed, which headings and bylines were found, punctuation."""
    meta = manuscript.metadata
    lines = [
        f"《{meta.title}》",
        f"  作者 creators: {'；'.join(credit_lines(meta.creators)) or '(none)'}",
        f"  chapters: {len(manuscript.chapters)}, paragraphs: {sum(len(c.paragraphs) for c in manuscript.chapters)}",
    ]
    for number, chapter in enumerate(manuscript.chapters, start=1):
        lines.append(f"    {number:>3}. {chapter.title} ({len(chapter.paragraphs)} paragraphs)")
    for code, heading in (
        ("removed", "removed lines"),
        ("byline", "bylines"),
        ("title", "title"),
        ("heading", "headings"),
        ("invalid-char", "invalid characters"),
        ("config", "config"),
        ("missing-glyph", "missing glyphs"),
    ):
        found = manuscript.findings_of(code)
        if found:
            lines.append(f"  {heading} ({len(found)}):")
            lines.extend(
                f"    {f.source}:{f.line}: {f.text}  [{f.message}]" if f.line else f"    {f.message}" for f in found
            )
    totals = punctuation_changes(manuscript)
    summary = ", ".join(f"{mark} {n}" for mark, n in sorted(totals.items())) or "none"
    lines.append(f"  punctuation marks changed: {sum(totals.values())} ({summary})")
    return "\n".join(lines)


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
        body = []
        for block in chapter.blocks:
            text = _MARKDOWN_START.sub(r"\\\1", block.text)
            body.append(f"## {block.text}" if block.kind == "heading" else text)
        files[f"{number:03d}.md"] = "\n".join(front) + "\n" + "\n\n".join(body) + "\n"
    return files


def _yaml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manuscript_text(manuscript: Manuscript) -> str:
    """The normalized book as a plain-text seed: normalizing it again gives the same book."""
    meta = manuscript.metadata
    parts = [meta.title]
    parts.extend(f"{c.organization}{c.label}/{c.name}" for c in meta.creators if c.label)
    for chapter in manuscript.chapters:
        if chapter.title_line:  # a title the text gave, not one the normalizer made up
            parts.append(chapter.title)
        parts.extend(block.text for block in chapter.blocks)
    return "\n\n".join(parts) + "\n"
