"""The one role/region scoping mechanism.

A user becomes a ``Scope``: a set of ``Grant`` (role, organization, region) from their memberships.
Every scoped model's QuerySet subclasses ``ScopedQuerySet`` and says, per grant, which rows it may see
(``grant_q``); ``for_user`` ORs those together. The admin (``ScopedAdminMixin``), the HTML views
(``ScopedViewMixin``) and the API (``tkpk.api.ScopedViewSetMixin``) all start from ``for_user``, so an
object outside the user's scope is simply not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

_M = TypeVar("_M", bound=models.Model)


class Role(models.TextChoices):
    SECRETARIAT = "secretariat", _("Sekretariat TKPK")
    OPD_OFFICER = "opd_officer", _("Petugas OPD")
    PARTNER = "partner", _("Mitra (perusahaan/lembaga)")
    LEADERSHIP = "leadership", _("Pimpinan")


class Cap:
    """Capabilities: what a role may do, independent of which rows it sees."""

    REGISTRY_VIEW = "registry.view"
    REGISTRY_REVEAL_ID = "registry.reveal_id"
    REGISTRY_EXPORT = "registry.export"
    ADMIN = "admin.access"
    USERS_MANAGE = "users.manage"
    DASHBOARD_VIEW = "dashboard.view"
    API = "api.access"
    IMPORT = "registry.import"
    PROGRAM_VIEW = "programs.view"
    # Create and edit programs: the secretariat for any organization of its region, others for their own.
    PROGRAM_MANAGE = "programs.manage"
    INTERVENTION_LOG = "programs.log_intervention"
    ACTIVITY_REPORT_SUBMIT = "programs.report_submit"
    ACTIVITY_REPORT_REVIEW = "programs.report_review"
    # Coverage-gap figures (counts per region): dashboards, summaries, periodic reports.
    GAP_VIEW = "gaps.view"
    # Start a recomputation, generate periodic reports, download by-name gap lists (BNBA) of a desa.
    GAP_MANAGE = "gaps.manage"
    # CSR: set up cycles, allocate targets, review proposals, acknowledge refusals, compliance.
    CSR_MANAGE = "csr.manage"
    # CSR portal of a company or other partner: its allocation, proposals, deliveries, refusal letter.
    CSR_PARTICIPATE = "csr.participate"
    # CSR figures (Musrenbang CSR summary, compliance counts) without by-name rows.
    CSR_SUMMARY = "csr.summary"


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.SECRETARIAT: frozenset(
        {
            Cap.REGISTRY_VIEW,
            Cap.REGISTRY_REVEAL_ID,
            Cap.REGISTRY_EXPORT,
            Cap.ADMIN,
            Cap.USERS_MANAGE,
            Cap.DASHBOARD_VIEW,
            Cap.API,
            Cap.IMPORT,
            Cap.PROGRAM_VIEW,
            Cap.PROGRAM_MANAGE,
            Cap.INTERVENTION_LOG,
            Cap.ACTIVITY_REPORT_REVIEW,
            Cap.GAP_VIEW,
            Cap.GAP_MANAGE,
            Cap.CSR_MANAGE,
            Cap.CSR_SUMMARY,
        }
    ),
    Role.OPD_OFFICER: frozenset(
        {
            Cap.REGISTRY_VIEW,
            Cap.DASHBOARD_VIEW,
            Cap.API,
            Cap.PROGRAM_VIEW,
            Cap.PROGRAM_MANAGE,
            Cap.INTERVENTION_LOG,
            Cap.ACTIVITY_REPORT_SUBMIT,
            Cap.GAP_VIEW,
        }
    ),
    # Partners see only households allocated to them (row scope), never a full NIK or No KK.
    Role.PARTNER: frozenset(
        {
            Cap.REGISTRY_VIEW,
            Cap.API,
            Cap.PROGRAM_VIEW,
            Cap.PROGRAM_MANAGE,
            Cap.INTERVENTION_LOG,
            Cap.ACTIVITY_REPORT_SUBMIT,
            Cap.CSR_PARTICIPATE,
        }
    ),
    # Leadership reads aggregates only: no by-name registry; programs and their realisation read-only.
    Role.LEADERSHIP: frozenset({Cap.DASHBOARD_VIEW, Cap.PROGRAM_VIEW, Cap.GAP_VIEW, Cap.CSR_SUMMARY}),
}


@dataclass(frozen=True)
class Grant:
    role: str
    organization_id: int
    organization_kind: str
    region_code: str  # plain digits: 2 (province) or 4 (kabupaten/kota)

    @property
    def region_level(self) -> int:
        return {2: 1, 4: 2, 6: 3, 10: 4}[len(self.region_code)]


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    is_superuser: bool = False
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def can(self, capability: str) -> bool:
        if self.is_superuser:
            return True
        return any(capability in ROLE_CAPABILITIES[g.role] for g in self.grants)

    def grants_for(self, *roles: str) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if g.role in roles)

    @property
    def primary_role(self) -> str | None:
        if self.is_superuser:
            return Role.SECRETARIAT
        order = [Role.SECRETARIAT, Role.OPD_OFFICER, Role.PARTNER, Role.LEADERSHIP]
        return next((r for r in order if r in self.roles), None)

    def regions_with(self, *capabilities: str) -> list[str]:
        """Regions of the grants whose role alone has every one of ``capabilities`` (one membership must
        carry them all: API access from one role and figures from another do not add up)."""
        return sorted({g.region_code for g in self.grants if all(c in ROLE_CAPABILITIES[g.role] for c in capabilities)})

    @property
    def region_codes(self) -> list[str]:
        return sorted({g.region_code for g in self.grants})

    @property
    def organization_ids(self) -> list[int]:
        return sorted({g.organization_id for g in self.grants})


EMPTY_SCOPE = Scope(user_id=None)


def scope_for(user: AbstractBaseUser | AnonymousUser | None) -> Scope:
    """The user's scope, computed once per user object (i.e. once per request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    cached: Scope | None = getattr(user, "_tkpk_scope", None)
    if cached is not None:
        return cached
    from tkpk.models import Membership

    rows = (
        Membership.objects.filter(user_id=user.pk, organization__is_active=True)
        .values_list("role", "organization_id", "organization__kind", "organization__region_id")
        .order_by("id")
    )
    scope = Scope(
        user_id=user.pk,
        is_superuser=bool(getattr(user, "is_superuser", False)),
        grants=tuple(Grant(role, org_id, kind, region) for role, org_id, kind, region in rows),
    )
    user._tkpk_scope = scope  # type: ignore[attr-defined]
    return scope


