"""CSR target allocation by spreadsheet through the import engine: jobs of kind ``csr_allocation``.

The secretariat uploads a sheet for one CSR cycle (``allocation_upload``; the cycle is kept in
``ImportJob.options["cycle_id"]``); the engine's job life (preview task, confirmation, Celery run, progress,
row errors) runs this module's ``preview`` and ``run`` (``households.importing.engine.KIND_PIPELINES``).

Each row names a household (ID Keluarga of this system, ID Keluarga P3KE or No KK), a partner (kode mitra =
``Organization.short_code``, or nama mitra), a need (jenis bantuan: ``AssistanceKind`` code or name), and
optionally an override reason and a note. The whole file is read once, every lookup is one query per batch
(dicts loaded once), and each row is checked: the household exists and lies in the uploader's region and in
the partner's operating area, the partner and the need are known, the row is not repeated, and a household
another partner already holds for that need in the cycle comes with a reason. Any refused row leaves the whole
file unwritten (as verval); every refusal is a ``RowError`` with row, column and reason in Bahasa Indonesia.

The allocations themselves are written by ``csr.services.allocations_create`` (one set-based call per partner,
need, reason and note), the one place the allocation rules live, with ``source=spreadsheet`` and the job.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from csr import services
from csr.models import Allocation, AllocationSource, CsrCycle
from households.importing import engine, jobs, reader
from households.importing.types import CSR_ALLOCATION, ImportFileError, ImportSummary, ProgressCallback, RowIssue
from households.models import Household, HouseholdSourceLink, ImportFile, ImportJob, ImportKind, ImportStatus
from programs.models import AssistanceKind
from tkpk.exceptions import DomainError
from tkpk.models import Organization
from tkpk.scoping import Cap, scope_for
from tkpk.xlsx import xlsx_write

ENGINE = "csr-allocation-1"
ALLOCATION_LOCK = 7_301_004  # pg_advisory_xact_lock key: allocation uploads apply one at a time
HEADER_SEARCH_ROWS = 40
LOOKUP_BATCH = 5000
PREVIEW_ISSUES = 200
MAX_TEXT = 300
P3KE_SOURCE = "p3ke"

# Column titles of the template (and accepted as headers in every interface language).
COL_HOUSEHOLD = gettext_lazy("ID Keluarga")
COL_P3KE = gettext_lazy("ID Keluarga P3KE")
COL_NO_KK = gettext_lazy("No KK")
COL_PARTNER_CODE = gettext_lazy("Kode mitra")
COL_PARTNER_NAME = gettext_lazy("Nama mitra")
COL_KIND = gettext_lazy("Kebutuhan (jenis bantuan)")
COL_REASON = gettext_lazy("Alasan alokasi ganda")
COL_NOTE = gettext_lazy("Catatan")
TITLES = {
    "household_id": COL_HOUSEHOLD,
    "p3ke_id": COL_P3KE,
    "no_kk": COL_NO_KK,
    "partner_code": COL_PARTNER_CODE,
    "partner_name": COL_PARTNER_NAME,
    "kind": COL_KIND,
    "override_reason": COL_REASON,
    "note": COL_NOTE,
}
# Normalised header aliases (lower case, letters and digits only), Indonesian and English.
ALIASES: dict[str, set[str]] = {
    "household_id": {"idkeluarga", "idkeluargasistem", "idsistem", "householdid", "familyid", "idhousehold"},
    "p3ke_id": {"idkeluargap3ke", "idp3ke", "p3keid", "p3kefamilyid", "p3kehouseholdid", "familyidp3ke"},
    "no_kk": {"nokk", "nomorkk", "nokartukeluarga", "nomorkartukeluarga", "familycardnumber", "familycardno", "kk"},
    "partner_code": {"kodemitra", "kodeperusahaan", "partnercode", "companycode"},
    "partner_name": {"namamitra", "namaperusahaan", "mitra", "perusahaan", "partnername", "companyname", "partner"},
    "kind": {
        "kebutuhan",
        "jenisbantuan",
        "kebutuhanjenisbantuan",
        "need",
        "assistancekind",
        "assistancetype",
        "needassistancekind",
    },
    "override_reason": {"alasanalokasiganda", "alasanganda", "overridereason", "doubleallocationreason"},
    "note": {"catatan", "keterangan", "note", "notes"},
}
HOUSEHOLD_FIELDS = ("household_id", "p3ke_id", "no_kk")
PARTNER_FIELDS = ("partner_code", "partner_name")


def msg_no_columns() -> str:
    return _(
        "Kolom wajib tidak ditemukan di %(rows)s baris pertama: berkas alokasi membutuhkan kolom %(household)s "
        "(atau %(p3ke)s / %(kk)s), %(partner)s (atau %(partner_name)s) dan %(kind)s. Unduh templat alokasi lalu "
        "isi tanpa mengubah baris judul kolomnya."
    ) % {
        "rows": HEADER_SEARCH_ROWS,
        "household": COL_HOUSEHOLD,
        "p3ke": COL_P3KE,
        "kk": COL_NO_KK,
        "partner": COL_PARTNER_CODE,
        "partner_name": COL_PARTNER_NAME,
        "kind": COL_KIND,
    }


def msg_blocked() -> str:
    return _(
        "Tidak ada alokasi yang disimpan: %(n)s baris ditolak. Perbaiki baris tersebut (lihat daftar kesalahan) "
        "lalu unggah ulang seluruh berkas."
    )


# ------------------------------------------------------------------------------------------------------ template


def template_headers() -> list[str]:
    return [str(title) for title in TITLES.values()]


def template_xlsx() -> bytes:
    """The empty allocation sheet: the column titles in the interface language."""
    return rows_for_template([])


# ------------------------------------------------------------------------------------------------------ upload


def _check_may_upload(actor: Any, cycle: CsrCycle) -> None:
    if not scope_for(actor).can(Cap.CSR_MANAGE) or not services.may_manage_cycle(actor=actor, cycle=cycle):
        raise DomainError(
            _("Hanya sekretariat TKPK wilayah siklus ini yang dapat mengunggah alokasi."), code="forbidden"
        )


@transaction.atomic
def allocation_job_create(
    *, actor: Any, cycle: CsrCycle, upload: jobs.UploadSource, dry_run: bool = False
) -> ImportJob:
    """A new allocation job of ``cycle`` in ``uploaded`` with its file stored and hashed."""
    _check_may_upload(actor, cycle)
    jobs.check_suffix(upload)
    today = timezone.localdate()
    job = ImportJob.objects.create(
        kind=ImportKind.CSR_ALLOCATION,
        region=cycle.region,
        options={"cycle_id": cycle.pk},
        snapshot_label=(_("Alokasi %(cycle)s") % {"cycle": cycle.name})[:100],
        snapshot_date=today,
        dry_run=dry_run,
        status=ImportStatus.UPLOADED,
        created_by=actor,
    )
    jobs.import_file_store(job=job, kind=CSR_ALLOCATION, upload=upload)
    duplicate = jobs.earlier_import_of(job=job)
    if duplicate is not None and (duplicate.options or {}).get("cycle_id") == cycle.pk:
        job.duplicate_of = duplicate
        job.save(update_fields=["duplicate_of"])
    return job


@transaction.atomic
def allocation_upload(
    *, actor: Any, cycle: CsrCycle, upload: jobs.UploadSource, dry_run: bool = False, send: bool = True
) -> ImportJob:
    """The web upload: create the job and queue its preview task at commit (the request never parses the file)."""
    job = allocation_job_create(actor=actor, cycle=cycle, upload=upload, dry_run=dry_run)
    jobs.import_job_queue_preview(job=job, send=send)
    job.refresh_from_db()
    return job


def allocation_jobs(*, user: Any, cycle: CsrCycle) -> Any:
    return jobs.import_job_list(user=user, kind=ImportKind.CSR_ALLOCATION).filter(options__cycle_id=cycle.pk)


def allocation_job_get(*, user: Any, cycle: CsrCycle, pk: int) -> ImportJob:
    from django.http import Http404

    job = jobs.import_job_get(user=user, pk=pk, kind=ImportKind.CSR_ALLOCATION)
    if (job.options or {}).get("cycle_id") != cycle.pk:
        raise Http404
    return job


# ------------------------------------------------------------------------------------------------------ parsing


def _norm(text: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


def _aliases() -> dict[str, set[str]]:
    aliases = {name: set(values) for name, values in ALIASES.items()}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for name, title in TITLES.items():
                aliases[name].add(_norm(str(title)))
    return aliases


@dataclass
class _Header:
    row_number: int
    positions: dict[str, int]
    headers: dict[str, str]  # field -> header as written
    columns: list[dict[str, str | None]]
    unmatched: list[str]

    def column(self, name: str) -> str:
        return self.headers.get(name) or str(TITLES[name])


def _find_header(rows: Iterator[tuple[int, list[Any]]]) -> _Header:
    all_aliases = _aliases()
    for number, cells in rows:
        positions: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = _norm(cell)
            for name, aliases in all_aliases.items():
                if key and key in aliases and name not in positions:
                    positions[name] = index
                    break
        complete = (
            "kind" in positions
            and any(name in positions for name in HOUSEHOLD_FIELDS)
            and any(name in positions for name in PARTNER_FIELDS)
        )
        if complete:
            headers = {name: str(cells[index]).strip() for name, index in positions.items()}
            by_index = {index: name for name, index in positions.items()}
            columns = [
                {"header": str(cell).strip(), "field": by_index.get(index)}
                for index, cell in enumerate(cells)
                if str(cell or "").strip()
            ]
            unmatched = [str(c["header"]) for c in columns if c["field"] is None]
            return _Header(number, positions, headers, columns, unmatched)
        if number >= HEADER_SEARCH_ROWS:
            break
    raise ImportFileError(msg_no_columns(), code="file_missing_columns")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = re.sub(r"\s+", " ", str(value)).strip()
    return "" if text == "-" else text


@dataclass
class _Row:
    number: int
    values: dict[str, str]  # field -> text as written (display)
    household_field: str = ""
    household_key: str = ""  # the identifier as typed (cleaned)
    household_id: int | None = None
    organization: Organization | None = None
    kind: AssistanceKind | None = None
    reason: str = ""
    note: str = ""
    issues: list[RowIssue] = field(default_factory=list)
    outcome: str = ""  # new, already, override

    @property
    def rejected(self) -> bool:
        return bool(self.issues)


@dataclass
class _Checked:
    header: _Header
    rows: list[_Row]
    counts: dict[str, int]

    @property
    def issues(self) -> list[RowIssue]:
        return [issue for row in self.rows for issue in row.issues]

    @property
    def rejected(self) -> int:
        return sum(1 for row in self.rows if row.rejected)


def _issue(row: _Row, column: str, value: Any, code: str, message: str) -> None:
    row.issues.append(
        RowIssue(
            file=CSR_ALLOCATION,
            row_number=row.number,
            column=column,
            value=str(value)[:MAX_TEXT],
            code=code,
            message=message,
        )
    )


def _rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in enumerate(reader.open_rows(path), start=1):
        yield number, list(cells)


def _cell(cells: list[Any], position: int | None) -> Any:
    if position is None or position >= len(cells):
        return ""
    return cells[position]


def _parse_row(number: int, cells: list[Any], header: _Header) -> _Row:
    """The row's values and its own (database-free) problems."""
    pos = header.positions
    raw = {name: _cell(cells, pos.get(name)) for name in ALIASES}
    row = _Row(number=number, values={name: _text(value) for name, value in raw.items()})
    values = row.values
    for name in HOUSEHOLD_FIELDS:
        if values[name]:
            row.household_field = name
            break
    column = header.column(row.household_field or next(n for n in HOUSEHOLD_FIELDS if n in pos))
    if not row.household_field:
        message = _("Isi %(household)s, %(p3ke)s atau %(kk)s untuk menunjuk keluarga sasaran.") % {
            "household": COL_HOUSEHOLD,
            "p3ke": COL_P3KE,
            "kk": COL_NO_KK,
        }
        _issue(row, column, "", "household_required", message)
    elif row.household_field == "household_id":
        text = values["household_id"].removesuffix(".0")
        if text.isdigit() and int(text) > 0:
            row.household_id = int(text)
            row.household_key = text
        else:
            message = _("%(column)s harus berupa angka (ID keluarga di aplikasi ini); tertulis “%(v)s”.") % {
                "column": column,
                "v": values["household_id"],
            }
            _issue(row, column, values["household_id"], "household_id_format", message)
    elif row.household_field == "no_kk":
        value = raw["no_kk"]
        cleaned = re.sub(r"[\s.'’`]", "", values["no_kk"])
        if isinstance(value, int | float) and not isinstance(value, bool):
            message = _(
                "No KK tersimpan sebagai angka Excel (digit terakhir bisa berubah); format kolomnya sebagai Teks "
                "lalu ketik ulang, atau gunakan %(household)s."
            ) % {"household": COL_HOUSEHOLD}
            _issue(row, column, values["no_kk"], "kk_excel_number", message)
        elif not (cleaned.isdigit() and len(cleaned) == 16):
            message = _("No KK “%(v)s” tidak valid: harus 16 digit angka.") % {"v": values["no_kk"]}
            _issue(row, column, values["no_kk"], "kk_format", message)
        else:
            row.household_key = cleaned
    else:
        row.household_key = values["p3ke_id"].removesuffix(".0")
    if not values["partner_code"] and not values["partner_name"]:
        partner_column = header.column("partner_code" if "partner_code" in pos else "partner_name")
        message = _("Isi %(code)s atau %(name)s.") % {"code": COL_PARTNER_CODE, "name": COL_PARTNER_NAME}
        _issue(row, partner_column, "", "partner_required", message)
    if not values["kind"]:
        message = _("Isi %(column)s (kode atau nama jenis bantuan).") % {"column": header.column("kind")}
        _issue(row, header.column("kind"), "", "kind_required", message)
    for name in ("override_reason", "note"):
        if len(values[name]) > MAX_TEXT:
            message = _("%(column)s terlalu panjang (%(n)s karakter; paling banyak %(max)s).") % {
                "column": header.column(name),
                "n": len(values[name]),
                "max": MAX_TEXT,
            }
            _issue(row, header.column(name), values[name][:50], "text_length", message)
    row.reason, row.note = values["override_reason"], values["note"]
    return row


