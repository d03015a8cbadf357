"""Program and intervention services: rules, duplicate guard, cancellation, scoping of writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from households.choices import HouseholdStatus
from programs import services
from programs.models import Intervention, InterventionStatus, OutsideRegionPolicy, Program
from programs.selectors import household_deliveries, program_list, program_overview, program_realisation
from tests import factories as f
from tkpk.exceptions import DomainError
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture
def officer():
    return f.user_with_role(Role.OPD_OFFICER)


@pytest.fixture
def program(officer):
    return f.ProgramFactory(organization=officer.test_organization)


def log(officer, program, household, **kw):
    kw.setdefault("delivered_on", TODAY)
    return services.intervention_create(actor=officer, program=program, household=household, **kw)


def test_create_fills_denormalised_columns_and_default_value(officer, program):
    household = f.HouseholdFactory(desil=1)
    logged = log(officer, program, household)
    iv = logged.intervention
    assert iv.value == program.unit_value
    assert iv.period_year == TODAY.year
    assert (iv.kabupaten_code, iv.kecamatan_code, iv.desa_id) == ("3324", "332401", "3324012001")
    assert iv.organization_id == program.organization_id
    assert iv.entered_by == officer
    assert logged.warnings == []


def test_duplicate_in_once_per_year_program_names_existing_record(officer, program):
    household = f.HouseholdFactory()
    first = log(officer, program, household).intervention
    with pytest.raises(services.DuplicateInterventionError) as exc:
        log(officer, program, household, delivered_on=TODAY - dt.timedelta(days=1) if TODAY.day > 1 else TODAY)
    assert f"#{first.pk}" in exc.value.message
    assert program.code in exc.value.message
    assert exc.value.extra["existing_id"] == first.pk
    assert Intervention.objects.count() == 1


def test_recurring_program_accepts_repeat_deliveries(officer):
    program = f.ProgramFactory(organization=officer.test_organization, once_per_year=False)
    household = f.HouseholdFactory()
    log(officer, program, household)
    log(officer, program, household)
    assert Intervention.objects.filter(household=household).count() == 2


def test_cancelled_record_frees_the_slot_and_needs_a_reason(officer, program):
    household = f.HouseholdFactory()
    first = log(officer, program, household).intervention
    with pytest.raises(DomainError) as exc:
        services.intervention_cancel(actor=officer, intervention=first, reason="  ")
    assert exc.value.code == "cancel_reason_required"
    services.intervention_cancel(actor=officer, intervention=first, reason="Salah sasaran")
    first.refresh_from_db()
    assert first.status == InterventionStatus.CANCELLED
    second = log(officer, program, household).intervention
    assert second.pk != first.pk
    with pytest.raises(DomainError):
        services.intervention_cancel(actor=officer, intervention=first, reason="lagi")


def test_next_year_is_a_new_period(officer):
    program = f.ProgramFactory(
        organization=officer.test_organization,
        year=TODAY.year - 1,
        starts_on=dt.date(TODAY.year - 1, 1, 1),
        ends_on=dt.date(TODAY.year, 12, 31),
    )
    household = f.HouseholdFactory()
    log(officer, program, household, delivered_on=dt.date(TODAY.year - 1, 6, 1))
    log(officer, program, household, delivered_on=dt.date(TODAY.year, 1, 1))
    assert sorted(Intervention.objects.values_list("period_year", flat=True)) == [TODAY.year - 1, TODAY.year]


@pytest.mark.parametrize(
    ("delivered_on", "code"),
    [
        (TODAY + dt.timedelta(days=1), "future_date"),
        (dt.date(TODAY.year - 1, 12, 31), "outside_period"),
    ],
)
def test_dates_refused(officer, program, delivered_on, code):
    with pytest.raises(services.InterventionRuleError) as exc:
        log(officer, program, f.HouseholdFactory(), delivered_on=delivered_on)
    assert exc.value.code == code
    assert "delivered_on" in exc.value.extra["fields"]
    assert not Intervention.objects.exists()


def test_planned_delivery_may_be_in_the_future(officer):
    program = f.ProgramFactory(organization=officer.test_organization, ends_on=dt.date(TODAY.year + 1, 12, 31))
    logged = log(officer, program, f.HouseholdFactory(), delivered_on=TODAY + dt.timedelta(days=3), status="planned")
    assert logged.intervention.status == InterventionStatus.PLANNED


def test_negative_value_refused(officer, program):
    with pytest.raises(services.InterventionRuleError) as exc:
        log(officer, program, f.HouseholdFactory(), value=Decimal(-1))
    assert exc.value.code == "negative_value"


def test_inactive_household_refused(officer, program):
    household = f.HouseholdFactory(status=HouseholdStatus.MOVED)
    with pytest.raises(services.InterventionRuleError) as exc:
        log(officer, program, household)
    assert exc.value.code == "household_inactive"


def test_outside_target_region_warns_or_refuses_as_configured(officer):
    elsewhere = f.desa("3324022002")  # another kecamatan of Kendal
    target = f.region("332401")
    warn = f.ProgramFactory(organization=officer.test_organization, target_regions=[target])
    refuse = f.ProgramFactory(
        organization=officer.test_organization,
        target_regions=[target],
        outside_region_policy=OutsideRegionPolicy.REFUSE,
    )
    household = f.HouseholdFactory(desa=elsewhere)
    logged = log(officer, warn, household)
    assert [w.code for w in logged.warnings] == ["outside_target_region"]
    with pytest.raises(services.InterventionRuleError) as exc:
        log(officer, refuse, household)
    assert exc.value.code == "outside_target_region"
    inside = f.HouseholdFactory()
    assert log(officer, refuse, inside).warnings == []


def test_desil_above_program_maximum_is_a_warning(officer):
    program = f.ProgramFactory(organization=officer.test_organization, max_desil=1)
    logged = log(officer, program, f.HouseholdFactory(desil=4))
    assert [w.code for w in logged.warnings] == ["desil_above_max"]


def test_officer_cannot_log_into_another_agencys_program(officer):
    other = f.ProgramFactory()
    with pytest.raises(DomainError) as exc:
        log(officer, other, f.HouseholdFactory())
    assert exc.value.code == "forbidden"


def test_household_outside_officer_region_refused(officer, program):
    household = f.HouseholdFactory(desa=f.desa("6402012001"))
    with pytest.raises(DomainError) as exc:
        log(officer, program, household)
    assert exc.value.code == "household_out_of_scope"


def test_leadership_cannot_log(program):
    boss = f.user_with_role(Role.LEADERSHIP)
    with pytest.raises(DomainError):
        log(boss, program, f.HouseholdFactory())


def test_secretariat_logs_into_any_program_of_its_region(program):
    secretariat = f.user_with_role(Role.SECRETARIAT)
    assert log(secretariat, program, f.HouseholdFactory()).intervention.pk


def test_create_many_reports_each_item(officer, program):
    good, dup = f.HouseholdFactory(), f.HouseholdFactory()
    log(officer, program, dup)
    results = services.intervention_create_many(
        actor=officer,
        items=[
            {"program": program, "household": good, "delivered_on": TODAY},
            {"program": program, "household": dup, "delivered_on": TODAY},
            {"program": program, "household": f.HouseholdFactory(), "delivered_on": TODAY + dt.timedelta(days=9)},
        ],
    )
    assert [r.error is None for r in results] == [True, False, False]
    assert results[1].error.code == "duplicate"
    assert results[2].error.code == "future_date"
    assert Intervention.objects.filter(program=program).count() == 2


def test_program_create_for_any_organization_by_secretariat_only():
    secretariat = f.user_with_role(Role.SECRETARIAT)
    opd = f.OrganizationFactory(opd=True)
    base = f.ProgramFactory.build()
    attrs = {
        "code": "rtlh-uji",
        "name": "RTLH",
        "year": TODAY.year,
        "cluster": base.cluster,
        "strategy": base.strategy,
        "assistance_kind": base.assistance_kind,
        "funding_source": "apbd",
        "starts_on": dt.date(TODAY.year, 1, 1),
        "ends_on": dt.date(TODAY.year, 12, 31),
    }
    program = services.program_create(actor=secretariat, organization=opd, **attrs)
    assert program.region_id == "3324"
    officer = f.user_with_role(Role.OPD_OFFICER)
    with pytest.raises(DomainError):
        services.program_create(actor=officer, organization=opd, **{**attrs, "code": "lain"})
    own = services.program_create(actor=officer, organization=officer.test_organization, **{**attrs, "code": "lain"})
    assert own.organization == officer.test_organization
    with pytest.raises(DomainError) as exc:
        services.program_create(
            actor=officer,
            organization=officer.test_organization,
            **{**attrs, "code": "x", "ends_on": dt.date(TODAY.year - 1, 1, 1)},
        )
    assert "ends_on" in exc.value.extra["fields"]
    assert Program.objects.count() == 2


def test_program_realisation_counts_delivered_only(officer, program):
    h1, h2, h3 = f.HouseholdFactory(), f.HouseholdFactory(), f.HouseholdFactory(desa=f.desa("3324022002"))
    log(officer, program, h1, value=Decimal(100))
    log(officer, program, h2, value=Decimal(200))
    log(officer, program, h3, value=Decimal(300))
    cancelled = Intervention.objects.get(household=h2)
    services.intervention_cancel(actor=officer, intervention=cancelled, reason="ganda")
    annotated = program_list(user=officer).get(pk=program.pk)
    assert (annotated.reached, annotated.realised_value) == (2, Decimal(400))
    rows = {r.code: (r.households, r.value) for r in program_realisation(program=program).by_kecamatan}
    assert rows == {"332401": (1, Decimal(100)), "332402": (1, Decimal(300))}


def test_household_deliveries_show_other_owners(officer, program):
    household = f.HouseholdFactory()
    other = f.InterventionFactory(household=household)
    log(officer, program, household)
    seen = list(household_deliveries(user=officer, household=household))
    assert other in seen and len(seen) == 2


def test_overview_sums_households_per_program_like_the_targets(officer, program):
    household = f.HouseholdFactory()
    second = f.ProgramFactory(organization=officer.test_organization, cluster=program.cluster)
    log(officer, program, household)
    log(officer, second, household)
    secretariat = f.user_with_role(Role.SECRETARIAT)
    rows = program_overview(user=secretariat, year=TODAY.year, dimension="cluster")
    assert [(r.programs, r.target_households, r.reached) for r in rows] == [(2, 400, 2)]


@pytest.mark.postgres
def test_history_records_who_created_and_cancelled(officer, program):
    from programs.models import InterventionEvent, ProgramEvent

    iv = log(officer, program, f.HouseholdFactory()).intervention
    services.intervention_cancel(actor=officer, intervention=iv, reason="Data ganda")
    events = list(InterventionEvent.objects.filter(pgh_obj_id=iv.pk).order_by("pgh_id").select_related("pgh_context"))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[0].pgh_context.metadata["user"] == officer.pk
    assert events[1].pgh_context.metadata["action"] == "intervention_cancel"
    assert events[1].status == "cancelled"
    program.name = "Nama baru"
    program.save()
    assert ProgramEvent.objects.filter(pgh_obj_id=program.pk, pgh_label="update", name="Nama baru").exists()


def _direct_count(program):
    from django.db.models import Count, Sum

    return (
        Intervention.objects.filter(program=program, status=InterventionStatus.DELIVERED)
        .order_by()
        .aggregate(h=Count("household_id", distinct=True), v=Sum("value"))
    )


def test_precomputed_realisation_follows_every_write(officer, program):
    from programs.models import ProgramRealisation

    households = [f.HouseholdFactory(), f.HouseholdFactory(desa=f.desa("3324022002")), f.HouseholdFactory()]
    logged = [log(officer, program, h, value=Decimal(100 * (i + 1))) for i, h in enumerate(households)]
    services.intervention_cancel(actor=officer, intervention=logged[0].intervention, reason="ganda")
    services.intervention_create_many(
        actor=officer, items=[{"program": program, "household": f.HouseholdFactory(), "delivered_on": TODAY}]
    )
    direct = _direct_count(program)
    annotated = program_list(user=officer).get(pk=program.pk)
    assert (annotated.reached, annotated.realised_value) == (direct["h"], direct["v"]) == (3, Decimal(500_500))
    total = {r.status: r.interventions for r in ProgramRealisation.objects.filter(program=program, kecamatan_code="")}
    assert total == {"delivered": 3, "cancelled": 1}
    by_kec = sum(r.households for r in program_realisation(program=program).by_kecamatan)
    assert by_kec == 3
