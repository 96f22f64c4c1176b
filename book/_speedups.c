/* book._speedups: two loops that run over every glyph or every character of a book, in C. Each
 * has its Python twin, which runs where this module was not compiled; tests compare the two.
 *
 * show_run: write_pdf._show_glyphs writes a line's glyphs as the operand of a PDF TJ operator,
 * each glyph where Pango placed it. Its loop over the glyphs of a run is the same arithmetic for
 * every glyph of a book (a 1,500-page novel has about 850,000), and as Python it was a tenth of a
 * build's time. This is that loop, glyph for glyph the same: the same arithmetic in doubles,
 * rounded half to even as Python's round(), and the same text. The Python loop also shows the
 * runs this one hands back.
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
    "         first, last, to_em, to_units, tc, widths, measure, to_unicode, pen, at, opened)\n"
    "-> (text, pen, at) or None\n\n"
    "The text that shows one run's glyphs, to be added to the TJ operand being built (opened:\n"
    "whether it has a glyph already), and Pango's pen and the PDF's position after them.\n"
    "measure(glyph) gives the width of a glyph that widths lacks. None where the run has a raised\n"
    "or lowered glyph, or an adjustment of 10^15 thousandths of an em: write_pdf's own loop shows\n"
    "that run (the widths and texts noted by then are those it would note).");

static PyObject *show_run(PyObject *self, PyObject *args) {
    Py_buffer infos_view, clusters_view, spaced_view, encoded_view;
    Py_ssize_t item_offset, item_length, last;
    long units, left, right;
    int first, opened;
    double to_em, to_units, tc, pen, at;
    PyObject *widths, *measure, *to_unicode;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nnlllpndddO!OO!ddp", &infos_view, &clusters_view, &spaced_view,
                          &encoded_view, &item_offset, &item_length, &units, &left, &right, &first, &last,
                          &to_em, &to_units, &tc, &PyDict_Type, &widths, &measure, &PyDict_Type, &to_unicode,
                          &pen, &at, &opened))
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
    {"distinct_characters", distinct_characters, METH_O, distinct_characters_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Two loops over a book's glyphs and characters, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
