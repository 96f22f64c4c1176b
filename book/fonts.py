"""The book's fonts: where they are, which characters they cover, and EPUB subsets.

Subsetting uses HarfBuzz's subsetter (uharfbuzz): about 0.05 s per CJK face against
about 5 s with fontTools.subset, with the same OpenType layout features kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FONTS_DIR = PROJECT_ROOT / "fonts"


@dataclass(frozen=True)
class FontFace:
    """One font file and the CSS family name the book's stylesheets give it."""

    family: str  # the name in @font-face; distinct from the font's own so a reader never mixes them up
    path: Path
    weight: int
    role: str  # "body" (宋体 style), "heading" (黑体 style), "fallback" (book.yaml's) or "extension"
    media_type: str = "font/otf"

    @property
    def file_name(self) -> str:
        """The file's name, as stored in fonts/ and in the EPUB."""
        return self.path.name


DEFAULT_FACES = (
    FontFace("Book Serif", FONTS_DIR / "NotoSerifCJKsc-Regular.otf", 400, "body"),
    FontFace("Book Sans", FONTS_DIR / "NotoSansCJKsc-Bold.otf", 700, "heading"),
)

# The faces for what the book's own lack: the CJK Unified Ideographs Extensions B to F (Noto CJK
# has Extension A and a few hundred of B), the compatibility ideographs, U+FFFD. HanaMin A and B
# (Hanazono fonts, dual-licensed under the SIL Open Font License), from Debian's fonts-hanazono
# 20170904 (.ci/system-packages). Extensions G and later are in no face the book carries.
HANAZONO_DIR = Path("/usr/share/fonts/truetype/hanazono")
EXTENSION_FACES = (
    FontFace("Book Extension A", HANAZONO_DIR / "HanaMinA.ttf", 400, "extension", "font/ttf"),
    FontFace("Book Extension B", HANAZONO_DIR / "HanaMinB.ttf", 400, "extension", "font/ttf"),
)
# The emphasis face: `em` is set in a Kai face (楷体), as Chinese books set emphasis. AR PL KaitiM GB
# (GB 2312's characters; Arphic Public License, which allows embedding), from Debian's
# fonts-arphic-gkai00mp (.ci/system-packages). A character it lacks falls to the body face.
KAI_FACE = FontFace(
    "Book Kai", Path("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf"), 400, "emphasis", "font/ttf"
)
OPTIONAL_ROLES = ("fallback", "extension")


def book_faces(fallback: Path | None, body: Path | None = None, heading: Path | None = None) -> tuple[FontFace, ...]:
    """The book's faces: the body and heading faces (the bundled ones unless book.yaml names others),
    and the configured fallback face, if any, which sets the characters they lack (clreq: a missing
    glyph must never print as a blank box). The CSS family names stay the same whatever the files."""
    faces = [
        dataclasses.replace(face, path=path, media_type=_media_type(path)) if path else face
        for face, path in zip(DEFAULT_FACES, (body, heading), strict=True)
    ]
    if fallback is not None:
        faces.append(FontFace("Book Fallback", fallback, 400, "fallback", _media_type(fallback)))
    faces += [face for face in (KAI_FACE, *EXTENSION_FACES) if face.path.is_file()]
    return tuple(faces)


def without_unused_emphasis(faces: tuple[FontFace, ...], html: str) -> tuple[FontFace, ...]:
    """The faces, less the emphasis face where the markup has no `em` for it to set."""
    return faces if "<em>" in html or "<em " in html else tuple(face for face in faces if face.role != "emphasis")


def faces_for(faces: tuple[FontFace, ...], text: str) -> tuple[FontFace, ...]:
    """The faces a text needs: the body and heading faces, and each fallback or extension face that
    has a character of `text` which the faces before it lack. The others are neither declared nor
    embedded (a 30 MB face costs time to load even when it sets nothing)."""
    kept = [face for face in faces if face.role not in OPTIONAL_ROLES]
    lacking = [ch for ch in distinct_characters(text) if not ch.isspace() and not any(has_glyph(f, ch) for f in kept)]
    for face in faces:
        if face.role in OPTIONAL_ROLES and any(has_glyph(face, ch) for ch in lacking):
            kept.append(face)
            lacking = [ch for ch in lacking if not has_glyph(face, ch)]
    return tuple(face for face in faces if face in kept)


def _media_type(path: Path) -> str:
    return "font/ttf" if path.suffix.lower() == ".ttf" else "font/otf"


def check_fonts(faces: tuple[FontFace, ...] = DEFAULT_FACES) -> tuple[FontFace, ...]:
    """Check that every font file exists and parses; raise ConfigError naming the file otherwise."""
    for face in faces:
        _font(face.path)
    return faces


@cache
def _font(path: Path) -> object:
    """The font at `path`, as HarfBuzz reads it (mapped, not parsed: 0.2 ms for a 20 MB face)."""
    import uharfbuzz as hb

    if not path.is_file():
        raise ConfigError(
            "font file is missing", where=str(path), fix="restore fonts/ from the repository (git checkout -- fonts)"
        )
    # HarfBuzz does not raise on a damaged file: it sees an empty face, with no glyphs and no cmap.
    face = hb.Face(hb.Blob.from_file_path(path))
    if face.glyph_count == 0 or not face.reference_table("cmap").data:
        raise ConfigError(
            "font file is corrupt: no glyphs or no Unicode character map",
            where=str(path),
            fix="restore fonts/ from the repository (git checkout -- fonts)",
        )
    return hb.Font(face)


def has_glyph(face: FontFace, character: str) -> bool:
    """Whether the face's character map has `character`."""
    return character in _characters(face.path)


@cache
def _characters(path: Path) -> frozenset[str]:
    """Every character the font at `path` maps to a glyph (its cmap, read by HarfBuzz)."""
    import uharfbuzz as hb

    _font(path)  # a missing or corrupt file is a ConfigError naming it
    return frozenset(map(chr, hb.Face(hb.Blob.from_file_path(path)).unicodes))


def distinct_characters(text: str) -> str:
    """Each character of `text` once, in code point order."""
    return "".join(sorted(set(text)))


def missing_characters(text: str, faces: tuple[FontFace, ...] = DEFAULT_FACES) -> list[str]:
    """The characters of `text` that no face has a glyph for (white space excepted).

    Each distinct character is looked up in the faces' character maps: a book has a few thousand,
    a CJK face maps some 45,000."""
    return [
        ch for ch in distinct_characters(text) if not ch.isspace() and not any(has_glyph(face, ch) for face in faces)
    ]


def subset_font(face: FontFace, text: str) -> bytes:
    """The face reduced to the glyphs `text` needs, all layout features kept (halt, vert, …)."""
    import uharfbuzz as hb

    source = hb.Face(hb.Blob.from_file_path(face.path))
    request = hb.SubsetInput()
    request.unicode_set.update(map(ord, distinct_characters(text)))
    # Keep every OpenType feature: readers apply halt/chws (punctuation width) and vert.
    features = request.sets(hb.SubsetInputSets.LAYOUT_FEATURE_TAG)
    features.clear()
    features.invert()
    return bytes(hb.subset(source, request).blob.data)
