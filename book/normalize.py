"""Normalize stage: seed texts -> Manuscript (metadata, chapters) and findings. Pure: no I/O.

Per line of a seed, in order: web cruft is removed, bylines before the first paragraph
become creators, the first heading-like line of the first seed becomes the title, other
heading-like lines open chapters, and every other line is a paragraph with its
punctuation fixed. Every kept Han character stays, in order.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import BackMatter, Config
from .errors import SourceError
from .model import Block, Chapter, Creator, Finding, Manuscript, Metadata, SeedText
from .rules import Rules, load_rules, role_code
from .text import IDEOGRAPHIC_SPACE, chinese_number, fix_punctuation, is_traditional, remove_xml_invalid

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
    convert = script_converter(config.convert)
    for index, seed in enumerate(seeds):
        findings.append(Finding("encoding", f"decoded as {seed.encoding}", seed.path.name))
        findings.extend(seed.findings)
        if config.convert:
            converted = convert(seed.text)
            changed = sum(1 for a, b in zip(seed.text, converted, strict=False) if a != b)
            findings.append(
                Finding("converted", f"{config.convert}: {changed} character(s) converted (OpenCC)", seed.path.name)
            )
            seed = dataclasses.replace(seed, text=converted)
        seed_title, seed_creators, seed_chapters = _normalize_seed(
            seed,
            rules,
            config.lead_title,
            want_title=(index == 0 and config.split == "headings") or config.split == "parts",
            findings=findings,
            traditional=is_traditional(config.language),
        )
        if config.split != "parts":  # in a book of parts, each seed's title line names its part
            title = title or seed_title
        creators.extend(c for c in seed_creators if c not in creators)
        if config.split == "seeds" and seed_chapters:
            seed_chapters = [_seed_as_chapter(seed, seed_title if index else "", seed_chapters)]
        elif config.split == "parts" and seed_chapters:
            seed_chapters = _seed_as_part(seed, seed_title, seed_chapters)
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


CORNER_TO_CURLY = str.maketrans("「」『』", "“”‘’")


def script_converter(conversion: str | None) -> Callable[[str], str]:
    """OpenCC's conversion of Simplified and Traditional text (s2tw, t2s, …); quotation marks follow the
    target: 「」 for Traditional (the punctuation fixer sets them), “” for Simplified."""
    if not conversion:
        return lambda text: text
    import opencc

    converter = opencc.OpenCC(f"{conversion}.json")
    if conversion.endswith(("2s", "2sp")):
        return lambda text: converter.convert(text).translate(CORNER_TO_CURLY)
    return converter.convert


def _seed_as_chapter(seed: SeedText, title: str, chapters: list[Chapter]) -> Chapter:
    """One seed as one chapter (split: seeds): its title line or first heading names it, and its
    other headings become section headings inside it."""
    first = chapters[0]
    if not title and first.title_line:
        title, line, chapters = first.title, first.title_line, [Chapter("", first.blocks, first.source), *chapters[1:]]
    else:
        line = 0
    blocks: list[Block] = []
    for chapter in chapters:
        if chapter.title_line:
            blocks.append(Block("heading", chapter.title, chapter.title_line))
        blocks.extend(chapter.blocks)
    return Chapter(title or seed.path.stem, tuple(blocks), seed.path.name, line)


def _seed_as_part(seed: SeedText, title: str, chapters: list[Chapter]) -> list[Chapter]:
    """One seed as a part (split: parts): a part opening named by its title line (or its file name),
    then its chapters."""
    return [Chapter(title or seed.path.stem, (), seed.path.name, 0, "part"), *chapters]


def _backmatter(section: BackMatter, language: str, findings: list[Finding]) -> Chapter:
    """A back-matter section of book.yaml as a chapter: one paragraph per non-blank line."""
    seed = SeedText(Path(section.source), section.text, "utf-8")
    blocks = []
    for line in _lines(seed, findings):
        text, _ = fix_punctuation(line.text, traditional=is_traditional(language))
        blocks.append(Block("paragraph", text, line.number))
    return Chapter(section.title, tuple(blocks), section.source, 0, section.kind)


@dataclass(frozen=True)
class _Item:
    kind: str  # "heading", "paragraph", or in Markdown "quote", "item", "ordered-item", "note"
    text: str
    line: int
    firm: bool = True  # a heading by its form (第N章, #, 楔子) rather than only by being short
    markdown: bool = False
    label: str = ""


MARKDOWN_SUFFIXES = (".md", ".markdown")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.S)
_MD_ESCAPED = re.compile(r"^\\[#>*+\-\d]")
_MD_QUOTE = re.compile(r"^>\s?(?P<text>.*)$")
_MD_ITEM = re.compile(r"^[*+\-][ \t]+(?P<text>.+)$")
_MD_ORDERED = re.compile(r"^\d{1,3}[.)][ \t]+(?P<text>.+)$")
_MD_NOTE = re.compile(r"^\[\^(?P<label>[^\]\s]{1,20})\]:[ \t]*(?P<text>.+)$")


def _markdown_block(text: str) -> tuple[str, str, str]:
    """(kind, text, label) of a Markdown line that is a quote, a list item or a footnote, else ("", text, "").
    A leading backslash escapes the mark (\\# \\> \\- \\1.), as `publish.py normalize` writes them."""
    if _MD_ESCAPED.match(text):
        return "", text[1:], ""
    for kind, pattern in (("note", _MD_NOTE), ("quote", _MD_QUOTE), ("item", _MD_ITEM), ("ordered-item", _MD_ORDERED)):
        match = pattern.match(text)
        if match:
            return kind, match["text"], match.groupdict().get("label") or ""
    return "", text, ""


def _normalize_seed(
    seed: SeedText, rules: Rules, lead_title: str, *, want_title: bool, findings: list[Finding], traditional: bool
) -> tuple[str, list[Creator], list[Chapter]]:
    source = seed.path.name
    title = ""
    creators: list[Creator] = []
    items: list[_Item] = []
    is_markdown = seed.path.suffix.lower() in MARKDOWN_SUFFIXES
    if is_markdown and (front := _FRONT_MATTER.match(seed.text.replace("\r\n", "\n"))):
        # YAML front matter (as `publish.py normalize` writes it) describes the file; it is not text.
        lines_in_front = front.group().count("\n")
        findings.append(Finding("front-matter", f"{lines_in_front} line(s) of YAML front matter skipped", source, 1))
        seed = dataclasses.replace(seed, text="\n" * lines_in_front + seed.text.replace("\r\n", "\n")[front.end() :])
    lines = list(_lines(seed, findings, keep_breaks=is_markdown))
    numbered_only = sum(1 for line in lines if rules.numbered_heading.fullmatch(line.text)) >= rules.numbered_min
    bullet = re.compile(f"^[{re.escape(rules.bullets)}\\s]+")
    menu = _menu_lines(lines, bullet, rules)
    for line in lines:
        bare = bullet.sub("", line.text)
        rule = next((p.pattern for p in rules.cruft if p.fullmatch(bare) or p.fullmatch(line.text)), None)
        if rule is not None and not _SENTENCE.search(bare):  # a removed line never holds a sentence
            findings.append(Finding("removed", f"web cruft (rule {rule})", source, line.number, line.text))
            continue
        in_front = not items
        found = _bylines(bare, rules) if in_front else []
        if found:
            creators.extend(found)
            names = "、".join(f"{c.name}（{c.label}）" for c in found)
            findings.append(Finding("byline", f"byline → {names}", source, line.number, line.text))
            continue
        if line.number in menu:
            findings.append(Finding("removed", "web cruft (a bullet menu item)", source, line.number, line.text))
            continue
        block_kind, label = "", ""
        if is_markdown:
            block_kind, content, label = _markdown_block(line.text)
        else:
            content = _LIST_MARKER.sub("", line.text)  # "* 10月23日，…" → the item's text; "◇梨花" stays
        if not content.strip():  # a list marker and a no-break space ("-\u00a0"): no item, no text
            findings.append(Finding("removed", "an empty list item", source, line.number, line.text))
            continue
        markdown = rules.markdown_heading.fullmatch(content) if not block_kind else None
        if not is_markdown and (split := _split_run_in_heading(content, rules)):
            # A heading run into its chapter's first paragraph: the heading, then the text.
            findings.append(
                Finding("heading-split", "a heading run into body text was split off", source, line.number, split[0])
            )
            items.append(
                _Item("heading", tidy_heading(fix_punctuation(split[0], traditional=traditional)[0]), line.number, True)
            )
            content = split[1]
        text, changes = fix_punctuation(markdown["title"] if markdown else content, traditional=traditional)
        if changes:
            detail = ", ".join(f"{mark}×{n}" for mark, n in sorted(changes.items()))
            findings.append(
                Finding(
                    "punctuation",
                    f"{sum(changes.values())} mark(s): {detail}",
                    source,
                    line.number,
                    text,
                    tuple(sorted(changes.items())),
                )
            )
        firm = bool(markdown) or _is_heading(text, rules, numbered_only=True)
        if is_markdown and not markdown:
            # In Markdown only # lines are headings; everything else is text of its kind.
            items.append(_Item(block_kind or "paragraph", text, line.number, markdown=True, label=label))
        elif (
            want_title
            and not title
            and in_front
            and not creators
            and _is_heading(text, rules)
            and not (rules.numbered_heading.match(text))
        ):
            title = text
            if by := rules.title_author.fullmatch(text):  # 《书名》作者: the name is the author
                title = by["title"]
                creators.append(Creator(by["name"], role_code(by["label"] or "") or "aut", by["label"] or ""))
                message = f"first heading-like line is the title, {by['title']}, by {by['name']}"
            else:
                message = "first heading-like line is the title"
            findings.append(Finding("title", message, source, line.number, text))
        elif firm or _is_heading(text, rules, numbered_only=numbered_only):
            items.append(_Item("heading", tidy_heading(text), line.number, firm, markdown=is_markdown))
        else:
            items.append(_Item("paragraph", text, line.number))
    chapters = _chapters(_demote_stacked_headings(items), lead_title, source, findings)
    findings.extend(_numbering_gaps(chapters, rules, source))
    return title, creators, chapters


_SENTENCE = re.compile("[。！？]")
MAX_LINE = 100_000  # characters in one paragraph: about 30 printed pages
_LIST_MARKER = re.compile(r"^(?:[*+\-•·]\s+)+")


def _menu_lines(lines: list[_Line], bullet: re.Pattern[str], rules: Rules) -> set[int]:
    """Line numbers of menu items: short bullet lines with no clause in them, three or more in a row
    (a scraped page's navigation). A lone bullet line, like a ◇ poem title in a novel, is text."""
    menu: set[int] = set()
    run: list[_Line] = []
    for line in [*lines, None]:
        bare = bullet.sub("", line.text) if line else ""
        if line is not None and bare != line.text and len(bare) <= rules.bullet_menu_max and not _CLAUSE.search(bare):
            run.append(line)
            continue
        if len(run) >= 3:
            menu.update(item.number for item in run)
        run = []
    return menu


_CLAUSE = re.compile("[。！？；，,;]")


_RUN_IN_SPACE = re.compile("[ \t\u3000]+")


def _split_run_in_heading(text: str, rules: Rules) -> tuple[str, str] | None:
    """(heading, text) when a numbered heading (第三回 …) opens a line too long to be a heading and
    the rest, after the last space within the heading's reach, is sentences; else None."""
    if not rules.numbered_heading.match(text) or rules.numbered_heading.fullmatch(text):
        return None
    spaces = [m for m in _RUN_IN_SPACE.finditer(text) if m.start() <= 48]
    if not spaces:
        return None
    cut = spaces[-1]
    heading, body = text[: cut.start()], text[cut.end() :]
    if rules.numbered_heading.fullmatch(heading) and _SENTENCE.search(body) and len(body) > 10:
        return heading, body
    return None


def _demote_stacked_headings(items: list[_Item]) -> list[_Item]:
    """A line that is a heading only by being short, followed by another heading (or by nothing),
    opens no text: it is a paragraph (a banner, a caption, a line of verse)."""
    result = []
    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        if item.kind == "heading" and not item.firm and (following is None or following.kind == "heading"):
            item = _Item("paragraph", item.text, item.line, markdown=item.markdown)
        result.append(item)
    return result


def _chapters(items: list[_Item], lead_title: str, source: str, findings: list[Finding]) -> list[Chapter]:
    """Group items into chapters: each heading opens one; text before the first is the lead."""
    chapters: list[Chapter] = []
    heading: _Item | None = None
    blocks: list[Block] = []
    for item in [*items, None]:
        if item is not None and item.kind != "heading":
            blocks.append(Block(item.kind, item.text, item.line, item.markdown, item.label))  # type: ignore[arg-type]
            continue
        if heading is not None:
            chapters.append(Chapter(heading.text, tuple(blocks), source, heading.line))
        elif blocks:
            chapters.append(Chapter(lead_title, tuple(blocks), source))
        if item is not None:
            findings.append(Finding("heading", "heading opens a chapter", source, item.line, item.text))
        heading, blocks = item, []
    return chapters


def _lines(seed: SeedText, findings: list[Finding], keep_breaks: bool = False) -> Iterator[_Line]:
    """The seed's logical lines: stripped, XML-invalid characters removed and counted, and the lines
    of a hard-wrapped paragraph joined again (no space between Han characters)."""
    cleaned = []
    for number, raw in enumerate(seed.text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            raise SourceError(
                f"line is {len(raw):,} characters long; a paragraph may have at most {MAX_LINE:,}",
                where=f"{seed.path}:{number}",
                fix="break it into paragraphs (one per line)",
            )
        text, removed = remove_xml_invalid(raw)
        if removed:
            message = f"{removed} character(s) removed: control, noncharacter, private-use or unpaired bidi"
            findings.append(Finding("invalid-char", message, seed.path.name, number, text))
        # Indentation is the stylesheet's job (clreq "First-line Indents"), so the
        # ASCII and ideographic spaces that indent a line are not kept; tabs and
        # whitespace-only lines go too.
        cleaned.append((number, text.rstrip(), text.strip(f" \t\r\n\f\v{IDEOGRAPHIC_SPACE}")))
    wrap = None if keep_breaks else _wrap_width([raw for _, raw, _ in cleaned])
    current: _Line | None = None
    previous_full = False
    for number, raw, text in cleaned:
        if not text:
            if current is not None:
                yield current
            current, previous_full = None, False
            continue
        if current is not None and previous_full and (not keep_breaks or _md_plain(text)):
            current = _Line(current.number, _join_wrapped(current.text, text))
        else:
            if current is not None:
                yield current
            current = _Line(number, text)
        previous_full = (wrap is not None and display_width(raw) >= wrap) or (keep_breaks and _md_plain(text))
    if current is not None:
        yield current


def _md_plain(text: str) -> bool:
    """A Markdown line that continues a paragraph: not a heading, quote, list item or footnote."""
    return not ((text.startswith("#") and not _MD_ESCAPED.match(text)) or _markdown_block(text)[0])


def _wrap_width(lines: list[str]) -> int | None:
    """The column a hard-wrapped file breaks its lines at, or None if it is not hard-wrapped.

    A file is hard-wrapped when several lines reach 90% of the widest one and are followed by
    more text of the same paragraph (text-mode browsers and Gutenberg files wrap at a fixed column,
    a little short of it when a wide character or a word does not fit)."""
    if not lines:
        return None
    # A line's width is between its length and twice it: only the lines that can be the widest,
    # or reach the threshold, are measured (a novel's 2,900-character paragraphs are not all).
    lengths = [len(line) for line in lines]
    longest = max(lengths)
    widest = max(display_width(line) for line, length in zip(lines, lengths, strict=True) if 2 * length >= longest)
    threshold = int(widest * 0.9)
    near = [
        i
        for i, length in enumerate(lengths)
        if 2 * length >= threshold
        and (length >= threshold or display_width(lines[i]) >= threshold)
        and i + 1 < len(lines)
        and lines[i + 1].strip()
    ]
    return threshold if widest >= 40 and len(near) >= 3 else None


def _join_wrapped(first: str, second: str) -> str:
    """Join two pieces of a wrapped line: directly between CJK text, with one space between Latin words."""
    if _HAN_OR_FULLWIDTH.match(first[-1]) or _HAN_OR_FULLWIDTH.match(second[0]):
        return first + second
    return f"{first} {second}"


_HAN_OR_FULLWIDTH = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\U00020000-\U0003134f]")


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


def _is_heading(text: str, rules: Rules, *, numbered_only: bool = False) -> bool:
    """A numbered heading, or a short line that ends no sentence and holds no full stop inside.

    In a seed with numbered headings, only those and the standalone words (楔子, 后记 …) count."""
    if rules.numbered_heading.fullmatch(text) or rules.standalone_heading.fullmatch(text):
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


_HEADING_SPACE = re.compile("[ \t\u3000]+")


def tidy_heading(text: str) -> str:
    """A heading with each run of spaces made one ideographic space: 第一回  甄士隐 → 第一回　甄士隐."""
    return _HEADING_SPACE.sub(IDEOGRAPHIC_SPACE, text)


def _numbering_gaps(chapters: list[Chapter], rules: Rules, source: str) -> list[Finding]:
    """Findings for numbered headings that skip (第十二章 then 第十四章) or go back; nothing is invented."""
    findings = []
    previous: dict[str, tuple[int, Chapter]] = {}
    for chapter in chapters:
        match = rules.numbered_heading.fullmatch(chapter.title) if chapter.title_line else None
        number = chinese_number(match["number"]) if match else None
        if number is None:
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
        totals.update(dict(finding.counts))
    return totals
