"""publish.py init: a new book folder that builds at once, with every book.yaml option explained."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import OutputError
from .schema import SCHEMA

SAMPLE = """我的第一本书

作者/佚名

这是一本示例书。把你的文字放进 seeds 文件夹，在 book.yaml 里写上文件名，再运行 python publish.py。

第一章　开始

段落之间空一行。标题单独成行，不以句号结尾。“引号”、省略号……和破折号——都会按中文排版规则处理。

第二章　继续

英文单词如 Python 和数字 2024 与汉字之间会自动留出四分之一字宽的空隙，但文字本身不会被改动。
"""

STYLES_README = """This book's changes to the project's templates and stylesheets.

print/extra.css and epub/extra.css are read after the project's stylesheets: put in them the few
rules this book sets otherwise, and the book keeps every later fix of the rest.
A file of the same path as one of the project's (shared.css, print/print.css, print/book.html,
epub/chapter.xhtml, ...) replaces that file whole.
"""

EXTRA_CSS = """/* This book's print rules, read after the project's print.css. For example: */

/* Chapter titles larger: */
/* .chapter-title { font-size: 18pt; } */

/* Body text a little looser: */
/* body { line-height: 1.8; } */
"""


def book_yaml() -> str:
    """A book.yaml that names the sample seed and lists every other option, commented out, with its default."""
    lines = ["# The book's configuration. Every option is listed; remove the # to use one.", ""]
    for key, option in SCHEMA.items():
        lines.append(f"# {key}: {option.help}")
        if key == "seeds":
            lines += ["seeds:", "  - seeds/sample.txt", ""]
            continue
        if option.default is None:
            lines += [f"# {key}:", ""]
            continue
        default = yaml.safe_dump({key: option.default}, allow_unicode=True, default_flow_style=True).strip()
        lines += [f"# {default[1:-1]}", ""]
    return "\n".join(lines)


def create_book(folder: Path) -> list[Path]:
    """Write a new book into `folder`; refuse to overwrite anything that exists."""
    files = {
        folder / "book.yaml": book_yaml(),
        folder / "seeds" / "sample.txt": SAMPLE,
        folder / "styles" / "README": STYLES_README,
        folder / "styles" / "print" / "extra.css": EXTRA_CSS,
    }
    existing = [path for path in files if path.exists()]
    if existing:
        raise OutputError(
            f"{len(existing)} file(s) exist already: {', '.join(map(str, existing))}",
            where=str(folder),
            fix="choose a new folder; init never overwrites",
        )
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", where=str(folder), fix="choose a writable folder") from exc
    return list(files)
