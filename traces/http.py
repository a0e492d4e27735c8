"""Reading request bodies at the ingestion doors: size limits, gzip, JSON."""

from __future__ import annotations

import zlib
from typing import Any

import msgspec
from django.conf import settings
from rest_framework import exceptions

from arcweb.errors import PayloadTooLarge


def read_body(request, *, inflate_gzip: bool = True) -> bytes:
    """The request body, decompressed, refused with 413 past ARC_MAX_BODY_BYTES (before reading it when
    Content-Length says so, and after inflating when it is gzip)."""
    limit = settings.ARC_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("Content-Length is not a number.") from None
    if declared > limit:
        raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {limit} bytes.")
    raw = request._request.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is over the limit of {limit} bytes.")
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if not inflate_gzip:
        return raw
    if encoding in ("gzip", "deflate"):
        return inflate(raw, limit)
    if encoding not in ("", "identity"):
        raise exceptions.UnsupportedMediaType(encoding, f"Content-Encoding {encoding!r} is not supported.")
    return raw


def inflate(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise exceptions.ParseError(f"The body is not valid gzip: {exc}.") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"The decompressed body is over the limit of {limit} bytes.")
    return body


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise exceptions.ParseError("The body is empty: send a trace object or a list of traces.")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise exceptions.ParseError(f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise exceptions.ParseError("The body is not valid JSON: nested too deeply.") from None
