"""benchmarks/profile.py: how a sample of a build is given to a part of the code (the measure of
issue #7's rule, our own code under 10 % of a build). Synthetic py-spy stacks; no timing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("book_profile", ROOT / "benchmarks" / "profile.py")
assert _spec and _spec.loader
profile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(profile)

SITE = "/usr/lib/python3.11/site-packages"
BUILD = ['process 7:"python publish.py"', "<module> (publish.py:14)", "main (book/cli.py:116)"]
LAYOUT = next(
    number
    for number, line in enumerate((ROOT / "book" / "pdf" / "paragraph.py").read_text(encoding="utf-8").splitlines(), 1)
    if "pango_layout_get_lines_readonly" in line
)


def part(stack: list[str], native: bool = False) -> str:
    return profile.classify([*BUILD, *stack], native, {})[0]


def test_each_module_of_ours_is_its_part_and_the_rest_is_weasyprint_s() -> None:
    assert part(["normalize (book/normalize.py:40)"]) == profile.NORMALIZER
    assert part(["render (book/render.py:12)"]) == profile.NORMALIZER
    assert part(["_draw_text (book/pdf/paragraph.py:1500)"]) == profile.EXTENSION
    assert part(["show_run (book/_speedups.c:120)"]) == profile.EXTENSION
    assert part(["halt_positions (book/text.py:194)"]) == profile.EXTENSION  # the extension's mark rule
    assert part(["Assembly.add (book/assemble.py:182)"]) == profile.ASSEMBLY
    assert part(["_handle (book/pieces.py:535)"]) == profile.ASSEMBLY
    assert part([f"block_container_layout ({SITE}/weasyprint/layout/block.py:700)"]) == profile.OTHERS
    assert part(["_find_and_load (<frozen importlib._bootstrap>:1176)"]) == profile.OTHERS
    assert part(["root (styles/print/book.html:238)"]) == profile.NORMALIZER  # a template's code
    assert part(["root (book.html:238)"]) == profile.NORMALIZER


def test_the_paragraph_layout_call_is_pango_s_and_the_rest_of_its_function_ours() -> None:
    assert part([f"_lay_out_paragraph (book/pdf/paragraph.py:{LAYOUT})"]) == profile.PANGO
    assert part([f"_lay_out_paragraph (book/pdf/paragraph.py:{LAYOUT + 2})"]) == profile.EXTENSION


def test_generated_code_is_its_caller_s() -> None:
    """A named tuple's __new__ runs in code compiled from a string."""
    assert part(["_lay_out_paragraph (book/pdf/paragraph.py:1400)", "<lambda> (<string>:1)"]) == profile.EXTENSION
    assert part([f"copy ({SITE}/weasyprint/boxes.py:130)", "__init__ (<string>:3)"]) == profile.OTHERS


def test_native_frames_give_a_library_s_time_to_it_and_the_interpreter_s_to_the_python_frame() -> None:
    python = "_paragraph_linebox (book/pdf/paragraph.py:1240)"
    interpreter = "_PyEval_EvalFrameDefault (libpython3.11.so.1.0)"
    shaping = ["hb_shape_plan_execute (libharfbuzz.so.0.60000.0)"]
    assert part([python, interpreter], native=True) == profile.EXTENSION
    assert part([python, interpreter, "malloc (libc.so.6)"], native=True) == profile.EXTENSION
    assert part([python, "0x7f00deadbeef (libc.so.6)"], native=True) == profile.EXTENSION
    assert part([python, "b_call (_cffi_backend.cpython-311-x86_64-linux-gnu.so)"], native=True) == profile.EXTENSION
    assert part([python, interpreter, *shaping], native=True) == profile.PANGO
    assert part([python, "g_slice_alloc (libglib-2.0.so.0.7400.6)"], native=True) == profile.PANGO
    assert part([python, "inflate (libz.so.1.2.13)"], native=True) == profile.OTHERS
    assert part([python, "Py_DECREF (object.h:537)"], native=True) == profile.EXTENSION
    assert part([python, "encoder_listencode_obj (_json.c:1400)"], native=True) == profile.OTHERS
    assert part(["root (book.html:238)", interpreter], native=True) == profile.NORMALIZER
    assert part([python, "<lambda> (<string>:1)", interpreter], native=True) == profile.EXTENSION
    collection = [python, interpreter, "gc_collect_main (libpython3.11.so.1.0)", "0x7f00deadbeef (libpython3.11.so)"]
    assert part(collection, native=True) == profile.COLLECTOR


def test_the_report_gives_the_shares_of_the_parts_and_our_own_code(tmp_path: Path, capsys: object) -> None:
    raw = tmp_path / "samples.txt"
    samples = [
        (["normalize (book/normalize.py:40)"], 1),
        (["_draw_text (book/pdf/paragraph.py:1500)"], 2),
        ([f"_lay_out_paragraph (book/pdf/paragraph.py:{LAYOUT})"], 3),
        ([f"block_container_layout ({SITE}/weasyprint/layout/block.py:700)"], 4),
    ]
    raw.write_text("".join(f"{';'.join([*BUILD, *stack])} {count}\n" for stack, count in samples), encoding="utf-8")
    profile.report(raw, 2, native=False)
    printed = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "10 samples" in printed
    assert "30.0 %  Pango and HarfBuzz" in printed
    assert "our own code: 30.0 %" in printed  # the normalizer's 1 and the extension's 2 of 10
    assert "1.  40.0 %  block_container_layout" in printed
    assert "2.  30.0 %  pango_layout_get_lines_readonly (Pango, called by _lay_out_paragraph)" in printed


def test_each_part_the_profile_can_turn_off_is_a_switch_of_the_extension() -> None:
    """--without PART turns that part of the extension off in the profiled build (render_options)."""
    import dataclasses

    from book.pdf import options

    parts = {field.name for field in dataclasses.fields(options.RenderOptions)}
    assert {name.replace("-", "_") for name in profile.SWITCHES} == parts
    with options.render_options(**dict.fromkeys(parts, False)) as chosen:
        assert not any(dataclasses.astuple(chosen))
    assert all(dataclasses.astuple(options.current_options()))  # back on after the context
