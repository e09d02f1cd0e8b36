"""Hour and day buckets in a tenant's time zone, as UTC instants.

An hour bucket starts at each instant whose local time is a whole hour, so a
+05:30 zone has buckets at :30 UTC, and a DST change skips or repeats a local
hour without losing or doubling an instant. A day bucket starts at the first
instant of a local date, so a DST day lasts 23 or 25 hours. Every UTC offset
in use since 2000 is a multiple of 15 minutes, so boundaries are found among
UTC quarter-hours: no length is assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

QUARTER = timedelta(minutes=15)


class Period(StrEnum):
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True)
class Bucket:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def _floor_quarter(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)


def _is_boundary(moment: datetime, zone: ZoneInfo, period: Period) -> bool:
    local = moment.astimezone(zone)
    if period is Period.HOUR:
        return local.minute == 0
    return (moment - QUARTER).astimezone(zone).date() != local.date()


def bucket_start(moment: datetime, *, zone: ZoneInfo, period: Period) -> datetime:
    """The start of the bucket that contains `moment`."""
    candidate = _floor_quarter(moment)
    while not _is_boundary(candidate, zone, period):
        candidate -= QUARTER
    return candidate


LENGTH = {Period.HOUR: timedelta(hours=1), Period.DAY: timedelta(days=1)}


def next_boundary(boundary: datetime, *, zone: ZoneInfo, period: Period) -> datetime:
    """The start of the bucket after the one starting at `boundary`."""
    # Fast path: no offset change within the bucket, and the bucket starts at a
    # local whole hour / midnight, so the next one is exactly one length later.
    candidate = boundary + LENGTH[period]
    local = boundary.astimezone(zone)
    if local.utcoffset() == candidate.astimezone(zone).utcoffset() and (
        period is Period.HOUR or (local.hour, local.minute) == (0, 0)
    ):
        return candidate
    candidate = boundary + QUARTER
    while not _is_boundary(candidate, zone, period):
        candidate += QUARTER
    return candidate


def buckets_between(
    start: datetime, end: datetime, *, zone: ZoneInfo, period: Period
) -> list[Bucket]:
    """The buckets that overlap [start, end), in order."""
    result = []
    boundary = bucket_start(start, zone=zone, period=period)
    while boundary < end:
        following = next_boundary(boundary, zone=zone, period=period)
        result.append(Bucket(boundary, following))
        boundary = following
    return result


def local_date(moment: datetime, *, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
