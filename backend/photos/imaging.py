"""Image decoding, bounded: header reads that never decode, and thumbnails made in a
worker process with a memory and time limit.

Pure Pillow, no Django: the worker is a fresh (spawned) interpreter that imports only this
module. A photo whose header declares more than FIELDLINE["IMAGE_MAX_PIXELS"] pixels is
refused on upload and never decoded; whatever else a decoder does with hostile bytes, the
worker's address-space limit and timeout stop it, not the server process.
"""

import io
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as WorkerTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

# Enough of a file to find a JPEG's frame header past its EXIF block.
HEADER_BYTES = 256 * 1024


class ImageRefused(ValueError):
    """Bytes that are not decoded: not an image, or more pixels than allowed."""


@dataclass(frozen=True)
class ThumbnailImage:
    jpeg: bytes
    width: int
    height: int


def declared_pixels(head: bytes) -> int | None:
    """width x height as the image's header declares it (nothing is decoded), or None
    when the header cannot be read from these bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(head)) as image:
                width, height = image.size
        except Image.DecompressionBombError:
            return 2**62
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return None
    return width * height


def check_pixels(head: bytes, *, max_pixels: int) -> None:
    pixels = declared_pixels(head)
    if pixels is not None and pixels > max_pixels:
        raise ImageRefused(
            f"The image declares more than {max_pixels} pixels (width x height): "
            "send a smaller one."
        )


def thumbnail_image(
    *, source: IO[bytes], max_edge: int, quality: int, max_pixels: int
) -> ThumbnailImage:
    """A JPEG thumbnail of an image: upright by its EXIF orientation, longest edge at
    most `max_edge`; an image of more than `max_pixels` is refused before decoding.
    Raises ImageRefused, UnidentifiedImageError or OSError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(source) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRefused(f"{width} x {height} pixels: more than {max_pixels}.")
            # JPEG decodes straight to a smaller scale: far less memory and time.
            image.draft("RGB", (max_edge, max_edge))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_edge, max_edge))
            if upright.mode not in ("RGB", "L"):
                rgba = upright.convert("RGBA")
                upright = Image.new("RGB", rgba.size, "white")
                upright.paste(rgba, mask=rgba.getchannel("A"))
            out = io.BytesIO()
            upright.save(out, format="JPEG", quality=quality, optimize=True)
            return ThumbnailImage(jpeg=out.getvalue(), width=upright.width, height=upright.height)


def _limit_memory(max_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def _thumbnail_from_bytes(
    data: bytes, max_edge: int, quality: int, max_pixels: int
) -> tuple[bytes, int, int] | str:
    """In the worker: the thumbnail, or the reason there is none."""
    try:
        image = thumbnail_image(
            source=io.BytesIO(data), max_edge=max_edge, quality=quality, max_pixels=max_pixels
        )
    except (ImageRefused, UnidentifiedImageError, OSError, ValueError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return image.jpeg, image.width, image.height


def thumbnail_in_worker(
    *,
    data: bytes,
    max_edge: int,
    quality: int,
    max_pixels: int,
    max_memory_bytes: int,
    timeout_s: float,
) -> ThumbnailImage:
    """`thumbnail_image` in a spawned worker process limited to `max_memory_bytes` of
    address space and `timeout_s` seconds. Raises ImageRefused for whatever went wrong."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=context,
        initializer=_limit_memory,
        initargs=(max_memory_bytes,),
    )
    try:
        future = pool.submit(_thumbnail_from_bytes, data, max_edge, quality, max_pixels)
        outcome = future.result(timeout=timeout_s)
    except WorkerTimeout as exc:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        raise ImageRefused(f"Decoding took longer than {timeout_s} s.") from exc
    except (BrokenProcessPool, MemoryError) as exc:
        raise ImageRefused("Decoding ran out of its memory limit.") from exc
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if isinstance(outcome, str):
        raise ImageRefused(outcome)
    jpeg, width, height = outcome
    return ThumbnailImage(jpeg=jpeg, width=width, height=height)
