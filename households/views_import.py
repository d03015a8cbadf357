"""Import pages (secretariat only): history, upload, preview, confirm, live progress, result, error report.

Every view requires ``Cap.IMPORT`` (``ScopedViewMixin``: 403 for other roles) and fetches jobs through
``jobs.import_job_get`` (``ImportJob.objects.for_user``: a job of another region is a 404).
"""

from __future__ import annotations

import tempfile
from abc import ABCMeta, abstractmethod
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from households.forms_import import ImportConfirmForm, ImportUploadForm
from households.importing import jobs, report
from households.importing.types import FAMILY
from households.models import Household, ImportJob, ImportStatus, Person
from households.views import client_ip
from tkpk.exceptions import DomainError
from tkpk.models import AccessAction
from tkpk.scoping import Cap, ScopedViewMixin
from tkpk.services import personal_data_access_record
from tkpk.xlsx import XLSX_CONTENT_TYPE

# Target fields that are not a model field of the same name (the rest take the model's verbose name).
FIELD_LABELS = {
    "id_keluarga": gettext_lazy("ID Keluarga"),
    "id_individu": gettext_lazy("ID Individu"),
    "id_dtks": gettext_lazy("ID DTKS"),
    "id_dtsen_keluarga": gettext_lazy("ID Keluarga DTSEN"),
    "id_dtsen_individu": gettext_lazy("ID Individu DTSEN"),
    "region_code": gettext_lazy("Kode wilayah (desa/kelurahan)"),
    "province_name": gettext_lazy("Nama provinsi"),
    "kabupaten_name": gettext_lazy("Nama kabupaten/kota"),
    "kecamatan_name": gettext_lazy("Nama kecamatan"),
    "desa_name": gettext_lazy("Nama desa/kelurahan"),
    "head_nik": gettext_lazy("NIK kepala keluarga"),
    "head_nik_status": gettext_lazy("Status NIK kepala keluarga"),
    "head_nik_note": gettext_lazy("Catatan NIK kepala keluarga"),
    "head_sex": gettext_lazy("Jenis kelamin kepala keluarga"),
    "head_birth_date": gettext_lazy("Tanggal lahir kepala keluarga"),
    "head_occupation": gettext_lazy("Pekerjaan kepala keluarga"),
    "head_education": gettext_lazy("Pendidikan kepala keluarga"),
}
COUNT_COLUMNS = (
    ("created", gettext_lazy("Baru")),
    ("updated", gettext_lazy("Diperbarui")),
    ("unchanged", gettext_lazy("Tidak berubah")),
    ("rejected", gettext_lazy("Ditolak")),
    ("warnings", gettext_lazy("Peringatan")),
    ("missing", gettext_lazy("Tidak ada lagi di snapshot")),
)


def field_label(kind: str, field: str | None) -> str:
    if not field:
        return ""
    if field in FIELD_LABELS:
        return str(FIELD_LABELS[field])
    model: type[Model] = Household if kind == FAMILY else Person
    for candidate in (model, Person, Household):
        try:
            label = str(candidate._meta.get_field(field).verbose_name)  # type: ignore[union-attr]
            return label[:1].upper() + label[1:]
        except Exception:  # noqa: S112 - not a field of this model, try the next
            continue
    return field


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return _("%(s)s dtk") % {"s": whole}
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return _("%(m)s mnt %(s)s dtk") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)s jam %(m)s mnt") % {"h": hours, "m": minutes}


def result_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """(label, counts in COUNT_COLUMNS order) for families and persons of a stored summary."""
    rows = []
    for key, label in (("families", _("Keluarga")), ("persons", _("Anggota keluarga"))):
        counts = summary.get(key) or {}
        rows.append({"key": key, "label": label, "counts": [counts.get(name, 0) for name, _label in COUNT_COLUMNS]})
    return rows


