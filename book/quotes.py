"""Quotation marks: the direction of each straight quote, decided as a typographer would. Pure.

A straight quote (`"` or `'`) in Chinese text opens or closes by its context, and by the quotes
already open in the paragraph: after `：` or at the start it opens; after `。？！，` or before
punctuation it closes. The paragraph's reading is chosen as a whole (a small dynamic programme over
the quotes, curly and corner ones fixed), so that its quotes balance wherever some reading does.
GB/T 15834—2011 §4.1 (引号); clreq §3.1.5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Marks after which a quote closes, and before which it closes (a quote never opens onto them).
CLOSES_AFTER = "。？！…，、；.?!,;—"
CLOSES_BEFORE = "，。？！；：、…）》〉】〕,.?!;:)"
OPENS_AFTER = "：:（《〈【〔“‘「『(["
SPACES = " \t\u3000"
MAX_DEPTH = 3  # a quote inside a quote inside a quote
UNBALANCED = 1000.0  # the cost of a quote left open or closed with none open: more than any context


@dataclass(frozen=True)
class QuoteFamily:
    """One kind of quotation mark: its straight form, and its curly and corner pairs."""

    straight: str
    curly: tuple[str, str]
    corner: tuple[str, str]

    @property
    def opening(self) -> str:
        return self.curly[0] + self.corner[0]

    @property
    def closing(self) -> str:
        return self.curly[1] + self.corner[1]

    @property
    def marks(self) -> re.Pattern[str]:
        """Every mark of the family, straight ones included."""
        return _MARKS[self.straight]


DOUBLE = QuoteFamily('"', ("\u201c", "\u201d"), ("\u300c", "\u300d"))
SINGLE = QuoteFamily("'", ("\u2018", "\u2019"), ("\u300e", "\u300f"))
_MARKS = {
    family.straight: re.compile(f"[{re.escape(family.straight + family.opening + family.closing)}]")
    for family in (DOUBLE, SINGLE)
}
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_CJK_NEAR = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2018-\u201d\u2026\u2014]")
_URL = re.compile(r"https?://[!#-&(-~]+")
_CODE_SPAN = re.compile(f"`[^`]*`|{_URL.pattern}")


def turn_straight_quotes(text: str, *, markdown: bool = False) -> tuple[str, dict[str, int]]:
    """`text` with its straight quotes turned curly (or corner, where the paragraph quotes with
    corners); the count of each mark set. Only in text with Han characters; URLs and Markdown's
    code spans are left alone, and an apostrophe between Latin letters (don't) stays."""
    counts: dict[str, int] = {}
    if ('"' not in text and "'" not in text) or not _HAN.search(text):
        return text, counts
    chars = list(text)
    protected = {i for m in (_CODE_SPAN if markdown else _URL).finditer(text) for i in range(m.start(), m.end())}
    for family in (DOUBLE, SINGLE):
        if family.straight not in text:
            continue
        pair = family.corner if family.corner[0] in text or family.corner[1] in text else family.curly
        for index, opens in _decide(chars, family, protected).items():
            chars[index] = pair[0] if opens else pair[1]
            counts[chars[index]] = counts.get(chars[index], 0) + 1
    return "".join(chars), counts


def _decide(chars: list[str], family: QuoteFamily, protected: set[int]) -> dict[int, bool]:
    """For each straight quote of the family to turn: whether it opens. The reading with the lowest
    cost over the whole paragraph, where each quote costs what its context says against it, and a
    quote left unbalanced costs more than any context."""
    marks: list[tuple[int, str]] = []  # (index, "?" straight, "(" fixed open, ")" fixed close)
    opening = family.opening
    for match in family.marks.finditer("".join(chars)):
        index, ch = match.start(), match[0]
        if ch == family.straight:
            if index not in protected and _in_chinese(chars, index, family):
                marks.append((index, "?"))
        else:
            marks.append((index, "(" if ch in opening else ")"))
    if not any(kind == "?" for _, kind in marks):
        return {}
    costs = {index: _costs(chars, index) for index, kind in marks if kind == "?"}
    # Each quote read as its context says: where that balances with no tie, no reading costs less.
    if all(open_cost != close_cost for open_cost, close_cost in costs.values()):
        readings = {index: open_cost < close_cost for index, (open_cost, close_cost) in costs.items()}
        kinds = [("(" if readings[index] else ")") if kind == "?" else kind for index, kind in marks]
        if _fixed([(0, kind) for kind in kinds], 0) == (0, 0.0):
            return readings
    # best[depth] = (cost, decisions) of the cheapest reading of the marks so far that leaves
    # `depth` quotes open; decisions is a chain (opens, earlier decisions) over the straight quotes.
    first = next(i for i, (_, kind) in enumerate(marks) if kind == "?")
    last = max(i for i, (_, kind) in enumerate(marks) if kind == "?")
    # The marks before the first straight quote and after the last leave no choice: they are read
    # in one step (a paragraph of curly quotes with one straight quote costs one quote's work).
    depth, cost = _fixed(marks[:first], 0)
    best: dict[int, tuple[float, Chain]] = {depth: (cost, None)}
    for index, kind in marks[first : last + 1]:
        open_cost, close_cost = costs[index] if kind == "?" else (0.0, 0.0)
        step: dict[int, tuple[float, Chain]] = {}
        for depth, (cost, earlier) in best.items():
            moves: list[tuple[int, float, Chain]] = []  # (depth after, cost, decisions) of each reading
            if kind in "?(":
                over = UNBALANCED if depth == MAX_DEPTH else 0.0
                opened = (True, earlier) if kind == "?" else earlier
                moves.append((min(depth + 1, MAX_DEPTH), cost + open_cost + over, opened))
            if kind in "?)":
                under = 0.0 if depth else UNBALANCED  # a close with none open
                closed = (False, earlier) if kind == "?" else earlier
                moves.append((max(depth - 1, 0), cost + close_cost + under, closed))
            for after, total, chain in moves:
                if after not in step or total < step[after][0]:
                    step[after] = (total, chain)
        best = step
    ends = []
    for depth, (cost, chain) in best.items():
        end, extra = _fixed(marks[last + 1 :], depth)
        ends.append((cost + extra + end * UNBALANCED, depth, chain))
    _, _, chain = min(ends)
    decisions: list[bool] = []
    while chain is not None:
        opens, chain = chain
        decisions.append(opens)
    straight = [index for index, kind in marks if kind == "?"]
    return dict(zip(straight, decisions[::-1], strict=True))


Chain = tuple[bool, "Chain"] | None  # decisions, the last first: (opens, the decisions before)


def _fixed(marks: list[tuple[int, str]], depth: int) -> tuple[int, float]:
    """(depth after, cost) of reading marks that are all curly or corner: a close with none open costs."""
    cost = 0.0
    for _, kind in marks:
        if kind == "(":
            depth = min(depth + 1, MAX_DEPTH)
        elif depth:
            depth -= 1
        else:
            cost += UNBALANCED
    return depth, cost


def _in_chinese(chars: list[str], index: int, family: QuoteFamily) -> bool:
    """Whether a straight quote belongs to Chinese text: its nearest neighbour past spaces on one
    side is CJK, or it stands at the paragraph's edge (`src="x"` and don't are not Chinese)."""
    before = _neighbour(chars, index, -1, past=SPACES)
    after = _neighbour(chars, index, 1, past=SPACES)
    if family is SINGLE and before and after and before.isalnum() and after.isalnum() and before.isascii():
        return False  # don't, it's
    if before is None or after is None:
        return True
    return bool(_CJK_NEAR.match(before) or _CJK_NEAR.match(after))


def _costs(chars: list[str], index: int) -> tuple[float, float]:
    """(cost of opening, cost of closing) for the straight quote at `index`, from its neighbours."""
    before = _neighbour(chars, index, -1)
    after = _neighbour(chars, index, 1)
    open_cost = close_cost = 0.0
    if before is None:
        close_cost += 3
    elif before in OPENS_AFTER:
        close_cost += 2
    elif before in CLOSES_AFTER:
        open_cost += 2 if before != "，" and before != "," else 1
    if after is None:
        open_cost += 3
    elif after in CLOSES_BEFORE:
        open_cost += 2
    elif after.isspace():
        open_cost += 0.5
    return open_cost, close_cost


def _neighbour(chars: list[str], index: int, step: int, past: str = "") -> str | None:
    """The nearest character before (-1) or after (+1), past other quotes (and `past`); None at the
    paragraph's edge."""
    index += step
    while 0 <= index < len(chars) and (chars[index] in "\"'" or chars[index] in past):
        index += step
    return chars[index] if 0 <= index < len(chars) else None


def quotes_balanced(text: str) -> bool:
    """Whether the paragraph's quotation marks pair up: every one closed, none closed unopened,
    straight ones counted as neither."""
    for family in (DOUBLE, SINGLE):
        depth = 0
        opening, closing = family.opening, family.closing
        for ch in family.marks.findall(text):
            if ch in opening:
                depth += 1
            elif ch in closing:
                depth -= 1
                if depth < 0:
                    return False
        if depth:
            return False
    return True
