"""Tenant scoping is structural: the thin layers never query models directly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from telemetry.api import JsonApiView

ROOT = Path(__file__).resolve().parents[2]
THIN_MODULES = sorted(
    path
    for app in ("accounts", "devices", "events")
    for name in ("api.py", "views.py", "tasks.py")
    if (path := ROOT / app / name).exists()
)


def objects_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "objects"
    ]


@pytest.mark.parametrize("path", THIN_MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_thin_modules_never_call_objects(path):
    assert objects_calls(path) == [], f"{path} queries a model; go through a selector or service"


PUBLIC_ON_PURPOSE = {
    "healthz",
    "favicon",
    "schema",
    "docs",
    "accounts:token",
    "accounts:token-refresh",
    "accounts:login",
    "accounts:logout",
}


def walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # Django admin guards itself (staff login)
            prefix = f"{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", pattern.callback


PAGE_GUARDS = {"tenant", "tenant-admin", "user"}


def test_every_url_is_guarded_or_public_on_purpose():
    for name, callback in walk(get_resolver().url_patterns):
        if name in PUBLIC_ON_PURPOSE:
            continue
        guard = getattr(callback, "guard", None)
        if guard is not None:
            assert guard in PAGE_GUARDS, name
            continue
        view_class = getattr(callback, "view_class", None)
        assert view_class is not None and issubclass(view_class, JsonApiView), name
        permissions = [permission.__name__ for permission in view_class.permission_classes]
        assert "IsAuthenticated" in permissions, name


def test_favicon_ico_points_at_the_hashed_icon(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].startswith("/static/favicon.")
    assert response["Location"].endswith(".svg")
