"""ffi_tables: WeasyPrint's C declarations, parsed once per machine rather than once per process.

WeasyPrint declares the C functions it calls (Pango, HarfBuzz, Fontconfig) in cffi's in-line ABI
mode. Every process parses those 16 kB of declarations with pycparser as WeasyPrint loads, and
parses a C type again the first time it is used (`ffi.new("PangoRectangle *")`): 0.16 s of every
process that prints, before it lays out a page. cffi's out-of-line ABI mode keeps parsed
declarations as tables in a generated Python module ("Out-of-line, ABI level" in cffi's docs),
which loads in a few milliseconds and looks types up in C.

`install()` has WeasyPrint's text/ffi.py get its FFI from such tables. They are made, the first
time, from the FFI WeasyPrint parsed (`save()`), and kept in the user's cache folder under a
hash of text/ffi.py, of the extension's own declarations and of cffi's version: an upgrade of
either makes new ones. Where they cannot be kept, WeasyPrint parses its declarations as before.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import sys
import tempfile
import types
from pathlib import Path

import _cffi_backend
import cffi
from cffi.recompiler import make_py_source

_MODULE = "weasyprint.text.ffi"
_table: Path | None = None  # where this process's tables are, or would be kept


class TabledFFI(_cffi_backend.FFI):
    """An FFI made from tables. Its declarations are all in the tables, so cdef adds none: the
    tables' name holds the hash of WeasyPrint's declarations and of the extension's."""

    def cdef(self, source: str, override: bool = False, packed: bool = False, pack: int | None = None) -> None:
        pass


def install(declarations: str) -> None:
    """Before WeasyPrint loads: give its ffi module an FFI made from the tables of its declarations
    and of `declarations` (the extension's), if they were kept; else note where to keep them."""
    global _table
    if _MODULE in sys.modules:
        return
    spec = importlib.util.find_spec("weasyprint")  # finds the package without loading it
    if spec is None or not spec.submodule_search_locations:
        return
    try:
        weasyprint_ffi = (Path(spec.submodule_search_locations[0]) / "text" / "ffi.py").read_bytes()
    except OSError:
        return
    key = hashlib.sha256(
        b"\0".join(
            (weasyprint_ffi, declarations.encode(), cffi.__version__.encode(), sys.implementation.cache_tag.encode())
        )
    ).hexdigest()[:20]
    try:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home folder: nowhere to keep them
        return
    _table = cache / "book-publish" / f"_weasyprint_ffi_{key}.py"
    try:
        ffi = _load(_table)
    except Exception:  # none yet (save makes them), or unusable: WeasyPrint parses, as it would
        return
    sys.meta_path.insert(0, _Finder(ffi))


def save(ffi: object) -> None:
    """After WeasyPrint loaded without tables: keep the tables of what its FFI parsed (the
    extension's declarations included), for the next process."""
    if _table is None or isinstance(ffi, TabledFFI):
        return
    source = io.StringIO()
    try:
        make_py_source(ffi, _table.stem, source)  # what ffi.emit_python_code writes, without a word to stdout
        _table.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=_table.parent) as folder:
            made = Path(folder) / _table.name
            made.write_text(source.getvalue(), encoding="utf-8")
            _load(made)  # tables that load, or none
            os.replace(made, _table)  # at once: another process may be reading them
    except Exception:  # the tables are only a shortcut: a build never fails for them
        pass


def _load(table: Path) -> TabledFFI:
    """The FFI of a module of tables written by cffi's emit_python_code, made a TabledFFI."""
    code = compile(table.read_bytes(), str(table), "exec")
    backend = types.SimpleNamespace(FFI=TabledFFI)

    def import_(name: str, *args: object, **kwargs: object) -> object:
        return backend if name == "_cffi_backend" else builtins.__import__(name, *args, **kwargs)  # type: ignore[arg-type]

    namespace: dict[str, object] = {"__builtins__": {**vars(builtins), "__import__": import_}, "__name__": table.stem}
    exec(code, namespace)  # the module cffi wrote: `ffi = _cffi_backend.FFI(<tables>)`
    ffi = namespace.get("ffi")
    if not isinstance(ffi, TabledFFI):
        raise ValueError(f"{table}: not a module of cffi tables")
    return ffi


class _Finder(importlib.abc.MetaPathFinder):
    """Finds WeasyPrint's ffi module as usual, and has it run with `cffi.FFI()` giving the tabled FFI."""

    def __init__(self, ffi: TabledFFI) -> None:
        self.ffi = ffi

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name != _MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)  # type: ignore[arg-type]
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, self.ffi)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, ffi: TabledFFI) -> None:
        self.loader, self.ffi = loader, ffi

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        make = cffi.FFI
        cffi.FFI = lambda: self.ffi  # text/ffi.py: `ffi = cffi.FFI()`
        try:
            self.loader.exec_module(module)
        finally:
            cffi.FFI = make