def _parse(import_file: ImportFile) -> tuple[_Header, list[_Row]]:
    rows = _rows(Path(import_file.file.path))
    header = _find_header(rows)
    parsed: list[_Row] = []
    for number, cells in rows:
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        parsed.append(_parse_row(number, cells, header))
    return header, parsed


# ------------------------------------------------------------------------------------------------ lookups + checks


def _batches(values: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) >= LOOKUP_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _partner_index(actor: Any) -> tuple[dict[str, Organization], dict[str, list[Organization]]]:
    partners = list(Organization.objects.for_user(actor).filter(kind__in=services.PARTNER_KINDS).order_by("pk"))
    by_code = {org.short_code.casefold(): org for org in partners}
    by_name: dict[str, list[Organization]] = defaultdict(list)
    for org in partners:
        by_name[_norm(org.name)].append(org)
    return by_code, by_name


def _kind_index() -> tuple[dict[str, AssistanceKind], dict[str, AssistanceKind]]:
    kinds = list(AssistanceKind.objects.filter(is_active=True))
    return {k.code.casefold(): k for k in kinds}, {_norm(k.name): k for k in kinds}


def _resolve_households(rows: list[_Row], header: _Header, actor: Any) -> None:
    """Household ids for every row, from this system's id, the P3KE id or the No KK (batched lookups)."""
    visible = Household.objects.for_user(actor)
    by_id = [row for row in rows if row.household_field == "household_id" and row.household_id]
    wanted = sorted({row.household_id for row in by_id if row.household_id is not None})
    exists: set[int] = set()
    seen: set[int] = set()
    for batch in _batches(wanted):
        exists |= set(Household.objects.filter(pk__in=batch).values_list("pk", flat=True))
        seen |= set(visible.filter(pk__in=batch).values_list("pk", flat=True))
    for row in by_id:
        column = header.column("household_id")
        if row.household_id not in exists:
            message = _("Keluarga dengan ID %(id)s tidak ditemukan di registri.") % {"id": row.household_id}
            _issue(row, column, row.household_id, "household_not_found", message)
            row.household_id = None
        elif row.household_id not in seen:
            message = _("Keluarga dengan ID %(id)s berada di luar wilayah Anda.") % {"id": row.household_id}
            _issue(row, column, row.household_id, "household_out_of_region", message)
            row.household_id = None

    p3ke_rows = [row for row in rows if row.household_field == "p3ke_id" and row.household_key]
    p3ke: dict[str, int] = {}
    for batch in _batches(sorted({row.household_key for row in p3ke_rows})):
        links = HouseholdSourceLink.objects.filter(
            source_id=P3KE_SOURCE, external_id__in=batch, household__in=visible.values("pk")
        )
        p3ke.update(links.values_list("external_id", "household_id"))
    for row in p3ke_rows:
        row.household_id = p3ke.get(row.household_key)
        if row.household_id is None:
            message = _("ID Keluarga P3KE %(id)s tidak ditemukan di wilayah Anda.") % {"id": row.household_key}
            _issue(row, header.column("p3ke_id"), row.household_key, "household_not_found", message)

    kk_rows = [row for row in rows if row.household_field == "no_kk" and row.household_key]
    by_kk: dict[str, list[int]] = defaultdict(list)
    for batch in _batches(sorted({row.household_key for row in kk_rows})):
        for no_kk, pk in visible.filter(no_kk__in=batch).order_by("pk").values_list("no_kk", "pk"):
            by_kk[str(no_kk)].append(pk)
    for row in kk_rows:
        found = by_kk.get(row.household_key, [])
        column = header.column("no_kk")
        if len(found) == 1:
            row.household_id = found[0]
        elif not found:
            message = _("No KK %(kk)s tidak ditemukan di wilayah Anda.") % {"kk": row.values["no_kk"]}
            _issue(row, column, row.values["no_kk"], "household_not_found", message)
        else:
            message = _("No KK %(kk)s dipakai oleh %(n)s keluarga; gunakan %(household)s.") % {
                "kk": row.values["no_kk"],
                "n": len(found),
                "household": COL_HOUSEHOLD,
            }
            _issue(row, column, row.values["no_kk"], "household_ambiguous", message)


