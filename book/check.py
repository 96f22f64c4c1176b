"""Preflight: measure the built PDF and EPUB against the typesetting rules and print one row per check.

The PDF is read back character by character (pdfplumber): positions, fonts and sizes, as a print
shop's preflight or a proofreader would see them. Rules: ../shared/docs/typesetting.md (W3C clreq,
GB/T 15834). Nothing here trusts how the PDF was made.
"""

from __future__ import annotations

import re
import statistics
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from .check_lines import (
    LIST_ITEM,
    Check,
    Line,
    body_lines,
    ends_at,
    han_spacing,
    is_last,
    left_offset,
    line_breaking,
    line_quality,
    share_check,
)
from .text import CLOSING_MARKS, OPENING_MARKS

if TYPE_CHECKING:
    from .pdf.writer import TypeArea

TypeAreas = tuple["TypeArea", "TypeArea"]  # a recto's and a verso's
MM = 72 / 25.4
QUOTES = "“”‘’"


def check_pdf(path: Path, trim: tuple[float, float], areas: TypeAreas, bleed_mm: float = 3.0) -> list[Check]:
    """Measure the print PDF: justification, line breaking, punctuation, indent, fonts, boxes, glyphs.

    `areas`: the type area's left and right edges on a recto and on a verso, in PDF points, as the
    book's stylesheets set them (pdf.writer.type_areas): each line is judged against the page's
    own geometry, not against edges guessed from the text."""
    import pdfplumber
    from pypdf import PdfReader

    reader = PdfReader(path)
    # Only the text is measured: pages labelled with decimal folios (PageLabels), or all pages.
    labels = reader.page_labels
    text_pages = {i for i, label in enumerate(labels) if label.isdigit()} or set(range(len(labels)))
    with pdfplumber.open(path) as pdf:
        pages = [
            [c for c in page.chars if c["text"].strip()] if i in text_pages else [] for i, page in enumerate(pdf.pages)
        ]
    # The body's size: the size most of the text's punctuation is set in (headings seldom hold
    # 。，、), else the commonest size.
    sizes = Counter(round(c["size"], 1) for chars in pages for c in chars if c["text"] in "。，、；")
    body_size = (sizes or Counter(round(c["size"], 1) for chars in pages for c in chars)).most_common(1)[0][0]
    em = body_size
    lines, kinds = body_lines(pages, body_size)
    edges = {line.page: areas[0] if line.page % 2 else areas[1] for line in lines}
    results = [
        _justification(lines, kinds, edges, em),
        *line_breaking(lines, kinds, edges, em),
        *line_quality(lines, kinds, edges, em),
        _punctuation_pairs(lines, em),
        _quote_widths(lines, em),
        _indent(lines, kinds, edges, em),
        _widows_and_orphans(lines, kinds, edges, em),
        _fonts(reader),
        _boxes(reader, trim, bleed_mm),
        _notdef(path),
        _colours(path),
    ]
    return results


def _justification(lines: list[Line], kinds: list[str], edges: dict, em: float) -> Check:
    judged = [i for i in range(len(lines)) if not is_last(i, lines, kinds, edges, em)]  # body lines only
    ragged = [lines[i] for i in judged if not ends_at(lines[i], edges[lines[i].page][1], em)]
    return share_check(
        "justification",
        [f"{line.where}: …{line.text[-8:]}" for line in ragged],
        len(judged),
        "lines",
        "≥ 99% of non-final lines meet both edges (±0.5 pt)",
        0.99,
    )


def _punctuation_pairs(lines: list[Line], em: float) -> Check:
    marks = set(CLOSING_MARKS + OPENING_MARKS)
    total, loose = 0, []
    for line in lines:
        spacing = None
        for i in range(len(line.chars) - 1):
            a, b = line.chars[i], line.chars[i + 1]
            if a["text"] in marks and b["text"] in marks:
                spacing = han_spacing(line, em) if spacing is None else spacing
                end = line.chars[i + 2]["x0"] - spacing if i + 2 < len(line.chars) else b["x1"]
                width = end - a["x0"] - spacing
                total += 1
                if width > 1.6 * em:
                    loose.append(f"{line.where}: {a['text']}{b['text']} {width / em:.2f} em")
    return share_check(
        "punctuation pairs",
        loose,
        total,
        "pairs at 1.5 em",
        "adjacent full-width marks take 1.5 em, not 2 (≥ 95%)",
        0.95,
    )


def _quote_widths(lines: list[Line], em: float) -> Check:
    quotes = [(line, c) for line in lines for c in line.chars if c["text"] in QUOTES]
    narrow = [
        f"{line.where}: {c['text']} {(c['x1'] - c['x0']) / em:.2f} em"
        for line, c in quotes
        if c["x1"] - c["x0"] < 0.9 * em
    ]
    return share_check(
        "quotation marks",
        narrow,
        len(quotes),
        "full-width",
        "“ ” ‘ ’ are full-width glyphs of the CJK font (≥ 95%)",
        0.95,
    )


