"""Shared reference data: regions, organizations, memberships (roles) and the personal-data access log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tkpk.identifiers import IdentifierError, dotted_region_code, normalize_region_code
from tkpk.scoping import Grant, Role, ScopedQuerySet, scope_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser  # noqa: F401


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("Provinsi")
    KABUPATEN = 2, _("Kabupaten/Kota")
    KECAMATAN = 3, _("Kecamatan")
    DESA = 4, _("Desa/Kelurahan")


class RegionQuerySet(ScopedQuerySet["Region"]):
    def grant_q(self, grant: Grant) -> Q | None:
        # Regions are reference data: everyone sees the regions of their own area (and its ancestors).
        ancestors = [grant.region_code[:n] for n in (2, 4, 6) if n < len(grant.region_code)]
        return Q(code__startswith=grant.region_code) | Q(code__in=ancestors)

    def assignable_for(self, user: Any) -> RegionQuerySet:
        """Regions a secretariat may attach records to: its own region and below (never an ancestor,
        which would widen its own scope)."""
        scope = scope_for(user)
        if scope.is_superuser:
            return self.all()
        condition = Q(pk__in=[])
        for grant in scope.grants_for(Role.SECRETARIAT):
            condition |= Q(code__startswith=grant.region_code)
        return self.filter(condition)

    def desa(self) -> RegionQuerySet:
        return self.filter(level=RegionLevel.DESA)


class Region(models.Model):
    """A Kemendagri region; ``code`` is stored without dots (``3324012001``)."""

    code = models.CharField(_("kode Kemendagri"), max_length=10, primary_key=True)
    name = models.CharField(_("nama"), max_length=120)
    level = models.PositiveSmallIntegerField(_("tingkat"), choices=RegionLevel.choices)
    kind = models.CharField(
        _("jenis"), max_length=20, help_text=_("provinsi, kabupaten, kota, kecamatan, desa, kelurahan")
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("induk"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    postal_code = models.CharField(_("kode pos"), max_length=5, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"], name="region_level_name_idx")]
        constraints = [models.CheckConstraint(condition=Q(level__gte=1, level__lte=4), name="region_level_range")]

    def __str__(self) -> str:
        return f"{self.dotted_code} {self.name}"

    @property
    def dotted_code(self) -> str:
        return dotted_region_code(self.code)

    def clean(self) -> None:
        try:
            self.code = normalize_region_code(self.code)
        except IdentifierError as exc:
            raise ValidationError({"code": exc.message}) from exc
        expected = {2: 1, 4: 2, 6: 3, 10: 4}[len(self.code)]
        if self.level != expected:
            raise ValidationError({"level": _("Tingkat wilayah tidak sesuai panjang kode.")})
        if self.parent_id and not self.code.startswith(str(self.parent_id)):
            raise ValidationError({"parent": _("Kode wilayah harus diawali kode induknya.")})

    def ancestor_codes(self) -> dict[int, str]:
        """Codes of this region and its ancestors by level (1 = province ... 4 = desa)."""
        return {
            level: self.code[:length] for length, level in ((2, 1), (4, 2), (6, 3), (10, 4)) if length <= len(self.code)
        }


class OrganizationKind(models.TextChoices):
    SECRETARIAT = "secretariat", _("Sekretariat TKPK")
    OPD = "opd", _("Perangkat Daerah (OPD)")
    COMPANY = "company", _("Perusahaan (CSR/TJSL)")
    BAZNAS = "baznas", _("BAZNAS")
    BANK = "bank", _("Bank")
    NGO = "ngo", _("Mitra lain / LSM")


class CompanySector(models.TextChoices):
    PLANTATION = "plantation", _("Perkebunan")
    MINING = "mining", _("Pertambangan")
    ENERGY = "energy", _("Energi")
    MANUFACTURING = "manufacturing", _("Manufaktur/Industri")
    BANKING = "banking", _("Perbankan")
    OTHER = "other", _("Lainnya")


class OrganizationQuerySet(ScopedQuerySet["Organization"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP):
            return Q(region__code__startswith=grant.region_code)
        # Agencies and partners see their own organization only.
        return Q(pk=grant.organization_id)


class Organization(models.Model):
    kind = models.CharField(_("jenis"), max_length=20, choices=OrganizationKind.choices)
    name = models.CharField(_("nama"), max_length=200)
    short_code = models.SlugField(_("kode singkat"), max_length=40, unique=True)
    sector = models.CharField(_("sektor usaha"), max_length=20, choices=CompanySector.choices, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("wilayah TKPK"),
        on_delete=models.PROTECT,
        related_name="organizations",
        help_text=_("Provinsi atau kabupaten/kota tempat organisasi ini terdaftar."),
    )
    area = models.ManyToManyField(
        Region, verbose_name=_("wilayah kerja"), blank=True, related_name="operating_organizations"
    )
    is_active = models.BooleanField(_("aktif"), default=True)
    is_demo = models.BooleanField(_("data demo"), default=False)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisasi")
        verbose_name_plural = _("organisasi")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="company") | Q(sector=""), name="organization_sector_only_for_companies"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == OrganizationKind.COMPANY and not self.sector:
            raise ValidationError({"sector": _("Sektor wajib diisi untuk perusahaan.")})
        if self.kind != OrganizationKind.COMPANY and self.sector:
            raise ValidationError({"sector": _("Sektor hanya untuk perusahaan.")})
        if self.region_id and len(str(self.region_id)) > 4:
            raise ValidationError({"region": _("Wilayah TKPK harus provinsi atau kabupaten/kota.")})


# Which organization kinds may hold which role.
ROLE_ORGANIZATION_KINDS: dict[str, set[str]] = {
    Role.SECRETARIAT: {OrganizationKind.SECRETARIAT},
    Role.LEADERSHIP: {OrganizationKind.SECRETARIAT},
    Role.OPD_OFFICER: {OrganizationKind.OPD},
    Role.PARTNER: {OrganizationKind.COMPANY, OrganizationKind.BAZNAS, OrganizationKind.BANK, OrganizationKind.NGO},
}


class MembershipQuerySet(ScopedQuerySet["Membership"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(organization__region__code__startswith=grant.region_code)
        return None


class Membership(models.Model):
    """A user's role in one organization; the organization's region is the role's scope."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("pengguna"), on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisasi"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("peran"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("keanggotaan/peran")
        verbose_name_plural = _("keanggotaan/peran")
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_one_role_per_org")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organization}"

    def clean(self) -> None:
        if self.organization_id and self.role:
            allowed = ROLE_ORGANIZATION_KINDS[self.role]
            if self.organization.kind not in allowed:
                raise ValidationError(
                    {
                        "role": _("Peran ini tidak dapat diberikan pada organisasi berjenis %(kind)s.")
                        % {"kind": self.organization.get_kind_display()}
                    }
                )


