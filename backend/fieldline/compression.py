"""Compressed bodies both ways, for phones on slow links.

Answers on the paths in FIELDLINE["COMPRESSED_PATHS"] (sync, exports) are gzipped when the
request's Accept-Encoding allows it; streamed answers are compressed as they stream.
Request bodies sent with `Content-Encoding: gzip` are inflated before any view reads
them, never past the path's body limit: a small body that inflates to gigabytes is a 413
as soon as the limit is crossed, not an out-of-memory.
"""

import io
import zlib
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.cache import patch_vary_headers

from fieldline.conf import fieldline_settings
from fieldline.middleware import BodySizeLimitMiddleware, hold_body

# zlib's window bits for the gzip container.
GZIP_WBITS = 16 + zlib.MAX_WBITS
# Below this a compressed answer is no smaller than the plain one.
MIN_COMPRESSED_BYTES = 200
# A streamed answer is flushed to the client at least every this many input bytes, so
# that a phone sees progress without a compressor holding a whole page back.
STREAM_FLUSH_BYTES = 64 * 1024
INFLATE_CHUNK = 64 * 1024


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (`gzip`, `x-gzip` or `*`, not q=0)."""
    allowed: dict[str, bool] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        allowed[name] = quality > 0
    if "gzip" in allowed or "x-gzip" in allowed:
        return allowed.get("gzip", False) or allowed.get("x-gzip", False)
    return allowed.get("*", False)


def gzip_stream(chunks: Iterable[bytes], *, level: int) -> Iterator[bytes]:
    """A gzip member of the chunks, compressed as they come."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    pending = 0
    for chunk in chunks:
        if not chunk:
            continue
        data = compressor.compress(chunk)
        pending += len(chunk)
        if pending >= STREAM_FLUSH_BYTES:
            data += compressor.flush(zlib.Z_SYNC_FLUSH)
            pending = 0
        if data:
            yield data
    yield compressor.flush()


class BodyTooLarge(Exception):
    pass


def gunzip_limited(body: bytes, *, limit: int) -> bytes:
    """The inflated body, raising BodyTooLarge once it passes `limit` bytes (at most one
    chunk past the limit is ever held), ValueError when it is not gzip."""
    inflater = zlib.decompressobj(GZIP_WBITS)
    out = io.BytesIO()
    data = body
    while True:
        piece = inflater.decompress(data, INFLATE_CHUNK)
        out.write(piece)
        if out.tell() > limit:
            raise BodyTooLarge
        data = inflater.unconsumed_tail
        if inflater.eof:
            if inflater.unused_data.strip(b"\0"):
                raise ValueError("trailing data after the gzip member")
            return out.getvalue()
        if not data and not piece:
            raise ValueError("truncated gzip body")


class CompressionMiddleware:
    """Inflates gzip request bodies (415 for other encodings) and compresses answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        refused = self.inflate_request(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        return self.compress_response(request, response)

    @staticmethod
    def inflate_request(request: HttpRequest) -> HttpResponseBase | None:
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding in ("", "identity"):
            return None
        if encoding not in ("gzip", "x-gzip"):
            return JsonResponse(
                {"detail": f"Unsupported Content-Encoding {encoding!r}: send gzip or none."},
                status=415,
            )
        limit = BodySizeLimitMiddleware.limit_for(request.path)
        try:
            body = gunzip_limited(request.read(), limit=limit)
        except BodyTooLarge:
            return JsonResponse(
                {"detail": f"Request body is too large: at most {limit} bytes inflated."},
                status=413,
            )
        except (ValueError, zlib.error):
            return JsonResponse({"detail": "The body is not valid gzip."}, status=400)
        # The view reads the inflated body as if it had been sent plain, within the path's
        # limit only (not Django's smaller default: one limit per path).
        if len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE or hasattr(request, "_body"):
            hold_body(request, body)
        else:
            request._stream = io.BytesIO(body)
            request._read_started = False
            request.META["CONTENT_LENGTH"] = str(len(body))
        del request.META["HTTP_CONTENT_ENCODING"]
        return None

    @staticmethod
    def compress_response(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        options = fieldline_settings
        if not any(request.path.startswith(p) for p in options.COMPRESSED_PATHS):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if response.has_header("Content-Encoding") or not accepts_gzip(
            request.META.get("HTTP_ACCEPT_ENCODING", "")
        ):
            return response
        level = options.COMPRESSION_LEVEL
        if response.streaming:
            response.streaming_content = gzip_stream(response.streaming_content, level=level)
            if response.has_header("Content-Length"):
                del response["Content-Length"]
        else:
            if len(response.content) < MIN_COMPRESSED_BYTES:
                return response
            compressor = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
            response.content = compressor.compress(response.content) + compressor.flush()
            response["Content-Length"] = str(len(response.content))
        response["Content-Encoding"] = "gzip"
        return response
