"""API shapes of the CSR portal: input serializers validate shape only (the rules live in csr.services),
output serializers render what the selectors return.

A household appears by id, head's name, address, desa and desil, and the head's NIK only masked
(``mask_identifier``) for every role: this API never returns a full NIK or No KK (the secretariat reveals one
record at a time, logged, in the registry pages)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from csr import services
from csr.models import (
    Agreement,
    Allocation,
    CsrCycle,
    CycleStatus,
    Proposal,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    VerificationResult,
)
from programs.models import AssistanceKind, ProgramCluster, ProgramStrategy
from tkpk.identifiers import IdentifierError, mask_identifier, normalize_region_code
from tkpk.models import CompanySector, Region

# ------------------------------------------------------------------------------------------------- cycles


class CycleOutputSerializer(serializers.ModelSerializer[CsrCycle]):
    region_name = serializers.CharField(source="region.name", read_only=True)
    required_sectors = serializers.ListField(child=serializers.ChoiceField(choices=CompanySector.choices))
    days_left = serializers.SerializerMethodField(
        help_text=_("Hari tersisa sampai batas pengajuan (0 = hari terakhir, negatif = sudah lewat).")
    )
    deadline = serializers.SerializerMethodField(
        help_text=_(
            "Batas pengajuan yang berlaku bagi mitra pengguna (bisa lebih lambat bila pengajuannya dibuka "
            "kembali); bagi sekretariat sama dengan proposal_deadline."
        )
    )
    submission_open = serializers.SerializerMethodField(
        help_text=_("Mitra pengguna masih dapat mengajukan usulan (null bagi sekretariat).")
    )

    class Meta:
        model = CsrCycle
        fields = [
            "id", "region", "region_name", "year", "name", "proposal_deadline", "verification_starts",
            "verification_ends", "realisation_deadline", "status", "required_sectors", "note", "days_left",
            "deadline", "submission_open", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _info(self, cycle: CsrCycle) -> Any:
        organization_id = self.context.get("partner_organization_id")
        if organization_id is None:
            return None
        cache: dict[int, Any] = self.context.setdefault("_deadline_info", {})
        if cycle.pk not in cache:
            from csr import selectors

            cache[cycle.pk] = selectors.deadline_info(cycle=cycle, organization_id=organization_id)
        return cache[cycle.pk]

    def get_days_left(self, cycle: CsrCycle) -> int:
        info = self._info(cycle)
        return int(info.days_left) if info is not None else cycle.days_left()

    @extend_schema_field(serializers.DateTimeField())
    def get_deadline(self, cycle: CsrCycle) -> str:
        info = self._info(cycle)
        value = info.deadline if info is not None else cycle.proposal_deadline
        return serializers.DateTimeField().to_representation(value)

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_submission_open(self, cycle: CsrCycle) -> bool | None:
        info = self._info(cycle)
        return bool(info.is_open) if info is not None else None


class CycleInputSerializer(serializers.Serializer[Any]):
    """Create (all required fields) or partial update (PATCH) of a cycle. ``region`` is the TKPK region (kode
    provinsi/kabupaten, boleh bertitik); omitted, it is the secretariat's own region."""

    region = serializers.CharField(max_length=13, required=False)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    name = serializers.CharField(max_length=150)
    proposal_deadline = serializers.DateTimeField()
    verification_starts = serializers.DateField()
    verification_ends = serializers.DateField()
    realisation_deadline = serializers.DateField()
    status = serializers.ChoiceField(choices=CycleStatus.choices, required=False)
    required_sectors = serializers.ListField(
        child=serializers.ChoiceField(choices=CompanySector.choices),
        required=False,
        help_text=_("Sektor perusahaan yang wajib berpartisipasi (bawaan: perkebunan dan pertambangan)."),
    )
    note = serializers.CharField(required=False, allow_blank=True)

    def validate_region(self, value: str) -> Region:
        try:
            code = normalize_region_code(value)
        except IdentifierError as exc:
            raise serializers.ValidationError(_("Kode wilayah tidak valid.")) from exc
        region = Region.objects.filter(code=code, level__in=(1, 2)).first()
        if region is None:
            raise serializers.ValidationError(_("Wilayah TKPK (provinsi/kabupaten/kota) tidak dikenal."))
        return region


# --------------------------------------------------------------------------------------------- allocation


