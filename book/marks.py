"""The marks of one seed's text set right, line by line, with a tally of what could not be. Pure.

Punctuation is fixed by text.fix_punctuation; full-width letters and digits are made half-width; a
`?` that stands for a lost character is kept as it is (damage.py) and reported; a paragraph whose
quotation marks no reading balances is reported.
"""

from __future__ import annotations

from collections import Counter

from .damage import find_damage
from .model import Finding
from .quotes import quotes_balanced
from .rules import Rules
from .text import fix_punctuation, halfwidth_alphanumerics

_LOST = "\ufffc"  # stands in for a lost-character `?` while the punctuation is fixed


class Marks:
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