def _indent(lines: list[Line], kinds: list[str], edges: dict, em: float) -> Check:
    """Each paragraph's first line is indented 2 em: the first line of the text, and each line after
    a block's last one, that is neither a list item nor set away from the body text's edges."""
    starts = [0] + [i + 1 for i in range(len(lines) - 1) if is_last(i, lines, kinds, edges, em)]
    firsts = [
        lines[i] for i in starts if not LIST_ITEM.match(lines[i].text) and -0.1 < left_offset(lines[i], edges, em) < 2.5
    ]
    indents = [left_offset(line, edges, em) for line in firsts]
    wrong = [
        f"{line.where}: {value:.2f} em" for line, value in zip(firsts, indents, strict=True) if abs(value - 2) > 0.05
    ]
    mean = statistics.mean(indents) if indents else 0
    return Check(
        "first-line indent",
        f"{mean:.2f} em over {len(indents)} paragraphs",
        "2 em (clreq First-line Indents)",
        not wrong,
        tuple(wrong[:5]),
    )


def _widows_and_orphans(lines: list[Line], kinds: list[str], edges: dict, em: float) -> Check:
    """clreq / typesetting.md: at least 2 lines of a paragraph at the foot and at the head of a page."""
    lonely, breaks = [], 0
    start = 0  # index of the current paragraph's first line
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and lines[i + 1].page != line.page and not is_last(i, lines, kinds, edges, em):
            # The paragraph runs over the page break: count its lines on each side.
            breaks += 1
            before = i + 1 - max(start, next(j for j in range(i + 1) if lines[j].page == line.page))
            end = i + 1
            while not is_last(end, lines, kinds, edges, em):
                end += 1
            after = sum(1 for j in range(i + 1, end + 1) if lines[j].page == lines[i + 1].page)
            if before < 2 or after < 2:
                lonely.append(f"p.{line.page}–{lines[i + 1].page}: {before} line(s) before the break, {after} after")
        if is_last(i, lines, kinds, edges, em):
            start = i + 1
    return Check(
        "widows and orphans",
        f"{len(lonely)} of {breaks} split paragraphs",
        "≥ 2 lines of a paragraph on each side of a page break",
        not lonely,
        tuple(lonely[:5]),
    )


def _fonts(reader) -> Check:
    fonts, bare = set(), []
    for page in reader.pages:
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            font = font.get_object()
            name = str(font.get("/BaseFont"))
            fonts.add(name)
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")) or "/ToUnicode" not in font:
                bare.append(name)
    return Check(
        "fonts",
        f"{len(fonts)} fonts, {len(set(bare))} not embedded",
        "every font embedded, with ToUnicode",
        not bare,
        tuple(sorted(set(bare))[:5]),
    )


def _boxes(reader, trim: tuple[float, float], bleed_mm: float) -> Check:
    wrong = []
    for number, page in enumerate(reader.pages, start=1):
        t, b = page.trimbox, page.bleedbox
        sizes_ok = abs(float(t.width) - trim[0] * MM) < 0.1 and abs(float(t.height) - trim[1] * MM) < 0.1
        bleed_ok = all(
            abs(abs(float(getattr(b, e)) - float(getattr(t, e))) - bleed_mm * MM) < 0.05
            for e in ("left", "right", "top", "bottom")
        )
        if not (sizes_ok and bleed_ok):
            wrong.append(f"p.{number}: TrimBox {float(t.width) / MM:.1f}×{float(t.height) / MM:.1f} mm")
    pages = len(reader.pages)
    even = pages % 2 == 0
    return Check(
        "boxes",
        f"{pages} pages, {len(wrong)} wrong",
        f"TrimBox {trim[0]:g}×{trim[1]:g} mm, BleedBox {bleed_mm:g} mm beyond, even page count",
        not wrong and even,
        tuple(wrong[:5]) + (() if even else (f"{pages} pages: odd",)),
    )


def _notdef(path: Path) -> Check:
    """Every glyph shown on every page (form XObjects included) that is the font's .notdef (glyph
    0): a box where a character should be. Read from the content streams through each composite
    font's encoding CMap and CIDToGIDMap, as a viewer draws it."""
    import pikepdf

    boxes: list[str] = []
    shown = 0
    with pikepdf.open(path) as pdf:
        fonts: dict[tuple[int, int], _FontCodes] = {}
        for number, page in enumerate(pdf.pages, start=1):
            for font, data in _shown_strings(page.obj, fonts):
                codes = font.codes(data)
                shown += len(codes)
                boxes += [f"p.{number} {font.text(code)!r} in {font.name}" for code in codes if font.is_notdef(code)]
    return Check(
        "missing glyphs",
        f"{len(boxes)} of {shown} glyphs shown are .notdef",
        "no glyph shown is a font's .notdef (a box)",
        not boxes,
        tuple(boxes[:5]),
    )


