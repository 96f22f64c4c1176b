"""Normalize stage: seed texts -> Manuscript (metadata, chapters) and findings. Pure: no I/O.

Per line of a seed, in order: web cruft is removed, bylines before the first paragraph
become creators, the first heading-like line of the first seed becomes the title, other
heading-like lines open chapters, and every other line is a paragraph with its
punctuation fixed. Every kept Han character stays, in order.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import BackMatter, Config
from .model import Block, Chapter, Creator, Finding, Manuscript, Metadata, SeedText
from .rules import Rules, load_rules, role_code
from .text import IDEOGRAPHIC_SPACE, fix_punctuation, is_traditional, remove_xml_invalid

# Closing quotes and brackets may follow the sentence-end mark: 。” and ！）
_CLOSERS = "”’）》〉」』】〕〗\"')]"
_NAME_SEPARATORS = re.compile(r"[\s、，,]+")
_BOOK_NAMESPACE = uuid.UUID("6b1d8a2e-3f4c-5d6e-8f90-a1b2c3d4e5f6")


@dataclass(frozen=True)
class _Line:
    number: int
    text: str  # stripped of surrounding white space (ASCII and U+3000)


def normalize(seeds: Sequence[SeedText], config: Config, rules: Rules | None = None) -> Manuscript:
    """Turn decoded seeds into a Manuscript; the config's overrides win over what the text says."""
    rules = (rules or load_rules()).with_cruft(config.cruft)
    findings: list[Finding] = []
    title = ""
    creators: list[Creator] = []
    chapters: list[Chapter] = []
    for index, seed in enumerate(seeds):
        seed_title, seed_creators, seed_chapters = _normalize_seed(
            seed,
            rules,
            config.lead_title,
            want_title=index == 0,
            findings=findings,
            traditional=is_traditional(config.language),
        )
        title = title or seed_title
        creators.extend(c for c in seed_creators if c not in creators)
        chapters.extend(seed_chapters)

    title = config.title or title or (seeds[0].path.stem if seeds else "")
    if len(chapters) == 1 and chapters[0].title_line == 0:
        # A seed without headings is one chapter named after the book.
        chapters[0] = Chapter(title, chapters[0].blocks, chapters[0].source)
    chapters = _apply_chapter_titles(chapters, config.chapter_titles, findings)
    chapters.extend(_backmatter(section, config.language, findings) for section in config.backmatter)
    authors = config.authors if config.authors is not None else tuple(creators)
    metadata = Metadata(
        title=title,
        subtitle=config.subtitle,
        series=config.series,
        series_position=config.series_position,
        edition=config.edition,
        creators=authors,
        language=config.language,
        publisher=config.publisher,
        description=config.description,
        subjects=config.subjects,
        rights=config.rights,
        identifier=_identifier(config.isbn, title, authors),
        date=config.date or "",
    )
    return Manuscript(metadata, tuple(chapters), tuple(findings))


def _backmatter(section: BackMatter, language: str, findings: list[Finding]) -> Chapter:
    """A back-matter section of book.yaml as a chapter: one paragraph per non-blank line."""
    seed = SeedText(Path(section.source), section.text, "utf-8")
    blocks = []
    for line in _lines(seed, findings):
        text, _ = fix_punctuation(line.text, traditional=is_traditional(language))
        blocks.append(Block("paragraph", text, line.number))
    return Chapter(section.title, tuple(blocks), section.source, 0, section.kind)