def _resolve_partners(rows: list[_Row], header: _Header, actor: Any, cycle: CsrCycle) -> None:
    by_code, by_name = _partner_index(actor)
    usable: dict[int, str] = {}  # org id -> refusal message ("" = usable)
    for row in rows:
        code, name = row.values["partner_code"], row.values["partner_name"]
        if not code and not name:
            continue
        column = header.column("partner_code" if code else "partner_name")
        if code:
            org = by_code.get(code.casefold())
            if org is None:
                message = _("Kode mitra “%(v)s” tidak dikenal (lihat daftar mitra di wilayah Anda).") % {"v": code}
                _issue(row, column, code, "partner_unknown", message)
                continue
        else:
            matches = by_name.get(_norm(name), [])
            if not matches:
                message = _("Mitra “%(v)s” tidak dikenal; periksa nama atau gunakan %(code)s.") % {
                    "v": name,
                    "code": COL_PARTNER_CODE,
                }
                _issue(row, column, name, "partner_unknown", message)
                continue
            if len(matches) > 1:
                message = _("Nama mitra “%(v)s” cocok dengan %(n)s mitra; gunakan %(code)s.") % {
                    "v": name,
                    "n": len(matches),
                    "code": COL_PARTNER_CODE,
                }
                _issue(row, column, name, "partner_ambiguous", message)
                continue
            org = matches[0]
        if org.pk not in usable:
            try:
                services._check_partner_organization(org, cycle)
                usable[org.pk] = ""
            except DomainError as exc:
                usable[org.pk] = exc.message
        if usable[org.pk]:
            _issue(row, column, code or name, "partner_refused", f"{org.name}: {usable[org.pk]}")
            continue
        row.organization = org


