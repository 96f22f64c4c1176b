"""pdf: the print and screen PDF through WeasyPrint, with the typesetting extension for Chinese.

The only package that imports WeasyPrint. Its modules, each in its own room:

- loader: loads WeasyPrint (and the extension's C declarations) without changing other libraries
- ffi_tables: WeasyPrint's C declarations parsed once per machine (cffi tables)
- sandbox: the URL fetcher that reads only the book's own files
- fonts: the font configuration, how a face file is known, the glyphs a piece leaves to the assembler
- pages: page layout shortcuts, margin boxes held back for a piece, where each page begins
- finishing: PDF/X boxes, crop marks, output intent and page labels
- writer: the one-pass writer (write_pdf) and the piece writer (PieceWriter)
- options: RenderOptions, the parts of the extension a render uses
- justify: CJK inter-character justification (text-justify: inter-character), upstream-shaped
- paragraph: a paragraph laid out at once in one Pango layout, its lines noted
- lines: WeasyPrint's line functions, fed from the paragraph's layout
- glyphs: lines drawn from the glyphs already shaped, with their Python twins of the C loops
- patches: every change to WeasyPrint, pydyf and tinyhtml5, one table, applied by install()
"""

from . import loader as loader  # first: WeasyPrint is loaded through it
