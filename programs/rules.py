"""Delivery rules of a program, stated once. The form/API service applies them per record; the spreadsheet
import applies the same rules set-based in SQL and reports them with these codes and messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from households.choices import HouseholdStatus

if TYPE_CHECKING:
    from programs.models import Program

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class RuleViolation:
    code: str
    field: str
    message: str
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def msg_future_date() -> str:
    return _("Tanggal penyaluran tidak boleh di masa depan (status tersalurkan).")


def msg_outside_period(program: Program) -> str:
    return _("Tanggal penyaluran di luar periode program (%(start)s s.d. %(end)s).") % {
        "start": date_format(program.starts_on, "j M Y"),
        "end": date_format(program.ends_on, "j M Y"),
    }


def msg_negative_value() -> str:
    return _("Nilai tidak boleh negatif.")


def msg_inactive_household(status_label: str) -> str:
    return _("Keluarga berstatus %(status)s; penyaluran tidak dapat dicatat.") % {"status": status_label}


def msg_outside_target(program: Program) -> str:
    return _("Keluarga berada di luar wilayah sasaran program %(code)s.") % {"code": program.code}


def msg_desil_above_max(desil: int, max_desil: int) -> str:
    return _("Desil keluarga (%(desil)s) di atas batas desil program (%(max)s).") % {"desil": desil, "max": max_desil}


def msg_program_inactive(program: Program) -> str:
    return _("Program %(code)s tidak aktif.") % {"code": program.code}


def in_target_regions(desa_code: str, target_codes: list[str]) -> bool:
    """Empty target list = the whole TKPK region. Targets may be kecamatan or desa (prefix match)."""
    return not target_codes or any(desa_code.startswith(code) for code in target_codes)


def delivery_violations(
    *,
    program: Program,
    target_codes: list[str],
    delivered_on: dt.date,
    status: str,
    value: Decimal | None,
    household_desa_code: str,
    household_desil: int | None,
    household_status: str,
    today: dt.date,
) -> list[RuleViolation]:
    """Everything wrong (errors) or worth a second look (warnings) about one delivery."""
    from programs.models import InterventionStatus, OutsideRegionPolicy

    found: list[RuleViolation] = []
    if not program.is_active:
        found.append(RuleViolation("program_inactive", "program", msg_program_inactive(program)))
    if status == InterventionStatus.DELIVERED and delivered_on > today:
        found.append(RuleViolation("future_date", "delivered_on", msg_future_date()))
    if not (program.starts_on <= delivered_on <= program.ends_on):
        found.append(RuleViolation("outside_period", "delivered_on", msg_outside_period(program)))
    if value is not None and value < 0:
        found.append(RuleViolation("negative_value", "value", msg_negative_value()))
    if household_status != HouseholdStatus.ACTIVE and status != InterventionStatus.CANCELLED:
        label = str(HouseholdStatus(household_status).label)
        found.append(RuleViolation("household_inactive", "household", msg_inactive_household(label)))
    if not in_target_regions(household_desa_code, target_codes):
        severity = ERROR if program.outside_region_policy == OutsideRegionPolicy.REFUSE else WARNING
        found.append(RuleViolation("outside_target_region", "household", msg_outside_target(program), severity))
    if program.max_desil is not None and household_desil is not None and household_desil > program.max_desil:
        found.append(
            RuleViolation(
                "desil_above_max", "household", msg_desil_above_max(household_desil, program.max_desil), WARNING
            )
        )
    return found
