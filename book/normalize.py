"""Normalize stage: seed texts -> Manuscript (metadata, chapters) and findings. Pure: no I/O.

Per line of a seed, in order: web cruft is removed, bylines before the first paragraph
become creators, the first heading-like line of the first seed becomes the title, other
heading-like lines open chapters, and every other line is a paragraph with its
punctuation fixed. Every kept Han character stays, in order.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import CONVERSIONS, BackMatter, Config
from .damage import find_damage
from .errors import SourceError
from .leftovers import (
    gutenberg_title,
    mark_paragraphs_and_private_use,
    read_markup,
    remove_boilerplate,
    remove_inline_cruft,
)
from .model import Block, Chapter, Creator, Finding, Manuscript, Metadata, SeedText
from .notes import pair_notes
from .quotes import quotes_balanced
from .rules import Rules, load_rules, role_code
from .script import detect_script, to_script
from .text import (
    IDEOGRAPHIC_SPACE,
    chinese_number,
    fix_punctuation,
    halfwidth_alphanumerics,
    is_traditional,
    remove_xml_invalid,
)
from .unwrap import SPACES, Line, PhysicalLine, find_wraps, join_lines

# Closing quotes and brackets may follow the sentence-end mark: 。” and ！）
_CLOSERS = "”’）》〉」』】〕〗\"')]"
_NAME_SEPARATORS = re.compile(r"[\s、，,]+")
_BOOK_NAMESPACE = uuid.UUID("6b1d8a2e-3f4c-5d6e-8f90-a1b2c3d4e5f6")


def normalize(seeds: Sequence[SeedText], config: Config, rules: Rules | None = None) -> Manuscript:
    """Turn decoded seeds into a Manuscript; the config's overrides win over what the text says."""
    rules = (rules or load_rules()).with_cruft(config.cruft)
    findings: list[Finding] = []
    title = ""
    creators: list[Creator] = []
    chapters: list[Chapter] = []
    convert = script_converter(config.convert)
    # Several seeds in a book of headings or of seeds are articles: each keeps its title line as its
    # chapter's title (in a book of parts, it names the part).
    articles = len(seeds) > 1 and config.split != "parts"
    language = _language(seeds, config, findings)
    traditional = is_traditional(language)
    lead_title = (
        to_script(config.lead_title, language) if config.lead_title == DEFAULT_LEAD_TITLE else config.lead_title
    )
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
            lead_title,
            want_title=articles or (index == 0 and config.split == "headings") or config.split == "parts",
            findings=findings,
            traditional=traditional,
            articles=articles,
        )
        if config.split != "parts":  # in a book of parts, each seed's title line names its part
            if articles and seed_title and not title and not config.title:
                message = "the first article's title names the book; set `title:` in book.yaml to choose"
                findings.append(Finding("title", message, seed.path.name, 0, seed_title))
            title = title or seed_title
        creators.extend(c for c in seed_creators if c not in creators)
        if config.split == "seeds" and seed_chapters:
            seed_chapters = [_seed_as_chapter(seed, seed_chapters)]
        elif config.split == "parts" and seed_chapters:
            seed_chapters = _seed_as_part(seed, seed_title, seed_chapters)
        chapters.extend(seed_chapters)

    title = config.title or title or (seeds[0].path.stem if seeds else "")
    if len(chapters) == 1 and chapters[0].title_line == 0:
        # A seed without headings is one chapter named after the book.
        chapters[0] = Chapter(title, chapters[0].blocks, chapters[0].source)
    chapters = _apply_chapter_titles(chapters, config.chapter_titles, findings)
    chapters.extend(_backmatter(section, language, findings) for section in config.backmatter)
    authors = config.authors if config.authors is not None else tuple(creators)
    metadata = Metadata(
        title=title,
        subtitle=config.subtitle,
        series=config.series,
        series_position=config.series_position,
        edition=config.edition,
        creators=authors,
        language=language,
        publisher=config.publisher,
        description=config.description,
        subjects=config.subjects,
        rights=config.rights,
        identifier=_identifier(config.isbn, title, authors),
        date=config.date or "",
    )
    return Manuscript(metadata, tuple(chapters), tuple(findings))


