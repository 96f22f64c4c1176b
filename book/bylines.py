"""Bylines: the people a text credits, read from its lines. Pure: no I/O.

A byline line before the text (株洲日报全媒体记者/杨凌凌), a news dateline's byline (本报讯（记者刘俊）,
南都讯　记者刘凡　周昌和), and a byline closing an article (作者：王五) become creators with their roles.
"""

from __future__ import annotations

import re

from .model import Creator
from .rules import Rules, role_code
from .unwrap import SPACES

_NAME_SEPARATORS = re.compile(r"[\s、，,]+")


def names(creators: list[Creator]) -> str:
    return "、".join(f"{c.name}（{c.label}）" for c in creators)


def news_byline(text: str, rules: Rules) -> tuple[str, list[Creator], str, str] | None:
    """(dateline, creators, the credit as written, the text after it) of a news paragraph that opens
    with a dateline and a byline: 本报讯（记者刘俊）…, 新华社北京11月12日电（记者 张三）…, or a line
    南都讯　记者刘凡　周昌和. None where the paragraph does not open so."""
    match = rules.news_byline.match(text)
    if not match:
        return None
    group = "credits" if match["credits"] else "credits2"
    creators = [
        Creator(name, role_code(credit["role"]) or "aut", credit["role"])
        for credit in rules.news_credit.finditer(match[group])
        for name in _NAME_SEPARATORS.split(credit["names"].strip())
        if name
    ]
    if not creators:
        return None
    credit = text[match.end("dateline") : match.end()].strip(SPACES)
    return match["dateline"], creators, credit, text[match.end() :].strip(SPACES)


def bylines(text: str, rules: Rules) -> list[Creator]:
    """The creators a byline line names, or [] if the line is not wholly bylines."""
    creators: list[Creator] = []
    position = 0
    for match in rules.byline.finditer(text):
        if text[position : match.start()].strip():
            return []
        position = match.end()
        label = match["role"]
        for name in _NAME_SEPARATORS.split(match["names"].strip()):
            creators.append(Creator(name, role_code(label) or "aut", label, match["organization"]))
    if text[position:].strip():
        return []
    return creators
