"""django-pghistory glue. History triggers exist on PostgreSQL only; on the embedded SQLite default the
context is a no-op (pghistory's context injection would fail there)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pghistory
from django.db import connection
from django.http import HttpRequest, HttpResponse
from pghistory.middleware import HistoryMiddleware


def history_context(**metadata: Any) -> contextlib.AbstractContextManager[Any]:
    """Attach metadata (user id, command, job) to every history event written inside the block."""
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    return pghistory.context(**metadata)


class TkpkHistoryMiddleware(HistoryMiddleware):
    """pghistory's middleware (who changed what, from which URL), on PostgreSQL only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self._get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if connection.vendor != "postgresql":
            return self._get_response(request)
        return super().__call__(request)
