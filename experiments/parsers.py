"""JSON request bodies, gzipped or not: the SDK's client gzips every body over 1 KB."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import exceptions, parsers

from traces.http import inflate


class JsonParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower() if request is not None else ""
        if encoding in ("gzip", "deflate") and stream is not None:
            stream = io.BytesIO(inflate(stream.read(settings.ARC_MAX_BODY_BYTES + 1), settings.ARC_MAX_BODY_BYTES))
        elif encoding not in ("", "identity"):
            raise exceptions.UnsupportedMediaType(encoding, f"Content-Encoding {encoding!r} is not supported.")
        return super().parse(stream, media_type, parser_context)
