"""Admin of the CSR portal's data, scoped like everything else (``ScopedModelAdmin``: rows from ``for_user``,
FK choices scoped). Cycles, reopenings, partner contacts and allocations are edited here; proposals (with
their targets and timeline), agreements, refusal letters and reminders are read-only: the workflow, the PDFs
and the emails are produced by ``csr.services`` and the portal pages. Files are never linked to a public media
URL: the admin links to the scoped, logged download views."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from csr.models import (
    Agreement,
    Allocation,
    CompanyContact,
    CsrCycle,
    CycleReopen,
    Proposal,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    Reminder,
)
from tkpk.admin_utils import BigTableAdmin, ReadOnlyScopedInline, ScopedModelAdmin


class ReadOnlyAdmin(ScopedModelAdmin):
    """Rows written by the services only: the secretariat reads them here."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.fields if f.name != "id"] + list(self.extra_readonly)

    extra_readonly: tuple[str, ...] = ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _scoped_file_link(file: Any, url_name: str, pk: int) -> str:
    """The file's name, linked to its scoped download view (never the media URL)."""
    if not file:
        return "-"
    name = PurePath(file.name).name
    try:
        url = reverse(url_name, args=[pk])
    except NoReverseMatch:
        return name
    return format_html('<a href="{}">{}</a>', url, name)


def _created_by(request: HttpRequest, obj: Model, change: bool, field: str = "created_by") -> None:
    if not change and getattr(obj, f"{field}_id", None) is None:
        setattr(obj, field, request.user)


@admin.register(CsrCycle)
class CsrCycleAdmin(ScopedModelAdmin):
    list_display = ("name", "region", "year", "proposal_deadline", "realisation_deadline", "status")
    list_filter = ("status", "year")
    search_fields = ("name",)
    list_select_related = ("region",)
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: CsrCycle, form: Any, change: bool) -> None:
        _created_by(request, obj, change)
        super().save_model(request, obj, form, change)


@admin.register(CycleReopen)
class CycleReopenAdmin(ScopedModelAdmin):
    list_display = ("cycle", "organization", "until", "note", "created_by", "created_at")
    list_filter = (("cycle", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("organization__name", "note")
    autocomplete_fields = ("organization",)
    list_select_related = ("cycle", "organization", "created_by")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: CycleReopen, form: Any, change: bool) -> None:
        _created_by(request, obj, change)
        super().save_model(request, obj, form, change)


@admin.register(CompanyContact)
class CompanyContactAdmin(ScopedModelAdmin):
    list_display = ("name", "organization", "position", "phone", "email", "is_primary")
    list_filter = ("is_primary", "organization__kind")
    search_fields = ("name", "organization__name", "email")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)


@admin.register(Allocation)
class AllocationAdmin(BigTableAdmin):
    list_display = (
        "household",
        "organization",
        "cycle",
        "assistance_kind",
        "status",
        "source",
        "created_at",
        "created_by",
    )
    list_filter = (
        "status",
        "source",
        ("cycle", admin.RelatedOnlyFieldListFilter),
        ("assistance_kind", admin.RelatedOnlyFieldListFilter),
        ("organization", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("household__head_name", "organization__name")
    autocomplete_fields = ("household", "organization")
    readonly_fields = ("created_by", "import_job", "released_at")
    list_select_related = ("household", "organization", "created_by", "cycle", "assistance_kind")

    def save_model(self, request: HttpRequest, obj: Allocation, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class ProposalTargetInline(ReadOnlyScopedInline):
    model = ProposalTarget
    fields = readonly_fields = (
        "household",
        "is_additional",
        "additional_reason",
        "proposed_name",
        "verification",
        "verification_note",
        "verified_by",
        "verified_at",
    )


class ProposalTransitionInline(ReadOnlyScopedInline):
    model = ProposalTransition
    fields = readonly_fields = ("at", "action", "from_status", "to_status", "note", "actor")


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    """Read-only: the workflow (submit, verify, agree, ...) runs in the portal through csr.services."""

    list_display = ("title", "organization", "cycle", "assistance_kind", "status", "budget", "submitted_at")
    list_filter = ("status", ("cycle", admin.RelatedOnlyFieldListFilter), "assistance_kind")
    search_fields = ("title", "organization__name")
    list_select_related = ("organization", "cycle", "assistance_kind")
    inlines = (ProposalTargetInline, ProposalTransitionInline)


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    """Read-only; the PDF downloads through the secretariat's scoped view."""

    list_display = ("number", "proposal", "signed_on", "government_signatory", "company_signatory", "pdf_file")
    search_fields = ("number", "proposal__title", "proposal__organization__name")
    list_select_related = ("proposal",)
    exclude = ("pdf",)  # its read-only display would link the public media URL
    extra_readonly = ("pdf_file",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [name for name in super().get_readonly_fields(request, obj) if name != "pdf"]

    @admin.display(description=_("berkas PDF"))
    def pdf_file(self, obj: Agreement) -> str:
        return _scoped_file_link(obj.pdf, "csr:agreement-pdf", obj.proposal_id)


@admin.register(Refusal)
class RefusalAdmin(ReadOnlyAdmin):
    """Read-only; the letter downloads through the secretariat's scoped view, acknowledged on the portal pages."""

    list_display = ("letter_number", "organization", "cycle", "submitted_at", "acknowledged_at", "letter_file")
    list_filter = (("cycle", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("letter_number", "organization__name")
    list_select_related = ("organization", "cycle")
    exclude = ("letter_pdf",)  # its read-only display would link the public media URL
    extra_readonly = ("letter_file",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [name for name in super().get_readonly_fields(request, obj) if name != "letter_pdf"]

    @admin.display(description=_("surat (PDF)"))
    def letter_file(self, obj: Refusal) -> str:
        return _scoped_file_link(obj.letter_pdf, "csr:refusal-pdf", obj.pk)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    """Read-only: sent by the beat task."""

    list_display = ("cycle", "organization", "kind", "step", "proposal", "sent_at")
    list_filter = ("kind", "step", ("cycle", admin.RelatedOnlyFieldListFilter))
    search_fields = ("organization__name",)
    list_select_related = ("cycle", "organization", "proposal")
