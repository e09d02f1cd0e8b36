"""Template filters of the pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds: int | float | None) -> str:
    """Seconds as "2 h 05 min", "12 min 30 s" or "45 s"."""
    if seconds is None:
        return "\u2013"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    return f"{secs} s"


@register.filter
def reading(channel) -> str:
    """A channel's or event's state, or its value without float noise."""
    if channel.state is not None:
        return channel.state
    value = getattr(channel, "value", None)
    if value is None:
        value = getattr(channel, "last_value", None)
    return "\u2013" if value is None else f"{value:g}"
