"""Profile photos: validate the upload with Pillow and produce the resized avatars CloudLink serves
("50", "150", "300" square thumbnails and a "scaled" copy no larger than 1024 px)."""
from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from callyard.core.errors import Invalid

AVATAR_SIZES = (50, 150, 300)
SCALED_MAX = 1024
MAX_BYTES = 10 * 1024 * 1024
# The declared size is checked from the header, before anything is decoded: a small file can declare a huge
# image (a "decompression bomb": 13000×13000 took 1.46 GB to decode).
MAX_PIXELS = 25_000_000
MAX_SIDE = 10_000
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}


def render_photo(data: bytes) -> dict[str, tuple[str, bytes]]:
    """Return ``{"original": (ct, bytes), "50": …, "150": …, "300": …, "scaled": …}`` or raise Invalid."""
    if not data:
        raise Invalid("InvalidImage", "the request body must be the photo's bytes (JPEG, PNG, GIF, WebP or BMP)")
    if len(data) > MAX_BYTES:
        raise Invalid("InvalidImage", f"the photo is larger than {MAX_BYTES} bytes")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            _check_size(*probe.size)
            probe.verify()
        image: Image.Image = Image.open(io.BytesIO(data))
        _check_size(*image.size)
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Invalid("InvalidImage", f"the image is too large to decode: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid("InvalidImage", f"the request body is not a supported image: {exc}") from None
    if image.format not in FORMATS:
        raise Invalid("InvalidImage", f"unsupported image format {image.format}")
    out = {"original": (FORMATS[image.format], data)}
    image = ImageOps.exif_transpose(image).convert("RGB")
    for size in AVATAR_SIZES:
        out[str(size)] = ("image/jpeg", _jpeg(ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)))
    scaled = image.copy()
    scaled.thumbnail((SCALED_MAX, SCALED_MAX), Image.Resampling.LANCZOS)
    out["scaled"] = ("image/jpeg", _jpeg(scaled))
    return out


def _check_size(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise Invalid("InvalidImage", f"the image declares {width}×{height} pixels; at most {MAX_SIDE} a side and "
                                      f"{MAX_PIXELS:,} in all")


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
