"""ean: the EAN-13 bars of a book's ISBN, for the back cover, drawn as the cover's own boxes.

python-barcode encodes the number (its 95 modules: guards, and each digit by its parity set);
the cover sets each bar as a box in black ink (K 100), so that the bars are vector and in the
print profile's colour, never an RGB image. Sizes are GS1's at 100 %: a module 0.33 mm, bars
22.85 mm high, the guards 1.65 mm longer, 11 and 7 modules of quiet zone.
"""

from __future__ import annotations

from dataclasses import dataclass

MODULE_MM = 0.33
BAR_MM = 22.85
GUARD_EXTRA_MM = 1.65
QUIET_LEFT, QUIET_RIGHT = 11, 7
_GUARDS = {*range(0, 3), *range(45, 50), *range(92, 95)}  # start, centre and end guards


@dataclass(frozen=True)
class Bar:
    left_mm: float  # from the symbol's left edge, quiet zone included
    width_mm: float
    height_mm: float


@dataclass(frozen=True)
class Ean13:
    number: str  # 13 digits
    bars: tuple[Bar, ...]
    width_mm: float

    @property
    def digits(self) -> tuple[str, str, str]:
        """The human-readable digits: the first (left of the symbol) and the two halves."""
        return self.number[0], self.number[1:7], self.number[7:]


def ean13(isbn: str) -> Ean13:
    """The EAN-13 symbol of an ISBN-13 (its check digit checked by the configuration)."""
    import barcode

    digits = "".join(ch for ch in isbn if ch.isdigit())
    code = barcode.get_barcode_class("ean13")(digits[:12])
    if code.get_fullcode() != digits:
        raise ValueError(f"{isbn}: the check digit does not match")
    modules = code.build()[0]
    bars: list[Bar] = []
    start = None
    for index, module in enumerate(modules + "0"):
        if module == "1" and start is None:
            start = index
        elif module != "1" and start is not None:
            height = BAR_MM + (GUARD_EXTRA_MM if start in _GUARDS else 0)
            bars.append(Bar((QUIET_LEFT + start) * MODULE_MM, (index - start) * MODULE_MM, height))
            start = None
    return Ean13(digits, tuple(bars), (QUIET_LEFT + len(modules) + QUIET_RIGHT) * MODULE_MM)
