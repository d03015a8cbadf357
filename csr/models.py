"""CSR portal: companies' contacts, CSR cycles with deadlines, by-name-by-address target allocations,
proposals with their workflow and joint field verification, agreements, written refusals and reminders.

Every model is scoped through ``tkpk.scoping``: the secretariat sees its region, a partner (company,
BAZNAS, bank, ...) only its own organization's rows, leadership counts (no by-name rows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tkpk.models import CompanySector
from tkpk.scoping import Grant, Role, ScopedQuerySet, region_q


def _default_required_sectors() -> list[str]:
    return [CompanySector.PLANTATION.value, CompanySector.MINING.value]


# ----------------------------------------------------------------------------------------------- contacts


class CompanyContactQuerySet(ScopedQuerySet["CompanyContact"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(organization__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(organization_id=grant.organization_id)
        return None


class CompanyContact(models.Model):
    """A contact person of a company or other partner (reminders go to these and to its users)."""

    organization = models.ForeignKey(
        "tkpk.Organization", verbose_name=_("organisasi"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("nama"), max_length=150)
    position = models.CharField(_("jabatan"), max_length=150, blank=True)
    phone = models.CharField(_("telepon"), max_length=40, blank=True)
    email = models.EmailField(_("surel"), blank=True)
    is_primary = models.BooleanField(_("kontak utama"), default=False)

    objects = CompanyContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("kontak mitra")
        verbose_name_plural = _("kontak mitra")
        ordering = ["organization", "-is_primary", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"


# ------------------------------------------------------------------------------------------------- cycles


class CycleStatus(models.TextChoices):
    OPEN = "open", _("Dibuka")
    CLOSED = "closed", _("Ditutup")
    IMPLEMENTATION = "implementation", _("Pelaksanaan")
    REPORTED = "reported", _("Dilaporkan")


class CsrCycleQuerySet(ScopedQuerySet["CsrCycle"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP):
            return Q(region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            # A partner sees the cycles of the TKPK region it is registered in (and the province's).
            return Q(region__code=grant.region_code) | Q(region__code=grant.region_code[:2])
        return None


class CsrCycle(models.Model):
    """One round of CSR planning (e.g. "Musrenbang CSR 2026") of a TKPK region."""

    region = models.ForeignKey(
        "tkpk.Region", verbose_name=_("wilayah TKPK"), on_delete=models.PROTECT, related_name="csr_cycles"
    )
    year = models.PositiveSmallIntegerField(_("tahun"))
    name = models.CharField(_("nama"), max_length=150)
    proposal_deadline = models.DateTimeField(_("batas pengajuan usulan"))
    verification_starts = models.DateField(_("verifikasi lapangan mulai"))
    verification_ends = models.DateField(_("verifikasi lapangan selesai"))
    realisation_deadline = models.DateField(
        _("batas realisasi"), help_text=_("Program yang disepakati harus sudah terealisasi pada tanggal ini.")
    )
    status = models.CharField(_("status"), max_length=20, choices=CycleStatus.choices, default=CycleStatus.OPEN)
    required_sectors = models.JSONField(
        _("sektor wajib berpartisipasi"),
        default=_default_required_sectors,
        blank=True,
        help_text=_("Kode sektor perusahaan yang wajib mengambil setidaknya satu program (mis. plantation, mining)."),
    )
    note = models.TextField(_("keterangan"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dibuat oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    objects = CsrCycleQuerySet.as_manager()

    class Meta:
        verbose_name = _("siklus CSR")
        verbose_name_plural = _("siklus CSR")
        ordering = ["-year", "-proposal_deadline"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "name"], name="csr_cycle_unique_name"),
            models.CheckConstraint(
                condition=Q(verification_ends__gte=models.F("verification_starts")), name="csr_cycle_verification_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def required_sector_labels(self) -> list[str]:
        labels = dict(CompanySector.choices)
        return [str(labels.get(code, code)) for code in self.required_sectors or []]

    def days_left(self, now: dt.datetime | None = None) -> int:
        """Whole days until the deadline (0 on its last day, negative after it)."""
        now = now or timezone.now()
        local_deadline = timezone.localtime(self.proposal_deadline).date()
        return (local_deadline - timezone.localtime(now).date()).days


class CycleReopenQuerySet(ScopedQuerySet["CycleReopen"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(cycle__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(organization_id=grant.organization_id)
        return None


class CycleReopen(models.Model):
    """The secretariat reopened submission for one company after the deadline, with a note."""

    cycle = models.ForeignKey(CsrCycle, verbose_name=_("siklus"), on_delete=models.CASCADE, related_name="reopens")
    organization = models.ForeignKey(
        "tkpk.Organization", verbose_name=_("mitra"), on_delete=models.CASCADE, related_name="csr_reopens"
    )
    until = models.DateTimeField(_("dibuka sampai"))
    note = models.CharField(_("catatan"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dibuka oleh"), null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    objects = CycleReopenQuerySet.as_manager()

    class Meta:
        verbose_name = _("pembukaan kembali pengajuan")
        verbose_name_plural = _("pembukaan kembali pengajuan")
        constraints = [models.UniqueConstraint(fields=["cycle", "organization"], name="csr_reopen_once_per_company")]

    def __str__(self) -> str:
        return f"{self.cycle} — {self.organization}"


# -------------------------------------------------------------------------------------------- allocation


class AllocationStatus(models.TextChoices):
    ACTIVE = "active", _("Aktif")
    RELEASED = "released", _("Dikembalikan ke daftar sasaran")


class AllocationSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    GAP_LIST = "gap_list", _("Daftar kesenjangan")
    SPREADSHEET = "spreadsheet", _("Spreadsheet")
    PROPOSAL = "proposal", _("Usulan tambahan mitra")


class AllocationQuerySet(ScopedQuerySet["Allocation"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return region_q(grant, "household__")
        if grant.role == Role.PARTNER:
            return Q(organization_id=grant.organization_id) & region_q(grant, "household__")
        return None

    def aggregate_grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.LEADERSHIP:
            return region_q(grant, "household__")
        return self.grant_q(grant)

    def active(self) -> AllocationQuerySet:
        return self.filter(status=AllocationStatus.ACTIVE)


class Allocation(models.Model):
    """A target household given by the secretariat to a partner in a CSR cycle for a need (assistance kind).

    One household is allocated to one partner per need and cycle; a second partner needs the secretariat's
    override with a reason (enforced by a partial unique index). Allocations recorded before cycles existed
    have neither cycle nor kind."""

    organization = models.ForeignKey(
        "tkpk.Organization", verbose_name=_("mitra"), on_delete=models.PROTECT, related_name="allocations"
    )
    household = models.ForeignKey(
        "households.Household", verbose_name=_("keluarga sasaran"), on_delete=models.PROTECT, related_name="allocations"
    )
    cycle = models.ForeignKey(
        CsrCycle,
        verbose_name=_("siklus CSR"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    assistance_kind = models.ForeignKey(
        "programs.AssistanceKind",
        verbose_name=_("kebutuhan (jenis bantuan)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.ACTIVE
    )
    source = models.CharField(
        _("asal"), max_length=12, choices=AllocationSource.choices, default=AllocationSource.MANUAL
    )
    override_reason = models.CharField(
        _("alasan alokasi ganda"),
        max_length=300,
        blank=True,
        help_text=_("Wajib bila keluarga ini sudah dialokasikan ke mitra lain untuk kebutuhan yang sama."),
    )
    released_reason = models.CharField(_("alasan dikembalikan"), max_length=300, blank=True)
    released_at = models.DateTimeField(_("dikembalikan"), null=True, blank=True)
    import_job = models.ForeignKey(
        "households.ImportJob",
        verbose_name=_("unggahan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("catatan"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dialokasikan oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("dialokasikan"), auto_now_add=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("alokasi sasaran mitra")
        verbose_name_plural = _("alokasi sasaran mitra")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "household", "cycle", "assistance_kind"],
                condition=Q(status="active"),
                name="allocation_once_per_partner_need",
            ),
            models.UniqueConstraint(
                fields=["household", "cycle", "assistance_kind"],
                condition=Q(status="active", override_reason=""),
                name="allocation_one_partner_per_need",
            ),
        ]
        indexes = [
            models.Index(fields=["cycle", "organization"], name="allocation_cycle_org"),
            models.Index(fields=["organization", "household"], name="allocation_org_household"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} → {self.household_id}"


# --------------------------------------------------------------------------------------------- proposals


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Draf")
    SUBMITTED = "submitted", _("Diajukan")
    RETURNED = "returned", _("Dikembalikan untuk perbaikan")
    VERIFIED = "verified", _("Terverifikasi")
    AGREED = "agreed", _("Disepakati (PKS)")
    IMPLEMENTED = "implemented", _("Dilaksanakan")
    REPORTED = "reported", _("Dilaporkan")
    WITHDRAWN = "withdrawn", _("Ditarik")


class ProposalQuerySet(ScopedQuerySet["Proposal"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(cycle__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(organization_id=grant.organization_id)
        return None

    def aggregate_grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.LEADERSHIP:
            return Q(cycle__region__code__startswith=grant.region_code)
        return self.grant_q(grant)


class Proposal(models.Model):
    """A partner's participation proposal in a cycle: one program for a set of target households."""

    organization = models.ForeignKey(
        "tkpk.Organization", verbose_name=_("mitra"), on_delete=models.PROTECT, related_name="csr_proposals"
    )
    cycle = models.ForeignKey(CsrCycle, verbose_name=_("siklus"), on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(_("judul program"), max_length=200)
    description = models.TextField(_("uraian"), blank=True)
    assistance_kind = models.ForeignKey(
        "programs.AssistanceKind", verbose_name=_("jenis bantuan"), on_delete=models.PROTECT, related_name="+"
    )
    cluster = models.ForeignKey(
        "programs.ProgramCluster", verbose_name=_("klaster"), on_delete=models.PROTECT, related_name="+"
    )
    strategy = models.ForeignKey(
        "programs.ProgramStrategy", verbose_name=_("strategi"), on_delete=models.PROTECT, related_name="+"
    )
    budget = models.DecimalField(
        _("anggaran (Rp)"), max_digits=16, decimal_places=0, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    starts_on = models.DateField(_("jadwal mulai"))
    ends_on = models.DateField(_("jadwal selesai"))
    contact_name = models.CharField(_("narahubung"), max_length=150)
    contact_phone = models.CharField(_("telepon narahubung"), max_length=40, blank=True)
    contact_email = models.EmailField(_("surel narahubung"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT)
    status_note = models.TextField(_("catatan status terakhir"), blank=True)
    submitted_at = models.DateTimeField(_("diajukan"), null=True, blank=True)
    program = models.OneToOneField(
        "programs.Program",
        verbose_name=_("program pelaksanaan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="csr_proposal",
    )
    final_report = models.TextField(_("laporan akhir"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dibuat oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("usulan CSR")
        verbose_name_plural = _("usulan CSR")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="csr_proposal_period_order")
        ]
        indexes = [models.Index(fields=["cycle", "status"], name="csr_proposal_cycle_status")]

    def __str__(self) -> str:
        return self.title


class VerificationResult(models.TextChoices):
    PENDING = "pending", _("Belum diverifikasi")
    ELIGIBLE = "eligible", _("Layak")
    NOT_FOUND = "not_found", _("Tidak ditemukan")
    MOVED = "moved", _("Pindah")
    ALREADY_HELPED = "already_helped", _("Sudah dibantu")
    DECEASED = "deceased", _("Meninggal")
    OTHER = "other", _("Lainnya")


class ProposalTargetQuerySet(ScopedQuerySet["ProposalTarget"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(proposal__cycle__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(proposal__organization_id=grant.organization_id)
        return None


class ProposalTarget(models.Model):
    """A household a proposal aims at: from the partner's allocation, or an additional one the partner
    proposes with a reason (then allocated to it once the joint field verification finds it eligible).
    An additional family not yet in the registry is described by name and address until the secretariat
    links it to a household."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("usulan"), on_delete=models.CASCADE, related_name="targets")
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("keluarga"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="csr_targets",
    )
    allocation = models.ForeignKey(
        Allocation, verbose_name=_("alokasi"), null=True, blank=True, on_delete=models.SET_NULL, related_name="targets"
    )
    is_additional = models.BooleanField(_("usulan tambahan"), default=False)
    additional_reason = models.CharField(_("alasan usulan tambahan"), max_length=500, blank=True)
    proposed_name = models.CharField(_("nama kepala keluarga (usulan)"), max_length=150, blank=True)
    proposed_address = models.CharField(_("alamat (usulan)"), max_length=300, blank=True)
    proposed_desa = models.ForeignKey(
        "tkpk.Region",
        verbose_name=_("desa/kelurahan (usulan)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verification = models.CharField(
        _("hasil verifikasi"), max_length=16, choices=VerificationResult.choices, default=VerificationResult.PENDING
    )
    verification_note = models.CharField(_("catatan verifikasi"), max_length=500, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diverifikasi oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    verified_at = models.DateTimeField(_("diverifikasi"), null=True, blank=True)

    objects = ProposalTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("sasaran usulan")
        verbose_name_plural = _("sasaran usulan")
        ordering = ["proposal", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "household"], condition=Q(household__isnull=False), name="csr_target_once"
            ),
            models.CheckConstraint(
                condition=Q(household__isnull=False) | Q(is_additional=True), name="csr_target_household_or_additional"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.household_id or self.proposed_name}"

    @property
    def is_ineligible(self) -> bool:
        return self.verification not in (VerificationResult.PENDING, VerificationResult.ELIGIBLE)


class ProposalTransitionQuerySet(ScopedQuerySet["ProposalTransition"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(proposal__cycle__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(proposal__organization_id=grant.organization_id)
        return None


class ProposalTransition(models.Model):
    """One step of a proposal's status timeline."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("usulan"), on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField(_("tindakan"), max_length=20)
    from_status = models.CharField(_("dari"), max_length=12, choices=ProposalStatus.choices)
    to_status = models.CharField(_("menjadi"), max_length=12, choices=ProposalStatus.choices)
    note = models.TextField(_("catatan"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("oleh"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("waktu"), default=timezone.now)

    objects = ProposalTransitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("riwayat status usulan")
        verbose_name_plural = _("riwayat status usulan")
        ordering = ["proposal", "at", "id"]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.from_status} → {self.to_status}"


# -------------------------------------------------------------------------------------------- agreements


class AgreementQuerySet(ScopedQuerySet["Agreement"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(proposal__cycle__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(proposal__organization_id=grant.organization_id)
        return None


class Agreement(models.Model):
    """The collaboration agreement (perjanjian kerja sama) of an agreed proposal, with its generated PDF."""

    proposal = models.OneToOneField(
        Proposal, verbose_name=_("usulan"), on_delete=models.PROTECT, related_name="agreement"
    )
    number = models.CharField(_("nomor PKS"), max_length=100, unique=True)
    signed_on = models.DateField(_("tanggal penandatanganan"))
    place = models.CharField(_("tempat penandatanganan"), max_length=100, blank=True)
    government_signatory = models.CharField(_("penandatangan pemerintah daerah"), max_length=200)
    company_signatory = models.CharField(_("penandatangan mitra"), max_length=200)
    pdf = models.FileField(_("berkas PDF"), upload_to="csr/agreements/%Y/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dibuat oleh"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("perjanjian kerja sama")
        verbose_name_plural = _("perjanjian kerja sama")

    def __str__(self) -> str:
        return self.number


# ---------------------------------------------------------------------------------------------- refusals


class RefusalQuerySet(ScopedQuerySet["Refusal"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(cycle__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(organization_id=grant.organization_id)
        return None

    def aggregate_grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.LEADERSHIP:
            return Q(cycle__region__code__startswith=grant.region_code)
        return self.grant_q(grant)


class Refusal(models.Model):
    """A partner's written statement that it will not take part in a cycle, addressed to the Bupati/Wali Kota
    through Bappeda; the letter is generated as a PDF and the secretariat acknowledges it."""

    organization = models.ForeignKey(
        "tkpk.Organization", verbose_name=_("mitra"), on_delete=models.PROTECT, related_name="csr_refusals"
    )
    cycle = models.ForeignKey(CsrCycle, verbose_name=_("siklus"), on_delete=models.PROTECT, related_name="refusals")
    reason = models.TextField(_("alasan tidak berpartisipasi"))
    signatory_name = models.CharField(_("nama penanda tangan"), max_length=150)
    signatory_position = models.CharField(_("jabatan penanda tangan"), max_length=150)
    letter_number = models.CharField(_("nomor surat"), max_length=100, unique=True)
    letter_pdf = models.FileField(_("surat (PDF)"), upload_to="csr/refusals/%Y/", blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("diajukan oleh"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("diajukan"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("diterima oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("diterima"), null=True, blank=True)
    acknowledgement_note = models.CharField(_("catatan penerimaan"), max_length=500, blank=True)

    objects = RefusalQuerySet.as_manager()

    class Meta:
        verbose_name = _("surat tidak berpartisipasi")
        verbose_name_plural = _("surat tidak berpartisipasi")
        ordering = ["-submitted_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "cycle"], name="csr_refusal_once_per_cycle")]

    def __str__(self) -> str:
        return self.letter_number


# --------------------------------------------------------------------------------------------- reminders


class ReminderKind(models.TextChoices):
    DEADLINE = "deadline", _("Batas pengajuan usulan")
    REALISATION = "realisation", _("Realisasi terlambat")


class ReminderQuerySet(ScopedQuerySet["Reminder"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(cycle__region__code__startswith=grant.region_code)
        if grant.role == Role.PARTNER:
            return Q(organization_id=grant.organization_id)
        return None


class Reminder(models.Model):
    """An email reminder sent by the beat task; one per company, cycle, kind and step (never twice)."""

    cycle = models.ForeignKey(CsrCycle, verbose_name=_("siklus"), on_delete=models.CASCADE, related_name="reminders")
    organization = models.ForeignKey(
        "tkpk.Organization", verbose_name=_("mitra"), on_delete=models.CASCADE, related_name="csr_reminders"
    )
    proposal = models.ForeignKey(
        Proposal, verbose_name=_("usulan"), null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(_("jenis"), max_length=12, choices=ReminderKind.choices)
    step = models.CharField(_("tahap"), max_length=20, help_text=_("mis. H-7, H-1, terlambat"))
    recipients = models.JSONField(_("penerima"), default=list)
    sent_at = models.DateTimeField(_("dikirim"), default=timezone.now)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("pengingat CSR")
        verbose_name_plural = _("pengingat CSR")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "organization", "kind", "step"],
                condition=Q(proposal__isnull=True),
                name="csr_reminder_once_per_step",
            ),
            models.UniqueConstraint(
                fields=["proposal", "kind", "step"],
                condition=Q(proposal__isnull=False),
                name="csr_reminder_once_per_proposal_step",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.kind} {self.step}"
