"""runs: the glyphs of Pango's lines, copied out, and the widths of a text's characters read
from them (paragraph.py, inline_fit.py, glyphs.py)."""

from __future__ import annotations

import re
from typing import Any

from weasyprint.text import line_break
from weasyprint.text.ffi import ffi, pango
from weasyprint.text.line_break import Layout

CHARACTER_START = re.compile(rb"[^\x80-\xbf]")  # a byte of UTF-8 that begins a character

# A run of a line's glyphs in one font, copied out of the layout (which is then freed: a
# PangoLayout kept per paragraph until the pages are drawn took 170 bytes a character): its font's
# address (paragraph.Shaped.fonts), the item's offset and length in the layout's text (bytes), its
# PangoGlyphInfos (glyph, width, x offset, y offset, attributes: 32 bits each) and its log
# clusters (32 bits each), as Pango stores them.
GlyphRun = tuple[int, int, int, bytes, bytes]


def python_runs(line: Any) -> tuple[GlyphRun, ...]:
    """The runs of a PangoLayoutLine, copied out of it."""
    runs = []
    run = line.runs
    while run != ffi.NULL:
        glyph_string, item = run.data.glyphs, run.data.item
        run = run.next
        count = glyph_string.num_glyphs
        glyphs = ffi.buffer(glyph_string.glyphs, 20 * count)[:]
        clusters = ffi.buffer(glyph_string.log_clusters, 4 * count)[:]
        runs.append((int(ffi.cast("uintptr_t", item.analysis.font)), item.offset, item.length, glyphs, clusters))
    return tuple(runs)


def char_widths(layout: Layout, encoded: bytes) -> list[int]:
    """The advance of each character of a layout's text (`encoded`) in Pango units: the width of
    its cluster's glyphs, on the cluster's first character (0 on the others)."""
    clusters = cluster_widths(layout)
    return [clusters.get(match.start(), 0) for match in CHARACTER_START.finditer(encoded)]


def cluster_widths(layout: Layout) -> dict[int, int]:
    """The width of each cluster of glyphs of a layout, by the byte its text begins at."""
    clusters: dict[int, int] = {}
    item = ffi.cast("GSList *", pango.pango_layout_get_lines_readonly(layout.layout))
    while item != ffi.NULL:
        for _font, offset, _length, glyphs, log_clusters in python_runs(ffi.cast("PangoLayoutLine *", item.data)):
            # PangoGlyphInfo: glyph, width, x and y offset, attributes (32 bits each); the widths
            # are every fifth, from the second
            widths, starts = memoryview(glyphs).cast("i")[1::5], memoryview(log_clusters).cast("i")
            if len(set(starts)) == len(starts):  # a glyph a cluster, as mostly
                clusters.update(zip(map(offset.__add__, starts), widths, strict=True))
                continue
            for glyph_width, cluster in zip(widths, starts, strict=True):
                clusters[offset + cluster] = clusters.get(offset + cluster, 0) + glyph_width
        item = item.next
    return clusters


_LOWEST_BIT = bytes(range(2)) * 128  # a byte's lowest bit (bytes.translate)


def line_breaks(layout: Layout) -> bytes:
    """For each character of a layout's text (and its end), 1 where Pango allows a line break
    before it."""
    count = ffi.new("int *")
    return _break_flags(pango.pango_layout_get_log_attrs_readonly(layout.layout, count), count[0])


def text_line_breaks(text: str, lang: str | None) -> bytes:
    """line_breaks for a text not laid out (Pango's breaking alone, no shaping: pango_get_log_attrs)."""
    return _break_flags(line_break.get_log_attrs(text, lang), len(text) + 1)


def _break_flags(attributes: Any, count: int) -> bytes:
    """The is_line_break flag of each of `count` PangoLogAttrs (32 bits of flags each, it the lowest)."""
    return ffi.buffer(attributes, 4 * count)[:][::4].translate(_LOWEST_BIT)
