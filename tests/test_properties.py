"""Property tests of the normalizer (hypothesis): idempotent, no Han character lost, valid XML."""

from __future__ import annotations

from xml.etree import ElementTree
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from book.model import Manuscript
from book.report import manuscript_text
from book.text import fix_punctuation, han_characters

from .helpers import normalize_text, summary

# Text that looks like seeds: Han, CJK and ASCII punctuation, digits, Latin, bullets, indents,
# blank lines, and characters XML forbids.
PIECES = st.sampled_from(
    [
        "中",
        "文",
        "书",
        "第一章",
        "记者/",
        "上一篇",
        "• ",
        "\u3000\u3000",
        "  ",
        "\n",
        "\n\n",
        "\r\n",
        "，",
        "。",
        ",",
        ".",
        "?",
        "!",
        ":",
        ";",
        "(",
        ")",
        '"',
        "'",
        "“",
        "”",
        "...",
        "--",
        "……",
        "——",
        "2.5",
        "1,681",
        "abc",
        "http://a.b/c?d=1",
        "\x00",
        "\x07",
        "\ufffe",
        "\ud800",
        "𠀀",
        "\t",
    ]
)
SEED_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=60).map("".join)


def kept_text(manuscript: Manuscript) -> str:
    meta = manuscript.metadata
    parts = [meta.title, *(c.organization + c.label + c.name for c in meta.creators)]
    for chapter in manuscript.chapters:
        parts.append(chapter.title if chapter.title_line else "")
        parts.extend(b.text for b in chapter.blocks)
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEED_TEXT)
def test_no_han_character_is_lost_or_reordered(text: str) -> None:
    manuscript = normalize_text(text, name="seed.txt")
    removed = {f.line for f in manuscript.findings_of("removed")}
    source = "".join(line for n, line in enumerate(text.splitlines(), 1) if n not in removed)
    title_from_text = manuscript.findings_of("title")
    kept = kept_text(manuscript) if title_from_text else kept_text(manuscript).removeprefix("seed")
    if manuscript.findings_of("byline"):  # a byline under a heading moves to the creators, ahead of it
        assert sorted(han_characters(kept)) == sorted(han_characters(source))
    else:
        assert han_characters(kept) == han_characters(source)


@settings(max_examples=300, deadline=None)
@given(SEED_TEXT)
def test_output_is_always_valid_xml_text(text: str) -> None:
    manuscript = normalize_text(text)
    for piece in (
        manuscript.metadata.title,
        *(c.name for c in manuscript.metadata.creators),
        *(c.title for c in manuscript.chapters),
        *(b.text for c in manuscript.chapters for b in c.blocks),
    ):
        element = ElementTree.fromstring(f"<p>{escape(piece)}</p>".encode())
        assert (element.text or "") == piece


@settings(max_examples=300, deadline=None)
@given(SEED_TEXT)
@example("-\u00a0")  # a list marker with nothing after it once made an empty paragraph
@example(",。。。")  # the comma turned full-width made the stops an ellipsis only on a second run
def test_normalizing_twice_changes_nothing(text: str) -> None:
    once = normalize_text(text, name="seed.txt")
    twice = normalize_text(manuscript_text(once), name="seed.txt")
    assert summary(twice).split("removed:")[0] == summary(once).split("removed:")[0]


@settings(max_examples=500, deadline=None)
@given(SEED_TEXT)
def test_punctuation_fix_is_idempotent_and_keeps_han(text: str) -> None:
    fixed, _ = fix_punctuation(text)
    assert fix_punctuation(fixed)[0] == fixed
    assert han_characters(fixed) == han_characters(text)


PARAGRAPH = st.text(st.sampled_from(list("中文书写，。、：「」天地玄黄宇宙洪荒")), min_size=1, max_size=400)


@settings(max_examples=200, deadline=None)
@given(st.lists(PARAGRAPH, min_size=4, max_size=30), st.integers(20, 40), st.booleans())
def test_a_hard_wrapped_text_is_joined_into_its_paragraphs(paragraphs: list[str], width: int, blank: bool) -> None:
    """Paragraphs wrapped at a fixed width, as Gutenberg files are, come back whole, whatever the
    width; separated by blank lines, or each opened by an indent."""
    from book.unwrap import PhysicalLine, find_wraps, join_lines

    raw: list[str] = []
    for paragraph in paragraphs:
        wrapped = [paragraph[i : i + width] for i in range(0, len(paragraph), width)]
        if blank:
            raw += [*wrapped, ""]
        else:
            raw += ["\u3000\u3000" + wrapped[0], *wrapped[1:]]
    lines = [PhysicalLine(number, text) for number, text in enumerate(raw, start=1)]
    wraps = find_wraps(lines, lambda text: False)
    joined = [line.text for line in join_lines(lines, wraps, is_rule=lambda t: False, is_heading=lambda t: False)]
    full_lines = sum(len(p) // width - (len(p) % width == 0) for p in paragraphs)
    if full_lines >= 3 and full_lines >= 0.2 * len(raw):  # wrapped enough to be told from verse
        assert joined == paragraphs
    else:
        assert "".join(joined) == "".join(paragraphs)  # whatever it decides, nothing is lost
