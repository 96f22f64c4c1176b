"""finishing: the last touches to a PDF before it is written.

PDF/X boxes (BleedBox), crop marks in registration colour, the output intent with its ICC
profile, a stable DocumentID, and page labels (front matter i, ii, …; the text from 1).
"""

from __future__ import annotations

import re
import uuid

import pydyf
from weasyprint.document import Document

from ..model import PdfProfile

MM = 72 / 25.4
VARIANTS = {"PDF/X-4": "pdf/x-4", "PDF/X-1a": "pdf/x-1a"}
_DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")


def finish(
    document: Document,
    pdf: pydyf.PDF,
    *,
    profile: PdfProfile,
    text_start: int,
    document_id: str,
    catalog: bool = True,
    folds: tuple[float, ...] = (),
) -> None:
    """Last touches to the PDF before it is written: boxes, crop marks, output intent, page labels.

    A piece of a book printed in pieces gets the page-level ones only (`catalog` false)."""
    bleed = profile.bleed_mm * MM
    # The streams around each page's content: one of each for all the pages of a trim size.
    wrappers: dict[tuple[float, float, float, float], tuple[pydyf.Stream, pydyf.Stream]] = {}
    for page in (o for o in pdf.objects if isinstance(o, pydyf.Dictionary) and o.get("Type") == "/Page"):
        x0, y0, x1, y1 = (float(v) for v in page["TrimBox"])
        if profile.slug_mm:
            # PDF/X: BleedBox is the trim plus the bleed (3 mm), inside the larger MediaBox.
            page["BleedBox"] = pydyf.Array([x0 - bleed, y0 - bleed, x1 + bleed, y1 + bleed])
        if profile.crop_marks:
            # Drawn last, over any background that runs into the slug; the page's own content
            # (which changes the CTM) is wrapped in q … Q so the marks use default user space.
            if (x0, y0, x1, y1) not in wrappers:
                drawn = _crop_marks(x0, y0, x1, y1, bleed, profile.slug_mm * MM)
                if folds:  # a cover: the spine's edges
                    drawn += _fold_marks([x0 + fold * MM for fold in folds], y0, y1, bleed, profile.slug_mm * MM)
                wrappers[x0, y0, x1, y1] = pydyf.Stream([b"q"]), pydyf.Stream([drawn])
                for stream in wrappers[x0, y0, x1, y1]:
                    pdf.add_object(stream)
            save, marks = wrappers[x0, y0, x1, y1]
            page["Contents"] = pydyf.Array([save.reference, page["Contents"], marks.reference])
        if profile.standard:
            page.pop("Annots", None)  # PDF/X: no link annotations on the printed page
    if not catalog:
        return
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


def piece_options(profile: PdfProfile, catalog: bool = True) -> dict[str, object]:
    """WeasyPrint's options for a PDF that assemble.py makes into the book (or its piece).

    No identifier: PDF/X asks for one, and pydyf makes it by writing every object a second time
    (every stream compressed again) to hash them; the assembler writes the book's own (QPDF's
    deterministic /ID), and the piece's is not kept. A chapter's piece (`catalog` false) is
    drawn for the PDF/X variant (its colours, its PDF version) without the variant's document
    metadata, its XMP and its information entries: the book takes those from the front matter."""
    variant = VARIANTS.get(profile.standard)
    if variant is not None and not catalog:
        variant = PAGES_ONLY + variant
    if profile.name == "screen":  # tagged, for a screen reader and reflow: PDF/UA-1
        variant = "pdf/ua-1"
    return {"pdf_variant": variant, "pdf_identifier": False}


# A PDF/X variant for a chapter's piece: WeasyPrint's properties, without its metadata function.
PAGES_ONLY = "book-pages:"


def _fold_marks(xs: list[float], y0: float, y1: float, bleed: float, slug: float) -> bytes:
    """A cover's fold marks: dashed lines at each fold (the spine's edges), above and below the
    trim, outside the bleed as the crop marks are, in registration colour."""
    lines = []
    for x in xs:
        lines.append(f"{x:.3f} {y1 + bleed:.3f} m {x:.3f} {y1 + slug:.3f} l S")
        lines.append(f"{x:.3f} {y0 - bleed:.3f} m {x:.3f} {y0 - slug:.3f} l S")
    return (" q 0.25 w [1.5 1] 0 d 1 1 1 1 K " + " ".join(lines) + " Q").encode()
