"""The nesting limit checked before a body is parsed: brackets inside strings do not count."""

from __future__ import annotations

import pytest

from telemetry.jsonbody import MAX_DEPTH, _nests_deeper_than


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, False),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), True),
        ("[" * (MAX_DEPTH + 1), True),
        ("[]" * 100, False),
        ('{"a":"' + "[" * 100 + '"}', False),
        ('{"a":"\\"' + "{" * 100 + '"}', False),
        ('["' + "[" * 100, True),  # an unterminated string hides nothing
        ('{"a":"]]]]","b":' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}", True),
        ('{"events":[' + ",".join(['{"channel":"t[","value":1}'] * 1000) + "]}", False),
    ],
)
def test_only_brackets_outside_strings_count(text, deeper):
    assert _nests_deeper_than(text, MAX_DEPTH) is deeper
