/* book._speedups: loops that run over every line, glyph or character of a book, in C. Each
 * has its Python twin, which runs where this module was not compiled; tests compare the two.
 *
 * show_run: write_pdf._show_glyphs writes a line's glyphs as the operand of a PDF TJ operator,
 * each glyph where Pango placed it. Its loop over the glyphs of a run is the same arithmetic for
 * every glyph of a book (a 1,500-page novel has about 850,000), and as Python it was a tenth of a
 * build's time. This is that loop, glyph for glyph the same: the same arithmetic in doubles,
 * rounded half to even as Python's round(), and the same text. The Python loop also shows the
 * runs this one hands back.
 *
 * paragraph_lines: write_pdf._lay_out_paragraph takes the lines of a paragraph's PangoLayout
 * (about 45,000 for a 1,500-page novel): each line's extents, whether it is kept, its runs'
 * glyphs, and its expansion opportunities for justification. Through cffi and Python that took
 * 17-22 µs a line, this takes 4-5 (红楼梦's 1-9 回, Pango's measure of the line included). It
 * reads the same fields of the same structs, declared here as pango-layout.h, pango-item.h and
 * pango-glyph.h declare them (as WeasyPrint's cffi declarations do), and makes the same lines.
 *
 * distinct_characters: the characters of a book, each once, for the glyph check and the EPUB's
 * font subsets (fonts.py). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define EMPTY_GLYPH 0x0FFFFFFF /* PANGO_GLYPH_EMPTY */

/* PangoGlyphInfo: the glyph, its width, x and y offsets (PangoGlyphGeometry), and its attributes. */
typedef struct {
    int32_t glyph, width, x_offset, y_offset, attr;
} GlyphInfo;

/* The Pango structs paragraph_lines reads, up to the last field it reads (Pango 1.44 to 1.56). */
typedef struct GSList_ {
    void *data;
    struct GSList_ *next;
} GSList_;

typedef struct {
    void *shape_engine, *lang_engine, *font; /* PangoAnalysis, up to its font */
} Analysis;

typedef struct {
    int offset, length, num_chars;
    Analysis analysis;
} Item;

typedef struct {
    int num_glyphs;
    GlyphInfo *glyphs;
    int *log_clusters;
} GlyphString;

typedef struct {
    Item *item;
    GlyphString *glyphs; /* a PangoLayoutRun (a PangoGlyphItem) has more fields after these */
} GlyphItem;

typedef struct {
    void *layout;
    int start_index, length;
    GSList_ *runs;
    unsigned int is_paragraph_start : 1;
    unsigned int resolved_dir : 3;
} LayoutLine;

typedef struct {
    int x, y, width, height;
} Rectangle;

typedef void (*LineExtents)(LayoutLine *line, Rectangle *ink, Rectangle *logical);

#define FROM_UNITS (1.0 / 1024) /* PANGO_SCALE */

static char *write_hex(char *out, unsigned long glyph) {
    /* f"{glyph:04x}": four digits at least (eight at most: the glyph is 32 bits) */
    static const char digits[] = "0123456789abcdef";
    if (glyph > 0xFFFF)
        return out + sprintf(out, "%04lx", glyph);
    out[0] = digits[glyph >> 12];
    out[1] = digits[(glyph >> 8) & 15];
    out[2] = digits[(glyph >> 4) & 15];
    out[3] = digits[glyph & 15];
    return out + 4;
}

static char *write_int(char *out, long long value) {
    /* f"{value}" */
    char digits[24], *d = digits + sizeof digits;
    unsigned long long magnitude = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do
        *--d = (char)('0' + magnitude % 10);
    while (magnitude /= 10);
    if (value < 0)
        *out++ = '-';
    memcpy(out, d, (size_t)(digits + sizeof digits - d));
    return out + (digits + sizeof digits - d);
}