def preview_files(job: ImportJob) -> list[dict[str, Any]]:
    """The stored preview laid out for the template: one block per file, sample rows as table cells."""
    names = {f.kind: f.original_name for f in job.files.all()}
    blocks = []
    for kind, part in jobs.preview_parts(job.preview).items():
        columns = [c for c in part.get("columns", []) if isinstance(c, dict)]
        matched = [(c.get("header", ""), c.get("field")) for c in columns if c.get("field")]
        sample = []
        for row in part.get("sample", []):
            values = row.get("values", {})
            issues = row.get("issues", [])
            severities = {issue.get("severity", "error") for issue in issues}
            sample.append(
                {
                    "row_number": row.get("row_number"),
                    "cells": ["" if values.get(f) is None else values.get(f) for _h, f in matched],
                    "issues": issues,
                    "state": "rejected" if "error" in severities else "warning" if severities else "valid",
                }
            )
        blocks.append(
            {
                "kind": kind,
                "label": report.file_label(kind),
                "name": names.get(kind, ""),
                "header_row": part.get("header_row"),
                "counts": part.get("counts", {}),
                "mapping": [
                    {"header": c.get("header", ""), "field": c.get("field"), "label": field_label(kind, c.get("field"))}
                    for c in columns
                ],
                "unmatched": part.get("unmatched", []),
                "sample_headers": [header for header, _f in matched],
                "sample": sample,
            }
        )
    return blocks


def status_context(job: ImportJob) -> dict[str, Any]:
    running = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    # Rows read is what the bar counts; the checks and the one-transaction write follow, so a running job
    # stays below 100 % and says what it is doing.
    all_read = job.status == ImportStatus.RUNNING and 0 < job.rows_total <= job.rows_done
    refusal = jobs.import_job_rerun_refusal(job=job) if job.status == ImportStatus.FAILED else None
    return {
        "job": job,
        "polling": running,
        "writing": all_read,
        # A job that ended before any row was counted (refused or lost preview, cancelled upload) has no bar.
        "show_progress": running or job.status == ImportStatus.SUCCEEDED or job.rows_total > 0,
        "percent": job.progress_percent if job.status == ImportStatus.SUCCEEDED else min(99, job.progress_percent),
        "count_columns": [label for _name, label in COUNT_COLUMNS],
        "result_rows": result_rows(job.summary) if job.status == ImportStatus.SUCCEEDED else [],
        "has_errors": job.status == ImportStatus.SUCCEEDED and job.row_errors.exists(),
        "preview_refused": jobs.preview_refusal(job) is not None,
        "can_rerun": job.status == ImportStatus.FAILED and refusal is None,
        "rerun_blocked": refusal.message if refusal is not None else "",
        "duration": duration_text(job.duration_seconds),
        "row_errors": jobs.import_job_row_errors(job=job, limit=20) if job.status == ImportStatus.SUCCEEDED else [],
    }


def preview_context(job: ImportJob) -> dict[str, Any]:
    """An uploaded job: "preview being prepared" (polled) until the worker has stored it, then the preview."""
    pending = jobs.preview_pending(job)
    return {
        "job": job,
        "pending": pending,
        "blocks": [] if pending else preview_files(job),
        "duplicate_message": jobs.duplicate_message(job=job),
        "confirm_form": ImportConfirmForm(),
    }


def files_context(job: ImportJob) -> dict[str, Any]:
    purged = jobs.files_purged(job)
    return {
        "files": list(job.files.all()),
        "files_purged": purged,
        "files_purged_message": jobs.files_purged_message() if purged else "",
    }


class ImportViewMixin(ScopedViewMixin):
    required_capability = Cap.IMPORT

    def get_job(self, pk: int) -> ImportJob:
        job = jobs.import_job_get(user=self.request.user, pk=pk)
        if jobs.import_job_awaits_worker(job) and jobs.import_jobs_fail_stuck(jobs=ImportJob.objects.filter(pk=pk)):
            job.refresh_from_db()
        job.status_label = jobs.import_job_status_label(job)  # type: ignore[attr-defined]
        return job

    def detail_url(self, job: ImportJob) -> str:
        return reverse("households:import-detail", args=[job.pk])


class ImportJobListView(ImportViewMixin, TemplateView):
    """The job history of the user's region: who, files, source, snapshot, status, counts, duration."""

    template_name = "households/import_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        qs = jobs.import_job_list(user=self.request.user)
        jobs.import_jobs_fail_stuck(jobs=qs)
        page = Paginator(qs, 25).get_page(self.request.GET.get("page"))
        for job in page:
            job.duration_text = duration_text(job.duration_seconds)  # type: ignore[attr-defined]
            job.status_label = jobs.import_job_status_label(job)  # type: ignore[attr-defined]
            job.files_list = list(job.files.all())  # type: ignore[attr-defined]
        context["page"] = page
        return context


