"""WeasyPrint's C declarations from cffi tables (book/pdf/ffi_tables.py): the same C types as parsed ones,
used by the next process, and a damaged table is passed over."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import cffi

from book.pdf import ffi_tables

ROOT = Path(__file__).resolve().parents[1]


def _weasyprint_declarations() -> str:
    spec = importlib.util.find_spec("weasyprint")
    assert spec is not None and spec.submodule_search_locations
    source = (Path(spec.submodule_search_locations[0]) / "text" / "ffi.py").read_text(encoding="utf-8")
    assert "\nffi = cffi.FFI()\n" in source  # where ffi_tables hands it the tabled FFI
    (declarations,) = [
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "cdef"
    ]
    return declarations


def test_tables_give_the_types_and_layouts_that_parsing_gives(tmp_path: Path, monkeypatch) -> None:
    from book.pdf import loader

    parsed = cffi.FFI()
    parsed.cdef(_weasyprint_declarations())
    parsed.cdef(loader.DECLARATIONS)
    monkeypatch.setattr(ffi_tables, "_table", tmp_path / "_weasyprint_ffi_test.py")
    ffi_tables.save(parsed)
    tabled = ffi_tables._load(tmp_path / "_weasyprint_ffi_test.py")

    typedefs, structs, unions = parsed.list_types()
    assert tabled.list_types() == (typedefs, structs, unions)
    assert len(typedefs) > 50 and "PangoRectangle" in typedefs
    for name in typedefs + [f"struct {s}" for s in structs] + [f"union {u}" for u in unions]:
        kind = parsed.typeof(name).kind
        assert tabled.typeof(name).kind == kind, name
        if kind in ("struct", "union") and parsed.typeof(name).fields is None:
            continue  # opaque: declared, never laid out
        if kind not in ("function", "void"):
            assert tabled.sizeof(name) == parsed.sizeof(name), name
        if kind == "struct":
            assert _fields(tabled, name) == _fields(parsed, name), name
    # The functions the extension calls are in them.
    pango = tabled.dlopen("libpango-1.0.so.0")
    assert pango.pango_layout_get_lines_readonly and pango.pango_layout_set_indent


def _fields(ffi: object, name: str) -> list[tuple[str, int, str, int]]:
    return [(f, field.offset, field.type.kind, field.bitsize) for f, field in ffi.typeof(name).fields]  # type: ignore[attr-defined]


def _ffi_kind(cache: Path) -> str:
    program = "import book.pdf; from weasyprint.text import ffi; print(type(ffi.ffi).__name__)"
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_the_first_process_keeps_the_tables_and_the_next_loads_from_them(tmp_path: Path) -> None:
    assert _ffi_kind(tmp_path) == "FFI"  # parsed, and the tables kept
    (table,) = (tmp_path / "book-publish").glob("_weasyprint_ffi_*.py")
    assert _ffi_kind(tmp_path) == "TabledFFI"
    table.write_text("ffi = None\n", encoding="utf-8")  # damaged: parsed again, and kept anew
    assert _ffi_kind(tmp_path) == "FFI"
    assert _ffi_kind(tmp_path) == "TabledFFI"
