"""write_pdf: the print PDF through WeasyPrint. The only module that imports WeasyPrint.

WeasyPrint reads files only through `RestrictedFetcher`: file: URLs inside the allowed
folders (the project's styles/ and fonts/, the book's folder). Anything else, network or
a path outside, stops the build with a clear error.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pydyf
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.text.ffi import TO_UNITS, ffi, pango
from weasyprint.text.fonts import FontConfiguration
from weasyprint.text.line_break import Layout
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .errors import OutputError, RenderError
from .model import PageStart, PdfProfile
from .render import PrintRendition, parse_block_id

LOG = logging.getLogger(__name__)
MM = 72 / 25.4
VARIANTS = {"PDF/X-4": "pdf/x-4", "PDF/X-1a": "pdf/x-1a"}
_DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")
MEDIA_TYPES = {
    ".css": "text/css",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".icc": "application/vnd.iccprofile",
}


class RefusedURL(FatalURLFetchingError):
    """WeasyPrint asked for something outside the book."""


class RestrictedFetcher(URLFetcher):
    """Serve file: URLs inside `allowed` folders; refuse everything else."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols=("file",))
        self.allowed = tuple(p.resolve() for p in allowed)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not any(path.is_relative_to(root) for root in self.allowed):
            LOG.error("refused to fetch %s: outside the book's folders", url)
            raise RefusedURL(f"refused to fetch {url}: only files in {', '.join(map(str, self.allowed))} are read")
        if path.suffix.lower() not in MEDIA_TYPES or not path.is_file():
            raise RefusedURL(f"refused to fetch {url}: not a stylesheet, font or image file of the book")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": MEDIA_TYPES[path.suffix.lower()]})


class _Warnings(logging.Handler):
    """Collects WeasyPrint's warnings (an unknown CSS property, a glyph no font has) for the build report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass(frozen=True)
class PdfResult:
    """What writing the PDF made: its size, its pages, where each page begins, WeasyPrint's warnings."""

    size: int
    pages: int
    page_starts: tuple[PageStart, ...]
    warnings: tuple[str, ...]


