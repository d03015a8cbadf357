"""``manage.py recompute_gaps`` and ``manage.py gap_summary``: the JSON the issue specifies, Indonesian errors."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from households.choices import Relationship
from programs.models import AssistanceKind
from reports.models import GapRun, GapRunStatus, GapTrigger
from tests.factories import (
    GraduationFactory,
    HouseholdFactory,
    InterventionFactory,
    PersonFactory,
    ProgramFactory,
    desa,
    reference,
)

pytestmark = pytest.mark.django_db

YEAR = 2025
PLANTUNGAN = "332401"
PAGERUYUNG = "332402"
ISSUE_KEYS = {"region", "name", "households", "desil1", "desil1_uncovered", "covered", "overlap", "unmet_need"}


def run(*args: str) -> Any:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def registry() -> None:
    """Plantungan: two desil-1 households, one reached, one elderly; Pageruyung: a desil-2 worker household,
    unreached, and a graduated one."""
    reached = HouseholdFactory(desa=desa(f"{PLANTUNGAN}2001"), desil=1)
    elderly = HouseholdFactory(desa=desa(f"{PLANTUNGAN}2002"), desil=1)
    PersonFactory(household=elderly, relationship=Relationship.HEAD, birth_date=dt.date(1940, 1, 1))
    worker = HouseholdFactory(desa=desa(f"{PAGERUYUNG}2002"), desil=2)
    PersonFactory(household=worker, relationship=Relationship.HEAD, birth_date=dt.date(1990, 1, 1))
    program = ProgramFactory(year=YEAR, assistance_kind=reference(AssistanceKind, "pangan"))
    InterventionFactory(program=program, household=reached, delivered_on=dt.date(YEAR, 4, 1))
    GraduationFactory(
        household=HouseholdFactory(desa=desa(f"{PAGERUYUNG}2002"), desil=5), graduated_on=dt.date(YEAR, 5, 1)
    )


def test_recompute_gaps_computes_the_year_and_prints_its_totals(registry: None) -> None:
    printed = run("recompute_gaps", "--year", str(YEAR))

    stored = GapRun.objects.get()
    assert (stored.status, stored.trigger, stored.year, stored.region_code) == (
        GapRunStatus.DONE,
        GapTrigger.COMMAND,
        YEAR,
        "",
    )
    assert printed["run"] == stored.pk and printed["status"] == "done" and printed["year"] == YEAR
    assert printed["households"] == 4 and printed["desil1"] == 2 and printed["desil1_uncovered"] == 1
    assert printed["covered"] == 1 and printed["graduated"] == 1
    assert printed["unmet_need"] == {"usaha": 1, "perlindungan": 1}


def test_recompute_gaps_for_one_region(registry: None) -> None:
    printed = run("recompute_gaps", "--year", str(YEAR), "--region", "33.24.02")
    assert printed["region"] == PAGERUYUNG
    assert printed["households"] == 2 and printed["desil1"] == 0 and printed["graduated"] == 1


def test_gap_summary_prints_one_row_per_kecamatan(registry: None) -> None:
    run("recompute_gaps", "--year", str(YEAR))

    rows = run("gap_summary", "--region", "33.24", "--level", "kecamatan", "--year", str(YEAR))

    assert [r["region"] for r in rows] == [PLANTUNGAN, PAGERUYUNG]
    for row in rows:
        assert ISSUE_KEYS | {"graduated"} <= set(row)
    plantungan, pageruyung = rows
    assert plantungan["name"] == "Plantungan" and pageruyung["name"] == "Pageruyung"
    assert {k: plantungan[k] for k in ISSUE_KEYS - {"region", "name"}} == {
        "households": 2,
        "desil1": 2,
        "desil1_uncovered": 1,
        "covered": 1,
        "overlap": 0,
        "unmet_need": {"perlindungan": 1},
    }
    assert plantungan["graduated"] == 0
    assert (pageruyung["households"], pageruyung["covered"], pageruyung["graduated"]) == (2, 0, 1)
    assert pageruyung["unmet_need"] == {"usaha": 1}


def test_gap_summary_defaults_to_the_newest_computed_year_and_the_level_below(registry: None) -> None:
    run("recompute_gaps", "--year", str(YEAR))
    rows = run("gap_summary", "--region", "33.24.01")
    assert [r["region"] for r in rows] == [f"{PLANTUNGAN}2001", f"{PLANTUNGAN}2002"]
    assert run("gap_summary", "--region", "33.24", "--level", "kecamatan", "--year", str(YEAR + 1)) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--region", "33.24", "--level", "dusun"), "Tingkat wilayah tidak dikenal: dusun"),
        (("--region", "33.24", "--level", "7"), "Tingkat wilayah tidak dikenal"),
        (("--region", "33.24.01", "--level", "kabupaten"), "Tingkat harus sama atau di bawah wilayah yang dipilih"),
        (("--region", "33.2", "--level", "desa"), "Kode wilayah tidak dikenal"),
    ],
)
def test_gap_summary_bad_level_is_an_indonesian_command_error(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("gap_summary", *args, "--year", str(YEAR), stdout=io.StringIO())
