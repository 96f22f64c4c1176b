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
    news_byline: re.Pattern[str]
    news_credit: re.Pattern[str]
    heading_max_length: int
    sentence_end: str
    numbered_heading: re.Pattern[str]
    numbered_min: int
    bare_heading: re.Pattern[str]
    numeral_heading: re.Pattern[str]
    notes_heading: re.Pattern[str]
    note_mark: re.Pattern[str]
    note_line: re.Pattern[str]
    closing_formula: re.Pattern[str]
    body_opener: re.Pattern[str]
    standalone_heading: re.Pattern[str]
    outline_heading: re.Pattern[str]
    markdown_heading: re.Pattern[str]
    bold_heading: re.Pattern[str]
    rule_line: re.Pattern[str]
    inline_cruft: re.Pattern[str]
    boilerplate_start: re.Pattern[str]
    boilerplate_end: re.Pattern[str]
    paragraph_marks: str
    gutenberg_title: re.Pattern[str]
    gutenberg_author: re.Pattern[str]
    markup_signs: frozenset[str]
    markup_tags: frozenset[str]
    markup_blocks: frozenset[str]
    markup_headings: frozenset[str]
    markup_dropped: frozenset[str]
    markup_records: frozenset[str]
    question_particles: str
    question_words: re.Pattern[str]
    number_units: str  # print: no line break between a number and these

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
        news_byline=re.compile(data["news_byline"]),
        news_credit=re.compile(data["news_credit"]),
        heading_max_length=int(headings["max_length"]),
        sentence_end=headings["sentence_end"],
        numbered_heading=re.compile(headings["numbered"]),
        numbered_min=int(headings["numbered_min"]),
        bare_heading=re.compile(headings["bare"]),
        numeral_heading=re.compile(headings["numeral"]),
        notes_heading=re.compile(headings["notes"]),
        note_mark=re.compile(headings["note_mark"]),
        note_line=re.compile(headings["note_line"]),
        closing_formula=re.compile(headings["closing_formula"]),
        body_opener=re.compile(headings["body_opener"]),
        standalone_heading=re.compile(headings["standalone"]),
        outline_heading=re.compile(headings["outline"]),
        markdown_heading=re.compile(headings["markdown"]),
        bold_heading=re.compile(headings["bold"]),
        rule_line=re.compile(data["rule_line"]),
        inline_cruft=re.compile(data["inline_cruft"]),
        boilerplate_start=re.compile(data["boilerplate"]["start"]),
        boilerplate_end=re.compile(data["boilerplate"]["end"]),
        paragraph_marks=data["paragraph_marks"],
        gutenberg_title=re.compile(data["gutenberg"]["title"]),
        gutenberg_author=re.compile(data["gutenberg"]["author"]),
        markup_signs=frozenset(data["markup"]["signs"]),
        markup_tags=frozenset(data["markup"]["tags"]),
        markup_blocks=frozenset(data["markup"]["blocks"]),
        markup_headings=frozenset(data["markup"]["headings"]),
        markup_dropped=frozenset(data["markup"]["dropped"]),
        markup_records=frozenset(data["markup"]["records"]),
        question_particles=data["damage"]["question_particles"],
        question_words=re.compile(data["damage"]["question_words"]),
        number_units=data["number_units"],
    )


ROLE_CODES: dict[str, str] = dict(_data()["roles"])
MARC_CODES = frozenset({"aut", "ctb", "edt", "trl", "pht", "ill"})


def role_code(label: str) -> str | None:
    """The MARC relator code for a role word (记者 → aut) or a code itself; None if unknown."""
    if label in MARC_CODES:
        return label
    return ROLE_CODES.get(label)