class _Progress(logging.Handler):
    """Turns WeasyPrint's progress log ("Step 5 - Creating layout - Page 12") into progress messages."""

    def __init__(self, report: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if page := re.search(r"Creating layout - Page (\d+)", message):
            self.report(f"laying out the PDF: page {page[1]}")
        elif "Step 6" in message:
            self.report("writing the PDF")


def write_pdf(
    path: Path,
    rendition: PrintRendition,
    allowed: tuple[Path, ...],
    document_id: str,
    progress: Callable[[str], None] = lambda _: None,
) -> PdfResult:
    """Render a PDF to `path` (a staged temporary file) in the rendition's profile (print or screen).

    `document_id` (the book's identifier) makes the PDF/X metadata's DocumentID stable across builds.
    """
    fetcher = RestrictedFetcher(allowed)
    fonts = FontConfiguration()
    warnings = _Warnings()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addHandler(warnings)
    steps = _Progress(progress)
    progress_log = logging.getLogger("weasyprint.progress")
    progress_log.addHandler(steps)
    level, propagate = progress_log.level, progress_log.propagate
    progress_log.setLevel(logging.INFO)
    progress_log.propagate = False  # progress goes to the callback only, never to the console log
    profile = rendition.profile
    try:
        stylesheets = [
            CSS(
                string=css,
                base_url=rendition.base_url,
                url_fetcher=fetcher,
                font_config=fonts,
            )
            for css in rendition.stylesheets
        ]
        document = HTML(string=rendition.html, base_url=rendition.base_url, url_fetcher=fetcher).render(
            stylesheets=stylesheets, font_config=fonts
        )
        if rendition.blank_page and len(document.pages) % 2:
            blank = HTML(string=rendition.blank_page, base_url=rendition.base_url, url_fetcher=fetcher).render(
                stylesheets=stylesheets, font_config=fonts
            )
            document = document.copy(document.pages + blank.pages)
        page_starts = _page_starts(document)
        text_start = min((s.page for s in page_starts), default=1)
        # The text's folios restart at 1 on its first page (print.css); the EPUB cites those.
        page_starts = tuple(dataclasses.replace(s, label=str(s.page - text_start + 1)) for s in page_starts)
        finisher = functools.partial(_finish, profile=profile, text_start=text_start, document_id=document_id)
        document.write_pdf(path, pdf_variant=VARIANTS.get(profile.standard), finisher=finisher)
    except RefusedURL as exc:
        raise RenderError(str(exc), fix="reference only files in styles/, fonts/ or the book's folder") from exc
    except OSError as exc:
        raise OutputError(
            f"cannot write: {exc.strerror or exc}",
            where=str(path),
            fix="check that the output folder is writable and the disk not full",
        ) from exc
    finally:
        weasyprint_log.removeHandler(warnings)
        progress_log.removeHandler(steps)
        progress_log.setLevel(level)
        progress_log.propagate = propagate
    return PdfResult(path.stat().st_size, len(document.pages), page_starts, tuple(warnings.messages))


def _finish(document: Document, pdf: pydyf.PDF, *, profile: PdfProfile, text_start: int, document_id: str) -> None:
    """Last touches to the PDF before it is written: boxes, crop marks, output intent, page labels."""
    bleed = profile.bleed_mm * MM
    for page in (o for o in pdf.objects if isinstance(o, pydyf.Dictionary) and o.get("Type") == "/Page"):
        x0, y0, x1, y1 = (float(v) for v in page["TrimBox"])
        if profile.slug_mm:
            # PDF/X: BleedBox is the trim plus the bleed (3 mm), inside the larger MediaBox.
            page["BleedBox"] = pydyf.Array([x0 - bleed, y0 - bleed, x1 + bleed, y1 + bleed])
        if profile.crop_marks:
            # Drawn last, over any background that runs into the slug; the page's own content
            # (which changes the CTM) is wrapped in q … Q so the marks use default user space.
            save, marks = pydyf.Stream([b"q"]), pydyf.Stream([_crop_marks(x0, y0, x1, y1, bleed, profile.slug_mm * MM)])
            pdf.add_object(save)
            pdf.add_object(marks)
            page["Contents"] = pydyf.Array([save.reference, page["Contents"], marks.reference])
        if profile.standard:
            page.pop("Annots", None)  # PDF/X: no link annotations on the printed page
    if profile.standard and profile.output_profile:
        # PDF/X output intent: the press condition the DeviceCMYK colours are meant for, with its profile.
        icc = pydyf.Stream([profile.output_profile.read_bytes()], pydyf.Dictionary({"N": 4}), compress=True)
        pdf.add_object(icc)
        pdf.catalog["OutputIntents"] = pydyf.Array(
            [
                pydyf.Dictionary(
                    {
                        "Type": "/OutputIntent",
                        "S": "/GTS_PDFX",
                        "OutputConditionIdentifier": pydyf.String(profile.output_condition),
                        "OutputCondition": pydyf.String(profile.output_condition),
                        "RegistryName": pydyf.String("http://www.color.org"),
                        "Info": pydyf.String(profile.output_condition),
                        "DestOutputProfile": icc.reference,
                    }
                )
            ]
        )
    # The PDF/X metadata's DocumentID is a random UUID in WeasyPrint: derive it from the book instead.
    stable = f"xmp.did:{uuid.uuid5(uuid.NAMESPACE_URL, document_id + '#' + profile.name)}"
    for stream in (o for o in pdf.objects if isinstance(o, pydyf.Stream)):
        stream.stream = [
            _DOCUMENT_ID.sub(stable.encode(), item) if isinstance(item, bytes) else item for item in stream.stream
        ]
    if text_start > 1:
        # Page labels as printed: front matter i, ii, …; the text from 1 (its folios restart there).
        pdf.catalog["PageLabels"] = pydyf.Dictionary(
            {
                "Nums": pydyf.Array(
                    [0, pydyf.Dictionary({"S": "/r"}), text_start - 1, pydyf.Dictionary({"S": "/D", "St": 1})]
                )
            }
        )


def _crop_marks(x0: float, y0: float, x1: float, y1: float, bleed: float, slug: float) -> bytes:
    """Crop marks at the four corners, outside the bleed, in registration colour (all four inks)."""
    lines = []
    for x, y, dx, dy in ((x0, y0, -1, -1), (x1, y0, 1, -1), (x0, y1, -1, 1), (x1, y1, 1, 1)):
        lines.append(f"{x + dx * bleed:.3f} {y:.3f} m {x + dx * slug:.3f} {y:.3f} l S")
        lines.append(f"{x:.3f} {y + dy * bleed:.3f} m {x:.3f} {y + dy * slug:.3f} l S")
    return ("Q q 0.25 w 1 1 1 1 K " + " ".join(lines) + " Q").encode()


def _page_starts(document: Document) -> tuple[PageStart, ...]:
    """For each page whose first line is chapter text, the block and the character it begins with.

    Text boxes are walked in layout order; a block's offset on a page is the number of its
    characters laid out on the pages before.
    """
    laid_out: dict[str, int] = {}
    starts = []
    for number, page in enumerate(document.pages, start=1):
        first = True
        for box, block_id in _text_boxes(page._page_box, None):
            if block_id is None:
                continue
            if first:
                located = parse_block_id(block_id)
                if located is not None:
                    starts.append(PageStart(number, *located, laid_out.get(block_id, 0)))
                first = False
            laid_out[block_id] = laid_out.get(block_id, 0) + len(box.text)
    return tuple(starts)


def _text_boxes(box: boxes.Box, block_id: str | None) -> Iterator[tuple[boxes.TextBox, str | None]]:
    """The text boxes of a page's body in layout order, each with the data-block of the heading or
    paragraph it belongs to (margin boxes, the running heads and folios, are left out)."""
    if isinstance(box, boxes.MarginBox):
        return
    if box.element is not None and box.element.get("data-block"):
        block_id = box.element.get("data-block")
    if isinstance(box, boxes.TextBox):
        yield box, block_id
        return
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child, block_id)