PyDoc_STRVAR(show_run_doc,
    "show_run(infos, clusters, spaced, encoded, item_offset, item_length, units, left, right,\n"
    "         first, last, to_em, to_units, tc, widths, measured, measure, to_unicode, pen, at,\n"
    "         opened)\n"
    "-> (text, pen, at) or None\n\n"
    "The text that shows one run's glyphs, to be added to the TJ operand being built (opened:\n"
    "whether it has a glyph already), and Pango's pen and the PDF's position after them.\n"
    "A glyph that widths lacks is noted in it with its width in measured (the widths this process\n"
    "measured before), else measure(glyph) measures and notes it. None where the run has a raised\n"
    "or lowered glyph, or an adjustment of 10^15 thousandths of an em: write_pdf's own loop shows\n"
    "that run (the widths and texts noted by then are those it would note).");

static PyObject *show_run(PyObject *self, PyObject *args) {
    Py_buffer infos_view, clusters_view, spaced_view, encoded_view;
    Py_ssize_t item_offset, item_length, last;
    long units, left, right;
    int first, opened;
    double to_em, to_units, tc, pen, at;
    PyObject *widths, *measured, *measure, *to_unicode;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nnlllpndddO!O!OO!ddp", &infos_view, &clusters_view, &spaced_view,
                          &encoded_view, &item_offset, &item_length, &units, &left, &right, &first, &last,
                          &to_em, &to_units, &tc, &PyDict_Type, &widths, &PyDict_Type, &measured, &measure,
                          &PyDict_Type, &to_unicode, &pen, &at, &opened))
        return NULL;
    PyObject *result = NULL;
    PyObject **keys = NULL;
    double *advances = NULL;
    char *text = NULL;
    const GlyphInfo *infos = infos_view.buf;
    const int32_t *clusters = clusters_view.buf;
    const unsigned char *spaced = spaced_view.buf, *encoded = encoded_view.buf;
    Py_ssize_t count = clusters_view.len / (Py_ssize_t)sizeof(int32_t), i;
    if (infos_view.len != count * (Py_ssize_t)sizeof(GlyphInfo)) {
        PyErr_SetString(PyExc_ValueError, "show_run: a glyph info for each cluster");
        goto done;
    }
    keys = PyMem_Calloc(count ? count : 1, sizeof(PyObject *));
    advances = PyMem_Malloc((count ? count : 1) * sizeof(double));
    /* a glyph: ">" and an adjustment of 16 digits and a sign at most, "<", 8 hex digits at most */
    text = PyMem_Malloc(count * 27 + 1);
    if (!keys || !advances || !text) {
        PyErr_NoMemory();
        goto done;
    }
    /* First the glyphs' widths, measured in the order write_pdf's loop measures them; a run that
     * this loop does not show is handed back before any glyph is shown. */
    for (i = 0; i < count; i++) {
        const GlyphInfo *info = &infos[i];
        Py_ssize_t character = item_offset + clusters[i];
        if (units && (character < 0 || character >= spaced_view.len))
            goto hand_back; /* the Python loop raises its IndexError */
        if (info->glyph == EMPTY_GLYPH)
            continue;
        if (info->y_offset || info->glyph < 0)
            goto hand_back;
        if (!(keys[i] = PyLong_FromLong(info->glyph)))
            goto done;
        PyObject *width = PyDict_GetItemWithError(widths, keys[i]); /* borrowed */
        double logical_width; /* an int, in thousandths of an em */
        if (!width && !PyErr_Occurred() && (width = PyDict_GetItemWithError(measured, keys[i]))) {
            if (PyDict_SetItem(widths, keys[i], width) < 0) /* as write_pdf._measure_glyph notes it */
                goto done;
        }
        if (width) {
            logical_width = PyFloat_AsDouble(width);
        } else {
            if (PyErr_Occurred() || !(width = PyObject_CallOneArg(measure, keys[i])))
                goto done;
            logical_width = PyFloat_AsDouble(width);
            Py_DECREF(width);
        }
        if (logical_width == -1.0 && PyErr_Occurred())
            goto done;
        advances[i] = logical_width * to_units + tc;
    }
    char *out = text;
    for (i = 0; i < count; i++) {
        const GlyphInfo *info = &infos[i];
        long width = info->width, x_offset = info->x_offset;
        int32_t cluster = clusters[i];
        int32_t cluster_before = i ? clusters[i - 1] : -1;
        Py_ssize_t cluster_end = i + 1 < count ? clusters[i + 1] : item_length;
        if (units && spaced[item_offset + cluster]) {
            if (cluster_before != cluster && (!first || i)) { /* the line's first: no left */
                width += left;
                x_offset += left;
            }
            if (cluster_end != cluster && i != last) /* the line's last: no right */
                width += right;
        }
        if (info->glyph == EMPTY_GLYPH) {
            pen += (double)width;
            continue;
        }
        int known = PyDict_Contains(to_unicode, keys[i]);
        if (known < 0)
            goto done;
        if (!known) { /* as WeasyPrint: a cluster's text goes to its last glyph */
            Py_ssize_t start = item_offset + cluster, end = item_offset + cluster_end;
            if (start < 0 || end > encoded_view.len || end < start) {
                PyErr_SetString(PyExc_ValueError, "show_run: a cluster outside the text");
                goto done;
            }
            PyObject *character = PyUnicode_DecodeUTF8((const char *)encoded + start, end - start, NULL);
            if (!character)
                goto done;
            int failed = PyDict_SetItem(to_unicode, keys[i], character);
            Py_DECREF(character);
            if (failed)
                goto done;
        }
        /* Python's round(): half to even, as nearbyint in the default rounding mode */
        double adjustment = nearbyint((at - pen - (double)x_offset) * to_em);
        if (fabs(adjustment) > 1e15) /* not a long long: the Python loop writes it */
            goto hand_back;
        if (adjustment != 0) {
            at -= adjustment * to_units;
            if (opened)
                *out++ = '>';
            out = write_int(out, (long long)adjustment);
            *out++ = '<';
        } else if (!opened) {
            *out++ = '<';
        }
        opened = 1;
        out = write_hex(out, (uint32_t)info->glyph);
        at += advances[i];
        pen += (double)width;
    }
    result = Py_BuildValue("(s#dd)", text, (Py_ssize_t)(out - text), pen, at);
    goto done;