class _FontCodes:
    """How a font's codes map to glyphs: a composite font's 2-byte codes through its encoding CMap
    (Identity-H, or an embedded one with cidchar and cidrange entries) and CIDToGIDMap; a simple
    font's byte codes are never taken for .notdef."""

    def __init__(self, font: object) -> None:
        import pikepdf

        assert isinstance(font, pikepdf.Dictionary)
        self.name = str(font.get("/BaseFont", "?")).lstrip("/")
        self.composite = font.get("/Subtype") == "/Type0"
        self.cids: dict[int, int] | None = None  # None: Identity
        self.gids: bytes | None = None  # None: Identity
        self.unicode: dict[int, str] = {}
        if not self.composite:
            return
        encoding = font.get("/Encoding")
        if isinstance(encoding, pikepdf.Stream):
            self.cids = _cmap_entries(encoding.read_bytes().decode("latin-1"), "cid")
        descendant = font["/DescendantFonts"][0]
        gid_map = descendant.get("/CIDToGIDMap")
        if isinstance(gid_map, pikepdf.Stream):
            self.gids = gid_map.read_bytes()
        if isinstance(font.get("/ToUnicode"), pikepdf.Stream):
            entries = _cmap_entries(font["/ToUnicode"].read_bytes().decode("latin-1"), "bf")
            self.unicode = {code: chr(value) for code, value in entries.items() if value < 0x110000}

    def codes(self, data: bytes) -> list[int]:
        if not self.composite:
            return list(data)
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]

    def is_notdef(self, code: int) -> bool:
        if not self.composite:
            return False
        cid = code if self.cids is None else self.cids.get(code, 0)
        if self.gids is None:
            return cid == 0
        return int.from_bytes(self.gids[2 * cid : 2 * cid + 2], "big") == 0

    def text(self, code: int) -> str:
        return self.unicode.get(code, f"<{code:04x}>")


_CMAP_SECTION = re.compile(r"begin(cid|bf)(char|range)(.*?)end\1\2", re.S)
_HEX = re.compile(r"<([0-9a-fA-F]+)>|(\d+)")


def _cmap_entries(cmap: str, kind: str) -> dict[int, int]:
    """A CMap's cidchar/cidrange (kind "cid") or bfchar/bfrange (kind "bf") entries: code to CID, or
    code to the first UTF-16 unit of its text."""
    entries: dict[int, int] = {}
    for section_kind, shape, body in _CMAP_SECTION.findall(cmap):
        if section_kind != kind:
            continue
        values = [int(h, 16) if h else int(d) for h, d in _HEX.findall(body)]
        step = 2 if shape == "char" else 3
        for i in range(0, len(values) - step + 1, step):
            if shape == "char":
                entries[values[i]] = values[i + 1]
            else:
                low, high, first = values[i : i + 3]
                entries.update((code, first + code - low) for code in range(low, min(high, low + 65535) + 1))
    return entries


def _shown_strings(container: object, fonts: dict[tuple[int, int], _FontCodes]) -> Iterator[tuple[_FontCodes, bytes]]:
    """(font, string) for every string a page or form XObject shows, forms it draws included."""
    font: _FontCodes | None = None
    for resources, operands, name in _instructions(container):
        if name == "Tf":
            entry = resources.get("/Font", {}).get(str(operands[0]))
            if entry is not None:
                key = entry.objgen if entry.is_indirect else (id(entry), 0)
                font = fonts.setdefault(key, _FontCodes(entry))
        elif name in ("Tj", "'", '"', "TJ") and font is not None:
            import pikepdf

            strings = operands[0] if name == "TJ" else operands[-1:]
            for item in strings:
                if isinstance(item, pikepdf.String):
                    yield font, bytes(item)


def _instructions(container: object) -> Iterator[tuple[Any, list[Any], str]]:
    """(resources, operands, operator) of every instruction of a content stream (a page, a form
    XObject, an appearance stream), the forms it draws followed into."""
    import pikepdf

    assert isinstance(container, pikepdf.Dictionary | pikepdf.Stream)
    resources: Any = container.get("/Resources") or pikepdf.Dictionary()
    for instruction in pikepdf.parse_content_stream(container):
        operands, name = list(instruction.operands), str(instruction.operator)
        yield resources, operands, name
        if name == "Do":
            xobject = resources.get("/XObject", {}).get(str(operands[0]))
            if isinstance(xobject, pikepdf.Stream) and xobject.get("/Subtype") == "/Form":
                yield from _instructions(xobject)