# Inter-character justification (clreq "Line Adjustment"; CSS Text 3 `text-justify: inter-character`).
#
# WeasyPrint 70 justifies only at spaces (layout/inline.py: count_expandable_spaces counts the
# spaces of a line, add_word_spacing widens the boxes, and text/line_break.py Layout.set_text
# turns the spacing into Pango letter-spacing on each space when the text is drawn). Chinese
# lines have no spaces, so they stayed ragged. This extension makes every CJK character an
# expansion opportunity too: Pango gives a character with letter-spacing s half of s on each
# side, except at the ends of the text box, so a box whose CJK characters get s grows by
# s × (their count − half of the first and half of the last, when those are CJK). The counting
# function below says exactly that, so the boxes' widths and the drawn glyphs agree.
# The text itself is never changed.

CJK_JUSTIFIABLE = re.compile(
    "[\u2014\u2018\u2019\u201c\u201d\u2026\u00b7\u3000-\u303f\u3040-\u30ff\u3100-\u312f"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
_justify_cjk = True
_spaces_only_count = inline.count_expandable_spaces
_original_set_text = Layout.set_text


_LIGATED_RUN = re.compile("\u2014+|\u2026+")


def _cjk_flags(text: str) -> list[int]:
    """1 per CJK character, 0 per other. `——` and `……` are one glyph in Noto CJK (a ligature),
    and Pango spaces a cluster once, so each such run counts as one character."""
    return [1 if CJK_JUSTIFIABLE.match(ch) else 0 for ch in _LIGATED_RUN.sub("\u2014", text)]


def _count_expansion_opportunities(box: boxes.Box) -> float:
    """Spaces (WeasyPrint's own opportunities) plus the CJK characters' share, in units of spacing."""
    if isinstance(box, boxes.TextBox):
        spaces = box.text.count(" ") + box.text.count("\u00a0")
        flags = _cjk_flags(box.text) if _justify_cjk else []
        return spaces + (sum(flags) - flags[0] / 2 - flags[-1] / 2 if any(flags) else 0)
    if isinstance(box, boxes.LineBox | boxes.InlineBox):
        return sum(_count_expansion_opportunities(child) for child in box.children)
    return 0


def _set_text_with_cjk_spacing(self: Layout, text: str, justify: bool = False) -> None:
    """Layout.set_text, plus letter-spacing on the CJK characters when drawing justified text."""
    _original_set_text(self, text, justify)
    if not (justify and _justify_cjk and self.justification_spacing and self.text):
        return
    letter_spacing = self.style["letter_spacing"]
    spacing = int((self.justification_spacing + (0 if letter_spacing == "normal" else letter_spacing)) * TO_UNITS)
    attributes = pango.pango_layout_get_attributes(self.layout)
    if attributes == ffi.NULL:
        attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    start = 0
    for ch in self.text:
        end = start + len(ch.encode())
        if CJK_JUSTIFIABLE.match(ch):
            attribute = pango.pango_attr_letter_spacing_new(spacing)
            attribute.start_index, attribute.end_index = start, end
            pango.pango_attr_list_change(attributes, attribute)
        start = end
    pango.pango_layout_set_attributes(self.layout, attributes)


_original_justify_line = inline.justify_line


def _justify_line(context: object, line: boxes.LineBox, extra_width: float) -> None:
    """justify_line, after removing the ¼-em Han/Latin gaps that fall at the line's ends.

    clreq "Mixed Text Composition": the gap is between Han and Latin text, never at a line's
    start or end, where it would leave the line short of the edge.
    """
    if _justify_cjk:
        extra_width += _trim_edge_margins(line)
    _original_justify_line(context, line, extra_width)


def _trim_edge_margins(line: boxes.LineBox) -> float:
    children = [child for child in line.children if child.is_in_normal_flow()]
    gained = 0.0
    if children and isinstance(children[-1], boxes.InlineBox) and children[-1].margin_right:
        gained += children[-1].margin_right
        children[-1].margin_right = 0
    if children and isinstance(children[0], boxes.InlineBox) and children[0].margin_left:
        margin, first = children[0].margin_left, children[0]
        first.margin_left = 0
        for child in children:
            child.translate(-margin, 0)
        first.position_x += margin  # its margin box still starts at the line's start
        gained += margin
    return gained


def set_cjk_justification(enabled: bool) -> None:
    """Switch inter-character justification on or off (for measuring what it costs)."""
    global _justify_cjk
    _justify_cjk = enabled


inline.count_expandable_spaces = _count_expansion_opportunities
inline.justify_line = _justify_line
Layout.set_text = _set_text_with_cjk_spacing