hand_back:
    result = Py_NewRef(Py_None);
done:
    if (keys)
        for (i = 0; i < count; i++)
            Py_XDECREF(keys[i]);
    PyMem_Free(keys);
    PyMem_Free(advances);
    PyMem_Free(text);
    PyBuffer_Release(&infos_view);
    PyBuffer_Release(&clusters_view);
    PyBuffer_Release(&spaced_view);
    PyBuffer_Release(&encoded_view);
    return result;
}

PyDoc_STRVAR(paragraph_lines_doc,
    "paragraph_lines(lines, extents, limit, skip, text_length, first_width, width, text, spaced,\n"
    "                line_type, shaped, out) -> {font address, ...}\n\n"
    "write_pdf._python_paragraph_lines, compiled: the lines of a PangoLayout into `out`, from the\n"
    "address of its list of lines (pango_layout_get_lines_readonly) up to the first that ends past\n"
    "byte `limit` of the layout's text (`text`), not included. extents: the address of\n"
    "pango_layout_line_get_extents. The layout's text starts `skip` bytes into the text box's,\n"
    "which is text_length bytes long. A line, by its start in the box's text, is a line_type (a\n"
    "tuple) of its end and where the next line begins (None at the text's end), its width,\n"
    "height and baseline (points), its direction, shaped, its runs and its expansion\n"
    "opportunities (write_pdf._opportunities); or None where it is wider than its measure\n"
    "(first_width for the layout's first line, width for the others) or ends before the text's\n"
    "end on a character that is not CJK (`spaced` is 1 at the first byte of each CJK character\n"
    "of `text`). A run: its font's address, the item's offset and length, its PangoGlyphInfos\n"
    "and its log clusters as Pango stores them. Returns the fonts' addresses.");

/* write_pdf._opportunities: a line's expansion opportunities, its spaces (U+0020, U+00A0) and its
 * CJK characters, those at its ends counting half; None where a mark ligates (U+2014, U+2026). */
