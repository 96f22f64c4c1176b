"""publish.py as a user runs it: outputs, the normalize command, and clear errors that change nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT, run_publish, write_book


def test_help_documents_every_option() -> None:
    result = run_publish("--help")
    assert result.returncode == 0
    for option in ("CONFIG", "normalize", "-o", "--out", "-f", "--format", "--strict", "--quiet", "--verbose"):
        assert option in result.stdout


def test_build_a_book_from_its_seeds_alone(tmp_path: Path) -> None:
    (tmp_path / "article.txt").write_text("标题\n\n第一段。\n", encoding="utf-8")
    (tmp_path / "book.yaml").write_text("seeds: [article.txt]\n", encoding="utf-8")
    result = run_publish(str(tmp_path / "book.yaml"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["article.epub", "article.pdf"]


def test_out_and_format_options(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"seed.txt": "标题\n\n第一段。\n"})
    result = run_publish(str(config), "-o", str(tmp_path / "elsewhere"), "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == ["book.epub"]


def test_normalize_writes_markdown_and_a_report(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"seed.txt": (ROOT / "seeds" / "000_2eace880ba59814b.txt").read_text("utf-8")})
    result = run_publish("normalize", str(config))
    assert result.returncode == 0, result.stderr
    for expected in (
        "removed lines (4)",
        "bylines (2)",
        "headings (3)",
        "punctuation marks changed: 123",
        "杨凌凌",
        "paragraphs: 21",
    ):
        assert expected in result.stdout
    files = sorted(p.name for p in (tmp_path / "build" / "book").iterdir())
    assert files == ["001.md", "002.md", "003.md", "004.md", "book.txt"]
    chapter = (tmp_path / "build" / "book" / "002.md").read_text("utf-8")
    assert chapter.startswith("---\n") and "\n# 以快制快，吹响紧急号角\n" in chapter


def test_normalize_shows_each_decision_and_strict_fails_on_damage(tmp_path: Path) -> None:
    """The report names each decision on a damaged text by its code; --strict fails on the damage."""
    text = (ROOT / "tests" / "cases" / "damage" / "in.txt").read_text("utf-8")
    config = write_book(tmp_path, {"seed.txt": text})
    result = run_publish("normalize", str(config))
    assert result.returncode == 0, result.stderr
    for heading in ("script (1)", "damaged text (1)", "escapes (1)", "mojibake (1)", "full-width letters (1)"):
        assert heading in result.stdout
    strict = run_publish("normalize", str(config), "--strict")
    assert strict.returncode == 1
    assert "damaged" in strict.stderr and "mojibake" in strict.stderr and "escape" in strict.stderr


BAD_INPUTS = {
    "missing seed": ({}, "seeds: [nope.txt]\n", "nope.txt", 3),
    "empty seed": ({"seed.txt": ""}, "seeds: [seed.txt]\n", "seed.txt", 3),
    "undecodable bytes": ({"seed.txt": "正文".encode() + b"\xff\xfe"}, "seeds: [seed.txt]\n", "offset 6", 3),
    "invalid YAML": ({"seed.txt": "正文。"}, "seeds: [seed.txt\ntitle: x\n", "book.yaml:", 2),
    "unknown key": ({"seed.txt": "正文。"}, "seeds: [seed.txt]\ncolour: red\n", "book.yaml:2: colour: unknown key", 2),
    # Unquoted, PyYAML's timestamp raised a bare ValueError: a 40-line traceback.
    "impossible date": (
        {"seed.txt": "正文。"},
        "seeds: [seed.txt]\ndate: 2022-13-45\n",
        "book.yaml:2: date: '2022-13-45' is not a date",
        2,
    ),
    # A quote left open on line 3 was reported at the end of the file.
    "unclosed quote": (
        {"seed.txt": "正文。"},
        'seeds: [seed.txt]\ntitle: x\ndescription: "open\nslug: s\n\n\n\n',
        "book.yaml:3: invalid YAML: a quote opened here is not closed",
        2,
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_gives_one_clear_line_and_changes_nothing(tmp_path: Path, case: str) -> None:
    seeds, config_text, expected, code = BAD_INPUTS[case]
    for name, content in seeds.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "book.yaml").write_text(config_text, encoding="utf-8")
    dist = tmp_path / "dist"
    dist.mkdir()
    previous = dist / "seed.epub"
    previous.write_bytes(b"the last good build")

    result = run_publish(str(tmp_path / "book.yaml"))
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in dist.iterdir()) == ["seed.epub"], "a partial or temporary file was left"
    assert previous.read_bytes() == b"the last good build"


def test_a_failing_format_leaves_the_other_outputs_as_they_were(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"seed.txt": "标题\n\n正文。\n"})
    assert run_publish(str(config)).returncode == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "dist").iterdir()}
    (tmp_path / "styles" / "print").mkdir(parents=True)
    (tmp_path / "styles" / "print" / "book.html").write_text("{{ no_such_variable }}", encoding="utf-8")
    result = run_publish(str(config))
    assert result.returncode == 4 and "error: " in result.stderr
    after = {p.name: p.read_bytes() for p in (tmp_path / "dist").iterdir()}
    assert after == before


@pytest.mark.java
@pytest.mark.slow
def test_init_scaffolds_a_book_that_builds_and_never_overwrites(tmp_path: Path) -> None:
    import yaml

    from book.schema import SCHEMA

    from .helpers import assert_epubcheck_clean

    folder = tmp_path / "新书"
    assert run_publish("init", str(folder)).returncode == 0
    config = (folder / "book.yaml").read_text(encoding="utf-8")
    for key in SCHEMA:  # every option is there, explained
        assert f"# {key}: " in config
    # Uncommenting every default gives a valid config.
    defaults = "\n".join(
        line[2:]
        for line in config.splitlines()
        if line.startswith("# ")
        and ": " in line[2:]
        and line[2:].split(":")[0] in SCHEMA
        and not line[2:].split(": ", 1)[1][0].isupper()
    )
    assert isinstance(yaml.safe_load(defaults), dict)
    result = run_publish(str(folder / "book.yaml"))
    assert result.returncode == 0, result.stderr
    assert_epubcheck_clean(folder / "dist" / "sample.epub")
    before = (folder / "book.yaml").read_bytes()
    again = run_publish("init", str(folder))
    assert again.returncode == 5 and "never overwrites" in again.stderr
    assert (folder / "book.yaml").read_bytes() == before


def test_many_books_build_in_parallel_and_one_failure_stops_none(tmp_path: Path) -> None:
    for name, text in (("a", "甲书\n\n正文。\n"), ("b", ""), ("c", "丙书\n\n正文。\n")):
        (tmp_path / "books" / name).mkdir(parents=True)
        (tmp_path / "books" / name / "seed.txt").write_text(text, encoding="utf-8")
        (tmp_path / "books" / name / "book.yaml").write_text(f"seeds: [seed.txt]\nslug: {name}\n", encoding="utf-8")
    configs = [str(tmp_path / "books" / name / "book.yaml") for name in "abc"]
    result = run_publish("build", *configs, "--jobs", "2", "-f", "epub")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OK") and "《甲书》" in lines[0]
    assert lines[1].startswith("FAIL") and "seed file is empty" in lines[1]
    assert lines[2].startswith("OK") and "《丙书》" in lines[2]
    assert lines[3] == "2 of 3 books built"
    assert (tmp_path / "books" / "a" / "dist" / "a.epub").is_file()
    assert (tmp_path / "books" / "c" / "dist" / "c.epub").is_file()


def test_on_a_terminal_progress_shows_and_the_pdf_prints_alongside(tmp_path: Path) -> None:
    import os
    import pty

    # A pseudo-terminal, as a user's: the spinner must not cost the second process (no timer thread).
    pid, fd = pty.fork()
    if pid == 0:  # the child becomes publish.py on the terminal
        os.execv(sys.executable, [sys.executable, str(ROOT / "publish.py"), "-o", str(tmp_path), "-v"])
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal closes when publish.py exits
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "write pdf (alongside)" in text and "built 《" in text
    assert "laying out the PDF: page 12" in text  # the spinner shows each message


def test_progress_by_stage_and_page(tmp_path: Path) -> None:
    from book.build import build
    from book.config import load_config

    messages: list[str] = []
    build(load_config(ROOT / "book.yaml"), tmp_path, progress=messages.append)
    assert messages[0] == "reading and normalizing the seeds"
    pages = [m for m in messages if m.startswith("laying out the PDF: page ")]
    assert pages[0].endswith(" 1") and len(pages) >= 12
    assert "writing the EPUB" in messages
    # Not a terminal: the command prints only its result lines, no spinner.
    result = run_publish(str(ROOT / "book.yaml"), "-o", str(tmp_path / "out"))
    assert [line.split()[-1] for line in result.stdout.splitlines()][-1] == "s"
    assert "\x1b[" not in result.stdout and len(result.stdout.splitlines()) == 3


def test_one_bar_runs_once_over_the_whole_build(tmp_path: Path) -> None:
    """The print, screen and cover PDFs each lay out from page 1: the bar moves on through them and
    never starts again (it ran from page 1 up three times), and ends when the build does."""
    from book.build import build
    from book.config import load_config

    steps: list[tuple[str, float]] = []
    formats = ("epub", "pdf", "screen", "cover")
    build(load_config(ROOT / "book.yaml"), tmp_path, formats, bar=lambda message, done: steps.append((message, done)))
    values = [done for _, done in steps]
    assert values == sorted(values) and values[0] < 0.1 and values[-1] == 1.0
    pages = [(message, done) for message, done in steps if message == "laying out the PDF: page 1"]
    assert len(pages) >= 2  # page 1 of the print PDF, and of the screen PDF later
    assert pages[-1][1] > pages[0][1] + 0.2, pages  # the screen's page 1 is far along the bar
    assert len({round(done, 2) for done in values}) > 10  # it moves page by page


def test_the_installed_command_is_publish() -> None:
    """`pip install -e .` installs the command `publish`, the same as `python publish.py`."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "publish"]
    assert script.value == "book.cli:main"
    command = Path(sys.executable).parent / "publish"
    result = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "normalize" in result.stdout


