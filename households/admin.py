from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from households import services
from households.choices import HouseholdStatus
from households.models import Graduation, Household, HouseholdSourceLink, Person, PersonSourceLink, Snapshot, Source
from tkpk.admin_utils import BigTableAdmin, PersonalDataAdminMixin, ReadOnlyScopedInline, ScopedModelAdmin
from tkpk.exceptions import DomainError


@admin.register(Source)
class SourceAdmin(ScopedModelAdmin):
    superuser_only_write = True
    list_display = ("code", "name", "publisher")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        # Reference data, not scoped by region.
        return admin.ModelAdmin.get_queryset(self, request)


@admin.register(Snapshot)
class SnapshotAdmin(ScopedModelAdmin):
    list_display = ("source", "label", "taken_on", "region", "created_by", "created_at")
    list_filter = ("source",)
    search_fields = ("label",)
    autocomplete_fields = ("region",)
    readonly_fields = ("created_by",)

    def save_model(self, request: HttpRequest, obj: Snapshot, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class PersonInline(ReadOnlyScopedInline):
    model = Person
    fields = ("name", "nik_display", "nik_status", "sex", "relationship", "birth_date", "status")
    readonly_fields = fields
    show_change_link = True

    @admin.display(description=_("NIK"))
    def nik_display(self, obj: Person) -> str:
        return obj.nik_masked


class HouseholdSourceLinkInline(ReadOnlyScopedInline):
    model = HouseholdSourceLink
    fields = ("source", "external_id", "snapshot", "row_number", "is_present")
    readonly_fields = fields


@admin.register(Household)
class HouseholdAdmin(PersonalDataAdminMixin, BigTableAdmin):
    personal_object_type = "household"
    list_display = ("head_name", "no_kk_display", "desa", "desil", "status", "updated_at")
    list_filter = ("status", "desil", "stunting_risk", "floor_type", "is_demo")
    search_fields = ("head_name", "=no_kk", "=source_links__external_id")
    autocomplete_fields = ("desa", "merged_into")
    list_select_related = ("desa",)
    readonly_fields = (
        "province_code",
        "kabupaten_code",
        "kecamatan_code",
        "status_verified_by",
        "created_at",
        "updated_at",
    )
    inlines = [PersonInline, HouseholdSourceLinkInline]
    actions = ["mark_graduated"]
    fieldsets = (
        (None, {"fields": ("head_name", "no_kk", "desa", "address", "dusun", "rt", "rw", "desil", "persentil")}),
        (
            _("Rumah dan kesejahteraan"),
            {
                "classes": ("collapse",),
                "fields": (
                    "house_ownership", ("roof_type", "roof_quality"), ("wall_type", "wall_quality"),
                    ("floor_type", "floor_quality"), "lighting_source", "power_capacity", "cooking_fuel",
                    "water_source", "toilet_facility", "stunting_risk", "has_savings", "has_land", "has_vehicle",
                    "receives_bpnt", "receives_bpum", "receives_bst", "receives_pkh", "receives_sembako",
                    "receives_prakerja", "receives_kur", "verification_priority",
                ),
            },
        ),
        (_("Status"), {"fields": (
            "status", "status_changed_on", "status_reason", "status_verified_by", "merged_into",
        )}),
        (_("Wilayah (otomatis)"), {"classes": ("collapse",), "fields": (
            "province_code", "kabupaten_code", "kecamatan_code", "created_at", "updated_at",
        )}),
    )  # fmt: skip

    @admin.display(description=_("Nomor KK"))
    def no_kk_display(self, obj: Household) -> str:
        return obj.no_kk_masked

    def region_code_of(self, obj: Household) -> str:
        return str(obj.desa_id)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Household], search_term: str
    ) -> tuple[QuerySet[Household], bool]:
        # Joined search terms can duplicate rows; keep the result distinct without a full count.
        qs, _may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return qs, True

    @admin.action(description=_("Tandai graduasi (hari ini, diverifikasi oleh saya)"))
    def mark_graduated(self, request: HttpRequest, queryset: QuerySet[Household]) -> None:
        done = 0
        today: dt.date = timezone.localdate()
        for household in queryset[:500]:
            try:
                services.household_change_status(
                    actor=request.user,
                    household=household,
                    status=HouseholdStatus.GRADUATED,
                    changed_on=today,
                    reason=str(_("Graduasi ditandai dari admin")),
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{household}: {exc.message}", messages.ERROR)
        self.message_user(
            request,
            ngettext("%(n)d keluarga ditandai graduasi.", "%(n)d keluarga ditandai graduasi.", done) % {"n": done},
        )


class PersonSourceLinkInline(ReadOnlyScopedInline):
    model = PersonSourceLink
    fields = ("source", "external_id", "snapshot", "row_number", "is_present")
    readonly_fields = fields


@admin.register(Person)
class PersonAdmin(PersonalDataAdminMixin, BigTableAdmin):
    personal_object_type = "person"
    list_display = ("name", "nik_display", "nik_status", "sex", "relationship", "birth_date", "household")
    list_filter = ("nik_status", "sex", "relationship", "status", "disability")
    search_fields = ("name", "=nik", "=source_links__external_id")
    autocomplete_fields = ("household",)
    list_select_related = ("household",)
    inlines = [PersonSourceLinkInline]

    @admin.display(description=_("NIK"))
    def nik_display(self, obj: Person) -> str:
        return obj.nik_masked

    def region_code_of(self, obj: Person) -> str:
        return str(obj.household.desa_id)


class SourceLinkAdmin(BigTableAdmin):
    list_display = ("external_id", "source", "snapshot", "row_number", "is_present", "updated_at")
    list_filter = ("source", "is_present")
    search_fields = ("=external_id",)
    readonly_fields = ("source", "snapshot", "first_seen", "external_id", "row_number", "raw", "is_present")


@admin.register(HouseholdSourceLink)
class HouseholdSourceLinkAdmin(SourceLinkAdmin):
    autocomplete_fields = ("household",)


@admin.register(PersonSourceLink)
class PersonSourceLinkAdmin(SourceLinkAdmin):
    autocomplete_fields = ("person",)


@admin.register(Graduation)
class GraduationAdmin(ScopedModelAdmin):
    """Read-only list: graduations are recorded and revoked on the household page or by verval upload
    (``households.services``), which keep the household's status in step."""

    list_display = ("household", "graduated_on", "reason", "verified_by", "import_job", "revoked_on")
    list_filter = ("graduated_on", "revoked_on")
    search_fields = ("household__head_name", "reason")
    list_select_related = ("household", "verified_by")
    show_full_result_count = False
    # The evidence file is not linked here: it downloads through the logged view on the household page.
    fields = readonly_fields = (
        "household",
        "graduated_on",
        "reason",
        "evidence_note",
        "verified_by",
        "import_job",
        "revoked_on",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
