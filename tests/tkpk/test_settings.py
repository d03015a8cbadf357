"""Settings from the environment, checked in fresh interpreters (settings are read once per process)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
EAGER_LOG_LINE = "tugas latar dijalankan langsung di proses web"
# Every variable settings.py reads, removed so each case starts from "nothing set".
SETTINGS_VARS = (
    "TKPK_PRODUCTION",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "CONN_MAX_AGE",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CACHE_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "LOG_LEVEL",
)
PROBE = """
import json
import django
django.setup()
from django.conf import settings
print("SETTINGS=" + json.dumps({
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "NAME": str(settings.DATABASES["default"]["NAME"]),
    "DEBUG": settings.DEBUG,
    "EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "BROKER": settings.CELERY_BROKER_URL,
    "SESSION_COOKIE_SECURE": getattr(settings, "SESSION_COOKIE_SECURE", False),
    "CSRF_COOKIE_SECURE": getattr(settings, "CSRF_COOKIE_SECURE", False),
    "SECURE_HSTS_SECONDS": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "CSRF_TRUSTED_ORIGINS": list(settings.CSRF_TRUSTED_ORIGINS),
    "ALLOWED_HOSTS": list(settings.ALLOWED_HOSTS),
}))
"""


@pytest.fixture(autouse=True)
def _no_dotenv() -> None:
    # settings.py reads BASE_DIR/.env for variables missing from the environment; a developer's .env would
    # change what "nothing set" means. CI checkouts never have one.
    if (BASE_DIR / ".env").exists():
        pytest.skip(".env exists in the checkout; it would leak into these settings checks")


def run_settings(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env["DJANGO_SETTINGS_MODULE"] = "tkpk.settings"
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def loaded(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SETTINGS="))
    data: dict[str, object] = json.loads(line.removeprefix("SETTINGS="))
    return data


def strong_secret() -> str:
    return secrets.token_urlsafe(50)


def test_production_refuses_debug() -> None:
    proc = run_settings(TKPK_PRODUCTION="1", DEBUG="1", SECRET_KEY=strong_secret())

    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert "TKPK_PRODUCTION=1 tidak boleh berjalan dengan DEBUG aktif." in proc.stderr


@pytest.mark.parametrize(
    "secret",
    [None, "dev-insecure-" + "x" * 60, "terlalu-pendek"],
    ids=["generated-dev-secret", "explicit-dev-secret", "short-secret"],
)
def test_production_refuses_dev_or_weak_secret(secret: str | None) -> None:
    env = {"TKPK_PRODUCTION": "1", "DEBUG": "0"}
    if secret is not None:
        env["SECRET_KEY"] = secret

    proc = run_settings(**env)

    assert proc.returncode != 0
    assert "TKPK_PRODUCTION=1 memerlukan SECRET_KEY rahasia (minimal 40 karakter)." in proc.stderr


def test_production_with_proper_secret_starts_hardened() -> None:
    proc = run_settings(
        TKPK_PRODUCTION="1",
        DEBUG="0",
        SECRET_KEY=strong_secret(),
        ALLOWED_HOSTS="tkpk.kendalkab.go.id",
        CSRF_TRUSTED_ORIGINS="https://tkpk.kendalkab.go.id,https://admin.tkpk.kendalkab.go.id",
    )

    data = loaded(proc)
    assert data["DEBUG"] is False
    assert data["SESSION_COOKIE_SECURE"] is True
    assert data["CSRF_COOKIE_SECURE"] is True
    assert isinstance(data["SECURE_HSTS_SECONDS"], int) and data["SECURE_HSTS_SECONDS"] > 0
    assert data["CSRF_TRUSTED_ORIGINS"] == ["https://tkpk.kendalkab.go.id", "https://admin.tkpk.kendalkab.go.id"]
    assert data["ALLOWED_HOSTS"] == ["tkpk.kendalkab.go.id"]


def test_no_env_is_embedded_sqlite_with_eager_tasks() -> None:
    proc = run_settings()

    data = loaded(proc)
    assert data["ENGINE"] == "django.db.backends.sqlite3"
    assert data["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert data["DEBUG"] is True
    assert data["EAGER"] is True
    assert data["BROKER"] == ""
    assert (proc.stdout + proc.stderr).count(EAGER_LOG_LINE) == 1


def test_database_and_broker_urls_switch_to_postgres_and_a_real_broker() -> None:
    proc = run_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/tkpk_settings_probe",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/15",
    )

    data = loaded(proc)
    assert data["ENGINE"] == "django.db.backends.postgresql"
    assert data["NAME"] == "tkpk_settings_probe"
    assert data["EAGER"] is False
    assert data["BROKER"] == "redis://127.0.0.1:6379/15"
    assert EAGER_LOG_LINE not in proc.stdout + proc.stderr
