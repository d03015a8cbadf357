"""Focused cases of the gap engine: need rules are data, the overlap threshold is a setting, a failed run keeps
the previous figures, a run records its source snapshots and totals, and a household that moved between
kabupaten is recomputed where it lives now."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings

from households.choices import BuildingQuality, HouseholdStatus, Relationship
from households.models import Household
from programs.models import AssistanceKind
from reports import engine
from reports.models import GapHouseholdFact, GapRun, GapRunStatus, GapSummary, NeedRule
from reports.services import gap_recompute_now
from tests.factories import (
    GraduationFactory,
    HouseholdFactory,
    InterventionFactory,
    OrganizationFactory,
    PersonFactory,
    ProgramFactory,
    SnapshotFactory,
    desa,
    reference,
    region,
    source,
)

YEAR = 2025
KENDAL_DESA = "3324012001"
OTHER_KENDAL_DESA = "3324022002"
BATANG_DESA = "3325012001"

pytestmark = pytest.mark.django_db


def program(kind: str, cluster: str = "klaster-1") -> Any:
    from programs.models import ProgramCluster

    return ProgramFactory(
        year=YEAR,
        assistance_kind=reference(AssistanceKind, kind),
        cluster=reference(ProgramCluster, cluster),
        once_per_year=False,
        organization=OrganizationFactory(opd=True),
    )


def deliver(household: Household, prog: Any, on: dt.date = dt.date(YEAR, 6, 1), **kw: Any) -> None:
    InterventionFactory(program=prog, household=household, delivered_on=on, **kw)


def worker_household(code: str = KENDAL_DESA, **kw: Any) -> Household:
    """An active household with a 30-year-old working head with a NIK (productive member)."""
    household = HouseholdFactory(desa=desa(code), desil=1, **kw)
    PersonFactory(household=household, relationship=Relationship.HEAD, birth_date=dt.date(YEAR - 30, 3, 1))
    return household


def fact(household: Household) -> GapHouseholdFact:
    return GapHouseholdFact.objects.get(household=household, year=YEAR)


def needs(household: Household) -> tuple[set[str], set[str]]:
    f = fact(household)
    return set(engine.split_codes(f.needs)), set(engine.split_codes(f.unmet_needs))


def recompute(region_code: str = "") -> GapRun:
    run = gap_recompute_now(year=YEAR, region_code=region_code)
    assert run.status == GapRunStatus.DONE, run.message
    return run


# ------------------------------------------------------------------------------------- rules are data


def test_productive_member_needs_income_support_until_the_rule_changes() -> None:
    household = worker_household()
    recompute()
    assert needs(household) == ({"usaha"}, {"usaha"})

    # The secretariat raises the minimum age above the member's: now nobody is of productive age.
    NeedRule.objects.filter(code__in=["usaha", "perlindungan"]).update(min_age=31)
    recompute()
    assert needs(household) == ({"perlindungan"}, {"perlindungan"})


def test_school_occupations_come_from_the_rule() -> None:
    household = HouseholdFactory(desa=desa(KENDAL_DESA))
    PersonFactory(household=household, birth_date=dt.date(YEAR - 20, 1, 1), occupation="Pelajar/Mahasiswa")
    recompute()
    assert needs(household)[0] == {"perlindungan"}  # a student is not a productive member

    NeedRule.objects.filter(code__in=["usaha", "perlindungan"]).update(school_occupations="SANTRI")
    recompute()
    assert needs(household)[0] == {"usaha"}


def test_matching_kinds_of_a_rule_decide_what_meets_the_need() -> None:
    household = worker_household()
    deliver(household, program("pangan"))
    recompute()
    assert needs(household) == ({"usaha"}, {"usaha"})

    NeedRule.objects.get(code="usaha").assistance_kinds.add(reference(AssistanceKind, "pangan"))
    recompute()
    assert needs(household) == ({"usaha"}, set())
    summary = GapSummary.objects.get(year=YEAR, region_code=KENDAL_DESA)
    assert summary.needs == {"usaha": 1} and summary.unmet_need == {} and summary.unmet_any == 0


def test_an_inactive_rule_is_ignored() -> None:
    household = worker_household(roof_quality=BuildingQuality.POOR)
    recompute()
    assert needs(household)[0] == {"usaha", "rtlh"}

    NeedRule.objects.filter(code="rtlh").update(is_active=False)
    recompute()
    assert needs(household) == ({"usaha"}, {"usaha"})
    summary = GapSummary.objects.get(year=YEAR, region_code="3324")
    assert "rtlh" not in summary.needs and "rtlh" not in summary.unmet_need


def test_a_new_rule_adds_a_need_without_code_changes() -> None:
    household = worker_household()
    rule = NeedRule.objects.create(
        code="lansia-muda", name="Usia 25-35", condition="productive_member", min_age=25, max_age=35, sort_order=9
    )
    rule.assistance_kinds.set([reference(AssistanceKind, "pelatihan")])
    deliver(household, program("pelatihan"))
    recompute()
    assert needs(household) == ({"usaha", "lansia-muda"}, set())


def test_ages_are_taken_on_the_reference_date() -> None:
    ref = engine.reference_date(YEAR)
    assert ref == dt.date(YEAR, 12, 31)
    fifteen = HouseholdFactory(desa=desa(KENDAL_DESA))
    PersonFactory(household=fifteen, birth_date=dt.date(YEAR - 15, 12, 31))  # 15 on the day
    fourteen = HouseholdFactory(desa=desa(KENDAL_DESA))
    PersonFactory(household=fourteen, birth_date=dt.date(YEAR - 15, 12, 31) + dt.timedelta(days=1))
    sixty = HouseholdFactory(desa=desa(KENDAL_DESA))
    PersonFactory(household=sixty, birth_date=dt.date(YEAR - 60, 12, 31))  # 60 on the day
    fifty_nine = HouseholdFactory(desa=desa(KENDAL_DESA))
    PersonFactory(household=fifty_nine, birth_date=dt.date(YEAR - 60, 12, 31) + dt.timedelta(days=1))
    recompute()
    assert needs(fifteen)[0] == {"usaha"}
    assert needs(fourteen)[0] == {"perlindungan"}
    assert needs(sixty)[0] == {"perlindungan"}
    assert needs(fifty_nine)[0] == {"usaha"}


# ------------------------------------------------------------------------------------------- overlap


def test_overlap_threshold_is_a_setting() -> None:
    household = worker_household()
    first, second = program("pangan"), program("pangan")
    deliver(household, first)
    deliver(household, first, on=dt.date(YEAR, 8, 1))  # the same program twice is still one program
    deliver(household, second)
    deliver(household, program("tunai"))
    recompute()
    assert fact(household).overlap is False
    assert fact(household).program_count == 3

    with override_settings(GAP_OVERLAP_MIN_PROGRAMS=2):
        recompute()
    assert fact(household).overlap is True
    assert GapSummary.objects.get(year=YEAR, region_code="33").overlap == 1


def test_cancelled_planned_and_other_year_deliveries_do_not_cover() -> None:
    household = worker_household()
    prog = program("modal-usaha")
    deliver(household, prog, status="cancelled", cancel_reason="Batal (uji)")
    deliver(household, prog, status="planned", on=dt.date(YEAR, 7, 1))
    deliver(household, program("modal-usaha"), on=dt.date(YEAR - 1, 12, 31))
    deliver(household, program("modal-usaha"), on=dt.date(YEAR + 1, 1, 1))
    recompute()
    assert fact(household).covered is False
    deliver(household, program("modal-usaha"), on=dt.date(YEAR, 12, 31))
    recompute()
    assert fact(household).covered is True
    assert needs(household) == ({"usaha"}, set())


# ------------------------------------------------------------------------------------- runs and failure


def test_a_failed_run_keeps_the_previous_figures_and_is_marked_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    household = worker_household()
    deliver(household, program("pangan"))
    first = recompute()
    facts_before = list(GapHouseholdFact.objects.values().order_by("household_id"))
    summaries_before = list(GapSummary.objects.values().order_by("region_code"))

    worker_household()  # a change the failed run would have counted
    real = engine.compute_summaries

    def broken(**kwargs: Any) -> Any:
        real(**kwargs)  # facts and summaries already rewritten when it fails
        raise RuntimeError("disk penuh")

    monkeypatch.setattr(engine, "compute_summaries", broken)
    with pytest.raises(RuntimeError):
        gap_recompute_now(year=YEAR)

    failed = GapRun.objects.exclude(pk=first.pk).get()
    assert failed.status == GapRunStatus.FAILED
    assert "disk penuh" in failed.message and failed.finished_at is not None
    assert list(GapHouseholdFact.objects.values().order_by("household_id")) == facts_before
    assert list(GapSummary.objects.values().order_by("region_code")) == summaries_before
    assert all(row["run_id"] == first.pk for row in summaries_before)


def test_run_records_the_newest_snapshot_of_each_source() -> None:
    kendal = region("3324")
    SnapshotFactory(source=source("p3ke"), label="P3KE 2024", taken_on=dt.date(2024, 6, 30), region=kendal)
    newest = SnapshotFactory(source=source("p3ke"), label="P3KE 2025", taken_on=dt.date(2025, 1, 31), region=kendal)
    dtsen = SnapshotFactory(source=source("dtsen"), label="DTSEN Q1", taken_on=dt.date(2025, 3, 1), region=None)
    # Newer, but of another kabupaten: not a source of Kendal's figures.
    SnapshotFactory(source=source("p3ke"), label="P3KE Kukar", taken_on=dt.date(2025, 5, 1), region=region("6402"))
    worker_household()

    run = recompute("33.24")
    assert run.sources == [
        {"source": "dtsen", "snapshot_id": dtsen.pk, "label": "DTSEN Q1", "taken_on": "2025-03-01", "region": ""},
        {"source": "p3ke", "snapshot_id": newest.pk, "label": "P3KE 2025", "taken_on": "2025-01-31", "region": "3324"},
    ]
    assert run.sources_label == "DTSEN DTSEN Q1 (2025-03-01), P3KE P3KE 2025 (2025-01-31)"


def test_a_whole_registry_run_lists_each_area_and_a_region_reads_only_its_own() -> None:
    SnapshotFactory(source=source("p3ke"), label="P3KE Kendal", taken_on=dt.date(2025, 1, 31), region=region("3324"))
    SnapshotFactory(source=source("p3ke"), label="P3KE Kukar", taken_on=dt.date(2025, 5, 1), region=region("6402"))
    worker_household()

    run = recompute("")
    assert sorted(s["label"] for s in run.sources) == ["P3KE Kendal", "P3KE Kukar"]
    assert run.sources_label_for("3324") == "P3KE P3KE Kendal (2025-01-31)"
    assert "Kukar" not in run.sources_label_for("332401")
    assert "Kendal" not in run.sources_label_for("6402")


def test_totals_equal_the_top_summary() -> None:
    for code in (KENDAL_DESA, OTHER_KENDAL_DESA, BATANG_DESA):
        household = worker_household(code)
        deliver(household, program("pangan"))
    worker_household(OTHER_KENDAL_DESA, extreme_poverty=True)
    GraduationFactory(household=HouseholdFactory(desa=desa(KENDAL_DESA)), graduated_on=dt.date(YEAR, 2, 1))

    full = recompute()
    province = GapSummary.objects.get(year=YEAR, region_code="33")
    assert full.totals == {**province.as_dict(), **{k: getattr(province, k) for k in full.totals}}
    assert full.totals["households"] == 5 and full.totals["graduated"] == 1 and full.totals["covered"] == 3

    kendal = recompute("33.24")
    row = GapSummary.objects.get(year=YEAR, region_code="3324")
    assert kendal.totals == {k: getattr(row, k) for k in kendal.totals}
    assert kendal.totals["households"] == 4 and kendal.totals["extreme_uncovered"] == 1


def test_graduations_count_in_the_year_at_the_household_desa_and_not_when_revoked() -> None:
    graduated = HouseholdFactory(
        desa=desa(KENDAL_DESA), status=HouseholdStatus.GRADUATED, status_changed_on=dt.date(YEAR, 3, 1)
    )
    GraduationFactory(household=graduated, graduated_on=dt.date(YEAR, 3, 1))
    GraduationFactory(household=graduated, graduated_on=dt.date(YEAR, 9, 1))  # twice: one household
    GraduationFactory(household=HouseholdFactory(desa=desa(KENDAL_DESA)), graduated_on=dt.date(YEAR - 1, 12, 31))
    GraduationFactory(
        household=HouseholdFactory(desa=desa(KENDAL_DESA)),
        graduated_on=dt.date(YEAR, 1, 1),
        revoked_on=dt.date(YEAR, 2, 1),
    )
    recompute()
    row = GapSummary.objects.get(year=YEAR, region_code=KENDAL_DESA)
    assert row.graduated == 1
    assert row.households == 2  # the graduated household is no longer active


def test_a_household_moved_to_another_kabupaten_is_recomputed_where_it_lives() -> None:
    household = worker_household(BATANG_DESA)
    recompute()
    assert fact(household).kabupaten_code == "3325"

    # The household moves to Kendal; the import that records it recomputes Kendal (its new kabupaten).
    household.desa = desa(KENDAL_DESA)
    household.save()
    recompute("33.24")
    moved = fact(household)
    assert moved.kabupaten_code == "3324" and moved.desa_id == KENDAL_DESA
    assert GapSummary.objects.get(year=YEAR, region_code="3324").households == 1


@pytest.mark.parametrize("scope", ["33.24.01.2001", "33.24.01", "33.24"])
def test_a_partial_recompute_re_sums_every_ancestor(scope: str) -> None:
    worker_household(KENDAL_DESA)
    worker_household(OTHER_KENDAL_DESA)
    worker_household(BATANG_DESA)
    recompute()
    added = worker_household(KENDAL_DESA)
    deliver(added, program("modal-usaha"))

    recompute(scope)
    figures = {
        row.region_code: (row.households, row.covered, row.unmet_need)
        for row in GapSummary.objects.filter(year=YEAR, region_code__in=["33", "3324", "332401", KENDAL_DESA, "332402"])
    }
    assert figures == {
        KENDAL_DESA: (2, 1, {"usaha": 1}),
        "332401": (2, 1, {"usaha": 1}),
        "332402": (1, 0, {"usaha": 1}),
        "3324": (3, 1, {"usaha": 2}),
        "33": (4, 1, {"usaha": 3}),
    }


def test_a_rule_without_school_occupations_counts_students_as_productive() -> None:
    household = HouseholdFactory(desa=desa(KENDAL_DESA))
    PersonFactory(household=household, birth_date=dt.date(YEAR - 20, 1, 1), occupation="PELAJAR/MAHASISWA")
    NeedRule.objects.filter(code__in=["usaha", "perlindungan"]).update(school_occupations="")
    recompute()
    assert needs(household)[0] == {"usaha"}
