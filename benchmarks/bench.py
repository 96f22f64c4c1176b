"""Book-scale benchmark: build the seed and 红楼梦 (../shared/corpus) and print wall time, CPU time,
peak RSS (summed over all the processes of a build), pages and output sizes, with the same figures
for a plain WeasyPrint render of the same HTML and CSS and for Pandoc's EPUB (when `pandoc` is
installed; as it is, and with the book's fonts embedded, as ours has them), measured in the same
run, and the ratios.

    python benchmarks/bench.py [--runs 3] [--books seed,hongloumeng] [--curve] [--jobs N]
    python benchmarks/bench.py --against DIR [--runs 7]

Each measurement is a fresh process (cold start), repeated --runs times; medians are printed.
The print PDF is built cold (--no-cache) and, for 红楼梦, again after an edit to one chapter with
the cache of the previous build (the incremental rebuild). --curve adds the wall time of the PDF
against the book's size (the first 1, 10 and 40 回, and the whole 120). --against DIR measures only
the cold 红楼梦 PDF, of this tree and of another checkout of the project at DIR (`git worktree add
DIR COMMIT`), one build of each in turn, --runs times, and prints both medians and the change: the
way to tell what a change costs on a machine whose speed drifts from minute to minute. No timing
lives in the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
BOOKS = {"seed": ROOT / "seeds" / "000_2eace880ba59814b.txt", "hongloumeng": CORPUS / "hongloumeng.simp.utf8.txt"}
HUI = re.compile(r"^第[一二三四五六七八九十百零〇]+回", re.M)

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

Row = tuple[str, float, float, float, int, int]


def _tree_rss(pid: int) -> int:
    """Resident memory (KiB) of a process and all its descendants, from /proc/<pid>/stat.

    One line a process (parent and resident pages): 2 ms a sample here, where reading every
    /proc/<pid>/status took 7 ms, a share of a core the build being measured would lose."""
    page = os.sysconf("SC_PAGE_SIZE") // 1024
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # after "pid (command) "
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * page
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack += children.get(current, [])
    return total


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (all processes) and peak RSS in MiB summed over the process tree.

    This thread waits for the process (the wall time is taken as it ends, not at the next poll),
    while another samples the tree's memory every 0.1 s; the process's own peak counts too, for a
    process that ends before the first sample (Pandoc's seed, 0.1 s)."""
    start = time.perf_counter()
    before = os.times()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errors = process.stderr.read()  # type: ignore[union-attr]  # to its end, as the process ends
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    after = os.times()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{errors.decode()}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, max(peak[0], usage.ru_maxrss) / 1024  # KiB, as _tree_rss


def median_of(runs: int, command: list[str], before_each: object = None) -> tuple[float, float, float]:
    results = []
    for _ in range(runs):
        if callable(before_each):
            before_each()
        results.append(measure(command))
    return tuple(statistics.median(r[i] for r in results) for i in range(3))  # type: ignore[return-value]


def pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def _book(folder: Path, name: str, seed: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "book.yaml"
    config.write_text(f"seeds: [{seed}]\nslug: {name}\ndate: 2024-01-01\n", encoding="utf-8")
    return config


def bench_book(name: str, seed: Path, runs: int, work: Path, jobs: list[str]) -> list[Row]:
    folder = work / name
    config = _book(folder, name, seed)
    publish = [sys.executable, str(ROOT / "publish.py"), str(config), "-q", *jobs]
    rows: list[Row] = []
    for fmt in ("epub", "pdf"):
        wall, cpu, rss = median_of(runs, [*publish, "-f", fmt, "--no-cache"])
        output = folder / "dist" / f"{name}.{fmt}"
        rows.append(
            (f"{name} {fmt} (ours)", wall, cpu, rss, pages(output) if fmt == "pdf" else 0, output.stat().st_size)
        )
    if name == "seed":  # the start-up figure: both formats in one cold process
        wall, cpu, rss = median_of(runs, [*publish, "-f", "epub,pdf", "--no-cache"])
        rows.append((f"{name} epub+pdf (ours)", wall, cpu, rss, pages(folder / "dist" / f"{name}.pdf"), 0))
    if name == "hongloumeng":
        rows.append(_incremental(folder, seed, publish, runs))
    rows.append(_baseline(folder, config, runs))
    if shutil.which("pandoc"):
        out = folder / "pandoc.epub"
        # As it comes, and like ours, with the book's fonts in it (Pandoc embeds each font whole).
        fonts = [f"--epub-embed-font={face}" for face in sorted((ROOT / "fonts").glob("*.otf"))]
        for peer, options in (("pandoc", []), ("pandoc, fonts embedded", fonts)):
            wall, cpu, rss = median_of(runs, ["pandoc", str(seed), "-f", "markdown", "-o", str(out), *options])
            rows.append((f"{name} epub ({peer})", wall, cpu, rss, 0, out.stat().st_size))
    else:
        rows.append((f"{name} epub (pandoc: not installed)", 0, 0, 0, 0, 0))
    return rows


def _incremental(folder: Path, seed: Path, publish: list[str], runs: int) -> Row:
    """The PDF rebuilt after a one-character edit to chapter 60, from the previous build's cache."""
    text = seed.read_text(encoding="utf-8")
    chapter = list(HUI.finditer(text))[59].end()
    paragraph = text.index("。", chapter + 200)
    versions = [text, text[:paragraph] + "！" + text[paragraph + 1 :]]
    edited = folder / "edited.txt"
    config = folder / "book.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(str(seed), str(edited)), encoding="utf-8")
    edited.write_text(versions[0], encoding="utf-8")
    subprocess.run([*publish, "-f", "pdf"], check=True)  # fills the cache
    turn = [0]

    def edit() -> None:
        turn[0] += 1
        edited.write_text(versions[turn[0] % 2], encoding="utf-8")

    wall, cpu, rss = median_of(runs, [*publish, "-f", "pdf"], before_each=edit)
    config.write_text(config.read_text(encoding="utf-8").replace(str(edited), str(seed)), encoding="utf-8")
    output = folder / "dist" / f"{folder.name}.pdf"
    return (f"{folder.name} pdf, one chapter edited", wall, cpu, rss, pages(output), output.stat().st_size)


def _baseline(folder: Path, config_path: Path, runs: int) -> Row:
    """One plain WeasyPrint write_pdf of the same HTML and CSS, in one process."""
    sys.path.insert(0, str(ROOT))
    from book.build import print_profile, read_manuscript
    from book.config import load_config
    from book.fonts import DEFAULT_FACES
    from book.render import load_templates, render_print

    config = load_config(config_path)
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
    return (f"{folder.name} pdf (plain WeasyPrint)", wall, cpu, rss, pages(out), out.stat().st_size)


def curve(runs: int, work: Path, jobs: list[str]) -> list[tuple[int, float, int, float]]:
    """(回, wall of our PDF, pages, wall of plain WeasyPrint) for the first 1, 10 and 40 回 (120 回
    is the whole book, measured above)."""
    text = BOOKS["hongloumeng"].read_text(encoding="utf-8")
    starts = [m.start() for m in HUI.finditer(text)]
    points = []
    for count in (1, 10, 40):
        folder = work / f"curve-{count}"
        folder.mkdir()
        seed = folder / "seed.txt"
        seed.write_text(text[: starts[count]], encoding="utf-8")
        config = _book(folder, "curve", seed)
        wall, _, _ = median_of(
            runs, [sys.executable, str(ROOT / "publish.py"), str(config), "-q", "-f", "pdf", "--no-cache", *jobs]
        )
        plain = _baseline(folder, config, runs)
        points.append((count, wall, pages(folder / "dist" / "curve.pdf"), plain[1]))
    return points


def against(other: Path, runs: int, work: Path, jobs: list[str]) -> tuple[list[Row], list[tuple[float, float]]]:
    """The cold 红楼梦 PDF built by this tree and by the checkout at `other`, one of each in turn,
    `runs` times: the medians, and each turn's ratios of wall and CPU time (this tree's to the
    other's: two builds seconds apart, which the machine's drift touches less than the medians).
    The other checkout's loops in C are built into it where they were not (a checkout without
    them runs their Python twins, several times slower)."""
    if not list((other / "book").glob("_speedups*.so")):
        print(f"building the loops in C of {other} (book/_speedups.c) into it")
        built = work / "other-package"
        install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(built), str(other)]
        subprocess.run(install, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for module in (built / "book").glob("_speedups*.so"):
            shutil.copy(module, other / "book" / module.name)
    config = _book(work / "hongloumeng", "hongloumeng", BOOKS["hongloumeng"])
    trees = {"this tree": ROOT, _commit(other): other}
    results: dict[str, list[tuple[float, float, float]]] = {label: [] for label in trees}
    outputs = {label: work / f"out-{number}" for number, label in enumerate(trees)}
    for _ in range(runs):
        for label, tree in trees.items():
            publish = [sys.executable, str(tree / "publish.py"), str(config), "-q", "-o", str(outputs[label])]
            results[label].append(measure([*publish, "-f", "pdf", "--no-cache", *jobs]))
    rows: list[Row] = []
    for label, measured in results.items():
        wall, cpu, rss = (statistics.median(result[i] for result in measured) for i in range(3))
        output = outputs[label] / "hongloumeng.pdf"
        rows.append((f"hongloumeng pdf ({label})", wall, cpu, rss, pages(output), output.stat().st_size))
    this, base = results.values()
    pairs = [(ours[0] / theirs[0], ours[1] / theirs[1]) for ours, theirs in zip(this, base, strict=True)]
    return rows, pairs


def _commit(tree: Path) -> str:
    """The short commit a checkout is at, or its folder's name."""
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True)
    return found.stdout.strip() or tree.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--books", default="seed,hongloumeng")
    parser.add_argument("--curve", action="store_true", help="also wall time against book size (1, 10, 40 回)")
    parser.add_argument("--curve-runs", type=int, default=1, help="runs per point of the curve (default 1)")
    parser.add_argument("--jobs", type=int, default=None, help="passed to publish.py (default: its own, all cores)")
    parser.add_argument("--against", type=Path, help="another checkout: the cold 红楼梦 PDF of both, in turns")
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    rows: list[Row] = []
    points = []
    with tempfile.TemporaryDirectory() as folder:
        if args.against:
            if not BOOKS["hongloumeng"].is_file():
                raise SystemExit(f"--against builds 红楼梦: {BOOKS['hongloumeng']} is absent")
            args.books = ""
            rows, args.pairs = against(args.against.resolve(), args.runs, Path(folder), jobs)
        for name in filter(None, args.books.split(",")):
            if not BOOKS[name].is_file():
                print(f"{name}: {BOOKS[name]} is absent, skipped")
                continue
            rows += bench_book(name, BOOKS[name], args.runs, Path(folder), jobs)
        if args.curve and BOOKS["hongloumeng"].is_file():
            points = curve(args.curve_runs, Path(folder), jobs)
    with _results_file() as results, contextlib.redirect_stdout(_Tee(sys.stdout, results)):
        _report(args, rows, points)
    print(f"results written to {RESULTS.relative_to(ROOT)}")


