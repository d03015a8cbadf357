"""Intervention spreadsheet pages: template download, upload (with the program's upload history), and the job
pages (preview, progress, result, error report), which are the registry import's views with the capability,
the job kind and the templates of this flow.

Who: anyone who may log deliveries into the program (``services.programs_for_logging``: OPD officers and
partners their own organization's programs, the secretariat any program of its region; not leadership). Jobs
are fetched through ``ImportJob.objects.for_user`` with ``kind=interventions``: another organization's upload
is a 404.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django import forms
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from households import views_import as base
from households.importing import jobs
from households.importing.jobs import ALLOWED_SUFFIXES
from households.models import ImportJob, ImportKind, ImportStatus
from households.views import client_ip
from programs import importing
from programs.models import Program
from programs.services import programs_for_logging
from tkpk.exceptions import DomainError
from tkpk.models import AccessAction, Region, RegionLevel
from tkpk.scoping import Cap, ScopedViewMixin
from tkpk.services import personal_data_access_record
from tkpk.xlsx import XLSX_CONTENT_TYPE

HISTORY_SIZE = 10
FIELD_LABELS = {
    "id_keluarga": gettext_lazy("ID Keluarga P3KE"),
    "nik": gettext_lazy("NIK penerima"),
    "delivered_on": gettext_lazy("Tanggal penyaluran"),
    "value": gettext_lazy("Nilai (Rp)"),
    "quantity": gettext_lazy("Jumlah"),
    "status": gettext_lazy("Status"),
    "note": gettext_lazy("Keterangan"),
    "info_head_name": gettext_lazy("Nama kepala keluarga (info, tidak diimpor)"),
    "info_desa": gettext_lazy("Desa/kelurahan (info, tidak diimpor)"),
}
RESULT_COLUMNS = (
    ("created", gettext_lazy("Tersimpan")),
    ("duplicates", gettext_lazy("Duplikat")),
    ("rejected", gettext_lazy("Ditolak")),
    ("warnings", gettext_lazy("Peringatan")),
    ("skipped", gettext_lazy("Baris kosong dilewati")),
)


def program_for_upload(*, user: Any, pk: int) -> Program:
    """A program the user may log deliveries into (404 otherwise)."""
    qs = programs_for_logging(actor=user).select_related("organization", "region")
    program: Program = get_object_or_404(qs, pk=pk)
    return program


class InterventionUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Berkas penyaluran (.xlsx atau .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES), "class": "form-control"}),
    )
    all_or_nothing = forms.BooleanField(
        label=gettext_lazy(
            "Semua atau tidak sama sekali: jika ada baris ditolak (termasuk duplikat), tidak ada yang disimpan"
        ),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Uji coba saja (periksa dan hitung, tanpa menyimpan)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


def result_rows(job: ImportJob) -> list[tuple[str, str, int]]:
    """(key, label, count) of a finished upload's stored summary."""
    counts = (job.summary or {}).get("interventions", {})
    return [(key, str(label), int(counts.get(key, 0))) for key, label in RESULT_COLUMNS]


def _desa_choices(program: Program) -> list[Region]:
    """The desa of the program's target regions (or of its whole TKPK region) for the pre-filled template."""
    targets = list(program.target_regions.values_list("code", flat=True)) or [program.region_id]
    qs = Region.objects.filter(level=RegionLevel.DESA)
    within = Q()
    for code in targets:
        within |= Q(code__startswith=code)
    return list(qs.filter(within).order_by("code"))


# ------------------------------------------------------------------------------------------------ upload


class InterventionImportMixin(ScopedViewMixin):
    required_capability = Cap.INTERVENTION_LOG


class TemplateDownloadView(InterventionImportMixin, View):
    """The upload template: blank, or (``?desa=<code>``, repeatable) pre-filled with the eligible households of
    those desa. A pre-filled template is personal data: its export is logged."""

    def get(self, request: HttpRequest, program_pk: int) -> HttpResponseBase:
        program = program_for_upload(user=request.user, pk=program_pk)
        desa_codes = [code for code in request.GET.getlist("desa") if code.isdigit() and len(code) == 10][:50]
        rows = (
            importing.eligible_households(user=request.user, program=program, desa_codes=desa_codes)
            if desa_codes
            else []
        )
        handle = tempfile.TemporaryFile()  # FileResponse closes it
        written = importing.template_write(program=program, target=handle, rows=rows)
        handle.seek(0)
        if desa_codes:
            personal_data_access_record(
                user=request.user,
                action=AccessAction.EXPORT,
                object_type="programs.upload_template",
                object_ids=written,
                region_code=program.region_id,
                detail=f"templat {program.code}: {len(written)} keluarga, desa {', '.join(desa_codes)}",
                ip_address=client_ip(request),
            )
        return FileResponse(
            handle,
            as_attachment=True,
            filename=importing.template_filename(program, prefilled=bool(desa_codes)),
            content_type=XLSX_CONTENT_TYPE,
        )


