"""Re-running files already in the registry (households/importing/rerun.py) and the deferred index builds
of a region's first load (apply.pg_defer_indexes): both PostgreSQL-only speed paths must give exactly the
result of the plain path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from households.importing import apply, jobs, rerun
from households.models import (
    Household,
    HouseholdSourceLink,
    ImportFile,
    ImportJob,
    ImportStatus,
    Person,
    PersonSourceLink,
    RowError,
)
from tests.factories import load_kendal
from tests.households.importing.jobs_support import SNAPSHOT_DATE, kendal, messy_files, p3ke_paths, secretariat

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _regions(settings: Any, tmp_path: Path) -> None:
    load_kendal()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_SKIP_IDENTICAL_RERUN = True


@pytest.fixture
def user() -> Any:
    return secretariat()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return messy_files(tmp_path_factory.mktemp("p3ke"), families=40, seed=5)


@pytest.fixture(scope="module")
def other_files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return messy_files(tmp_path_factory.mktemp("p3ke_other"), families=40, seed=6)


def run(user: Any, synthetic: Any, *, label: str = "P3KE 2024 S1", dry_run: bool = False) -> ImportJob:
    job = jobs.import_job_create(
        actor=user,
        source="p3ke",
        files=p3ke_paths(synthetic),
        snapshot_label=label,
        snapshot_date=SNAPSHOT_DATE,
        region=kendal(),
        dry_run=dry_run,
    )
    job = jobs.import_job_preview(job=job)
    job = jobs.import_job_confirm(job=job, send=False, accept_duplicate=True)
    done = jobs.import_job_execute(job_id=job.pk)
    assert done is not None and done.status == ImportStatus.SUCCEEDED, done and done.message
    return done


def registry_state() -> dict[str, Any]:
    """Everything the registry holds and its history, to compare before and after a run."""
    return {
        "households": sorted(Household.objects.values_list("pk", "updated_at", "desil", "status")),
        "persons": sorted(Person.objects.values_list("pk", "updated_at", "nik", "name")),
        "household_links": sorted(HouseholdSourceLink.objects.values_list("pk", "snapshot_id", "is_present")),
        "person_links": sorted(PersonSourceLink.objects.values_list("pk", "snapshot_id", "is_present")),
        "events": [apps.get_model("households", m).objects.count() for m in ("HouseholdEvent", "PersonEvent")],
    }


def row_errors(job: ImportJob) -> list[tuple[Any, ...]]:
    fields = ("file", "row_number", "column", "value", "code", "message", "severity")
    return list(RowError.objects.filter(job=job).order_by("file", "row_number", "column", "code").values_list(*fields))


def test_the_same_files_again_repeat_the_result_without_writing(user: Any, files: Any) -> None:
    first = run(user, files)
    assert first.summary["families"]["created"] > 0 and first.error_count > 0  # messy files: rows rejected
    before = registry_state()

    again = run(user, files)

    assert again.summary["rerun_of"] == first.pk
    assert registry_state() == before  # not one row or history event written
    for kind in ("families", "persons"):
        was, now = first.summary[kind], again.summary[kind]
        assert now["created"] == now["updated"] == 0
        assert now["unchanged"] == was["created"] + was["updated"] + was["unchanged"]
        assert (now["rejected"], now["warnings"]) == (was["rejected"], was["warnings"])
    assert row_errors(again) == row_errors(first)
    assert (again.error_count, again.warning_count, again.snapshot_id) == (
        first.error_count,
        first.warning_count,
        first.snapshot_id,
    )
    mappings = {f.kind: (f.header_row, f.mapping) for f in ImportFile.objects.filter(job=first)}
    assert {f.kind: (f.header_row, f.mapping) for f in ImportFile.objects.filter(job=again)} == mappings
    assert again.rows_done == again.rows_total == first.rows_total

    # A third run repeats the second just as well (its history mark is the same).
    assert run(user, files).summary["rerun_of"] == again.pk


def test_the_shortcut_gives_what_the_full_re_check_gives(user: Any, files: Any, settings: Any) -> None:
    run(user, files)
    shortcut = run(user, files)
    settings.IMPORT_SKIP_IDENTICAL_RERUN = False
    full = run(user, files)
    assert full.summary["rerun_of"] is None
    for kind in ("families", "persons"):
        assert {k: shortcut.summary[kind][k] for k in ("created", "updated", "unchanged", "rejected", "warnings")} == {
            k: full.summary[kind][k] for k in ("created", "updated", "unchanged", "rejected", "warnings")
        }
    assert row_errors(shortcut) == row_errors(full)


def test_a_household_edited_since_makes_it_read_everything_again(user: Any, files: Any) -> None:
    run(user, files)
    household = Household.objects.order_by("pk").first()
    assert household is not None
    household.head_name = "DIUBAH PETUGAS"
    household.save()
    again = run(user, files)
    assert again.summary["rerun_of"] is None
    assert again.summary["families"]["updated"] == 1  # the import puts the file's value back
    household.refresh_from_db()
    assert household.head_name != "DIUBAH PETUGAS"


def test_a_link_deleted_since_makes_it_read_everything_again(user: Any, files: Any) -> None:
    run(user, files)
    link = PersonSourceLink.objects.order_by("pk").first()
    assert link is not None
    link.delete()  # links keep no history: their count is part of the mark
    again = run(user, files)
    assert again.summary["rerun_of"] is None
    assert PersonSourceLink.objects.filter(source_id="p3ke", external_id=link.external_id).exists()


def test_other_files_a_new_snapshot_or_a_dry_run_are_never_repeated(
    user: Any, files: Any, other_files: Any, settings: Any
) -> None:
    first = run(user, files)
    assert run(user, files, label="P3KE 2024 S2").summary["rerun_of"] is None  # a new snapshot
    assert run(user, files, label="P3KE 2024 S2").summary["rerun_of"] is not None
    assert run(user, files, label="P3KE 2024 S1").summary["rerun_of"] is None  # not the latest import any more
    assert run(user, other_files, label="P3KE 2024 S1").summary["rerun_of"] is None  # other files
    dry = run(user, other_files, label="P3KE 2024 S1", dry_run=True)
    assert dry.summary["rerun_of"] is None and dry.summary["dry_run"] is True
    settings.IMPORT_SKIP_IDENTICAL_RERUN = False
    assert run(user, other_files, label="P3KE 2024 S1").summary["rerun_of"] is None
    assert first.summary["rerun_of"] is None


def test_an_engine_change_is_never_repeated(user: Any, files: Any) -> None:
    first = run(user, files)
    summary = dict(first.summary, engine="0" * 16)  # as if imported by another version of the engine
    ImportJob.objects.filter(pk=first.pk).update(summary=summary)
    assert run(user, files).summary["rerun_of"] is None
    assert rerun.engine_fingerprint() != "0" * 16


# ------------------------------------------------------------------------------------------ deferred indexes


def _secondary_indexes() -> dict[str, str]:
    tables = [m._meta.db_table for m in (Household, Person, HouseholdSourceLink, PersonSourceLink)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY indexname", [tables]
        )
        return dict(cursor.fetchall())


def test_a_first_load_drops_the_secondary_indexes_and_builds_them_again(
    user: Any, files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _secondary_indexes()
    rebuilt: list[str] = []
    original = apply.DeferredIndexes.rebuild

    def recording(self: apply.DeferredIndexes, cursor: Any) -> None:
        rebuilt.extend(self.definitions)
        original(self, cursor)

    monkeypatch.setattr(apply, "BULK_INDEX_MIN_ROWS", 1)
    monkeypatch.setattr(apply.DeferredIndexes, "rebuild", recording)
    job = run(user, files)

    assert rebuilt, "a load onto empty tables defers their secondary indexes"
    assert not any("UNIQUE" in definition or "_pkey" in definition for definition in rebuilt)
    assert _secondary_indexes() == before
    assert Household.objects.count() == job.summary["families"]["created"]

    rebuilt.clear()
    run(user, files, label="P3KE 2024 S2")  # the tables now hold as many rows as the file: indexes stay
    assert rebuilt == []


def test_a_failed_first_load_leaves_the_indexes_as_they_were(
    user: Any, files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _secondary_indexes()
    monkeypatch.setattr(apply, "BULK_INDEX_MIN_ROWS", 1)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise apply.ApplyError("uji: gagal setelah indeks dilepas")

    monkeypatch.setattr(apply, "pg_flag_missing", broken)
    job = jobs.import_job_create(
        actor=user,
        source="p3ke",
        files=p3ke_paths(files),
        snapshot_label="P3KE 2024 S1",
        snapshot_date=SNAPSHOT_DATE,
        region=kendal(),
    )
    job = jobs.import_job_confirm(job=jobs.import_job_preview(job=job), send=False, accept_duplicate=True)
    failed = jobs.import_job_execute(job_id=job.pk)
    assert failed is not None and failed.status == ImportStatus.FAILED
    assert "gagal setelah indeks dilepas" in failed.message
    assert _secondary_indexes() == before
    assert Household.objects.count() == Person.objects.count() == 0
