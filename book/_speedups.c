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
 * draw_line: write_pdf._draw_text draws each line of a paragraph (about 45,000 in a 1,500-page
 * novel) as a text object: its colour, its position, its character spacing, its fonts and the
 * glyphs of its runs (show_run's loop). As Python, with show_run for each run, that took 58-64 µs a
 * line; this takes 21-23 (红楼梦's 1-9 回, the garbage collector off, Pango's measure of new glyphs
 * included). It writes the same bytes as its twin, write_pdf._python_draw_line.
 *
 * Only loops that cut a build's time measurably are here: a line's text box (0.6 µs a line) and a
 * book's distinct characters (at most 0.09 s) are Python, which is easier to keep. */

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

/* The names of the attributes and methods draw_line uses, interned once
 * (PyObject_GetAttrString makes and interns a string on every call): name_runs is "runs". */
#define NAMES(X)                                                                                                   \
    X(runs, "runs") X(shaped, "shaped") X(encoded, "encoded") X(spaced, "spaced") X(spaced_by, "spaced_by")        \
    X(stream, "stream") X(old_font, "_old_font") X(current_font, "_current_font") X(book_color, "book_color")      \
    X(current_color, "_current_color") X(current_alpha, "_current_alpha") X(set_color, "set_color")
#define DECLARE_NAME(name, text) static PyObject *name_##name;
NAMES(DECLARE_NAME)

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

/* A run's glyphs, as write_pdf._show_glyphs takes them. */
typedef struct {
    const GlyphInfo *infos;
    const int32_t *clusters;
    Py_ssize_t count, item_offset, item_length;
    const unsigned char *spaced, *encoded; /* the text's flags (a CJK character) and bytes */
    Py_ssize_t encoded_length;
    long units, left, right; /* the justification, in Pango units */
    int first;               /* the line's first run */
    Py_ssize_t last;         /* the line's last glyph, or -1 */
} Run;

/* Glyph i of a run: its width and x offset with the justification's letter-spacing, and unless
 * it is empty, its cluster's text noted in to_unicode under `key` (its glyph) if not known: as
 * WeasyPrint, a cluster's text goes to its last glyph. -1 on error. */
static int take_glyph(const Run *run, Py_ssize_t i, PyObject *key, PyObject *to_unicode, long *width,
                      long *x_offset) {
    const GlyphInfo *info = &run->infos[i];
    int32_t cluster = run->clusters[i];
    int32_t cluster_before = i ? run->clusters[i - 1] : -1;
    Py_ssize_t cluster_end = i + 1 < run->count ? run->clusters[i + 1] : run->item_length;
    *width = info->width;
    *x_offset = info->x_offset;
    if (run->units && run->spaced[run->item_offset + cluster]) {
        if (cluster_before != cluster && (!run->first || i)) { /* the line's first: no left */
            *width += run->left;
            *x_offset += run->left;
        }
        if (cluster_end != cluster && i != run->last) /* the line's last: no right */
            *width += run->right;
    }
    if (info->glyph == EMPTY_GLYPH)
        return 0;
    int known = PyDict_Contains(to_unicode, key);
    if (known)
        return known < 0 ? -1 : 0;
    Py_ssize_t start = run->item_offset + cluster, end = run->item_offset + cluster_end;
    if (start < 0 || end > run->encoded_length || end < start) {
        PyErr_SetString(PyExc_ValueError, "a cluster outside the text");
        return -1;
    }
    PyObject *character = PyUnicode_DecodeUTF8((const char *)run->encoded + start, end - start, NULL);
    if (!character)
        return -1;
    int failed = PyDict_SetItem(to_unicode, key, character);
    Py_DECREF(character);
    return failed;
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
    Run run = {infos, clusters, count, item_offset, item_length, spaced, encoded, encoded_view.len, units, left, right,
               first, last};
    for (i = 0; i < count; i++) {
        const GlyphInfo *info = &infos[i];
        long width, x_offset;
        if (take_glyph(&run, i, keys[i], to_unicode, &width, &x_offset) < 0)
            goto done;
        if (info->glyph == EMPTY_GLYPH) {
            pen += (double)width;
            continue;
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

/* A growing buffer of text. */
typedef struct {
    char *data;
    Py_ssize_t length, size;
} Buffer;

static int reserve(Buffer *buffer, Py_ssize_t more) {
    if (buffer->length + more <= buffer->size)
        return 0;
    Py_ssize_t size = buffer->size * 2 > buffer->length + more ? buffer->size * 2 : buffer->length + more + 256;
    char *data = PyMem_Realloc(buffer->data, (size_t)size);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->size = size;
    return 0;
}

/* pydyf._to_bytes of a float: an integral value as an int, any other with six decimals, its
 * trailing zeros stripped (f"{value:f}".rstrip("0")). The value is finite. */
static Py_ssize_t write_number(char *out, double value) {
    if (value == floor(value)) {
        if (value == 0) /* -0.0 too: str(int(-0.0)) */
            return sprintf(out, "0");
        return sprintf(out, "%.0f", value); /* every digit of the integer (glibc prints it exactly) */
    }
    Py_ssize_t length = sprintf(out, "%f", value);
    while (length && out[length - 1] == '0')
        length--;
    out[length] = '\0';
    return length;
}

/* The longest number write_number writes: a sign, 309 digits, a point and 6 decimals. */
#define NUMBER_SIZE 330

/* f"{adjustment}" of round()'s int (its double is integral). */
static char *write_adjustment(char *out, double adjustment) {
    if (fabs(adjustment) <= 1e15)
        return write_int(out, (long long)adjustment);
    return out + sprintf(out, "%.0f", adjustment);
}

static int append_bytes(PyObject *list, const char *data, Py_ssize_t length) {
    PyObject *bytes = PyBytes_FromStringAndSize(data, length);
    int failed = !bytes || PyList_Append(list, bytes) < 0;
    Py_XDECREF(bytes);
    return failed ? -1 : 0;
}

/* The stream's TJ operator for the operand built so far, if it shows a glyph: "[<…>…>] TJ". */
static int show_text(PyObject *operators, Buffer *text, int *opened) {
    if (!*opened)
        return 0;
    if (reserve(text, 5) < 0)
        return -1;
    memcpy(text->data + text->length, ">] TJ", 5);
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, text->length + 6);
    if (!bytes)
        return -1;
    char *out = PyBytes_AS_STRING(bytes);
    out[0] = '[';
    memcpy(out + 1, text->data, (size_t)text->length + 5);
    int failed = PyList_Append(operators, bytes) < 0;
    Py_DECREF(bytes);
    text->length = 0;
    *opened = 0;
    return failed ? -1 : 0;
}

/* stream.set_color(color), unless the last line's colour is still the stream's: WeasyPrint's
 * set_color then writes and changes nothing (its colour and alpha are those it set), in Python,
 * for every line. stream.book_color is (the colour, the stream's colour and alpha after it was
 * set, held there); any change of the stream's state replaces or clears those. */
static int set_color(PyObject *stream, PyObject *color) {
    PyObject *memo = PyObject_GetAttr(stream, name_book_color), *current_color = NULL, *current_alpha = NULL;
    int result = -1;
    if (!memo) { /* the page's first line */
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        memo = Py_NewRef(Py_None);
    }
    if (!(current_color = PyObject_GetAttr(stream, name_current_color)) ||
        !(current_alpha = PyObject_GetAttr(stream, name_current_alpha)))
        goto done;
    if (PyTuple_Check(memo) && PyTuple_GET_SIZE(memo) == 3 && PyTuple_GET_ITEM(memo, 0) == color &&
        PyTuple_GET_ITEM(memo, 1) == current_color && PyTuple_GET_ITEM(memo, 2) == current_alpha) {
        result = 0;
        goto done;
    }
    PyObject *called = PyObject_CallMethodOneArg(stream, name_set_color, color);
    if (!called)
        goto done;
    Py_DECREF(called);
    Py_CLEAR(current_color);
    Py_CLEAR(current_alpha);
    if (!(current_color = PyObject_GetAttr(stream, name_current_color)) ||
        !(current_alpha = PyObject_GetAttr(stream, name_current_alpha)))
        goto done;
    PyObject *noted = PyTuple_Pack(3, color, current_color, current_alpha);
    if (!noted)
        goto done;
    result = PyObject_SetAttr(stream, name_book_color, noted);
    Py_DECREF(noted);
done:
    Py_XDECREF(current_alpha);
    Py_XDECREF(current_color);
    Py_DECREF(memo);
    return result;
}

PyDoc_STRVAR(draw_line_doc,
    "draw_line(stream, layout, color, spacing, x, y, fonts, measure) -> None, an int or a bool\n\n"
    "write_pdf._python_draw_line, compiled: a line taken from a paragraph's layout (a _LineLayout),\n"
    "its glyphs shown where Pango placed them, justified by `spacing` (points, 0 for none), from\n"
    "(x, y): the operators that set_color, begin_text, set_text_matrix, _show_glyphs and end_text\n"
    "write, the same bytes, into WeasyPrint's stream (stream.stream), its fonts kept as\n"
    "WeasyPrint's Stream keeps them (pdf/stream.py). fonts: the page's fonts (write_pdf._PageFont) by their Pango font's\n"
    "address; measure: write_pdf._measure_glyph, for a glyph whose width neither its font nor the\n"
    "widths measured before have. None once drawn; the address of a run's font that fonts lacks\n"
    "(nothing written: draw it again once it is added); False where WeasyPrint must draw the line\n"
    "(a colour or bitmap font, a glyph that no font has), True where the Python twin must (a\n"
    "position that is not finite, a spacing of 2^21 points, a cluster outside the line's text):\n"
    "nothing written.");

/* write_pdf._PageFont's fields, as the named tuple orders them */
enum { PAGE_FONT_PANGO_FONT = 1, PAGE_FONT_SIZE, PAGE_FONT_MEASURED, PAGE_FONT_DRAWABLE = 5, PAGE_FONT_WIDTHS,
       PAGE_FONT_TO_UNICODE, PAGE_FONT_KEY, PAGE_FONT_SET_FONT, PAGE_FONT_TO_EM, PAGE_FONT_TO_UNITS, PAGE_FONT_FIELDS };

static PyObject *draw_line(PyObject *self, PyObject *args) {
    PyObject *stream, *layout, *color, *fonts, *measure;
    double spacing, x, y;
    if (!PyArg_ParseTuple(args, "OOOdddO!O:draw_line", &stream, &layout, &color, &spacing, &x, &y, &PyDict_Type,
                          &fonts, &measure))
        return NULL;
    PyObject *result = NULL, *runs = NULL, *shaped = NULL, *encoded = NULL, *spaced = NULL, *operators = NULL;
    PyObject *current = NULL, **keys = NULL, **faces = NULL;
    double *advances = NULL;
    Buffer text = {0};
    Py_ssize_t run_count = 0, glyph_total = 0, i, r;
    long spaced_by;
    if (!isfinite(x) || !isfinite(y) || !(fabs(spacing) * 1024 < 2147483648.0))
        return Py_NewRef(Py_True);
    if (!(runs = PyObject_GetAttr(layout, name_runs)) || !(shaped = PyObject_GetAttr(layout, name_shaped)) ||
        !(encoded = PyObject_GetAttr(shaped, name_encoded)) || !(spaced = PyObject_GetAttr(shaped, name_spaced)))
        goto done;
    PyObject *spaced_by_object = PyObject_GetAttr(layout, name_spaced_by);
    if (!spaced_by_object)
        goto done;
    spaced_by = PyLong_AsLong(spaced_by_object);
    Py_DECREF(spaced_by_object);
    if (spaced_by == -1 && PyErr_Occurred())
        goto done;
    if (!PyTuple_Check(runs) || !PyBytes_Check(encoded) || !PyBytes_Check(spaced)) {
        PyErr_SetString(PyExc_TypeError, "draw_line: a layout's runs are a tuple, its text and flags bytes");
        goto done;
    }
    const unsigned char *bytes = (const unsigned char *)PyBytes_AS_STRING(encoded);
    const unsigned char *flags = (const unsigned char *)PyBytes_AS_STRING(spaced);
    Py_ssize_t flags_length = PyBytes_GET_SIZE(spaced), text_length = PyBytes_GET_SIZE(encoded);
    run_count = PyTuple_GET_SIZE(runs);
    if (!(faces = PyMem_Calloc(run_count ? run_count : 1, sizeof(PyObject *))))
        goto no_memory;
    /* Each run's font, known and drawable, and its glyphs, each of a font: else nothing is written
     * (write_pdf._runs_to_draw). */
    for (r = 0; r < run_count; r++) {
        PyObject *run = PyTuple_GET_ITEM(runs, r);
        if (!PyTuple_Check(run) || PyTuple_GET_SIZE(run) != 5 || !PyBytes_Check(PyTuple_GET_ITEM(run, 3)) ||
            !PyBytes_Check(PyTuple_GET_ITEM(run, 4))) {
            PyErr_SetString(PyExc_TypeError, "draw_line: a run is (font, offset, length, glyphs, clusters)");
            goto done;
        }
        PyObject *face = PyDict_GetItemWithError(fonts, PyTuple_GET_ITEM(run, 0)); /* borrowed */
        if (!face) {
            if (!PyErr_Occurred())
                result = Py_NewRef(PyTuple_GET_ITEM(run, 0));
            goto done;
        }
        if (!PyTuple_Check(face) || PyTuple_GET_SIZE(face) != PAGE_FONT_FIELDS ||
            !PyDict_Check(PyTuple_GET_ITEM(face, PAGE_FONT_MEASURED)) ||
            !PyDict_Check(PyTuple_GET_ITEM(face, PAGE_FONT_WIDTHS)) ||
            !PyDict_Check(PyTuple_GET_ITEM(face, PAGE_FONT_TO_UNICODE)) ||
            !PyBytes_Check(PyTuple_GET_ITEM(face, PAGE_FONT_SET_FONT))) {
            PyErr_SetString(PyExc_TypeError, "draw_line: a font is a write_pdf._PageFont");
            goto done;
        }
        int drawable = PyObject_IsTrue(PyTuple_GET_ITEM(face, PAGE_FONT_DRAWABLE));
        if (drawable < 0)
            goto done;
        if (!drawable) {
            result = Py_NewRef(Py_False);
            goto done;
        }
        faces[r] = face;
        Py_ssize_t count = PyBytes_GET_SIZE(PyTuple_GET_ITEM(run, 4)) / (Py_ssize_t)sizeof(int32_t);
        if (PyBytes_GET_SIZE(PyTuple_GET_ITEM(run, 3)) != count * (Py_ssize_t)sizeof(GlyphInfo)) {
            PyErr_SetString(PyExc_ValueError, "draw_line: a glyph info for each cluster");
            goto done;
        }
        const GlyphInfo *infos = (const GlyphInfo *)PyBytes_AS_STRING(PyTuple_GET_ITEM(run, 3));
        for (i = 0; i < count; i++)
            if ((uint32_t)infos[i].glyph >= 0x10000000u) { /* PANGO_GLYPH_UNKNOWN_FLAG, or no glyph at all */
                result = Py_NewRef(Py_False);
                goto done;
            }
        glyph_total += count;
    }
    /* The justification as Pango letter-spaces a run (see write_pdf._show_glyphs) */
    long units = spacing ? (long)(spacing * 1024) : 0, left, right;
    left = units >= 0 ? units / 2 : -((-units + 1) / 2); /* units // 2 */
    if (units && (units & 1023) == 0)
        left = (left + 512) & ~1023L; /* PANGO_UNITS_ROUND */
    right = units - left;
    if (!(keys = PyMem_Calloc(glyph_total ? glyph_total : 1, sizeof(PyObject *))) ||
        !(advances = PyMem_Malloc((glyph_total ? glyph_total : 1) * sizeof(double))))
        goto no_memory;
    /* Each glyph's width in thousandths of an em, from its font's widths, else from those measured
     * before (noted in the font's), else measured, in the order _show_glyphs measures them. */
    Py_ssize_t g = 0;
    for (r = 0; r < run_count; r++) {
        PyObject *run = PyTuple_GET_ITEM(runs, r), *face = faces[r];
        PyObject *widths = PyTuple_GET_ITEM(face, PAGE_FONT_WIDTHS);
        PyObject *measured = PyTuple_GET_ITEM(face, PAGE_FONT_MEASURED);
        const GlyphInfo *infos = (const GlyphInfo *)PyBytes_AS_STRING(PyTuple_GET_ITEM(run, 3));
        const int32_t *clusters = (const int32_t *)PyBytes_AS_STRING(PyTuple_GET_ITEM(run, 4));
        Py_ssize_t count = PyBytes_GET_SIZE(PyTuple_GET_ITEM(run, 4)) / (Py_ssize_t)sizeof(int32_t);
        Py_ssize_t item_offset = PyLong_AsSsize_t(PyTuple_GET_ITEM(run, 1));
        if (item_offset == -1 && PyErr_Occurred())
            goto done;
        for (i = 0; i < count; i++, g++) {
            Py_ssize_t character = item_offset + clusters[i];
            if (units && (character < 0 || character >= flags_length)) {
                result = Py_NewRef(Py_True); /* as the Python loop indexes it */
                goto done;
            }
            if (infos[i].glyph == EMPTY_GLYPH)
                continue;
            if (!(keys[g] = PyLong_FromLong(infos[i].glyph)))
                goto done;
            PyObject *width = PyDict_GetItemWithError(widths, keys[g]); /* borrowed */
            if (!width && !PyErr_Occurred() && (width = PyDict_GetItemWithError(measured, keys[g]))) {
                if (PyDict_SetItem(widths, keys[g], width) < 0) /* as _measure_glyph notes it */
                    goto done;
            }
            double logical_width;
            if (width) {
                logical_width = PyFloat_AsDouble(width);
            } else {
                if (PyErr_Occurred() ||
                    !(width = PyObject_CallFunctionObjArgs(measure, stream, PyTuple_GET_ITEM(face, PAGE_FONT_PANGO_FONT),
                                                           PyTuple_GET_ITEM(face, PAGE_FONT_SIZE), measured, widths,
                                                           keys[g], NULL)))
                    goto done;
                logical_width = PyFloat_AsDouble(width);
                Py_DECREF(width);
            }
            if (logical_width == -1.0 && PyErr_Occurred())
                goto done;
            advances[g] = logical_width; /* in thousandths of an em, the font's size and Tc added below */
        }
    }
    /* The text object, at the line's start */
    if (set_color(stream, color) < 0)
        goto done;
    /* Stream.begin_text: a text object just ended is taken up again, with its font */
    if (!(operators = PyObject_GetAttr(stream, name_stream)))
        goto done;
    if (!PyList_Check(operators)) {
        PyErr_SetString(PyExc_TypeError, "draw_line: a stream's operators are a list");
        goto done;
    }
    Py_ssize_t operator_count = PyList_GET_SIZE(operators);
    PyObject *last_operator = operator_count ? PyList_GET_ITEM(operators, operator_count - 1) : NULL;
    if (last_operator && PyBytes_Check(last_operator) && PyBytes_GET_SIZE(last_operator) == 2 &&
        memcmp(PyBytes_AS_STRING(last_operator), "ET", 2) == 0) {
        if (!(current = PyObject_GetAttr(stream, name_old_font)) ||
            PyList_SetSlice(operators, operator_count - 1, operator_count, NULL) < 0)
            goto done;
    } else if (!(current = PyObject_GetAttr(stream, name_current_font)) || append_bytes(operators, "BT", 2) < 0) {
        goto done;
    }
    char number[2 * NUMBER_SIZE + 32], *out = number;
    out = memcpy(out, "1 0 0 -1 ", 9) + 9; /* set_text_matrix(*Matrix(d=-1, e=x, f=y).values) */
    out += write_number(out, x);
    *out++ = ' ';
    out += write_number(out, y);
    if (append_bytes(operators, number, out - number + sprintf(out, " Tm")) < 0)
        goto done;
    double tc = 0; /* the character spacing as written, in Pango units */
    if (units || spaced_by) {
        Py_ssize_t length = write_number(number, (double)(units ? units : spaced_by) * FROM_UNITS);
        tc = strtod(number, NULL) * 1024;
        if (append_bytes(operators, number, length + sprintf(number + length, " Tc")) < 0)
            goto done;
    }
    /* The glyphs, as _show_glyphs' loop shows them */
    double pen = 0, at = 0;
    int opened = 0;
    void *previous_font = NULL;
    g = 0;
    for (r = 0; r < run_count; r++) {
        PyObject *run = PyTuple_GET_ITEM(runs, r), *face = faces[r];
        void *font = PyLong_AsVoidPtr(PyTuple_GET_ITEM(run, 0));
        if (!font && PyErr_Occurred())
            goto done;
        if (r == 0 || font != previous_font) {
            previous_font = font;
            if (show_text(operators, &text, &opened) < 0)
                goto done;
            PyObject *key = PyTuple_GET_ITEM(face, PAGE_FONT_KEY); /* set_font_size: only if not set */
            int same = PyObject_RichCompareBool(key, current, Py_EQ);
            if (same < 0)
                goto done;
            if (!same) {
                if (PyList_Append(operators, PyTuple_GET_ITEM(face, PAGE_FONT_SET_FONT)) < 0)
                    goto done;
                Py_SETREF(current, Py_NewRef(key));
            }
        }
        double to_em = PyFloat_AsDouble(PyTuple_GET_ITEM(face, PAGE_FONT_TO_EM));
        double to_units = PyFloat_AsDouble(PyTuple_GET_ITEM(face, PAGE_FONT_TO_UNITS));
        if ((to_em == -1.0 || to_units == -1.0) && PyErr_Occurred())
            goto done;
        PyObject *to_unicode = PyTuple_GET_ITEM(face, PAGE_FONT_TO_UNICODE);
        const GlyphInfo *infos = (const GlyphInfo *)PyBytes_AS_STRING(PyTuple_GET_ITEM(run, 3));
        const int32_t *clusters = (const int32_t *)PyBytes_AS_STRING(PyTuple_GET_ITEM(run, 4));
        Py_ssize_t count = PyBytes_GET_SIZE(PyTuple_GET_ITEM(run, 4)) / (Py_ssize_t)sizeof(int32_t);
        Py_ssize_t item_offset = PyLong_AsSsize_t(PyTuple_GET_ITEM(run, 1));
        Py_ssize_t item_length = PyLong_AsSsize_t(PyTuple_GET_ITEM(run, 2));
        if ((item_offset == -1 || item_length == -1) && PyErr_Occurred())
            goto done;
        Py_ssize_t last = r == run_count - 1 ? count - 1 : -1; /* the line's last glyph */
        Run glyphs = {infos, clusters, count, item_offset, item_length, flags, bytes, text_length, units, left, right,
                      r == 0, last};
        for (i = 0; i < count; i++, g++) {
            const GlyphInfo *info = &infos[i];
            long width, x_offset;
            if (take_glyph(&glyphs, i, keys[g], to_unicode, &width, &x_offset) < 0)
                goto done;
            if (info->glyph == EMPTY_GLYPH) {
                pen += (double)width;
                continue;
            }
            double adjustment = nearbyint((at - pen - (double)x_offset) * to_em); /* round(): half to even */
            if (adjustment != 0)
                at -= adjustment * to_units;
            if (reserve(&text, NUMBER_SIZE + 16) < 0)
                goto done;
            if (info->y_offset) { /* raised or lowered: shown on its own */
                if (show_text(operators, &text, &opened) < 0)
                    goto done;
                Py_ssize_t length = write_number(number, -(double)info->y_offset * FROM_UNITS);
                if (append_bytes(operators, number, length + sprintf(number + length, " Ts")) < 0)
                    goto done;
                out = number;
                *out++ = '[';
                if (adjustment != 0)
                    out = write_adjustment(out, adjustment);
                *out++ = '<';
                out = write_hex(out, (uint32_t)info->glyph);
                if (append_bytes(operators, number, out - number + sprintf(out, ">] TJ")) < 0 ||
                    append_bytes(operators, "0 Ts", 4) < 0)
                    goto done;
            } else {
                out = text.data + text.length;
                if (adjustment != 0) {
                    if (opened)
                        *out++ = '>';
                    out = write_adjustment(out, adjustment);
                    *out++ = '<';
                } else if (!opened) {
                    *out++ = '<';
                }
                opened = 1;
                out = write_hex(out, (uint32_t)info->glyph);
                text.length = out - text.data;
            }
            at += advances[g] * to_units + tc;
            pen += (double)width;
        }
    }
    if (show_text(operators, &text, &opened) < 0)
        goto done;
    if ((units || spaced_by) && append_bytes(operators, "0 Tc", 4) < 0) /* the text state outlives the text object */
        goto done;
    /* Stream.end_text: the font is kept for a text object that begins next */
    if (append_bytes(operators, "ET", 2) < 0 || PyObject_SetAttr(stream, name_old_font, current) < 0 ||
        PyObject_SetAttr(stream, name_current_font, Py_None) < 0)
        goto done;
    result = Py_NewRef(Py_None);
    goto done;
no_memory:
    PyErr_NoMemory();
done:
    if (keys)
        for (i = 0; i < glyph_total; i++)
            Py_XDECREF(keys[i]);
    PyMem_Free(keys);
    PyMem_Free(faces);
    PyMem_Free(advances);
    PyMem_Free(text.data);
    Py_XDECREF(current);
    Py_XDECREF(operators);
    Py_XDECREF(spaced);
    Py_XDECREF(encoded);
    Py_XDECREF(shaped);
    Py_XDECREF(runs);
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

/* The marks a line from `start` to `end` must set in half width to fit its measure (breaking._squeezes):
   0 where it fits, max_squeeze + 1 where it cannot (no `squeezable` counts: none may be). */
static Py_ssize_t squeezes(double natural, double measure, const Py_ssize_t *squeezable, Py_ssize_t start,
                           Py_ssize_t end, Py_ssize_t max_squeeze) {
    if (natural <= measure + 1e-9)
        return 0;
    Py_ssize_t needed = (Py_ssize_t)ceil((natural - measure - 1e-9) / 0.5);
    if (!squeezable || end - start < 3 || needed > squeezable[end - 1] - squeezable[start + 1])
        return max_squeeze + 1;
    return needed;
}

/* What a line costs (breaking._line_cost); a last line from `runt_from` on holds one Han character at most. */
static double line_cost(double natural, double measure, Py_ssize_t start, Py_ssize_t end, int last,
                        Py_ssize_t runt_from, double runt_cost, double squeeze_cost, Py_ssize_t squeezed) {
    if (last)
        return squeeze_cost * (double)squeezed + (start > 0 && start >= runt_from ? runt_cost : 0.0);
    Py_ssize_t gaps = end - start - 1;
    double stretch = (measure - natural + 0.5 * (double)squeezed) / (double)(gaps > 1 ? gaps : 1);
    return stretch * stretch + squeeze_cost * (double)squeezed;
}

typedef struct {
    const double *advance; /* where each character begins, in ems (n + 1) */
    Py_ssize_t n;
    Py_ssize_t runt_from; /* a last line starting here or later is a runt */
    double first, width, runt_cost, max_stretch, squeeze_cost;
    Py_ssize_t max_squeeze;
} Measure;

/* breaking.total_fit's programme: the starts of the least costly lines ending at `candidates` (the last
   is n) into `starts` (n + 1 places), their count returned; 0 lines and *found 0 where none fit, -1 on
   MemoryError. */
static Py_ssize_t fit_lines(const Measure *m, const Py_ssize_t *candidates, Py_ssize_t count,
                            const Py_ssize_t *squeezable, Py_ssize_t *starts, int *found) {
    Py_ssize_t n = m->n, lines = -1;
    double *cost = PyMem_Malloc(sizeof(double) * (n + 1)), *reached_at = PyMem_Malloc(sizeof(double) * (count + 1));
    Py_ssize_t *back = PyMem_Malloc(sizeof(Py_ssize_t) * (n + 1));
    Py_ssize_t *reachable = PyMem_Malloc(sizeof(Py_ssize_t) * (count + 1));
    *found = 0;
    if (!cost || !reached_at || !back || !reachable) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i <= n; i++) {
        cost[i] = Py_HUGE_VAL;
        back[i] = 0;
    }
    cost[0] = 0.0;
    Py_ssize_t reached = 1;
    reachable[0] = 0;
    reached_at[0] = m->advance[0];
    for (Py_ssize_t c = 0; c < count; c++) {
        Py_ssize_t end = candidates[c];
        int last = end == n;
        /* the longest line reaches past the measure by the marks it may squeeze */
        double at_end = m->advance[end], best = Py_HUGE_VAL;
        double target = at_end - (m->width + 0.5 * (double)m->max_squeeze * (squeezable != NULL)) - 1e-9;
        Py_ssize_t best_start = 0, low = 0, high = reached;
        while (low < high) { /* bisect_left(reached_at, target) */
            Py_ssize_t middle = (low + high) / 2;
            if (reached_at[middle] < target)
                low = middle + 1;
            else
                high = middle;
        }
        for (Py_ssize_t index = low; index < reached; index++) {
            Py_ssize_t start = reachable[index];
            double measure = start == 0 ? m->first : m->width;
            double natural = at_end - reached_at[index];
            Py_ssize_t squeezed = squeezes(natural, measure, squeezable, start, end, m->max_squeeze);
            if (squeezed > m->max_squeeze) /* too long, even squeezed */
                continue;
            if (!last) {
                Py_ssize_t gaps = end - start - 1;
                if ((measure - natural + 0.5 * (double)squeezed) / (double)(gaps ? gaps : 1) > m->max_stretch)
                    break; /* and more from every later start */
            }
            double step = line_cost(natural, measure, start, end, last, m->runt_from, m->runt_cost, m->squeeze_cost,
                                    squeezed);
            if (cost[start] + step <= best) { /* equal: the later start, the shorter line */
                best = cost[start] + step;
                best_start = start;
            }
        }
        cost[end] = best;
        back[end] = best_start;
        if (best < Py_HUGE_VAL) {
            reachable[reached] = end;
            reached_at[reached] = at_end;
            reached++;
        }
    }
    lines = 0;
    if (cost[n] < Py_HUGE_VAL) {
        *found = 1;
        for (Py_ssize_t at = back[n]; at; at = back[at])
            lines++;
        Py_ssize_t i = lines;
        for (Py_ssize_t at = back[n]; at; at = back[at])
            starts[--i] = at;
    }
done:
    PyMem_Free(cost);
    PyMem_Free(reached_at);
    PyMem_Free(back);
    PyMem_Free(reachable);
    return lines;
}

/* What lines starting at `starts` cost (breaking.cost_of); infinite where one overflows. */
static double cost_of(const Measure *m, const Py_ssize_t *starts, Py_ssize_t lines, const Py_ssize_t *squeezable) {
    double total = 0.0;
    for (Py_ssize_t i = 0; i <= lines; i++) {
        Py_ssize_t start = i ? starts[i - 1] : 0, end = i < lines ? starts[i] : m->n;
        double natural = m->advance[end] - m->advance[start], measure = start == 0 ? m->first : m->width;
        Py_ssize_t squeezed = squeezes(natural, measure, squeezable, start, end, m->max_squeeze);
        if (squeezed > m->max_squeeze)
            return Py_HUGE_VAL;
        total += line_cost(natural, measure, start, end, end == m->n, m->runt_from, m->runt_cost, m->squeeze_cost,
                           squeezed);
    }
    return total;
}

static PyObject *list_of(const Py_ssize_t *values, Py_ssize_t count) {
    PyObject *list = PyList_New(count);
    for (Py_ssize_t i = 0; list && i < count; i++) {
        PyObject *number = PyLong_FromSsize_t(values[i]);
        if (!number) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, number);
    }
    return list;
}

/* Fill a C array of n doubles (or of Py_ssize_t) from a sequence; 0, or -1 with an exception set. */
static int read_doubles(PyObject *sequence, double *out, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(sequence, i));
    return PyErr_Occurred() ? -1 : 0;
}

static int read_sizes(PyObject *sequence, Py_ssize_t *out, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(sequence, i));
    return PyErr_Occurred() ? -1 : 0;
}