def test_a_seed_without_chinese_text_is_a_warning(tmp_path: Path) -> None:
    """/etc/passwd as a seed builds, but the build says that the book holds no Chinese text."""
    passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    config = write_book(tmp_path, {"passwd.txt": passwd})
    result = run_publish(str(config), "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert "warning: passwd.txt:1: no Chinese text in passwd.txt" in result.stderr


def test_screen_and_cover_alone_leave_the_print_pdf_as_it_was(tmp_path: Path) -> None:
    """`-f screen,cover` writes those two; the print PDF, which the cover's spine is counted from, is
    not rewritten in dist/."""
    config = write_book(tmp_path, {"seed.txt": "书名\n\n第一章　开始\n\n正文一段。\n\n第二章　继续\n\n正文二段。\n"})
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "book.pdf").write_bytes(b"the print PDF of the last build")
    result = run_publish(str(config), "-f", "screen,cover")
    assert result.returncode == 0, result.stderr
    assert (dist / "book.pdf").read_bytes() == b"the print PDF of the last build"
    assert (dist / "book-screen.pdf").stat().st_size > 1000 and (dist / "book-cover.pdf").stat().st_size > 1000
    assert sorted(p.name for p in dist.iterdir()) == ["book-cover.pdf", "book-screen.pdf", "book.pdf"]


