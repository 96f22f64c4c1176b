"""Line-breaking figures of our PDF and of Typst's, for the same normalized text (issue #27).

    python benchmarks/linebreak.py [--books seed,hongloumeng]

Each book is normalized once; our PDF is built with publish.py, Typst's (PyPI `typst`) from a
Typst source of the same chapters and paragraphs, on the same trim, margins, faces, size and
leading. Both are read back the same way (book/check.py's reading of lines) and given:

- runts: paragraphs whose last line holds one Han character or none (clreq: avoid 孤字);
- stretched: justified lines whose Han characters stand more than 0.1 em apart on average;
- stretch p95: that average spread at the 95th percentile over justified lines, in em;
- pairs: adjacent full-width marks set in 1.5 em or less;
- line starts: lines a break began with a mark clreq forbids there;
- numbers split: a number broken, or parted from its unit (rules.yaml number_units).

The figures go to build/benchmarks/linebreak.txt. A benchmark: no test asserts them.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from book.build import read_manuscript, type_areas  # noqa: E402
from book.check import _punctuation_pairs  # noqa: E402
from book.check_lines import body_lines, han_spacing, is_last, line_breaking, line_quality  # noqa: E402
from book.config import load_config  # noqa: E402
from book.text import HAN  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
BOOKS = {"seed": ROOT / "book.yaml", "hongloumeng": CORPUS / "hongloumeng.simp.utf8.txt"}
_HAN = re.compile(HAN)
_NUMBER_UNITS = "年月日时分秒天周岁元个名户人次件条项栋层号辆位家座米吨克斤亩倍万亿千百%％℃"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", default="seed,hongloumeng")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in options.books.split(","):
            config = _config(name, Path(scratch))
            ours = _our_pdf(config, Path(scratch) / name)
            typst = _typst_pdf(config, Path(scratch) / f"{name}.typ")
            areas = type_areas(config)
            rows.append((f"{name} (ours)", figures(ours, areas)))
            rows.append((f"{name} (Typst)", figures(typst, areas)))
    header = f"{'PDF':<22}{'runts':>8}{'stretched':>11}{'p95 em':>8}{'pairs':>8}{'starts':>8}{'numbers':>9}"
    lines = [header] + [
        f"{label:<22}{f['runts']:>7.1%}{f['stretched']:>10.1%}{f['p95']:>8.3f}{f['pairs']:>7.1%}"
        f"{f['starts']:>8}{f['numbers']:>9}"
        for label, f in rows
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    out = ROOT / "build" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "linebreak.txt").write_text(text, encoding="utf-8")


def _config(name: str, scratch: Path) -> object:
    if name == "seed":
        return load_config(BOOKS[name])
    folder = scratch / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.yaml").write_text(f"seeds: [{BOOKS[name]}]\nslug: {name}\n", encoding="utf-8")
    return load_config(folder / "book.yaml")


def _our_pdf(config: object, out: Path) -> Path:
    command = [sys.executable, str(ROOT / "publish.py"), str(config.path), "-o", str(out), "-f", "pdf", "-q"]  # type: ignore[attr-defined]
    subprocess.run(command, check=True)
    return out / f"{config.slug}.pdf"  # type: ignore[attr-defined]


def _typst_pdf(config: object, source: Path) -> Path:
    """Typst's PDF of the same chapters: the trim, the recto and verso margins, the body face and
    size, the 1.75 leading, the 2 em indent and justification of print.css; chapters on rectos."""
    import typst

    manuscript = read_manuscript(config)  # type: ignore[arg-type]
    trim = config.trim  # type: ignore[attr-defined]
    parts = [
        f"#set page(width: {trim[0]}mm, height: {trim[1]}mm,"
        " margin: (top: 20mm, bottom: 22mm, inside: 20mm, outside: 16mm))",
        '#set text(font: "Noto Serif CJK SC", size: 10.5pt, lang: "zh", region: "cn",'
        " top-edge: 0.88em, bottom-edge: -0.12em)",
        "#set par(justify: true, first-line-indent: (amount: 2em, all: true), leading: 0.75em, spacing: 0.75em)",
        '#show heading: set text(font: "Noto Sans CJK SC", size: 16pt, weight: "bold")',
    ]
    for chapter in manuscript.chapters:
        parts.append('#pagebreak(to: "odd", weak: true)')
        parts.append(f"#heading[{_escaped(chapter.title)}]")
        parts += [_escaped(block.text) for block in chapter.blocks]
    source.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    pdf = source.with_suffix(".pdf")
    pdf.write_bytes(typst.compile(str(source), font_paths=[str(ROOT / "fonts")]))
    return pdf


def _escaped(text: str) -> str:
    return re.sub(r"([\\#$*_`<>@=\-+/\[\]~])", r"\\\1", text)


def figures(path: Path, areas: object) -> dict[str, float]:
    """The line-breaking figures of a PDF's body text (see the module's docstring), read as
    `publish.py check` reads them (book/check_lines.py)."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        pages = [[c for c in page.chars if c["text"].strip()] for page in pdf.pages]
    em = 10.5
    lines, kinds = body_lines(pages, em)
    edges = {line.page: areas[0] if line.page % 2 else areas[1] for line in lines}  # type: ignore[index]
    last = [is_last(i, lines, kinds, edges, em) for i in range(len(lines))]
    spreads = [han_spacing(line, em) / em for line, end in zip(lines, last, strict=True) if not end]
    rows = {c.name: c for c in [*line_breaking(lines, kinds, edges, em), *line_quality(lines, kinds, edges, em)]}
    return {
        "runts": _share(rows["runts"]),
        "stretched": _share(rows["stretched lines"]),
        "p95": statistics.quantiles(spreads, n=20)[-1] if len(spreads) >= 20 else 0.0,
        "pairs": _share(_punctuation_pairs(lines, em)),
        "starts": int(rows["line start"].figure.split()[0]),
        "numbers": int(rows["numbers split"].figure.split()[0]),
    }


def _share(check: object) -> float:
    return float(check.figure.split("%")[0]) / 100  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
