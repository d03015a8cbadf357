from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export import resources

from tkpk.admin_utils import ScopedImportExportMixin, ScopedModelAdmin
from tkpk.models import Membership, Organization, PersonalDataAccess, Region
from tkpk.scoping import Cap, Role, ScopedAdminMixin, scope_for

User = get_user_model()


class RegionResource(resources.ModelResource):
    class Meta:
        model = Region
        fields = ("code", "name", "level", "kind", "parent", "postal_code")
        import_id_fields = ("code",)


@admin.register(Region)
class RegionAdmin(ScopedImportExportMixin, ScopedModelAdmin):
    # The region list comes from Kepmendagri (load_regions); only superusers edit it by hand.
    superuser_only_write = True
    resource_classes = [RegionResource]
    list_display = ("dotted_code", "name", "level", "kind", "parent")
    list_filter = ("level", "kind")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    ordering = ("code",)


class OrganizationResource(resources.ModelResource):
    """Import/export of organizations, limited to the importing user's own region."""

    def __init__(self, user: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user

    class Meta:
        model = Organization
        fields = ("id", "kind", "name", "short_code", "sector", "region", "is_active")
        import_id_fields = ("short_code",)
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> QuerySet[Organization]:
        # Existing rows are looked up (and exported) only within the user's scope.
        return Organization.objects.for_user(self.user)

    def before_save_instance(self, instance: Organization, row: Any, **kwargs: Any) -> None:
        if not Region.objects.assignable_for(self.user).filter(pk=instance.region_id).exists():
            raise ValueError(_("Wilayah %(region)s berada di luar wilayah Anda.") % {"region": instance.region_id})
        instance.full_clean(exclude=["area"])


@admin.register(Organization)
class OrganizationAdmin(ScopedImportExportMixin, ScopedModelAdmin):
    resource_classes = [OrganizationResource]

    def get_resource_kwargs(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_resource_kwargs(request, *args, **kwargs), "user": request.user}

    list_display = ("name", "kind", "short_code", "sector", "region", "is_active")
    list_filter = ("kind", "sector", "is_active")
    search_fields = ("name", "short_code")
    autocomplete_fields = ("region", "area")
    prepopulated_fields = {"short_code": ("name",)}


@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin):
    list_display = ("user", "role", "organization", "created_at")
    list_filter = ("role", "organization__kind")
    search_fields = ("user__username", "user__first_name", "user__last_name", "organization__name")
    autocomplete_fields = ("user", "organization")


class MembershipInline(ScopedAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("organization",)
    fk_name = "user"

    def get_min_num(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        # A secretariat only sees users with a role in its region, so every account it creates gets one.
        return 0 if request.user.is_superuser else 1

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("validate_min", not request.user.is_superuser)
        return super().get_formset(request, obj, **kwargs)


admin.site.unregister(User)


@admin.register(User)
class ScopedUserAdmin(ScopedAdminMixin, UserAdmin):
    """Secretariat staff manage the users of their own region's organizations; superuser fields stay locked."""

    inlines = [MembershipInline]
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "memberships__role")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = admin.ModelAdmin.get_queryset(self, request)
        scope = scope_for(request.user)
        if scope.is_superuser:
            return qs
        regions = [g.region_code for g in scope.grants_for(Role.SECRETARIAT)]
        if not regions:
            return qs.none()
        condition = Q(pk=request.user.pk)
        for code in regions:
            condition |= Q(memberships__organization__region__code__startswith=code)
        return qs.filter(condition).exclude(is_superuser=True).distinct()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if request.user.is_superuser:
            return ()
        return ("is_superuser", "user_permissions", "groups", "last_login", "date_joined")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and scope_for(request.user).can(Cap.USERS_MANAGE)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ScopedModelAdmin):
    """Read-only audit trail."""

    list_display = ("created_at", "user", "action", "object_type", "record_count", "region_code", "ip_address")
    list_filter = ("action", "object_type")
    search_fields = ("user__username", "region_code")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.site_header = _("TKPK — Administrasi Sekretariat")
admin.site.site_title = _("TKPK")
admin.site.index_title = _("Administrasi data")