class AccessAction(models.TextChoices):
    REVEAL_NIK = "reveal_nik", _("Membuka NIK/No KK lengkap")
    VIEW_HOUSEHOLD = "view_household", _("Melihat data keluarga")
    EXPORT = "export", _("Mengekspor data pribadi")


class PersonalDataAccessQuerySet(ScopedQuerySet["PersonalDataAccess"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(region_code__startswith=grant.region_code)
        return None


class PersonalDataAccess(models.Model):
    """Who viewed, revealed or exported which personal records (UU 27/2022)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("pengguna"), on_delete=models.PROTECT)
    action = models.CharField(_("tindakan"), max_length=20, choices=AccessAction.choices)
    object_type = models.CharField(_("jenis data"), max_length=40)
    object_ids = models.JSONField(_("id data"), default=list)
    record_count = models.PositiveIntegerField(_("jumlah data"), default=0)
    region_code = models.CharField(_("kode wilayah"), max_length=10, blank=True, db_index=True)
    detail = models.CharField(_("keterangan"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("alamat IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("waktu"), auto_now_add=True, db_index=True)

    objects = PersonalDataAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("log akses data pribadi")
        verbose_name_plural = _("log akses data pribadi")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"


def region_fields(desa: Region | str) -> dict[str, Any]:
    """The denormalised code columns a scoped record stores for its desa."""
    code = desa.code if isinstance(desa, Region) else str(desa)
    return {"province_code": code[:2], "kabupaten_code": code[:4], "kecamatan_code": code[:6]}
