from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from households import mismatch, selectors, services
from households.forms import HouseholdSearchForm
from households.models import Graduation
from households.tables import HouseholdTable
from tkpk.exceptions import DomainError
from tkpk.models import AccessAction
from tkpk.scoping import Cap, ScopedViewMixin
from tkpk.services import personal_data_access_record
from tkpk.xlsx import XLSX_CONTENT_TYPE, xlsx_write


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


class HouseholdSearchView(ScopedViewMixin, TemplateView):
    """Registry search; pages without counting (LazyPaginator) so it stays fast at a million rows."""

    template_name = "households/search.html"
    required_capability = Cap.REGISTRY_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = HouseholdSearchForm(self.request.GET or None)
        context["form"] = form
        context["region_options"] = selectors.region_options(user=self.request.user)
        if form.is_bound and form.is_valid():
            qs = selectors.household_search(user=self.request.user, filters=form.filters())
            table = HouseholdTable(qs)
            RequestConfig(self.request, paginate={"per_page": 25, "paginator_class": LazyPaginator}).configure(table)
            context["table"] = table
        return context


class HouseholdDetailView(ScopedViewMixin, TemplateView):
    template_name = "households/detail.html"
    required_capability = Cap.REGISTRY_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        household = selectors.household_get(user=self.request.user, pk=kwargs["pk"])
        services.household_view_record(actor=self.request.user, household=household, ip_address=client_ip(self.request))
        context["household"] = household
        links = selectors.person_links(household=household)
        context["members"] = [(person, links.get(person.pk, [])) for person in household.members.all()]
        context["person_link_count"] = len(links)
        context["history"] = selectors.household_history(household=household)
        context["attributes"] = household_attributes(household)
        # Graduation records the user may read (secretariat and OPD of the region; partners none).
        graduations = Graduation.objects.for_user(self.request.user).filter(household=household)
        context["graduations"] = list(graduations.select_related("verified_by", "import_job"))
        context["can_graduate"] = self.scope.can(Cap.GAP_MANAGE)
        context["today"] = timezone.localdate()
        return context


def household_attributes(household: Any) -> list[tuple[str, str]]:
    """(label, display value) of the housing and welfare fields, for the detail page."""
    names = [
        "house_ownership", "roof_type", "roof_quality", "wall_type", "wall_quality", "floor_type", "floor_quality",
        "lighting_source", "power_capacity", "cooking_fuel", "water_source", "toilet_facility", "stunting_risk",
        "has_savings", "has_land", "has_vehicle", "receives_bpnt", "receives_bpum", "receives_bst", "receives_pkh",
        "receives_sembako", "receives_prakerja", "receives_kur", "verification_priority",
    ]  # fmt: skip
    rows = []
    for name in names:
        field = household._meta.get_field(name)
        value = getattr(household, name)
        if field.choices:
            shown = getattr(household, f"get_{name}_display")() if value else "—"
        elif value is None:
            shown = "—"
        else:
            shown = str(_yes_no(value))
        rows.append((str(field.verbose_name).capitalize(), shown))
    return rows


def _yes_no(value: bool) -> str:
    return _("Ya") if value else _("Tidak")


class RevealIdentifierView(ScopedViewMixin, View):
    """POST (htmx): the full NIK of one person or No KK of one household, logged."""

    required_capability = Cap.REGISTRY_REVEAL_ID

    def post(self, request: HttpRequest, kind: str, pk: int) -> HttpResponse:
        try:
            if kind == "nik":
                person = selectors.person_get(user=request.user, pk=pk)
                value = services.person_reveal_nik(actor=request.user, person=person, ip_address=client_ip(request))
            elif kind == "kk":
                household = selectors.household_get(user=request.user, pk=pk)
                value = services.household_reveal_no_kk(
                    actor=request.user, household=household, ip_address=client_ip(request)
                )
            else:
                raise PermissionDenied
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
        return render(request, "households/_revealed.html", {"value": value})


