"""Shared API plumbing: the scope permission, the scoped viewset mixin and the error handler."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tkpk.exceptions import DomainError
from tkpk.scoping import Cap


class ScopedViewSetMixin:
    """Every API queryset starts from ``for_user``: out-of-scope objects are 404."""

    queryset: QuerySet[Any]
    request: Any
    required_capability: str = Cap.API

    def get_queryset(self) -> QuerySet[Any]:
        return self.queryset.for_user(self.request.user)  # type: ignore[attr-defined]


class StableCursorPagination(CursorPagination):
    """Cursor paging (no COUNT at a million rows) on the view's unique ``ordering`` (default: pk)."""

    ordering = "pk"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(
            {"message": exc.message, "code": exc.code, "extra": exc.extra}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(
            {"message": _("Data tidak valid."), "code": "invalid", "extra": {"fields": detail}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)