def _normalize_seed(
    seed: SeedText, rules: Rules, lead_title: str, *, want_title: bool, findings: list[Finding], traditional: bool
) -> tuple[str, list[Creator], list[Chapter]]:
    source = seed.path.name
    title = ""
    creators: list[Creator] = []
    chapters: list[Chapter] = []
    heading: _Line | None = None
    paragraphs: list[Block] = []

    def close_chapter() -> None:
        if heading is None and not paragraphs:
            return
        if heading is None:
            chapters.append(Chapter(lead_title, tuple(paragraphs), source))
        else:
            chapters.append(Chapter(heading.text, tuple(paragraphs), source, heading.number))

    lines = list(_lines(seed, findings))
    numbered_only = sum(1 for line in lines if rules.numbered_heading.fullmatch(line.text)) >= rules.numbered_min
    for line in lines:
        bare = line.text.lstrip(rules.bullets).strip()
        rule = next((p.pattern for p in rules.cruft if p.fullmatch(bare)), None)
        if rule is not None:
            findings.append(Finding("removed", f"web cruft (rule {rule})", source, line.number, line.text))
            continue
        in_front = not chapters and heading is None and not paragraphs
        found = _bylines(bare, rules) if in_front else []
        if found:
            creators.extend(found)
            names = "、".join(f"{c.name}（{c.label}）" for c in found)
            findings.append(Finding("byline", f"byline → {names}", source, line.number, line.text))
            continue
        text, changes = fix_punctuation(line.text, traditional=traditional)
        if changes:
            detail = ", ".join(f"{mark}×{n}" for mark, n in sorted(changes.items()))
            findings.append(
                Finding("punctuation", f"{sum(changes.values())} mark(s): {detail}", source, line.number, text)
            )
        if (
            want_title
            and not title
            and in_front
            and not creators
            and _is_heading(text, rules)
            and not rules.numbered_heading.match(text)
        ):
            title = text
            findings.append(Finding("title", "first heading-like line is the title", source, line.number, text))
        elif not _is_heading(text, rules, numbered_only=numbered_only):
            paragraphs.append(Block("paragraph", text, line.number))
        else:
            close_chapter()
            heading, paragraphs = _Line(line.number, text), []
            findings.append(Finding("heading", "heading opens a chapter", source, line.number, text))
    close_chapter()
    return title, creators, chapters


def _lines(seed: SeedText, findings: list[Finding]) -> Iterator[_Line]:
    """The seed's non-blank lines, stripped, with XML-invalid characters removed and counted."""
    for number, raw in enumerate(seed.text.splitlines(), start=1):
        text, removed = remove_xml_invalid(raw)
        if removed:
            findings.append(
                Finding(
                    "invalid-char", f"{removed} character(s) not allowed in XML removed", seed.path.name, number, text
                )
            )
        # Indentation is the stylesheet's job (clreq "First-line Indents"), so the
        # ASCII and ideographic spaces that indent a line are not kept.
        text = text.strip(f" \t\r\n\f\v{IDEOGRAPHIC_SPACE}")
        if text:
            yield _Line(number, text)


def _is_heading(text: str, rules: Rules, *, numbered_only: bool = False) -> bool:
    """A numbered heading, or a short line that ends no sentence and holds no full stop inside.

    In a seed with numbered headings, only those and the standalone words (楔子, 后记 …) count."""
    if rules.numbered_heading.fullmatch(text) or rules.standalone_heading.fullmatch(text):
        return True
    if numbered_only:
        return False
    if len(text) > rules.heading_max_length:
        return False
    core = text.rstrip(_CLOSERS)
    if not core or core[-1] in rules.sentence_end:
        return False
    return not any(mark in core for mark in "。．！？!?")


def _bylines(text: str, rules: Rules) -> list[Creator]:
    """The creators a byline line names, or [] if the line is not wholly bylines."""
    creators: list[Creator] = []
    position = 0
    for match in rules.byline.finditer(text):
        if text[position : match.start()].strip():
            return []
        position = match.end()
        label = match["role"]
        for name in _NAME_SEPARATORS.split(match["names"].strip()):
            creators.append(Creator(name, role_code(label) or "aut", label, match["organization"]))
    if text[position:].strip():
        return []
    return creators


def _apply_chapter_titles(chapters: list[Chapter], titles: dict[int, str], findings: list[Finding]) -> list[Chapter]:
    result = list(chapters)
    for number, title in sorted(titles.items()):
        if number > len(result):
            findings.append(
                Finding("config", f"chapter_titles names chapter {number}, but the book has {len(result)} chapters")
            )
            continue
        old = result[number - 1]
        result[number - 1] = Chapter(title, old.blocks, old.source, old.title_line)
    return result


def _identifier(isbn: str, title: str, creators: Sequence[Creator]) -> str:
    """urn:isbn when given; else a UUID derived from title and authors, stable across builds."""
    if isbn:
        return "urn:isbn:" + re.sub(r"[^0-9Xx]", "", isbn)
    key = title + "\n" + "\n".join(c.name for c in creators)
    return f"urn:uuid:{uuid.uuid5(_BOOK_NAMESPACE, key)}"


def punctuation_changes(manuscript: Manuscript) -> Counter[str]:
    """Totals of the punctuation marks changed, by resulting mark, for the report."""
    totals: Counter[str] = Counter()
    for finding in manuscript.findings_of("punctuation"):
        for part in finding.message.split(": ", 1)[1].split(", "):
            mark, _, n = part.rpartition("×")
            totals[mark] += int(n)
    return totals
