"""The permission matrix's data set: built once for ``tests/permissions`` inside an outer transaction.

Each test still runs in its own savepoint (pytest-django's ``db``), so what one test writes (sessions, access
logs, a failed escalation that got through) never reaches the next. The outer transaction is rolled back when
the package is done, leaving the test database as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from tests.permissions.world import World, build_world
from tests.permissions.world_csr import build_csr


@pytest.fixture(scope="package")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    # Stored files (periodic reports) go to a temporary media root for the whole package.
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            data = build_world()
            data.csr = build_csr(data)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            media.disable()
            raise
    try:
        yield data
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
        media.disable()


@pytest.fixture
def as_actor(world: World, db: None) -> Any:
    """``as_actor("partner")``: a test client logged in as that actor (anonymous: not logged in)."""

    def make(actor: str) -> Client:
        client = Client()
        user = world.user(actor)
        if user is not None:
            client.force_login(user)
        return client

    return make
