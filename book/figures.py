"""Figures' images for print. A PDF/X file for a CMYK press holds no RGB: each image is separated
into the output intent's CMYK (Little CMS through Pillow's ImageCms, sRGB → the book's ICC profile,
relative colorimetric) and embedded as a JPEG, which WeasyPrint keeps as it is (DCTDecode,
DeviceCMYK). Gray images stay gray. The screen PDF and the EPUB keep the image as the seed has it."""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

from .model import Image, PdfProfile

JPEG_QUALITY = 95  # and no chroma subsampling: screenshots keep sharp text


def print_image_url(image: Image, profile: PdfProfile) -> str:
    """A data: URL of `image` as the print PDF embeds it (sandbox.RestrictedFetcher serves it)."""
    if profile.cmyk and profile.output_profile is not None:
        return _data_url("image/jpeg", _separated(image, profile.output_profile))
    return _data_url(image.media_type, image.data)


@functools.lru_cache(maxsize=64)
def _separated(image: Image, output_profile: Path) -> bytes:
    from PIL import Image as PillowImage
    from PIL import ImageCms

    with PillowImage.open(io.BytesIO(image.data)) as opened:
        picture: PillowImage.Image = opened.convert("RGBA") if opened.mode in ("P", "LA", "PA") else opened.copy()
    if picture.mode in ("RGBA", "LA"):  # transparency over the paper's white
        paper = PillowImage.new("RGB", picture.size, "white")
        paper.paste(picture, mask=picture.getchannel("A"))
        picture = paper
    if picture.mode in ("1", "L", "I", "I;16"):
        picture = picture.convert("L")
    elif picture.mode != "CMYK":
        transform = ImageCms.buildTransform(
            ImageCms.createProfile("sRGB"),
            ImageCms.getOpenProfile(str(output_profile)),
            "RGB",
            "CMYK",
            ImageCms.Intent.RELATIVE_COLORIMETRIC,
        )
        picture = ImageCms.applyTransform(picture.convert("RGB"), transform) or picture
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False)
    return out.getvalue()


def _data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
