"""Load and validate book.yaml: every problem is reported at once, with its line number."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .model import Creator
from .rules import ROLE_CODES, role_code
from .schema import DEFAULT_TRIM, SCHEMA

# GB/T 788 book trim sizes, width × height in mm.
TRIM_PRESETS: dict[str, tuple[float, float]] = {
    "大32开": (140, 203),
    "32开": (130, 184),
    "A5": (148, 210),
    "16开": (185, 260),
}
FORMATS = ("epub", "pdf", "screen", "cover")
SPLITS = ("headings", "seeds", "parts")
# OpenCC configurations and the language tag of the text they produce.
CONVERSIONS = {
    "s2t": "zh-Hant",
    "s2tw": "zh-TW",
    "s2twp": "zh-TW",
    "s2hk": "zh-HK",
    "t2tw": "zh-TW",
    "t2hk": "zh-HK",
    "t2s": "zh-CN",
    "tw2s": "zh-CN",
    "tw2sp": "zh-CN",
    "hk2s": "zh-CN",
}
GENERIC_AUTHOR_WORDS = ("作者", "著")


BACKMATTER_TYPES = ("afterword", "colophon", "appendix", "epilogue")
PDF_STANDARDS = ("PDF/X-4", "PDF/X-1a")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT_PROFILE = PROJECT_ROOT / "profiles" / "book-cmyk.icc"
DEFAULT_OUTPUT_CONDITION = "CGATS TR 001"


@dataclass(frozen=True)
class PdfSettings:
    """The `pdf` options of book.yaml."""

    standard: str = "PDF/X-4"
    output_profile: Path = DEFAULT_OUTPUT_PROFILE
    output_condition: str = DEFAULT_OUTPUT_CONDITION
    screen: bool = False
    cover: bool = False
    paper_thickness: float = 0.1


WRITING_MODES = ("horizontal-tb", "vertical-rl")


@dataclass(frozen=True)
class BackMatter:
    """A back-matter section from book.yaml: its title, its text and its EPUB type."""

    title: str
    text: str
    kind: str = "afterword"
    source: str = "book.yaml"


@dataclass(frozen=True)
class Config:
    """A validated book configuration; paths are absolute."""

    path: Path
    seeds: tuple[Path, ...]
    slug: str
    split: str = "headings"
    convert: str | None = None
    encoding: str | None = None
    title: str | None = None
    subtitle: str = ""
    series: str = ""
    series_position: str = ""
    edition: str = ""
    printing: int = 1
    price: str = ""
    authors: tuple[Creator, ...] | None = None
    language: str = ""  # "": decided from the text's script (normalize.detect_language)
    publisher: str = ""
    description: str = ""
    subjects: tuple[str, ...] = ()
    rights: str = ""
    isbn: str = ""
    date: str | None = None
    lead_title: str = "导语"
    chapter_titles: dict[int, str] = field(default_factory=dict)
    trim: tuple[float, float] = TRIM_PRESETS[DEFAULT_TRIM]
    styles: Path | None = None
    cover: Path | None = None
    backmatter: tuple[BackMatter, ...] = ()
    writing_mode: str = "horizontal-tb"
    pdf: PdfSettings = field(default_factory=lambda: PdfSettings())
    embed_fonts: bool = True
    missing_glyphs: str = "fail"
    fallback_font: Path | None = None
    body_font: Path | None = None
    heading_font: Path | None = None
    cruft: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        """The book's folder: seeds and styles are relative to it."""
        return self.path.parent


class _Loader(yaml.SafeLoader):
    """YAML as book.yaml is read: a date stays text, for the date check to judge. (PyYAML's own
    constructor fails on `date: 2022-13-45` with a bare ValueError, not a YAML error.)"""


def _date_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(node.value)  # a timestamp is a scalar node: its text as written


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)