def _resolve_kinds(rows: list[_Row], header: _Header) -> None:
    by_code, by_name = _kind_index()
    for row in rows:
        text = row.values["kind"]
        if not text:
            continue
        kind = by_code.get(text.casefold()) or by_name.get(_norm(text))
        if kind is None:
            message = _("Jenis bantuan “%(v)s” tidak dikenal; gunakan kode atau nama jenis bantuan yang terdaftar.") % {
                "v": text
            }
            _issue(row, header.column("kind"), text, "kind_unknown", message)
        row.kind = kind


def _check_operating_area(rows: list[_Row], header: _Header) -> None:
    """The household lies in the partner's operating area (``services.operating_area_q``, one query per partner)."""
    by_partner: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.organization is not None and row.household_id is not None and not row.rejected:
            by_partner[row.organization.pk].append(row)
    for partner_rows in by_partner.values():
        org = partner_rows[0].organization
        assert org is not None
        inside: set[int] = set()
        for batch in _batches(sorted({row.household_id for row in partner_rows if row.household_id})):
            qs = Household.objects.filter(pk__in=batch).filter(services.operating_area_q(org))
            inside |= set(qs.values_list("pk", flat=True))
        for row in partner_rows:
            if row.household_id not in inside:
                field_name = row.household_field
                message = _("Keluarga %(id)s berada di luar wilayah operasi %(partner)s.") % {
                    "id": row.values[field_name],
                    "partner": org.name,
                }
                _issue(row, header.column(field_name), row.values[field_name], "outside_operating_area", message)


