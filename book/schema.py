"""schema: the keys of book.yaml, each with its accepted types, its default and what it does.

config.py validates a book's configuration against SCHEMA; `init` writes its comments from it,
and a test checks the README's book.yaml reference against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

DEFAULT_TRIM = "大32开"


@dataclass(frozen=True)
class Option:
    """One key of book.yaml: its accepted types, its default and what it does."""

    types: tuple[type, ...]
    default: Any
    help: str
    required: bool = False


# The schema of book.yaml. README's reference is checked against it.
SCHEMA: dict[str, Option] = {
    "seeds": Option(
        (list, str),
        None,
        "Seed files, relative to book.yaml, in reading order: text (.txt), Markdown (.md), Word (.docx), saved web "
        "pages (.html) or EPUBs (.epub); a pattern (seeds/*.txt) takes its files in name order.",
        True,
    ),
    "split": Option(
        (str,),
        "headings",
        "What makes a chapter: headings (each heading in the seeds opens one), seeds (each seed is one "
        "chapter, its headings become sections) or parts (each seed is a part, its headings open its chapters).",
    ),
    "encoding": Option(
        (str,), None, "Encoding of the seeds, e.g. gb18030 or big5; default: detected (UTF-8, UTF-16, GB18030, Big5)."
    ),
    "slug": Option((str,), None, "Name of the output files (dist/<slug>.epub); default: the first seed's name."),
    "title": Option((str,), None, "Book title; default: the first heading-like line of the first seed."),
    "subtitle": Option((str,), "", "Subtitle."),
    "authors": Option(
        (list,),
        None,
        "Creators: names, or {name, role, organization}; role is 作者/记者/通讯员/编辑/译者/摄影 or a "
        "MARC code (aut, ctb, edt, trl, pht). Default: the bylines found in the text.",
    ),
    "series": Option((str, dict), None, "Series: a name, or {name, position}, e.g. {name: 株洲记忆, position: 3}."),
    "edition": Option(
        (str,), "", "Edition for the copyright page's 版次, e.g. 第2版 (default 第1版), dated by `date`."
    ),
    "printing": Option((int,), 1, "Printing (印次) for the print book's copyright page: 2 gives 第2次印刷."),
    "price": Option((str,), "", "Price (定价) for the copyright page, e.g. 48.00元; left out when not given."),
    "convert": Option(
        (str,),
        None,
        "Convert the script with OpenCC: s2t, s2tw, s2twp, s2hk, t2s, tw2s, tw2sp, hk2s, t2tw, t2hk; quotation "
        "marks follow the target (「」 for Traditional, “” for Simplified).",
    ),
    "language": Option(
        (str,),
        "",
        "Language tag: zh-CN (Simplified), zh-Hant, zh-TW or zh-HK (Traditional); default: from the text's script.",
    ),
    "publisher": Option((str,), "", "Publisher."),
    "description": Option((str,), "", "Description (blurb)."),
    "subjects": Option((list,), [], "Subjects (keywords)."),
    "rights": Option((str,), "", "Rights statement, e.g. 版权所有 © 2022 株洲日报."),
    "isbn": Option((str,), "", "ISBN-13; used as the identifier when given."),
    "date": Option(
        (str, dt.date),
        None,
        "Publication date, YYYY-MM-DD; default: SOURCE_DATE_EPOCH, else the newest seed's modification time.",
    ),
    "lead_title": Option((str,), "导语", "Title of the chapter made from text before the first heading."),
    "chapter_titles": Option((dict,), {}, "Chapter titles to replace, by chapter number: {1: 导语}."),
    "trim": Option((str, dict), DEFAULT_TRIM, "Trim size: 大32开, 32开, A5, 16开 or {width: mm, height: mm}."),
    "cover": Option(
        (str,), None, "Cover image (PNG or JPEG), relative to book.yaml; default: one generated from the metadata."
    ),
    "backmatter": Option(
        (list,),
        [],
        "Back matter after the chapters: a list of {title, text or file, type}; type is afterword (default), "
        "colophon, appendix or epilogue. E.g. [{title: 后记, file: afterword.txt}].",
    ),
    "epub": Option((dict,), {}, "EPUB options: {writing_mode: horizontal-tb or vertical-rl}."),
    "pdf": Option(
        (dict,),
        {},
        "PDF options: {standard: PDF/X-4 or PDF/X-1a, output_profile: CMYK .icc, output_condition: name, "
        "screen: true (also dist/<slug>-screen.pdf), cover: true (also dist/<slug>-cover.pdf), "
        "paper_thickness: mm per leaf (0.1)}.",
    ),
    "styles": Option((str,), "styles", "Folder of template and CSS overrides, relative to book.yaml."),
    "embed_fonts": Option((bool,), True, "Embed font subsets in the EPUB."),
    "missing_glyphs": Option(
        (str,),
        "fail",
        "A character no face of the book has: fail (the print build stops, naming it and where it is) "
        "or allow (it is reported; print sets it in a system font, or as a box).",
    ),
    "body_font": Option(
        (str,),
        None,
        "A font file (.otf, .ttf) relative to book.yaml that replaces the body face (Noto Serif CJK SC).",
    ),
    "heading_font": Option(
        (str,),
        None,
        "A font file (.otf, .ttf) relative to book.yaml that replaces the heading face (Noto Sans CJK SC Bold).",
    ),
    "fallback_font": Option(
        (str,),
        None,
        "A font file (.otf, .ttf) relative to book.yaml, for the characters the book's faces lack; embedded like them.",
    ),
    "cruft": Option((list,), [], "Extra regular expressions; a line that matches one whole is removed."),
}
