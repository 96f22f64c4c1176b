"""colophon: the copyright page (版权页) as a Chinese book sets it.

书名, the creators with their roles (著者, 译者 …), 丛书, 出版发行, 开本, 印张, 字数, 版次, 印次, 书号 and
定价, each line left out where it has no value. The EPUB's page has no print-only line (开本, 印张,
印次, 定价 stays: it is the book's price).

- 开本: a named trim is its sheet and fold (大32开: 850 mm × 1168 mm 1/32); another trim, its size in mm.
- 印张: the printed pages over the fold (a 1/32 book's sheet holds 32 pages), rounded up to the half
  sheet. The pages are known only once the book is laid out: the front matter is set with an
  estimate, and `with_sheets` puts the true figure in before the PDF is written.
- 字数: the text's characters, white space not counted, in thousands (千字), rounded up.
- 版次 and 印次: from book.yaml's edition and printing, dated by the book's date (2024年1月第1版).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import markupsafe

from .model import Manuscript
from .script import to_script

# A named trim: the full sheet it is cut from, and how many pages of it a sheet holds.
SHEETS_OF_TRIMS = {
    (140, 203): ("850 mm × 1168 mm", 32),  # 大32开
    (130, 184): ("787 mm × 1092 mm", 32),  # 32开
    (148, 210): ("880 mm × 1230 mm", 32),  # A5
    (185, 260): ("787 mm × 1092 mm", 16),  # 16开
}
ROLE_LABELS = {"aut": "著者", "trl": "译者", "edt": "编者", "ctb": "参与", "pht": "摄影", "ill": "绘者"}
_SHEETS = re.compile(r'(<span class="sheets" data-fold="(\d+)">)[^<]*(</span>)')


@dataclass(frozen=True)
class Line:
    """One line of the copyright page: its label (with the colon) and its value."""

    label: str
    value: str | markupsafe.Markup


def copyright_lines(
    manuscript: Manuscript,
    trim: tuple[float, float],
    *,
    printed: bool,
    pages: int = 0,
) -> list[Line]:
    """The copyright page's lines, in the order Chinese books give them; `printed`: the print
    book's (with 开本, 印张 and 印次), else the EPUB's. `pages`: the print book's, or an estimate."""
    meta = manuscript.metadata

    def t(text: str) -> str:
        return to_script(text, meta.language)

    title = meta.title + (f"——{meta.subtitle}" if meta.subtitle else "")
    lines = [Line(t("书名："), title)]
    by_role: dict[str, list[str]] = {}
    for creator in meta.creators:
        label = creator.label or ROLE_LABELS.get(creator.role, "著者")
        where = f"（{creator.organization}）" if creator.organization else ""
        by_role.setdefault(label, []).append(creator.name + where)
    lines += [Line(t(f"{label}："), "　".join(names)) for label, names in by_role.items()]
    if meta.series:
        lines.append(Line(t("丛书："), meta.series + (f"（{meta.series_position}）" if meta.series_position else "")))
    if meta.publisher:
        lines.append(Line(t("出版发行："), meta.publisher))
    if printed:
        sheet, fold = SHEETS_OF_TRIMS.get((round(trim[0]), round(trim[1])), ("", 0))
        lines.append(Line(t("开本："), f"{sheet} 1/{fold}" if sheet else f"{trim[0]:g} mm × {trim[1]:g} mm"))
        if fold:
            value = markupsafe.Markup('<span class="sheets" data-fold="{}">{}</span>').format(fold, sheets(pages, fold))
            lines.append(Line(t("印张："), value))
    characters = sum(len("".join(b.text.split())) for c in manuscript.chapters for b in c.blocks)
    lines.append(Line(t("字数："), t(f"{math.ceil(characters / 1000)}千字")))
    year, month = _year_month(meta.date)
    dated = f"{year}年{month}月" if year else ""
    lines.append(Line(t("版次："), t(f"{dated}{meta.edition or '第1版'}")))
    if printed:
        lines.append(Line(t("印次："), t(f"{dated}第{meta.printing}次印刷")))
    if meta.identifier.startswith("urn:isbn:"):
        lines.append(Line(t("书号："), "ISBN " + meta.identifier.removeprefix("urn:isbn:")))
    if meta.price:
        lines.append(Line(t("定价："), meta.price))
    return lines


def sheets(pages: int, fold: int) -> str:
    """印张: the pages over the fold, rounded up to the half sheet (13 and 12.5, never 12.53)."""
    return f"{math.ceil(2 * pages / fold) / 2:g}" if pages and fold else "—"


def with_sheets(html: str, pages: int) -> str:
    """The copyright page's 印张 set for a book of `pages` pages (the front matter was set with an
    estimate). The pages do not change: the figure takes the place of the estimate's."""
    return _SHEETS.sub(lambda m: f"{m[1]}{sheets(pages, int(m[2]))}{m[3]}", html)


def _year_month(date: str) -> tuple[int, int]:
    match = re.match(r"(\d{4})-(\d{2})", date or "")
    return (int(match[1]), int(match[2])) if match else (0, 0)
