"""Browser tests (pytest-playwright + pytest-django ``live_server``) on Debian's chromium.

``tests/conftest.py`` points pytest-playwright at /usr/bin/chromium with the flags this machine needs;
never run ``playwright install``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; without this Django refuses ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings: None) -> None:
    """Own test database (``test_<name>_e2e``) so an e2e run never drops another session's test_<name>."""
    from pytest_django.fixtures import _set_suffix_to_test_databases

    _set_suffix_to_test_databases(suffix="e2e")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # tests/conftest.py sets chromium, locale and time zone; the journeys also fix the window size.
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def screenshot_dir(pytestconfig: pytest.Config) -> Path:
    """test-results/ at the project root (pytest-playwright empties it at session start, so a concurrent
    session may remove them: set TKPK_E2E_SCREENSHOT_DIR to keep them elsewhere)."""
    path = Path(os.environ.get("TKPK_E2E_SCREENSHOT_DIR") or Path(pytestconfig.rootpath) / "test-results")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class PageProblems:
    """Failed requests (e.g. a missing static file) and JavaScript errors seen by the page."""

    failed_requests: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.failed_requests, f"requests failed: {self.failed_requests}"
        assert not self.js_errors, f"JavaScript errors: {self.js_errors}"


@pytest.fixture
def page_problems(page: Any) -> Iterator[PageProblems]:
    problems = PageProblems()

    def on_response(response: Any) -> None:
        # Pages that are *meant* to answer 403/404/429 are the document itself; count only sub-resources.
        if response.status >= 400 and response.request.resource_type != "document":
            problems.failed_requests.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    page.on("requestfailed", lambda request: problems.failed_requests.append(f"failed {request.url}"))
    page.on("pageerror", lambda error: problems.js_errors.append(str(error)))
    yield problems
