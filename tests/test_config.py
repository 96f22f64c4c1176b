"""load_config: defaults, overrides and every problem reported at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from book.config import TRIM_PRESETS, load_config
from book.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_config_needs_only_its_seeds(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "seeds: [article.txt]\n"))
    assert config.seeds == ((tmp_path / "article.txt").resolve(),)
    assert config.slug == "article"
    assert config.language == ""  # decided from the text's script
    assert config.trim == TRIM_PRESETS["大32开"] == (140, 203)
    assert config.title is None and config.authors is None


def test_overrides(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
seeds: article.txt
title: 新书名
authors: [张三, {name: 李四, role: 译者}, {name: 王五, role: edt}]
chapter_titles: {1: 引子}
trim: {width: 150, height: 220}
""",
        )
    )
    assert config.title == "新书名"
    assert [(a.name, a.role) for a in config.authors] == [("张三", "aut"), ("李四", "trl"), ("王五", "edt")]
    assert config.chapter_titles == {1: "引子"}
    assert config.trim == (150, 220)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "seeds: [a.txt]\ntitle: [unclosed\nslug: x\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}:" in str(error.value) and "invalid YAML" in str(error.value)


def test_every_problem_is_reported_at_once_with_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "seeds: [a.txt]\ntitel: 错字\nlanguage: en\ntrim: B5\nembed_fonts: yes-please\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "4 problem(s)" in message
    assert f"{path}:2: titel: unknown key" in message
    assert f"{path}:3: language" in message
    assert f"{path}:4: trim: unknown trim 'B5'" in message and "大32开" in message
    assert f"{path}:5: embed_fonts: must be true or false" in message


def test_missing_seeds_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing required key 'seeds'"):
        load_config(write(tmp_path, "title: 书\n"))


def test_readme_reference_lists_every_key_of_the_schema() -> None:
    from book.config import SCHEMA

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## book.yaml reference", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert documented == list(SCHEMA)


def test_the_report_s_codes_are_all_documented() -> None:
    from book.report import FINDING_CODES

    document = (Path(__file__).parent.parent / "docs" / "report.md").read_text(encoding="utf-8")
    assert re.findall(r"^\| `([\w-]+)` \|", document, flags=re.M) == list(FINDING_CODES)


def test_init_and_the_readme_give_the_same_default_date() -> None:
    """`init` writes each option's help as a comment; the date's default there is the README's."""
    from book.config import SCHEMA
    from book.scaffold import book_yaml

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `date` |"))
    comment = next(line for line in book_yaml().splitlines() if line.startswith("# date:"))
    for source in ("SOURCE_DATE_EPOCH", "newest seed"):
        assert source in row and source in comment and source in SCHEMA["date"].help
