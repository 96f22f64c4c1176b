"""Pure `str -> str` text transforms of the normalizer: punctuation forms and XML safety.

Rules: GB/T 15834—2011 (punctuation) and W3C clreq; see ../shared/docs/typesetting.md.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from .quotes import turn_straight_quotes

IDEOGRAPHIC_SPACE = "\u3000"
ELLIPSIS = "\u2026\u2026"  # 省略号 is two U+2026 (GB/T 15834 §4.11)
DASH = "\u2014\u2014"  # 破折号 is two U+2014 (GB/T 15834 §4.9)
LEFT_DOUBLE, RIGHT_DOUBLE = "\u201c", "\u201d"
LEFT_SINGLE, RIGHT_SINGLE = "\u2018", "\u2019"
# Taiwan and Hong Kong (zh-Hant) quote with corner brackets: 「」 first level, 『』 second (clreq §3.1.5).
LEFT_CORNER, RIGHT_CORNER = "\u300c", "\u300d"
LEFT_WHITE_CORNER, RIGHT_WHITE_CORNER = "\u300e", "\u300f"
TRADITIONAL_TAGS = ("zh-TW", "zh-HK", "zh-MO", "zh-Hant")


def is_traditional(language: str) -> bool:
    """Whether a language tag names Traditional Chinese (zh-TW, zh-HK, zh-Hant …)."""
    return language.startswith(TRADITIONAL_TAGS)


HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Full-width and CJK punctuation that makes a neighbouring ASCII mark "inside Chinese text".
CJK_PUNCTUATION = "\u3001-\u3011\u3014-\u301f\uff01-\uff0f\uff1a-\uff20\u2018\u2019\u201c\u201d\u2026\u2014\u00b7"
HAN = f"[{HAN_RANGES}]"
CJK = f"[{HAN_RANGES}{CJK_PUNCTUATION}]"
_HAN_RE = re.compile(HAN)

# clreq "Prohibition Rules for Line Start and Line End", level basic.
LINE_START_PROHIBITED = "、，；：。！？”’）》〉」』】〕〗…—·：；！？，。"
LINE_END_PROHIBITED = "“‘（《〈「『【〔〖"

# ASCII marks and their full-width forms (GB/T 15834 §4: Chinese text uses full-width marks).
FULL_WIDTH = {",": "，", "?": "？", "!": "！", ";": "；", ":": "："}

# Characters XML 1.0 forbids (§2.2 Char), plus noncharacters (U+FDD0–U+FDEF, U+FFFE/U+FFFF, the
# last two of each plane). Private-use characters have a pass of their own (leftovers.py).
_XML_INVALID = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
# Bidirectional embedding, override and isolate controls: they must come in pairs.
_BIDI_OPEN = {
    "\u202a": "\u202c",
    "\u202b": "\u202c",
    "\u202d": "\u202c",
    "\u202e": "\u202c",
    "\u2066": "\u2069",
    "\u2067": "\u2069",
    "\u2068": "\u2069",
}
_BIDI_CLOSE = {"\u202c", "\u2069"}
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def han_characters(text: str) -> str:
    """The Han characters of `text`, in order."""
    return "".join(_HAN_RE.findall(text))


def remove_xml_invalid(text: str) -> tuple[str, int]:
    """Remove characters that cannot appear in XML 1.0 and unpaired bidi controls; return the text
    and how many were removed."""
    text, removed = _XML_INVALID.subn("", text)
    if not _BIDI_CONTROL.search(text):
        return text, removed
    keep = [True] * len(text)
    stack: list[int] = []
    for index, ch in enumerate(text):
        if ch in _BIDI_OPEN:
            stack.append(index)
        elif ch in _BIDI_CLOSE:
            if stack and _BIDI_OPEN[text[stack[-1]]] == ch:
                stack.pop()
            else:
                keep[index] = False
    for index in stack:
        keep[index] = False
    kept = "".join(ch for ch, k in zip(text, keep, strict=True) if k)
    return kept, removed + keep.count(False)


_MARK_NEXT_TO_CJK = re.compile(f"[,?!;:](?<={CJK}[,?!;:])[,?!;:]*|[,?!;:]+(?={CJK})")
# A full stop ends a Chinese sentence after a Han character or a closing mark (`）.` `的.”`); the
# full-width `．` some e-texts use as one becomes `。` there too (GB/T 15834 §4.1.1). Between digits
# `．` is a decimal point.
_CHINESE_END = f"[{HAN_RANGES}）”’」』》〉】]"
# Each pattern begins with the mark it matches, its look-behind after it: the regex engine then
# skips to the next mark, where a leading look-behind would be tried at every character.
_FULL_STOP = re.compile(f"[.．](?<={_CHINESE_END}[.．])(?=$|\\s|{CJK})")
_DECIMAL_POINT = re.compile("．(?<=[0-9]．)(?=[0-9])")
# An ASCII full stop after a Latin word ends a Chinese sentence when that sentence began in Chinese
# (`作者是 Ernest Hemingway.` then Chinese or the paragraph's end); `Mr.`, `v1.2`, URLs and whole
# Latin sentences keep theirs.
_LATIN_STOP = re.compile(f"\\.(?<=[A-Za-z]\\.)(?:\\s*(?=[{HAN_RANGES}“‘「『（《])|(?=[”’」』）》]*$))")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|vs|etc|Inc|Ltd|Co|No|Vol|pp|e\.g|i\.e)|\b[A-Z]|\S*[/@:]\S*)$"
)
_SENTENCE_START = re.compile("[。！？!?]|\\.(?=\\s)")
_ELLIPSIS = re.compile(f"(?<={CJK})(?:\\.{{3,}}|。{{3,}}|(?<!\u2026)\u2026(?!\u2026))|(?:\\.{{3,}}|。{{3,}})(?={CJK})")
_DASH = re.compile(f"(?<={CJK})(?:-{{2,}}|(?<!\u2014)\u2014(?!\u2014))(?={CJK})")
_LONE_ELLIPSIS = re.compile("(?<!\u2026)\u2026(?!\u2026)")  # what _ELLIPSIS needs besides ... and 。。。
_LONE_DASH = re.compile("(?<!\u2014)\u2014(?!\u2014)")  # what _DASH needs besides --
_ASCII_MARK = re.compile("[,?!;:]")
_PARENS = re.compile(r"\(([^()]*)\)")
_CURLY_DOUBLE = re.compile("\u201c([^\u201c\u201d]*)\u201d")
_CURLY_SINGLE = re.compile("(?<![A-Za-z])\u2018([^\u2018\u2019]*)\u2019(?![A-Za-z])")


# A text with none of these has nothing fix_punctuation changes (its rules all start from one).
_ASCII_LEFT = re.compile("[,?!;:.()\"'-]")
_CANDIDATE = re.compile("[,?!;:.．()\"'\u2026\u2014\ufe50-\ufe57-]|。。。")
_CURLY_QUOTE = re.compile("[,?!;:.．()\"'\u2026\u2014\u201c\u201d\u2018\u2019\ufe50-\ufe57-]|。。。")


_FULLWIDTH_ALNUM = str.maketrans(
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ０１２３４５６７８９",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
)
_FULLWIDTH_ALNUM_RE = re.compile("[Ａ-Ｚａ-ｚ０-９]")


def halfwidth_alphanumerics(text: str) -> tuple[str, int]:
    """Full-width Latin letters and digits made half-width (`ＶＩＰ` → `VIP`, `２０１２年` → `2012年`),
    as GB/T 15835—2011 §4.2 asks; and how many were changed."""
    if not _FULLWIDTH_ALNUM_RE.search(text):
        return text, 0
    return text.translate(_FULLWIDTH_ALNUM), len(_FULLWIDTH_ALNUM_RE.findall(text))


# Small form variants (U+FE50–FE57) that some e-texts set for full-width marks: ﹔ for ；.
SMALL_FORMS = str.maketrans("﹐﹑﹒﹔﹕﹖﹗", "，、．；：？！")
_SMALL_FORM = re.compile("[﹐﹑﹒﹔﹕﹖﹗]")


def fix_punctuation(text: str, *, traditional: bool = False, markdown: bool = False) -> tuple[str, Counter[str]]:
    """Use full-width Chinese punctuation inside Chinese text; count each change by its result.

    GB/T 15834 and clreq: in Chinese text `, ? ! ; :` are `， ？ ！ ； ：`, a sentence ends
    with `。`, the ellipsis is `……` and the dash `——`, quotation marks are curly and paired.
    Numbers (`2.5`, `1,681`, `11:30`), URLs and runs of Latin text are left alone: a mark
    changes only when a neighbour is Chinese. With `traditional`, quotes are corner brackets
    「」 and 『』, curly quotes included.
    """
    changes: Counter[str] = Counter()
    if not (_CURLY_QUOTE if traditional else _CANDIDATE).search(text):
        return text, changes  # no mark any rule below would change
    # Each pass turns ASCII marks into full-width ones, which can make a neighbouring mark
    # "next to Chinese" (`中,...`, `,。。。`): repeat until nothing changes, so the fix is
    # idempotent. Only an ASCII mark or an ellipsis written with stops can change in a later pass:
    # without one left, the text is done.
    while True:
        fixed = _fix_punctuation_once(text, changes, traditional, markdown)
        if fixed == text or not (_ASCII_LEFT.search(fixed) or "。。。" in fixed):
            return fixed, changes
        text = fixed


def _fix_punctuation_once(text: str, changes: Counter[str], traditional: bool, markdown: bool) -> str:
    def count(result: str):
        def replace(match: re.Match[str]) -> str:
            changes[result] += 1
            return result

        return replace

    if _SMALL_FORM.search(text):
        for mark in _SMALL_FORM.findall(text):
            changes[mark.translate(SMALL_FORMS)] += 1
        text = text.translate(SMALL_FORMS)
    # Straight quotes first: a quote turned curly is Chinese, and so are the marks beside it.
    if '"' in text or "'" in text:
        text, turned = turn_straight_quotes(text, markdown=markdown)
        changes.update(turned)
    # Each rule runs only on a text that has its marks (the scans with lookbehinds are slow): a
    # Chinese text's own …… and —— are no business of the ellipsis and dash rules.
    if "..." in text or "。。。" in text or (ELLIPSIS[0] in text and _LONE_ELLIPSIS.search(text)):
        # Until nothing changes: an ellipsis made next to another (`...。。。`) makes that one a
        # neighbour of Chinese text, which a single pass, reading the text as it was, did not see.
        while (made := _ELLIPSIS.sub(count(ELLIPSIS), text)) != text:
            text = made
    if "--" in text or (DASH[0] in text and _LONE_DASH.search(text)):
        text = _DASH.sub(count(DASH), text)
    if _ASCII_MARK.search(text):
        # A run of marks converts as a whole (`中,,` → `中，，`), so a second pass changes nothing.
        text = _MARK_NEXT_TO_CJK.sub(lambda m: "".join(count(FULL_WIDTH[c])(m) for c in m[0]), text)
    if "." in text or "．" in text:
        text = _FULL_STOP.sub(count("。"), text)
        text = _DECIMAL_POINT.sub(count("."), text)
        text = _LATIN_STOP.sub(lambda m: _latin_stop(m, changes), text)
        # A stop made next to others (`中.。。`) is an ellipsis written with stops.
        while "。。。" in text and (made := _ELLIPSIS.sub(count(ELLIPSIS), text)) != text:
            text = made
    if "(" in text:
        text = _PARENS.sub(lambda m: _wrap_if_chinese(m, "（", "）", changes), text)
    if _HAN_RE.search(text):
        double = (LEFT_CORNER, RIGHT_CORNER) if traditional else (LEFT_DOUBLE, RIGHT_DOUBLE)
        single = (LEFT_WHITE_CORNER, RIGHT_WHITE_CORNER) if traditional else (LEFT_SINGLE, RIGHT_SINGLE)
        if traditional and LEFT_DOUBLE in text:
            text = _CURLY_DOUBLE.sub(lambda m: _wrap_if_chinese(m, *double, changes), text)
        if traditional and LEFT_SINGLE in text:
            text = _CURLY_SINGLE.sub(lambda m: _wrap_if_chinese(m, *single, changes), text)
    return text


def _latin_stop(match: re.Match[str], changes: Counter[str]) -> str:
    """`。` for a full stop after a Latin word that ends a sentence begun in Chinese; else as it was."""
    before = match.string[: match.start()]
    sentence = _SENTENCE_START.split(before)[-1]
    if _ABBREVIATION.search(before) or not _HAN_RE.search(sentence):
        return match[0]
    changes["。"] += 1
    return "。"


def _wrap_if_chinese(match: re.Match[str], left: str, right: str, changes: Counter[str]) -> str:
    """Replace a bracketing pair when its content or a neighbour is Chinese."""
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if _HAN_RE.search(match[1]) or re.match(CJK, before) or re.match(CJK, after):
        changes[left + right] += 1
        return f"{left}{match[1]}{right}"
    return match[0]


# Full-width marks whose ink sits on the left (blank on the right) and on the right (blank on
# the left), for clreq "Punctuation Width Adjustment". Centred marks (·) are neither.
CLOSING_MARKS = "，。、；：！？”’）》〉」』】〕〗"
OPENING_MARKS = "“‘（《〈「『【〔〖"
_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,%+\-/:'’@#&_]*[A-Za-z0-9%]|[A-Za-z0-9]")


# A closing mark before another mark, or an opening mark after another opening mark. Each branch
# begins with the mark it matches, so that the regex engine skips ahead to the next mark (a
# branch that begins with a look-behind is tried at every character): 25 % faster on 红楼梦.
_HALT = re.compile(
    f"[{CLOSING_MARKS}](?=[{CLOSING_MARKS}{OPENING_MARKS}])"  # a closing mark before a mark
    f"|[{OPENING_MARKS}](?<=[{OPENING_MARKS}]{{2}})"  # an opening mark after an opening mark
)
_LATIN_ROLES = {(True, True): "latin-both", (True, False): "latin-before", (False, True): "latin-after"}


def halt_positions(text: str, limit: int | None = None) -> list[int]:
    """Where a full-width mark is set in half width (OpenType halt) because it meets another mark;
    the first `limit` of them, if given.

    clreq "Punctuation Width Adjustment": `。”` `”，` `：“` `）。` take 1.5 em; the blank half of the
    closing mark before, or of the opening mark after, is removed. book.pdf.justify applies it as the
    text is shaped, where the whole line and the character after it are known."""
    return [match.start() for match in itertools.islice(_HALT.finditer(text), limit)]


# A single mark between Han characters that a line may set in half width to hold its text (clreq
# "Line Adjustment": compress punctuation before spreading the characters): a pause or a closing
# mark before a Han character, an opening mark after one. ！ and ？ stay full: their weight needs
# the room. (Marks that meet another are halved anyway: halt_positions.)
# Each branch begins with the mark it matches, so that the regex engine skips ahead to the next
# mark (as _HALT below).
_SQUEEZABLE = re.compile(f"[，。、；：”’）》〉」』】〕〗](?={HAN})|[“‘（《〈「『【〔〖](?<={HAN}.)")


def squeezable_marks(text: str) -> list[int]:
    """Where a line of `text` may set a full-width mark in half width to fit (_SQUEEZABLE)."""
    return [match.start() for match in _SQUEEZABLE.finditer(text)]


def plan_cjk_spacing(text: str) -> list[tuple[str, str]]:
    """Cut `text` into (text, role) segments for print typesetting; the text is unchanged.

    role "latin-before" / "latin-after" / "latin-both": a run of Latin letters or digits next to
    Han characters, which gets a ¼-em gap on that side (clreq "Mixed Text Composition").
    role "": plain text.
    """
    segments: list[tuple[str, str]] = []
    start = 0  # where the text not yet cut begins
    for match in _LATIN_RUN.finditer(text):
        before = match.start() > 0 and bool(_HAN_RE.match(text[match.start() - 1]))
        after = match.end() < len(text) and bool(_HAN_RE.match(text[match.end()]))
        if role := _LATIN_ROLES.get((before, after)):
            if start < match.start():
                segments.append((text[start : match.start()], ""))
            segments.append((match[0], role))
            start = match.end()
    if start < len(text):
        segments.append((text[start:], ""))
    return segments


_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(numeral: str) -> int | None:
    """The value of a chapter number: 十二 → 12, 一十 → 10, 一一九 → 119 (digit by digit), 12 → 12."""
    numeral = numeral.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if numeral.isdigit():
        return int(numeral)
    if not numeral or any(ch not in _DIGITS and ch not in _UNITS for ch in numeral):
        return None
    if not any(ch in _UNITS for ch in numeral):
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total, digit = 0, None
    for ch in numeral:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return total + (digit or 0)


# A clause of verse: five or seven Han characters and the mark that ends it.
_VERSE_CLAUSE = re.compile(f"({HAN}{{5}}|{HAN}{{7}})[，。！？；]")


def verse_lines(text: str) -> list[str] | None:
    """The lines of a paragraph that is verse, a couplet each (满纸荒唐言，一把辛酸泪！); None for
    prose. Verse: four clauses or more, all of five Han characters or all of seven, an even count,
    and nothing else. Verse is set line by line, not justified to the measure (issue #27)."""
    clauses = [match[0] for match in _VERSE_CLAUSE.finditer(text)]
    if len(clauses) < 4 or len(clauses) % 2 or "".join(clauses) != text or len({len(c) for c in clauses}) > 1:
        return None
    return ["".join(clauses[i : i + 2]) for i in range(0, len(clauses), 2)]
