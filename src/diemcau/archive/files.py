"""Serving an archived file from the storage, with HTTP range requests (RFC 9110 §14), so a
browser's player seeks in a recording without downloading all of it. An object store that
signs its own URLs (S3) is redirected to instead: it answers ranges itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from .services.storage import archive_storage

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single-range `Range` header; None for no (or an ignored)
    range. Raises ValueError for a range that cannot be satisfied."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None  # absent, multiple ranges or another unit: the whole file
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        length = int(last_text)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(size - length, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        raise ValueError("range not satisfiable")
    return first, min(last, size - 1)


def _chunks(handle: IO[bytes], length: int) -> Iterator[bytes]:
    try:
        left = length
        while left > 0:
            block = handle.read(min(CHUNK, left))
            if not block:
                break
            left -= len(block)
            yield block
    finally:
        handle.close()


def serve(request: HttpRequest, name: str, *, content_type: str, filename: str,
          attachment: bool) -> HttpResponse | StreamingHttpResponse:
    storage = archive_storage()
    if settings.ARCHIVE_STORAGE == "s3":
        return HttpResponseRedirect(storage.url(name))
    size = storage.size(name)
    try:
        wanted = parse_range(request.headers.get("Range", ""), size)
    except ValueError:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    handle = storage.open(name, "rb")
    if wanted is None:
        first, last, status = 0, size - 1, 200
    else:
        first, last = wanted
        status = 206
        handle.seek(first)
    length = last - first + 1 if size else 0
    response = StreamingHttpResponse(_chunks(handle, length), status=status,
                                     content_type=content_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if status == 206:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Disposition"] = content_disposition_header(attachment, filename) or ""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