class UploadView(InterventionImportMixin, View):
    """The round-trip page: download the template, upload the filled file, the program's upload history."""

    template_name = "programs/import_upload.html"

    def _render(self, request: HttpRequest, program: Program, form: InterventionUploadForm) -> HttpResponse:
        history = list(importing.intervention_jobs(user=request.user, program=program)[:HISTORY_SIZE])
        for job in history:
            job.status_label = jobs.import_job_status_label(job)
            job.counts = result_rows(job) if job.status == ImportStatus.SUCCEEDED else []
        context = {
            "program": program,
            "form": form,
            "desa_choices": _desa_choices(program),
            "history": history,
            "result_labels": [str(label) for _key, label in RESULT_COLUMNS],
        }
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest, program_pk: int) -> HttpResponse:
        program = program_for_upload(user=request.user, pk=program_pk)
        return self._render(request, program, InterventionUploadForm())

    def post(self, request: HttpRequest, program_pk: int) -> HttpResponse:
        program = program_for_upload(user=request.user, pk=program_pk)
        form = InterventionUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, program, form)
        try:
            job = importing.intervention_upload(
                actor=request.user,
                program=program,
                upload=form.cleaned_data["file"],
                all_or_nothing=form.cleaned_data["all_or_nothing"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
            return self._render(request, program, form)
        return redirect("program_imports:job-detail", pk=job.pk)


# ---------------------------------------------------------------------------------------------------- jobs


def preview_blocks(job: ImportJob) -> list[dict[str, Any]]:
    """The registry preview's blocks, with this flow's column labels."""
    blocks = base.preview_files(job)
    parts = jobs.preview_parts(job.preview)
    for block in blocks:
        block["label"] = _("Berkas penyaluran")
        stored = parts.get(block["kind"], {}).get("sample", [])
        for row, kept in zip(block["sample"], stored, strict=False):
            if kept.get("skipped"):
                row["state"] = "skipped"
        for item in block["mapping"]:
            if item["field"] in FIELD_LABELS:
                item["label"] = str(FIELD_LABELS[item["field"]])
    return blocks


class InterventionJobMixin(base.ImportViewMixin):
    """The registry's job views for intervention uploads: capability, job kind, URLs and templates."""

    required_capability = Cap.INTERVENTION_LOG

    def get_job(self, pk: int) -> ImportJob:
        job = jobs.import_job_get(user=self.request.user, pk=pk, kind=ImportKind.INTERVENTIONS)
        if jobs.import_job_awaits_worker(job) and jobs.import_jobs_fail_stuck(jobs=ImportJob.objects.filter(pk=pk)):
            job.refresh_from_db()
        job.status_label = jobs.import_job_status_label(job)  # type: ignore[attr-defined]
        return job

    def detail_url(self, job: ImportJob) -> str:
        return reverse("program_imports:job-detail", args=[job.pk])


def status_context(job: ImportJob) -> dict[str, Any]:
    context = base.status_context(job)
    context["result_rows"] = result_rows(job) if job.status == ImportStatus.SUCCEEDED else []
    return context


def preview_context(job: ImportJob) -> dict[str, Any]:
    context = base.preview_context(job)
    if not context["pending"]:
        context["blocks"] = preview_blocks(job)
    return context


class JobDetailView(InterventionJobMixin, base.ImportJobDetailView):
    def get_template_names(self) -> list[str]:
        if self.job.status == ImportStatus.UPLOADED:
            return ["programs/import_preview.html"]
        return ["programs/import_detail.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # TemplateView's context, then this flow's (the registry detail view's own context is not needed).
        context = super(base.ImportJobDetailView, self).get_context_data(**kwargs)
        context.update(status_context(self.job))
        context.update(base.files_context(self.job))
        context["program"] = self.job.program
        if self.job.status == ImportStatus.UPLOADED:
            context.update(preview_context(self.job))
        return context


class JobProgressView(InterventionJobMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_job(pk)
        if job.status == ImportStatus.UPLOADED:
            return render(request, "programs/import_preview_body.html", preview_context(job))
        return render(request, "programs/import_status.html", status_context(job))


class JobConfirmView(InterventionJobMixin, base.ImportJobConfirmView):
    success_message = gettext_lazy("Unggahan diproses. Halaman ini menampilkan kemajuannya.")


class JobCancelView(InterventionJobMixin, base.ImportJobCancelView):
    success_message = gettext_lazy("Unggahan dibatalkan; tidak ada yang disimpan.")


class JobRerunView(InterventionJobMixin, base.ImportJobRerunView):
    success_message = gettext_lazy("Unggahan dijalankan ulang.")


class JobErrorReportView(InterventionJobMixin, base.ImportErrorReportView):
    pass