PyDoc_STRVAR(total_fit_doc,
             "total_fit(advance, candidates, runt_from, squeezable, first, width, runt_cost, max_stretch,\n"
             "          squeeze_cost, max_squeeze) -> list | None\n\n"
             "breaking.total_fit's dynamic programme: `advance` where each character begins (ems, n + 1),\n"
             "`candidates` the line ends in order (the last is n), a last line from `runt_from` on a runt,\n"
             "`squeezable` the count of marks a line may set in half width before each character (n + 1).\n"
             "The line starts after 0 of the least costly breaks, or None.");

static PyObject *total_fit(PyObject *self, PyObject *args) {
    PyObject *advance_object, *candidates_object, *squeezable_object;
    Measure m;
    if (!PyArg_ParseTuple(args, "OOnOdddddn", &advance_object, &candidates_object, &m.runt_from, &squeezable_object,
                          &m.first, &m.width, &m.runt_cost, &m.max_stretch, &m.squeeze_cost, &m.max_squeeze))
        return NULL;
    PyObject *advance_fast = PySequence_Fast(advance_object, "advance must be a sequence");
    PyObject *candidates_fast = PySequence_Fast(candidates_object, "candidates must be a sequence");
    PyObject *squeezable_fast = PySequence_Fast(squeezable_object, "squeezable must be a sequence");
    PyObject *result = NULL;
    double *advance = NULL;
    Py_ssize_t *squeezable = NULL, *candidates = NULL, *starts = NULL;
    if (!advance_fast || !candidates_fast || !squeezable_fast)
        goto done;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(advance_fast), count = PySequence_Fast_GET_SIZE(candidates_fast);
    Py_ssize_t n = size - 1;
    if (n < 0 || PySequence_Fast_GET_SIZE(squeezable_fast) != size) {
        PyErr_SetString(PyExc_ValueError, "advance and squeezable must have one more item than the text has characters");
        goto done;
    }
    advance = PyMem_Malloc(sizeof(double) * size);
    squeezable = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    candidates = PyMem_Malloc(sizeof(Py_ssize_t) * (count + 1));
    starts = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    if (!advance || !squeezable || !candidates || !starts) {
        PyErr_NoMemory();
        goto done;
    }
    if (read_doubles(advance_fast, advance, size) || read_sizes(squeezable_fast, squeezable, size) ||
        read_sizes(candidates_fast, candidates, count))
        goto done;
    for (Py_ssize_t c = 0; c < count; c++) {
        if (candidates[c] < 1 || candidates[c] > n) {
            PyErr_SetString(PyExc_ValueError, "a candidate is outside the text");
            goto done;
        }
    }
    m.advance = advance;
    m.n = n;
    int found;
    Py_ssize_t lines = fit_lines(&m, candidates, count, squeezable, starts, &found);
    if (lines < 0)
        goto done;
    result = found ? list_of(starts, lines) : Py_NewRef(Py_None);
done:
    PyMem_Free(advance);
    PyMem_Free(squeezable);
    PyMem_Free(candidates);
    PyMem_Free(starts);
    Py_XDECREF(advance_fast);
    Py_XDECREF(candidates_fast);
    Py_XDECREF(squeezable_fast);
    return result;
}