RESULTS = ROOT / "build" / "benchmarks" / "bench.txt"


@contextlib.contextmanager
def _results_file() -> Iterator[TextIO]:
    """The file a run's figures are kept in (build/benchmarks/bench.txt), headed by the run's date
    and commit: results live in files the benchmark writes, not in prose."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    with RESULTS.open("w", encoding="utf-8") as results:
        results.write(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit.strip() or '?'}\n")
        yield results


class _Tee:
    """A stream that writes to two."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def _report(args: argparse.Namespace, rows: list[Row], points: list) -> None:
    print(f"medians of {args.runs} run(s), one process tree each, {os.cpu_count()} cores; RSS summed over processes")
    print(f"{'build':<44}{'wall s':>8}{'cpu s':>8}{'RSS MiB':>9}{'pages':>7}{'pages/s':>9}{'size KiB':>10}")
    for label, wall, cpu, rss, count, size in rows:
        rate = f"{count / wall:9.1f}" if count and wall else f"{'':>9}"
        print(f"{label:<44}{wall:8.2f}{cpu:8.2f}{rss:9.0f}{count or '':>7}{rate}{size / 1024 if size else 0:10.0f}")
    by_label = {row[0]: row for row in rows}
    for name in filter(None, args.books.split(",")):
        ours, plain = by_label.get(f"{name} pdf (ours)"), by_label.get(f"{name} pdf (plain WeasyPrint)")
        if ours and plain:
            print(
                f"{name}: our PDF / plain WeasyPrint = {ours[1] / plain[1]:.2f}× wall, size {ours[5] / plain[5]:.2f}×"
            )
        epub = by_label.get(f"{name} epub (ours)")
        for peer in ("pandoc", "pandoc, fonts embedded"):
            if epub and (pandoc := by_label.get(f"{name} epub ({peer})")):
                print(f"{name}: our EPUB / {peer} = {epub[1] / pandoc[1]:.2f}× wall, size {epub[5] / pandoc[5]:.2f}×")
        edited = by_label.get(f"{name} pdf, one chapter edited")
        if ours and edited:
            print(f"{name}: rebuild after editing one chapter / cold build = {edited[1] / ours[1]:.2f}×")
    if args.against:
        this, other = rows
        print(
            f"this tree against {other[0][len('hongloumeng pdf (') : -1]}: wall {this[1] / other[1] - 1:+.1%}, "
            f"CPU {this[2] / other[2] - 1:+.1%} (medians of {args.runs} builds each, in turns)"
        )
        for name, index in (("wall", 0), ("CPU", 1)):
            ratios = sorted(pair[index] - 1 for pair in args.pairs)
            quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            print(
                f"  turn by turn, {name}: median {statistics.median(ratios):+.1%}, "
                f"middle half {quartiles[0]:+.1%} to {quartiles[2]:+.1%}"
            )
    whole_book = by_label.get("hongloumeng pdf (ours)"), by_label.get("hongloumeng pdf (plain WeasyPrint)")
    if points and all(whole_book):
        points.append((120, whole_book[0][1], whole_book[0][4], whole_book[1][1]))  # type: ignore[index]
    if points:
        print(
            f"红楼梦 PDF against book size (ours cold, --no-cache; plain WeasyPrint; {args.curve_runs} run(s) a point):"
        )
        for count, wall, count_pages, plain in points:
            print(f"  {count:>3} 回  {count_pages:>5} pages  ours {wall:7.2f} s  plain {plain:7.2f} s")


if __name__ == "__main__":
    main()
