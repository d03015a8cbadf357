"""Session-wide test setup shared by every test module.

Two passes run the suite (see the Makefile):

* ``make test``: PostgreSQL + Redis + a real Celery worker started here (``celery_worker_process``).
  ``TKPK_TEST_REQUIRE_SERVICES=1`` is set, so a missing PostgreSQL, broker, worker or browser FAILS.
* ``make test-sqlite``: the embedded default (SQLite, tasks run eagerly). Tests marked ``postgres`` or
  ``celery_worker`` are skipped here (the Makefile also deselects them, together with ``e2e``).

Fixtures offered to test authors:

* ``celery_worker_process``: a real ``celery worker`` subprocess bound to the pytest-django test database.
  Mark the test ``@pytest.mark.celery_worker`` (the fixture is then added automatically) and use
  ``transactional_db``, so the worker sees committed rows.
* ``browser_type_launch_args`` / ``browser_context_args``: pytest-playwright on Debian's chromium,
  Indonesian locale and Jakarta time. Use them with pytest-django's ``live_server``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WORKER_START_TIMEOUT = float(os.environ.get("TKPK_TEST_WORKER_START_TIMEOUT", "90"))


def _require_services() -> bool:
    """True in ``make test``: anything missing is a failure, never a skip."""
    return os.environ.get("TKPK_TEST_REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


def _is_postgres() -> bool:
    return str(settings.DATABASES["default"]["ENGINE"]).endswith(("postgresql", "postgis"))


def _has_broker() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", "")) and not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    is_postgres, has_broker = _is_postgres(), _has_broker()
    needs_pg = [i for i in items if i.get_closest_marker("postgres") or i.get_closest_marker("celery_worker")]
    if _require_services() and needs_pg and not (is_postgres and has_broker):
        raise pytest.UsageError(
            "TKPK_TEST_REQUIRE_SERVICES is set but the settings are not PostgreSQL + a Celery broker "
            f"(engine={settings.DATABASES['default']['ENGINE']}, CELERY_BROKER_URL set={bool(has_broker)}). "
            "Set DATABASE_URL and CELERY_BROKER_URL, or use `make test`."
        )
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    skip_worker = pytest.mark.skip(reason="needs PostgreSQL and a Celery broker (DATABASE_URL, CELERY_BROKER_URL)")
    for item in items:
        if item.get_closest_marker("celery_worker") and not (is_postgres and has_broker):
            item.add_marker(skip_worker)
        elif item.get_closest_marker("postgres") and not is_postgres:
            item.add_marker(skip_pg)


# --------------------------------------------------------------------------------------------- Celery worker


@dataclass(frozen=True)
class CeleryWorker:
    """A running ``celery worker`` subprocess used by tests marked ``celery_worker``."""

    process: subprocess.Popen[bytes]
    nodename: str
    queue: str
    database_name: str
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no worker log)"


def _database_url(name: str) -> str:
    """DATABASE_URL of the test database ``name``: the configured URL with its path replaced."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured:
        parts = urlsplit(configured)
        return urlunsplit(parts._replace(path="/" + name))
    db = settings.DATABASES["default"]
    auth = quote(str(db.get("USER") or ""), safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(str(db["PASSWORD"]), safe="")
    host = str(db.get("HOST") or "127.0.0.1")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{name}"


def _fail_or_skip(message: str) -> None:
    if _require_services():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CeleryWorker]:
    """Start a real Celery worker on the pytest-django test database; stop it at session end.

    The worker consumes a queue named after the test database (``tkpk-test.test_tkpk``, ``..._gw0`` under
    xdist), and this process sends every task there, so parallel sessions never take each other's tasks.
    """
    from tkpk.celery import app as celery_app

    if not (_is_postgres() and _has_broker()):
        _fail_or_skip("celery_worker_process needs PostgreSQL and CELERY_BROKER_URL")

    database_name = str(settings.DATABASES["default"]["NAME"])  # test_<name>[_gwN] after django_db_setup
    queue = f"tkpk-test.{database_name}"
    nodename = f"tkpk-test-{database_name}-{os.getpid()}@{socket.gethostname()}"
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"

    celery_app.conf.task_default_queue = queue
    broker_error = None
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=3)
            conn.default_channel.queue_purge(queue)
    except Exception as exc:
        broker_error = exc
    if broker_error is not None:
        pytest.fail(f"Celery broker {settings.CELERY_BROKER_URL} is not reachable: {broker_error}", pytrace=False)

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(database_name),
        "CELERY_BROKER_URL": str(settings.CELERY_BROKER_URL),
        "CELERY_RESULT_BACKEND": str(settings.CELERY_RESULT_BACKEND),
        "DJANGO_SETTINGS_MODULE": "tkpk.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    celery_bin = Path(sys.executable).with_name("celery")
    command = [str(celery_bin)] if celery_bin.exists() else [sys.executable, "-m", "celery"]
    command += [
        "-A",
        "tkpk",
        "worker",
        "--pool=solo",
        "--loglevel=info",
        "-Q",
        queue,
        "-n",
        nodename,
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    worker = CeleryWorker(process, nodename, queue, database_name, log_path)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"Celery worker exited with code {process.returncode} during start:\n{worker.log_tail()}",
                    pytrace=False,
                )
            if celery_app.control.ping(destination=[nodename], timeout=1.0):
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Celery worker {nodename} did not answer ping within {WORKER_START_TIMEOUT:.0f}s:\n"
                    f"{worker.log_tail()}",
                    pytrace=False,
                )
        yield worker
    finally:
        # Stop before pytest-django drops the test database (the worker may hold a connection to it).
        if process.poll() is None:
            process.terminate()  # warm shutdown
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _celery_worker_marker(request: pytest.FixtureRequest) -> None:
    """Tests marked ``celery_worker`` get the session worker without asking for it."""
    if request.node.get_closest_marker("celery_worker"):
        request.getfixturevalue("celery_worker_process")


# ------------------------------------------------------------------------------------------------ Playwright


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium with the flags it needs here (root, no network); never `playwright install`."""
    if not (os.path.exists(CHROMIUM_PATH) or shutil.which(CHROMIUM_PATH)):
        _fail_or_skip(f"{CHROMIUM_PATH} not found: apt-get install -y chromium")
    args = [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]
    return {**browser_type_launch_args, "executable_path": CHROMIUM_PATH, "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "id-ID", "timezone_id": "Asia/Jakarta"}
