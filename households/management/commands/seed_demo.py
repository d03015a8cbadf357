from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from csr.demo import DemoCsrResult, demo_csr_seed
from households.demo import DEFAULT_CHUNK_SIZE, DemoLogin, DemoSeedResult, demo_seed
from programs.demo import DemoProgramsResult, demo_programs_seed
from programs.models import InterventionStatus
from reports.demo import demo_gap_seed
from reports.models import GapTrigger
from reports.services import gap_recompute_now
from tkpk.exceptions import DomainError
from tkpk.identifiers import dotted_region_code
from tkpk.scoping import Role

_ORG_KIND_LABELS = {
    "secretariat": "sekretariat",
    "opd": "OPD",
    "company": "perusahaan",
    "baznas": "BAZNAS",
    "bank": "bank",
    "ngo": "LSM",
}


def _n(value: int) -> str:
    """Thousands with a dot, as written in Indonesian."""
    return f"{value:,}".replace(",", ".")


class Command(BaseCommand):
    help = (
        "Buat data DEMO untuk satu kabupaten/kota: keluarga dan anggota fiktif ala P3KE, organisasi "
        "(sekretariat, OPD, perusahaan, BAZNAS, bank, LSM) dan satu akun demo per peran."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="Kode kabupaten/kota, mis. 33.24 (Kendal).")
        parser.add_argument("--families", type=int, default=5000, help="Jumlah keluarga demo (bawaan 5000).")
        parser.add_argument("--seed", type=int, default=42, help="Benih acak: benih sama = data sama (bawaan 42).")
        parser.add_argument(
            "--reset", action="store_true", help="Hapus data keluarga demo wilayah ini lalu buat ulang."
        )
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="Keluarga per batch.")
        parser.add_argument(
            "--no-programs",
            action="store_true",
            help="Jangan buat program dan penyaluran (intervensi) demo tahun lalu dan tahun ini.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = demo_seed(
                region_code=options["region"],
                families=options["families"],
                seed=options["seed"],
                reset=options["reset"],
                chunk_size=options["chunk_size"],
                progress=self._progress if options["verbosity"] >= 1 else None,
            )
            programs = None
            if not options["no_programs"]:
                programs = demo_programs_seed(
                    region_code=options["region"], seed=options["seed"], reset=options["reset"]
                )
            gaps = demo_gap_seed(region_code=options["region"])
            csr = demo_csr_seed(region_code=options["region"])
            result.logins += [
                DemoLogin(username, str(Role.PARTNER), str(Role.PARTNER.label), organization, password)
                for username, organization, password in csr.logins
            ]
            this_year = timezone.localdate().year
            years = [this_year - 1, this_year]  # the demo programs deliver last year and this year
            runs = [gap_recompute_now(year=y, region_code=options["region"], trigger=GapTrigger.COMMAND) for y in years]
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._summary(result, programs, csr)
        self.stdout.write(
            f"Kesenjangan: target kemiskinan demo {gaps.targets} tahun, batas wilayah SKEMATIS {gaps.boundary_sets} "
            f"set ({_n(gaps.features)} fitur); dihitung untuk tahun "
            + ", ".join(f"{run.year} ({run.get_status_display()})" for run in runs)
            + "."
        )

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  ... {_n(done)}/{_n(total)} keluarga")

    def _summary(
        self, result: DemoSeedResult, programs: DemoProgramsResult | None, csr: DemoCsrResult | None = None
    ) -> None:
        out = self.stdout
        out.write(f"Wilayah: {dotted_region_code(result.region_code)} {result.region_name} "
                  f"({_n(result.desa_count)} desa/kelurahan)")  # fmt: skip
        if result.families_deleted:
            out.write(
                f"Data demo lama dihapus: {_n(result.families_deleted)} keluarga, {_n(result.persons_deleted)} anggota."
            )
        if result.kept_existing:
            out.write(
                self.style.WARNING(
                    f"Data demo yang sudah ada dipertahankan: {_n(result.families_total)} keluarga, "
                    f"{_n(result.persons_total)} anggota. Gunakan --reset untuk membuat ulang."
                )
            )
        else:
            out.write(
                self.style.SUCCESS(
                    f"Data demo dibuat: {_n(result.families_created)} keluarga, {_n(result.persons_created)} anggota."
                )
            )
        out.write(f"Waktu: {result.seconds:.1f} detik.")
        orgs = ", ".join(f"{_ORG_KIND_LABELS.get(kind, kind)} {count}" for kind, count in result.organizations.items())
        out.write(f"Organisasi demo: {orgs}.")
        out.write(
            f"Alokasi sasaran untuk mitra demo {result.partner_name}: {_n(result.allocations_total)} keluarga "
            f"(baru {_n(result.allocations_created)})."
        )
        if programs is not None:
            kept = " (data yang sudah ada dipertahankan)" if programs.kept_existing else ""
            statuses = ", ".join(
                f"{str(InterventionStatus(status).label).lower()} {_n(n)}"
                for status, n in sorted(programs.by_status.items())
            )
            out.write(
                f"Program demo: {_n(programs.programs_total)} program, {_n(programs.interventions_total)} penyaluran "
                f"({statuses}){kept}; {programs.seconds:.1f} detik."
            )
        if csr is not None:
            out.write(
                f"CSR demo: siklus {csr.cycle_name}, {csr.partners} mitra; alokasi {_n(csr.allocations_total)} "
                f"keluarga "
                f"(baru {_n(csr.allocations_created)}), usulan baru {csr.proposals_created}, penyaluran baru "
                f"{csr.deliveries_created}, surat tidak berpartisipasi baru {csr.refusals_created}."
            )
        out.write("")
        out.write(self.style.WARNING("AKUN DEMO (hanya untuk demonstrasi; jangan dipakai di lingkungan produksi):"))
        width = max(len(login.username) for login in result.logins)
        role_width = max(len(login.role_label) for login in result.logins)
        for login in result.logins:
            out.write(
                f"  [DEMO] {login.username:<{width}}  {login.role_label:<{role_width}}  "
                f"kata sandi: {login.password}  ({login.organization})"
            )
