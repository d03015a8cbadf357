"""Demo programs and interventions (programs.demo): consistent with the delivery rules and the model."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from households.demo import demo_seed
from households.models import Household
from programs.demo import demo_programs_seed
from programs.models import Intervention, InterventionStatus, Program
from programs.rules import delivery_violations
from tkpk.models import OrganizationKind

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 8, 20)
FAMILIES = 600


def _rows() -> list[tuple[Any, ...]]:
    return sorted(
        Intervention.objects.filter(program__is_demo=True).values_list(
            "program__code", "program__year", "household_id", "delivered_on", "status", "value", "cancel_reason"
        )
    )


@pytest.fixture
def demo() -> Any:
    demo_seed(region_code="33.24", families=FAMILIES, seed=7)
    return demo_programs_seed(region_code="33.24", seed=7, today=TODAY)


def test_programs_for_both_years_and_every_kind_of_owner(demo: Any) -> None:
    programs = Program.objects.filter(is_demo=True).select_related("organization")
    assert {p.year for p in programs} == {2025, 2026}
    kinds = {p.organization.kind for p in programs}
    assert {OrganizationKind.OPD, OrganizationKind.COMPANY, OrganizationKind.BAZNAS} <= kinds
    keys = {p.organization.short_code.split("-", 1)[1] for p in programs}
    assert {"dinsos", "disperindagkop", "disnakertrans", "disperkim", "dinkes", "baznas"} <= keys
    assert programs.filter(once_per_year=False).exists() and programs.filter(once_per_year=True).exists()
    assert programs.filter(target_regions__isnull=False).exists()
    assert demo.programs_created == programs.count() == demo.programs_total
    assert demo.interventions_created == Intervention.objects.count() == demo.interventions_total
    # Every program has deliveries, and the per-program figures are consistent with them.
    for program in programs:
        assert program.interventions.exists(), program.code
        assert program.target_households >= program.interventions.values("household").distinct().count()


def test_demo_logins_see_their_own_programs(demo: Any) -> None:
    users = {u.username: u for u in get_user_model()._default_manager.filter(username__startswith="demo_")}
    mine = Program.objects.for_user(users["demo_opd"])
    assert mine.filter(year=TODAY.year).count() >= 2
    assert set(mine.values_list("organization__short_code", flat=True)) == {"3324-dinsos"}
    assert Program.objects.for_user(users["demo_mitra"]).exists()
    assert Program.objects.for_user(users["demo_sekretariat"]).count() == demo.programs_total


def test_no_duplicate_delivery_in_once_per_year_programs(demo: Any) -> None:
    effective = Intervention.objects.filter(once_per_period=True).exclude(status=InterventionStatus.CANCELLED)
    keys = Counter(effective.values_list("program_id", "household_id", "period_year"))
    assert keys and max(keys.values()) == 1
    # Some cancelled records were logged again (the same household, an effective record after it).
    cancelled = set(
        Intervention.objects.filter(once_per_period=True, status=InterventionStatus.CANCELLED).values_list(
            "program_id", "household_id"
        )
    )
    assert cancelled & {(p, h) for p, h, _ in keys}


def test_denormalised_columns_equal_what_save_sets(demo: Any) -> None:
    items = list(Intervention.objects.select_related("program", "household"))
    assert items
    for item in items:
        desa = str(item.household.desa_id)
        assert item.period_year == item.delivered_on.year
        assert item.once_per_period == item.program.once_per_year
        assert item.organization_id == item.program.organization_id
        assert (item.province_code, item.kabupaten_code, item.kecamatan_code, item.desa_id) == (
            desa[:2],
            desa[:4],
            desa[:6],
            desa,
        )
    # Saving through the model changes nothing.
    sample = items[:: max(1, len(items) // 20)]
    before = [(i.pk, i.period_year, i.once_per_period, i.organization_id, i.kecamatan_code, i.desa_id) for i in sample]
    for item in sample:
        item.save()
        item.refresh_from_db()
    after = [(i.pk, i.period_year, i.once_per_period, i.organization_id, i.kecamatan_code, i.desa_id) for i in sample]
    assert before == after


def test_deliveries_follow_the_delivery_rules(demo: Any) -> None:
    statuses = Counter(Intervention.objects.values_list("status", flat=True))
    assert statuses[InterventionStatus.DELIVERED] > statuses[InterventionStatus.PLANNED] > 0
    assert statuses[InterventionStatus.CANCELLED] > 0
    assert not Intervention.objects.filter(status=InterventionStatus.CANCELLED, cancel_reason="").exists()
    assert not Intervention.objects.filter(status=InterventionStatus.DELIVERED, delivered_on__gt=TODAY).exists()
    programs = {p.pk: (p, [r.code for r in p.target_regions.all()]) for p in Program.objects.all()}
    for item in Intervention.objects.exclude(status=InterventionStatus.CANCELLED).select_related("household"):
        program, targets = programs[item.program_id]
        found = delivery_violations(
            program=program,
            target_codes=targets,
            delivered_on=item.delivered_on,
            status=item.status,
            value=item.value,
            household_desa_code=str(item.household.desa_id),
            household_desil=item.household.desil,
            household_status=item.household.status,
            today=TODAY,
        )
        assert not [v for v in found if v.is_error], (program.code, item.pk, found)
        # Desil limits are respected too (the rules only warn).
        assert not [v for v in found if v.code == "desil_above_max"], (program.code, item.pk)


def test_mostly_poorest_households_and_convergence(demo: Any) -> None:
    desil = Counter(Intervention.objects.values_list("household__desil", flat=True))
    assert (desil[1] + desil[2]) / sum(desil.values()) >= 0.8
    capital = (
        Intervention.objects.effective()
        .filter(program__assistance_kind__code="modal-usaha", period_year=TODAY.year)
        .values_list("household_id", "program_id")
        .distinct()
    )
    programs_per_household = Counter(household for household, _ in capital)
    assert max(programs_per_household.values()) >= 3


def test_same_seed_same_data_and_idempotent(demo: Any) -> None:
    first = _rows()
    again = demo_programs_seed(region_code="33.24", seed=7, today=TODAY)
    assert again.kept_existing and again.programs_created == 0 and _rows() == first
    redo = demo_programs_seed(region_code="33.24", seed=7, today=TODAY, reset=True)
    assert redo.programs_deleted == demo.programs_total and redo.interventions_deleted == demo.interventions_total
    assert _rows() == first
    demo_programs_seed(region_code="33.24", seed=8, today=TODAY, reset=True)
    assert _rows() != first


def test_seed_demo_command_creates_programs_unless_told_not_to() -> None:
    out = StringIO()
    call_command("seed_demo", "--region", "33.24", "--families", "200", "--no-programs", stdout=out)
    assert not Program.objects.exists()
    call_command("seed_demo", "--region", "33.24", "--families", "200", stdout=out)
    assert Program.objects.filter(is_demo=True, year=dt.date.today().year).exists()
    assert not Intervention.objects.filter(
        status=InterventionStatus.DELIVERED, delivered_on__gt=dt.date.today()
    ).exists()
    assert "Program demo:" in out.getvalue()
    # --reset regenerates households and programs together.
    call_command("seed_demo", "--region", "33.24", "--families", "200", "--reset", stdout=out)
    assert Intervention.objects.filter(household__in=Household.objects.filter(is_demo=True)).count() == (
        Intervention.objects.count()
    )
