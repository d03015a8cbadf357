"""CSR partners. For now only the allocation of target households to a partner, which scopes what a
partner user may see; proposals, cycles and written refusals come with the CSR issue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tkpk.scoping import Grant, Role, ScopedQuerySet, region_q


class AllocationQuerySet(ScopedQuerySet["Allocation"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return region_q(grant, "household__")
        if grant.role == Role.PARTNER:
            return Q(organization_id=grant.organization_id) & region_q(grant, "household__")
        return None


class Allocation(models.Model):
    """A target household recommended by the secretariat to a partner (company, BAZNAS, bank, ...)."""

    organization = models.ForeignKey(
        "tkpk.Organization", verbose_name=_("mitra"), on_delete=models.PROTECT, related_name="allocations"
    )
    household = models.ForeignKey(
        "households.Household", verbose_name=_("keluarga sasaran"), on_delete=models.PROTECT, related_name="allocations"
    )
    note = models.CharField(_("catatan"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dibuat oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("alokasi sasaran mitra")
        verbose_name_plural = _("alokasi sasaran mitra")
        constraints = [
            models.UniqueConstraint(fields=["organization", "household"], name="allocation_once_per_partner")
        ]

    def __str__(self) -> str:
        return f"{self.organization} → {self.household_id}"