def _check_duplicates_and_holders(rows: list[_Row], header: _Header, cycle: CsrCycle) -> dict[str, int]:
    """Repeated rows, and households another partner holds for the need (in the cycle or earlier in the file)
    without a reason. Returns counts per outcome of the rows that pass."""
    candidates = [row for row in rows if not row.rejected and row.household_id and row.organization and row.kind]
    holders: dict[tuple[int, int], dict[int, str]] = defaultdict(dict)  # (household, kind) -> {org id: org name}
    for kind_id in sorted({row.kind.pk for row in candidates if row.kind}):
        ids = sorted(
            {row.household_id for row in candidates if row.household_id and row.kind and row.kind.pk == kind_id}
        )
        for batch in _batches(ids):
            allocated = (
                Allocation.objects.active()
                .filter(cycle=cycle, assistance_kind_id=kind_id, household_id__in=batch)
                .values_list("household_id", "organization_id", "organization__name")
            )
            for household_id, org_id, org_name in allocated:
                holders[(household_id, kind_id)][org_id] = org_name
    first_row: dict[tuple[int, int, int], int] = {}
    in_file: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)  # (household, kind) -> {org id: row}
    counts = {"new": 0, "already": 0, "override": 0}
    reason_column = header.column("override_reason")
    for row in candidates:
        assert row.household_id is not None and row.organization is not None and row.kind is not None
        org, kind = row.organization, row.kind
        field_name = row.household_field
        key = (row.household_id, org.pk, kind.pk)
        if key in first_row:
            message = _("Baris ini sama dengan baris %(row)s (keluarga, mitra dan kebutuhan yang sama).") % {
                "row": first_row[key]
            }
            _issue(row, header.column(field_name), row.values[field_name], "duplicate_in_file", message)
            continue
        first_row[key] = row.number
        held = holders.get((row.household_id, kind.pk), {})
        if org.pk in held:
            row.outcome = "already"
            counts["already"] += 1
            continue
        others_db = {pk: name for pk, name in held.items() if pk != org.pk}
        others_file = {pk: number for pk, number in in_file[(row.household_id, kind.pk)].items() if pk != org.pk}
        if (others_db or others_file) and not row.reason:
            if others_db:
                message = _(
                    "Keluarga %(id)s sudah dialokasikan ke %(other)s untuk kebutuhan %(kind)s pada siklus ini. "
                    "Isi %(reason)s bila keluarga ini memang perlu dialokasikan ke dua mitra."
                ) % {
                    "id": row.values[field_name],
                    "other": ", ".join(sorted(others_db.values())),
                    "kind": kind.name,
                    "reason": COL_REASON,
                }
            else:
                message = _(
                    "Keluarga %(id)s sudah dialokasikan ke mitra lain untuk kebutuhan %(kind)s di baris %(row)s "
                    "berkas ini. Isi %(reason)s bila keluarga ini memang perlu dialokasikan ke dua mitra."
                ) % {
                    "id": row.values[field_name],
                    "kind": kind.name,
                    "row": min(others_file.values()),
                    "reason": COL_REASON,
                }
            _issue(row, reason_column, row.reason, "allocated_to_other", message)
            continue
        in_file[(row.household_id, kind.pk)][org.pk] = row.number
        row.outcome = "override" if (others_db or others_file) else "new"
        counts[row.outcome] += 1
    return counts


