"""The normalizer's rule set, loaded from rules.yaml (data, not code)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Rules:
    """Compiled normalizer rules."""

    bullets: str
    bullet_menu_max: int
    cruft: tuple[re.Pattern[str], ...]
    byline: re.Pattern[str]
    title_author: re.Pattern[str]
    heading_max_length: int
    sentence_end: str
    numbered_heading: re.Pattern[str]
    numbered_min: int
    standalone_heading: re.Pattern[str]
    outline_heading: re.Pattern[str]
    markdown_heading: re.Pattern[str]

    def with_cruft(self, patterns: tuple[str, ...]) -> Rules:
        """These rules with extra cruft patterns (from book.yaml)."""
        extra = tuple(re.compile(p) for p in patterns)
        return dataclasses.replace(self, cruft=self.cruft + extra)


@cache
def _data() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("rules.yaml").read_text(encoding="utf-8"))


@cache
def load_rules() -> Rules:
    """The default rules shipped with the package."""
    data = _data()
    headings = data["headings"]
    return Rules(
        bullets=data["bullets"],
        bullet_menu_max=int(data["bullet_menu_max"]),
        cruft=tuple(re.compile(p) for p in data["cruft"]),
        byline=re.compile(data["byline"]),
        title_author=re.compile(data["title_author"]),
        heading_max_length=int(headings["max_length"]),
        sentence_end=headings["sentence_end"],
        numbered_heading=re.compile(headings["numbered"]),
        numbered_min=int(headings["numbered_min"]),
        standalone_heading=re.compile(headings["standalone"]),
        outline_heading=re.compile(headings["outline"]),
        markdown_heading=re.compile(headings["markdown"]),
    )


ROLE_CODES: dict[str, str] = dict(_data()["roles"])
MARC_CODES = frozenset({"aut", "ctb", "edt", "trl", "pht", "ill"})


def role_code(label: str) -> str | None:
    """The MARC relator code for a role word (记者 → aut) or a code itself; None if unknown."""
    if label in MARC_CODES:
        return label
    return ROLE_CODES.get(label)
