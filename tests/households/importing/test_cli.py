"""``manage.py import_households``: same engine, a job in the history, JSON as the last stdout line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from households.models import Household, ImportJob, ImportStatus, Person, RowError
from tests.factories import load_kendal, user_with_role
from tests.households.importing.jobs_support import messy_files, refused_csv, secretariat
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[3]
COUNT_KEYS = ["created", "updated", "unchanged", "rejected", "warnings"]


@pytest.fixture(autouse=True)
def _setup(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    load_kendal()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return messy_files(tmp_path_factory.mktemp("p3ke-cli"), families=25, seed=5, fmt="csv")


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_households", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def p3ke_args(files: Any, *extra: str) -> list[str]:
    return ["--source", "p3ke", "--families", str(files.family["csv"]), "--persons", str(files.person["csv"]), *extra]


def last_json(stdout: str) -> dict[str, Any]:
    lines = stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def test_p3ke_import_prints_the_counts_as_json_on_the_last_line(files: Any) -> None:
    user = secretariat(username="rina")

    stdout, _stderr = command(*p3ke_args(files, "--snapshot", "P3KE 2024 S1", "--date", "2024-06-30", "--user", "rina"))

    result = last_json(stdout)
    assert list(result) == ["families", "persons"]
    assert list(result["families"]) == COUNT_KEYS and list(result["persons"]) == COUNT_KEYS
    assert result["families"]["created"] == Household.objects.count() > 0
    assert result["persons"]["created"] == Person.objects.count() > 0
    assert result["families"]["rejected"] == files.expected.families_rejected
    assert result["persons"]["rejected"] == files.expected.persons_rejected
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.SUCCEEDED
    assert (job.created_by, job.region_id, job.source_id) == (user, "3324", "p3ke")
    assert (job.snapshot_label, job.snapshot_date.isoformat()) == ("P3KE 2024 S1", "2024-06-30")
    assert job.snapshot is not None and job.snapshot.label == "P3KE 2024 S1"
    assert sorted(job.files.values_list("kind", flat=True)) == ["family", "person"]

    # Again: the same files, recognised, and nothing new.
    stdout, stderr = command(*p3ke_args(files, "--snapshot", "P3KE 2024 S1", "--region", "33.24"))
    again = last_json(stdout)
    assert again["families"]["created"] == again["persons"]["created"] == 0
    assert again["families"]["unchanged"] == result["families"]["created"]
    assert "sudah pernah diimpor" in stderr
    assert ImportJob.objects.latest("id").duplicate_of == job


def test_dry_run_writes_nothing_to_the_registry(files: Any) -> None:
    stdout, _stderr = command(*p3ke_args(files, "--region", "33.24", "--dry-run"))

    result = last_json(stdout)
    assert result["families"]["created"] > 0  # what a real run would do
    assert not Household.objects.exists() and not Person.objects.exists()
    job = ImportJob.objects.get()
    assert job.dry_run and job.status == ImportStatus.SUCCEEDED
    assert job.snapshot is None


def test_errors_option_writes_the_report(files: Any, tmp_path: Path) -> None:
    out = tmp_path / "kesalahan.xlsx"

    command(*p3ke_args(files, "--region", "33.24", "--errors", str(out)))

    job = ImportJob.objects.get()
    workbook = load_workbook(out, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0] == ("Berkas", "Nomor baris", "Kolom", "Nilai", "Pesan", "Tingkat", "Kode")
    assert len(rows) - 1 == RowError.objects.filter(job=job).count()
    reported = {(row[1], row[6]) for row in rows[1:]}
    for injected in files.expected.rows:
        if injected.code != "family_missing":  # reported under the engine's own code
            assert (injected.row_number, injected.code) in reported, injected
    rejected_rows = {row[1] for row in rows[1:] if row[0] == "Keluarga (P3KE)" and row[5] == "Ditolak"}
    assert len(rejected_rows) == files.expected.families_rejected


def test_a_refused_file_fails_with_an_indonesian_message(files: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        command("--source", "p3ke", "--families", str(refused_csv(tmp_path)), "--persons", str(files.person["csv"]),
                "--region", "33.24")  # fmt: skip

    assert "gagal" in str(caught.value)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.message in str(caught.value)
    assert not Household.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "p3ke", "--families", "x.csv"], "--families dan --persons"),
        (["--source", "dtks"], "satu berkas"),
        (["--source", "dtsen", "tidak-ada.csv", "--region", "33.24"], "tidak ditemukan"),
        (["--date", "30-06-2024"], "YYYY-MM-DD"),
        ([], "--region"),
        (["--user", "tidak-ada"], "tidak ada"),
        (["--region", "64.02"], "belum dimuat"),
    ],
)
def test_bad_arguments_are_refused(files: Any, args: list[str], message: str) -> None:
    base = p3ke_args(files) if args[:1] != ["--source"] else []
    with pytest.raises(CommandError) as caught:
        command(*base, *args)
    assert message in str(caught.value)
    assert not ImportJob.objects.exists()


def test_the_user_must_be_secretariat_of_the_region(files: Any) -> None:
    user_with_role(Role.OPD_OFFICER, "3324", username="opd")
    secretariat(username="rina")
    with pytest.raises(CommandError, match="bukan anggota sekretariat"):
        command(*p3ke_args(files, "--user", "opd"))
    with pytest.raises(CommandError, match="di luar wilayah"):
        command(*p3ke_args(files, "--user", "rina", "--region", "33.74"))


def test_refusal_exits_non_zero() -> None:
    """Through the real entry point: a CommandError ends the process with status 1 and the message."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_households", "--source", "dtks", "tidak-ada.xlsx", "--region", "33.24"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    assert "Berkas tidak ditemukan: tidak-ada.xlsx" in completed.stderr


FIXTURES = BASE_DIR / "tests" / "fixtures"


@pytest.mark.parametrize(("source", "name"), [("dtks", "dtks.xlsx"), ("dtsen", "dtsen.csv")])
def test_dtks_and_dtsen_take_one_positional_file(files: Any, source: str, name: str) -> None:
    """A second source on an empty registry: nothing to link to, so its rows go to review; the same JSON."""
    stdout, _stderr = command("--source", source, str(FIXTURES / name), "--region", "33.24", "--date", "2025-01-31")

    result = last_json(stdout)
    assert list(result) == ["families", "persons"]
    assert list(result["persons"]) == COUNT_KEYS
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert (job.source_id, job.snapshot_label) == (source, f"{source.upper()} 2025-01-31")
    assert list(job.files.values_list("kind", flat=True)) == [source]
