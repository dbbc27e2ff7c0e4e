"""Profile photos: validate the upload with Pillow and produce the resized avatars CloudLink serves
("50", "150", "300" square thumbnails and a "scaled" copy no larger than 1024 px)."""
from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from callyard.core.errors import Invalid

AVATAR_SIZES = (50, 150, 300)
SCALED_MAX = 1024
MAX_BYTES = 10 * 1024 * 1024
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}


def render_photo(data: bytes) -> dict[str, tuple[str, bytes]]:
    """Return ``{"original": (ct, bytes), "50": …, "150": …, "300": …, "scaled": …}`` or raise Invalid."""
    if not data:
        raise Invalid("InvalidImage", "the request body must be the photo's bytes (JPEG, PNG, GIF, WebP or BMP)")
    if len(data) > MAX_BYTES:
        raise Invalid("InvalidImage", f"the photo is larger than {MAX_BYTES} bytes")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
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


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
