"""What inter-character justification costs: PDF layout time with the extension on and off,
on the same book in one run (chapters 1–10 of 红楼梦 from ../shared/corpus by default).

    python benchmarks/justification.py [SEED.txt] [--runs 3]

Prints the median wall time of rendering and writing the print PDF, each way, and the ratio.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from book.build import PROFILES_DIR, print_profile, read_manuscript  # noqa: E402
from book.config import load_config  # noqa: E402
from book.fonts import DEFAULT_FACES, FONTS_DIR  # noqa: E402
from book.pdf.options import render_options  # noqa: E402
from book.pdf.writer import write_pdf  # noqa: E402
from book.render import DEFAULT_STYLES, load_templates, render_print  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "hongloumeng.simp.utf8.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if args.seed:
            seed = args.seed.resolve()
        else:
            text = CORPUS.read_text(encoding="utf-8")
            seed = work / "hlm-1-10.txt"
            seed.write_text(text[: re.search("^第十一回", text, flags=re.M).start()], encoding="utf-8")
        (work / "book.yaml").write_text(f"seeds: [{seed}]\ndate: 2024-01-01\n", encoding="utf-8")
        config = load_config(work / "book.yaml")
        manuscript = read_manuscript(config)
        rendition = render_print(
            manuscript, load_templates(config.styles), DEFAULT_FACES, config.trim, print_profile(config)
        )
        allowed = (DEFAULT_STYLES, FONTS_DIR, PROFILES_DIR, config.root)
        faces = tuple(face.path for face in DEFAULT_FACES)
        times: dict[bool, list[float]] = {True: [], False: []}
        pages = {}
        for _ in range(args.runs):
            for enabled in (True, False):
                with render_options(cjk_justification=enabled):
                    start = time.perf_counter()
                    result = write_pdf(work / f"out-{enabled}.pdf", rendition, allowed, "benchmark", faces)
                    times[enabled].append(time.perf_counter() - start)
                pages[enabled] = result.pages
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"book: {seed.name}, {sum(len(c.blocks) for c in manuscript.chapters)} paragraphs, runs: {args.runs}")
    print(f"{'justification':<26}{'pages':>7}{'median s':>10}")
    print(f"{'inter-character (ours)':<26}{pages[True]:>7}{on:>10.2f}")
    print(f"{'spaces only (WeasyPrint)':<26}{pages[False]:>7}{off:>10.2f}")
    print(f"cost: {on / off:.2f}× ({on - off:+.2f} s)")


if __name__ == "__main__":
    main()
