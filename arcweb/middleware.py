"""Refuse a query string carrying a NUL character before any view reads it.

No filter can match one (PostgreSQL text cannot hold NUL), and a filter that reached the database would
fail there: a clear 400 instead.
"""

from __future__ import annotations

from django.http import HttpResponseBadRequest, JsonResponse

from .errors import error_body

NUL_MESSAGE = "The query string contains a NUL character (%00), which no parameter accepts."
API_PREFIXES = ("/api/", "/v1/")


def reject_nul_in_query(get_response):
    def middleware(request):
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            if request.path.startswith(API_PREFIXES):
                return JsonResponse(error_body("invalid", NUL_MESSAGE), status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware
