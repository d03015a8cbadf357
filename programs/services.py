"""Writes of programs and interventions. Each is atomic, checks who may do it, and applies programs.rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from households.models import Household, Person
from programs.models import EntryChannel, Intervention, InterventionStatus, Program
from programs.realisation import program_realisation_refresh
from programs.rules import RuleViolation, delivery_violations
from tkpk.exceptions import DomainError
from tkpk.history import history_context
from tkpk.models import Organization, Region
from tkpk.scoping import Cap, Role, scope_for


class DuplicateInterventionError(DomainError):
    pass


class InterventionRuleError(DomainError):
    pass


@dataclass
class LoggedIntervention:
    intervention: Intervention
    warnings: list[RuleViolation] = field(default_factory=list)


# ------------------------------------------------------------------------------------------- programs


def organizations_for_programs(*, actor: Any) -> Any:
    """Organizations the actor may create programs for: the secretariat any organization of its region,
    an agency or partner only itself."""
    scope = scope_for(actor)
    qs = Organization.objects.for_user(actor).filter(is_active=True)
    if scope.is_superuser or scope.grants_for(Role.SECRETARIAT):
        return qs
    return qs.filter(pk__in=[g.organization_id for g in scope.grants_for(Role.OPD_OFFICER, Role.PARTNER)])


def _check_may_manage(*, actor: Any, organization: Organization) -> None:
    scope = scope_for(actor)
    if not scope.can(Cap.PROGRAM_MANAGE):
        raise DomainError(_("Peran Anda tidak dapat mengelola program."), code="forbidden")
    if not organizations_for_programs(actor=actor).filter(pk=organization.pk).exists():
        raise DomainError(_("Anda tidak dapat mengelola program organisasi ini."), code="forbidden")


def _check_target_regions(*, program: Program, target_regions: Sequence[Region]) -> None:
    outside = [r for r in target_regions if not r.code.startswith(program.region_id)]
    if outside:
        raise DomainError(
            _("Wilayah sasaran di luar wilayah TKPK program: %(regions)s.")
            % {"regions": ", ".join(str(r) for r in outside)},
            code="target_region_outside",
        )


def _save_program(*, program: Program, target_regions: Sequence[Region] | None) -> Program:
    try:
        program.full_clean(exclude=["region"])
    except ValidationError as exc:
        raise DomainError(
            "; ".join(f"{m}" for messages in exc.message_dict.values() for m in messages),
            code="invalid",
            extra={"fields": exc.message_dict},
        ) from exc
    program.save()
    if target_regions is not None:
        _check_target_regions(program=program, target_regions=target_regions)
        program.target_regions.set(target_regions)
    return program


@transaction.atomic
def program_create(
    *,
    actor: Any,
    organization: Organization,
    target_regions: Sequence[Region] = (),
    **attrs: Any,
) -> Program:
    """Create a program owned by ``organization`` (attrs: code, name, year, cluster, strategy, ...)."""
    _check_may_manage(actor=actor, organization=organization)
    program = Program(organization=organization, region_id=organization.region_id, created_by=actor, **attrs)
    with history_context(user=actor.pk, action="program_create"):
        return _save_program(program=program, target_regions=list(target_regions))


@transaction.atomic
def program_update(
    *, actor: Any, program: Program, target_regions: Sequence[Region] | None = None, **attrs: Any
) -> Program:
    _check_may_manage(actor=actor, organization=program.organization)
    if "organization" in attrs and attrs["organization"].pk != program.organization_id:
        _check_may_manage(actor=actor, organization=attrs["organization"])
        program.region_id = attrs["organization"].region_id
    for name, value in attrs.items():
        setattr(program, name, value)
    with history_context(user=actor.pk, action="program_update"):
        return _save_program(program=program, target_regions=None if target_regions is None else list(target_regions))


# ------------------------------------------------------------------------------------------ interventions


def programs_for_logging(*, actor: Any) -> Any:
    """Programs the actor may log deliveries into: the secretariat any program of its region, agencies and
    partners their own organization's programs. Leadership none."""
    if not scope_for(actor).can(Cap.INTERVENTION_LOG):
        return Program.objects.none()
    return Program.objects.for_user(actor)


def msg_duplicate() -> str:
    """The duplicate template (placeholders code, year, id, date, status, who); the spreadsheet import fills it
    set-based in SQL."""
    return _(
        "Keluarga ini sudah tercatat menerima program %(code)s tahun %(year)s: catatan #%(id)s, "
        "tanggal %(date)s, status %(status)s, dicatat oleh %(who)s."
    )


def duplicate_message(existing: Intervention) -> str:
    who = existing.entered_by.get_full_name() or existing.entered_by.username if existing.entered_by else "-"
    return msg_duplicate() % {
        "code": existing.program.code,
        "year": existing.period_year,
        "id": existing.pk,
        "date": date_format(existing.delivered_on, "j M Y"),
        "status": existing.get_status_display(),
        "who": who,
    }


