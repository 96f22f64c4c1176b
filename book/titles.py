"""titles: a title broken into balanced lines at word boundaries, for covers and title pages.

A title set large runs to two or three lines, and a break between any two characters splits words
(`从确诊病例居全市之首到实 / 现社会面清零`). The breaks are chosen among ICU's word boundaries
(its dictionary-based break iterator for Chinese, through PyICU), all the lines together: the
lines as equal as they can be, a break after a mark or before a word that opens a phrase
(到, 和, 与 …) preferred, one between two single characters (a word ICU does not know, or 之首)
avoided, and clreq's line-start and line-end prohibitions kept.
"""

from __future__ import annotations

import itertools
import unicodedata
from functools import cache
from typing import Any

from .text import LINE_END_PROHIBITED, LINE_START_PROHIBITED

# Words that open a phrase: a line may well begin with one (prepositions, conjunctions).
PHRASE_OPENERS = frozenset("到从在与和及或而但并且对为向把被给让使以於于至自")
# Marks after which a line ends well.
PHRASE_ENDS = frozenset("，、：；。！？—…")
_MAX_LINES = 4
# A file name's separators stay with the word before them: a line ends after one, never begins with it.
_SEPARATORS = frozenset("-_./")


def title_lines(title: str, width: float) -> list[str]:
    """`title` in as few lines of at most `width` ems as it fits, balanced, broken at words."""
    if _ems(title) <= width or width <= 0:
        return [title]
    words = _words(title)
    for count in range(2, _MAX_LINES + 1):
        best = _best_lines(words, count, width)
        if best is not None:
            return best
    return _greedy(words, width)


def _best_lines(words: list[str], count: int, width: float) -> list[str] | None:
    """The best way to set `words` in `count` lines no wider than `width` (a dynamic programme over
    the word boundaries), or None if they do not fit."""
    total = sum(_ems(word) for word in words)
    target = total / count
    n = len(words)
    # cost[k][i]: the least cost of setting words[:i] in k lines; back[k][i]: where the kth line starts.
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for k in range(1, count + 1):
        for i in range(1, n + 1):
            for j in range(k - 1, i):
                if cost[k - 1][j] == inf:
                    continue
                line = "".join(words[j:i])
                if _ems(line) > width:
                    continue
                step = (_ems(line) - target) ** 2 + (_break_cost(words, i) if i < n else 0.0)
                if cost[k - 1][j] + step < cost[k][i]:
                    cost[k][i], back[k][i] = cost[k - 1][j] + step, j
    if cost[count][n] == inf:
        return None
    lines, i = [], n
    for k in range(count, 0, -1):
        j = back[k][i]
        lines.append("".join(words[j:i]))
        i = j
    return lines[::-1]


def _break_cost(words: list[str], at: int) -> float:
    """What a break between words[at - 1] and words[at] costs, in ems squared."""
    before, after = words[at - 1], words[at]
    if after[0] in LINE_START_PROHIBITED or before[-1] in LINE_END_PROHIBITED:
        return float("inf")
    cost = 0.0
    if before in PHRASE_OPENERS:
        cost += 4.0  # a line does not end on a word that opens what follows
    if before[-1] in PHRASE_ENDS:
        cost -= 6.0
    elif after in PHRASE_OPENERS:
        cost -= 5.0
    elif len(before) == 1 and len(after) == 1:
        cost += 6.0  # most likely inside a word the dictionary lacks, or a fixed phrase (之首)
    return cost


def _greedy(words: list[str], width: float) -> list[str]:
    lines = [""]
    for word in words:
        if lines[-1] and _ems(lines[-1] + word) > width:
            lines.append("")
        lines[-1] += word
    return lines


def _words(text: str) -> list[str]:
    """The text cut at ICU's word boundaries; a mark stays with the word before it."""
    iterator = _breaker()
    iterator.setText(text)
    bounds = [0, *iterator]
    words: list[str] = []
    for start, end in itertools.pairwise(bounds):
        piece = text[start:end]
        joins = piece[0] in LINE_START_PROHIBITED or piece.isspace() or piece in _SEPARATORS
        if words and (joins or words[-1][-1] in LINE_END_PROHIBITED):
            words[-1] += piece
        else:
            words.append(piece)
    return words


@cache
def _breaker() -> Any:
    import icu

    return icu.BreakIterator.createWordInstance(icu.Locale("zh"))


def _ems(text: str) -> float:
    """The width of `text` in ems: a wide character one, another half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)
