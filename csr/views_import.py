"""Secretariat pages of the allocation upload: a sheet of target households per partner and need for one CSR
cycle, through the import engine (upload → preview → confirm → run, as the verval upload)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from csr import allocation_import
from csr.models import CsrCycle
from households.importing import jobs
from households.importing.types import CSR_ALLOCATION
from tkpk.exceptions import DomainError
from tkpk.scoping import Cap, ScopedViewMixin
from tkpk.xlsx import XLSX_CONTENT_TYPE

ERRORS_SHOWN = 200


class _CycleMixin(ScopedViewMixin):
    required_capability = Cap.CSR_MANAGE

    def cycle(self, cycle_id: int) -> CsrCycle:
        return get_object_or_404(CsrCycle.objects.for_user(self.request.user), pk=cycle_id)


class AllocationUploadView(_CycleMixin, TemplateView):
    """Upload an allocation sheet for a cycle; the engine previews it before anything is written."""

    template_name = "csr/import/allocation_upload.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        cycle = self.cycle(kwargs["cycle_id"])
        context.update(
            cycle=cycle,
            jobs=list(allocation_import.allocation_jobs(user=self.request.user, cycle=cycle)[:20]),
            headers=allocation_import.template_headers(),
        )
        return context

    def post(self, request: HttpRequest, cycle_id: int) -> HttpResponse:
        cycle = self.cycle(cycle_id)
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Pilih berkas alokasi (.xlsx atau .csv)."))
            return redirect("csr:allocation-upload", cycle_id=cycle.pk)
        try:
            job = allocation_import.allocation_upload(actor=request.user, cycle=cycle, upload=upload)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("csr:allocation-upload", cycle_id=cycle.pk)
        return redirect("csr:allocation-job", cycle_id=cycle.pk, pk=job.pk)


class AllocationTemplateView(_CycleMixin, View):
    """GET: the empty allocation sheet (.xlsx) with the column titles."""

    def get(self, request: HttpRequest, cycle_id: int) -> HttpResponse:
        cycle = self.cycle(cycle_id)
        response = HttpResponse(allocation_import.template_xlsx(), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="templat-alokasi-csr-{cycle.pk}.xlsx"'
        return response


class AllocationJobView(_CycleMixin, TemplateView):
    """One allocation upload: its preview (counts, refused rows), confirmation, progress and result."""

    template_name = "csr/import/allocation_job.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        cycle = self.cycle(kwargs["cycle_id"])
        job = allocation_import.allocation_job_get(user=self.request.user, cycle=cycle, pk=kwargs["pk"])
        part = (job.preview or {}).get(CSR_ALLOCATION, {})
        context.update(
            cycle=cycle,
            job=job,
            part=part,
            counts=part.get("counts", {}),
            result=(job.summary or {}).get("allocation", {}),
            pending=jobs.import_job_awaits_worker(job),
            preview_pending=jobs.preview_pending(job),
            refusal=jobs.preview_refusal(job),
            status_label=jobs.import_job_status_label(job),
            errors=jobs.import_job_row_errors(job=job, limit=ERRORS_SHOWN),
            duplicate_message=jobs.duplicate_message(job=job) if job.duplicate_of_id else "",
        )
        return context


class AllocationConfirmView(_CycleMixin, View):
    """POST: apply a previewed allocation upload (queued for a worker)."""

    def post(self, request: HttpRequest, cycle_id: int, pk: int) -> HttpResponse:
        cycle = self.cycle(cycle_id)
        job = allocation_import.allocation_job_get(user=request.user, cycle=cycle, pk=pk)
        try:
            jobs.import_job_confirm(job=job, accept_duplicate=request.POST.get("accept_duplicate") == "1")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("csr:allocation-job", cycle_id=cycle.pk, pk=job.pk)


class AllocationCancelView(_CycleMixin, View):
    """POST: drop an allocation upload that has not started."""

    def post(self, request: HttpRequest, cycle_id: int, pk: int) -> HttpResponse:
        cycle = self.cycle(cycle_id)
        job = allocation_import.allocation_job_get(user=request.user, cycle=cycle, pk=pk)
        try:
            jobs.import_job_cancel(job=job)
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
        return redirect("csr:allocation-upload", cycle_id=cycle.pk)
