"""engine.run / engine.preview for P3KE: counts, idempotency, re-import, every rule's message, nothing partial,
dry run, history. Runs on SQLite and PostgreSQL (the PostgreSQL-only parts are marked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from households import choices
from households.importing import apply, engine
from households.importing.types import CellIssue, ImportFileError
from households.models import (
    Household,
    HouseholdSourceLink,
    ImportJob,
    Person,
    PersonSourceLink,
    RowError,
    Snapshot,
)
from tests.factories import HouseholdFactory, HouseholdSourceLinkFactory, PersonFactory, SnapshotFactory

from .engine_support import (
    BLUMAH,
    KEDITEN,
    KENDAL,
    Row,
    errors,
    family,
    kendal_fixture,  # noqa: F401 - fixture
    make_job,
    nik,
    person,
    registry_counts,
    registry_dump,
    secretariat_fixture,  # noqa: F401 - fixture
    small_p3ke,
    stand_in_parser_fixture,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stand_in_parser")]
REAL_PARSER = engine.parse_file


def counts(summary: Any, part: str) -> dict[str, int]:
    c = getattr(summary, part)
    return {**c.as_dict(), "missing": c.missing}


# ---------------------------------------------------------------------------------------------------- basics


def test_small_import_counts_and_registry(secretariat: Any) -> None:
    job = make_job(secretariat, small_p3ke())
    progress: list[tuple[int, int]] = []

    summary = engine.run(job=job, progress=lambda done, total: progress.append((done, total)))

    assert counts(summary, "families") == {
        "created": 3, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 0, "missing": 0,
    }  # fmt: skip
    assert counts(summary, "persons") == {
        "created": 7, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 1, "missing": 0,
    }  # fmt: skip
    assert summary.rows_read == 10
    assert progress and progress[-1] == (10, 10)

    f2 = HouseholdSourceLink.objects.get(source="p3ke", external_id="F2")
    household = f2.household
    assert (household.head_name, household.desa_id, household.desil) == ("SITI AMINAH", KEDITEN, 2)
    assert (household.province_code, household.kabupaten_code, household.kecamatan_code) == ("33", "3324", "332401")
    assert household.receives_pkh is True and household.house_ownership == choices.HouseOwnership.OWN
    assert f2.desil == 2 and f2.is_present and f2.row_number == 3
    assert f2.raw["ID Keluarga P3KE"] == "F2"
    job.refresh_from_db()
    assert f2.snapshot_id == f2.first_seen_id == job.snapshot_id
    snapshot = Snapshot.objects.get(pk=job.snapshot_id)
    assert (snapshot.source_id, snapshot.label, snapshot.region_id) == ("p3ke", "Semester 1 2024", KENDAL)
    # The head of family is not a person of its own: the person file carries the persons.
    assert household.members.count() == 2

    excel = PersonSourceLink.objects.get(external_id="F2-01").person
    assert excel.nik is None and excel.nik_status == choices.NikStatus.NEEDS_VERIFICATION
    assert excel.nik_note == "NIK tersimpan sebagai angka Excel; perlu verifikasi"
    assert PersonSourceLink.objects.get(external_id="F1-01").person.nik == nik(1)
    assert errors(job) == [("person", 4, "nik_empty", "warning", "NIK kosong.")]
    assert (job.error_count, job.warning_count) == (0, 1)


def test_same_files_twice_is_identical_and_all_unchanged(secretariat: Any) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    before = registry_dump()

    summary = engine.run(job=make_job(secretariat, small_p3ke()))

    assert registry_dump() == before
    assert counts(summary, "families") == {
        "created": 0, "updated": 0, "unchanged": 3, "rejected": 0, "warnings": 0, "missing": 0,
    }  # fmt: skip
    assert counts(summary, "persons") == {
        "created": 0, "updated": 0, "unchanged": 7, "rejected": 0, "warnings": 1, "missing": 0,
    }  # fmt: skip


def test_reimport_of_a_newer_snapshot(secretariat: Any) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    before = registry_counts()
    files = small_p3ke()
    files["family"] = [
        family("F1", head="SLAMET RIYADI", desil=2),  # desil changed
        family("F2", head="SITI AMINAH", desil=2, region=KEDITEN),  # unchanged
        family("F4", head="SUPARMAN", desil=1),  # new
    ]  # F3 is gone
    files["person"] = [
        row for row in files["person"] if row.values["id_keluarga"] in ("F1", "F2")
    ]  # F3's persons are gone
    files["person"][2].values["name"] = "AGUS SANTOSO"  # changed
    files["person"].append(person("F4", "F4-01", "SUPARMAN", nik=nik(9)))  # new

    summary = engine.run(job=make_job(secretariat, files, label="Semester 2 2024"))

    assert counts(summary, "families") == {
        "created": 1, "updated": 1, "unchanged": 1, "rejected": 0, "warnings": 0, "missing": 1,
    }  # fmt: skip
    assert counts(summary, "persons") == {
        "created": 1, "updated": 1, "unchanged": 4, "rejected": 0, "warnings": 1, "missing": 2,
    }  # fmt: skip
    after = registry_counts()
    assert after["households"] == before["households"] + 1  # nothing deleted
    assert after["persons"] == before["persons"] + 1
    gone = HouseholdSourceLink.objects.get(external_id="F3")
    assert gone.is_present is False and gone.household.members.count() == 2
    assert set(PersonSourceLink.objects.filter(is_present=False).values_list("external_id", flat=True)) == {
        "F3-01",
        "F3-02",
    }
    second = Snapshot.objects.get(label="Semester 2 2024")
    f1 = HouseholdSourceLink.objects.get(external_id="F1")
    assert (f1.snapshot_id, f1.household.desil, f1.desil) == (second.pk, 2, 2)
    assert f1.first_seen.label == "Semester 1 2024"
    assert PersonSourceLink.objects.get(external_id="F1-03").person.name == "AGUS SANTOSO"

    # The family comes back in a later snapshot: present again, nothing duplicated.
    summary = engine.run(job=make_job(secretariat, small_p3ke(), label="Semester 1 2025"))
    assert HouseholdSourceLink.objects.get(external_id="F3").is_present is True
    assert summary.families.missing == 1  # F4 is not in this file
    assert registry_counts()["households"] == after["households"]


# ------------------------------------------------------------------------------------------- set-based rules


def test_family_rules_and_messages(secretariat: Any, kendal: Any) -> None:
    from tests.factories import load_region

    load_region("64.02")
    rows = [
        family("A1"),  # 2
        family("A2", region="3324999999"),  # 3 unknown code
        family("A3", region="6402012001"),  # 4 known, outside Kendal
        family("A1", head="DUPLIKAT"),  # 5 duplicate of row 2
        family("A4", desa_name="DESA LAIN"),  # 6 name disagrees with the code
        family("A5", desa_name="Desa Blumah"),  # 7 same name, other spelling: no warning
        Row({"id_keluarga": "A6", "region_code": BLUMAH, "head_name": None}, [
            CellIssue("Nama Kepala Keluarga", "", "required", "Nama kepala keluarga wajib diisi."),
        ]),  # 8 rejected by the parser
    ]  # fmt: skip
    job = make_job(secretariat, {"family": rows})

    summary = engine.run(job=job)

    assert errors(job) == [
        ("family", 3, "region_unknown", "error",
         "Kode wilayah 33.24.99.9999 tidak ada dalam daftar wilayah yang dimuat."),
        ("family", 4, "region_outside", "error",
         "Kode wilayah 64.02.01.2001 di luar wilayah 33.24 Kabupaten Kendal."),
        ("family", 5, "duplicate_id", "error", "ID Keluarga P3KE A1 ganda: sudah ada di baris 2."),
        ("family", 6, "desa_name_mismatch", "warning",
         "Nama desa/kelurahan “DESA LAIN” tidak sesuai dengan kode 33.24.01.2001 (Blumah)."),
        ("family", 8, "required", "error", "Nama kepala keluarga wajib diisi."),
    ]  # fmt: skip
    assert counts(summary, "families") == {
        "created": 3, "updated": 0, "unchanged": 0, "rejected": 4, "warnings": 1, "missing": 0,
    }  # fmt: skip
    assert summary.rows_read == 7 == 3 + 4
    column = RowError.objects.get(job=job, code="region_unknown")
    assert (column.column, column.value) == ("Kode Kemendagri", "3324999999")
    assert Household.objects.get(source_links__external_id="A1").head_name == "SLAMET RIYADI"


def test_person_rules_and_messages(secretariat: Any, kendal: Any) -> None:
    from tests.factories import load_region

    load_region("64.02")
    outside = HouseholdSourceLinkFactory(
        household=HouseholdFactory(desa_id="6402012001"), external_id="OUT", snapshot=SnapshotFactory()
    )
    registry_person = PersonFactory(nik=nik(50))  # someone else's household
    rows = {
        "family": [family("B1"), family("B2", region="3324999999")],
        "person": [
            person("B1", "B1-01", "SATU", nik=nik(10)),  # 2
            person("B1", "B1-02", "DUA", nik=nik(10)),  # 3 same NIK as row 2: warning, kept
            person("B1", "B1-01", "SATU LAGI"),  # 4 duplicate ID Individu
            person("B2", "B2-01", "TIGA"),  # 5 family row rejected
            person("B9", "B9-01", "EMPAT"),  # 6 family nowhere
            person("OUT", "OUT-01", "LIMA"),  # 7 family in the registry, outside Kendal
            person("B1", "B1-03", "ENAM", nik=nik(50)),  # 8 NIK of a person of another household
        ],
    }
    job = make_job(secretariat, rows)

    summary = engine.run(job=job)

    person_errors = [e for e in errors(job) if e[0] == "person" and e[2] != "nik_empty"]
    assert person_errors == [
        ("person", 3, "nik_duplicate", "warning", "NIK 3324********0010 juga tercantum di baris 2."),
        ("person", 4, "duplicate_id", "error", "ID Individu B1-01 ganda: sudah ada di baris 2."),
        ("person", 5, "family_rejected", "error",
         "Keluarga B2 ditolak di berkas keluarga (baris 3); anggotanya tidak dimuat."),
        ("person", 6, "family_missing", "error", "Keluarga B9 tidak ada di berkas keluarga maupun registri."),
        ("person", 7, "family_outside", "error",
         "Keluarga OUT di registri berada di luar wilayah 33.24 Kabupaten Kendal."),
        ("person", 8, "nik_other_household", "warning",
         "NIK 3324********0050 sudah tercatat pada anggota keluarga lain di registri."),
    ]  # fmt: skip
    assert counts(summary, "persons") == {
        "created": 3, "updated": 0, "unchanged": 0, "rejected": 4, "warnings": 2, "missing": 0,
    }  # fmt: skip
    assert Person.objects.filter(nik=nik(10)).count() == 2
    assert Person.objects.filter(nik=nik(50)).exclude(pk=registry_person.pk).count() == 1
    assert outside.household.members.count() == 0


def test_person_file_alone_uses_registry_families(secretariat: Any) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    summary = engine.run(
        job=make_job(secretariat, {"person": [person("F3", "F3-03", "CUCU", relationship="CUCU")]}, label="Tambahan")
    )
    assert summary.persons.created == 1
    # A file is the complete list of its kind: the 7 persons it lacks are flagged, not deleted.
    assert summary.persons.missing == 7 and Person.objects.count() == 8
    assert HouseholdSourceLink.objects.get(external_id="F3").household.members.count() == 3


def test_long_values_are_cut_with_a_warning(secretariat: Any) -> None:
    job = make_job(secretariat, {"family": [family("L1", rt="0001", address="X" * 400)]})
    summary = engine.run(job=job)
    household = Household.objects.get(source_links__external_id="L1")
    assert (household.rt, len(household.address)) == ("000", 300)
    assert summary.families.warnings == 1
    assert [e[2] for e in errors(job)] == ["value_too_long", "value_too_long"]


# ------------------------------------------------------------------------------------------ nothing partial


def test_failure_in_the_middle_leaves_the_registry_as_before(secretariat: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    before, dump = registry_counts(), registry_dump()
    files = small_p3ke()
    files["family"].append(family("F9", head="BARU"))
    files["person"].append(person("F9", "F9-01", "BARU"))
    job = make_job(secretariat, files, label="Semester 2 2024")

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker died")

    # Households are written by then; persons never are.
    monkeypatch.setattr(apply, "pg_apply_persons", boom)
    monkeypatch.setattr(apply, "orm_apply_persons", boom)
    with pytest.raises(RuntimeError):
        engine.run(job=job)

    assert registry_counts() == before
    assert registry_dump() == dump
    job.refresh_from_db()
    assert job.snapshot_id is None and not RowError.objects.filter(job=job).exists()

    monkeypatch.undo()
    from .engine_support import fake_parse

    monkeypatch.setattr(engine, "parse_file", fake_parse)
    summary = engine.run(job=job)  # the rerun completes, without duplicates
    assert (summary.families.created, summary.persons.created) == (1, 1)
    assert registry_counts()["households"] == before["households"] + 1


def test_file_error_writes_nothing(secretariat: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Any, kind: str) -> Any:
        raise ImportFileError("Baris judul kolom tidak ditemukan.", code="no_header")

    before = registry_counts()
    monkeypatch.setattr(engine, "parse_file", refuse)
    with pytest.raises(ImportFileError):
        engine.run(job=make_job(secretariat, small_p3ke()))
    assert registry_counts() == before


def test_dry_run_writes_nothing_but_counts_like_a_real_run(secretariat: Any) -> None:
    engine.run(job=make_job(secretariat, small_p3ke()))
    files = small_p3ke()
    files["family"][0].values["desil"] = 3
    files["family"].append(family("F5", region="3324999999"))
    before = registry_dump()
    snapshots = Snapshot.objects.count()

    dry_job = make_job(secretariat, files, label="Semester 2 2024", dry_run=True)
    dry = engine.run(job=dry_job)

    assert registry_dump() == before and Snapshot.objects.count() == snapshots
    dry_job.refresh_from_db()
    assert dry_job.snapshot_id is None
    assert [e[2] for e in errors(dry_job)] == ["region_unknown", "nik_empty"]
    assert (dry_job.error_count, dry_job.warning_count) == (1, 1)

    real = engine.run(job=make_job(secretariat, files, label="Semester 2 2024"))
    assert counts(dry, "families") == counts(real, "families")
    assert counts(dry, "persons") == counts(real, "persons")
    assert dry.dry_run and not real.dry_run


# ------------------------------------------------------------------------------------------------- history


@pytest.mark.postgres
def test_history_events_name_the_job_and_user(secretariat: Any) -> None:
    from django.apps import apps

    household_event = apps.get_model("households", "HouseholdEvent")
    person_event = apps.get_model("households", "PersonEvent")
    job = make_job(secretariat, small_p3ke())
    engine.run(job=job)

    events = household_event.objects.filter(pgh_label="insert").select_related("pgh_context")
    assert events.count() == 3
    assert {(e.pgh_context.metadata["import_job"], e.pgh_context.metadata["user"]) for e in events} == {
        (job.pk, secretariat.pk)
    }
    assert person_event.objects.filter(pgh_context__metadata__import_job=job.pk).count() == 7

    # A re-import of identical files writes no row, so no history either.
    engine.run(job=make_job(secretariat, small_p3ke()))
    assert household_event.objects.count() == 3 and person_event.objects.count() == 7

    files = small_p3ke()
    files["family"][0].values["desil"] = 4
    second = make_job(secretariat, files, label="Semester 2 2024")
    engine.run(job=second)
    update = household_event.objects.get(pgh_label="update")
    assert (update.desil, update.pgh_context.metadata["import_job"]) == (4, second.pk)


# ------------------------------------------------------------------------------------------------- preview


def test_preview_counts_the_whole_file_and_masks_identifiers(secretariat: Any) -> None:
    files = small_p3ke()
    files["family"].append(family("F8", region="3324999999"))
    job = make_job(secretariat, files)

    result = engine.preview(job=job, sample_size=2)

    assert result["family"]["counts"] == {"rows": 4, "valid": 3, "warning": 0, "rejected": 1}
    assert result["person"]["counts"] == {"rows": 7, "valid": 6, "warning": 1, "rejected": 0}
    assert len(result["person"]["sample"]) == 2
    first = result["person"]["sample"][0]
    assert first["row_number"] == 2 and first["values"]["nik"] == "3324********0001"
    assert result["family"]["columns"][0] == {"header": "ID Keluarga P3KE", "field": "id_keluarga"}
    unknown = [s for s in engine.preview(job=job, sample_size=10)["family"]["sample"] if s["issues"]]
    assert unknown[0]["issues"][0]["code"] == "region_unknown"
    assert ImportJob.objects.get(pk=job.pk).preview["family"]["counts"]["rows"] == 4
    assert not Household.objects.exists()


def test_files_of_another_source_are_refused(secretariat: Any) -> None:
    job = make_job(secretariat, {"dtks": []})
    with pytest.raises(ImportFileError) as caught:
        engine.run(job=job)
    assert caught.value.code == "file_kind"


# --------------------------------------------------------------------------------------- with the real parser


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_synthetic_messy_files_end_to_end(
    secretariat: Any, tmp_path: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """The real reader/mapping/cells on the generator's messy files: every injected row is reported."""
    from households.importing.synthetic import p3ke_files_write
    from households.models import ImportFile

    monkeypatch.setattr(engine, "parse_file", REAL_PARSER)
    settings.MEDIA_ROOT = str(tmp_path)
    files = p3ke_files_write(directory=tmp_path / "imports", families=30, seed=11, messy=True, formats=(fmt,))
    job = ImportJob.objects.create(
        source_id="p3ke",
        region_id=KENDAL,
        snapshot_label="Sintetis",
        snapshot_date=dt.date(2024, 6, 30),
        created_by=secretariat,
    )
    for kind, paths in (("family", files.family), ("person", files.person)):
        ImportFile.objects.create(
            job=job, kind=kind, file=f"imports/{paths[fmt].name}", original_name=paths[fmt].name, sha256="0" * 64
        )
    expected = files.expected
    assert expected is not None

    summary = engine.run(job=job)

    assert summary.families.rejected == expected.families_rejected
    assert summary.persons.rejected == expected.persons_rejected
    assert summary.families.created == files.families - expected.families_rejected
    assert summary.persons.created == files.persons - expected.persons_rejected
    assert summary.rows_read == files.families + files.persons
    reported = set(RowError.objects.filter(job=job).values_list("file", "row_number", "code", "severity"))
    for row in expected.rows:
        assert (row.kind, row.row_number, row.code, row.severity) in reported, row
    assert Household.objects.count() == summary.families.created
    assert PersonSourceLink.objects.count() == summary.persons.created

    again = engine.run(job=job)  # a rerun of the same job: nothing new
    assert (again.families.unchanged, again.persons.unchanged) == (summary.families.created, summary.persons.created)
