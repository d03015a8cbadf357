"""Writes to the registry. Each is atomic and logs what personal-data rules require."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.choices import HouseholdStatus
from households.models import Graduation, Household, Person
from tkpk.exceptions import DomainError
from tkpk.history import history_context
from tkpk.models import AccessAction
from tkpk.scoping import Cap, scope_for
from tkpk.services import personal_data_access_record


def _identifier_reveal(
    *, actor: Any, refusal: str, object_type: str, object_id: int, region_code: str, ip_address: str | None
) -> None:
    """Refuse roles that may not see full identifiers; log the reveal for those that may."""
    if not scope_for(actor).can(Cap.REGISTRY_REVEAL_ID):
        raise DomainError(refusal, code="reveal_forbidden")
    personal_data_access_record(
        user=actor,
        action=AccessAction.REVEAL_NIK,
        object_type=object_type,
        object_ids=[object_id],
        region_code=region_code,
        ip_address=ip_address,
    )


def person_reveal_nik(*, actor: Any, person: Person, ip_address: str | None = None) -> str:
    """Return one person's full NIK to a role allowed to see it, and log the reveal."""
    _identifier_reveal(
        actor=actor,
        refusal=_("Peran Anda tidak dapat membuka NIK lengkap."),
        object_type="person",
        object_id=person.pk,
        region_code=person.household.desa_id,
        ip_address=ip_address,
    )
    return person.nik or ""


def household_reveal_no_kk(*, actor: Any, household: Household, ip_address: str | None = None) -> str:
    """Return one household's full No KK to a role allowed to see it, and log the reveal."""
    _identifier_reveal(
        actor=actor,
        refusal=_("Peran Anda tidak dapat membuka Nomor KK lengkap."),
        object_type="household.no_kk",
        object_id=household.pk,
        region_code=household.desa_id,
        ip_address=ip_address,
    )
    return household.no_kk or ""


def household_view_record(*, actor: Any, household: Household, ip_address: str | None = None) -> None:
    """Log that a by-name household page was opened."""
    personal_data_access_record(
        user=actor,
        action=AccessAction.VIEW_HOUSEHOLD,
        object_type="household",
        object_ids=[household.pk],
        region_code=household.desa_id,
        ip_address=ip_address,
    )


@transaction.atomic
def household_change_status(
    *,
    actor: Any,
    household: Household,
    status: str,
    changed_on: dt.date,
    reason: str,
    merged_into: Household | None = None,
) -> Household:
    """Graduate, move, close or merge a household; the change is kept in its history with the actor."""
    if status not in HouseholdStatus.values:
        raise DomainError(_("Status keluarga tidak dikenal."), code="status_unknown")
    if status == HouseholdStatus.MERGED and (merged_into is None or merged_into.pk == household.pk):
        raise DomainError(_("Pilih keluarga lain sebagai tujuan penggabungan."), code="merge_target")
    if (
        merged_into is not None
        and not Household.objects.for_user(actor).filter(pk=merged_into.pk, status=HouseholdStatus.ACTIVE).exists()
    ):
        raise DomainError(
            _("Keluarga tujuan penggabungan harus aktif dan berada dalam wilayah Anda."), code="merge_target_scope"
        )
    if status != HouseholdStatus.ACTIVE and not reason.strip():
        raise DomainError(_("Alasan perubahan status wajib diisi."), code="status_reason")
    with history_context(user=actor.pk, action="household_change_status"):
        household.status = status
        household.status_changed_on = changed_on
        household.status_reason = reason.strip()
        household.status_verified_by = actor
        household.merged_into = merged_into if status == HouseholdStatus.MERGED else None
        try:
            household.full_clean()
        except ValidationError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise DomainError(
                _("Data keluarga belum valid, perbaiki dulu: %(details)s") % {"details": details}, code="invalid"
            ) from exc
        household.save()
    return household


@transaction.atomic
def household_graduate(
    *,
    actor: Any,
    household: Household,
    graduated_on: dt.date,
    reason: str,
    evidence: Any = None,
    evidence_note: str = "",
) -> Graduation:
    """Record the secretariat's verification that an active household is no longer poor: the household becomes
    graduated (with the date, reason and verifier in its history) and a Graduation row keeps the decision."""
    if not scope_for(actor).can(Cap.GAP_MANAGE):
        raise DomainError(_("Peran Anda tidak dapat mencatat graduasi."), code="forbidden")
    if not Household.objects.for_user(actor).filter(pk=household.pk).exists():
        raise DomainError(_("Keluarga ini di luar wilayah Anda."), code="out_of_scope")
    household = Household.objects.select_for_update().get(pk=household.pk)
    if household.status != HouseholdStatus.ACTIVE:
        raise DomainError(
            _("Hanya keluarga aktif yang dapat digraduasi (status sekarang: %(status)s).")
            % {"status": household.get_status_display()},
            code="not_active",
        )
    if graduated_on > timezone.localdate():
        raise DomainError(_("Tanggal graduasi tidak boleh di masa depan."), code="future_date")
    if not reason.strip():
        raise DomainError(_("Alasan graduasi wajib diisi."), code="reason_required")
    household_change_status(
        actor=actor, household=household, status=HouseholdStatus.GRADUATED, changed_on=graduated_on, reason=reason
    )
    with history_context(user=actor.pk, action="household_graduate"):
        graduation = Graduation(
            household=household,
            graduated_on=graduated_on,
            reason=reason.strip()[:300],
            evidence_note=evidence_note.strip()[:300],
            verified_by=actor,
        )
        if evidence:
            graduation.evidence.save(evidence.name, evidence, save=False)
        graduation.save()
    return graduation


@transaction.atomic
def graduation_revoke(*, actor: Any, graduation: Graduation, revoked_on: dt.date, reason: str) -> Graduation:
    """Undo a graduation: the row stays (with ``revoked_on``) so past counts can be reproduced, and the household
    is active again (the change kept in its history)."""
    if not scope_for(actor).can(Cap.GAP_MANAGE):
        raise DomainError(_("Peran Anda tidak dapat membatalkan graduasi."), code="forbidden")
    graduation = Graduation.objects.select_for_update().select_related("household").get(pk=graduation.pk)
    if not Household.objects.for_user(actor).filter(pk=graduation.household_id).exists():
        raise DomainError(_("Keluarga ini di luar wilayah Anda."), code="out_of_scope")
    if graduation.revoked_on is not None:
        raise DomainError(_("Graduasi ini sudah dibatalkan."), code="already_revoked")
    if not reason.strip():
        raise DomainError(_("Alasan pembatalan wajib diisi."), code="reason_required")
    if revoked_on < graduation.graduated_on:
        raise DomainError(_("Tanggal pembatalan tidak boleh sebelum tanggal graduasi."), code="date_order")
    with history_context(user=actor.pk, action="graduation_revoke"):
        graduation.revoked_on = revoked_on
        graduation.save(update_fields=["revoked_on"])
    household = graduation.household
    if household.status == HouseholdStatus.GRADUATED:
        household_change_status(
            actor=actor, household=household, status=HouseholdStatus.ACTIVE, changed_on=revoked_on, reason=reason
        )
    return graduation