def load_config(path: Path) -> Config:
    """Read and validate a book.yaml; raise ConfigError listing every problem."""
    if not path.exists():
        raise ConfigError("config file not found", where=str(path), fix="pass the path of a book.yaml")
    if path.is_dir():
        raise ConfigError("is a folder, not a config file", where=str(path), fix="pass the book.yaml inside it")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 (byte {exc.start})", where=str(path), fix="save it as UTF-8") from exc
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context, opened = getattr(exc, "context", None) or "", getattr(exc, "context_mark", None)
        if "quoted scalar" in context and opened is not None:
            # An unclosed quote is found at the end of the file; the line to fix is where it opened.
            mark, problem = opened, f"a quote opened here is not closed ({problem})"
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"invalid YAML: {problem}", where=where, fix="fix the YAML syntax there") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of keys to values", where=str(path), fix="see README, book.yaml reference")
    return _validate(path, data, _key_lines(node))


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    """Map each top-level key to its 1-based line, for error messages."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value}


def _validate(path: Path, data: dict[str, Any], lines: dict[str, int]) -> Config:
    problems: list[str] = []

    def problem(key: str, message: str) -> None:
        problems.append(f"{path}:{lines.get(key, 1)}: {key}: {message}")

    for key in data:
        if key not in SCHEMA:
            problem(key, f"unknown key (known keys: {', '.join(SCHEMA)})")
    for key, option in SCHEMA.items():
        if key not in data or data[key] is None:
            if option.required:
                problems.append(f"{path}: missing required key '{key}' (for example `{key}: [article.txt]`)")
            continue
        if not isinstance(data[key], option.types) or (bool not in option.types and isinstance(data[key], bool)):
            names = " or ".join(_type_name(t) for t in option.types)
            problem(key, f"must be {names}, not {_type_name(type(data[key]))}")

    values = {k: data.get(k, o.default) for k, o in SCHEMA.items()}
    root = path.parent
    seeds = _check_seeds(values["seeds"], problem)
    given_authors = data.get("authors")
    authors = _check_authors(given_authors, problem) if isinstance(given_authors, list) else None
    trim = _check_trim(values["trim"], problem)
    chapter_titles = _check_chapter_titles(values["chapter_titles"], problem)
    date = _check_date(values["date"], problem)
    series, series_position = _check_series(values["series"], problem)
    cover = _check_cover(values["cover"], root, problem)
    backmatter = _check_backmatter(values["backmatter"], root, problem)
    writing_mode = _check_epub(values["epub"], problem)
    pdf = _check_pdf(values["pdf"], root, problem)
    fallback, body_font, heading_font = (
        _check_font(values, key, root, problem) for key in ("fallback_font", "body_font", "heading_font")
    )
    cruft = _check_patterns(values["cruft"], problem)
    convert = values["convert"]
    if convert is not None and convert not in CONVERSIONS:
        problem("convert", f"'{convert}' is not one of {', '.join(CONVERSIONS)}")
    language = values["language"]
    if "language" not in data and convert in CONVERSIONS:
        language = CONVERSIONS[convert]  # the language of the converted text
    if isinstance(language, str) and language and not re.fullmatch(r"zh(-(CN|TW|HK|MO|SG|Hans|Hant))?", language):
        problem("language", f"'{language}' is not a Chinese language tag (use zh-CN or zh-TW)")
    slug = values["slug"]
    if isinstance(slug, str) and not re.fullmatch(r"[\w.-]+", slug):
        problem("slug", f"'{slug}' is not a usable file name (letters, digits, '-', '_', '.')")
    if values["isbn"] and (wrong := isbn_problem(str(values["isbn"]))):
        problem("isbn", wrong)
    if not isinstance(values["printing"], int) or values["printing"] < 1:
        problem("printing", "the printing is a whole number from 1 (第1次印刷)")
    if values["missing_glyphs"] not in ("fail", "allow"):
        problem("missing_glyphs", f"'{values['missing_glyphs']}' is not fail or allow")
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the config:\n  " + "\n  ".join(problems),
            fix="see the book.yaml reference in README.md",
        )

    seed_paths = _expand_seeds(seeds, root, problem)
    if values["split"] not in SPLITS:
        problem("split", f"'{values['split']}' is not one of {', '.join(SPLITS)}")
    styles = (root / values["styles"]).resolve()
    return Config(
        path=path.resolve(),
        seeds=seed_paths,
        slug=slug or (seed_paths[0].stem if seed_paths else "book"),
        split=values["split"],
        convert=convert,
        encoding=values["encoding"],
        title=values["title"],
        subtitle=values["subtitle"],
        series=series,
        series_position=series_position,
        edition=values["edition"],
        printing=values["printing"],
        price=values["price"],
        authors=authors,
        language=language,
        publisher=values["publisher"],
        description=values["description"],
        subjects=tuple(str(s) for s in values["subjects"]),
        rights=values["rights"],
        isbn=values["isbn"],
        date=date,
        lead_title=values["lead_title"],
        chapter_titles=chapter_titles,
        trim=trim,
        styles=styles if styles.is_dir() else None,
        cover=cover,
        backmatter=backmatter,
        writing_mode=writing_mode,
        pdf=pdf,
        fallback_font=fallback,
        body_font=body_font,
        heading_font=heading_font,
        embed_fonts=values["embed_fonts"],
        missing_glyphs=values["missing_glyphs"],
        cruft=cruft,
    )


def _check_font(values: dict[str, object], key: str, root: Path, problem: Callable[[str, str], None]) -> Path | None:
    """A font file named in book.yaml: inside the book's folder (or the project's fonts/), .otf or .ttf."""
    name = values[key]
    if not isinstance(name, str):
        return None
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()) and not path.is_relative_to(PROJECT_ROOT / "fonts"):
        problem(key, f"'{name}' is outside the book's folder {root}")
    elif path.suffix.lower() not in (".otf", ".ttf") or not path.is_file():
        problem(key, f"'{name}' is not an .otf or .ttf file")
    return path


def _type_name(t: type) -> str:
    return {
        list: "a list",
        str: "text",
        dict: "a mapping",
        bool: "true or false",
        dt.date: "a date",
        int: "a number",
        float: "a number",
        type(None): "empty",
    }.get(t, t.__name__)


def _expand_seeds(seeds: list[str], root: Path, problem: Any) -> tuple[Path, ...]:
    """Seed paths, with patterns expanded in file-name order (01-序.txt, 02-第一章.txt, …)."""
    paths: list[Path] = []
    for seed in seeds:
        if any(ch in seed for ch in "*?["):
            matches = sorted(p.resolve() for p in root.glob(seed) if p.is_file())
            if not matches:
                problem("seeds", f"'{seed}' matches no file in {root}")
            paths.extend(matches)
        else:
            paths.append((root / seed).resolve())
    return tuple(paths)


def _check_seeds(value: Any, problem: Any) -> list[str]:
    seeds = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    if isinstance(value, list) and not value:
        problem("seeds", "is empty: name at least one seed file")
    if not all(isinstance(s, str) and s for s in seeds):
        problem("seeds", "every seed must be a file name")
        return []
    return seeds


def _check_authors(value: list[Any], problem: Any) -> tuple[Creator, ...]:
    creators = []
    for item in value:
        if isinstance(item, str) and item.strip():
            creators.append(Creator(name=item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            unknown = set(item) - {"name", "role", "organization"}
            if unknown:
                problem("authors", f"unknown author key(s) {sorted(unknown)} (use name, role, organization)")
            label = str(item.get("role", "作者"))
            code = role_code(label)
            if code is None:
                problem("authors", f"unknown role '{label}' (use one of {', '.join(ROLE_CODES)})")
                continue
            creators.append(
                Creator(
                    name=item["name"],
                    role=code,
                    # A plain author is credited "曹雪芹　著"; a role word like 记者 is kept as written.
                    label="" if label == code or label in GENERIC_AUTHOR_WORDS else label,
                    organization=str(item.get("organization", "")),
                )
            )
        else:
            problem("authors", f"{item!r} is neither a name nor {{name, role}}")
    return tuple(creators)


def _check_trim(value: Any, problem: Any) -> tuple[float, float]:
    if isinstance(value, str):
        if value not in TRIM_PRESETS:
            problem("trim", f"unknown trim '{value}' (presets: {', '.join(TRIM_PRESETS)}, or {{width, height}} in mm)")
            return TRIM_PRESETS[DEFAULT_TRIM]
        return TRIM_PRESETS[value]
    if isinstance(value, dict):
        w, h = value.get("width"), value.get("height")
        if set(value) != {"width", "height"} or not all(isinstance(v, int | float) and 50 <= v <= 600 for v in (w, h)):
            problem("trim", "a custom trim is {width: mm, height: mm}, each between 50 and 600")
            return TRIM_PRESETS[DEFAULT_TRIM]
        return (float(w), float(h))  # type: ignore[arg-type]  # both numbers: checked above
    return TRIM_PRESETS[DEFAULT_TRIM]


def _check_chapter_titles(value: Any, problem: Any) -> dict[int, str]:
    if not isinstance(value, dict):
        return {}
    titles = {}
    for number, title in value.items():
        if not isinstance(number, int) or number < 1 or not isinstance(title, str):
            problem("chapter_titles", f"'{number}: {title}' must be a chapter number (1, 2, …) and a title")
        else:
            titles[number] = title
    return titles


def _check_date(value: Any, problem: Any) -> str | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            problem("date", f"'{value}' is not a date of the form YYYY-MM-DD")
    return None


def _check_series(value: Any, problem: Any) -> tuple[str, str]:
    if isinstance(value, str):
        return value, ""
    if isinstance(value, dict):
        if not isinstance(value.get("name"), str) or set(value) - {"name", "position"}:
            problem("series", "is a name, or {name: …, position: …}")
            return "", ""
        position = value.get("position", "")
        return value["name"], "" if position is None else str(position)
    return "", ""


def _check_cover(value: Any, root: Path, problem: Any) -> Path | None:
    if not isinstance(value, str):
        return None
    path = (root / value).resolve()
    if not path.is_relative_to(root.resolve()):
        problem("cover", f"'{value}' is outside the book's folder {root}; the book reads only its own files")
    elif path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        problem("cover", f"'{value}' must be a PNG or JPEG file")
    elif not path.is_file():
        problem("cover", f"'{value}' not found (relative to {root})")
    else:
        return path
    return None


def _check_backmatter(value: Any, root: Path, problem: Any) -> tuple[BackMatter, ...]:
    sections = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            problem("backmatter", f"{item!r} must be {{title: …, text: … or file: …}}")
            continue
        unknown = set(item) - {"title", "text", "file", "type"}
        kind = item.get("type", "afterword")
        if unknown:
            problem("backmatter", f"unknown key(s) {sorted(unknown)} (use title, text, file, type)")
        if kind not in BACKMATTER_TYPES:
            problem("backmatter", f"type '{kind}' is not one of {', '.join(BACKMATTER_TYPES)}")
        if isinstance(item.get("file"), str):
            path = (root / item["file"]).resolve()
            if not path.is_relative_to(root.resolve()):
                problem("backmatter", f"'{item['file']}' is outside the book's folder {root}")
                continue
            try:
                text, source = path.read_text(encoding="utf-8-sig"), item["file"]
            except (OSError, UnicodeDecodeError) as exc:
                problem("backmatter", f"cannot read '{item['file']}': {exc}")
                continue
        elif isinstance(item.get("text"), str):
            text, source = item["text"], "book.yaml"
        else:
            problem("backmatter", f"'{item['title']}' needs text: … or file: …")
            continue
        sections.append(BackMatter(item["title"], text, kind, source))
    return tuple(sections)


def _check_epub(value: Any, problem: Any) -> str:
    if not isinstance(value, dict):
        return WRITING_MODES[0]
    for key in set(value) - {"writing_mode"}:
        problem("epub", f"unknown key '{key}' (known: writing_mode)")
    mode = value.get("writing_mode", WRITING_MODES[0])
    if mode not in WRITING_MODES:
        problem("epub", f"writing_mode '{mode}' is not one of {', '.join(WRITING_MODES)}")
        return WRITING_MODES[0]
    return mode


def _check_pdf(value: Any, root: Path, problem: Any) -> PdfSettings:
    if not isinstance(value, dict):
        return PdfSettings()
    known = {"standard", "output_profile", "output_condition", "screen", "cover", "paper_thickness"}
    for key in sorted(set(value) - known):
        problem("pdf", f"unknown key '{key}' (known: {', '.join(sorted(known))})")
    settings = PdfSettings()
    standard = value.get("standard", settings.standard)
    if standard not in PDF_STANDARDS:
        problem("pdf", f"standard '{standard}' is not one of {', '.join(PDF_STANDARDS)}")
        standard = settings.standard
    profile, condition = settings.output_profile, settings.output_condition
    if "output_profile" in value:
        profile = (root / str(value["output_profile"])).resolve()
        if not profile.is_relative_to(root.resolve()):
            problem("pdf", f"output_profile '{value['output_profile']}' is outside the book's folder {root}")
        elif not profile.is_file() or profile.read_bytes()[16:20] != b"CMYK":
            problem("pdf", f"output_profile '{value['output_profile']}' is not a CMYK ICC profile file")
        if not isinstance(value.get("output_condition"), str):
            problem("pdf", "output_profile needs output_condition: the press condition it describes (e.g. FOGRA39)")
    condition = str(value.get("output_condition", condition))
    thickness = value.get("paper_thickness", settings.paper_thickness)
    if not isinstance(thickness, int | float) or isinstance(thickness, bool) or not 0.02 <= thickness <= 1:
        problem("pdf", f"paper_thickness {thickness!r} must be mm per leaf, between 0.02 and 1")
        thickness = settings.paper_thickness
    flags = {}
    for key in ("screen", "cover"):
        flags[key] = value.get(key, False)
        if not isinstance(flags[key], bool):
            problem("pdf", f"{key} must be true or false")
            flags[key] = False
    return PdfSettings(standard, profile, condition, flags["screen"], flags["cover"], float(thickness))


def _check_patterns(value: Any, problem: Any) -> tuple[str, ...]:
    patterns = []
    for pattern in value if isinstance(value, list) else []:
        try:
            re.compile(str(pattern))
            patterns.append(str(pattern))
        except re.error as exc:
            problem("cruft", f"'{pattern}' is not a valid regular expression: {exc}")
    return tuple(patterns)


def build_timestamp(config: Config) -> dt.datetime:
    """The build's timestamp: SOURCE_DATE_EPOCH, else the config's date, else the newest seed's mtime."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (ValueError, OverflowError) as exc:
            raise ConfigError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time",
                fix="set it to whole seconds, e.g. $(git log -1 --format=%ct)",
            ) from exc
    if config.date:
        return dt.datetime.fromisoformat(config.date).replace(tzinfo=dt.UTC)
    newest = max((p.stat().st_mtime for p in config.seeds if p.exists()), default=0)
    return dt.datetime.fromtimestamp(int(newest), dt.UTC)


def default_formats(config: Config) -> str:
    """The outputs built when -f is not given: EPUB and print PDF, plus what book.yaml's `pdf` asks for."""
    return ",".join(["epub", "pdf"] + ["screen"] * config.pdf.screen + ["cover"] * config.pdf.cover)


def parse_formats(value: str) -> tuple[str, ...]:
    """The outputs named by -f (epub,pdf,screen,cover); a ConfigError for an unknown one."""
    formats = tuple(f.strip().lower() for f in value.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ConfigError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}",
            where="-f/--format",
            fix=f"use {', '.join(FORMATS)}, comma-separated",
        )
    return formats


def isbn_problem(isbn: str) -> str:
    """What is wrong with an ISBN-13 (its length, its prefix, its check digit), or ""."""
    digits = "".join(ch for ch in isbn if ch.isdigit())
    if len(digits) != 13 or not digits.startswith(("978", "979")):
        return f"'{isbn}' is not an ISBN-13 (13 digits, beginning 978 or 979)"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10
    if int(digits[12]) != check:
        return f"the check digit of {isbn} is {digits[12]}; its first 12 digits give {check}"
    return ""
