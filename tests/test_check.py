"""`publish.py check` judges lines against the page's own type area (issue #26, item 3).

It took the right edge from the commonest line width, which in a book of short paragraphs is the
indented first line: a three-chapter book whose lines were all flush failed justification at 0 %,
and a Markdown book's lists and quotation were read as paragraphs with a wrong indent.
"""

from __future__ import annotations

from pathlib import Path

from book.build import build, type_areas
from book.check import Check, check_pdf
from book.config import load_config
from tests.helpers import MARKDOWN, write_book

SHORT = "".join(
    f"# 第{n}章\n\n"
    + "".join(f"这是第{n}章的第{p}段，它只有两行左右的文字，用来检查短段落的对齐。\n\n" for p in range(3))
    for n in "一二三"
)


def _checks(folder: Path, seeds: dict[str, str], extra: str = "") -> dict[str, Check]:
    config = load_config(write_book(folder, seeds, extra))
    result = build(config, folder / "dist", ("pdf",))
    return {c.name: c for c in check_pdf(result.outputs["pdf"], config.trim, type_areas(config))}


def test_a_short_book_whose_lines_are_flush_passes(tmp_path: Path) -> None:
    checks = _checks(tmp_path, {"book.md": SHORT})
    failed = {name: c for name, c in checks.items() if not (c.passed or c.advisory)}
    assert not failed, failed
    assert checks["justification"].figure.startswith("100.0% of 9 lines"), checks["justification"]
    assert checks["first-line indent"].figure == "2.00 em over 9 paragraphs", checks["first-line indent"]


def test_a_markdown_book_with_notes_lists_and_a_quotation_passes(tmp_path: Path) -> None:
    checks = _checks(
        tmp_path, {"book.md": MARKDOWN + "\n" + SHORT.split("# 第二章")[0].replace("# 第一章", "# 第三章")}
    )
    failed = {name: c for name, c in checks.items() if not (c.passed or c.advisory)}
    assert not failed, failed


def test_ragged_lines_and_a_missing_indent_fail(tmp_path: Path) -> None:
    """The same short book set ragged and without indents: both rows fail, naming the lines."""
    extra = "styles: styles\n"
    styles = tmp_path / "styles" / "print"
    styles.mkdir(parents=True)
    (styles / "extra.css").write_text("p { text-align: left; text-indent: 0; }\n", encoding="utf-8")
    checks = _checks(tmp_path, {"book.md": SHORT.replace("，用来", "，用来用来")}, extra)
    assert not checks["first-line indent"].passed, checks["first-line indent"]
    assert checks["first-line indent"].examples[0].endswith("0.00 em")
    assert not checks["justification"].passed, checks["justification"]