DEFAULT_LEAD_TITLE = "导语"


def _language(seeds: Sequence[SeedText], config: Config, findings: list[Finding]) -> str:
    """The book's language tag: book.yaml's `language`, else the script of its text (OpenCC)."""
    if config.language:
        findings.append(Finding("script", f"language {config.language}, as book.yaml says"))
        return config.language
    if config.convert:
        findings.append(Finding("script", f"language {CONVERSIONS[config.convert]}, the script converted to"))
        return CONVERSIONS[config.convert]
    script = detect_script([seed.text for seed in seeds])
    name = "Traditional" if script.traditional else "Simplified"
    message = (
        f"{name} Chinese: language {script.language} ({script.traditional_forms} Traditional and "
        f"{script.simplified_forms} Simplified forms in {script.sample:,} Han characters); "
        "set `language:` in book.yaml to choose"
    )
    findings.append(Finding("script", message))
    return script.language


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


def _seed_as_chapter(seed: SeedText, chapters: list[Chapter]) -> Chapter:
    """One seed as one chapter (split: seeds): its title line or first heading names it, and its
    other headings become section headings inside it."""
    first = chapters[0]
    title = ""
    if first.title_line:
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
    for line in _lines(seed, findings, load_rules()):
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
    seed: SeedText,
    rules: Rules,
    lead_title: str,
    *,
    want_title: bool,
    findings: list[Finding],
    traditional: bool,
    articles: bool = False,
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
    lines = _lines(seed, findings, rules, markdown=is_markdown)
    if not is_markdown:
        lines = _join_bare_headings(_split_run_in_headings(lines, rules, source, findings), rules)
    numbered_only = sum(1 for line in lines if rules.numbered_heading.fullmatch(line.text)) >= rules.numbered_min
    bullet = re.compile(f"^[{re.escape(rules.bullets)}\\s]+")
    menu = _menu_lines(lines, bullet, rules)
    marks = _Marks(source, rules, traditional=traditional, markdown=is_markdown)
    dateline_pending = ""
    heading_items = 0
    for line in lines:
        if line.hint == "rule":
            findings.append(Finding("removed", "a rule line (a separator, not text)", source, line.number, line.text))
            continue
        bare = bullet.sub("", line.text)
        rule = next((p.pattern for p in rules.cruft if p.fullmatch(bare) or p.fullmatch(line.text)), None)
        if rule is not None and not _SENTENCE.search(bare):  # a removed line never holds a sentence
            findings.append(Finding("removed", f"web cruft (rule {rule})", source, line.number, line.text))
            continue
        in_front = len(items) == heading_items  # nothing but an article's title read yet
        found = _bylines(bare, rules) if in_front else []
        if found:
            creators.extend(found)
            findings.append(Finding("byline", f"byline → {_names(found)}", source, line.number, line.text))
            continue
        if in_front and (news := _news_byline(line.text, rules)):
            dateline, found, credit, rest = news
            creators.extend(found)
            message = f"news byline → {_names(found)}; the dateline {dateline} stays in the text"
            findings.append(Finding("byline", message, source, line.number, credit))
            if not rest:  # 南都讯　记者刘凡　周昌和: the dateline opens the next paragraph
                dateline_pending = dateline
                continue
            line = dataclasses.replace(line, text=f"{dateline}{IDEOGRAPHIC_SPACE}{rest}")
        elif dateline_pending and not line.hint:
            line = dataclasses.replace(line, text=f"{dateline_pending}{IDEOGRAPHIC_SPACE}{line.text}")
            dateline_pending = ""
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
        if not is_markdown and not markdown:
            # Markdown left in a .txt file: a line wholly bold (**第一章**) is a heading, the marks not text.
            markdown = rules.bold_heading.fullmatch(content)
        text, changes = marks.fix(markdown["title"] if markdown else content, line.number)
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
        marked = line.hint in ("heading", "record")  # by markup or an underline
        firm = marked or bool(markdown) or _is_heading(text, rules, numbered_only=True)
        if is_markdown and not markdown and not marked:
            # In Markdown only # lines are headings; everything else is text of its kind.
            items.append(_Item(block_kind or "paragraph", text, line.number, markdown=True, label=label))
        elif (
            want_title
            and not title
            and in_front
            and not creators
            and line.hint not in ("record", "paragraph")  # in a dump of news records, each title is its article's
            and _is_heading(text, rules)
            and not _is_chapter_heading(text, rules)
        ):
            title = text
            if by := rules.title_author.fullmatch(text):  # 《书名》作者: the name is the author
                title = by["title"]
                creators.append(Creator(by["name"], role_code(by["label"] or "") or "aut", by["label"] or ""))
                message = f"first heading-like line is the title, {by['title']}, by {by['name']}"
            else:
                message = "first heading-like line is the title"
            if articles:  # one of several articles: its title heads its chapter
                items.append(_Item("heading", tidy_heading(title), line.number, True))
                heading_items = 1  # the article's byline may follow its title
                findings.append(Finding("heading", "the article's title heads its chapter", source, line.number, title))
            else:
                findings.append(Finding("title", message, source, line.number, text))
        elif line.hint != "paragraph" and (firm or _is_heading(text, rules, numbered_only=numbered_only)):
            items.append(_Item("heading", tidy_heading(text), line.number, firm, markdown=is_markdown))
        else:
            items.append(_Item("paragraph", text, line.number))
    findings.extend(marks.findings())
    items = _closing_bylines(items, rules, source, creators, findings)
    chapters = _chapters(_demote_stacked_headings(items), lead_title, source, findings)
    chapters = _merge_repeated_headings(chapters, rules, findings)
    if not is_markdown:
        chapters = pair_notes(chapters, rules, findings)
    chapters = _without_empty_chapters(chapters, findings)
    findings.extend(_numbering_gaps(chapters, rules, source))
    if want_title and not title and not is_markdown and (catalogued := gutenberg_title(seed.text, rules)):
        title, author, line = catalogued
        findings.append(Finding("title", "the title the Project Gutenberg licence text names", source, line, title))
        if author and not creators:
            creators.append(Creator(author))
    return title, creators, chapters


