"""options: the parts of the typesetting extension a render uses."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderOptions:
    """The parts of the typesetting extension a render uses; all by default. Turned off, the first
    two give the same pages more slowly (tests compare them), the third leaves Chinese lines
    ragged, the fourth breaks CJK paragraphs greedily, as Pango and WeasyPrint do."""

    paragraph_layout: bool = True  # a paragraph's lines taken from one layout of it
    glyph_drawing: bool = True  # lines drawn from the glyphs already shaped
    cjk_justification: bool = True  # justification between CJK characters
    total_fit: bool = True  # a CJK paragraph's breaks chosen together (breaking.py), not greedily


_OPTIONS: ContextVar[RenderOptions] = ContextVar("book_render_options")
_ALL_PARTS = RenderOptions()


def current_options() -> RenderOptions:
    """The options of the render under way."""
    return _OPTIONS.get(_ALL_PARTS)


@contextlib.contextmanager
def render_options(**parts: bool) -> Iterator[RenderOptions]:
    """Renders in this context (and in processes forked in it) use these parts of the extension:
    `with render_options(paragraph_layout=False): build(...)`."""
    options = dataclasses.replace(current_options(), **parts)
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)