static PyObject *opportunities(const unsigned char *bytes, const unsigned char *flags, Py_ssize_t start,
                               Py_ssize_t end) {
    Py_ssize_t spaces = 0, characters = 0, last = end - 1;
    if (end <= start)
        Py_RETURN_NONE;
    for (Py_ssize_t at = start; at < end; at++) {
        if (bytes[at] == 0x20 || (bytes[at] == 0xC2 && at + 1 < end && bytes[at + 1] == 0xA0))
            spaces++;
        else if (bytes[at] == 0xE2 && at + 2 < end && bytes[at + 1] == 0x80 &&
                 (bytes[at + 2] == 0x94 || bytes[at + 2] == 0xA6))
            Py_RETURN_NONE; /* — or …, which ligate in pairs */
        characters += flags[at];
    }
    while (last > start && (bytes[last] & 0xC0) == 0x80) /* the last character's first byte */
        last--;
    double count = (double)characters;
    if (characters) /* the first and the last get half their share (no spacing outside the line) */
        count -= flags[start] / 2.0 + flags[last] / 2.0;
    return PyFloat_FromDouble((double)spaces + count);
}

static PyObject *paragraph_lines(PyObject *self, PyObject *args) {
    unsigned long long lines_address, extents_address;
    Py_ssize_t limit, skip, text_length;
    double first_width, width;
    Py_buffer text = {0}, spaced = {0};
    PyObject *line_type, *shaped, *out;
    if (!PyArg_ParseTuple(args, "KKnnnddy*y*O!OO!:paragraph_lines", &lines_address, &extents_address, &limit,
                          &skip, &text_length, &first_width, &width, &text, &spaced, &PyType_Type, &line_type,
                          &shaped, &PyDict_Type, &out))
        return NULL;
    PyObject *fonts = NULL, *key = NULL, *fields = NULL, *line_object = NULL;
    if (!PyType_IsSubtype((PyTypeObject *)line_type, &PyTuple_Type) || spaced.len != text.len) {
        PyErr_SetString(PyExc_TypeError, "paragraph_lines: line_type is not a tuple type, or spaced is not text's");
        goto failed;
    }
    if (!(fonts = PySet_New(NULL)))
        goto failed;
    const unsigned char *bytes = text.buf, *flags = spaced.buf;
    LineExtents extents = (LineExtents)(uintptr_t)extents_address;
    for (GSList_ *item = (GSList_ *)(uintptr_t)lines_address; item; item = item->next) {
        LayoutLine *line = item->data;
        Py_ssize_t start = line->start_index, end = start + line->length; /* in the layout's text */
        if (end > limit)
            break; /* its break may depend on the text past the layout's */
        if (start < 0 || end < start || end > text.len) {
            PyErr_SetString(PyExc_ValueError, "paragraph_lines: a line outside the text");
            goto failed;
        }
        Rectangle logical;
        extents(line, NULL, &logical);
        double line_width = (double)logical.width * FROM_UNITS;
        int kept = !(line_width > (start == 0 ? first_width : width));
        if (kept && skip + end < text_length) {
            /* The line's last character, found in its last 4 bytes (a character has 4 at most):
             * the line is kept if it is CJK. */
            Py_ssize_t first = end - 4 > 0 ? end - 4 : 0, last = end - 1;
            while (last >= first && (bytes[last] & 0xC0) == 0x80) /* a continuation byte */
                last--;
            kept = last >= first && flags[last];
        }
        if (!(key = PyLong_FromSsize_t(skip + start)))
            goto failed;
        if (!kept) {
            if (PyDict_SetItem(out, key, Py_None) < 0)
                goto failed;
            Py_CLEAR(key);
            continue;
        }
        Py_ssize_t count = 0;
        for (GSList_ *run = line->runs; run; run = run->next)
            count++;
        PyObject *runs = PyTuple_New(count);
        if (!runs)
            goto failed;
        count = 0;
        for (GSList_ *run = line->runs; run; run = run->next) {
            const GlyphItem *glyph_item = run->data;
            const GlyphString *glyphs = glyph_item->glyphs;
            const Item *pango_item = glyph_item->item;
            unsigned long long font = (unsigned long long)(uintptr_t)pango_item->analysis.font;
            Py_ssize_t glyph_count = glyphs->num_glyphs > 0 ? glyphs->num_glyphs : 0;
            /* a string of no glyph may have no array: b"", where y# would make None of NULL */
            const char *infos = glyph_count ? (const char *)glyphs->glyphs : "";
            const char *clusters = glyph_count ? (const char *)glyphs->log_clusters : "";
            PyObject *address = PyLong_FromUnsignedLongLong(font);
            Py_ssize_t infos_size = glyph_count * (Py_ssize_t)sizeof(GlyphInfo);
            Py_ssize_t clusters_size = glyph_count * (Py_ssize_t)sizeof(int);
            PyObject *read = address ? Py_BuildValue("(Oiiy#y#)", address, pango_item->offset, pango_item->length,
                                                     infos, infos_size, clusters, clusters_size)
                                     : NULL;
            int failed = !read || PySet_Add(fonts, address) < 0;
            Py_XDECREF(address);
            if (failed) {
                Py_XDECREF(read);
                Py_DECREF(runs);
                goto failed;
            }
            PyTuple_SET_ITEM(runs, count++, read);
        }
        Py_ssize_t line_end = skip + end;
        PyObject *resume_at = line_end < text_length ? PyLong_FromSsize_t(line_end) : Py_NewRef(Py_None);
        fields = Py_BuildValue("(nNdddiONN)", line_end, resume_at, line_width, (double)logical.height * FROM_UNITS,
                               -(double)logical.y * FROM_UNITS, (int)line->resolved_dir, shaped, runs,
                               opportunities(bytes, flags, start, end));
        if (!fields)
            goto failed;
        PyObject *arguments = PyTuple_Pack(1, fields);
        if (!arguments)
            goto failed;
        line_object = PyTuple_Type.tp_new((PyTypeObject *)line_type, arguments, NULL); /* line_type(fields) */
        Py_DECREF(arguments);
        if (!line_object || PyDict_SetItem(out, key, line_object) < 0)
            goto failed;
        Py_CLEAR(line_object);
        Py_CLEAR(fields);
        Py_CLEAR(key);
    }
    PyBuffer_Release(&text);
    PyBuffer_Release(&spaced);
    return fonts;
failed:
    Py_XDECREF(line_object);
    Py_XDECREF(fields);
    Py_XDECREF(key);
    Py_XDECREF(fonts);
    PyBuffer_Release(&text);
    PyBuffer_Release(&spaced);
    return NULL;
}

