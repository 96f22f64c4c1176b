"""loader: loads WeasyPrint for the PDF writer, faster than a plain import, and changes nothing else.

Every module of book.pdf imports WeasyPrint after this one (book/pdf/__init__.py imports it first).
While WeasyPrint loads, ctypes' library search is skipped and two fontTools modules are stood in
for; both are put back before the import returns. WeasyPrint's C declarations come from cffi
tables kept between processes (ffi_tables.py), with the extension's own declarations among them.
"""

from __future__ import annotations

import ctypes.util
import importlib
import sys
import types
from collections.abc import Callable

from . import ffi_tables

# WeasyPrint tries each library under the names of every platform (libpango-1.0-0, pango-1.0, …,
# libpango-1.0.so.0); for every miss cffi runs ctypes.util.find_library, which starts ldconfig and
# gcc: about 0.5 s of the 1 s WeasyPrint takes to load. On Linux the soname it tries next loads
# directly through the dynamic loader, so the search is skipped while WeasyPrint loads.
_find_library = ctypes.util.find_library


def _no_search(name: str) -> str | None:
    return None


if sys.platform == "linux":
    ctypes.util.find_library = _no_search


class _OnFirstCall(types.ModuleType):
    """Stands in, while WeasyPrint loads, for a module that WeasyPrint's font embedding imports
    but this build never calls, since book/assemble.py embeds the fonts: fontTools' subsetter
    and instancer take 0.2 s to import. A name taken from it imports the real module when called."""

    def __getattr__(self, name: str) -> Callable[..., object]:
        if name.startswith("__"):
            raise AttributeError(name)
        module = self.__name__
        return lambda *args, **kwargs: getattr(importlib.import_module(module), name)(*args, **kwargs)


# C functions the extension calls that WeasyPrint does not declare: Pango's allow-breaks
# attribute (1.44), a line list without a copy, a first-line indent; a reference to a font.
DECLARATIONS = (
    "PangoAttribute * pango_attr_allow_breaks_new (gboolean allow_breaks);"
    "gpointer g_object_ref (gpointer object);"
    "GSList * pango_layout_get_lines_readonly (PangoLayout *layout);"
    "void pango_layout_set_indent (PangoLayout *layout, int indent);"
)
_DEFERRED = ("fontTools.subset", "fontTools.varLib.instancer")
for _name in _DEFERRED:
    sys.modules.setdefault(_name, _OnFirstCall(_name))
ffi_tables.install(DECLARATIONS)
try:
    import weasyprint
finally:
    ctypes.util.find_library = _find_library
    for _name in _DEFERRED:
        if isinstance(sys.modules.get(_name), _OnFirstCall):
            del sys.modules[_name]  # whoever imports it from now on gets the real module

from weasyprint.text.ffi import ffi

ffi.cdef(DECLARATIONS)  # none to add where WeasyPrint's FFI came from the tables
ffi_tables.save(ffi)

__all__ = ["weasyprint"]
