"""breaking: a paragraph's line breaks chosen together (total fit), not line by line.

Pango breaks a paragraph greedily: each line takes what fits, and the last line takes what is
left, one character at times (a runt, 孤字), while a line before it stretches wide. Here the
breaks of a paragraph of CJK text are chosen together, Knuth and Plass's way over the break
opportunities: each line's cost is its stretch (the space justification spreads between its
characters) squared, a last line of one Han character or none costs as a badly stretched line
would, and the breaks with the least total cost win. clreq's order of adjustment holds: a line
may take a character or two more by setting single marks inside it in half width (a comma between
Han characters: squeezed), each at a small cost, before its characters are spread. The
line-start and line-end prohibitions (clreq) stay hard rules, and a dash or an ellipsis never
splits.

The paragraph's widths are known without shaping it: every Han character and full-width mark
advances 1 em, a mark set half-width (halt, already decided for the whole paragraph) 0.5 em, and
any other run of characters (a number, a stray ASCII mark) as Pango shaped it once for the style;
beside such a run, a line breaks only where Pango allows it (paragraph._fitted_breaks). Pango then
lays the paragraph out with breaks allowed only at the chosen places (paragraph.py).
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Iterable

from ..compiled import compiled
from ..text import HAN, LINE_END_PROHIBITED, LINE_START_PROHIBITED

# A last line of one Han character or none: as costly as four lines stretched 0.1 em a gap.
RUNT_COST = 4 * (0.1**2)
# A line stretched more than this (em a gap) is never chosen: it would cost as 25 runts.
MAX_STRETCH = 1.0
# A single mark set in half width inside a line (text.squeezable_marks) costs as a line stretched
# 0.025 em a gap: squeezing two marks to take one more character in (0.00125) beats spreading a
# line of 27 characters by that one (0.038 em a gap: 0.00146), while a line short of the measure
# by a fraction of a character is spread, not squeezed. A line squeezes two marks at most. On
# 红楼梦, 6 % of the single marks inside lines are squeezed (Typst: 40 %; 0.02 squeezes 10 %, 0.03
# leaves the 95th percentile at 0.025 em).
SQUEEZE_COST = 0.025**2
MAX_SQUEEZE = 2
# Pango's greedy breaks stand unless they leave a runt or a line spread more than this (em a gap):
# the 95th percentile issue #27 asks of the stretch. Choosing breaks lays nothing out again, so a
# line spread 0.039 em (the default book's 通过小 | 区) need not stand. On 红楼梦 0.03 and 0.04 both
# give 0.021 em at the 95th percentile; 0.05, 0.028 em; 0.1, 0.041 em.
LOOSE = 0.03
_HAN = re.compile(HAN)
_compiled_total_fit = compiled("total_fit")  # total_fit's programme in C (book/_speedups.c), or None
_compiled_choose_breaks = compiled("choose_breaks")  # choose_breaks in C, or None
# Pango (UAX #14 rule LB19, class QU) breaks on neither side of a quotation mark; clreq allows a
# break before an opening one and after a closing one. Pango cannot be made to take them (an
# attribute only takes breaks away), so greedy breaks never fall there; a line chosen to end there
# ends its paragraph's layout (quote_breaks), or WeasyPrint is told where it ends (inline_fit):
# may_break(quotes=True).
_NO_BREAK_BEFORE = "“‘"
_NO_BREAK_AFTER = "”’"
_QUOTES = re.compile(f"[{_NO_BREAK_BEFORE}{_NO_BREAK_AFTER}]")
# may_break as patterns: before a character that may not start a line, and after one that may not
# end it. A dash or an ellipsis may not start a line, so neither splits.
_NO_BREAK_AT = re.compile(f"[{re.escape(LINE_START_PROHIBITED + _NO_BREAK_BEFORE)}]")
_NO_BREAK_AFTER_IT = re.compile(f"[{re.escape(LINE_END_PROHIBITED + _NO_BREAK_AFTER)}]")


def advances(text: str, halts: Iterable[int], runs: Iterable[tuple[int, list[float]]] = ()) -> list[float]:
    """Where each character of `text` begins, in ems from the start (and where the text ends): 1 em a
    character, half at `halts`, and the characters of `runs` (each its start and widths) as given."""
    widths = [1.0] * len(text)
    for i in halts:
        widths[i] = 0.5
    for start, run in runs:
        widths[start : start + len(run)] = run
    return list(itertools.accumulate(widths, initial=0.0))


def squeezable_counts(text: str, positions: list[int]) -> list[int]:
    """How many of `positions` (text.squeezable_marks) lie before each index of `text` (n + 1)."""
    flags = bytearray(len(text))
    for position in positions:
        flags[position] = 1
    return list(itertools.accumulate(flags, initial=0))


def _squeezes(natural: float, measure: float, squeezable: list[int] | None, start: int, end: int) -> int:
    """The marks a line from `start` to `end` must set in half width to fit its measure (0: it
    fits as it is); MAX_SQUEEZE + 1 where it cannot. A line's first and last characters are never
    squeezed (a mark at the line's edge is no adjustment inside it)."""
    if natural <= measure + 1e-9:
        return 0
    needed = math.ceil((natural - measure - 1e-9) / 0.5)
    if squeezable is None or end - start < 3 or needed > squeezable[end - 1] - squeezable[start + 1]:
        return MAX_SQUEEZE + 1
    return needed


def first_fit_among(advance: list[float], candidates: list[int], first: float, width: float) -> list[int] | None:
    """The line starts Pango's greedy breaking gives by the same measure: each line as long as fits,
    ending at one of `candidates` (the breaks Pango and clreq allow)."""
    starts: list[int] = []
    start, end_of_text = 0, len(advance) - 1
    at = [advance[c] for c in candidates]
    while True:
        limit = advance[start] + (first if start == 0 else width) + 1e-9
        if advance[end_of_text] <= limit:
            return starts
        index = bisect.bisect_right(at, limit) - 1
        if index < 0 or candidates[index] <= start:
            return None
        start = candidates[index]
        starts.append(start)


def poor(
    text: str,
    advance: list[float],
    first: float,
    width: float,
    starts: list[int],
    runt_cost: float = RUNT_COST,
) -> bool:
    """Whether breaks leave a runt (where runts cost) or a line stretched more than LOOSE em a gap."""
    bounds = [0, *starts, len(text)]
    for start, end in itertools.pairwise(bounds):
        if end == len(text):
            return bool(runt_cost) and start > 0 and len(_HAN.findall(text[start:end])) <= 1
        measure = first if start == 0 else width
        if (measure - (advance[end] - advance[start])) / max(end - start - 1, 1) > LOOSE:
            return True
    return False


def total_fit(
    text: str,
    advance: list[float],
    first: float,
    width: float,
    breaks: list[int] | None = None,
    runt_cost: float = RUNT_COST,
    squeezable: list[int] | None = None,
) -> list[int] | None:
    """The line starts (character indices after 0) of the best breaks of `text`, whose first line
    is `first` ems wide and the others `width`; `advance`: where each character begins (advances);
    `breaks`: where a line may end (default: wherever may_break allows); `runt_cost`: what a
    last line of one Han character costs (0 for a window of a paragraph); `squeezable`: the marks
    a line may set in half width (squeezable_counts; None: none). None if no breaks fit."""
    n = len(text)
    candidates = [*(breaks if breaks is not None else break_opportunities(text)), n]
    if _compiled_total_fit is not None:
        squeeze = squeezable if squeezable is not None else [0] * (n + 1)
        return _compiled_total_fit(
            advance,
            candidates,
            _runt_from(text),
            squeeze,
            first,
            width,
            runt_cost,
            MAX_STRETCH,
            SQUEEZE_COST,
            MAX_SQUEEZE,
        )
    reach = width + 0.5 * MAX_SQUEEZE * (squeezable is not None)  # the longest line, squeezed
    inf = float("inf")
    cost = [inf] * (n + 1)
    back = [0] * (n + 1)
    cost[0] = 0.0
    reachable, reached_at = [0], [advance[0]]  # the breaks a line can end at, and where they are
    for end in candidates:
        last, at_end, best, best_start = end == n, advance[end], inf, 0
        # Only the starts from which the line fits (bisect), from the longest line to the
        # shortest, and no line stretched more than MAX_STRETCH a gap: a few starts, not forty.
        for index in range(bisect.bisect_left(reached_at, at_end - reach - 1e-9), len(reachable)):
            start = reachable[index]
            measure = first if start == 0 else width
            natural = at_end - reached_at[index]
            squeezed = _squeezes(natural, measure, squeezable, start, end)
            if squeezed > MAX_SQUEEZE:  # too long, even squeezed (or the first line, shorter by its indent)
                continue
            if last:
                step = _line_cost(text, start, end, natural, measure, last=True, runt_cost=runt_cost, squeezed=squeezed)
            else:  # _line_cost, inline
                stretch = (measure - natural + 0.5 * squeezed) / (end - start - 1 or 1)
                if stretch > MAX_STRETCH:  # and more from every later start
                    break
                step = stretch * stretch + SQUEEZE_COST * squeezed
            if cost[start] + step <= best:  # equal: the later start, the shorter line (as before)
                best, best_start = cost[start] + step, start
        cost[end], back[end] = best, best_start
        if best < inf:
            reachable.append(end)
            reached_at.append(at_end)
    if cost[n] == inf:
        return None
    starts, at = [], n
    while at:
        at = back[at]
        if at:
            starts.append(at)
    return starts[::-1]


def choose_breaks(
    text: str, advance: list[float], first: float, width: float, allowed: bytes, marks: list[int]
) -> tuple[list[int], list[int]] | None:
    """better_breaks against the greedy breaks, for the whole rest of a paragraph (its last line no
    runt); `allowed`: 1 before a character where clreq and Pango allow a line to end (break_mask, and
    Pango's), 2 where only the breaks chosen may end one (quote_breaks), the greedy breaks (Pango's)
    among the 1s only. In C where it was built."""
    if _compiled_choose_breaks is not None:
        return _compiled_choose_breaks(
            advance,
            allowed,
            marks,
            _runt_from(text),
            first,
            width,
            RUNT_COST,
            LOOSE,
            MAX_STRETCH,
            SQUEEZE_COST,
            MAX_SQUEEZE,
        )
    breaks = [i for i in range(1, len(text)) if allowed[i]]
    greedy = first_fit_among(advance, [i for i in breaks if allowed[i] == 1], first, width)
    return better_breaks(text, advance, first, width, greedy, marks, breaks)


def break_mask(text: str) -> bytearray:
    """1 before each character of `text` where may_break allows a line to end (and 0 at both ends):
    break_opportunities, as flags."""
    mask = bytearray(b"\x01") * (len(text) + 1)
    mask[0] = mask[-1] = 0
    for match in _NO_BREAK_AT.finditer(text, 1):
        mask[match.start()] = 0
    for match in _NO_BREAK_AFTER_IT.finditer(text):
        mask[match.end()] = 0
    return mask


def quote_breaks(text: str, halts: list[int]) -> list[int]:
    """Where a line may end beside a quotation mark (before an opening one, after a closing one:
    may_break(quotes=True)), as clreq allows and Pango does not, and the character before the break
    is not a mark set in half width because of the mark after it (`halts`: text.halt_positions),
    which a line that ends there would set full width."""
    halved = set(halts)
    found = []
    for match in _QUOTES.finditer(text):
        i = match.start() if match[0] in _NO_BREAK_BEFORE else match.end()
        if 0 < i < len(text) and i - 1 not in halved and may_break(text, i, quotes=True):
            found.append(i)
    return found


def _runt_from(text: str) -> int:
    """The first index from which the rest of `text` holds one Han character at most."""
    found = 0
    for index in range(len(text) - 1, -1, -1):
        if _HAN.match(text, index):
            found += 1
            if found == 2:
                return index + 1
    return 0


def better_breaks(
    text: str,
    advance: list[float],
    first: float,
    width: float,
    greedy: list[int] | None,
    marks: list[int],
    breaks: list[int] | None = None,
    runt_cost: float = RUNT_COST,
) -> tuple[list[int], list[int]] | None:
    """The breaks chosen together (total_fit, a line may squeeze `marks`: text.squeezable_marks)
    and the marks they squeeze, where the greedy breaks are poor and these cost less; None where
    the greedy breaks stand."""
    if greedy is None or not poor(text, advance, first, width, greedy, runt_cost):
        return None  # most paragraphs: greedy breaks leave no runt and no loose line
    counts = squeezable_counts(text, marks)
    better = total_fit(text, advance, first, width, breaks, runt_cost, counts)
    if better is None or better == greedy:
        return None
    if cost_of(text, advance, first, width, better, runt_cost, counts) >= cost_of(
        text, advance, first, width, greedy, runt_cost
    ):
        return None
    return better, squeezed_marks(text, advance, first, width, better, marks)


def cost_of(
    text: str,
    advance: list[float],
    first: float,
    width: float,
    starts: list[int],
    runt_cost: float = RUNT_COST,
    squeezable: list[int] | None = None,
) -> float:
    """What the breaks at `starts` cost (total_fit's measure); infinite where a line overflows."""
    total = 0.0
    for start, end in itertools.pairwise([0, *starts, len(text)]):
        natural = advance[end] - advance[start]
        measure = first if start == 0 else width
        squeezed = _squeezes(natural, measure, squeezable, start, end)
        if squeezed > MAX_SQUEEZE:
            return math.inf
        total += _line_cost(text, start, end, natural, measure, end == len(text), runt_cost, squeezed)
    return total


def squeezed_marks(
    text: str, advance: list[float], first: float, width: float, starts: list[int], positions: list[int]
) -> list[int]:
    """The marks of `positions` (text.squeezable_marks) that the lines broken at `starts` set in
    half width to fit: as many as each line needs (total_fit's _squeezes), spread evenly over the
    line's squeezable marks."""
    counts = squeezable_counts(text, positions)
    chosen: list[int] = []
    for start, end in itertools.pairwise([0, *starts, len(text)]):
        measure = first if start == 0 else width
        needed = _squeezes(advance[end] - advance[start], measure, counts, start, end)
        if needed and needed <= MAX_SQUEEZE:
            inside = positions[bisect.bisect_left(positions, start + 1) : bisect.bisect_left(positions, end - 1)]
            chosen.extend(inside[(2 * k + 1) * len(inside) // (2 * needed)] for k in range(needed))
    return chosen


def _line_cost(
    text: str,
    start: int,
    end: int,
    natural: float,
    measure: float,
    last: bool,
    runt_cost: float = RUNT_COST,
    squeezed: int = 0,
) -> float:
    if last:
        return SQUEEZE_COST * squeezed + (runt_cost if start > 0 and len(_HAN.findall(text[start:end])) <= 1 else 0.0)
    return ((measure - natural + 0.5 * squeezed) / max(end - start - 1, 1)) ** 2 + SQUEEZE_COST * squeezed


def break_opportunities(text: str) -> list[int]:
    """Every i where may_break(text, i): break_mask's flags, as indices."""
    return [i for i, allowed in enumerate(break_mask(text)) if allowed]


def may_break(text: str, i: int, quotes: bool = False) -> bool:
    """Whether a line may end before text[i] (clreq's prohibitions: a dash or an ellipsis may not
    start a line, so neither splits). With `quotes`, as clreq has it beside a quotation mark too
    (before an opening one, after a closing one), for breaks that Pango does not take."""
    before, after = text[i - 1], text[i]
    if after in LINE_START_PROHIBITED or before in LINE_END_PROHIBITED:
        return False
    return quotes or not (after in _NO_BREAK_BEFORE or before in _NO_BREAK_AFTER)


def beside_quote(text: str, i: int) -> bool:
    """Whether a break before text[i] would fall before an opening quotation mark or after a
    closing one: where Pango (UAX #14 LB19) allows none, and clreq does."""
    return text[i] in _NO_BREAK_BEFORE or text[i - 1] in _NO_BREAK_AFTER