class _Marks:
    """The marks of one seed's text set right, line by line, with a tally of what could not be:
    full-width letters made half-width, damage kept and marked, quotes that do not balance."""

    def __init__(self, source: str, rules: Rules, *, traditional: bool, markdown: bool) -> None:
        self.source, self.rules, self.traditional, self.markdown = source, rules, traditional, markdown
        self.fullwidth: list[tuple[int, int]] = []  # (line, count)
        self.lost: list[tuple[int, int, str]] = []  # (line, `?` count, text)
        self.escapes: list[int] = []
        self.mojibake: list[int] = []
        self.unbalanced: list[tuple[int, str]] = []

    def fix(self, text: str, line: int) -> tuple[str, Counter[str]]:
        """The line's text with its marks fixed (text.fix_punctuation), its lost-character `?`s kept."""
        damage = find_damage(text, self.rules, simplified=not self.traditional) if "?" in text or "\\" in text else None
        if damage and damage.lost:
            # A `?` that stands for a lost character is kept as it is: hidden from the punctuation rules.
            chars = list(text)
            for index in damage.lost:
                chars[index] = _LOST
            text = "".join(chars)
            self.lost.append((line, len(damage.lost), text.replace(_LOST, "?")))
        text, fullwidth = halfwidth_alphanumerics(text)  # one for one: the damage's positions hold
        if fullwidth:
            self.fullwidth.append((line, fullwidth))
        if damage and damage.escapes:
            self.escapes.append(line)
        if damage and damage.mojibake:
            self.mojibake.append(line)
        text, changes = fix_punctuation(text, traditional=self.traditional, markdown=self.markdown)
        text = text.replace(_LOST, "?")
        if not quotes_balanced(text):
            self.unbalanced.append((line, text))
        return text, changes

    def findings(self) -> list[Finding]:
        """One finding for each kind of mark the seed's text had, with a count and the first line."""
        found = []
        if self.fullwidth:
            count = sum(n for _, n in self.fullwidth)
            lines = len(self.fullwidth)
            message = f"{count} full-width Latin letter(s) and digit(s) made half-width (GB/T 15835) in {lines} line(s)"
            found.append(Finding("fullwidth", message, self.source, self.fullwidth[0][0]))
        if self.lost:
            count = sum(n for _, n, _ in self.lost)
            message = (
                f"{count} `?` for lost characters (a lossy conversion), kept as they are, in {len(self.lost)} line(s); "
                f"lines {', '.join(str(n) for n, _, _ in self.lost[:8])}{' …' if len(self.lost) > 8 else ''}"
            )
            found.append(Finding("damaged", message, self.source, self.lost[0][0], self.lost[0][2][:60]))
        if self.escapes:
            message = f"literal \\uXXXX escapes in {len(self.escapes)} line(s): text escaped by a program, not decoded"
            found.append(Finding("escape", message, self.source, self.escapes[0]))
        if self.mojibake:
            message = f"{len(self.mojibake)} line(s) with text read out of step after a lost byte (GBK mojibake)"
            found.append(Finding("mojibake", message, self.source, self.mojibake[0]))
        for line, text in self.unbalanced:
            found.append(Finding("quotes", "quotation marks that no reading balances", self.source, line, text[:60]))
        return found


