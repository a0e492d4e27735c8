"""One JSON error shape for the whole API: {"error": {"code", "message", "field"?, "details"?}}."""

from __future__ import annotations

from django.db import DatabaseError, DataError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = "The database is unavailable; retry shortly."


DATA_ERROR_MESSAGE = "A value in the request cannot be stored or compared by the database (too long, out of range or " \
    "malformed)."


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def api_exception_handler(exc, context):
    if isinstance(exc, DataError):
        # The client's data, not the database's health: retrying the same request cannot help.
        return Response(error_body("invalid", DATA_ERROR_MESSAGE), status=400)
    if isinstance(exc, DatabaseError):
        # Never a 500 and never a 2xx without the row: the client retries and nothing is lost.
        response = Response(error_body("unavailable", ServiceUnavailable.default_detail), status=503)
        response["Retry-After"] = "5"
        return response
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else code
    detail = response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        response.data = error_body(code, str(detail["detail"]))
    elif isinstance(detail, dict) and "error" in detail:
        pass
    else:
        response.data = error_body("invalid", "The request is not valid.", details=detail)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    return response
