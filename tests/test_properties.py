"""Property tests of the normalizer (hypothesis): idempotent, no Han character lost, valid XML."""

from __future__ import annotations

from xml.etree import ElementTree
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from book.model import Manuscript
from book.report import manuscript_text
from book.text import fix_punctuation, han_characters

from .test_normalize import normalize_text, summary

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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(["中", "a", "，", " ", "\u0301", "ｱ"]), min_size=15, max_size=45), max_size=12))
@example(["a" * 45, "中" * 30, "中" * 29 + "a", "中" * 28 + "aa", "中" * 29, "x"])  # the widest is not the longest
def test_a_hard_wrap_is_found_as_if_every_line_were_measured(lines: list[str]) -> None:
    from book.normalize import _wrap_width, display_width

    # _wrap_width measures only the lines that can matter; measuring every one must agree.
    widths = [display_width(line) for line in lines]
    expected = None
    if widths:
        threshold = int(max(widths) * 0.9)
        near = [i for i, w in enumerate(widths) if w >= threshold and i + 1 < len(lines) and lines[i + 1].strip()]
        expected = threshold if max(widths) >= 40 and len(near) >= 3 else None
    assert _wrap_width(lines) == expected