def test_a_python_without_the_packages_is_told_how_to_install_them(tmp_path: Path) -> None:
    """Run by an interpreter the packages were not installed for, publish.py says so in one line
    (it died with an AssertionError in a 15-line traceback), and the Makefile's install stamps name
    the interpreter, so that `make book PYTHON=…` installs for it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    bare = tmp_path / "bare" / "bin" / "python"
    result = subprocess.run([str(bare), str(ROOT / "publish.py"), "--help"], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {bare} lacks packages the book needs (weasyprint,")
    assert ".venv/bin/python publish.py" in line
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "INTERPRETER" in makefile.split("STAMP :=")[1].split("\n")[0]


def test_the_two_commands_install_into_a_virtual_environment_of_their_own() -> None:
    """Debian's Python refuses pip outside a virtual environment (PEP 668): make book and make test
    make .venv and install and run everything with its interpreter, never with PYTHON's pip."""
    for target in ("book", "test"):
        result = subprocess.run(
            ["make", "-n", "-B", "--no-print-directory", target, "PYTHON=/usr/bin/python3"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        commands = result.stdout.splitlines()
        assert "sh .ci/make-venv /usr/bin/python3 .venv" in commands
        pip = [c for c in commands if " pip install" in c]
        assert pip and all(c.startswith(".venv/bin/python -m pip install") for c in pip), pip
        run = commands[-1]
        assert run.startswith(".venv/bin/python "), run
    script = (ROOT / ".ci" / "make-venv").read_text(encoding="utf-8")
    assert "-m venv" in script and "-venv" in script  # Debian's python3.X-venv, installed when missing
