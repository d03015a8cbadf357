from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the request; ``message`` is user-facing (Bahasa Indonesia)."""

    def __init__(self, message: str, code: str = "invalid", extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