def _cycle(job: ImportJob) -> CsrCycle:
    cycle_id = (job.options or {}).get("cycle_id")
    cycle = CsrCycle.objects.filter(pk=int(cycle_id or 0)).select_related("region").first()
    if cycle is None:
        raise ImportFileError(_("Siklus CSR unggahan ini tidak ditemukan."), code="cycle_missing")
    return cycle


def _actor(job: ImportJob, cycle: CsrCycle) -> Any:
    actor = job.created_by
    try:
        _check_may_upload(actor, cycle)
    except DomainError as exc:
        raise ImportFileError(exc.message, code="forbidden") from exc
    return actor


def _job_file(job: ImportJob) -> ImportFile:
    files = list(job.files.all())
    if len(files) != 1 or files[0].kind != CSR_ALLOCATION:
        raise ImportFileError(_("Unggahan alokasi membutuhkan tepat satu berkas."), code="file_missing")
    return files[0]


def _check(job: ImportJob, actor: Any, cycle: CsrCycle) -> _Checked:
    header, rows = _parse(_job_file(job))
    _resolve_households(rows, header, actor)
    _resolve_partners(rows, header, actor, cycle)
    _resolve_kinds(rows, header)
    _check_operating_area(rows, header)
    counts = _check_duplicates_and_holders(rows, header, cycle)
    return _Checked(header=header, rows=rows, counts=counts)


