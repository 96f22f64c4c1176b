"""Which script a Chinese text is written in, Simplified or Traditional, told by OpenCC. Pure.

A character that OpenCC's Traditional-to-Simplified conversion changes is a Traditional form, and
one that the opposite conversion changes is a Simplified form; most characters are both. The text's
script is the one with more forms of its own, in a sample of its Han characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .text import HAN

_HAN = re.compile(HAN)
SAMPLE = 40_000  # Han characters read: enough to decide, cheap on a 900,000-character novel


@dataclass(frozen=True)
class Script:
    """The script decision: the language tag to use and the evidence for it."""

    language: str  # zh-CN or zh-Hant
    traditional_forms: int
    simplified_forms: int
    sample: int

    @property
    def traditional(self) -> bool:
        return self.language == "zh-Hant"


def detect_script(texts: list[str]) -> Script:
    """Simplified (zh-CN) or Traditional (zh-Hant): whichever of its own forms the text has more of."""
    han = "".join(_HAN.findall("".join(text[: 4 * SAMPLE] for text in texts))[:SAMPLE])
    to_simplified, to_traditional = _converter("t2s"), _converter("s2t")
    simplified_version, traditional_version = to_simplified(han), to_traditional(han)
    traditional = sum(1 for a, b in zip(han, simplified_version, strict=False) if a != b)
    simplified = sum(1 for a, b in zip(han, traditional_version, strict=False) if a != b)
    language = "zh-Hant" if traditional > simplified else "zh-CN"
    return Script(language, traditional, simplified, len(han))


@cache
def _converter(conversion: str):
    import opencc

    return opencc.OpenCC(f"{conversion}.json").convert


def to_script(text: str, language: str) -> str:
    """A label written in Simplified, in the book's script: Traditional for zh-Hant, zh-TW, zh-HK."""
    if language.startswith("zh-TW"):
        return _converter("s2tw")(text)
    if language.startswith(("zh-HK", "zh-MO")):
        return _converter("s2hk")(text)
    if language.startswith("zh-Hant"):
        return _converter("s2t")(text)
    return text
