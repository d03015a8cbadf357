"""Reads for dashboards and the coverage-gap figures: summaries per region and level, the by-name gap
list (scoped like the registry), and the freshness line every page with gap figures shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.choices import HouseholdStatus
from households.models import Household
from reports.engine import region_level
from reports.models import GapHouseholdFact, GapRun, GapRunStatus, GapSummary, NeedRule
from tkpk.exceptions import DomainError
from tkpk.models import Membership, Organization, Region
from tkpk.scoping import Cap, scope_for

LEVEL_NAMES = {"provinsi": 1, "province": 1, "kabupaten": 2, "kota": 2, "kecamatan": 3, "desa": 4, "kelurahan": 4}
REASON_LABELS = {
    "no_nik": gettext_lazy("Kepala keluarga tanpa NIK sah"),
    "nik_unverified": gettext_lazy("NIK perlu verifikasi"),
    "not_in_latest": gettext_lazy("Tidak ada di snapshot terbaru"),
    "member_moved": gettext_lazy("Ada anggota pindah"),
}


def normalise_region(code: str | None) -> str:
    """A region code as stored (plain digits); DomainError for anything that is not one."""
    value = (code or "").replace(".", "").strip()
    if value and (len(value) not in (2, 4, 6, 10) or not value.isdigit()):
        raise DomainError(_("Kode wilayah tidak dikenal: %(code)s") % {"code": code}, code="invalid_region")
    return value


def parse_level(value: str | int | None, default: int) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, int) or str(value).isdigit():
        level = int(str(value))
    else:
        level = LEVEL_NAMES.get(str(value).strip().lower(), 0)
    if level not in (1, 2, 3, 4):
        raise DomainError(
            _("Tingkat wilayah tidak dikenal: %(value)s (provinsi, kabupaten, kecamatan atau desa).")
            % {"value": value},
            code="invalid_level",
        )
    return level


def default_year() -> int:
    """The newest year with a finished computation, else the current year."""
    run = GapRun.objects.filter(status=GapRunStatus.DONE).order_by("-year").first()
    return run.year if run is not None else timezone.localdate().year


def visible_root(user: Any) -> str:
    """The widest region the user's figures cover (their TKPK region; '' for a superuser)."""
    scope = scope_for(user)
    if scope.is_superuser:
        return ""
    codes = scope.region_codes
    return min(codes, key=len) if codes else ""


def summary_rows(*, user: Any, region: str, level: int, year: int, unscoped: bool = False) -> list[dict[str, Any]]:
    """One row per region of ``level`` inside ``region`` (or the region itself), as the command and the API
    print them. ``unscoped`` is for the command line only (an operator on the server)."""
    region = normalise_region(region) or ("" if unscoped else visible_root(user))
    rows = GapSummary.objects.filter(year=year) if unscoped else GapSummary.objects.for_user(user).filter(year=year)
    if region:
        if region_level(region) > level:
            raise DomainError(_("Tingkat harus sama atau di bawah wilayah yang dipilih."), code="invalid_level")
        rows = rows.filter(region_code__startswith=region)
    rows = rows.filter(level=level).order_by("region_code")
    summaries = list(rows)
    names = dict(Region.objects.filter(code__in=[r.region_code for r in summaries]).values_list("code", "name"))
    return [
        {"region": r.region_code, "name": names.get(r.region_code, r.region_code), **r.as_dict()} for r in summaries
    ]


def summary_for(*, user: Any, region: str, year: int) -> GapSummary | None:
    region = normalise_region(region) or visible_root(user)
    rows = GapSummary.objects.for_user(user).filter(year=year)
    if region:
        return rows.filter(region_code=region).first()
    # Superuser without a region: the figures of the first province.
    return rows.filter(level=1).order_by("region_code").first()


@dataclass(frozen=True)
class GapListFilters:
    year: int
    region: str = ""
    desil: int | None = None
    uncovered: bool | None = None
    need: str = ""  # a need rule code: households with that need unmet
    reason: str = ""
    overlap: bool | None = None


_YES_NO = {"1": True, "ya": True, "true": True, "yes": True, "0": False, "tidak": False, "false": False, "no": False}


def gap_list_filters_parse(params: Mapping[str, str]) -> tuple[GapListFilters, list[str]]:
    """The gap list's filters from a query string (page, export and API alike), and what could not be read,
    in Bahasa Indonesia. Unknown region, need or reason codes are refused by ``gap_households``."""
    problems: list[str] = []
    year = default_year()
    raw_year = (params.get("year") or "").strip()
    if raw_year:
        if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100:
            year = int(raw_year)
        else:
            problems.append(_("Tahun %(value)s tidak valid: tulis empat angka, mis. 2026.") % {"value": raw_year})
    desil: int | None = None
    raw_desil = (params.get("desil") or "").strip()
    if raw_desil:
        if raw_desil.isdigit() and 1 <= int(raw_desil) <= 10:
            desil = int(raw_desil)
        else:
            problems.append(_("Desil harus angka 1 sampai 10."))
    flags: dict[str, bool | None] = {}
    for name in ("uncovered", "overlap"):
        raw = (params.get(name) or "").strip().lower()
        flags[name] = _YES_NO.get(raw)
        if raw and raw not in _YES_NO and raw not in ("all", "semua"):
            problems.append(_("Nilai %(name)s harus ya atau tidak (true/false).") % {"name": name})
    filters = GapListFilters(
        year=year,
        region=(params.get("region") or "").strip(),
        desil=desil,
        uncovered=flags["uncovered"],
        need=(params.get("need") or "").strip(),
        reason=(params.get("reason") or "").strip(),
        overlap=flags["overlap"],
    )
    return filters, problems


