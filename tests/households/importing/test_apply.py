"""The apply step in detail: values that must survive COPY, links refreshed without touching records, scoping of
the missing flag, set-based history events, progress batching, and a killed worker (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from households import choices
from households.importing import apply, engine, stage
from households.models import Household, HouseholdSourceLink, ImportFile, ImportJob, Person, PersonSourceLink, Snapshot
from tests.factories import HouseholdFactory, HouseholdSourceLinkFactory, SnapshotFactory, load_region
from tests.factories import source as source_row

from .engine_support import (
    BLUMAH,
    KENDAL,
    Row,
    family,
    kendal_fixture,  # noqa: F401 - fixture
    make_job,
    nik,
    person,
    registry_counts,
    secretariat_fixture,  # noqa: F401 - fixture
    small_p3ke,
    stand_in_parser_fixture,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stand_in_parser")]
REAL_PARSER = engine.parse_file

AWKWARD = [
    "TAB\tDI TENGAH",
    "BARIS\nBARU",
    "GARIS \\ MIRING \\N",
    "KUTIP \"GANDA\" DAN 'TUNGGAL'",
    "None",
    "\x01",
    "KOMA, TITIK; DAN | PIPA",
    "ÉÑÇ Ünïcödé 😀",
]


def test_awkward_values_survive_staging(secretariat: Any) -> None:
    rows = [family(f"W{i}", head=value, address=value, dusun=value[:100]) for i, value in enumerate(AWKWARD)]
    engine.run(job=make_job(secretariat, {"family": rows}))
    for i, value in enumerate(AWKWARD):
        link = HouseholdSourceLink.objects.get(external_id=f"W{i}")
        assert (link.household.head_name, link.household.address, link.household.dusun) == (value, value, value)
        assert link.raw["Nama Kepala Keluarga"] == value


def test_only_a_valid_nik_is_stored(secretariat: Any) -> None:
    odd = person("F1", "F1-09", "GANJIL", nik_status=choices.NikStatus.INVALID, nik_note="NIK tidak sah.")
    odd.values["nik"] = nik(77)  # a parser that let the number through: the engine still keeps it out
    files = small_p3ke()
    files["person"].append(odd)
    engine.run(job=make_job(secretariat, files))
    stored = PersonSourceLink.objects.get(external_id="F1-09").person
    assert (stored.nik, stored.nik_status, stored.nik_note) == (None, choices.NikStatus.INVALID, "NIK tidak sah.")


def test_new_snapshot_with_identical_rows_refreshes_links_only(secretariat: Any) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    before = {h.pk: h.updated_at for h in Household.objects.all()}

    summary = engine.run(job=make_job(secretariat, small_p3ke(), label="Semester 2 2024"))

    assert (summary.families.unchanged, summary.persons.unchanged) == (3, 7)
    assert {h.pk: h.updated_at for h in Household.objects.all()} == before
    second = Snapshot.objects.get(label="Semester 2 2024")
    links = HouseholdSourceLink.objects.all()
    assert {link.snapshot_id for link in links} == {second.pk}
    assert {link.first_seen.label for link in links} == {"Semester 1 2024"}
    assert set(PersonSourceLink.objects.values_list("snapshot_id", flat=True)) == {second.pk}


def test_missing_flag_stays_inside_the_job_region(secretariat: Any) -> None:
    load_region("64.02")
    elsewhere = HouseholdSourceLinkFactory(
        household=HouseholdFactory(desa_id="6402012001"), external_id="KUKAR-1", snapshot=SnapshotFactory()
    )
    other_source = HouseholdSourceLinkFactory(
        household=HouseholdFactory(), external_id="DTKS-1", snapshot=SnapshotFactory(source_id="dtks")
    )
    engine.run(job=make_job(secretariat, small_p3ke()))
    summary = engine.run(job=make_job(secretariat, {"family": [family("F1")]}, label="Semester 2 2024"))
    assert summary.families.missing == 2  # F2 and F3, not the Kutai family nor the DTKS link
    elsewhere.refresh_from_db()
    other_source.refresh_from_db()
    assert elsewhere.is_present and other_source.is_present


def test_progress_is_reported_per_batch(secretariat: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stage, "BATCH_ROWS", 3)
    calls: list[tuple[int, int]] = []
    engine.run(job=make_job(secretariat, small_p3ke()), progress=lambda done, total: calls.append((done, total)))
    # 3 family rows (one batch), then 7 person rows (batches of 3, 3 and 1).
    assert [done for done, _ in calls] == [3, 6, 9, 10]
    assert all(total >= done for done, total in calls)


def test_default_columns_cover_every_required_column() -> None:
    now = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
    written = ["id", "desa_id", "province_code", "kabupaten_code", "kecamatan_code", "head_name"]
    defaults = dict(apply.default_columns(Household, written, now))
    assert defaults["status"] == choices.HouseholdStatus.ACTIVE
    assert defaults["created_at"] == defaults["updated_at"] == now
    assert defaults["is_demo"] is False and defaults["desil"] is None and defaults["address"] == ""
    assert not set(written) & set(defaults)


def test_rows_written_per_file_kind_and_issue_order(secretariat: Any) -> None:
    job = make_job(
        secretariat,
        {
            "family": [family("R1"), Row({**family("R2").values, "region_code": "3324999999"})],
            "person": [person("R1", "R1-01", "A", nik=nik(31)), person("R2", "R2-01", "B", nik=nik(32))],
        },
    )
    summary = engine.run(job=job)
    assert (summary.families.created, summary.families.rejected) == (1, 1)
    assert (summary.persons.created, summary.persons.rejected) == (1, 1)
    assert list(job.row_errors.order_by("id").values_list("file", "row_number", "code")) == [
        ("family", 3, "region_unknown"),
        ("person", 3, "family_rejected"),
    ]


# --------------------------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_set_based_history_events_are_the_rows(secretariat: Any) -> None:
    from django.apps import apps

    household_event = apps.get_model("households", "HouseholdEvent")
    person_event = apps.get_model("households", "PersonEvent")
    job = make_job(secretariat, small_p3ke())
    engine.run(job=job)
    tracked = [f.attname for f in Household._meta.concrete_fields]
    for household in Household.objects.all():
        event = household_event.objects.get(pgh_obj_id=household.pk)  # exactly one: no trigger event besides
        assert event.pgh_label == "insert"
        assert [getattr(event, name) for name in tracked] == [getattr(household, name) for name in tracked]
    assert person_event.objects.filter(pgh_label="insert").count() == Person.objects.count()

    # Outside the import the triggers still work (the ignore setting was local to the import's transaction).
    household = Household.objects.first()
    assert household is not None
    household.head_name = "DIUBAH MANUAL"
    household.save()
    assert household_event.objects.filter(pgh_obj_id=household.pk, pgh_label="update").count() == 1


def _settings_now() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role'), current_setting('pgtrigger.ignore', true)")
        role, ignored = cursor.fetchone()
    return str(role), str(ignored or "{}")  # unset and empty both mean: nothing ignored


def _references_hold() -> dict[str, int]:
    """Rows whose foreign key points nowhere, per reference the apply writes (all must be 0)."""
    checks = {
        "household.desa": "households_household h LEFT JOIN tkpk_region r ON r.code = h.desa_id WHERE r.code IS NULL",
        "person.household": (
            "households_person p LEFT JOIN households_household h ON h.id = p.household_id WHERE h.id IS NULL"
        ),
        "household_link.household": (
            "households_householdsourcelink l LEFT JOIN households_household h ON h.id = l.household_id "
            "WHERE h.id IS NULL"
        ),
        "person_link.person": (
            "households_personsourcelink l LEFT JOIN households_person p ON p.id = l.person_id WHERE p.id IS NULL"
        ),
        "person_link.snapshot": (
            "households_personsourcelink l LEFT JOIN households_snapshot s ON s.id = l.snapshot_id "
            "AND s.id = l.first_seen_id WHERE s.id IS NULL"
        ),
    }
    found = {}
    with connection.cursor() as cursor:
        for name, query in checks.items():
            cursor.execute(f"SELECT count(*) FROM {query}")
            found[name] = cursor.fetchone()[0]
    return found


@pytest.mark.postgres
def test_bulk_writes_skip_row_triggers_when_allowed_and_restore_the_settings(secretariat: Any) -> None:
    before = _settings_now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        settings = apply.pg_begin_bulk_writes(cursor)
        assert settings.row_triggers_skipped is superuser
        assert _settings_now()[0] == ("replica" if superuser else "origin")
        apply.pg_end_bulk_writes(cursor, settings)
    assert _settings_now() == before

    engine.run(job=make_job(secretariat, small_p3ke()))
    assert _settings_now() == before
    assert set(_references_hold().values()) == {0}


@pytest.mark.postgres
def test_a_role_that_may_not_skip_triggers_imports_the_same(secretariat: Any) -> None:
    """Without the right to set session_replication_role the apply checks foreign keys row by row: the run
    still succeeds (the refused SET does not abort its transaction) and writes the same registry."""
    role = f"tkpk_import_test_{os.getpid()}"  # rolled back with the test's transaction
    job = make_job(secretariat, small_p3ke())
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOSUPERUSER NOLOGIN")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO {role}")
        cursor.execute(f"SET ROLE {role}")
        try:
            settings = apply.pg_begin_bulk_writes(cursor)
            assert not settings.row_triggers_skipped
            apply.pg_end_bulk_writes(cursor, settings)
            summary = engine.run(job=job)
            cursor.execute("SELECT current_setting('session_replication_role')")
            assert cursor.fetchone()[0] == "origin"
        finally:
            cursor.execute("RESET ROLE")
    assert summary.families.created == 3 and summary.persons.created == 7
    assert registry_counts()["persons"] == 7
    assert set(_references_hold().values()) == {0}


@pytest.mark.postgres
def test_staging_tables_are_gone_after_the_run(secretariat: Any) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'imp\\_%%' AND relpersistence = 't'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0


KILL_SCRIPT = """
import os, sys, time
import django
django.setup()
from households.importing import apply, engine
from households.models import ImportJob

