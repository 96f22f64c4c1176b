"""Where a cold build of 红楼梦's PDF spends its time: py-spy samples of the whole build, each given to
the part of the code it was in, and the functions with the most samples of their own.

    python benchmarks/profile.py [--top 10] [--native] [--raw FILE] [--save FILE]

The parts are the issue's (#7): our own code (the normalizer and templates, the typesetting
extension, the assembly and the workers) against WeasyPrint, its libraries and Python's start-up,
and Pango and HarfBuzz breaking and shaping the paragraphs. Its rule: our own code under 10 %.

Default: the build as it runs (`publish.py <book> --no-cache -f pdf`, its worker processes
included), sampled 100 times a second, each sample given to its innermost Python frame. A call
from our code into Pango through cffi is then ours, except the call that lays a paragraph out
(_lay_out_paragraph's pango_layout_get_lines_readonly), which is Pango's: it is found by its line
in the source, so samples reported on with --raw must come from the same code.

--native: the same build in one process (`--jobs 1`), its garbage collector set as the workers
set theirs, sampled with native frames (py-spy cannot follow native frames into worker
processes). A sample is then given to its innermost frame that is not the interpreter's: a
library's own time is the library's (Pango, HarfBuzz, GLib, FreeType, Fontconfig: Pango's part;
any other: WeasyPrint's and the libraries'), and cffi's calling overhead the caller's. A garbage
collection, which runs in whichever frame allocates when one is due, is a part of its own.

--without PART[,PART]: the build in one process (`--jobs 1`: the switches are this process's),
with parts of the typesetting extension turned off (book.pdf.options.render_options), to see what the
rest costs: paragraph-layout and glyph-drawing only make the build
faster (the same pages); cjk-justification leaves Chinese lines ragged.

Needs py-spy (`pip install -e '.[bench]'`) and ../shared/corpus. No timing lives in the tests.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "corpus" / "hongloumeng.simp.utf8.txt"

PARTS = (
    "normalizer, templates, configuration",
    "typesetting extension (book/pdf, its C)",
    "assembly, pieces, workers",
    "Pango and HarfBuzz: breaking and shaping",
    "Python's garbage collector (--native only)",
    "WeasyPrint, libraries, start-up",
)
NORMALIZER, EXTENSION, ASSEMBLY, PANGO, COLLECTOR, OTHERS = PARTS
OURS = (NORMALIZER, EXTENSION, ASSEMBLY)
_ASSEMBLY_MODULES = {"assemble.py", "pieces.py", "alongside.py", "ffi_tables.py"}
_PANGO_LIBRARIES = ("libpango", "libharfbuzz", "libglib", "libgobject", "libfreetype", "libfontconfig", "libfribidi")
# Native frames that are the interpreter running the Python frame above them, not a library's work
_INTERPRETER = ("libpython", "libc.so", "libc-", "libm.so", "ld-linux", "python3", "_cffi_backend")
# The line of _lay_out_paragraph where Pango breaks and shapes the paragraph
_LAYOUT_CALL = "pango_layout_get_lines_readonly"

# The build in one process for --native and --without, its garbage collector set as a printing
# process sets it, the parts named in its second argument turned off.
_SETTLED_BUILD = """
import runpy, sys
sys.path.insert(0, sys.argv[1])
from book.pdf import options, writer
writer.settle_printing_process()
parts = {part.replace("-", "_"): False for part in filter(None, sys.argv[2].split(","))}
sys.argv = sys.argv[3:]
with options.render_options(**parts):
    runpy.run_path(sys.argv[0], run_name="__main__")
