"""Data types shared by every step of the import engine (the contract between the modules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

# File kinds: which registry records a file feeds.
FAMILY = "family"  # P3KE family file: one row per family
PERSON = "person"  # P3KE person file: one row per person, linked by ID Keluarga P3KE
DTKS = "dtks"  # DTKS export: one row per person, families by No KK / IDDTKS
DTSEN = "dtsen"  # DTSEN export: one row per person (or family) with desil 1-10
INTERVENTION = "delivery"  # a program's deliveries: one row per household (ID Keluarga P3KE or NIK)
VERVAL = "verval"  # a filled gap-list (verval) sheet: one row per household (its id in this system)
CSR_ALLOCATION = "allocation"  # CSR target allocations (csr.allocation_import): household, partner, need
FileKind = Literal["family", "person", "dtks", "dtsen", "delivery", "verval", "allocation"]


@dataclass(frozen=True)
class CellIssue:
    """One rejected or repaired value. ``column`` is the header as written in the file."""

    column: str
    value: str
    code: str  # stable machine code, e.g. "nik_excel_number", "desil_range", "region_unknown"
    message: str  # Bahasa Indonesia, shown to the user and written to the error report
    severity: Severity = "error"


@dataclass
class ParsedRow:
    """One data row after the pure cell parsers.

    ``values`` maps target field names (see mapping.FieldSpec.name) to typed Python values (str, int,
    date, bool, None). ``raw`` keeps every cell of the row as text under its original header, unknown
    columns included, so nothing read is ever dropped (it becomes the provenance ``raw`` JSON).
    A row with any issue of severity "error" is rejected; warnings keep it.
    """

    row_number: int  # 1-based row number in the sheet/file as the user sees it in Excel
    values: dict[str, Any]
    raw: dict[str, str]
    issues: list[CellIssue] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(issue.severity == "error" for issue in self.issues)

    @property
    def warned(self) -> bool:
        return any(issue.severity == "warning" for issue in self.issues)


@dataclass
class RowIssue:
    """A CellIssue placed in its file and row; what the error report and ``RowError`` store."""

    file: str  # FileKind of the file the row came from
    row_number: int
    column: str
    value: str
    code: str
    message: str
    severity: Severity = "error"


class ImportFileError(Exception):
    """A file-level fault (not a spreadsheet, empty, no recognisable header, wrong kind): the job fails
    before anything is written. ``message`` says in Bahasa Indonesia what to do."""

    def __init__(self, message: str, code: str = "file_invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    # Households of the source that were in the registry but not in this snapshot (flagged, never deleted).
    missing: int = 0
    # Intervention uploads: rows not inserted because the delivery is already recorded (or twice in the file).
    duplicates: int = 0
    # Intervention uploads: template rows left empty (no delivery data), neither written nor refused.
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }


@dataclass
class ImportSummary:
    """What the CLI prints as its last line (``to_json_dict``) and the result page shows."""

    families: Counts = field(default_factory=Counts)
    persons: Counts = field(default_factory=Counts)
    rows_read: int = 0
    dry_run: bool = False
    linkage: dict[str, int] = field(default_factory=dict)  # matched_by_nik, matched_by_name, unmatched, review
    engine: str = ""  # fingerprint of the engine that produced it (rerun.engine_fingerprint)
    rerun_of: int | None = None  # the identical earlier import whose result this repeats (rerun.repeat)
    history_mark: list[int] | None = None  # history event counts after the run's writes (rerun.history_mark)
    kind: str = "registry"  # ImportJob.kind
    interventions: Counts = field(default_factory=Counts)  # intervention uploads
    # Intervention uploads with all-or-nothing: rows were refused, so nothing was written.
    blocked: bool = False
    message: str = ""  # what the job's page says about the outcome (kept as ImportJob.message)
    # Verval uploads (reports.verval): rows per outcome (found, moved, deceased, graduated, not_found, unchanged).
    verval: dict[str, int] = field(default_factory=dict)
    verval_rejected: int = 0
    # CSR allocation uploads (csr.allocation_import): created, already (held by the partner), override, rows.
    allocation: dict[str, int] = field(default_factory=dict)
    allocation_rejected: int = 0

    @property
    def rejected(self) -> int:
        return (
            self.families.rejected
            + self.persons.rejected
            + self.interventions.rejected
            + self.interventions.duplicates
            + self.verval_rejected
            + self.allocation_rejected
        )

    @property
    def warnings(self) -> int:
        return self.families.warnings + self.persons.warnings + self.interventions.warnings

    def to_json_dict(self) -> dict[str, Any]:
        if self.kind == "verval":
            return {**self.verval, "rejected": self.verval_rejected}
        if self.kind == "csr_allocation":
            return {**self.allocation, "rejected": self.allocation_rejected}
        if self.kind == "interventions":
            c = self.interventions
            return {"created": c.created, "duplicates": c.duplicates, "rejected": c.rejected}
        return {"families": self.families.as_dict(), "persons": self.persons.as_dict()}


ProgressCallback = Callable[[int, int], None]  # (rows_done, rows_total)
