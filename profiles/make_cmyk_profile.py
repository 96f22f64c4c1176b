"""Regenerate book-cmyk.icc, the CMYK output profile of the print PDF's output intent.

Not part of the build: book-cmyk.icc is committed. This records how it was made.
Needs Pillow, ArgyllCMS (Debian `argyll`, for colprof) and CGATS001Compat-v2-micro.icc
(CC0; in the npm package pdfjs-dist 5.6.205 as iccs/CGATS001Compat-v2-micro.icc).

    python profiles/make_cmyk_profile.py CGATS001Compat-v2-micro.icc

The micro profile only maps CMYK to Lab (an input profile, class 'scnr'), which a PDF/X output
intent cannot use. Its CMYK→Lab model is sampled on a 9-step grid (6,435 patches within a
320 % total ink limit) and ArgyllCMS builds a full output profile (class 'prtr': A2B, B2A and
gamut tables) from those samples.
"""

import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageCms

STEPS = (0, 10, 20, 30, 40, 55, 70, 85, 100)
INK_LIMIT = 320


def main(source: str) -> None:
    model = ImageCms.buildTransform(ImageCms.getOpenProfile(source), ImageCms.createProfile("LAB"), "CMYK", "LAB",
                                    renderingIntent=ImageCms.Intent.ABSOLUTE_COLORIMETRIC)
    patches = [p for p in itertools.product(STEPS, repeat=4) if sum(p) <= INK_LIMIT]
    image = Image.new("CMYK", (len(patches), 1))
    image.putdata([tuple(round(v * 2.55) for v in p) for p in patches])
    labs = list(model.apply(image).get_flattened_data())
    rows = [f"{i} {c:.2f} {m:.2f} {y:.2f} {k:.2f} {L * 100 / 255:.3f} {a - 128:.3f} {b - 128:.3f}"
            for i, ((c, m, y, k), (L, a, b)) in enumerate(zip(patches, labs, strict=True), start=1)]
    header = ["CTI3", "", 'DESCRIPTOR "Argyll Calibration Target chart information 3"', 'ORIGINATOR "book"',
              'DEVICE_CLASS "OUTPUT"', 'COLOR_REP "CMYK_LAB"', f'TOTAL_INK_LIMIT "{INK_LIMIT}"', "",
              "NUMBER_OF_FIELDS 8", "BEGIN_DATA_FORMAT", "SAMPLE_ID CMYK_C CMYK_M CMYK_Y CMYK_K LAB_L LAB_A LAB_B",
              "END_DATA_FORMAT", "", f"NUMBER_OF_SETS {len(patches)}", "BEGIN_DATA"]
    with tempfile.TemporaryDirectory() as folder:
        ti3 = Path(folder) / "book-cmyk.ti3"
        ti3.write_text("\n".join([*header, *rows, "END_DATA"]) + "\n", encoding="ascii")
        subprocess.run(["colprof", "-qm", "-kr", f"-l{INK_LIMIT}", "-D", "Book CMYK (CGATS TR 001 compatible)",
                        "-C", "CC0 1.0", str(ti3.with_suffix(""))], check=True)
        target = Path(__file__).with_name("book-cmyk.icc")
        target.write_bytes(ti3.with_suffix(".icc").read_bytes())
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1])
