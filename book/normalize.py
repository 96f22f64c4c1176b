"""Normalize stage: seed texts -> Manuscript (metadata, chapters) and findings. Pure: no I/O.

The book's script is told first (script.py). Then, for each seed, a sequence of passes:
1. its physical lines: licence text removed, markup read, paragraph marks and private-use
   characters, inline cruft (leftovers.py); rule lines under headings marked;
2. logical lines: hard wraps joined (unwrap.py); headings run into the text split off and bare
   numbered headings given their titles (headings.py);
3. each line classified: web cruft removed, bylines to creators (bylines.py), the title, headings,
   paragraphs with their marks fixed (marks.py);
4. chapters: repeated headings merged, notes paired (notes.py), no chapter left empty, numbering
   gaps reported.
Every kept Han character stays, in order; what is taken out is a finding.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .bylines import bylines, names, news_byline
from .config import CONVERSIONS, BackMatter, Config
from .errors import SourceError
from .headings import (
    CLAUSE,
    SENTENCE,
    is_chapter_heading,
    is_heading,
    join_bare_headings,
    mark_underlined_headings,
    merge_repeated_headings,
    numbering_gaps,
    split_run_in_headings,
    tidy_heading,
    without_empty_chapters,
)
from .leftovers import (
    gutenberg_title,
    mark_paragraphs_and_private_use,
    read_markup,
    remove_boilerplate,
    remove_inline_cruft,
)
from .markdown_seed import (
    CODE_HELD,
    FRONT_MATTER,
    MARKDOWN_SUFFIXES,
    MD_CELL,
    MD_ESCAPED,
    MD_LEVEL,
    MD_TABLE_RULE,
    chapter_level,
    figure_image,
    markdown_block,
    md_heading,
    md_plain,
    set_code_apart,
)
from .marks import Marks
from .model import TABLE_CELL, Block, Chapter, Creator, Finding, Image, Manuscript, Metadata, SeedText
from .notes import pair_notes
from .rules import Rules, load_rules, role_code
from .script import detect_script, to_script
from .text import (
    HAN,
    IDEOGRAPHIC_SPACE,
    fix_punctuation,
    is_traditional,
    remove_xml_invalid,
)
from .unwrap import Line, PhysicalLine, find_wraps, join_lines

_BOOK_NAMESPACE = uuid.UUID("6b1d8a2e-3f4c-5d6e-8f90-a1b2c3d4e5f6")
_HAN = re.compile(HAN)


def normalize(seeds: Sequence[SeedText], config: Config, rules: Rules | None = None) -> Manuscript:
    """Turn decoded seeds into a Manuscript; the config's overrides win over what the text says."""
    rules = (rules or load_rules()).with_cruft(config.cruft)
    findings: list[Finding] = []
    title = ""
    creators: list[Creator] = []
    chapters: list[Chapter] = []
    images: dict[str, Image] = {}  # by name: those the figures show
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
            images=images,
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

    if seeds and not any(_HAN.search(seed.text) for seed in seeds):  # the seeds as read, before any removal
        names = ", ".join(seed.path.name for seed in seeds)
        message = f"no Chinese text in {names}: is it the right file, in the right encoding?"
        findings.append(Finding("no-chinese", message, seeds[0].path.name, 1))
    # What a document says of itself fills what book.yaml leaves empty, before the text's guesses.
    title = config.title or _stated(seeds, "title") or title or (seeds[0].path.stem if seeds else "")
    if not creators and config.authors is None:
        creators = [Creator(name) for seed in seeds for name in seed.metadata.creators]
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
        printing=config.printing,
        price=config.price,
        creators=authors,
        language=language,
        publisher=config.publisher or _stated(seeds, "publisher"),
        description=config.description or _stated(seeds, "description"),
        subjects=config.subjects,
        rights=config.rights,
        identifier=_identifier(config.isbn, title, authors),
        date=config.date or _stated(seeds, "date"),
    )
    return Manuscript(metadata, tuple(chapters), tuple(findings), tuple(images.values()))


DEFAULT_LEAD_TITLE = "导语"


def _stated(seeds: Sequence[SeedText], name: str) -> str:
    """What the first document among the seeds that states it says of itself (DocumentMetadata.name)."""
    return next((value for seed in seeds if (value := getattr(seed.metadata, name))), "")


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
    line_text: str = ""  # a heading's line as the text has it, before its spaces were tidied