def find_duplicate(
    *, program: Program, household_id: int, year: int, exclude_pk: int | None = None
) -> Intervention | None:
    if not program.once_per_year:
        return None
    qs = (
        Intervention.objects.filter(program=program, household_id=household_id, period_year=year)
        .exclude(status=InterventionStatus.CANCELLED)
        .select_related("program", "entered_by")
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def intervention_check(
    *,
    program: Program,
    household: Household,
    delivered_on: dt.date,
    status: str = InterventionStatus.DELIVERED,
    value: Decimal | None = None,
    today: dt.date | None = None,
) -> list[RuleViolation]:
    """The rule violations (errors and warnings) of a would-be delivery, without writing anything."""
    return delivery_violations(
        program=program,
        target_codes=[r.code for r in program.target_regions.all()],
        delivered_on=delivered_on,
        status=status,
        value=value,
        household_desa_code=str(household.desa_id),
        household_desil=household.desil,
        household_status=household.status,
        today=today or timezone.localdate(),
    )


@transaction.atomic
def intervention_create(
    *,
    actor: Any,
    program: Program,
    household: Household,
    delivered_on: dt.date,
    value: Decimal | None = None,
    quantity: Decimal = Decimal(1),
    status: str = InterventionStatus.DELIVERED,
    person: Person | None = None,
    note: str = "",
    channel: str = EntryChannel.FORM,
    evidence: UploadedFile | None = None,
    refresh_realisation: bool = True,
) -> LoggedIntervention:
    """Record one delivery. Refuses (DomainError) what the rules forbid and a duplicate of a once-per-year
    program, naming the existing record; returns the warnings the officer should see."""
    if not programs_for_logging(actor=actor).filter(pk=program.pk).exists():
        raise DomainError(_("Anda tidak dapat mencatat penyaluran untuk program ini."), code="forbidden")
    if not Household.objects.for_user(actor).filter(pk=household.pk).exists():
        raise DomainError(_("Keluarga tidak ditemukan di wilayah Anda."), code="household_out_of_scope")
    if person is not None and person.household_id != household.pk:
        raise DomainError(_("Anggota keluarga yang dipilih bukan anggota keluarga ini."), code="person_mismatch")
    if status == InterventionStatus.CANCELLED:
        raise DomainError(_("Penyaluran baru tidak dapat langsung berstatus dibatalkan."), code="invalid_status")
    if value is None:
        value = program.unit_value or Decimal(0)
    violations = intervention_check(
        program=program, household=household, delivered_on=delivered_on, status=status, value=value
    )
    errors = [v for v in violations if v.is_error]
    if errors:
        raise InterventionRuleError(
            " ".join(v.message for v in errors),
            code=errors[0].code,
            extra={"fields": {v.field: v.message for v in errors}},
        )
    existing = find_duplicate(program=program, household_id=household.pk, year=delivered_on.year)
    if existing is not None:
        raise DuplicateInterventionError(
            duplicate_message(existing), code="duplicate", extra={"existing_id": existing.pk}
        )
    intervention = Intervention(
        program=program,
        household=household,
        person=person,
        delivered_on=delivered_on,
        value=value,
        quantity=quantity,
        status=status,
        note=note,
        channel=channel,
        entered_by=actor,
    )
    if evidence is not None:
        intervention.evidence = evidence
    try:
        with transaction.atomic(), history_context(user=actor.pk, action="intervention_create", channel=channel):
            intervention.save()
    except IntegrityError as exc:
        # A concurrent entry won the race: report it like any duplicate.
        existing = find_duplicate(program=program, household_id=household.pk, year=delivered_on.year)
        if existing is None:
            raise
        raise DuplicateInterventionError(
            duplicate_message(existing), code="duplicate", extra={"existing_id": existing.pk}
        ) from exc
    if refresh_realisation:
        program_realisation_refresh(program_ids=[program.pk])
    return LoggedIntervention(intervention, [v for v in violations if not v.is_error])


@transaction.atomic
def intervention_cancel(*, actor: Any, intervention: Intervention, reason: str) -> Intervention:
    """Cancel a delivery with a reason (kept in history; it no longer counts for realisation or duplicates)."""
    if not programs_for_logging(actor=actor).filter(pk=intervention.program_id).exists():
        raise DomainError(_("Anda tidak dapat membatalkan penyaluran program ini."), code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Alasan pembatalan wajib diisi."), code="cancel_reason_required")
    if intervention.status == InterventionStatus.CANCELLED:
        raise DomainError(_("Penyaluran ini sudah dibatalkan."), code="already_cancelled")
    intervention.status = InterventionStatus.CANCELLED
    intervention.cancel_reason = reason[:300]
    with history_context(user=actor.pk, action="intervention_cancel"):
        intervention.save(update_fields=["status", "cancel_reason", "updated_at"])
    program_realisation_refresh(program_ids=[intervention.program_id])
    return intervention


@dataclass
class BulkItemResult:
    index: int
    intervention: Intervention | None = None
    warnings: list[RuleViolation] = field(default_factory=list)
    error: DomainError | None = None


def intervention_create_many(
    *, actor: Any, items: Iterable[dict[str, Any]], channel: str = EntryChannel.API
) -> list[BulkItemResult]:
    """Create several deliveries, each on its own (a refused item does not stop the others); every item
    gets its result or its error. For large batches use the spreadsheet import, which is set-based."""
    results: list[BulkItemResult] = []
    touched: set[int] = set()
    for index, item in enumerate(items):
        try:
            logged = intervention_create(actor=actor, channel=channel, refresh_realisation=False, **item)
        except DomainError as exc:
            results.append(BulkItemResult(index=index, error=exc))
        else:
            touched.add(logged.intervention.program_id)
            results.append(BulkItemResult(index=index, intervention=logged.intervention, warnings=logged.warnings))
    # One recount per program at the end instead of one per item.
    program_realisation_refresh(program_ids=touched)
    return results
