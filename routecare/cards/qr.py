"""Drawing card QR codes (segno) and reading them from photos (zxing-cpp)."""

from __future__ import annotations

import io

import segno
import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

# A phone photo is a few megabytes; anything much larger is not a photo of a card.
MAX_PHOTO_BYTES = 12 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000


class PhotoError(ValueError):
    """The upload is not an image we can read, or holds no QR code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def make(text: str) -> segno.QRCode:
    # Level M exactly: a higher level would grow a full card past the size limit.
    return segno.make_qr(text, error="m", boost_error=False)


def version_of(text: str) -> int:
    return int(make(text).version)


def svg(text: str, *, scale: int = 4) -> str:
    out = io.BytesIO()
    make(text).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return out.getvalue().decode("utf-8")


def png(text: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    make(text).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def read_photo(data: bytes) -> str:
    """The text of the first QR code in a photo (JPEG, PNG, WebP…)."""
    if not data:
        raise PhotoError("empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError("too_large")
    Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width * height > MAX_PHOTO_PIXELS:
                raise PhotoError("too_large")  # before decoding: a huge image is not a card
            image = ImageOps.exif_transpose(opened).convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError("not_an_image") from exc
    for barcode in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode])
    ):
        if barcode.valid and barcode.text:
            return str(barcode.text)
    raise PhotoError("no_code")