persons = apply.pg_apply_persons

def slow_persons(*args, **kwargs):
    persons(*args, **kwargs)  # households and persons are written by now, in the open transaction
    open(sys.argv[2], "w").close()
    time.sleep(120)

apply.pg_apply_persons = slow_persons
engine.run(job=ImportJob.objects.get(pk=int(sys.argv[1])))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sigkill_of_the_worker_leaves_the_registry_as_before(
    secretariat: Any, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real worker process, killed with SIGKILL in the middle of the apply: nothing of the run remains."""
    from households.importing.synthetic import p3ke_files_write

    monkeypatch.setattr(engine, "parse_file", REAL_PARSER)
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    files = p3ke_files_write(directory=media / "imports", families=40, seed=5, formats=("csv",))
    source_row("p3ke")
    job = ImportJob.objects.create(
        source_id="p3ke",
        region_id=KENDAL,
        snapshot_label="Dibunuh",
        snapshot_date=dt.date(2024, 6, 30),
        created_by=secretariat,
    )
    for kind, paths in (("family", files.family), ("person", files.person)):
        name = paths["csv"].name
        ImportFile.objects.create(job=job, kind=kind, file=f"imports/{name}", original_name=name, sha256="0" * 64)
    before = registry_counts()

    db = django_settings.DATABASES["default"]
    auth = quote(str(db.get("USER") or ""), safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(str(db["PASSWORD"]), safe="")
    url = f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    marker = tmp_path / "in-apply"
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media), "DJANGO_SETTINGS_MODULE": "tkpk.settings"}
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(job.pk), str(marker)],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the worker never reached the apply"
            time.sleep(0.1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM households_household")  # the open transaction is invisible
            assert cursor.fetchone()[0] == before["households"]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    # The server notices the dead client and rolls its transaction back.
    with connection.cursor() as cursor:
        deadline = time.monotonic() + 30
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state <> 'idle' AND query ILIKE '%%households%%'"
            )
            if cursor.fetchone()[0] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert registry_counts() == before
    job.refresh_from_db()
    assert job.snapshot_id is None

    summary = engine.run(job=job)  # the rerun (a new worker) completes without duplicates
    assert summary.families.created == files.families
    assert Household.objects.count() == before["households"] + files.families
    assert PersonSourceLink.objects.count() == before["person_links"] + files.persons


@pytest.mark.django_db(transaction=True)
def test_a_file_fault_in_the_middle_of_the_rows_fails_cleanly(
    secretariat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault the parser meets mid-file (a corrupt sheet) surfaces as itself, with nothing written."""
    from households.importing.types import ImportFileError

    from .engine_support import fake_parse

    def broken(path: Any, kind: str) -> Any:
        parsed = fake_parse(path, kind)
        good = parsed.rows

        def rows() -> Any:
            yield from itertools.islice(good, 2)
            raise ImportFileError("Berkas rusak di tengah.", code="file_corrupt")

        parsed.rows = rows()
        return parsed

    before = registry_counts()
    monkeypatch.setattr(engine, "parse_file", broken)
    with pytest.raises(ImportFileError):
        engine.run(job=make_job(secretariat, small_p3ke()))
    assert registry_counts() == before
    monkeypatch.setattr(engine, "parse_file", fake_parse)
    summary = engine.run(job=make_job(secretariat, small_p3ke()))  # the same connection goes on working
    assert summary.persons.created == 7


def test_an_older_export_without_optional_columns_leaves_them_alone(secretariat: Any) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    old_export = [Row({"id_keluarga": "F1", "region_code": BLUMAH, "head_name": "SLAMET RIYADI"})]
    summary = engine.run(job=make_job(secretariat, {"family": old_export}, label="Ekspor lama"))
    household = HouseholdSourceLink.objects.get(external_id="F1").household
    # No desil, address or code-list columns in this file: the registry keeps what it had.
    assert (household.desil, household.receives_pkh, household.address) == (1, True, "DK. KRAJAN RT 001 RW 002")
    assert (summary.families.unchanged, summary.families.missing) == (1, 2)
    assert HouseholdSourceLink.objects.get(external_id="F1").desil is None  # this snapshot gave no desil
