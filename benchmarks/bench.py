"""Book-scale benchmark: build the seed and 红楼梦 (../shared/corpus) and print wall time, CPU time,
peak RSS, pages and output sizes, with the same figures for a plain WeasyPrint render of the same
HTML and CSS and for Pandoc's EPUB (when `pandoc` is installed), measured in the same run.

    python benchmarks/bench.py [--runs 3] [--books seed,hongloumeng]

Each measurement is a fresh process (cold start), repeated --runs times; medians are printed.
No timing lives in the tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
BOOKS = {"seed": ROOT / "seeds" / "000_2eace880ba59814b.txt", "hongloumeng": CORPUS / "hongloumeng.simp.utf8.txt"}

# A plain WeasyPrint render of our HTML and CSS: no typesetting extension, same fonts and files.
BASELINE = """
import sys
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
html, css1, css2, base, out = sys.argv[1:]
fonts = FontConfiguration()
sheets = [CSS(filename=css, base_url=base, font_config=fonts) for css in (css1, css2)]
HTML(filename=html, base_url=base).write_pdf(out, stylesheets=sheets, font_config=fonts)
"""


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def median_of(runs: int, command: list[str]) -> tuple[float, float, float]:
    results = [measure(command) for _ in range(runs)]
    return tuple(statistics.median(r[i] for r in results) for i in range(3))  # type: ignore[return-value]


def pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def bench_book(name: str, seed: Path, runs: int, work: Path) -> list[tuple[str, float, float, float, int, int]]:
    folder = work / name
    folder.mkdir()
    (folder / "book.yaml").write_text(f"seeds: [{seed}]\nslug: {name}\ndate: 2024-01-01\n", encoding="utf-8")
    publish = [sys.executable, str(ROOT / "publish.py"), str(folder / "book.yaml"), "-q"]
    rows = []
    for fmt in ("epub", "pdf"):
        wall, cpu, rss = median_of(runs, [*publish, "-f", fmt])
        output = folder / "dist" / f"{name}.{fmt}"
        rows.append(
            (f"{name} {fmt} (ours)", wall, cpu, rss, pages(output) if fmt == "pdf" else 0, output.stat().st_size)
        )
    # The same HTML and CSS, rendered by WeasyPrint alone.
    sys.path.insert(0, str(ROOT))
    from book.build import print_profile, read_manuscript
    from book.config import load_config
    from book.fonts import DEFAULT_FACES
    from book.render import load_templates, render_print

    config = load_config(folder / "book.yaml")
    rendition = render_print(
        read_manuscript(config), load_templates(config.styles), DEFAULT_FACES, config.trim, print_profile(config)
    )
    html, css1, css2 = folder / "book.html", folder / "shared.css", folder / "print.css"
    html.write_text(rendition.html, encoding="utf-8")
    css1.write_text(rendition.stylesheets[0], encoding="utf-8")
    css2.write_text(rendition.stylesheets[1], encoding="utf-8")
    out = folder / "baseline.pdf"
    wall, cpu, rss = median_of(
        runs, [sys.executable, "-c", BASELINE, str(html), str(css1), str(css2), rendition.base_url, str(out)]
    )
    rows.append((f"{name} pdf (plain WeasyPrint)", wall, cpu, rss, pages(out), out.stat().st_size))
    if shutil.which("pandoc"):
        out = folder / "pandoc.epub"
        wall, cpu, rss = median_of(runs, ["pandoc", str(seed), "-f", "markdown", "-o", str(out)])
        rows.append((f"{name} epub (pandoc)", wall, cpu, rss, 0, out.stat().st_size))
    else:
        rows.append((f"{name} epub (pandoc: not installed)", 0, 0, 0, 0, 0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--books", default="seed,hongloumeng")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.books.split(","):
            if not BOOKS[name].is_file():
                print(f"{name}: {BOOKS[name]} is absent, skipped")
                continue
            rows += bench_book(name, BOOKS[name], args.runs, Path(folder))
    print(f"medians of {args.runs} run(s), one process each, {os.cpu_count()} cores")
    print(f"{'build':<36}{'wall s':>8}{'cpu s':>8}{'RSS MiB':>9}{'pages':>7}{'pages/s':>9}{'size KiB':>10}")
    for label, wall, cpu, rss, count, size in rows:
        rate = f"{count / wall:9.1f}" if count and wall else f"{'':>9}"
        print(f"{label:<36}{wall:8.2f}{cpu:8.2f}{rss:9.0f}{count or '':>7}{rate}{size / 1024:10.0f}")
    by_label = {row[0]: row for row in rows}
    for name in args.books.split(","):
        ours, plain = by_label.get(f"{name} pdf (ours)"), by_label.get(f"{name} pdf (plain WeasyPrint)")
        if ours and plain:
            print(f"{name}: our PDF build / plain WeasyPrint = {ours[1] / plain[1]:.2f}× wall")


if __name__ == "__main__":
    main()
