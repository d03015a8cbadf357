"""Intervention spreadsheet round-trip through the import engine: template, upload, checks, apply, CLI, pages.

Runs on PostgreSQL (COPY + set-based checks + one INSERT ... SELECT with history events) and on SQLite (the
ORM path); both must give the same rows, codes and counts.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from households.choices import HouseholdStatus
from households.importing import jobs
from households.models import ImportJob, ImportKind, ImportStatus, RowError
from programs import importing
from programs.models import EntryChannel, Intervention, InterventionStatus, OutsideRegionPolicy
from tests import factories as f
from tkpk.models import PersonalDataAccess
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
YEAR = TODAY.year
# A delivery date inside the factory's program period (1 Jan - 31 Dec of this year) and not in the future.
DAY = TODAY
HEADER = ["ID Keluarga P3KE", "NIK", "Tanggal Penyaluran", "Nilai (Rp)", "Jumlah", "Status", "Keterangan"]
BLUMAH = "3324012001"
KEDITEN = "3324012002"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def officer() -> Any:
    return f.user_with_role(Role.OPD_OFFICER)


@pytest.fixture
def program(officer: Any) -> Any:
    return f.ProgramFactory(organization=officer.test_organization, unit_value=250_000)


def household(id_keluarga: str, desa: str = BLUMAH, **kw: Any) -> Any:
    """A household of the registry with its P3KE link (ID Keluarga P3KE ``id_keluarga``)."""
    found = f.HouseholdFactory(desa=f.desa(desa), **kw)
    f.HouseholdSourceLinkFactory(external_id=id_keluarga, household=found)
    return found


def xlsx(tmp_path: Path, rows: list[list[Any]], header: list[str] = HEADER, name: str = "penyaluran.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def upload_and_run(officer: Any, program: Any, path: Path, **options: Any) -> ImportJob:
    """The web path without the broker: create, preview, confirm, execute."""
    job = importing.intervention_job_create(actor=officer, program=program, upload=path, **options)
    jobs.import_job_preview(job=job)
    job = jobs.import_job_confirm(job=job, accept_duplicate=True, send=False)
    finished = jobs.import_job_execute(job_id=job.pk)
    assert finished is not None
    return finished


def errors(job: ImportJob) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for e in RowError.objects.filter(job=job, severity="error").order_by("row_number"):
        found.setdefault(e.row_number, []).append(e.code)
    return found


@pytest.fixture
def bad_file(tmp_path: Path, program: Any) -> tuple[Path, dict[str, Any]]:
    """Two good rows and one bad row of each kind the issue names."""
    good_a = household("P3KE-A")
    person_b = f.PersonFactory(household=household("P3KE-B"))
    good_b, nik_b = person_b.household, person_b.nik
    household("P3KE-NEG")
    household("P3KE-FUT")
    rows = [
        ["P3KE-A", "", DAY, 300000, 1, "Tersalurkan", "beras"],  # 2 good
        ["", nik_b, DAY, "", "", "", ""],  # 3 good, by NIK, value from the program
        ["P3KE-UNKNOWN", "", DAY, 300000, 1, "", ""],  # 4 unknown ID
        ["", "12345", DAY, 300000, 1, "", ""],  # 5 malformed NIK
        ["", f.make_nik(kecamatan="332401"), DAY, 300000, 1, "", ""],  # 6 NIK matching no one
        ["P3KE-NEG", "", DAY, -5, 1, "", ""],  # 7 negative value
        ["P3KE-FUT", "", TODAY + dt.timedelta(days=2), 300000, 1, "Tersalurkan", ""],  # 8 future date
    ]
    return xlsx(tmp_path, rows), {"a": good_a, "b": good_b}


def test_bad_rows_are_reported_with_row_and_reason_and_good_rows_go_in(officer, program, bad_file):
    path, hh = bad_file
    job = upload_and_run(officer, program, path)
    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert job.kind == ImportKind.INTERVENTIONS and job.program == program
    found = errors(job)
    if TODAY.month == 12 and TODAY.day >= 30:  # the future date is then outside the period too: first error wins
        assert found[8] in (["future_date"], ["outside_period"])
    else:
        assert found[8] == ["future_date"]
    assert found[4] == ["household_unknown"]
    assert found[5][0].startswith("nik")  # the structural check's code (nik_format, nik_serial, ...)
    assert found[6] == ["nik_unknown"]
    assert found[7] == ["negative_value"]
    assert set(found) == {4, 5, 6, 7, 8}
    messages = {e.row_number: e.message for e in RowError.objects.filter(job=job)}
    assert "P3KE-UNKNOWN" in messages[4]
    assert messages[7] == "Nilai tidak boleh negatif."
    assert "********" in messages[6]  # the NIK is masked in the message
    assert job.summary["interventions"]["created"] == 2
    assert job.summary["interventions"]["rejected"] == 5
    assert job.error_count == 5
    created = {iv.household_id: iv for iv in Intervention.objects.filter(program=program)}
    assert set(created) == {hh["a"].pk, hh["b"].pk}
    a, b = created[hh["a"].pk], created[hh["b"].pk]
    assert a.value == Decimal(300000) and a.note == "beras" and a.status == InterventionStatus.DELIVERED
    assert b.value == program.unit_value and b.quantity == 1  # blank value -> the program's unit value
    for iv in (a, b):
        assert iv.channel == EntryChannel.SPREADSHEET
        assert iv.import_job_id == job.pk
        assert iv.entered_by == officer
        assert iv.organization_id == program.organization_id
        assert (iv.kabupaten_code, iv.desa_id) == ("3324", BLUMAH)
        assert iv.period_year == DAY.year


def test_all_or_nothing_writes_nothing_when_a_row_is_refused(officer, program, bad_file):
    path, _hh = bad_file
    job = upload_and_run(officer, program, path, all_or_nothing=True)
    assert job.status == ImportStatus.SUCCEEDED
    assert Intervention.objects.count() == 0
    assert job.summary["interventions"]["created"] == 0
    assert job.summary["blocked"] is True
    assert "semua-atau-tidak" in job.message
    assert set(errors(job)) == {4, 5, 6, 7, 8}  # still reported row by row


def test_all_or_nothing_with_a_clean_file_writes_everything(officer, program, tmp_path):
    household("P3KE-A")
    household("P3KE-B")
    path = xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""], ["P3KE-B", "", DAY, 1, 1, "", ""]])
    job = upload_and_run(officer, program, path, all_or_nothing=True)
    assert job.summary["interventions"]["created"] == 2
    assert Intervention.objects.count() == 2


def test_duplicates_existing_and_within_the_file_name_the_record(officer, program, tmp_path):
    earlier = f.InterventionFactory(program=program, household=household("P3KE-OLD"), entered_by=officer)
    household("P3KE-TWICE")
    path = xlsx(
        tmp_path,
        [
            ["P3KE-OLD", "", DAY, 1, 1, "", ""],  # 2 already recorded this year
            ["P3KE-TWICE", "", DAY, 1, 1, "", ""],  # 3 first: in
            ["P3KE-TWICE", "", DAY, 1, 1, "", ""],  # 4 twice in the file
        ],
    )
    job = upload_and_run(officer, program, path)
    found = errors(job)
    assert found == {2: ["duplicate"], 4: ["duplicate_in_file"]}
    by_row = {e.row_number: e.message for e in RowError.objects.filter(job=job)}
    assert f"#{earlier.pk}" in by_row[2] and program.code in by_row[2]
    assert "baris 3" in by_row[4]
    counts = job.summary["interventions"]
    assert (counts["created"], counts["duplicates"], counts["rejected"]) == (1, 2, 0)
    assert Intervention.objects.filter(program=program).count() == 2


def test_programs_not_once_per_year_take_the_same_household_twice(officer, tmp_path):
    program = f.ProgramFactory(organization=officer.test_organization, once_per_year=False)
    household("P3KE-A")
    path = xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""], ["P3KE-A", "", DAY, 1, 1, "", ""]])
    job = upload_and_run(officer, program, path)
    assert job.summary["interventions"]["created"] == 2


def test_every_delivery_rule_applies_with_the_rules_messages(officer, tmp_path):
    target = f.region("332401")  # kecamatan Plantungan
    program = f.ProgramFactory(
        organization=officer.test_organization,
        max_desil=2,
        outside_region_policy=OutsideRegionPolicy.REFUSE,
        target_regions=[target],
        starts_on=dt.date(YEAR, 1, 1),
        ends_on=dt.date(YEAR, 12, 31),
    )
    household("P3KE-DESIL", desil=4)
    household("P3KE-MOVED", status=HouseholdStatus.MOVED)
    household("P3KE-FAR", desa="3324052001")  # another kecamatan
    household("P3KE-OK", desil=1)
    path = xlsx(
        tmp_path,
        [
            ["P3KE-DESIL", "", DAY, 1, 1, "", ""],  # 2 warning desil above max
            ["P3KE-MOVED", "", DAY, 1, 1, "", ""],  # 3 inactive household
            ["P3KE-FAR", "", DAY, 1, 1, "", ""],  # 4 outside target (refuse)
            ["P3KE-OK", "", dt.date(YEAR - 1, 6, 1), 1, 1, "", ""],  # 5 outside period
        ],
    )
    job = upload_and_run(officer, program, path)
    by_row = {(e.row_number, e.code): e for e in RowError.objects.filter(job=job)}
    assert by_row[(2, "desil_above_max")].severity == "warning"
    assert by_row[(2, "desil_above_max")].message == "Desil keluarga (4) di atas batas desil program (2)."
    assert by_row[(3, "household_inactive")].message == "Keluarga berstatus Pindah; penyaluran tidak dapat dicatat."
    assert by_row[(4, "outside_target_region")].severity == "error"
    assert by_row[(5, "outside_period")].severity == "error"
    assert job.summary["interventions"]["created"] == 1
    assert job.warning_count == 1


def test_outside_target_region_is_a_warning_when_the_program_says_warn(officer, tmp_path):
    program = f.ProgramFactory(
        organization=officer.test_organization,
        outside_region_policy=OutsideRegionPolicy.WARN,
        target_regions=[f.region("332401")],
    )
    household("P3KE-FAR", desa="3324052001")
    job = upload_and_run(officer, program, xlsx(tmp_path, [["P3KE-FAR", "", DAY, 1, 1, "", ""]]))
    error = RowError.objects.get(job=job)
    assert (error.code, error.severity) == ("outside_target_region", "warning")
    assert job.summary["interventions"]["created"] == 1


def test_households_outside_the_uploaders_region_are_unknown(officer, program, tmp_path):
    household("P3KE-KUTAI", desa="6402012001")
    job = upload_and_run(officer, program, xlsx(tmp_path, [["P3KE-KUTAI", "", DAY, 1, 1, "", ""]]))
    assert errors(job) == {2: ["household_unknown"]}
    assert Intervention.objects.count() == 0


def test_preview_counts_every_rule_before_anything_is_written(officer, program, bad_file):
    path, _hh = bad_file
    job = importing.intervention_job_create(actor=officer, program=program, upload=path)
    jobs.import_job_preview(job=job)
    job.refresh_from_db()
    counts = job.preview["delivery"]["counts"]
    assert counts == {"rows": 7, "valid": 2, "warning": 0, "rejected": 5, "duplicates": 0, "skipped": 0}
    assert job.rows_total == 7 and job.error_count == 5
    sample = {row["row_number"]: row for row in job.preview["delivery"]["sample"]}
    assert sample[4]["issues"][0]["code"] == "household_unknown"
    assert sample[3]["values"]["nik"].count("*") == 8  # masked
    assert Intervention.objects.count() == 0
    assert RowError.objects.filter(job=job).count() == 0


def test_empty_template_rows_are_skipped_not_refused(officer, program, tmp_path):
    household("P3KE-A")
    household("P3KE-B")
    path = xlsx(tmp_path, [["P3KE-A", "", DAY, "", "", "", ""], ["P3KE-B", "", "", "", "", "", ""]])
    job = upload_and_run(officer, program, path, all_or_nothing=True)
    assert job.summary["interventions"]["created"] == 1
    assert job.preview["delivery"]["counts"]["skipped"] == 1
    assert job.summary["interventions"]["skipped"] == 1
    assert errors(job) == {}


def test_a_file_without_recipient_column_is_refused(officer, program, tmp_path):
    path = xlsx(tmp_path, [["x", DAY]], header=["Nama Kepala Keluarga (info)", "Tanggal Penyaluran"])
    job = importing.intervention_job_create(actor=officer, program=program, upload=path)
    with pytest.raises(jobs.ImportRefusedError):
        jobs.import_job_preview(job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "ID Keluarga P3KE" in job.message


def test_dry_run_writes_nothing(officer, program, tmp_path):
    household("P3KE-A")
    job = upload_and_run(officer, program, xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""]]), dry_run=True)
    assert job.summary["interventions"]["created"] == 1
    assert Intervention.objects.count() == 0


@pytest.mark.parametrize("role", [Role.LEADERSHIP])
def test_leadership_and_other_organizations_cannot_upload(program, tmp_path, role):
    path = xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""]])
    for actor in (f.user_with_role(role), f.user_with_role(Role.OPD_OFFICER)):
        with pytest.raises(importing.DomainError):
            importing.intervention_job_create(actor=actor, program=program, upload=path)


def test_secretariat_may_upload_for_a_program_of_its_region(program, tmp_path):
    secretariat = f.user_with_role(Role.SECRETARIAT)
    household("P3KE-A")
    job = upload_and_run(secretariat, program, xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""]]))
    assert job.summary["interventions"]["created"] == 1


def test_job_scoping_opd_sees_own_program_uploads_only(officer, program, tmp_path):
    household("P3KE-A")
    job = upload_and_run(officer, program, xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""]]))
    assert list(ImportJob.objects.for_user(officer)) == [job]
    assert not ImportJob.objects.for_user(f.user_with_role(Role.OPD_OFFICER)).exists()
    assert not ImportJob.objects.for_user(f.user_with_role(Role.LEADERSHIP)).exists()
    assert ImportJob.objects.for_user(f.user_with_role(Role.SECRETARIAT)).filter(pk=job.pk).exists()
    # The registry import pages never list intervention uploads.
    assert not jobs.import_job_list(user=f.user_with_role(Role.SECRETARIAT)).filter(pk=job.pk).exists()


@pytest.mark.postgres
def test_history_events_are_written_set_based(officer, program, tmp_path):
    from programs.models import InterventionEvent  # type: ignore[attr-defined]

    household("P3KE-A")
    household("P3KE-B")
    path = xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""], ["P3KE-B", "", DAY, 1, 1, "", ""]])
    job = upload_and_run(officer, program, path)
    ids = set(Intervention.objects.filter(import_job=job).values_list("pk", flat=True))
    events = InterventionEvent.objects.filter(pgh_obj_id__in=ids)
    assert events.count() == 2  # one each: written by the import, the row trigger skipped
    assert set(events.values_list("pgh_label", flat=True)) == {"insert"}
    context = events.first().pgh_context
    assert context is not None and context.metadata.get("import_job") == job.pk
    assert context.metadata.get("user") == officer.pk
    # The triggers are back for ordinary writes afterwards.
    iv = Intervention.objects.filter(import_job=job).first()
    iv.note = "diubah"
    iv.save()
    assert InterventionEvent.objects.filter(pgh_obj_id=iv.pk, pgh_label="update").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('imp_intervention')")
        assert cursor.fetchone()[0] is None  # the staging table is gone with the session's cleanup


def kept_tables(job: ImportJob) -> list[str]:
    with connection.cursor() as cursor:
        names = [f"imp_keep_{job.pk}", f"imp_keep_{job.pk}_issue"]
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) ORDER BY 1", [names])
        return [name for (name,) in cursor.fetchall()]


def previewed(officer: Any, program: Any, path: Path) -> ImportJob:
    job = importing.intervention_job_create(actor=officer, program=program, upload=path)
    jobs.import_job_preview(job=job)
    return jobs.import_job_confirm(job=job, accept_duplicate=True, send=False)


@pytest.mark.postgres
def test_the_run_checks_the_rows_the_preview_staged_again_without_reading_the_file(officer, program, bad_file):
    path, found = bad_file
    job = previewed(officer, program, path)
    assert kept_tables(job) == [f"imp_keep_{job.pk}", f"imp_keep_{job.pk}_issue"]
    # Recorded by someone else between the preview and the run: the run's checks see it.
    f.InterventionFactory(program=program, household=found["a"], entered_by=officer)
    Path(job.files.get().file.path).write_bytes(b"not a spreadsheet any more")  # the run must not read it
    finished = jobs.import_job_execute(job_id=job.pk)
    assert finished is not None and finished.status == ImportStatus.SUCCEEDED, finished.message
    codes = errors(finished)
    assert set(codes) == {2, 4, 5, 6, 7, 8}
    assert (codes[2], codes[4], codes[6], codes[7]) == (
        ["duplicate"], ["household_unknown"], ["nik_unknown"], ["negative_value"]
    )  # fmt: skip
    assert codes[5][0].startswith("nik")  # the parser's issue, kept from the preview
    assert set(Intervention.objects.filter(import_job=finished).values_list("household_id", flat=True)) == {
        found["b"].pk
    }
    assert kept_tables(job) == []  # taken by the run


@pytest.mark.postgres
def test_the_run_reads_the_file_when_the_kept_rows_are_lost(officer, program, bad_file):
    path, found = bad_file
    job = previewed(officer, program, path)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE imp_keep_{job.pk}")  # what a crash does to an UNLOGGED table
    finished = jobs.import_job_execute(job_id=job.pk)
    assert finished is not None and finished.status == ImportStatus.SUCCEEDED, finished.message
    assert set(errors(finished)) == {4, 5, 6, 7, 8}
    created = set(Intervention.objects.filter(import_job=finished).values_list("household_id", flat=True))
    assert created == {found["a"].pk, found["b"].pk}
    assert kept_tables(job) == []


@pytest.mark.postgres
def test_kept_rows_of_jobs_that_will_not_run_are_dropped_by_the_next_preview(officer, program, bad_file):
    path, _found = bad_file
    waiting = previewed(officer, program, path)
    cancelled = previewed(officer, program, path)
    jobs.import_job_cancel(job=cancelled)
    assert kept_tables(cancelled) != []
    later = previewed(officer, program, path)
    assert kept_tables(cancelled) == []
    assert kept_tables(waiting) != [] and kept_tables(later) != []


def test_csv_upload_with_indonesian_numbers(officer, program, tmp_path):
    household("P3KE-A")
    path = tmp_path / "penyaluran.csv"
    path.write_text(
        "ID Keluarga P3KE;Tanggal Penyaluran;Nilai (Rp);Jumlah;Status\n"
        f"P3KE-A;{DAY.strftime('%d-%m-%Y')};Rp 1.500.000;2,5;Direncanakan\n",
        encoding="utf-8",
    )
    job = upload_and_run(officer, program, path)
    iv = Intervention.objects.get(import_job=job)
    assert (iv.value, iv.quantity, iv.status) == (Decimal(1_500_000), Decimal("2.5"), InterventionStatus.PLANNED)


# ------------------------------------------------------------------------------------------------- template


def test_prefilled_template_lists_eligible_households_and_round_trips(officer, tmp_path):
    program = f.ProgramFactory(organization=officer.test_organization, max_desil=2)
    ok = household("P3KE-OK", desil=1)
    household("P3KE-RICH", desil=4)  # above the program's desil
    household("P3KE-MOVED", desil=1, status=HouseholdStatus.MOVED)
    household("P3KE-OTHER", desa=KEDITEN, desil=1)  # another desa
    rows = importing.eligible_households(user=officer, program=program, desa_codes=[BLUMAH])
    buffer = io.BytesIO()
    written = importing.template_write(program=program, target=buffer, rows=rows)
    assert written == [ok.pk]
    sheet = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:2] == ["ID Keluarga P3KE", "NIK"]
    assert values[1][0] == "P3KE-OK" and values[1][1] is None  # NIK never pre-filled
    assert values[1][2] == ok.head_name
    # Filled offline and uploaded back.
    path = tmp_path / "terisi.xlsx"
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    workbook.worksheets[0]["E2"] = DAY
    workbook.save(path)
    job = upload_and_run(officer, program, path)
    assert job.summary["interventions"]["created"] == 1
    assert job.preview["delivery"]["unmatched"] == []


def test_template_download_view_logs_the_personal_data_export(client, officer):
    program = f.ProgramFactory(organization=officer.test_organization)
    household("P3KE-OK", desil=1)
    client.force_login(officer)
    url = reverse("program_imports:template", args=[program.pk])
    blank = client.get(url)
    assert blank.status_code == 200
    assert not PersonalDataAccess.objects.exists()  # a blank template holds no personal data
    filled = client.get(url, {"desa": BLUMAH})
    assert filled.status_code == 200
    assert filled["Content-Disposition"].endswith('-terisi.xlsx"')
    log = PersonalDataAccess.objects.get()
    assert log.user == officer and len(log.object_ids) == 1


# ---------------------------------------------------------------------------------------------------- pages


def test_upload_page_preview_confirm_and_result(client, officer, program, bad_file, django_assert_max_num_queries):
    path, _hh = bad_file
    client.force_login(officer)
    page = client.get(reverse("program_imports:upload", args=[program.pk]))
    assert page.status_code == 200
    with path.open("rb") as handle:
        response = client.post(reverse("program_imports:upload", args=[program.pk]), {"file": handle})
    assert response.status_code == 302
    job = ImportJob.objects.get(kind=ImportKind.INTERVENTIONS)
    detail = reverse("program_imports:job-detail", args=[job.pk])
    assert response["Location"] == detail
    if jobs.preview_pending(job):  # queued for a worker at commit (a test transaction never commits)
        assert "Pratinjau sedang disiapkan" in client.get(detail).content.decode()
        jobs.import_job_preview_execute(job_id=job.pk)
    preview = client.get(detail)
    assert preview.status_code == 200
    assert "ID Keluarga P3KE P3KE-UNKNOWN tidak ditemukan" in preview.content.decode()
    response = client.post(reverse("program_imports:job-confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    if job.status == ImportStatus.QUEUED:  # a broker is configured: run it here
        jobs.import_job_execute(job_id=job.pk)
    with django_assert_max_num_queries(20):
        result = client.get(detail)
    body = result.content.decode()
    assert "Nilai tidak boleh negatif." in body
    assert 'data-testid="result-created">2<' in body.replace(" ", "")
    assert client.get(reverse("program_imports:job-errors", args=[job.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        history = client.get(reverse("program_imports:upload", args=[program.pk]))
    assert f"#{job.pk}" in history.content.decode()


def test_pages_refuse_leadership_and_hide_other_organizations_jobs(client, officer, program, tmp_path):
    household("P3KE-A")
    job = upload_and_run(officer, program, xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""]]))
    client.force_login(f.user_with_role(Role.LEADERSHIP))
    assert client.get(reverse("program_imports:upload", args=[program.pk])).status_code == 403
    assert client.get(reverse("program_imports:job-detail", args=[job.pk])).status_code == 403
    client.force_login(f.user_with_role(Role.OPD_OFFICER))
    assert client.get(reverse("program_imports:upload", args=[program.pk])).status_code == 404
    assert client.get(reverse("program_imports:job-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("program_imports:template", args=[program.pk])).status_code == 404


# ------------------------------------------------------------------------------------------------------ CLI


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_interventions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_cli_prints_the_counts_as_json_on_the_last_line(officer, program, bad_file):
    path, _hh = bad_file
    out, _err = command("--program", program.code, "--user", officer.username, str(path))
    assert json.loads(out.strip().splitlines()[-1]) == {"created": 2, "duplicates": 0, "rejected": 5}
    out, _err = command("--program", program.code, "--year", str(YEAR), "--user", officer.username, str(path))
    assert json.loads(out.strip().splitlines()[-1]) == {"created": 0, "duplicates": 2, "rejected": 5}


def test_cli_all_or_nothing_and_dry_run(officer, program, bad_file):
    path, _hh = bad_file
    out, _err = command("--program", program.code, "--user", officer.username, "--all-or-nothing", str(path))
    assert json.loads(out.strip().splitlines()[-1]) == {"created": 0, "duplicates": 0, "rejected": 5}
    out, _err = command("--program", program.code, "--user", officer.username, "--dry-run", str(path))
    assert json.loads(out.strip().splitlines()[-1]) == {"created": 2, "duplicates": 0, "rejected": 5}
    assert Intervention.objects.count() == 0


def test_cli_defaults_to_the_only_superuser_and_refuses_bad_arguments(program, tmp_path):
    household("P3KE-A")
    path = xlsx(tmp_path, [["P3KE-A", "", DAY, 1, 1, "", ""]])
    with pytest.raises(CommandError, match="--user"):
        command("--program", program.code, str(path))
    f.UserFactory(is_superuser=True, is_staff=True)
    out, _err = command("--program", program.code, str(path))
    assert json.loads(out.strip().splitlines()[-1])["created"] == 1
    with pytest.raises(CommandError, match="tidak ada"):
        command("--program", "tidak-ada", str(path))
    with pytest.raises(CommandError, match="tidak ditemukan"):
        command("--program", program.code, str(tmp_path / "hilang.xlsx"))
    with pytest.raises(CommandError, match="tidak dapat"):
        command("--program", program.code, "--user", f.user_with_role(Role.LEADERSHIP).username, str(path))
