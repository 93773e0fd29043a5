"""Photos people upload (activities, orders, and the venues and stories to come): checked
by their content, turned upright, resized, and re-encoded as JPEG without any metadata
(EXIF GPS positions included), with a thumbnail."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _

from wenming.core.errors import RuleViolation

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_SIDE = 1600
THUMBNAIL_MAX_SIDE = 480
# Decoding a huge image costs memory; a phone photo is ~12-50 megapixels.
PHOTO_MAX_PIXELS = 60_000_000
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass(frozen=True)
class EncodedPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def encode_photo(data: bytes) -> EncodedPhoto:
    """Check an upload by its content (Pillow, not the name or the browser's type) and
    re-encode it: JPEG or PNG or WebP only, turned upright, at most PHOTO_MAX_SIDE px,
    saved as a fresh JPEG without EXIF (GPS), XMP or other metadata."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    bad = RuleViolation(_("请上传 JPEG、PNG 或 WebP 格式的照片。"), field="image", code="bad_type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in PHOTO_FORMATS:
                    raise bad
                if probe.width * probe.height > PHOTO_MAX_PIXELS:
                    raise RuleViolation(_("照片像素过大。"), field="image", code="too_big")
                probe.verify()
            # verify() leaves the image unusable: open it again to decode it.
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                upright = ImageOps.exif_transpose(img)
    except RuleViolation:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as exc:
        raise bad from exc
    if upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, (255, 255, 255))
        upright.paste(rgba, mask=rgba.getchannel("A"))
    else:
        upright = upright.convert("RGB")

    def jpeg(side: int) -> tuple[bytes, int, int]:
        copy = upright.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # No exif= and no icc_profile=: nothing from the original's metadata survives.
        copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        return out.getvalue(), copy.width, copy.height

    image, width, height = jpeg(PHOTO_MAX_SIDE)
    thumbnail, _w, _h = jpeg(THUMBNAIL_MAX_SIDE)
    return EncodedPhoto(image=image, thumbnail=thumbnail, width=width, height=height)