PyDoc_STRVAR(choose_breaks_doc,
             "choose_breaks(advance, allowed, marks, runt_from, first, width, runt_cost, loose, max_stretch,\n"
             "              squeeze_cost, max_squeeze) -> (starts, squeezed) | None\n\n"
             "breaking.choose_breaks: the greedy breaks among those `allowed` (n + 1 bytes: 1 before a character\n"
             "where a line may end and Pango breaks, 2 where only the breaks chosen may end one), and where they\n"
             "are poor (a runt, a line spread more than `loose`), the breaks chosen together among all those\n"
             "allowed and the marks of `marks` (sorted) they squeeze, if they cost less; a last line from\n"
             "`runt_from` on is a runt. None where the greedy breaks stand.");

static PyObject *choose_breaks(PyObject *self, PyObject *args) {
    PyObject *advance_object, *marks_object;
    Py_buffer allowed;
    double loose;
    Measure m;
    if (!PyArg_ParseTuple(args, "Oy*Onddddddn", &advance_object, &allowed, &marks_object, &m.runt_from, &m.first,
                          &m.width, &m.runt_cost, &loose, &m.max_stretch, &m.squeeze_cost, &m.max_squeeze))
        return NULL;
    PyObject *advance_fast = PySequence_Fast(advance_object, "advance must be a sequence");
    PyObject *marks_fast = PySequence_Fast(marks_object, "marks must be a sequence");
    PyObject *result = NULL;
    double *advance = NULL, *at = NULL;
    Py_ssize_t *candidates = NULL, *pango = NULL, *greedy = NULL, *better = NULL, *marks = NULL, *squeezable = NULL;
    Py_ssize_t *chosen = NULL;
    if (!advance_fast || !marks_fast)
        goto done;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(advance_fast), n = size - 1;
    Py_ssize_t mark_count = PySequence_Fast_GET_SIZE(marks_fast);
    if (n < 1 || allowed.len != size) {
        PyErr_SetString(PyExc_ValueError, "allowed must have one byte more than the text has characters");
        goto done;
    }
    advance = PyMem_Malloc(sizeof(double) * size);
    at = PyMem_Malloc(sizeof(double) * size);
    candidates = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    pango = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    greedy = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    better = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    squeezable = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    marks = PyMem_Malloc(sizeof(Py_ssize_t) * (mark_count + 1));
    chosen = PyMem_Malloc(sizeof(Py_ssize_t) * (mark_count + 1));
    if (!advance || !at || !candidates || !pango || !greedy || !better || !squeezable || !marks || !chosen) {
        PyErr_NoMemory();
        goto done;
    }
    if (read_doubles(advance_fast, advance, size) || read_sizes(marks_fast, marks, mark_count))
        goto done;
    m.advance = advance;
    m.n = n;
    const unsigned char *flags = allowed.buf;
    Py_ssize_t count = 0, pango_count = 0; /* where a line may end before the text's end; where Pango breaks */
    for (Py_ssize_t i = 1; i < n; i++)
        if (flags[i]) {
            candidates[count++] = i;
            if (flags[i] == 1) {
                at[pango_count] = advance[i];
                pango[pango_count++] = i;
            }
        }
    /* The greedy breaks (breaking.first_fit_among), as Pango takes them: each line as long as fits. */
    Py_ssize_t greedy_lines = 0, start = 0;
    for (;;) {
        double limit = advance[start] + (start == 0 ? m.first : m.width) + 1e-9;
        if (advance[n] <= limit)
            break;
        Py_ssize_t low = 0, high = pango_count;
        while (low < high) { /* bisect_right(at, limit) */
            Py_ssize_t middle = (low + high) / 2;
            if (limit < at[middle])
                high = middle;
            else
                low = middle + 1;
        }
        if (low == 0 || pango[low - 1] <= start) { /* no break fits: Pango's own stand */
            result = Py_NewRef(Py_None);
            goto done;
        }
        start = greedy[greedy_lines++] = pango[low - 1];
    }
    /* Poor (breaking.poor): a runt last line, or a line spread more than `loose` a gap. */
    int poor = 0;
    for (Py_ssize_t i = 0; i <= greedy_lines && !poor; i++) {
        Py_ssize_t from = i ? greedy[i - 1] : 0, to = i < greedy_lines ? greedy[i] : n;
        if (to == n) {
            poor = m.runt_cost != 0.0 && from > 0 && from >= m.runt_from;
            break;
        }
        Py_ssize_t gaps = to - from - 1;
        poor = ((from == 0 ? m.first : m.width) - (advance[to] - advance[from])) / (double)(gaps > 1 ? gaps : 1) > loose;
    }
    if (!poor) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    for (Py_ssize_t i = 0; i < size; i++) /* breaking.squeezable_counts */
        squeezable[i] = 0;
    for (Py_ssize_t k = 0; k < mark_count; k++) {
        if (marks[k] < 0 || marks[k] >= n || (k && marks[k] <= marks[k - 1])) {
            PyErr_SetString(PyExc_ValueError, "marks must be in the text, in order");
            goto done;
        }
        squeezable[marks[k] + 1] = 1;
    }
    for (Py_ssize_t i = 1; i < size; i++)
        squeezable[i] += squeezable[i - 1];
    candidates[count] = n;
    int found;
    Py_ssize_t lines = fit_lines(&m, candidates, count + 1, squeezable, better, &found);
    if (lines < 0)
        goto done;
    int same = lines == greedy_lines;
    for (Py_ssize_t i = 0; same && i < lines; i++)
        same = better[i] == greedy[i];
    if (!found || same || cost_of(&m, better, lines, squeezable) >= cost_of(&m, greedy, greedy_lines, NULL)) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    /* The marks squeezed (breaking.squeezed_marks): as many as each line needs, spread evenly over its own. */
    Py_ssize_t squeezed_count = 0;
    for (Py_ssize_t i = 0; i <= lines; i++) {
        Py_ssize_t from = i ? better[i - 1] : 0, to = i < lines ? better[i] : n;
        double measure = from == 0 ? m.first : m.width;
        Py_ssize_t needed = squeezes(advance[to] - advance[from], measure, squeezable, from, to, m.max_squeeze);
        if (!needed || needed > m.max_squeeze)
            continue;
        Py_ssize_t low = 0, high = 0; /* the marks from from + 1 up to to - 1 */
        while (low < mark_count && marks[low] < from + 1)
            low++;
        high = low;
        while (high < mark_count && marks[high] < to - 1)
            high++;
        for (Py_ssize_t k = 0; k < needed; k++)
            chosen[squeezed_count++] = marks[low + (2 * k + 1) * (high - low) / (2 * needed)];
    }
    PyObject *starts_list = list_of(better, lines), *squeezed_list = starts_list ? list_of(chosen, squeezed_count) : NULL;
    if (starts_list && squeezed_list)
        result = PyTuple_Pack(2, starts_list, squeezed_list);
    Py_XDECREF(starts_list);
    Py_XDECREF(squeezed_list);
done:
    PyBuffer_Release(&allowed);
    PyMem_Free(advance);
    PyMem_Free(at);
    PyMem_Free(candidates);
    PyMem_Free(pango);
    PyMem_Free(greedy);
    PyMem_Free(better);
    PyMem_Free(squeezable);
    PyMem_Free(marks);
    PyMem_Free(chosen);
    Py_XDECREF(advance_fast);
    Py_XDECREF(marks_fast);
    return result;
}

static PyMethodDef methods[] = {
    {"show_run", show_run, METH_VARARGS, show_run_doc},
    {"paragraph_lines", paragraph_lines, METH_VARARGS, paragraph_lines_doc},
    {"draw_line", draw_line, METH_VARARGS, draw_line_doc},
    {"total_fit", total_fit, METH_VARARGS, total_fit_doc},
    {"choose_breaks", choose_breaks, METH_VARARGS, choose_breaks_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Loops over a book's lines, glyphs and characters, and its breaks, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) {
#define INTERN_NAME(name, text)                                                                                    \
    if (!(name_##name = PyUnicode_InternFromString(text)))                                                         \
        return NULL;
    NAMES(INTERN_NAME)
    return PyModule_Create(&module);
}