"""
# The parts of the typesetting extension that --without can turn off (book.pdf.options.RenderOptions).
SWITCHES = ("paragraph-layout", "glyph-drawing", "cjk-justification", "total-fit")


def record(config: Path, output: Path, native: bool, without: tuple[str, ...] = ()) -> None:
    """Sample a cold build of the PDF with py-spy into `output` (its raw format: a stack a line)."""
    build = [str(ROOT / "publish.py"), str(config), "--no-cache", "-f", "pdf", "-q"]
    if native or without:
        settled = [sys.executable, "-c", _SETTLED_BUILD, str(ROOT), ",".join(without), *build, "--jobs", "1"]
        command = ["--native", "--", *settled] if native else ["--", *settled]
    else:
        command = ["--subprocesses", "--", sys.executable, *build]
    spy = ["py-spy", "record", "--rate", "100", "--format", "raw", "--output", str(output), *command]
    subprocess.run(spy, check=True, stdout=subprocess.DEVNULL)


def _where(frame: str) -> str:
    """'function (file:line)' -> 'file:line'; a native frame without a file gives its library."""
    return frame.rsplit(" (", 1)[1].rstrip(")") if frame.endswith(")") and " (" in frame else frame


def _is_python(frame: str) -> bool:
    where = _where(frame)
    return ".py:" in where or where.startswith("<") or "book/_speedups.c" in where or _is_template(where)


def _is_template(where: str) -> bool:
    """A Jinja2 template's code (it is compiled to Python, named by the template's file)."""
    return where.rpartition(":")[0].endswith((".html", ".xhtml", ".xml", ".opf", ".ncx"))


def _ours(frame: str, lines: dict[str, list[str]]) -> str | None:
    """The part of our code a Python frame is in, or None if it is not ours."""
    where = _where(frame)
    if _is_template(where):
        return NORMALIZER
    if "/book/" not in where and not where.startswith("book/"):
        return None
    path, _, number = where.rpartition(":")
    module = path.rsplit("/", 1)[-1]
    if (
        ("/book/pdf/" in "/" + path and module != "ffi_tables.py")
        or module == "_speedups.c"
        or (module == "text.py" and frame.startswith("halt_positions"))
    ):
        if frame.startswith("_lay_out_paragraph ") and number.isdigit():
            source = lines.setdefault(path, _source(path))
            if len(source) >= int(number) and _LAYOUT_CALL in source[int(number) - 1]:
                return PANGO
        return EXTENSION
    return ASSEMBLY if module in _ASSEMBLY_MODULES else NORMALIZER


def _source(path: str) -> list[str]:
    file = Path(path) if Path(path).is_absolute() else ROOT / path
    return file.read_text(encoding="utf-8").splitlines() if file.is_file() else []


def classify(stack: list[str], native: bool, lines: dict[str, list[str]]) -> tuple[str, str]:
    """The part a sample goes to, and the frame whose own time it is."""
    frames = [frame for frame in stack if not frame.startswith("process ")]
    # Code generated at run time (a named tuple's __new__, a dataclass's __init__) is its caller's.
    while len(frames) > 1 and _where(frames[-1]).startswith("<string>"):
        frames.pop()
    if not frames:
        return OTHERS, "(no frame)"
    if native:
        # A collection runs in whichever frame happens to allocate when it is due: it is no one's.
        if any(frame.startswith("gc_collect") for frame in frames):
            return COLLECTOR, next(frame for frame in frames if frame.startswith("gc_collect"))
        for frame in reversed(frames):
            where = _where(frame)
            if _is_python(frame):
                if where.startswith("<string>"):
                    continue
                return _ours(frame, lines) or OTHERS, frame
            # A header's inline function (object.h's reference counting) is the interpreter's too.
            if frame.startswith("0x") or any(name in where for name in _INTERPRETER) or ".h:" in where:
                continue
            library = where.rsplit("/", 1)[-1].split(".so")[0]
            return (PANGO if library.startswith(_PANGO_LIBRARIES) else OTHERS), frame
        return OTHERS, frames[-1]
    innermost = frames[-1]
    return _ours(innermost, lines) or OTHERS, innermost


def report(raw: Path, top: int, native: bool, one_process: bool = False) -> None:
    """Print the shares of the parts and the `top` functions by own samples."""
    parts: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    lines: dict[str, list[str]] = {}
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        part, frame = classify(stack.split(";"), native, lines)
        parts[part] += int(count)
        name, _, where = frame.partition(" (")
        if part == PANGO and _is_python(frame):  # Pango's layout, called at that line
            name, where = _LAYOUT_CALL, f"Pango, called by {name}"
        functions[f"{name} ({where.rsplit(':', 1)[0].split('site-packages/')[-1].rstrip(')')})"] += int(count)
    total = sum(parts.values())
    processes = "one process" if native or one_process else "all processes"
    print(f"{total} samples ({processes}{', native frames' if native else ''})")
    for part in PARTS:
        print(f"  {100 * parts[part] / total:5.1f} %  {part}")
    ours = sum(parts[part] for part in OURS)
    print(f"  our own code: {100 * ours / total:.1f} % (the rule: under 10 %)")
    print(f"the {top} functions with the most samples of their own:")
    for number, (function, count) in enumerate(functions.most_common(top), 1):
        print(f"  {number:>2}. {100 * count / total:5.1f} %  {function}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--native", action="store_true", help="one process, native frames (see above)")
    parser.add_argument(
        "--raw", type=Path, help="report on samples recorded before (py-spy's raw format), on the same code"
    )
    parser.add_argument("--save", type=Path, help="keep the samples in this file")
    parser.add_argument(
        "--without", default="", help=f"comma-separated parts of the extension to turn off: {', '.join(SWITCHES)}"
    )
    args = parser.parse_args()
    without = tuple(filter(None, args.without.split(",")))
    if unknown := set(without) - set(SWITCHES):
        parser.error(f"--without: no part {', '.join(sorted(unknown))}; the parts: {', '.join(SWITCHES)}")
    if args.raw:
        report(args.raw, args.top, args.native)
        return
    if not shutil.which("py-spy"):
        sys.exit("py-spy is not installed: pip install -e '.[bench]'")
    if not SEED.is_file():
        sys.exit(f"{SEED} is absent")
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "book.yaml"
        config.write_text(f"seeds: [{SEED}]\nslug: hongloumeng\ndate: 2024-01-01\n", encoding="utf-8")
        raw = Path(folder) / "samples.txt"
        record(config, raw, args.native, without)
        if args.save:
            shutil.copyfile(raw, args.save)
        report(raw, args.top, args.native, one_process=bool(without))


if __name__ == "__main__":
    main()