def gap_households(*, user: Any, filters: GapListFilters) -> QuerySet[GapHouseholdFact]:
    """Facts of the households the user may open one by one (partners: their allocation only)."""
    facts = GapHouseholdFact.objects.filter(year=filters.year)
    visible = Household.objects.for_user(user)
    facts = facts.filter(household__in=visible.values("pk"))
    region = normalise_region(filters.region)
    if region:
        column = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}[len(region)]
        facts = facts.filter(**{column: region})
    if filters.desil is not None:
        facts = facts.filter(desil=filters.desil)
    if filters.uncovered is not None:
        facts = facts.filter(covered=not filters.uncovered)
    if filters.overlap is not None:
        facts = facts.filter(overlap=filters.overlap)
    if filters.need:
        if not NeedRule.objects.filter(code=filters.need).exists():
            message = _("Kebutuhan tidak dikenal: %(code)s") % {"code": filters.need}
            raise DomainError(message, code="invalid_need")
        facts = facts.filter(unmet_needs__contains=f",{filters.need},")
    if filters.reason:
        if filters.reason not in REASON_LABELS:
            message = _("Alasan tidak dikenal: %(code)s") % {"code": filters.reason}
            raise DomainError(message, code="invalid_reason")
        facts = facts.filter(**{filters.reason: True})
    return facts.select_related("household", "household__desa")


def need_labels() -> dict[str, str]:
    return dict(NeedRule.objects.values_list("code", "name"))


def _runs_touching(year: int, region: str) -> QuerySet[GapRun]:
    """Runs whose figures reach ``region``: the whole registry, an ancestor, the region, or a part of it."""
    runs = GapRun.objects.filter(year=year)
    if not region:
        return runs
    ancestors = [region[:n] for n in (0, 2, 4, 6) if n < len(region)]
    return runs.filter(Q(region_code__in=[*ancestors, region]) | Q(region_code__startswith=region))


def freshness(*, year: int, region: str = "") -> dict[str, Any]:
    """What every page with gap figures states: when the figures of ``region`` were computed last, from
    which snapshots, and whether a computation touching it is waiting or running."""
    region = normalise_region(region)
    runs = _runs_touching(year, region)
    run = runs.filter(status=GapRunStatus.DONE).order_by("-finished_at").first()
    pending = runs.filter(status__in=[GapRunStatus.QUEUED, GapRunStatus.RUNNING]).order_by("id")
    return {
        "run": run,
        "computed_at": run.finished_at if run else None,
        "sources": run.sources_for(region) if run else [],
        "sources_label": run.sources_label_for(region) if run else "",
        "pending": list(pending),
    }


def home_summary(*, user: Any) -> dict[str, Any]:
    scope = scope_for(user)
    summary: dict[str, Any] = {"regions": Region.objects.filter(code__in=scope.region_codes)}
    summary["organizations"] = Organization.objects.filter(pk__in=scope.organization_ids)
    if not scope.can(Cap.DASHBOARD_VIEW) and not scope.can(Cap.REGISTRY_VIEW):
        return summary
    households = Household.objects.for_aggregates(user)
    by_desil = dict(
        households.filter(status=HouseholdStatus.ACTIVE).values_list("desil").annotate(n=Count("id")).order_by()
    )
    summary["desil_counts"] = [(d, by_desil.get(d, 0)) for d in range(1, 11) if by_desil.get(d)]
    summary["desil_unknown"] = by_desil.get(None, 0)
    summary["active_households"] = sum(by_desil.values())
    if scope.can(Cap.DASHBOARD_VIEW):
        summary["by_kecamatan"] = list(
            households.filter(status=HouseholdStatus.ACTIVE)
            .values("kecamatan_code")
            .annotate(total=Count("id"), desil1=Count("id", filter=Q(desil=1)))
            .order_by("-desil1")[:10]
        )
        names = dict(
            Region.objects.filter(code__in=[r["kecamatan_code"] for r in summary["by_kecamatan"]]).values_list(
                "code", "name"
            )
        )
        for row in summary["by_kecamatan"]:
            row["name"] = names.get(row["kecamatan_code"], row["kecamatan_code"])
    if scope.can(Cap.USERS_MANAGE):
        summary["user_count"] = Membership.objects.for_user(user).values("user").distinct().count()
    return summary
