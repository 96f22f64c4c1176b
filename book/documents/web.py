"""Saved web pages (.html): the article found by trafilatura, the field's reference extractor; the
page's own metadata (<title>, og:* and article:* meta tags, JSON-LD) for title, author and site.

trafilatura keeps the article and drops navigation, comments, share buttons and related lists;
what it dropped is counted here from the page itself, block by block, and each kind is reported.
Our own cruft and byline rules then run on the article's text, as on any seed."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

from ..errors import SourceError
from ..model import DocumentMetadata, Finding, Image, SeedText
from ..read import decode_page
from . import IMAGE_TYPES, counted, image_named
from .markdown import Reading, parse, to_markdown

# A removed block's kind, from the class, id or tag of it or a container (the first that matches).
_REMOVED_KINDS = (
    ("navigation", re.compile(r"nav|menu|breadcrumb|crumb|daohang|dh\b|channel|topbar|header", re.I)),
    ("comments", re.compile(r"comment|pinglun|reply|discuss", re.I)),
    ("share buttons", re.compile(r"share|fenxiang|bdshare|social|weixin|weibo", re.I)),
    ("related articles", re.compile(r"related|relate|xgxw|xiangguan|recommend|tuijian|hot|rank|list", re.I)),
    ("footer", re.compile(r"foot|copyright|bottom|beian", re.I)),
    ("advertising", re.compile(r"\bad\b|ads|advert|guanggao|banner|sponsor", re.I)),
)
_BLOCK_TAGS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "dt", "dd", "div", "span", "a")
_DATE_KEYS = ("article:published_time", "og:published_time", "publishdate", "pubdate", "date", "dc.date")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GENERIC_AUTHORS = {"作者", "编辑", "佚名", "admin", "administrator", "匿名", "本站", "小编"}
_TITLE_SEPARATOR = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s|-(?=[^-]*$))\s*")
_SPACE = re.compile(r"\s+")
_CREDIT = re.compile(r"[︱｜|]|^(?:作者|出品|来源|编辑|责任编辑|记者|摄影|通讯员)")  # 出品︱网易科学人栏目组: a credit
MIN_ARTICLE = 20  # characters: less is a menu or a link that trafilatura fell back on, not an article


def read_page(path: Path) -> SeedText:
    """A saved page's article as a Markdown seed; SourceError when no main text is found."""
    import trafilatura

    source = path.name
    text, encoding, findings = decode_page(path)
    extracted = trafilatura.extract(
        text,
        output_format="html",
        include_comments=False,
        include_tables=True,
        include_images=True,
        include_formatting=True,
        include_links=False,
        favor_precision=True,
        deduplicate=False,
    )
    article = parse(extracted) if extracted else None
    if article is None or len(_SPACE.sub("", article.text_content())) < MIN_ARTICLE:
        raise SourceError(
            f"no main text found in the web page (trafilatura found no article of {MIN_ARTICLE} characters)",
            where=str(path),
            fix="save the article's own page, or copy its text into a .txt seed",
        )
    page = parse(text)
    metadata = _metadata(page)
    if not metadata.date and (found := trafilatura.extract_metadata(text)) is not None and found.date:
        metadata = dataclasses.replace(metadata, date=found.date[:10])  # htmldate: the page's own dates
    images: dict[str, Image] = {}
    _bold_paragraphs_as_headings(article)
    reading = Reading(image=lambda element: _local_image(element, path, images))
    markdown = to_markdown(article, reading)
    widgets = _trailing_widgets(markdown.lines)
    if widgets:
        markdown.dropped["share and reaction buttons after the article"] += widgets
    lines = ([f"# {metadata.title}", ""] if metadata.title else []) + markdown.lines
    findings.append(Finding("encoding", "read as a web page: its article found by trafilatura", source))
    findings += counted(
        "removed", _removed(page, article.text_content()), source, "web page {what} left out: {count} block(s)"
    )
    findings += counted("removed", markdown.dropped, source, "{what} left out: {count}")
    findings += counted("unmapped", markdown.unmapped, source, "{what} has no mapping: {count} read as text")
    return SeedText(path, "\n".join(lines), encoding, tuple(findings), True, tuple(images.values()), metadata)


def _trailing_widgets(lines: list[str]) -> int:
    """Take off the end of the article the buttons that trafilatura left after it (分享, 开心 4,
    板砖): lines of four characters at most, or table rows of such cells; return how many."""
    taken = 0
    while lines and (not lines[-1] or (len(re.sub(r"[|\s]", "", lines[-1])) <= 4 and not lines[-1].startswith("!"))):
        taken += bool(lines.pop())
    return taken


