"""Shared bits of our management commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import OperationalError
from django.http import Http404

from telemetry.errors import DomainError
from telemetry.handlers import CACHE_ERRORS

T = TypeVar("T")


def run_service(call: Callable[[], T]) -> T:
    """Run a service call, turning its refusals into a CommandError (non-zero exit)."""
    try:
        return call()
    except DomainError as exc:
        raise CommandError(exc.message) from None
    except Http404 as exc:
        raise CommandError(str(exc)) from None
    except ValidationError as exc:
        raise CommandError("; ".join(exc.messages)) from None
    except CACHE_ERRORS as exc:
        raise CommandError(
            f"the cache (Redis) is unavailable ({exc}); retry when it is back"
        ) from None
    except OperationalError as exc:
        raise CommandError(f"the database is unavailable ({exc}); retry when it is back") from None


def positive_int(raw: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number of at least 1")
    return number
