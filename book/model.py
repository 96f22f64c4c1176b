"""Plain data passed between the pipeline stages: frozen dataclasses with no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

# Markdown seeds add quotes, list items and footnote definitions (label: the footnote's name),
# figures (label: the image's name in Manuscript.images; text: its alt text) and tables (text: the
# rows, one a line, their cells separated by TABLE_CELL) and code (text: its lines, verbatim).
BlockKind = Literal["heading", "paragraph", "quote", "item", "ordered-item", "note", "figure", "table", "code"]
TABLE_CELL = "\t"


@dataclass(frozen=True)
class Creator:
    """A person credited for the book; `role` is a MARC relator code (aut, ctb, edt, trl, pht)."""

    name: str
    role: str = "aut"
    label: str = ""  # the role as the text names it, e.g. 记者 or 通讯员
    organization: str = ""


@dataclass(frozen=True)
class Block:
    """A block of a chapter, with the seed line it came from (1-based). `markdown` blocks may hold
    **strong**, *emphasis* and footnote references [^1]."""

    kind: BlockKind
    text: str
    line: int = 0
    markdown: bool = False
    label: str = ""  # a footnote definition's name


@dataclass(frozen=True)
class Chapter:
    """A chapter: its title and its blocks. `title_line` is 0 when the title is not from the text."""

    title: str
    blocks: tuple[Block, ...]
    source: str = ""
    title_line: int = 0
    kind: str = "chapter"  # EPUB structural semantics: chapter, afterword, colophon, appendix, epilogue
    title_note: str = ""  # the label of the endnote its title refers to (狂人日记〔1〕)

    @property
    def paragraphs(self) -> tuple[Block, ...]:
        """The chapter's text blocks: paragraphs, quotes and list items, without headings and notes."""
        return tuple(b for b in self.blocks if b.kind not in ("heading", "note"))


@dataclass(frozen=True)
class Metadata:
    """Book metadata, from the config where it says so, else inferred from the text."""

    title: str
    creators: tuple[Creator, ...] = ()
    language: str = "zh-CN"
    subtitle: str = ""
    series: str = ""
    series_position: str = ""
    edition: str = ""
    printing: int = 1  # 印次
    price: str = ""  # 定价
    publisher: str = ""
    description: str = ""
    subjects: tuple[str, ...] = ()
    rights: str = ""
    identifier: str = ""  # urn:isbn:… or urn:uuid:…
    date: str = ""  # publication date, YYYY-MM-DD
    modified: str = ""  # last modification, YYYY-MM-DDThh:mm:ssZ (SOURCE_DATE_EPOCH or the config)


@dataclass(frozen=True)
class Finding:
    """Something the normalizer did or noticed, with a stable code, for the report."""

    code: str
    message: str
    source: str = ""
    line: int = 0
    text: str = ""
    counts: tuple[tuple[str, int], ...] = ()  # punctuation findings: (resulting mark, how many)
    end_line: int = 0  # a finding about a range of lines (a licence removed): its last line


@dataclass(frozen=True)
class Image:
    """An image of the book: its name (unique in the book), media type and bytes as the seed has them."""

    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class DocumentMetadata:
    """What a Word document, a web page or an EPUB says of itself; book.yaml's keys win over it."""

    title: str = ""
    creators: tuple[str, ...] = ()
    publisher: str = ""
    description: str = ""
    language: str = ""
    date: str = ""  # published, YYYY-MM-DD


@dataclass(frozen=True)
class SeedText:
    """A decoded seed file. A Word document, web page or EPUB is read as Markdown (`markdown`), its
    images and what it says of itself beside the text."""

    path: Path
    text: str
    encoding: str
    findings: tuple[Finding, ...] = ()
    markdown: bool = False
    images: tuple[Image, ...] = ()
    metadata: DocumentMetadata = DocumentMetadata()


@dataclass(frozen=True)
class Manuscript:
    """The normalized book: metadata, chapters and what the normalizer did to get there."""

    metadata: Metadata
    chapters: tuple[Chapter, ...]
    findings: tuple[Finding, ...] = field(default=())
    images: tuple[Image, ...] = ()  # those the figures show, by Block.label

    def findings_of(self, code: str) -> tuple[Finding, ...]:
        """The findings with the given code."""
        return tuple(f for f in self.findings if f.code == code)


@dataclass(frozen=True)
class PageStart:
    """Where a printed page begins: in chapter `chapter` (1-based), before block `block` (0-based;
    -1 is the chapter heading), `offset` characters into that block's text."""

    page: int  # physical page, 1-based
    chapter: int
    block: int
    offset: int
    label: str = ""  # the folio printed on the page (its page label): what a reader cites


@dataclass(frozen=True)
class PdfProfile:
    """How a PDF is made: the print profile (PDF/X, bleed, crop marks, CMYK) or the screen profile."""

    name: str  # "print" or "screen"
    standard: str = ""  # "PDF/X-4", "PDF/X-1a", or "" for a plain PDF
    bleed_mm: float = 0.0  # beyond the trim on every side (TrimBox → BleedBox)
    slug_mm: float = 0.0  # media beyond the trim, holding the bleed and the crop marks
    crop_marks: bool = False
    cmyk: bool = False  # every colour in DeviceCMYK (PDF/X with a CMYK output intent)
    output_profile: Path | None = None  # CMYK ICC profile of the output intent
    output_condition: str = ""  # its registered name, e.g. CGATS TR 001


@dataclass(frozen=True)
class PdfResult:
    """What writing a PDF made: its size, its pages, where each page begins, WeasyPrint's warnings."""

    size: int
    pages: int
    page_starts: tuple[PageStart, ...]
    warnings: tuple[str, ...]
    laid_out: int | None = None  # printed in pieces: the chapters laid out (the others were in the cache)


def block_id(chapter: int, block: int) -> str:
    """The print HTML's data-block of a chapter's block (0-based; -1 is the chapter heading)."""
    return f"{chapter}:{block}"


def parse_block_id(value: str) -> tuple[int, int] | None:
    """(chapter, block) from a data-block value; None if it is not one."""
    chapter, _, block = value.partition(":")
    try:
        return int(chapter), int(block)
    except ValueError:
        return None


class GlyphsUsed(TypedDict):
    """The glyphs a render used of one of the book's faces (a file), which the assembler embeds:
    each glyph's width in thousandths of an em, and its text, by glyph id."""

    face: str
    widths: dict[int, float]
    to_unicode: dict[int, str]


class PieceGlyphs(TypedDict):
    """GlyphsUsed as a piece keeps them: glyph ids beside their widths, glyph ids beside their texts."""

    face: str
    widths: tuple[list[int], list[float]]
    to_unicode: tuple[list[int], list[str]]
