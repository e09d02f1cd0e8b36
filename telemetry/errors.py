"""Domain errors: a rule of ours refused the request (no DRF import here), and the
messages of the JSON body rules every endpoint shares; tests import them."""

from __future__ import annotations

BODY_EMPTY = "the body is empty; send a JSON object"
BODY_NOT_UTF8 = "the body is not valid UTF-8"
BODY_NOT_JSON = "the body is not valid JSON: {detail}"
BODY_NOT_OBJECT = "the body must be a JSON object"
BODY_TOO_LARGE = "the body is larger than {limit} bytes"
BODY_DUPLICATE_KEY = "duplicate key {key!r} in the JSON body"
BODY_TOO_DEEP = "the body nests objects and lists deeper than {limit} levels"
BODY_NOT_FINITE = "numbers must be finite (no NaN, Infinity or overflowing values)"
BODY_NUMBER_TOO_LONG = "numbers may have at most {limit} digits"
BODY_CHUNKED_UNREADABLE = (
    "this server cannot read a chunked body (Transfer-Encoding: chunked); send Content-Length"
)
CONTENT_TYPE_NOT_JSON = "Content-Type must be application/json, not {content_type!r}"


class DomainError(Exception):
    """A rule of ours refused the request; carries the status and the message."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = {}


class BadInput(DomainError):
    status_code = 400


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415
