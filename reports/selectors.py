"""Aggregate reads for dashboards (counts only, no personal data)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from households.choices import HouseholdStatus
from households.models import Household
from tkpk.models import Membership, Organization, Region
from tkpk.scoping import Cap, scope_for


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
