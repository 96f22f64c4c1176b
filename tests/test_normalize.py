"""The normalizer on the seed article and small cases, against reviewed expected files.

Regenerate the expected files after a reviewed change with:  UPDATE_GOLDEN=1 python -m pytest tests/test_normalize.py
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from pathlib import Path

import pytest

from book.config import Config, load_config
from book.model import Manuscript, SeedText
from book.normalize import normalize
from book.report import manuscript_text
from book.text import han_characters

from .helpers import CASES, MARKDOWN, ROOT, SEED, normalize_text, summary


def check_golden(actual: str, expected_file: Path) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    diff = "\n".join(
        difflib.unified_diff(expected.splitlines(), actual.splitlines(), "expected", "actual", lineterm="")
    )
    assert actual == expected, f"normalized output differs from {expected_file}:\n{diff}"


@pytest.fixture(scope="module")
def seed() -> Manuscript:
    config = load_config(ROOT / "book.yaml")
    text = (ROOT / "seeds" / SEED).read_text(encoding="utf-8")
    return normalize([SeedText(Path(SEED), text, "utf-8")], config)


def test_seed_matches_reviewed_golden_file(seed: Manuscript) -> None:
    check_golden(summary(seed), CASES / "seed" / "expected.yaml")


def test_seed_structure(seed: Manuscript) -> None:
    meta = seed.metadata
    assert meta.title == "从确诊病例居全市之首到实现社会面清零"
    assert [(c.name, c.role, c.label, c.organization) for c in meta.creators] == [
        ("杨凌凌", "aut", "记者", "株洲日报全媒体"),
        ("钟兴", "ctb", "通讯员", ""),
    ]
    assert [c.title for c in seed.chapters] == [
        "导语",
        "以快制快，吹响紧急号角",
        "以变应变，有序有力灭疫情",
        "通力协作，筑起抗疫防线",
    ]
    assert [len(c.paragraphs) for c in seed.chapters] == [2, 6, 5, 8]
    text = "\n".join(b.text for c in seed.chapters for b in c.blocks)
    assert "上一篇" not in text and "下一篇" not in text and "杨凌凌" not in text and "钟兴" not in text
    assert [f.line for f in seed.findings_of("removed")] == [3, 4, 57, 58]


def test_seed_punctuation(seed: Manuscript) -> None:
    text = "\n".join(b.text for c in seed.chapters for b in c.blocks)
    assert not set(",?()") & set(text)
    assert "2.5平方公里，41栋" in text and "1681户" in text and "11月12日" in text and "1办15“组”" in text
    assert "黄兜（采样物资袋和医废袋）" in text and "累吗？”" in text
    assert text.count("……") == 4 and "…………" not in text  # as many as the seed has


def test_seed_keeps_every_han_character_in_order(seed: Manuscript) -> None:
    source = (ROOT / "seeds" / SEED).read_text(encoding="utf-8").splitlines()
    removed = {f.line for f in seed.findings_of("removed")}
    expected = han_characters("".join(line for n, line in enumerate(source, 1) if n not in removed))
    byline = "".join(c.organization + c.label + c.name for c in seed.metadata.creators)
    kept = (
        seed.metadata.title
        + byline
        + "".join((c.title if c.title_line else "") + "".join(b.text for b in c.blocks) for c in seed.chapters)
    )
    assert han_characters(kept) == expected


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "in.txt").exists()))
def test_case(case: str) -> None:
    text = (CASES / case / "in.txt").read_text(encoding="utf-8")
    check_golden(summary(normalize_text(text)), CASES / case / "expected.yaml")


def test_config_overrides_title_authors_and_chapter_titles(seed: Manuscript) -> None:
    from book.model import Creator

    text = (ROOT / "seeds" / SEED).read_text(encoding="utf-8")
    manuscript = normalize_text(
        text, title="芦淞战疫", authors=(Creator("株洲日报", "aut"),), chapter_titles={1: "引子", 4: "尾声"}
    )
    assert manuscript.metadata.title == "芦淞战疫"
    assert [c.name for c in manuscript.metadata.creators] == ["株洲日报"]
    assert [c.title for c in manuscript.chapters][::3] == ["引子", "尾声"]
    # The seed's own title line is still recognised as the title, not made a chapter.
    assert len(manuscript.chapters) == 4


def test_normalized_text_normalizes_to_the_same_book(seed: Manuscript) -> None:
    again = normalize_text(manuscript_text(seed))
    assert summary(again).split("removed:")[0] == summary(seed).split("removed:")[0]


def test_rules_are_general_not_for_one_file() -> None:
    text = "\n".join(
        [
            "长江日报记者/张三　李四",
            "",
            "下一篇：另一篇新闻的标题",
            "",
            "这是第一段，说明了事情的经过。",
            "",
            "第一章　开端",
            "",
            "正文第一段,这里有英文标点?是的.",
            "",
            "返回顶部",
        ]
    )
    manuscript = normalize_text(text)
    assert [(c.name, c.label, c.organization) for c in manuscript.metadata.creators] == [
        ("张三", "记者", "长江日报"),
        ("李四", "记者", "长江日报"),
    ]
    assert [c.title for c in manuscript.chapters] == ["导语", "第一章　开端"]
    assert manuscript.chapters[1].blocks[0].text == "正文第一段，这里有英文标点？是的。"
    assert len(manuscript.findings_of("removed")) == 2


def test_script_conversion_follows_the_target_locale() -> None:
    traditional = normalize_text('书名\n\n他说:"软件和鼠标。"\n', convert="s2twp", language="zh-TW")
    assert traditional.chapters[0].blocks[0].text == "他說：「軟體和滑鼠。」"
    simplified = normalize_text("書名\n\n《墨子閒詁》曰︰「維，繫也」。\n", convert="t2s")
    assert simplified.chapters[0].blocks[0].text == "《墨子闲诂》曰︰“维，系也”。"
    assert simplified.findings_of("converted")


def test_encodings_are_detected_and_reported(tmp_path: Path) -> None:
    from book.read import read_seed

    text = "第一章　开端\n\n他说：“你好。”這裡有繁體字。\n"
    for encoding in ("gb18030", "big5", "utf-16"):
        path = tmp_path / f"seed-{encoding}.txt"
        sample = text if encoding != "big5" else "第一章　開端\n\n他說：「你好。」這裡有繁體字。\n"
        path.write_bytes(sample.encode(encoding))
        seed = read_seed(path)
        assert seed.text == sample
        assert seed.encoding.replace("_", "-") == {"gb18030": "gb18030", "big5": "big5", "utf-16": "utf-16"}[encoding]
    forced = tmp_path / "forced.txt"
    forced.write_bytes("第一段。".encode("gb18030") + b"\xff")
    seed = read_seed(forced, "gb18030")
    assert seed.text.startswith("第一段。") and seed.findings[0].code == "replacement-char"


def test_hard_wrapped_paragraphs_are_joined_and_menus_removed() -> None:
    wrapped = (
        "标题\n\n"
        + "\n".join(["   " + "这是一个很长的段落，" * 6] * 3 + ["   最后一行。"])
        + "\n\n"
        + "\n".join(["  * · 首页", "  * · 新闻", "  * · 关于"])
        + "\n\n   另一段。\n"
    )
    manuscript = normalize_text(wrapped)
    paragraphs = [b.text for c in manuscript.chapters for b in c.blocks]
    assert paragraphs == ["这是一个很长的段落，" * 18 + "最后一行。", "另一段。"]
    assert len(manuscript.findings_of("removed")) == 3


def test_markdown_seed_blocks() -> None:
    manuscript = normalize_text(MARKDOWN, name="book.md")
    assert [c.title for c in manuscript.chapters] == ["第一章　开端", "第二章　发展"]
    blocks = [(b.kind, b.text, b.label) for b in manuscript.chapters[0].blocks]
    assert blocks == [
        ("paragraph", "这是**重要**的一段，含有*强调*文字，还有脚注[^1]。这一行接着上一行继续。", ""),
        ("quote", "引用的一段话。", ""),
        ("item", "第一项", ""),
        ("item", "第二项", ""),
        ("ordered-item", "甲", ""),
        ("ordered-item", "乙", ""),
        ("paragraph", "- 这一行以减号开头，不是列表。", ""),
        ("note", "这是脚注的内容。", "1"),
    ]
    assert manuscript.findings_of("front-matter")


def test_normalize_output_can_be_fed_back_as_a_seed(tmp_path: Path) -> None:
    from book.report import manuscript_markdown

    once = normalize_text((ROOT / "seeds" / SEED).read_text(encoding="utf-8"))
    for name, text in manuscript_markdown(once).items():
        again = normalize_text(text, name=name)
        chapter = once.chapters[int(name[:3]) - 1]
        assert [b.text for b in again.chapters[0].blocks] == [b.text for b in chapter.blocks]
        assert again.chapters[0].title == chapter.title


def test_a_heading_run_into_the_text_is_split_off() -> None:
    text = (
        "书名\n\n第一回　甄士隐梦幻识通灵　此开卷第一回也。作者自云：因曾历过一番梦幻之后，故将真事隐去。\n\n"
        "第二回　贾夫人仙逝扬州城\n\n正文。\n"
    )
    manuscript = normalize_text(text)
    assert [c.title for c in manuscript.chapters] == ["第一回　甄士隐梦幻识通灵", "第二回　贾夫人仙逝扬州城"]
    assert manuscript.chapters[0].blocks[0].text.startswith("此开卷第一回也。")
    assert manuscript.findings_of("heading-split")


def test_a_title_line_names_its_author_after_the_title() -> None:
    # Plain-text e-books open with 《书名》作者 (the 红楼梦 of the corpus does): the title is the
    # name in book-title marks, and the name after it, begun by a surname, is the author.
    book = normalize_text(
        "《红楼梦》曹雪芹\n\n第一回　甄士隐梦幻识通灵\n\n此开卷第一回也。\n\n第二回　贾夫人仙逝扬州城\n\n又是一回。\n"
    )
    assert book.metadata.title == "红楼梦"
    assert [(c.name, c.role) for c in book.metadata.creators] == [("曹雪芹", "aut")]
    assert "曹雪芹" in book.findings_of("title")[0].message
    assert (
        normalize_text("《呐喊》 鲁迅 著\n\n自序\n\n我在年青时候也曾经做过许多梦。\n").metadata.creators[0].name
        == "鲁迅"
    )
    # Not a name: a study of the novel keeps its whole title, and no author is made up.
    study = normalize_text("《红楼梦》研究\n\n第一章　版本\n\n正文。\n\n第二章　人物\n\n正文。\n")
    assert study.metadata.title == "《红楼梦》研究" and not study.metadata.creators


def test_each_article_of_several_seeds_keeps_its_title_and_byline() -> None:
    """Several seeds are articles: each title line heads its own chapter (none is headed 导语), each
    article's byline is read, and the first title names the book unless book.yaml does."""
    first = SeedText(Path("a.txt"), "某地发生大事\n\n本报讯（记者刘俊）今天上午，某地发生大事。\n\n第二段。\n", "utf-8")
    second = SeedText(Path("b.txt"), "另一篇报道\n\n南都讯　记者刘凡\n\n正文一段。\n", "utf-8")
    config = Config(path=Path("/book/book.yaml"), seeds=(), slug="book")
    for split in ("headings", "seeds"):
        book = normalize([first, second], dataclasses.replace(config, split=split))
        assert [c.title for c in book.chapters] == ["某地发生大事", "另一篇报道"]
        assert [c.name for c in book.metadata.creators] == ["刘俊", "刘凡"]
        assert book.metadata.title == "某地发生大事"
        assert book.chapters[1].blocks[0].text == "南都讯　正文一段。"
    titled = normalize([first, second], dataclasses.replace(config, title="新闻选"))
    assert titled.metadata.title == "新闻选" and titled.chapters[0].title == "某地发生大事"


def test_a_gutenberg_licence_header_and_footer_are_removed_and_name_the_book() -> None:
    """Everything up to `*** START OF …` and from `*** END OF …` on is licence text, even where the
    header itself mentions an end; the header's Title: and Author: name the book."""
    text = (
        "The Project Gutenberg EBook of Journey to the West\n\nTitle: 西遊記\n\nAuthor: Cheng'en Wu\n\n"
        "End of Project Gutenberg's notice\n\n*** START OF THIS PROJECT GUTENBERG EBOOK 西遊記 ***\n\n"
        "第一回　開篇\n\n正文一段。\n\n*** END OF THIS PROJECT GUTENBERG EBOOK 西遊記 ***\n\nlicence text\n"
    )
    book = normalize_text(text)
    assert book.metadata.title == "西遊記" and [c.name for c in book.metadata.creators] == ["Cheng'en Wu"]
    assert [(c.title, [b.text for b in c.blocks]) for c in book.chapters] == [("第一回　開篇", ["正文一段。"])]
    assert [(f.line, f.end_line) for f in book.findings_of("boilerplate")] == [(15, 17), (1, 9)]
