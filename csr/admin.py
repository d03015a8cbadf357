from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from csr.models import Allocation
from tkpk.admin_utils import BigTableAdmin


@admin.register(Allocation)
class AllocationAdmin(BigTableAdmin):
    list_display = ("household", "organization", "created_at", "created_by")
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("household__head_name", "organization__name")
    autocomplete_fields = ("household", "organization")
    readonly_fields = ("created_by",)
    list_select_related = ("household", "organization", "created_by")

    def save_model(self, request: HttpRequest, obj: Allocation, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