# ------------------------------------------------------------------------------------------------ preview + run


def _sample(checked: _Checked, size: int) -> list[dict[str, Any]]:
    return [
        {
            "row_number": row.number,
            "values": dict(row.values),
            "issues": [
                {"column": i.column, "value": i.value, "code": i.code, "message": i.message} for i in row.issues
            ],
        }
        for row in checked.rows[:size]
    ]


def _counts(checked: _Checked) -> dict[str, int]:
    rows = len(checked.rows)
    return {
        "rows": rows,
        "valid": rows - checked.rejected,
        "warning": 0,
        "rejected": checked.rejected,
        **checked.counts,
    }


def preview(*, job: ImportJob, sample_size: int = 20) -> dict[str, Any]:
    """Read and check the whole file (nothing written): counts per outcome, refused rows, the first rows."""
    cycle = _cycle(job)
    actor = _actor(job, cycle)
    checked = _check(job, actor, cycle)
    issues = sorted(checked.issues, key=lambda i: i.row_number)
    result = {
        CSR_ALLOCATION: {
            "header_row": checked.header.row_number,
            "columns": checked.header.columns,
            "unmatched": checked.header.unmatched,
            "sample": _sample(checked, sample_size),
            "issues": [
                {"row_number": i.row_number, "column": i.column, "value": i.value, "message": i.message}
                for i in issues[:PREVIEW_ISSUES]
            ],
            "counts": _counts(checked),
        }
    }
    job.preview = result
    ImportJob.objects.filter(pk=job.pk).update(preview=result)
    return result


