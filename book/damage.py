"""Damage in a source text, told apart from punctuation. Pure: no I/O.

A lossy GB2312 conversion writes a literal `?` for every character it lost (`?基百科`, `山???`).
Such a `?` stands inside a word, where no question can end: it is damage, not a question mark, and
it stays as it is, so that an editor can find and repair it. Literal `\\uXXXX` escapes and
byte-shifted mojibake (GBK read one byte out of step) are reported too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules import Rules

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_QUESTION_RUN = re.compile(r"\?+")
_ESCAPE = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}")
_CLAUSE_END = re.compile("[，。！？；：、,.!;:“”「」『』（）《》]")
_IS_HAN = re.compile(f"[{_HAN}]")
_ASCII_MARK_IN_CHINESE = re.compile(f"(?<=[{_HAN}])[,!:;]|[,!:;](?=[{_HAN}])")
# A `?` after these ends no question: a sentence or clause has already ended there.
_ENDED = "。！？；，、：.!;,"
MOJIBAKE_WINDOW = 8  # characters after a damaged `?` read for signs of text out of step
MOJIBAKE_GAIN = 0.3  # more of them common (GB2312's 3,755 first-level characters) when read a byte later


@dataclass(frozen=True)
class Damage:
    """What one paragraph's text shows of damage: the positions of lost-character `?`s, escapes, mojibake."""

    lost: tuple[int, ...] = ()
    escapes: int = 0
    mojibake: int = 0

    def __bool__(self) -> bool:
        return bool(self.lost or self.escapes or self.mojibake)


def find_damage(text: str, rules: Rules, *, simplified: bool = True) -> Damage:
    """The damage in a paragraph. A run of `?` is a lost character where it sits between CJK text
    and no question ends before it: after a mark that ends a clause, at the paragraph's start, or
    after a clause with no question word or particle (吗, 呢, 何, 谁 …) in a text that writes no
    other ASCII marks in Chinese; a run of two or more is lost characters unless a question ends
    before it. `simplified`: mojibake is looked for (in GB text)."""
    lost: list[int] = []
    mojibake = 0
    # A text that writes ASCII marks in Chinese (`标点,是的`) writes its question marks so too.
    ascii_marks = bool(_ASCII_MARK_IN_CHINESE.search(text))
    for match in _QUESTION_RUN.finditer(text):
        start, end = match.start(), match.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if not _is_damage(text, start, before, after, end - start, rules, ascii_marks):
            continue
        lost.extend(range(start, end))
        if simplified and _out_of_step(text[end : end + MOJIBAKE_WINDOW]):
            mojibake += 1
    return Damage(tuple(lost), len(_ESCAPE.findall(text)), mojibake)


def _is_damage(text: str, start: int, before: str, after: str, length: int, rules: Rules, ascii_marks: bool) -> bool:
    chinese_after = bool(_IS_HAN.match(after)) or (after and after in "，。、；：" and length > 1)
    if before and (before.isascii() and (before.isalnum() or before in "/=&%")):
        return False  # a URL's query (a?b=1) or a Latin question
    if not before or before in _ENDED:  # no question ends at a paragraph's or clause's start
        return bool(_IS_HAN.match(after) or "\uff01" <= after <= "\uff5e")
    if not _IS_HAN.match(before):
        return False
    question = _is_question(text[:start], rules)
    if length > 1:
        return not question
    return bool(chinese_after) and not question and not ascii_marks


def _is_question(before: str, rules: Rules) -> bool:
    """Whether the clause that ends at `before`'s end asks something: it ends with a particle (吗
    呢) or holds a question word (何 谁 怎么)."""
    clause = _CLAUSE_END.split(before)[-1]
    if clause and clause[-1] in rules.question_particles:
        return True
    return bool(rules.question_words.search(clause))


def _out_of_step(window: str) -> bool:
    """Whether text reads as GBK bytes decoded one byte out of step (`；泼鳎合衷谖` for `黄明：现在我`):
    read one byte later, it turns into common characters where it had rare ones."""
    window = window.split("?")[0]
    if len(window) < 4:
        return False
    try:
        data = window.encode("gbk")
    except UnicodeEncodeError:
        return False
    shifted = data[1:].decode("gbk", errors="replace")
    return _common_share(shifted) - _common_share(window) >= MOJIBAKE_GAIN


def _common_share(text: str) -> float:
    """The share of a text's Han characters that are common (GB2312's first level)."""
    han = _IS_HAN.findall(text)
    return sum(1 for ch in han if not _rare(ch)) / max(1, len(han))


def _rare(ch: str) -> bool:
    """Outside GB2312's first level (3,755 common characters), or a full-width symbol or letter."""
    if "\uff01" <= ch <= "\uff5e":
        return True
    if not _IS_HAN.match(ch):
        return False
    try:
        encoded = ch.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return not 0xB0 <= encoded[0] <= 0xD7
