"""Admin of programs: the editable code lists, programs (saved through programs.services), and read-mostly
lists of interventions and activity reports. Everything is scoped by ``ScopedAdminMixin``; a service's refusal
is shown to the user as a form error or a message, never swallowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export import resources

from programs import services
from programs.forms import apply_domain_error
from programs.models import (
    ActivityReport,
    AssistanceKind,
    Intervention,
    Program,
    ProgramCluster,
    ProgramStrategy,
)
from tkpk.admin_utils import BigTableAdmin, ScopedImportExportMixin, ScopedModelAdmin
from tkpk.exceptions import DomainError

# ------------------------------------------------------------------------------------------- code lists


class ReferenceItemAdmin(ScopedImportExportMixin, ScopedModelAdmin):
    """Code lists are the same for every region (not cut by region). The secretariat extends them; rows in
    use cannot be deleted (PROTECT), so they are deactivated instead."""

    list_display = ("name", "code", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("sort_order", "name")
    prepopulated_fields = {"code": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return admin.ModelAdmin.get_queryset(self, request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


def reference_resource(model: type[Any]) -> type[resources.ModelResource]:
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": ("code", "name", "description", "sort_order", "is_active"),
            "import_id_fields": ("code",),
            "skip_unchanged": True,
            "report_skipped": True,
        },
    )
    return type(f"{model.__name__}Resource", (resources.ModelResource,), {"Meta": meta})


@admin.register(ProgramCluster)
class ProgramClusterAdmin(ReferenceItemAdmin):
    resource_classes = [reference_resource(ProgramCluster)]


@admin.register(ProgramStrategy)
class ProgramStrategyAdmin(ReferenceItemAdmin):
    resource_classes = [reference_resource(ProgramStrategy)]


@admin.register(AssistanceKind)
class AssistanceKindAdmin(ReferenceItemAdmin):
    resource_classes = [reference_resource(AssistanceKind)]


# --------------------------------------------------------------------------------------------- programs


class ProgramAdminForm(forms.ModelForm):
    """Saves through programs.services once the form is valid, so a refusal (organization not allowed,
    target region outside the program's region) appears on the form like any field error. The admin view
    runs in one transaction; the service call has its own savepoint, so a refusal leaves nothing behind."""

    request: HttpRequest

    class Meta:
        model = Program
        fields = (
            "organization", "code", "name", "year", "cluster", "strategy", "assistance_kind", "funding_source",
            "budget", "unit_value", "target_households", "target_regions", "outside_region_policy", "max_desil",
            "eligibility_note", "starts_on", "ends_on", "once_per_year", "description", "is_active",
        )  # fmt: skip

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        data = dict(self.cleaned_data)
        target_regions = list(data.pop("target_regions", []))
        actor = self.request.user
        try:
            with transaction.atomic():
                if self.instance.pk is None:
                    organization = data.pop("organization")
                    self.instance = services.program_create(
                        actor=actor, organization=organization, target_regions=target_regions, **data
                    )
                else:
                    stored = Program.objects.for_user(actor).select_related("organization").get(pk=self.instance.pk)
                    self.instance = services.program_update(
                        actor=actor, program=stored, target_regions=target_regions, **data
                    )
        except DomainError as exc:
            apply_domain_error(self, exc)


@admin.register(Program)
class ProgramAdmin(ScopedModelAdmin):
    form = ProgramAdminForm
    list_display = (
        "code",
        "name",
        "year",
        "organization",
        "cluster",
        "funding_source",
        "target_households",
        "budget",
        "is_active",
    )
    list_filter = ("year", "cluster", "strategy", "assistance_kind", "funding_source", "is_active")
    search_fields = ("code", "name", "organization__name")
    list_select_related = ("organization", "cluster")
    autocomplete_fields = ("organization", "target_regions")
    readonly_fields = ("region", "created_by", "created_at", "updated_at")
    show_full_result_count = False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"request": request})

    def save_model(self, request: HttpRequest, obj: Program, form: Any, change: bool) -> None:
        # Already saved by the service in ProgramAdminForm._post_clean.
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service has set the target regions too; only inlines (none today) would remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Programs with deliveries are protected; retire a program by unticking "aktif".
        return False


# ---------------------------------------------------------------------------------------- interventions


@admin.register(Intervention)
class InterventionAdmin(BigTableAdmin):
    """Read-mostly: deliveries are logged in the portal, by spreadsheet or the API. The one write here is
    cancelling, through the service."""

    list_display = ("delivered_on", "program", "household_name", "status", "value", "channel", "entered_by")
    list_filter = ("status", "channel", "period_year", "program__cluster")
    search_fields = ("program__code", "household__head_name")
    list_select_related = ("program", "household", "entered_by")
    actions = ["cancel_as_data_error"]
    readonly_fields = [f.name for f in Intervention._meta.fields]

    @admin.display(description=_("Keluarga"), ordering="household__head_name")
    def household_name(self, obj: Intervention) -> str:
        return obj.household.head_name

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change form is read-only; the cancel action needs the change permission on the changelist.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Batalkan (alasan: salah input data)"), permissions=["change"])
    def cancel_as_data_error(self, request: HttpRequest, queryset: QuerySet[Intervention]) -> None:
        done = 0
        for intervention in queryset.select_related("program")[:500]:
            try:
                services.intervention_cancel(
                    actor=request.user, intervention=intervention, reason=str(_("Salah input data (admin)"))
                )
            except DomainError as exc:
                self.message_user(request, f"#{intervention.pk}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(n)d penyaluran dibatalkan.", "%(n)d penyaluran dibatalkan.", done) % {"n": done},
                messages.SUCCESS,
            )


@admin.register(ActivityReport)
class ActivityReportAdmin(ScopedModelAdmin):
    """Read-only list: reports are written and reviewed in the portal (laporan kegiatan)."""

    list_display = ("organization", "period_label", "status", "submitted_at", "reviewed_at")
    list_filter = ("status", "period_kind", "period_year")
    search_fields = ("organization__name",)
    list_select_related = ("organization",)

    @admin.display(description=_("Periode"))
    def period_label(self, obj: ActivityReport) -> str:
        return obj.period_label

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