def _apply(checked: _Checked, job: ImportJob, actor: Any, cycle: CsrCycle) -> int:
    """Allocate the checked rows (none refused) through ``services.allocations_create``, grouped by partner, need,
    reason and note; rows without a reason first, so an override finds the household it overrides. Any row the
    service does not allocate as checked (a concurrent change) undoes the whole file."""
    groups: dict[tuple[bool, int, int, str, str], list[int]] = defaultdict(list)
    organizations: dict[int, Organization] = {}
    kinds: dict[int, AssistanceKind] = {}
    for row in checked.rows:
        if row.outcome not in ("new", "override"):
            continue
        assert row.organization is not None and row.kind is not None and row.household_id is not None
        organizations[row.organization.pk], kinds[row.kind.pk] = row.organization, row.kind
        key = (bool(row.reason), row.organization.pk, row.kind.pk, row.reason, row.note)
        groups[key].append(row.household_id)
    created = 0
    for (_has_reason, org_id, kind_id, reason, note), household_ids in sorted(groups.items()):
        result = services.allocations_create(
            actor=actor,
            cycle=cycle,
            organization=organizations[org_id],
            assistance_kind=kinds[kind_id],
            household_ids=household_ids,
            source=AllocationSource.SPREADSHEET,
            override_reason=reason,
            note=note,
            import_job_id=job.pk,
        )
        if result.created != len(set(household_ids)):
            raise ImportFileError(
                _(
                    "Alokasi berubah selama unggahan diproses (%(n)s keluarga tidak dapat dialokasikan seperti saat "
                    "pratinjau); tidak ada yang disimpan. Unggah ulang berkasnya."
                )
                % {"n": len(set(household_ids)) - result.created},
                code="allocation_changed",
            )
        created += result.created
    return created


def run(*, job: ImportJob, progress: ProgressCallback | None = None) -> ImportSummary:
    """Check and allocate the job's rows in one transaction; any refused row leaves everything unwritten."""
    cycle = _cycle(job)
    actor = _actor(job, cycle)
    summary = ImportSummary(dry_run=job.dry_run, kind=ImportKind.CSR_ALLOCATION, engine=ENGINE)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ALLOCATION_LOCK])
        checked = _check(job, actor, cycle)
        summary.rows_read = len(checked.rows)
        summary.allocation = {**checked.counts, "created": 0}
        summary.allocation_rejected = checked.rejected
        summary.blocked = checked.rejected > 0
        if progress is not None:
            progress(summary.rows_read, max(job.rows_total, summary.rows_read))
        if not summary.blocked and not job.dry_run:
            try:
                with transaction.atomic():
                    summary.allocation["created"] = _apply(checked, job, actor, cycle)
            except DomainError as exc:
                raise ImportFileError(exc.message, code=exc.code) from exc
        engine.write_row_errors(job, checked.issues)
        summary.message = msg_blocked() % {"n": checked.rejected} if summary.blocked else ""
        ImportJob.objects.filter(pk=job.pk).update(
            error_count=checked.rejected, warning_count=0, message=summary.message
        )
    return summary


def rows_for_template(rows: Sequence[Sequence[Any]]) -> bytes:
    """A filled allocation sheet (tests, demo): the template headers and ``rows``."""
    buffer = io.BytesIO()
    xlsx_write(buffer, title=str(_("Alokasi CSR")), headers=template_headers(), rows=rows)
    return buffer.getvalue()
