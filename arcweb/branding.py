"""Organisation logos for shared reports: any common image in, a small PNG out.

The upload is decoded and re-encoded, so nothing of it but its pixels is kept (no metadata, no trailing
bytes, no SVG with script); its size is checked before its pixels are decoded.
"""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

LOGO_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 40_000_000
LOGO_BOX = (480, 160)  # largest stored size; reports show it at most 180 × 40 px
LOGO_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}


class InvalidLogo(Exception):
    """The upload is not a logo we keep; the message says why, for the person who uploaded it."""


def normalise_logo(data: bytes) -> bytes:
    """The PNG to store for an uploaded image, or InvalidLogo."""
    if len(data) > LOGO_MAX_UPLOAD_BYTES:
        raise InvalidLogo(f"The logo must be at most {LOGO_MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in LOGO_FORMATS:
                raise InvalidLogo("Upload a PNG, JPEG, WebP or GIF image.")
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise InvalidLogo("The image has too many pixels for a logo.")
            logo = image.convert("RGBA")
        logo.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
        output = io.BytesIO()
        logo.save(output, "PNG", optimize=True)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidLogo("Upload a PNG, JPEG, WebP or GIF image.") from exc
    return output.getvalue()


def logo_base64(png: bytes | None) -> str | None:
    """How a report snapshot (JSON) keeps the logo it was made with."""
    return base64.b64encode(png).decode("ascii") if png else None


def logo_png(encoded: str | None) -> bytes | None:
    """The PNG bytes of a stored base64 logo; None for none or for anything that is not base64."""
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def png_data_uri(png: bytes | None) -> str | None:
    """An `<img src>` for a logo (the pages' CSP allows data: images)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii") if png else None