class ScopedQuerySet(models.QuerySet[_M], Generic[_M]):
    """Base QuerySet of every scoped model; subclasses implement ``grant_q``."""

    def grant_q(self, grant: Grant) -> Q | None:
        """Rows one grant may see; None = none. The default hides everything, so a model that forgets
        to say what a role sees shows nothing rather than everything."""
        return None

    def aggregate_grant_q(self, grant: Grant) -> Q | None:
        """Rows one grant may count in dashboards (no row is shown); defaults to ``grant_q``."""
        return self.grant_q(grant)

    def for_user(self, user: Any) -> ScopedQuerySet[_M]:
        """Rows the user may see one by one."""
        return self._scoped(user, self.grant_q)

    def for_aggregates(self, user: Any) -> ScopedQuerySet[_M]:
        """Rows the user may count (e.g. leadership counts its whole region but opens no record)."""
        return self._scoped(user, self.aggregate_grant_q)

    def _scoped(self, user: Any, grant_q: Any) -> ScopedQuerySet[_M]:
        scope = scope_for(user)
        if scope.is_superuser:
            return self.all()
        condition: Q | None = None
        for grant in scope.grants:
            grant_condition = grant_q(grant)
            if grant_condition is None:
                continue
            condition = grant_condition if condition is None else condition | grant_condition
        if condition is None:
            return self.none()
        return self.filter(condition)


def region_q(grant: Grant, prefix: str = "") -> Q:
    """Rows whose stored region code columns lie in the grant's region."""
    column = {1: "province_code", 2: "kabupaten_code", 3: "kecamatan_code", 4: "desa_id"}[grant.region_level]
    return Q(**{f"{prefix}{column}": grant.region_code})


class ScopedViewMixin(AccessMixin):
    """HTML views: login required, a capability checked, and ``scoped_queryset`` from ``for_user``."""

    required_capability: str = Cap.REGISTRY_VIEW
    model: type[models.Model] | None = None
    request: HttpRequest

    @property
    def scope(self) -> Scope:
        return scope_for(self.request.user)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not scope_for(request.user).can(self.required_capability):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def get_queryset(self) -> models.QuerySet[Any]:
        assert self.model is not None
        return self.model._default_manager.for_user(self.request.user)  # type: ignore[attr-defined]


class ScopedAdminMixin:
    """Admin: only staff with the admin capability, rows from ``for_user``, FK choices scoped too.

    Leadership is read-only everywhere; only superusers touch reference data marked ``superuser_only``.
    """

    superuser_only_write = False

    def _scope(self, request: HttpRequest) -> Scope:
        return scope_for(request.user)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        return super().get_queryset(request).for_user(request.user)  # type: ignore[misc]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and self._scope(request).can(Cap.ADMIN)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.superuser_only_write:
            return bool(request.user.is_superuser)
        return self.has_module_permission(request)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission

    def choice_queryset(self, model: type[models.Model], request: HttpRequest) -> models.QuerySet[Any] | None:
        """What a related field may point to: the model's ``assignable_for`` (e.g. regions inside the
        user's own area, no ancestors), else its registered admin's scoped queryset, else ``for_user``."""
        manager: Any = model._default_manager
        if hasattr(manager, "assignable_for"):
            return manager.assignable_for(request.user)
        admin_site = getattr(self, "admin_site", None)
        if admin_site is not None and model in admin_site._registry:
            return admin_site._registry[model].get_queryset(request)
        if hasattr(manager, "for_user"):
            return manager.for_user(request.user)
        return None

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            queryset = self.choice_queryset(db_field.related_model, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            queryset = self.choice_queryset(db_field.related_model, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