class AllocationOutputSerializer(serializers.ModelSerializer[Allocation]):
    """One row of a partner's by-name-by-address list. ``nik_masked`` is the head's NIK, always masked."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    household = serializers.IntegerField(source="household_id", read_only=True)
    head_name = serializers.CharField(source="household.head_name", read_only=True)
    nik_masked = serializers.SerializerMethodField(help_text=_("NIK kepala keluarga, disamarkan."))
    address = serializers.CharField(source="household.address", read_only=True)
    rt = serializers.CharField(source="household.rt", read_only=True)
    rw = serializers.CharField(source="household.rw", read_only=True)
    desa = serializers.CharField(source="household.desa_id", read_only=True)
    desa_name = serializers.CharField(source="household.desa.name", read_only=True)
    desil = serializers.IntegerField(source="household.desil", read_only=True, allow_null=True)
    need = serializers.CharField(source="assistance_kind.code", read_only=True, allow_null=True, default=None)
    need_name = serializers.CharField(source="assistance_kind.name", read_only=True, allow_null=True, default=None)
    unmet_needs = serializers.SerializerMethodField(
        help_text=_("Kebutuhan yang belum terpenuhi menurut perhitungan kesenjangan tahun siklus.")
    )

    class Meta:
        model = Allocation
        fields = [
            "id", "cycle", "organization", "organization_name", "household", "head_name", "nik_masked", "address",
            "rt", "rw", "desa", "desa_name", "desil", "need", "need_name", "unmet_needs", "status", "source",
            "override_reason", "released_reason", "released_at", "note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_nik_masked(self, allocation: Allocation) -> str:
        return mask_identifier(getattr(allocation, "head_nik", None))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_unmet_needs(self, allocation: Allocation) -> list[str]:
        needs: dict[int, list[str]] = self.context.get("needs", {})
        return needs.get(allocation.household_id, [])


class AllocationCreateSerializer(serializers.Serializer[Any]):
    """Allocate households to a partner for a need in a cycle (at most 20,000 per request; larger lists go
    through the spreadsheet upload)."""

    cycle = serializers.IntegerField(min_value=1)
    organization = serializers.IntegerField(min_value=1, help_text=_("Id organisasi mitra."))
    assistance_kind = serializers.SlugRelatedField(
        slug_field="code", queryset=AssistanceKind.objects.filter(is_active=True), help_text=_("Kode kebutuhan.")
    )
    household_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=20_000
    )
    override_reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text=_("Isi untuk tetap mengalokasikan keluarga yang sudah dialokasikan ke mitra lain."),
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class AllocationResultSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField(help_text=_("Alokasi baru."))
    already_allocated_here = serializers.IntegerField(help_text=_("Sudah dialokasikan ke mitra ini."))
    taken_by_other = serializers.IntegerField(help_text=_("Sudah dialokasikan ke mitra lain (tanpa alasan)."))
    outside_area = serializers.IntegerField(help_text=_("Di luar wilayah kerja mitra atau wilayah Anda."))
    not_found = serializers.IntegerField(help_text=_("Id keluarga tidak dikenal."))
    inactive = serializers.IntegerField(help_text=_("Keluarga tidak aktif lagi (graduasi, pindah, meninggal)."))
    skipped = serializers.IntegerField()
    allocation_ids = serializers.ListField(child=serializers.IntegerField())


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300, allow_blank=True)


# ---------------------------------------------------------------------------------------------- proposals


class AgreementSerializer(serializers.ModelSerializer[Agreement]):
    has_pdf = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "number", "signed_on", "place", "government_signatory", "company_signatory", "has_pdf", "created_at"
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_pdf(self, agreement: Agreement) -> bool:
        return bool(agreement.pdf)


class TransitionSerializer(serializers.ModelSerializer[ProposalTransition]):
    class Meta:
        model = ProposalTransition
        fields = ["action", "from_status", "to_status", "note", "at"]
        read_only_fields = fields


class ProposalOutputSerializer(serializers.ModelSerializer[Proposal]):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    assistance_kind = serializers.CharField(source="assistance_kind.code", read_only=True)
    assistance_kind_name = serializers.CharField(source="assistance_kind.name", read_only=True)
    cluster = serializers.CharField(source="cluster.code", read_only=True)
    cluster_name = serializers.CharField(source="cluster.name", read_only=True)
    strategy = serializers.CharField(source="strategy.code", read_only=True)
    strategy_name = serializers.CharField(source="strategy.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    target_count = serializers.IntegerField(read_only=True)
    agreement = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField(
        help_text=_(
            "Tindakan yang dapat Anda lakukan sekarang (POST /proposals/{id}/<tindakan>/): submit, withdraw, "
            "return, verify, agree, implement, report."
        )
    )

    class Meta:
        model = Proposal
        fields = [
            "id", "organization", "organization_name", "cycle", "cycle_name", "title", "description",
            "assistance_kind", "assistance_kind_name", "cluster", "cluster_name", "strategy", "strategy_name",
            "budget", "starts_on", "ends_on", "contact_name", "contact_phone", "contact_email", "status",
            "status_label", "status_note", "submitted_at", "program", "final_report", "target_count", "agreement",
            "available_actions", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(AgreementSerializer(allow_null=True))
    def get_agreement(self, proposal: Proposal) -> dict[str, Any] | None:
        agreement = getattr(proposal, "agreement", None)
        return AgreementSerializer(agreement).data if agreement is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(services.TRANSITIONS))))
    def get_available_actions(self, proposal: Proposal) -> list[str]:
        return services.available_actions(actor=self.context["request"].user, proposal=proposal)


class ProposalDetailSerializer(ProposalOutputSerializer):
    """One proposal with its status timeline."""

    transitions = TransitionSerializer(many=True, read_only=True)

    class Meta(ProposalOutputSerializer.Meta):
        fields = [*ProposalOutputSerializer.Meta.fields, "transitions"]
        read_only_fields = fields


class AdditionalTargetSerializer(serializers.Serializer[Any]):
    """A family beyond the allocation: a registry household (``household_id``) or one described by name,
    address and desa; always with a reason."""

    reason = serializers.CharField(max_length=500, allow_blank=True)
    household_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    desa = serializers.CharField(
        max_length=13, required=False, allow_blank=True, help_text=_("Kode desa/kelurahan (boleh bertitik).")
    )

    def validate_desa(self, value: str) -> Region | None:
        if not value:
            return None
        try:
            code = normalize_region_code(value)
        except IdentifierError as exc:
            raise serializers.ValidationError(_("Kode desa/kelurahan tidak valid.")) from exc
        region = Region.objects.filter(code=code, level=4).first()
        if region is None:
            raise serializers.ValidationError(_("Desa/kelurahan %(code)s tidak dikenal.") % {"code": value})
        return region

    def to_target(self, data: dict[str, Any]) -> services.AdditionalTarget:
        return services.AdditionalTarget(
            reason=data.get("reason", ""),
            household_id=data.get("household_id"),
            name=data.get("name", ""),
            address=data.get("address", ""),
            desa=data.get("desa"),
        )


class ProposalInputSerializer(serializers.Serializer[Any]):
    """Create (all required fields) or partial update (PATCH) of a draft/returned proposal. Targets are the
    allocated households chosen (``household_ids``) and ``additional`` ones; given on PATCH, they replace the
    current ones."""

    cycle = serializers.IntegerField(min_value=1)
    organization = serializers.IntegerField(
        min_value=1, required=False, help_text=_("Id organisasi mitra; kosong = organisasi Anda.")
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    assistance_kind = serializers.SlugRelatedField(
        slug_field="code", queryset=AssistanceKind.objects.filter(is_active=True)
    )
    cluster = serializers.SlugRelatedField(slug_field="code", queryset=ProgramCluster.objects.filter(is_active=True))
    strategy = serializers.SlugRelatedField(slug_field="code", queryset=ProgramStrategy.objects.filter(is_active=True))
    budget = serializers.DecimalField(max_digits=16, decimal_places=0, min_value=0, required=False)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    contact_name = serializers.CharField(max_length=150)
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    household_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text=_("Keluarga sasaran dari alokasi Anda pada siklus ini."),
    )
    additional = AdditionalTargetSerializer(many=True, required=False)


class NoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, help_text=_("Catatan (boleh kosong)."))


class NoteRequiredSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(allow_blank=True, help_text=_("Catatan untuk mitra (wajib)."))


class WithdrawSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Alasan penarikan (wajib bila usulan sudah diajukan).")
    )


class AgreeSerializer(serializers.Serializer[Any]):
    """The collaboration agreement (PKS) recorded with the agreement step; its PDF is generated."""

    number = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text=_("Nomor PKS."))
    signed_on = serializers.DateField(required=False, allow_null=True)
    place = serializers.CharField(max_length=100, required=False, allow_blank=True)
    government_signatory = serializers.CharField(max_length=200, required=False, allow_blank=True)
    company_signatory = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class ReportSerializer(serializers.Serializer[Any]):
    final_report = serializers.CharField(required=False, allow_blank=True, help_text=_("Laporan akhir (wajib)."))
    note = serializers.CharField(required=False, allow_blank=True)


class TargetOutputSerializer(serializers.ModelSerializer[ProposalTarget]):
    """A target household of a proposal (head's NIK masked) or an additional family described by name."""

    head_name = serializers.SerializerMethodField()
    nik_masked = serializers.SerializerMethodField(help_text=_("NIK kepala keluarga, disamarkan."))
    address = serializers.SerializerMethodField()
    desa = serializers.SerializerMethodField()
    desa_name = serializers.SerializerMethodField()
    desil = serializers.IntegerField(source="household.desil", read_only=True, allow_null=True, default=None)
    verification_label = serializers.CharField(source="get_verification_display", read_only=True)

    class Meta:
        model = ProposalTarget
        fields = [
            "id", "household", "allocation", "head_name", "nik_masked", "address", "desa", "desa_name", "desil",
            "is_additional", "additional_reason", "verification", "verification_label", "verification_note",
            "verified_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_head_name(self, target: ProposalTarget) -> str:
        return target.household.head_name if target.household else target.proposed_name

    def get_nik_masked(self, target: ProposalTarget) -> str:
        return mask_identifier(getattr(target, "head_nik", None))

    def get_address(self, target: ProposalTarget) -> str:
        return target.household.address if target.household else target.proposed_address

    def get_desa(self, target: ProposalTarget) -> str:
        if target.household:
            return str(target.household.desa_id)
        return str(target.proposed_desa_id or "")

    def get_desa_name(self, target: ProposalTarget) -> str:
        desa = target.household.desa if target.household else target.proposed_desa
        return desa.name if desa else ""


class TargetVerifySerializer(serializers.Serializer[Any]):
    result = serializers.ChoiceField(
        choices=[c for c in VerificationResult.choices if c[0] != VerificationResult.PENDING],
        help_text=_("Hasil verifikasi lapangan bersama."),
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    household = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text=_("Id keluarga di registri untuk menautkan sasaran tambahan."),
    )


class OverlapItemSerializer(serializers.Serializer[Any]):
    source = serializers.CharField(  # type: ignore[assignment]
        help_text=_("program: program/penyaluran lain; proposal: usulan mitra lain.")
    )
    label = serializers.CharField(help_text=_("Nama program atau judul usulan."))  # type: ignore[assignment]
    organization = serializers.CharField()
    funding = serializers.CharField()
    status = serializers.CharField()


class OverlapSerializer(serializers.Serializer[Any]):
    household = serializers.IntegerField()
    head_name = serializers.CharField()
    items = OverlapItemSerializer(many=True)


class DeliveryInputSerializer(serializers.Serializer[Any]):
    """One delivery to an eligible target of an agreed proposal."""

    household = serializers.IntegerField(min_value=1)
    delivered_on = serializers.DateField()
    value = serializers.DecimalField(max_digits=14, decimal_places=0, min_value=0, required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


# ---------------------------------------------------------------------------------------------- refusals


class RefusalOutputSerializer(serializers.ModelSerializer[Refusal]):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    has_letter = serializers.SerializerMethodField()
    acknowledged = serializers.SerializerMethodField()

    class Meta:
        model = Refusal
        fields = [
            "id", "organization", "organization_name", "cycle", "cycle_name", "reason", "signatory_name",
            "signatory_position", "letter_number", "has_letter", "submitted_at", "acknowledged",
            "acknowledged_at", "acknowledgement_note",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_letter(self, refusal: Refusal) -> bool:
        return bool(refusal.letter_pdf)

    def get_acknowledged(self, refusal: Refusal) -> bool:
        return refusal.acknowledged_at is not None


class RefusalInputSerializer(serializers.Serializer[Any]):
    cycle = serializers.IntegerField(min_value=1)
    organization = serializers.IntegerField(
        min_value=1, required=False, help_text=_("Id organisasi mitra; kosong = organisasi Anda.")
    )
    reason = serializers.CharField(allow_blank=True, help_text=_("Alasan tidak berpartisipasi (minimal 20 karakter)."))
    signatory_name = serializers.CharField(max_length=150, allow_blank=True)
    signatory_position = serializers.CharField(max_length=150, allow_blank=True)


class AcknowledgeSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