class MismatchReportView(ScopedViewMixin, TemplateView):
    """Where the sources disagree, counted per desa, for the secretariat to send to verification."""

    template_name = "households/mismatch.html"
    required_capability = Cap.REGISTRY_EXPORT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows, totals = mismatch.mismatch_counts_by_desa(user=self.request.user)
        context["kinds"] = [(kind, totals[kind.code]) for kind in mismatch.KINDS]
        context["rows"] = rows
        return context


class MismatchExportView(ScopedViewMixin, View):
    """The verification list as .xlsx; an export of personal data, so it is logged with the record ids."""

    required_capability = Cap.REGISTRY_EXPORT

    def get(self, request: HttpRequest) -> HttpResponse:
        codes = [code for code in request.GET.getlist("jenis") if code in mismatch.KIND_BY_CODE]
        exported_ids: list[int] = []

        def rows() -> Iterator[list[Any]]:
            for row in mismatch.mismatch_export_rows(user=request.user, codes=codes or None):
                exported_ids.append(row[1])
                yield row

        buffer = io.BytesIO()
        xlsx_write(
            buffer, title=str(_("Ketidaksesuaian")), headers=[str(h) for h in mismatch.EXPORT_HEADERS], rows=rows()
        )
        personal_data_access_record(
            user=request.user,
            action=AccessAction.EXPORT,
            object_type="household.mismatch",
            object_ids=sorted(set(exported_ids)),
            detail=",".join(codes) or "semua",
            ip_address=client_ip(request),
        )
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = 'attachment; filename="ketidaksesuaian-sumber-data.xlsx"'
        return response


class HouseholdGraduateView(ScopedViewMixin, View):
    """POST (secretariat): record that the household is no longer poor (date, reason, evidence, note)."""

    required_capability = Cap.GAP_MANAGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        household = selectors.household_get(user=request.user, pk=pk)
        graduated_on = parse_date(request.POST.get("graduated_on", "") or "")
        try:
            if graduated_on is None:
                raise DomainError(_("Isi tanggal graduasi."), code="date_required")
            services.household_graduate(
                actor=request.user,
                household=household,
                graduated_on=graduated_on,
                reason=request.POST.get("reason", ""),
                evidence=request.FILES.get("evidence"),
                evidence_note=request.POST.get("evidence_note", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Graduasi dicatat; keluarga kini berstatus graduasi."))
        return redirect("households:detail", pk=household.pk)


class GraduationRevokeView(ScopedViewMixin, View):
    """POST (secretariat): undo a graduation; the record stays with its revocation date."""

    required_capability = Cap.GAP_MANAGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        graduation = get_object_or_404(Graduation.objects.for_user(request.user), pk=pk)
        revoked_on = parse_date(request.POST.get("revoked_on", "") or "") or timezone.localdate()
        try:
            services.graduation_revoke(
                actor=request.user, graduation=graduation, revoked_on=revoked_on, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Graduasi dibatalkan; keluarga aktif kembali."))
        return redirect("households:detail", pk=graduation.household_id)


class GraduationEvidenceView(ScopedViewMixin, View):
    """GET: the evidence file of a graduation, for those who may read the graduation (never a public media
    URL); each download is logged as a view of personal data."""

    required_capability = Cap.REGISTRY_VIEW

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        graduation = get_object_or_404(Graduation.objects.for_user(request.user), pk=pk)
        if not graduation.evidence:
            raise Http404(_("Graduasi ini tidak memiliki berkas bukti."))
        personal_data_access_record(
            user=request.user,
            action=AccessAction.VIEW_HOUSEHOLD,
            object_type="household.graduation_evidence",
            object_ids=[graduation.household_id],
            region_code=graduation.household.desa_id,
            detail=f"graduation {graduation.pk}",
            ip_address=client_ip(request),
        )
        name = graduation.evidence.name.rsplit("/", 1)[-1]
        return FileResponse(graduation.evidence.open("rb"), as_attachment=True, filename=name)