def _normalize_seed(
    seed: SeedText,
    rules: Rules,
    lead_title: str,
    *,
    want_title: bool,
    findings: list[Finding],
    traditional: bool,
    images: dict[str, Image],
    articles: bool = False,
) -> tuple[str, list[Creator], list[Chapter]]:
    source = seed.path.name
    title = ""
    creators: list[Creator] = []
    items: list[_Item] = []
    is_markdown = seed.markdown or seed.path.suffix.lower() in MARKDOWN_SUFFIXES
    if is_markdown and (front := FRONT_MATTER.match(seed.text.replace("\r\n", "\n"))):
        # YAML front matter (as `publish.py normalize` writes it) describes the file; it is not text.
        lines_in_front = front.group().count("\n")
        findings.append(Finding("front-matter", f"{lines_in_front} line(s) of YAML front matter skipped", source, 1))
        seed = dataclasses.replace(seed, text="\n" * lines_in_front + seed.text.replace("\r\n", "\n")[front.end() :])
    code: list[str] = []  # fenced code blocks, kept verbatim: no pass of the normalizer reads them
    if is_markdown:
        seed = dataclasses.replace(seed, text=set_code_apart(seed.text, code))
    lines = _lines(seed, findings, rules, markdown=is_markdown)
    # (the level of the headings that open chapters, whether one has): `## 1.1` under `# 1`
    levels = (chapter_level(lines, seed.markdown and bool(seed.metadata.title)), 0) if is_markdown else (7, 0)
    if not is_markdown:
        lines = join_bare_headings(split_run_in_headings(lines, rules, source, findings), rules)
    numbered_only = sum(1 for line in lines if rules.numbered_heading.fullmatch(line.text)) >= rules.numbered_min
    bullet = re.compile(f"^[{re.escape(rules.bullets)}\\s]+")
    menu = _menu_lines(lines, bullet, rules)
    marks = Marks(source, rules, traditional=traditional, markdown=is_markdown)
    dateline_pending = ""
    heading_items = 0
    for line in lines:
        if code and (held := CODE_HELD.fullmatch(line.text)):
            items.append(_Item("code", code[int(held[1])], line.number))
            continue
        if line.hint == "rule":
            findings.append(Finding("removed", "a rule line (a separator, not text)", source, line.number, line.text))
            continue
        bare = bullet.sub("", line.text)
        rule = next((p.pattern for p in rules.cruft if p.fullmatch(bare) or p.fullmatch(line.text)), None)
        if rule is not None and not SENTENCE.search(bare):  # a removed line never holds a sentence
            findings.append(Finding("removed", f"web cruft (rule {rule})", source, line.number, line.text))
            continue
        in_front = len(items) == heading_items  # nothing but an article's title read yet
        found = bylines(bare, rules) if in_front else []
        if found:
            creators.extend(found)
            findings.append(Finding("byline", f"byline → {names(found)}", source, line.number, line.text))
            continue
        if in_front and (news := news_byline(line.text, rules)):
            dateline, found, credit, rest = news
            creators.extend(found)
            message = f"news byline → {names(found)}; the dateline {dateline} stays in the text"
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
            block_kind, content, label = markdown_block(line.text)
            if block_kind == "figure":
                if (image := figure_image(seed, label, images)) is not None:
                    items.append(_Item("figure", content, line.number, label=image.name))
                    continue
                message = f"no image {label} beside the seed: the line stays as text"
                findings.append(Finding("image-missing", message, source, line.number, line.text))
                block_kind, content = "paragraph", line.text
            elif block_kind == "table" and MD_TABLE_RULE.match(line.text):
                continue  # |---|---|: the line under a table's head
        else:
            content = _LIST_MARKER.sub("", line.text)  # "* 10月23日，…" → the item's text; "◇梨花" stays
        if not content.strip():  # a list marker and a no-break space ("-\u00a0"): no item, no text
            findings.append(Finding("removed", "an empty list item", source, line.number, line.text))
            continue
        escaped = is_markdown and MD_ESCAPED.match(line.text)  # \# 进入项目目录: text, not a heading
        markdown = rules.markdown_heading.fullmatch(content) if not block_kind and not escaped else None
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
        firm = marked or bool(markdown) or is_heading(text, rules, numbered_only=True)
        if is_markdown and not markdown and not marked:
            # In Markdown only # lines are headings; everything else is text of its kind.
            items.append(_Item(block_kind or "paragraph", text, line.number, markdown=True, label=label))
        elif (
            want_title
            and not title
            and not seed.metadata.title  # a document that names itself
            and in_front
            and not creators
            and line.hint not in ("record", "paragraph")  # in a dump of news records, each title is its article's
            and is_heading(text, rules)
            and not is_chapter_heading(text, rules)
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
        elif line.hint != "paragraph" and (firm or is_heading(text, rules, numbered_only=numbered_only)):
            # A Markdown heading below the chapters' level heads a section inside its chapter.
            level = len(hashes[1]) if is_markdown and (hashes := MD_LEVEL.match(line.text)) else 0
            kind = "section" if level > levels[0] and levels[1] else "heading"
            items.append(_Item(kind, tidy_heading(text), line.number, firm, is_markdown, line_text=text))
            levels = (levels[0], levels[1] or int(kind == "heading"))
        else:
            items.append(_Item("paragraph", text, line.number))
    findings.extend(marks.findings())
    if title and not items and (taken := [f for f in findings if f.code == "title" and f.source == source]):
        # The seed's only line was taken for a title: it is the text, not a title of nothing.
        findings.remove(taken[-1])
        items.append(_Item("paragraph", taken[-1].text, taken[-1].line))
        title = ""
    items = _closing_bylines(items, rules, source, creators, findings)
    chapters = _chapters(_demote_stacked_headings(items), lead_title, source, findings)
    chapters = merge_repeated_headings(chapters, rules, findings)
    if not is_markdown:
        chapters = pair_notes(chapters, rules, findings)
    chapters = without_empty_chapters(chapters, findings)
    findings.extend(numbering_gaps(chapters, rules, source))
    if want_title and not title and not is_markdown and (catalogued := gutenberg_title(seed.text, rules)):
        title, author, title_line = catalogued
        message = "the title the Project Gutenberg licence text names"
        findings.append(Finding("title", message, source, title_line, title))
        if author and not creators:
            creators.append(Creator(author))
    return title, creators, chapters


MAX_LINE = 100_000  # characters in one paragraph: about 30 printed pages
_LIST_MARKER = re.compile(r"^(?:[*+\-•·]\s+)+")


def _closing_bylines(
    items: list[_Item], rules: Rules, source: str, creators: list[Creator], findings: list[Finding]
) -> list[_Item]:
    """Without the bylines that close an article (作者：张三, （作者：张三）): their names are creators."""
    while items and (items[-1].kind == "paragraph" or (items[-1].kind == "heading" and not items[-1].firm)):
        found = bylines(items[-1].text.strip("（）()"), rules)
        if not found:
            break
        creators.extend(c for c in found if c not in creators)
        findings.append(Finding("byline", f"closing byline → {names(found)}", source, items[-1].line, items[-1].text))
        items = items[:-1]
    return items


def _menu_lines(lines: list[Line], bullet: re.Pattern[str], rules: Rules) -> set[int]:
    """Line numbers of menu items: short bullet lines with no clause in them, three or more in a row
    (a scraped page's navigation). A lone bullet line, like a ◇ poem title in a novel, is text."""
    menu: set[int] = set()
    run: list[Line] = []
    for line in [*lines, None]:
        bare = bullet.sub("", line.text) if line else ""
        if line is not None and bare != line.text and len(bare) <= rules.bullet_menu_max and not CLAUSE.search(bare):
            run.append(line)
            continue
        if len(run) >= 3:
            menu.update(item.number for item in run)
        run = []
    return menu


def _demote_stacked_headings(items: list[_Item]) -> list[_Item]:
    """A line that is a heading only by being short, followed by another heading (or by nothing),
    opens no text: it is a paragraph (a banner, a caption, a line of verse)."""
    result = []
    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        if item.kind == "heading" and not item.firm and (following is None or following.kind == "heading"):
            item = _Item("paragraph", item.line_text or item.text, item.line, markdown=item.markdown)
        result.append(item)
    return result


def _chapters(items: list[_Item], lead_title: str, source: str, findings: list[Finding]) -> list[Chapter]:
    """Group items into chapters: each heading opens one; text before the first is the lead. A
    section heading stays in its chapter; a table's rows make one table."""
    chapters: list[Chapter] = []
    heading: _Item | None = None
    blocks: list[Block] = []
    previous = ""
    for item in [*items, None]:
        if item is not None and item.kind == "table":
            cells = TABLE_CELL.join(cell.strip().replace("\\|", "|") for cell in MD_CELL.split(item.text))
            if previous == "table":  # the next row of the same table
                blocks[-1] = Block("table", f"{blocks[-1].text}\n{cells}", blocks[-1].line, markdown=True)
            else:
                blocks.append(Block("table", cells, item.line, markdown=True))
            previous = item.kind
            continue
        previous = item.kind if item is not None else ""
        if item is not None and item.kind != "heading":
            kind = "heading" if item.kind == "section" else item.kind
            blocks.append(Block(kind, item.text, item.line, item.markdown, item.label))  # type: ignore[arg-type]
            continue
        if heading is not None:
            chapters.append(Chapter(heading.text, tuple(blocks), source, heading.line))
        elif blocks:
            chapters.append(Chapter(lead_title, tuple(blocks), source))
        if item is not None:
            findings.append(Finding("heading", "heading opens a chapter", source, item.line, item.text))
        heading, blocks = item, []
    return chapters


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
    if seed.markdown:  # read from a document's elements: a <tag> in its text is text
        passes.remove(read_markup)
    for step in passes:
        physical, found = step(physical, rules, source)
        findings.extend(found)
    physical = mark_underlined_headings(physical, rules)

    def is_rule(text: str) -> bool:
        return bool(rules.rule_line.fullmatch(text))

    def is_heading(text: str) -> bool:
        return bool(rules.numbered_heading.fullmatch(text) or rules.standalone_heading.fullmatch(text))

    if markdown:
        return join_lines(physical, [], is_rule=is_rule, is_heading=md_heading, keep_breaks=md_plain)
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
