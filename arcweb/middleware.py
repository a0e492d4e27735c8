"""Refuse a URL carrying a NUL character before any view reads it, and never answer 5xx to a value the
database refuses.

No route, id, token or filter can match a NUL (PostgreSQL text cannot hold one), and one that reached the
database would fail there: a clear 400 instead, on every route, before the path is resolved.
"""

from __future__ import annotations

import logging

from django.db import DataError
from django.http import HttpResponseBadRequest, JsonResponse

from .errors import DATA_ERROR_MESSAGE, error_body

NUL_IN_QUERY = "The query string contains a NUL character (%00), which no parameter accepts."
NUL_IN_PATH = "The URL path contains a NUL character (%00), which no page or id holds."
API_PREFIXES = ("/api/", "/v1/")
log = logging.getLogger(__name__)


def bad_request(request, message: str):
    if request.path.startswith(API_PREFIXES):
        return JsonResponse(error_body("invalid", message), status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RejectNul:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return bad_request(request, NUL_IN_PATH)
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            return bad_request(request, NUL_IN_QUERY)
        return self.get_response(request)

    def process_exception(self, request, exception):
        # The API's exception handler answers its own views; this covers the pages.
        if isinstance(exception, DataError):
            log.warning("the database refused a value of %s %s: %s", request.method, request.path[:200],
                        type(exception.__cause__ or exception).__name__)
            return bad_request(request, DATA_ERROR_MESSAGE)
        return None
