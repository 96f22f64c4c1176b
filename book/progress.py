"""progress: one bar over the whole build, from the stage messages it already gives.

Each stage of a build (normalize, the print PDF, the EPUB, the screen PDF, the cover) has a share
of the bar by the work it does. Within the PDF's share the bar moves page by page (the pages are
estimated from the text before they are laid out) or chapter by chapter for a book printed in
pieces. A second PDF laid out after the first moves on from where the first ended, so the bar
never starts again at page 1; it never moves back, and reaches its end only when the build does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_PAGE = re.compile(r"\bpage (\d+)\b")
_CHAPTER = re.compile(r"\bchapter (\d+) of (\d+)\b")
# Characters on a full page of the default text block (大32开, 10.5 pt, 1.75 leading), less the
# short last lines of paragraphs: a chapter's pages are about its characters by this, plus one.
CHARACTERS_PER_PAGE = 600


class Meter:
    """Turns a build's stage messages into one bar: `show(message, done)`, done from 0 to 1."""

    def __init__(self, show: Callable[[str, float], None], shares: dict[str, float]) -> None:
        total = sum(shares.values()) or 1.0
        self._show = show
        self._spans: dict[str, tuple[float, float]] = {}
        start = 0.0
        for name, share in shares.items():
            self._spans[name] = (start, start + share / total)
            start += share / total
        self._done = 0.0

    def stage(self, name: str, units: int = 1) -> Callable[[str], None]:
        """The progress callback of stage `name`: a message that names a page, or a chapter of so
        many, moves the bar through the stage's share by that many of `units`."""
        low, high = self._spans.get(name, (self._done, self._done))

        def report(message: str) -> None:
            part = 0.0
            if chapter := _CHAPTER.search(message):
                part = int(chapter[1]) / max(int(chapter[2]), 1)
            elif page := _PAGE.search(message):
                part = int(page[1]) / max(units, 1)
            elif message.startswith(("writing", "assembling")):
                part = 1.0
            self.update(message, low + (high - low) * min(part, 0.99))

        return report

    def update(self, message: str, done: float) -> None:
        self._done = max(self._done, min(done, 1.0))
        self._show(message, self._done)

    def finish(self, message: str) -> None:
        self.update(message, 1.0)


def estimated_pages(chapters: list[int]) -> int:
    """The print pages a book of chapters of these many characters takes, about: the front
    matter, each chapter from a recto."""
    return 4 + sum(characters // CHARACTERS_PER_PAGE + 2 for characters in chapters)
