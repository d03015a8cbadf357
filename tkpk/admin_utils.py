"""Admin pieces shared by every app: scoped base class, a paginator that never counts a whole big table,
and logging of personal-data views."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from import_export.admin import ImportExportMixin

from tkpk.models import AccessAction
from tkpk.scoping import ScopedAdminMixin
from tkpk.services import personal_data_access_record

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows (``SELECT COUNT(*) FROM (… LIMIT n)``): cheap at a million rows.
    Past the cap the admin shows the first pages; filters narrow the rest."""

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        return self.object_list[: COUNT_CAP + 1].count()


class ScopedModelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_per_page = 50


class ScopedImportExportMixin(ImportExportMixin):
    """django-import-export on a scoped admin: import needs add+change, export needs view. Without this
    its default lets any staff user import and export."""

    def has_import_permission(self, request: HttpRequest) -> bool:
        return bool(self.has_add_permission(request) and self.has_change_permission(request))

    def has_export_permission(self, request: HttpRequest) -> bool:
        return bool(self.has_view_permission(request))


class BigTableAdmin(ScopedModelAdmin):
    ordering = ("-pk",)
    show_full_result_count = False
    paginator = CappedCountPaginator


class PersonalDataAdminMixin:
    """Opening a change form shows full identifiers: log it like a reveal."""

    personal_object_type = "record"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        if request.method == "GET" and getattr(response, "status_code", 500) == 200:
            obj = getattr(response, "context_data", {}).get("original")
            if obj is not None:
                personal_data_access_record(
                    user=request.user,
                    action=AccessAction.REVEAL_NIK,
                    object_type=f"admin.{self.personal_object_type}",
                    object_ids=[obj.pk],
                    region_code=self.region_code_of(obj),
                    ip_address=request.META.get("REMOTE_ADDR"),
                )
        return response

    def region_code_of(self, obj: Any) -> str:
        return ""


class ReadOnlyScopedInline(ScopedAdminMixin, admin.TabularInline):
    """An inline the secretariat may see (scoped like everything else) but not edit from the parent."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