_LOST = "\ufffc"  # stands in for a lost-character `?` while the punctuation is fixed
_SENTENCE = re.compile("[。！？]")
MAX_LINE = 100_000  # characters in one paragraph: about 30 printed pages
_LIST_MARKER = re.compile(r"^(?:[*+\-•·]\s+)+")


def _menu_lines(lines: list[Line], bullet: re.Pattern[str], rules: Rules) -> set[int]:
    """Line numbers of menu items: short bullet lines with no clause in them, three or more in a row
    (a scraped page's navigation). A lone bullet line, like a ◇ poem title in a novel, is text."""
    menu: set[int] = set()
    run: list[Line] = []
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


def _split_run_in_headings(lines: list[Line], rules: Rules, source: str, findings: list[Finding]) -> list[Line]:
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
            if rules.numbered_heading.fullmatch(heading) and _SENTENCE.search(body) and len(body) > 10:
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
        if len(second) == half and not _CLAUSE.search(second):
            ends.append(couplet.end() + half)
    spaces = [m.start() for m in _RUN_IN_SPACE.finditer(text, 0, 49)]
    if spaces:
        ends.append(spaces[-1])
    return ends


_GAP = f"[ \t{IDEOGRAPHIC_SPACE}]"
_COUPLET = re.compile(f"第[^回章]{{1,8}}[回章]{_GAP}+(?P<first>[^ \t{IDEOGRAPHIC_SPACE}，。]{{4,12}}){_GAP}*")


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


def _heading_key(title: str, rules: Rules) -> tuple[int | None, str] | str:
    """What makes two headings the same: their number and unit (第四十五回), else their text."""
    match = rules.numbered_heading.fullmatch(title)
    return (chinese_number(match["number"]), match["unit"]) if match else title


def _merge_repeated_headings(chapters: list[Chapter], rules: Rules, findings: list[Finding]) -> list[Chapter]:
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


def _without_empty_chapters(chapters: list[Chapter], findings: list[Finding]) -> list[Chapter]:
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


