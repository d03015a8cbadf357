"""The by-name gap list (BNBA) pages: the list, its .xlsx export (the verval sheet) and the verval upload."""

from __future__ import annotations

import tempfile
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from households.importing import jobs
from households.views import client_ip
from reports import gaplist, selectors, verval
from tkpk.exceptions import DomainError
from tkpk.models import AccessAction
from tkpk.scoping import Cap, ScopedViewMixin, scope_for
from tkpk.services import personal_data_access_record
from tkpk.xlsx import XLSX_CONTENT_TYPE

VERVAL_ERRORS_SHOWN = 200


def _region_code(user: Any, filters: selectors.GapListFilters) -> str:
    """The region an access-log row names: the one asked for, else the user's own."""
    try:
        return selectors.normalise_region(filters.region) or selectors.visible_root(user)
    except DomainError:
        return selectors.visible_root(user)


class GapHouseholdListView(ScopedViewMixin, TemplateView):
    """Households of the gap facts, filtered (region, desil, uncovered, unmet need, reason, overlap); paged
    without counting so a province-wide list stays fast. Opening it is logged like a by-name registry page."""

    template_name = "reports/gaplist.html"
    required_capability = Cap.REGISTRY_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters, problems = selectors.gap_list_filters_parse(self.request.GET)
        page_param, after_param = self.request.GET.get("page", "1"), self.request.GET.get("after", "")
        page = int(page_param) if page_param.isdigit() and int(page_param) > 0 else 1
        after = int(after_param) if after_param.isdigit() else None
        labels = gaplist.Labels.load()
        rows: list[Any] = []
        has_next = False
        try:
            facts, has_next = gaplist.page_rows(user=user, filters=filters, after=after)
            rows = gaplist.page_items(facts, labels)
        except DomainError as exc:
            problems.append(exc.message)
        if rows:
            personal_data_access_record(
                user=user,
                action=AccessAction.VIEW_HOUSEHOLD,
                object_type="gap_list",
                object_ids=[item["fact"].household_id for item in rows],
                region_code=_region_code(user, filters),
                detail=self.request.GET.urlencode()[:300],
                ip_address=client_ip(self.request),
            )
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("after", None)
        context.update(
            filters=filters,
            problems=problems,
            rows=rows,
            page=page if after is not None else 1,
            has_next=has_next,
            next_after=rows[-1]["fact"].household_id if rows else None,
            query=query.urlencode(),
            fresh=selectors.freshness(year=filters.year, region=gaplist.scoped_region(user, filters.region)),
            need_options=sorted(labels.needs.items(), key=lambda item: item[1]),
            reason_options=list(selectors.REASON_LABELS.items()),
            region_name=gaplist.region_label(filters.region),
            can_manage=scope_for(user).can(Cap.GAP_MANAGE),
            desil_options=range(1, 11),
        )
        return context


class GapExportView(ScopedViewMixin, View):
    """The list as .xlsx (the verval sheet), streamed from a temporary file; logged with the household ids."""

    required_capability = Cap.GAP_MANAGE

    def get(self, request: HttpRequest) -> HttpResponseBase:
        filters, problems = selectors.gap_list_filters_parse(request.GET)
        if problems:
            messages.error(request, " ".join(problems))
            return redirect(f"{reverse('reports:gap_households')}?{request.GET.urlencode()}")
        reveal = scope_for(request.user).can(Cap.REGISTRY_REVEAL_ID)
        ids: list[int] = []
        handle = tempfile.TemporaryFile(suffix=".xlsx")
        try:
            count = gaplist.export_write(handle, user=request.user, filters=filters, reveal=reveal, ids=ids)
        except DomainError as exc:
            handle.close()
            messages.error(request, exc.message)
            return redirect(reverse("reports:gap_households"))
        personal_data_access_record(
            user=request.user,
            action=AccessAction.EXPORT,
            object_type="gap_list",
            object_ids=ids,
            region_code=_region_code(request.user, filters),
            detail=(_("%(n)s keluarga; %(q)s") % {"n": count, "q": request.GET.urlencode()})[:300],
            ip_address=client_ip(request),
        )
        handle.seek(0)
        return FileResponse(
            handle, as_attachment=True, filename=gaplist.export_filename(filters), content_type=XLSX_CONTENT_TYPE
        )


class VervalUploadView(ScopedViewMixin, TemplateView):
    """Upload a filled verval sheet (secretariat); the engine previews it before anything is written."""

    template_name = "reports/gaplist_verval_upload.html"
    required_capability = Cap.GAP_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["regions"] = jobs.import_regions_for(user=self.request.user)
        context["jobs"] = list(verval.verval_jobs(user=self.request.user)[:20])
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        upload = request.FILES.get("file")
        regions = jobs.import_regions_for(user=request.user)
        region = next((r for r in regions if r.code == request.POST.get("region")), regions[0] if regions else None)
        if upload is None or region is None:
            messages.error(
                request,
                _("Pilih berkas verval (.xlsx).") if region else _("Akun Anda tidak terdaftar di sekretariat wilayah."),
            )
            return redirect("reports:verval_upload")
        try:
            job = verval.verval_upload(actor=request.user, upload=upload, region=region)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("reports:verval_upload")
        return redirect("reports:verval_detail", pk=job.pk)


class VervalJobView(ScopedViewMixin, TemplateView):
    """One verval upload: its preview (counts, refused rows), confirmation, progress and result."""

    template_name = "reports/gaplist_verval_detail.html"
    required_capability = Cap.GAP_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job = verval.verval_job_get(user=self.request.user, pk=kwargs["pk"])
        part = (job.preview or {}).get("verval", {})
        context.update(
            job=job,
            part=part,
            counts=part.get("counts", {}),
            result=(job.summary or {}).get("verval", {}),
            pending=jobs.import_job_awaits_worker(job),
            preview_pending=jobs.preview_pending(job),
            refusal=jobs.preview_refusal(job),
            status_label=jobs.import_job_status_label(job),
            errors=jobs.import_job_row_errors(job=job, limit=VERVAL_ERRORS_SHOWN),
            duplicate_message=jobs.duplicate_message(job=job) if job.duplicate_of_id else "",
        )
        return context


class VervalConfirmView(ScopedViewMixin, View):
    """POST: apply a previewed verval upload (queued for a worker)."""

    required_capability = Cap.GAP_MANAGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = verval.verval_job_get(user=request.user, pk=pk)
        try:
            jobs.import_job_confirm(job=job, accept_duplicate=request.POST.get("accept_duplicate") == "1")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("reports:verval_detail", pk=job.pk)


class VervalCancelView(ScopedViewMixin, View):
    """POST: drop a verval upload that has not started."""

    required_capability = Cap.GAP_MANAGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = verval.verval_job_get(user=request.user, pk=pk)
        try:
            jobs.import_job_cancel(job=job)
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
        return redirect("reports:verval_upload")