def _metadata(page: object) -> DocumentMetadata:
    """Title, author, site and description as the page states them: og:* and article:* meta tags,
    JSON-LD, then <title> without the site's name after it."""
    meta: dict[str, str] = {}
    for element in page.iter("meta"):  # type: ignore[attr-defined]
        key = (element.get("property") or element.get("name") or "").strip().lower()
        if key and (content := (element.get("content") or "").strip()) and key not in meta:
            meta[key] = content
    ld = _json_ld(page)
    site = meta.get("og:site_name") or ld.get("publisher", "")
    title = meta.get("og:title") or ld.get("headline", "")
    if not title and (found := page.find(".//title")) is not None:  # type: ignore[attr-defined]
        title = _SPACE.sub(" ", found.text_content()).strip()
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) > 1 and len(parts[0]) >= 4:  # 海外留学生看两会：…_教育频道_中国青年网
        title = parts[0]
    authors = [meta.get("article:author", ""), meta.get("author", ""), ld.get("author", "")]
    creators = tuple(dict.fromkeys(a for a in authors if a and a.lower() not in _GENERIC_AUTHORS and len(a) <= 20))
    description = meta.get("og:description") or meta.get("description", "")
    stated = [meta.get(key, "") for key in _DATE_KEYS] + [ld.get("date", "")]
    date = next((found[0] for value in stated if (found := _DATE.match(value))), "")
    return DocumentMetadata(title, creators, site, description, date=date)


def _json_ld(page: object) -> dict[str, str]:
    """headline, author and publisher of the page's first JSON-LD article, if it has one."""
    for script in page.iter("script"):  # type: ignore[attr-defined]
        if (script.get("type") or "").lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("headline"):
                return {
                    "date": str(item.get("datePublished", "")),
                    "headline": str(item.get("headline", "")),
                    "author": _name(item.get("author")),
                    "publisher": _name(item.get("publisher")),
                }
    return {}


def _name(value: object) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name", "")
    return str(value or "")


def _bold_paragraphs_as_headings(article: object) -> None:
    """A paragraph that is one short bold run (<p><strong>出国前后关注点大不同</strong></p>) heads a section."""
    for paragraph in list(article.iter("p")):  # type: ignore[attr-defined]
        children = [child for child in paragraph if isinstance(child.tag, str)]
        text = _SPACE.sub("", paragraph.text_content())
        bold = "".join(_SPACE.sub("", c.text_content()) for c in children if c.tag in ("strong", "b"))
        if text and text == bold and len(text) <= 40 and not re.search("[。；]$", text) and not _CREDIT.search(text):
            paragraph.tag = "h2"


def _local_image(element: object, page: Path, images: dict[str, Image]) -> str | None:
    """An image saved with the page (in its folder or below): its name in the book; None for one
    on the web, which a book built offline cannot have."""
    src = (element.get("src") or "").split("?")[0]  # type: ignore[attr-defined]
    if not src or re.match(r"^[a-z]+:", src, re.I):
        return None
    folder = page.parent.resolve()
    path = (folder / src).resolve()
    media_type = IMAGE_TYPES.get(path.suffix.lower())
    if media_type is None or not path.is_relative_to(folder) or not path.is_file():
        return None
    image = image_named(path.read_bytes(), media_type)
    if image is None:
        return None
    images[image.name] = image
    return image.name


def _removed(page: object, kept: str) -> Counter[str]:
    """The page's blocks of text that the article does not hold, by kind (_REMOVED_KINDS)."""
    kept_text = _SPACE.sub("", kept)
    removed: Counter[str] = Counter()
    for element in page.iter(*_BLOCK_TAGS):  # type: ignore[attr-defined]
        own = _SPACE.sub("", "".join([element.text or "", *(child.tail or "" for child in element)]))
        if len(own) < 2 or own in kept_text or any(a.tag in ("script", "style") for a in element.iterancestors()):
            continue
        removed[_kind(element)] += 1
    return removed


def _kind(element: object) -> str:
    for node in [element, *element.iterancestors()]:  # type: ignore[attr-defined]
        names = " ".join([node.tag if isinstance(node.tag, str) else "", node.get("class") or "", node.get("id") or ""])
        for kind, pattern in _REMOVED_KINDS:
            if pattern.search(names):
                return kind
    return "other text"