def _physical_lines(seed: SeedText, findings: list[Finding]) -> list[PhysicalLine]:
    """The seed's lines as read, with XML-invalid characters removed and counted."""
    lines = []
    for number, raw in enumerate(seed.text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            raise SourceError(
                f"line is {len(raw):,} characters long; a paragraph may have at most {MAX_LINE:,}",
                where=f"{seed.path}:{number}",
                fix="break it into paragraphs (one per line)",
            )
        text, removed = remove_xml_invalid(raw)
        if removed:
            message = f"{removed} character(s) removed: control, noncharacter or unpaired bidi"
            findings.append(Finding("invalid-char", message, seed.path.name, number, text))
        lines.append(PhysicalLine(number, text))
    return lines


def _lines(seed: SeedText, findings: list[Finding], rules: Rules, markdown: bool = False) -> list[Line]:
    """The seed's logical lines: licence boilerplate, markup, paragraph marks and inline cruft read
    or removed, setext underlines taken as heading marks, and hard-wrapped paragraphs joined again.
    Indentation is the stylesheet's job (clreq "First-line Indents"), so a line keeps none."""
    source = seed.path.name
    physical = _physical_lines(seed, findings)
    passes = [mark_paragraphs_and_private_use, read_markup, remove_inline_cruft]
    if not markdown:
        passes.insert(0, remove_boilerplate)
    for step in passes:
        physical, found = step(physical, rules, source)
        findings.extend(found)
    physical = _underlined_headings(physical, rules)

    def is_rule(text: str) -> bool:
        return bool(rules.rule_line.fullmatch(text))

    def is_heading(text: str) -> bool:
        return bool(rules.numbered_heading.fullmatch(text) or rules.standalone_heading.fullmatch(text))

    if markdown:
        return join_lines(physical, [], is_rule=is_rule, is_heading=_md_heading, keep_breaks=_md_plain)
    wraps = find_wraps(physical, is_heading)
    wrapped = [w for w in wraps if w.low <= w.high]
    if wrapped:
        widths = sorted({w.width for w in wrapped})
        findings.append(
            Finding(
                "unwrapped",
                f"hard-wrapped lines joined into paragraphs in {len(wrapped)} of {len(wraps)} section(s); "
                f"wrap width(s) in columns: {', '.join(map(str, widths[:8]))}",
                source,
                wrapped[0].first_line,
            )
        )
    return join_lines(physical, wraps, is_rule=is_rule, is_heading=is_heading)


def _join_bare_headings(lines: list[Line], rules: Rules) -> list[Line]:
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
        and not _SENTENCE.search(text)
        and text[-1] not in rules.sentence_end
    )


def _underlined_headings(lines: list[PhysicalLine], rules: Rules) -> list[PhysicalLine]:
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
            and not _SENTENCE.search(above)
        ):
            result[index - 1] = dataclasses.replace(lines[index - 1], hint="heading")
    return result


def _md_heading(text: str) -> bool:
    return text.startswith("#") and not _MD_ESCAPED.match(text)


def _md_plain(text: str) -> bool:
    """A Markdown line that continues a paragraph: not a heading, quote, list item or footnote."""
    return not (_md_heading(text) or _markdown_block(text)[0])


def _is_chapter_heading(text: str, rules: Rules) -> bool:
    """A heading that opens a chapter by its form, never the book's title: 第三回 …, 楔子 …, 一."""
    return bool(
        rules.numbered_heading.match(text)
        or rules.standalone_heading.fullmatch(text)
        or rules.numeral_heading.fullmatch(text)
    )


def _is_heading(text: str, rules: Rules, *, numbered_only: bool = False) -> bool:
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


def _names(creators: list[Creator]) -> str:
    return "、".join(f"{c.name}（{c.label}）" for c in creators)


def _news_byline(text: str, rules: Rules) -> tuple[str, list[Creator], str, str] | None:
    """(dateline, creators, the credit as written, the text after it) of a news paragraph that opens
    with a dateline and a byline: 本报讯（记者刘俊）…, 新华社北京11月12日电（记者 张三）…, or a line
    南都讯　记者刘凡　周昌和. None where the paragraph does not open so."""
    match = rules.news_byline.match(text)
    if not match:
        return None
    group = "credits" if match["credits"] else "credits2"
    creators = [
        Creator(name, role_code(credit["role"]) or "aut", credit["role"])
        for credit in rules.news_credit.finditer(match[group])
        for name in _NAME_SEPARATORS.split(credit["names"].strip())
        if name
    ]
    if not creators:
        return None
    credit = text[match.end("dateline") : match.end()].strip(SPACES)
    return match["dateline"], creators, credit, text[match.end() :].strip(SPACES)


def _closing_bylines(
    items: list[_Item], rules: Rules, source: str, creators: list[Creator], findings: list[Finding]
) -> list[_Item]:
    """Without the bylines that close an article (作者：张三, （作者：张三）): their names are creators."""
    while items and (items[-1].kind == "paragraph" or (items[-1].kind == "heading" and not items[-1].firm)):
        found = _bylines(items[-1].text.strip("（）()"), rules)
        if not found:
            break
        creators.extend(c for c in found if c not in creators)
        findings.append(Finding("byline", f"closing byline → {_names(found)}", source, items[-1].line, items[-1].text))
        items = items[:-1]
    return items


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
