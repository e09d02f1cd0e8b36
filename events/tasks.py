"""Celery tasks: thin wrappers that call the services (idempotent by construction)."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.selectors import tenant_get
from events.services.partitions import partitions_maintain
from events.services.purge import events_purge
from events.services.rollup import rollup_rebuild, rollup_run

logger = logging.getLogger(__name__)


@shared_task(name="events.tasks.rollup")
def rollup() -> None:
    """Summarise every bucket touched by events that arrived since the last run."""
    report = rollup_run()
    logger.info("rollup: %d channels, %d rows", report.channels, report.rows)


@shared_task(name="events.tasks.purge")
def purge() -> None:
    """Delete raw events past each tenant's retention, once summarised."""
    report = events_purge()
    for partition in report.partitions:
        logger.info("purge: dropped partition %s", partition.name)
    for result in report.tenants:
        logger.info("purge: %s before %s: %d events", result.tenant, result.cutoff, result.events)


@shared_task(name="events.tasks.maintain_partitions")
def maintain_partitions() -> None:
    """Premake the events table's daily partitions; move stragglers out of its default one."""
    report = partitions_maintain()
    logger.info("partitions: created %s, moved %d rows", report.created or "none", report.moved)


@shared_task(name="events.tasks.rebuild_tenant", autoretry_for=(OSError,), retry_backoff=True)
def rebuild_tenant(tenant_slug: str) -> None:
    """Recompute a tenant's rollups from its raw events (after a time zone change)."""
    rollup_rebuild(tenant=tenant_get(slug=tenant_slug))
