"""Settings come from the environment; malformed values fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean["DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", "import telemetry.settings as s; print(s.DATABASES['default'])"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_secret_key_is_required_unless_debugging(tmp_path):
    result = load_settings(tmp_path)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


@pytest.mark.parametrize(
    ("env", "gist"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be 0 or 1"),
        ({"DJANGO_SECRET_KEY": "x", "DJANGO_HTTPS": "2"}, "DJANGO_HTTPS must be 0 or 1"),
        ({"DJANGO_SECRET_KEY": "x", "DATABASE_URL": "nosuch://x"}, "DATABASE_URL is malformed"),
    ],
)
def test_malformed_values_raise_improperly_configured(tmp_path, env, gist):
    result = load_settings(tmp_path, **env)

    assert "ImproperlyConfigured" in result.stderr
    assert gist in result.stderr


def test_the_secret_key_file_written_by_bin_serve_is_used(tmp_path):
    (tmp_path / "secret_key").write_text("from-the-file\n")

    result = load_settings(tmp_path)

    assert result.returncode == 0, result.stderr


def test_the_default_database_is_sqlite_in_wal_mode_with_a_busy_timeout(tmp_path):
    result = load_settings(tmp_path, DJANGO_SECRET_KEY="x")

    assert "sqlite3" in result.stdout
    assert "journal_mode=WAL" in result.stdout
    assert "'timeout': 20" in result.stdout
    assert "'CONN_MAX_AGE': 600" in result.stdout


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env |= {
        "DATA_DIR": str(tmp_path),
        "DJANGO_SECRET_KEY": "a-long-production-like-key-" + "x7Qp2" * 10,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "1",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