PyDoc_STRVAR(distinct_characters_doc,
    "distinct_characters(text) -> str\n\n"
    "Each character of text once, in code point order: \"\".join(sorted(set(text))), without making\n"
    "a string of each character (set() of 红楼梦's 855,000 characters took 0.09 s).");

static PyObject *distinct_characters(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "distinct_characters: a str");
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), count = 0, i;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    unsigned char *seen = PyMem_Calloc(0x110000 / 8, 1); /* a bit a code point */
    if (!seen)
        return PyErr_NoMemory();
    Py_UCS4 largest = 0;
    for (i = 0; i < length; i++) {
        Py_UCS4 character = PyUnicode_READ(kind, data, i);
        unsigned char bit = (unsigned char)(1u << (character & 7));
        if (!(seen[character >> 3] & bit)) {
            seen[character >> 3] |= bit;
            count++;
            if (character > largest)
                largest = character;
        }
    }
    PyObject *result = PyUnicode_New(count, largest);
    if (result) {
        int result_kind = PyUnicode_KIND(result);
        void *result_data = PyUnicode_DATA(result);
        Py_ssize_t at = 0;
        for (Py_UCS4 character = 0; at < count; character++)
            if (seen[character >> 3] & (1u << (character & 7)))
                PyUnicode_WRITE(result_kind, result_data, at++, character);
    }
    PyMem_Free(seen);
    return result;
}

static PyMethodDef methods[] = {
    {"show_run", show_run, METH_VARARGS, show_run_doc},
    {"paragraph_lines", paragraph_lines, METH_VARARGS, paragraph_lines_doc},
    {"distinct_characters", distinct_characters, METH_O, distinct_characters_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Loops over a book's lines, glyphs and characters, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
