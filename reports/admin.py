"""Admin of the gap engine's data: need rules (the secretariat edits them), poverty targets, map boundaries
(GeoJSON upload, validated) and the computations (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from reports.boundaries import boundary_validate
from reports.models import GapRun, NeedRule, PeriodicReport, RegionBoundarySet, RegionTarget
from reports.selectors import visible_root
from tkpk.admin_utils import ScopedModelAdmin
from tkpk.models import Region

MAX_BOUNDARY_BYTES = 20 * 1024 * 1024


def _parent_regions(request: HttpRequest) -> QuerySet[Region]:
    """Regions a target or a boundary set may belong to: the secretariat's own area, down to kecamatan."""
    return Region.objects.assignable_for(request.user).filter(level__lte=3).order_by("code")


@admin.register(NeedRule)
class NeedRuleAdmin(ScopedModelAdmin):
    list_display = ("name", "code", "condition", "min_age", "max_age", "sort_order", "is_active")
    list_filter = ("condition", "is_active")
    search_fields = ("code", "name")
    filter_horizontal = ("assistance_kinds",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[NeedRule]:
        # Rules are shared data (one definition of a need for every region), not scoped by region.
        return admin.ModelAdmin.get_queryset(self, request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A rule counts for every region: like the program code lists, only a superuser deletes one
        # (a secretariat switches it off with "aktif").
        return bool(request.user.is_superuser)


@admin.register(RegionTarget)
class RegionTargetAdmin(ScopedModelAdmin):
    list_display = (
        "region",
        "year",
        "poverty_rate_target",
        "poverty_rate_actual",
        "extreme_rate_target",
        "extreme_rate_actual",
        "poor_population",
    )
    list_filter = ("year",)
    search_fields = ("region__name", "region__code")
    list_select_related = ("region",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "region":
            kwargs["queryset"] = _parent_regions(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BoundaryForm(forms.ModelForm):
    geojson_file = forms.FileField(
        label=_("Berkas GeoJSON"),
        required=False,
        help_text=_(
            "FeatureCollection berisi Polygon/MultiPolygon; tiap fitur punya properti kode wilayah Kemendagri "
            "(boleh bertitik, mis. 33.24.01)."
        ),
    )

    class Meta:
        model = RegionBoundarySet
        fields = ("region", "level", "name", "code_property", "is_schematic")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("geojson_file")
        if upload is None:
            if self.instance.pk is None:
                self.add_error("geojson_file", _("Unggah berkas GeoJSON."))
            return cleaned
        region, level = cleaned.get("region"), cleaned.get("level")
        if region is None or level is None:
            return cleaned
        if upload.size > MAX_BOUNDARY_BYTES:
            self.add_error("geojson_file", _("Berkas terlalu besar (maksimal 20 MB)."))
            return cleaned
        check = boundary_validate(
            content=upload.read(),
            region=region,
            level=int(level),
            code_property=cleaned.get("code_property") or "kode",
        )
        if not check.is_valid:
            self.add_error("geojson_file", check.errors)
            return cleaned
        self.instance.geojson = check.geojson
        self.instance.feature_count = check.feature_count
        return cleaned


@admin.register(RegionBoundarySet)
class RegionBoundarySetAdmin(ScopedModelAdmin):
    form = BoundaryForm
    list_display = ("name", "region", "level", "feature_count", "is_schematic", "uploaded_by", "uploaded_at")
    list_filter = ("level", "is_schematic")
    list_select_related = ("region", "uploaded_by")
    readonly_fields = ("feature_count", "uploaded_by", "uploaded_at")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "region":
            kwargs["queryset"] = _parent_regions(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: RegionBoundarySet, form: Any, change: bool) -> None:
        if form.cleaned_data.get("geojson_file") is not None:
            obj.uploaded_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(GapRun)
class GapRunAdmin(ScopedModelAdmin):
    """Computations are written by the engine only."""

    list_display = ("id", "year", "region_code", "status", "trigger", "progress", "requested_at", "finished_at")
    list_filter = ("status", "trigger", "year")

    def _wider_than_user(self, request: HttpRequest, obj: GapRun | None) -> bool:
        """A run over a wider area (the whole registry, the province) than the user's TKPK region."""
        if obj is None or request.user.is_superuser:
            return False
        root = visible_root(request.user)
        return bool(root) and not obj.region_code.startswith(root)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [f.name for f in GapRun._meta.fields]
        if self._wider_than_user(request, obj):
            # Its snapshots and totals include other regions: the user reads their figures on the dashboard.
            fields = [f for f in fields if f not in ("sources", "totals")]
        return fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PeriodicReport)
class PeriodicReportAdmin(ScopedModelAdmin):
    """Read-only list: reports are requested and downloaded on the periodic report page (scoped downloads)."""

    list_display = ("region", "year", "period", "status", "requested_by", "finished_at", "page_count")
    list_filter = ("status", "period", "year")
    list_select_related = ("region", "requested_by")
    # The files are not linked here: they download through the scoped view, never a public media URL.
    fields = readonly_fields = (
        "region",
        "year",
        "period",
        "status",
        "progress",
        "step",
        "message",
        "requested_by",
        "requested_at",
        "started_at",
        "finished_at",
        "data_as_of",
        "sources_label",
        "page_count",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
