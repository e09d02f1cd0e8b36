"""Reading a request's JSON body ourselves, for every endpoint that takes one.

Not DRF's parser: it hands Django the whole body first (Django's own limit then
answers an HTML 400), answers a body without Content-Type with 415 (the legacy
protocol reads it as JSON), keeps the last of duplicate keys, and lets `1e400`
through as infinity.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request

from telemetry import errors
from telemetry.errors import BadInput, PayloadTooLarge, UnsupportedMediaType

# Our bodies nest three levels (a batch, its list, an event). The limit is checked
# before parsing: json's recursion limit depends on how deep the stack already is,
# and a value that just parsed could still overflow the next recursive reader.
MAX_DEPTH = 32
MAX_DIGITS = 4300  # Python's own limit for int()
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _nests_deeper_than(text: str, limit: int) -> bool:
    if text.count("[") + text.count("{") <= limit:
        return False
    # The brackets outside strings, then their running depth: loops in C, not a Python
    # step per string and bracket (thousands in a batch).
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


class Refused:
    """Stands in the parsed body for a value the rules refuse (NaN, Infinity, a number
    that overflows or is too long), so a caller may refuse only the part holding it."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class DuplicateKeys(dict):
    """A JSON object that repeats a key: its pairs (the last of each key wins) and why
    it is refused."""

    def __init__(self, pairs: list[tuple[str, Any]], *, key: str) -> None:
        super().__init__(pairs)
        self.message = errors.BODY_DUPLICATE_KEY.format(key=key)


def refusal_in(value: Any) -> str | None:
    """Why a parsed JSON value (nested at most MAX_DEPTH deep) breaks the rules, or None."""
    if isinstance(value, Refused | DuplicateKeys):
        return value.message
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        # Only a mark or a container can hold a refusal: no call per plain value.
        if isinstance(item, Refused | dict | list) and (message := refusal_in(item)) is not None:
            return message
    return None


class _Marks:
    """json.loads hooks that mark refused values instead of raising, noting the first."""

    def __init__(self) -> None:
        self.first: str | None = None

    def _refused(self, message: str) -> Refused:
        self.first = self.first or message
        return Refused(message)

    def object_pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                break
            seen.add(key)
        marked = DuplicateKeys(pairs, key=key)
        self.first = self.first or marked.message
        return marked

    def parse_float(self, text: str) -> float | Refused:
        number = float(text)
        if not math.isfinite(number):  # 1e400 parses to inf
            return self._refused(errors.BODY_NOT_FINITE)
        return number

    def parse_int(self, text: str) -> int | Refused:
        # int() refuses over 4300 digits (a ValueError that would end the whole parse).
        if len(text.lstrip("-")) > MAX_DIGITS:
            return self._refused(errors.BODY_NUMBER_TOO_LONG.format(limit=MAX_DIGITS))
        return int(text)

    def parse_constant(self, name: str) -> Refused:
        return self._refused(errors.BODY_NOT_FINITE)


def _is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _read_at_most(request: HttpRequest | Request, size: int) -> bytes:
    """Up to `size` bytes of the body: capped even when Content-Length lies."""
    meta = request.META
    if "chunked" not in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return request.read(size)  # a DRF Request reads from the Django request it wraps
    # Django's stream stops at CONTENT_LENGTH, which a chunked request lacks: it reads
    # as empty. gunicorn de-chunks `wsgi.input` and ends it at the last chunk
    # (`wsgi.input_terminated`); a server that does not would hand us the raw chunks,
    # or keep us waiting for bytes that never come.
    if not meta.get("wsgi.input_terminated"):
        raise BadInput(errors.BODY_CHUNKED_UNREADABLE)
    return meta["wsgi.input"].read(size)


def read_json_object(
    request: HttpRequest | Request, *, max_bytes: int, strict: bool = True
) -> dict[str, Any]:
    """The request body as a JSON object, read without Django's own (HTML 400) limits.

    Duplicate keys, NaN/Infinity and overflowing or too long numbers are 400 anywhere
    when `strict`; otherwise only in the object itself (its own keys, or a value that is
    itself refused is the caller's to judge): nested values carry a `Refused` or
    `DuplicateKeys` mark (see `refusal_in`), so a batch can reject only the event
    holding one.
    """
    content_type = request.META.get("CONTENT_TYPE", "")
    # The legacy protocol reads a body without Content-Type as JSON.
    if content_type.strip() and not _is_json_media_type(content_type):
        raise UnsupportedMediaType(errors.CONTENT_TYPE_NOT_JSON.format(content_type=content_type))
    too_large = PayloadTooLarge(errors.BODY_TOO_LARGE.format(limit=max_bytes))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise too_large
    raw = _read_at_most(request, max_bytes + 1)
    if len(raw) > max_bytes:
        raise too_large
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(errors.BODY_NOT_UTF8) from None
    if not text.strip():
        raise BadInput(errors.BODY_EMPTY)
    if _nests_deeper_than(text, MAX_DEPTH):
        raise BadInput(errors.BODY_TOO_DEEP.format(limit=MAX_DEPTH))
    marks = _Marks()
    try:
        body = json.loads(
            text,
            object_pairs_hook=marks.object_pairs,
            parse_float=marks.parse_float,
            parse_int=marks.parse_int,
            parse_constant=marks.parse_constant,
        )
    except json.JSONDecodeError as exc:
        raise BadInput(errors.BODY_NOT_JSON.format(detail=exc.msg)) from None
    if marks.first is not None and (strict or isinstance(body, Refused | DuplicateKeys)):
        raise BadInput(marks.first if strict else body.message)
    if not isinstance(body, dict):
        raise BadInput(errors.BODY_NOT_OBJECT)
    return body
