"""read_seed: decoding and the errors for files that cannot be read."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from book.errors import SourceError
from book.read import read_seed


def test_utf8_with_and_without_bom(tmp_path: Path) -> None:
    plain, bom = tmp_path / "a.txt", tmp_path / "b.txt"
    plain.write_bytes("第一回\n甄士隐梦幻识通灵".encode())
    bom.write_bytes(codecs.BOM_UTF8 + "第一回\n甄士隐梦幻识通灵".encode())
    assert read_seed(plain).text == read_seed(bom).text == "第一回\n甄士隐梦幻识通灵"
    assert read_seed(bom).encoding == "utf-8-sig"


def test_undecodable_bytes_name_file_line_and_offset(tmp_path: Path) -> None:
    seed = tmp_path / "bad.txt"
    seed.write_bytes("第一行\n第二行".encode() + b"\xff\xfe" + "后文".encode())
    with pytest.raises(SourceError) as error:
        read_seed(seed)
    message = str(error.value)
    assert f"{seed}:2" in message
    assert "offset 19" in message and "0xFF" in message


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty_seed_is_an_error(tmp_path: Path, content: bytes) -> None:
    seed = tmp_path / "empty.txt"
    seed.write_bytes(content)
    with pytest.raises(SourceError, match="empty"):
        read_seed(seed)


def test_missing_seed_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        read_seed(tmp_path / "nope.txt")
    with pytest.raises(SourceError, match="folder"):
        read_seed(tmp_path)