# Colour operators and the colour spaces a PDF/X file that promises CMYK may use.
_RGB_OPERATORS = {"rg", "RG"}
_FILL_SPACES = {"cs", "CS"}
_PRINT_SPACES = {"/DeviceCMYK", "/DeviceGray", "/Pattern", "/Separation", "/DeviceN"}


def _colours(path: Path) -> Check:
    """Every colour that a page, a form it draws or an annotation's appearance sets is CMYK or gray
    in a PDF/X file (an RGB colour has no place in a file for a CMYK press): rg/RG, and cs/CS naming
    DeviceRGB or an RGB colour space of the resources."""
    import pikepdf

    wrong: list[str] = []
    with pikepdf.open(path) as pdf:
        intents: Any = pdf.Root.get("/OutputIntents") or []
        if not any(intent.get("/S") == "/GTS_PDFX" for intent in intents):
            return Check("colours", "not PDF/X", "every colour CMYK or gray in a PDF/X file", True)
        streams: list[tuple[str, object]] = []
        for number, page in enumerate(pdf.pages, start=1):
            streams.append((f"p.{number}", page.obj))
            annotations: Any = page.obj.get("/Annots") or []
            for annotation in annotations:
                appearance = (annotation.get("/AP") or pikepdf.Dictionary()).get("/N")
                if isinstance(appearance, pikepdf.Stream):
                    streams.append((f"p.{number} annotation", appearance))
        for where, stream in streams:
            for resources, operands, name in _instructions(stream):
                if name in _RGB_OPERATORS:
                    wrong.append(f"{where}: {' '.join(map(str, operands))} {name}")
                elif name in _FILL_SPACES and not _print_space(str(operands[0]), resources):
                    wrong.append(f"{where}: {operands[0]} {name}")
    return Check(
        "colours",
        f"{len(wrong)} RGB colour operators",
        "every colour CMYK or gray in a PDF/X file",
        not wrong,
        tuple(wrong[:5]),
    )


def _print_space(name: str, resources: Any) -> bool:
    """Whether a colour space named by cs/CS is CMYK, gray, a pattern or a separation: a device
    space, or a resource whose family is one of those (an ICC space with 1 or 4 components)."""
    if name in _PRINT_SPACES:
        return True
    space = resources.get("/ColorSpace", {}).get(name)
    if space is None:
        return False
    family = str(space[0]) if hasattr(space, "__getitem__") and not hasattr(space, "keys") else str(space)
    if family == "/ICCBased":
        return int(space[1].get("/N", 0)) in (1, 4)
    return family in _PRINT_SPACES


def check_epub(path: Path) -> list[Check]:
    """Check the EPUB's reading CSS and markup for the CJK rules readers apply themselves."""
    with zipfile.ZipFile(path) as epub:
        names = epub.namelist()
        css = "".join(epub.read(n).decode() for n in names if n.endswith(".css"))
        documents = {n: epub.read(n) for n in names if n.endswith(".xhtml")}
        fonts = [n for n in names if "/fonts/" in n]
    wanted = {
        "text-indent: 2em": "2 em first-line indent",
        "text-align: justify": "justified text",
        "line-break: strict": "line-start/line-end prohibitions (line-break: strict)",
    }
    absent = [rule for needle, rule in wanted.items() if needle not in css]
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    unlabelled = [
        n for n, d in documents.items() if not (root := ElementTree.fromstring(d)).get("lang") or not root.get(xml_lang)
    ]
    faces = css.count("@font-face")
    return [
        Check(
            "EPUB CSS",
            f"{len(wanted) - len(absent)} of {len(wanted)} rules",
            "indent, justification and line-break rules in the reading CSS",
            not absent,
            tuple(absent),
        ),
        Check(
            "EPUB language",
            f"{len(documents) - len(unlabelled)} of {len(documents)} documents",
            "lang and xml:lang on every XHTML document",
            not unlabelled,
            tuple(unlabelled[:5]),
        ),
        Check(
            "EPUB fonts",
            f"{len(fonts)} embedded, {faces} @font-face",
            "each embedded font has an @font-face",
            faces == len(fonts),
            (),
        ),
    ]


def format_checks(checks: list[Check]) -> str:
    """One row per check: the figure, the rule, PASS, FAIL or WARN (an advisory check failed), then
    the first failures."""
    rows = []
    for check in checks:
        verdict = "PASS" if check.passed else "WARN" if check.advisory else "FAIL"
        rows.append(f"{verdict}  {check.name:<18} {check.figure:<34} {check.rule}")
        rows.extend(f"        {example}" for example in check.examples)
    return "\n".join(rows)