class ImportUploadView(ImportViewMixin, View):
    template_name = "households/import_upload.html"

    def _render(self, request: HttpRequest, form: ImportUploadForm | None, **extra: Any) -> HttpResponse:
        return render(request, self.template_name, {"form": form, **extra})

    def get(self, request: HttpRequest) -> HttpResponse:
        regions = jobs.import_regions_for(user=request.user)
        return self._render(request, ImportUploadForm(regions=regions) if regions else None)

    def post(self, request: HttpRequest) -> HttpResponse:
        regions = jobs.import_regions_for(user=request.user)
        if not regions:
            return self._render(request, None)
        form = ImportUploadForm(request.POST, request.FILES, regions=regions)
        if not form.is_valid():
            return self._render(request, form)
        data = form.cleaned_data
        try:
            job = jobs.import_job_upload(
                actor=request.user,
                source=data["source"],
                files=form.files_by_kind(),
                snapshot_label=data["snapshot_label"],
                snapshot_date=data["snapshot_date"],
                region=data["region"],
                dry_run=data["dry_run"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self._render(request, form)
        # The preview is prepared by a worker (in-process in the embedded default): the job page polls for it.
        return redirect(self.detail_url(job))


class ImportJobDetailView(ImportViewMixin, TemplateView):
    """The preview (first "being prepared", polled) while the job waits for confirmation; afterwards live
    progress, then the result."""

    def get_template_names(self) -> list[str]:
        if self.job.status == ImportStatus.UPLOADED:
            return ["households/import_preview.html"]
        return ["households/import_detail.html"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.job = self.get_job(kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job = self.job
        context.update(status_context(job))
        context.update(files_context(job))
        if job.status == ImportStatus.UPLOADED:
            context.update(preview_context(job))
        return context


class ImportJobProgressView(ImportViewMixin, View):
    """The htmx partial polled every second while the preview is being prepared (then the preview, or the
    refusal) and while the job is queued or running (then the result)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_job(pk)
        if job.status == ImportStatus.UPLOADED:
            return render(request, "households/import_preview_body.html", preview_context(job))
        return render(request, "households/import_status.html", status_context(job))


class _JobActionView(ImportViewMixin, View, metaclass=ABCMeta):
    """POST-only job actions (confirm, cancel, rerun); each subclass calls one service in ``act``."""

    success_message: Any = ""

    @abstractmethod
    def act(self, request: HttpRequest, job: ImportJob) -> ImportJob: ...

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_job(pk)
        try:
            job = self.act(request, job)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, str(self.success_message))
        return HttpResponseRedirect(self.detail_url(job))


class ImportJobConfirmView(_JobActionView):
    success_message = gettext_lazy("Impor dimulai. Halaman ini menampilkan kemajuannya.")

    def act(self, request: HttpRequest, job: ImportJob) -> ImportJob:
        form = ImportConfirmForm(request.POST)
        accept = form.is_valid() and bool(form.cleaned_data["accept_duplicate"])
        return jobs.import_job_confirm(job=job, accept_duplicate=accept)


class ImportJobCancelView(_JobActionView):
    success_message = gettext_lazy("Impor dibatalkan; tidak ada data yang ditulis.")

    def act(self, request: HttpRequest, job: ImportJob) -> ImportJob:
        return jobs.import_job_cancel(job=job)


class ImportJobRerunView(_JobActionView):
    success_message = gettext_lazy("Impor dijalankan ulang.")

    def act(self, request: HttpRequest, job: ImportJob) -> ImportJob:
        return jobs.import_job_rerun(job=job)


class ImportErrorReportView(ImportViewMixin, View):
    """The job's error report (.xlsx, streamed from a temporary file); logged as an export of personal data
    because rejected values may be NIKs or names."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        job = self.get_job(pk)
        handle = tempfile.TemporaryFile()  # FileResponse closes it
        rows = report.error_report_write(job=job, target=handle)
        handle.seek(0)
        personal_data_access_record(
            user=request.user,
            action=AccessAction.EXPORT,
            object_type="import.row_errors",
            object_ids=[job.pk],
            region_code=job.region_id,
            detail=f"impor #{job.pk}: {rows} baris",
            ip_address=client_ip(request),
        )
        return FileResponse(
            handle,
            as_attachment=True,
            filename=report.error_report_filename(job=job),
            content_type=XLSX_CONTENT_TYPE,
        )
