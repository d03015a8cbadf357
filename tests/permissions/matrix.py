"""The permission matrix as tables: who may reach which page, admin screen and API endpoint, and which rows.

The tables restate ``tkpk/scoping.py`` (ROLE_CAPABILITIES) and the ``grant_q`` of every scoped QuerySet in
plain sets, so that a change of the rules (a role gaining a capability, a QuerySet showing more rows) fails
the matrix until the table is changed on purpose. The tests derive each case's expected status from them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.permissions.world import (
    ACTORS,
    HOUSEHOLD_TARGETS,
    IN_REGION,
    INTERVENTION_TARGETS,
    KENDAL,
    KENDAL_DESA,
    KUKAR,
    KUKAR_AGENCY,
    KUKAR_DESA,
    OTHER_AGENCY,
    OUT_OF_REGION,
    OWN_AGENCY,
    PARTNER_B_ALLOCATED,
    PARTNER_B_PROGRAM,
    PARTNER_PROGRAM,
    PROGRAM_OWNER,
    PROGRAM_TARGETS,
    REPORT_TARGETS,
    UNALLOCATED,
)
from tests.permissions.world_csr import (
    A_AGREED,
    A_DRAFT,
    B_SUBMITTED,
    CYCLE_TARGETS,
    KUKAR_PROPOSAL,
    PROPOSAL_STATUS,
    PROPOSAL_TARGETS,
    REFUSAL_A,
    REFUSAL_C,
    REFUSAL_KUKAR,
    REFUSAL_TARGETS,
)
from tkpk.scoping import Cap, Role

LOGIN = "login"  # a redirect to the login page
ANONYMOUS_API = frozenset({401, 403})  # DRF with session auth first answers 403, with basic auth first 401

# ------------------------------------------------------------------------------------------- roles

ACTOR_ROLE: dict[str, str | None] = {
    "secretariat": Role.SECRETARIAT,
    "opd_officer": Role.OPD_OFFICER,
    "partner": Role.PARTNER,
    "partner_b": Role.PARTNER,
    "leadership": Role.LEADERSHIP,
    "secretariat_kukar": Role.SECRETARIAT,
    "secretariat_province": Role.SECRETARIAT,
    "no_membership": None,
    "anonymous": None,
}

# tkpk/scoping.py ROLE_CAPABILITIES, written out (test_capability_table_matches_scoping keeps them equal).
ROLE_CAPS: dict[str, frozenset[str]] = {
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


def caps(actor: str) -> frozenset[str]:
    role = ACTOR_ROLE[actor]
    return ROLE_CAPS[role] if role else frozenset()


# ------------------------------------------------------------------------------------------- rows

_KENDAL_HOUSEHOLDS = frozenset({IN_REGION, UNALLOCATED, PARTNER_B_ALLOCATED})

# Households each actor may open one by one (HouseholdQuerySet.grant_q): the region for secretariat and OPD,
# only allocated ones (and in the region) for partners, none for leadership (aggregates only).
HOUSEHOLDS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_HOUSEHOLDS,
    "opd_officer": _KENDAL_HOUSEHOLDS,
    "partner": frozenset({IN_REGION}),
    "partner_b": frozenset({PARTNER_B_ALLOCATED}),
    "leadership": frozenset(),
    "secretariat_kukar": frozenset({OUT_OF_REGION}),
    "secretariat_province": _KENDAL_HOUSEHOLDS,
    "no_membership": frozenset(),
    "anonymous": frozenset(),
}

# Regions (RegionQuerySet.grant_q): the own region, what lies below it and its ancestors.
REGION_TARGETS = {IN_REGION: KENDAL_DESA, OUT_OF_REGION: KUKAR_DESA}
_KENDAL_SIDE = frozenset({IN_REGION})
REGIONS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_SIDE,
    "opd_officer": _KENDAL_SIDE,
    "partner": _KENDAL_SIDE,
    "partner_b": _KENDAL_SIDE,
    "leadership": _KENDAL_SIDE,
    "secretariat_kukar": frozenset({OUT_OF_REGION}),
    "secretariat_province": _KENDAL_SIDE,
    "no_membership": frozenset(),
    "anonymous": frozenset(),
}
# Kabupaten/kota rows listed by /api/v1/regions/?level=2 (only 33.24 and 64.02 are loaded).
KABUPATEN_SEEN: dict[str, frozenset[str]] = {
    actor: frozenset({KUKAR} if actor == "secretariat_kukar" else {KENDAL} if seen else set())
    for actor, seen in REGIONS_SEEN.items()
}

# Organizations (OrganizationQuerySet.grant_q): the region's for secretariat and leadership, else the own one.
# partner_c: a Kendal mining company with no user of its own (it refused to take part in the CSR cycle).
_KENDAL_ORGS = frozenset(
    {"secretariat", "opd_officer", "partner", "partner_b", "leadership", "other_agency", "partner_c"}
)
ORGS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_ORGS,
    "opd_officer": frozenset({"opd_officer"}),
    "partner": frozenset({"partner"}),
    "partner_b": frozenset({"partner_b"}),
    "leadership": _KENDAL_ORGS,
    "secretariat_kukar": frozenset({"secretariat_kukar", "kukar_partner", "kukar_opd"}),
    "secretariat_province": _KENDAL_ORGS | {"secretariat_province"},
    "no_membership": frozenset(),
    "anonymous": frozenset(),
}
OWN = "own"
ORG_TARGETS = {IN_REGION: "partner", OUT_OF_REGION: "secretariat_kukar"}  # + OWN: the actor's own organization
ACTORS_WITH_ORGANIZATION = tuple(a for a in ACTORS if ACTOR_ROLE[a] is not None)


def org_key(actor: str, target: str) -> str:
    return actor if target == OWN else ORG_TARGETS[target]


# Programs (ProgramQuerySet.grant_q): secretariat and leadership every program of their region (a province
# secretariat its kabupaten's); an OPD officer or a partner only its own organization's.
_KENDAL_PROGRAMS = frozenset({OWN_AGENCY, OTHER_AGENCY, PARTNER_PROGRAM, PARTNER_B_PROGRAM})
assert _KENDAL_PROGRAMS | {KUKAR_AGENCY} == set(PROGRAM_TARGETS)
PROGRAMS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_PROGRAMS,
    "opd_officer": frozenset({OWN_AGENCY}),
    "partner": frozenset({PARTNER_PROGRAM}),
    "partner_b": frozenset({PARTNER_B_PROGRAM}),
    "leadership": _KENDAL_PROGRAMS,
    "secretariat_kukar": frozenset({KUKAR_AGENCY}),
    "secretariat_province": _KENDAL_PROGRAMS,
    "no_membership": frozenset(),
    "anonymous": frozenset(),
}
# Programs an actor may change, and log deliveries into (Cap.PROGRAM_MANAGE / INTERVENTION_LOG on top of the
# rows above): the same rows for every role that has them; leadership reads only.
PROGRAMS_MANAGED: dict[str, frozenset[str]] = {
    actor: seen if Cap.PROGRAM_MANAGE in caps(actor) else frozenset() for actor, seen in PROGRAMS_SEEN.items()
}
PROGRAMS_LOGGABLE: dict[str, frozenset[str]] = {
    actor: seen if Cap.INTERVENTION_LOG in caps(actor) else frozenset() for actor, seen in PROGRAMS_SEEN.items()
}
# Organizations an actor may create a program for (services.organizations_for_programs): the secretariat any
# active organization of its region, an agency or partner only itself.
PROGRAM_ORGS: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_ORGS,
    "opd_officer": frozenset({"opd_officer"}),
    "partner": frozenset({"partner"}),
    "partner_b": frozenset({"partner_b"}),
    "leadership": frozenset(),
    "secretariat_kukar": ORGS_SEEN["secretariat_kukar"],
    "secretariat_province": ORGS_SEEN["secretariat_province"],
    "no_membership": frozenset(),
    "anonymous": frozenset(),
}

# Interventions (InterventionQuerySet.grant_q): the secretariat by the household's region columns; an OPD
# officer or partner its own organization's deliveries, whoever's household; leadership no row at all.
_KENDAL_INTERVENTIONS = frozenset(t for t in INTERVENTION_TARGETS if not t.startswith(f"{KUKAR_AGENCY}/"))
_KUKAR_INTERVENTIONS = frozenset({f"{KUKAR_AGENCY}/{OUT_OF_REGION}"})
assert _KENDAL_INTERVENTIONS | _KUKAR_INTERVENTIONS == set(INTERVENTION_TARGETS)


def _of_program(*programs: str) -> frozenset[str]:
    return frozenset(t for t in INTERVENTION_TARGETS if t.split("/")[0] in programs)


INTERVENTIONS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_INTERVENTIONS,
    "opd_officer": _of_program(OWN_AGENCY),
    "partner": _of_program(PARTNER_PROGRAM),
    "partner_b": _of_program(PARTNER_B_PROGRAM),
    "leadership": frozenset(),
    "secretariat_kukar": _KUKAR_INTERVENTIONS,
    "secretariat_province": _KENDAL_INTERVENTIONS,
    "no_membership": frozenset(),
    "anonymous": frozenset(),
}
# What each actor may count (for_aggregates): leadership its whole region, everyone else what it sees.
INTERVENTIONS_COUNTED: dict[str, frozenset[str]] = {**INTERVENTIONS_SEEN, "leadership": _KENDAL_INTERVENTIONS}

# Activity reports (ActivityReportQuerySet.grant_q): secretariat and leadership by region, others their own.
_KENDAL_REPORTS = frozenset({OWN_AGENCY, PARTNER_PROGRAM, OTHER_AGENCY})
assert _KENDAL_REPORTS | {KUKAR_AGENCY} == set(REPORT_TARGETS)
ACTIVITY_REPORTS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_REPORTS,
    "opd_officer": frozenset({OWN_AGENCY}),
    "partner": frozenset({PARTNER_PROGRAM}),
    "partner_b": frozenset(),
    "leadership": _KENDAL_REPORTS,
    "secretariat_kukar": frozenset({KUKAR_AGENCY}),
    "secretariat_province": _KENDAL_REPORTS,
    "no_membership": frozenset(),
    "anonymous": frozenset(),
}

# Admin: which side of the border each actor with the admin capability sees (every scoped admin).
ADMIN_SIDES_SEEN: dict[str, frozenset[str]] = {
    "secretariat": frozenset({"kendal"}),
    "secretariat_province": frozenset({"kendal"}),
    "secretariat_kukar": frozenset({"kukar"}),
}

# ------------------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    name: str
    method: str
    url: str  # placeholders: {household}, {person}
    capability: str | None  # None: any logged-in user
    targets: tuple[str | None, ...] = (None,)
    # The URL names an object the world does not hold (an import job id 0): actors with the capability get 404,
    # the capability is still checked first. Per-object cases (in/out of region) live in test_import_pages.py.
    missing_object: bool = False

    def path(self, household: object = 1, person: object = 1) -> str:
        return self.url.format(household=household, person=person)


PAGES = (
    Page("home", "GET", "/", None),
    Page("search", "GET", "/registri/", Cap.REGISTRY_VIEW),
    Page("household-detail", "GET", "/registri/keluarga/{household}/", Cap.REGISTRY_VIEW, HOUSEHOLD_TARGETS),
    Page("reveal-nik", "POST", "/registri/buka/nik/{person}/", Cap.REGISTRY_REVEAL_ID, HOUSEHOLD_TARGETS),
    Page("reveal-kk", "POST", "/registri/buka/kk/{household}/", Cap.REGISTRY_REVEAL_ID, HOUSEHOLD_TARGETS),
    Page("mismatch-report", "GET", "/registri/ketidaksesuaian/", Cap.REGISTRY_EXPORT),
    Page("mismatch-export", "GET", "/registri/ketidaksesuaian/unduh.xlsx", Cap.REGISTRY_EXPORT),
    # Bulk import: secretariat only (Cap.IMPORT); jobs of another region are 404 (test_import_pages.py).
    Page("import-list", "GET", "/registri/impor/", Cap.IMPORT),
    Page("import-upload", "GET", "/registri/impor/unggah/", Cap.IMPORT),
    Page("import-upload-post", "POST", "/registri/impor/unggah/", Cap.IMPORT),
    Page("import-detail", "GET", "/registri/impor/0/", Cap.IMPORT, missing_object=True),
    Page("import-progress", "GET", "/registri/impor/0/progres/", Cap.IMPORT, missing_object=True),
    Page("import-confirm", "POST", "/registri/impor/0/konfirmasi/", Cap.IMPORT, missing_object=True),
    Page("import-cancel", "POST", "/registri/impor/0/batal/", Cap.IMPORT, missing_object=True),
    Page("import-rerun", "POST", "/registri/impor/0/ulang/", Cap.IMPORT, missing_object=True),
    Page("import-errors", "GET", "/registri/impor/0/kesalahan.xlsx", Cap.IMPORT, missing_object=True),
)
IMPORT_PAGES = tuple(page for page in PAGES if page.name.startswith("import-"))


def page_expected(actor: str, page: Page, target: str | None) -> int | str:
    if actor == "anonymous":
        return LOGIN
    if page.capability is not None and page.capability not in caps(actor):
        return 403
    if page.missing_object:
        return 404
    if target is None:
        return 200
    return 200 if target in HOUSEHOLDS_SEEN[actor] else 404


@dataclass(frozen=True)
class PublicPage:
    """Pages outside the role rules (login, logout, language, health check, API schema)."""

    name: str
    method: str
    path: str
    anonymous: int
    logged_in: int
    data: tuple[tuple[str, str], ...] = ()


PUBLIC_PAGES = (
    PublicPage("login", "GET", "/akun/masuk/", anonymous=200, logged_in=302),  # logged in: sent home
    PublicPage("logout", "POST", "/akun/keluar/", anonymous=302, logged_in=302),
    PublicPage("set-language", "POST", "/i18n/setlang/", 302, 302, data=(("language", "id"), ("next", "/"))),
    PublicPage("healthz", "GET", "/healthz", anonymous=200, logged_in=200),
    PublicPage("api-schema", "GET", "/api/schema/", anonymous=200, logged_in=200),  # the schema, no data
)

# URL patterns the matrix does not walk, with the reason. Everything else in tkpk.urls must have a row above
# or below (test_url_coverage.py).
EXEMPT_ROUTES = {
    "admin/": "every registered ModelAdmin is walked by test_admin.py",
    "api/docs/": "Swagger UI page (static HTML around /api/schema/)",
    "^media/": "DEBUG-only file serving",
}

# ------------------------------------------------------------------------- programs, interventions, reports

Expected = int | str  # a status code, or LOGIN
Rule = Callable[[str, "str | None"], Expected]  # (actor, target) -> expected response
PAGE_STATUS = (200, 302, 403, 404, LOGIN)
REPORT_STATUS = {  # the world's reports (world.REPORT_TARGETS): the partner's is still a draft
    OWN_AGENCY: "submitted",
    PARTNER_PROGRAM: "draft",
    OTHER_AGENCY: "submitted",
    KUKAR_AGENCY: "submitted",
}
# The TKPK region of each report and of each actor's secretariat grant (the review is the own region's).
REPORT_REGION = {OWN_AGENCY: KENDAL, PARTNER_PROGRAM: KENDAL, OTHER_AGENCY: KENDAL, KUKAR_AGENCY: KUKAR}
SECRETARIAT_REGION = {"secretariat": KENDAL, "secretariat_kukar": KUKAR, "secretariat_province": "33"}
THIS_YEAR = dt.date.today().year


# Reports each actor may open on the report pages: the rows above, but a draft only by its own organization
# (the secretariat and leadership see a report once it is submitted, as on the board and in the export).
REPORTS_OPENED: dict[str, frozenset[str]] = {
    actor: frozenset(t for t in seen if REPORT_STATUS[t] != "draft" or PROGRAM_OWNER[t] == actor)
    for actor, seen in ACTIVITY_REPORTS_SEEN.items()
}


def board_reader(actor: str) -> bool:
    """programs.activity.may_view_board: the secretariat (reviews) and leadership (reads)."""
    return Cap.ACTIVITY_REPORT_REVIEW in caps(actor) or ACTOR_ROLE[actor] == Role.LEADERSHIP


def gate(
    allowed: str | Callable[[str], bool],
    seen: dict[str, frozenset[str]] | None = None,
    ok: Expected | Rule = 200,
) -> Rule:
    """The common shape: login, then the role (a capability or a predicate) → 403, then the target's row
    scope (``seen``) → 404, then ``ok`` (a status, or a rule for pages whose answer depends on the row)."""

    def rule(actor: str, target: str | None) -> Expected:
        if actor == "anonymous":
            return LOGIN
        passes = allowed(actor) if callable(allowed) else allowed in caps(actor)
        if not passes:
            return 403
        if seen is not None and target is not None and target not in seen[actor]:
            return 404
        return ok(actor, target) if callable(ok) else ok

    return rule


@dataclass(frozen=True)
class ProgramPage:
    """A page of the program portal, imports or activity reports: method, URL and who gets what.

    ``url`` placeholders: {program}, {intervention}, {report}, {household} (filled with the target's pk, or 0
    when the page has no target), {year}. ``data`` is the POST body; ``{mark}`` in it is replaced by a marker
    the test looks for afterwards (did a refused write change anything?)."""

    name: str
    method: str
    url: str
    expect: Rule
    target_kind: str | None = None  # program, intervention, report, household
    targets: tuple[str | None, ...] = (None,)
    data: tuple[tuple[str, str], ...] = ()

    def path(self, **values: object) -> str:
        defaults: dict[str, object] = {
            "program": 0,
            "intervention": 0,
            "report": 0,
            "household": 0,
            "organization": 0,
            "job": 0,
            "households": defaultdict(int),  # {households[in-region]}: that household's pk
        }
        return self.url.format(**{**defaults, "year": THIS_YEAR, **values})


def _report_ok_edit_get(actor: str, target: str | None) -> Expected:
    # A draft (or returned) report opens in the form; a submitted one redirects to its detail page.
    assert target is not None
    return 200 if REPORT_STATUS[target] == "draft" else 302


def _report_ok_edit_post(actor: str, target: str | None) -> Expected:
    # Saved → back to the form; a submitted report is no longer editable → the form again with the error.
    assert target is not None
    return 302 if REPORT_STATUS[target] == "draft" else 200


def _report_ok_review_get(actor: str, target: str | None) -> Expected:
    assert target is not None
    return 200 if REPORT_STATUS[target] == "submitted" else 302


def may_review(actor: str, target: str) -> bool:
    """A submitted report of the secretariat's own TKPK region (a province secretariat reads, never reviews)."""
    return REPORT_STATUS[target] == "submitted" and SECRETARIAT_REGION.get(actor) == REPORT_REGION[target]


def _report_ok_review_post(actor: str, target: str | None) -> Expected:
    # Accepted → the board; refused by the service (a draft, another region's reviewer) → the form with the error.
    assert target is not None
    return 302 if may_review(actor, target) else 200


def _reader_or_reporter(actor: str) -> bool:
    return Cap.ACTIVITY_REPORT_SUBMIT in caps(actor) or board_reader(actor)


REPORT_PAGES = (
    # Reporters land on their reports; the secretariat and leadership, who report for nobody, on the board.
    ProgramPage(
        "reports-mine",
        "GET",
        "/laporan-kegiatan/",
        gate(_reader_or_reporter, ok=lambda a, t: 200 if Cap.ACTIVITY_REPORT_SUBMIT in caps(a) else 302),
    ),
    ProgramPage("reports-start", "POST", "/laporan-kegiatan/mulai/", gate(Cap.ACTIVITY_REPORT_SUBMIT, ok=302)),
    ProgramPage(
        "reports-detail",
        "GET",
        "/laporan-kegiatan/{report}/",
        gate(_reader_or_reporter, REPORTS_OPENED),
        "report",
        REPORT_TARGETS,
    ),
    ProgramPage(
        "reports-edit",
        "GET",
        "/laporan-kegiatan/{report}/ubah/",
        gate(Cap.ACTIVITY_REPORT_SUBMIT, REPORTS_OPENED, _report_ok_edit_get),
        "report",
        REPORT_TARGETS,
    ),
    ProgramPage(
        "reports-edit-post",
        "POST",
        "/laporan-kegiatan/{report}/ubah/",
        gate(Cap.ACTIVITY_REPORT_SUBMIT, REPORTS_OPENED, _report_ok_edit_post),
        "report",
        REPORT_TARGETS,
        data=(("narrative", "{mark}"), ("obstacles", ""), ("action", "save")),
    ),
    ProgramPage(
        "reports-review",
        "GET",
        "/laporan-kegiatan/{report}/tinjau/",
        gate(Cap.ACTIVITY_REPORT_REVIEW, REPORTS_OPENED, _report_ok_review_get),
        "report",
        REPORT_TARGETS,
    ),
    ProgramPage(
        "reports-review-post",
        "POST",
        "/laporan-kegiatan/{report}/tinjau/",
        gate(Cap.ACTIVITY_REPORT_REVIEW, REPORTS_OPENED, _report_ok_review_post),
        "report",
        REPORT_TARGETS,
        data=(("decision", "accept"), ("note", "{mark}")),
    ),
    ProgramPage("reports-board", "GET", "/laporan-kegiatan/papan/?periode={year}-1", gate(board_reader)),
    ProgramPage("reports-export", "GET", "/laporan-kegiatan/papan/unduh/?periode={year}-1", gate(board_reader)),
)


def _may_log(actor: str, program: str | None) -> bool:
    """Logging a new delivery of ``program`` to the free Kendal household (LOG_HOUSEHOLD) succeeds."""
    assert program is not None
    return (
        program in PROGRAMS_LOGGABLE[actor]
        and LOG_HOUSEHOLD in HOUSEHOLDS_SEEN[actor]
        and f"{program}/{LOG_HOUSEHOLD}" not in INTERVENTION_TARGETS
    )


# The household the log form writes to: Kendal, another kecamatan, allocated to nobody; only the other agency's
# program has reached it (so the secretariat logging that one meets the duplicate guard).
LOG_HOUSEHOLD = UNALLOCATED
# Organizations a program may be created for in the create-post walk (world.organizations keys).
CREATE_FOR = ("opd_officer", "other_agency", "partner", "partner_b", "kukar_opd")

PORTAL_PAGES = (
    ProgramPage("program-list", "GET", "/program/", gate(Cap.PROGRAM_VIEW)),
    ProgramPage("program-list-all-years", "GET", "/program/?year=&q=Bantuan", gate(Cap.PROGRAM_VIEW)),
    ProgramPage("program-overview", "GET", "/program/ringkasan/?year={year}", gate(Cap.PROGRAM_VIEW)),
    ProgramPage(
        "program-detail",
        "GET",
        "/program/{program}/",
        gate(Cap.PROGRAM_VIEW, PROGRAMS_SEEN),
        "program",
        PROGRAM_TARGETS,
    ),
    ProgramPage("program-create", "GET", "/program/tambah/", gate(Cap.PROGRAM_MANAGE)),
    # A full, valid program form for each owner: created (→ its page) only for an organization the actor may
    # create programs for; any other is not among the form's choices (→ the form again, nothing created).
    ProgramPage(
        "program-create-post",
        "POST",
        "/program/tambah/",
        gate(Cap.PROGRAM_MANAGE, ok=lambda a, t: 302 if t in PROGRAM_ORGS[a] else 200),
        "organization",
        CREATE_FOR,
        data=(("code", "baru-{mark}"), ("name", "Program {mark}")),
    ),
    ProgramPage(
        "program-update",
        "GET",
        "/program/{program}/ubah/",
        gate(Cap.PROGRAM_MANAGE, PROGRAMS_MANAGED),
        "program",
        PROGRAM_TARGETS,
    ),
    # The program's own values with a new name: saved (→ its page) where the actor manages the program.
    ProgramPage(
        "program-update-post",
        "POST",
        "/program/{program}/ubah/",
        gate(Cap.PROGRAM_MANAGE, PROGRAMS_MANAGED, ok=302),
        "program",
        PROGRAM_TARGETS,
        data=(("name", "Program {mark}"),),
    ),
    ProgramPage("intervention-log", "GET", "/program/catat/", gate(Cap.INTERVENTION_LOG)),
    # Preselecting another owner's program or an unseen household by URL shows neither.
    ProgramPage(
        "intervention-log-preselect",
        "GET",
        "/program/catat/?program={program}&household={households[in-region]}",
        gate(Cap.INTERVENTION_LOG),
        "program",
        PROGRAM_TARGETS,
    ),
    # Log a delivery of each program to LOG_HOUSEHOLD: saved (→ the program page) when the actor logs into
    # that program and may open the household and it is no duplicate; otherwise the form with the error.
    ProgramPage(
        "intervention-log-post",
        "POST",
        "/program/catat/",
        gate(Cap.INTERVENTION_LOG, ok=lambda a, t: 302 if _may_log(a, t) else 200),
        "program",
        PROGRAM_TARGETS,
        data=(
            ("program", "{program}"),
            ("household", "{households[in-region-unallocated]}"),
            ("status", "delivered"),
            ("delivered_on", "{today}"),
            ("quantity", "1"),
            ("value", "250000"),
            ("note", "{mark}"),
        ),
    ),
    ProgramPage("household-finder", "GET", "/program/catat/cari-keluarga/?q=Rahasia", gate(Cap.INTERVENTION_LOG)),
    ProgramPage(
        "household-panel",
        "GET",
        "/program/catat/keluarga/{household}/",
        gate(Cap.INTERVENTION_LOG, HOUSEHOLDS_SEEN),
        "household",
        HOUSEHOLD_TARGETS,
    ),
    # Cancel answers with a redirect to the program page either way (a refusal is a message); the walk checks
    # the row: cancelled only where the actor may (its delivery, a program it logs into).
    ProgramPage(
        "intervention-cancel",
        "POST",
        "/program/intervensi/{intervention}/batal/",
        gate(Cap.INTERVENTION_LOG, INTERVENTIONS_SEEN, ok=302),
        "intervention",
        INTERVENTION_TARGETS,
        data=(("reason", "Batal {mark}"),),
    ),
)

# Intervention uploads (program_imports): a program the actor logs into (programs_for_logging), else 404; the job
# pages fetch ImportJob.for_user(kind=interventions): the secretariat its region's uploads, an agency or partner
# those of its own organization's programs. test_program_pages makes one uploaded job per JOB_TARGETS program.
JOB_TARGETS = (OWN_AGENCY, OTHER_AGENCY, PARTNER_PROGRAM, KUKAR_AGENCY)
JOBS_SEEN: dict[str, frozenset[str]] = {
    actor: frozenset(t for t in JOB_TARGETS if t in PROGRAMS_LOGGABLE[actor]) for actor in ACTORS
}
JOB_ACTIONS_CHANGE = {"job-confirm": True, "job-cancel": True, "job-rerun": False}  # on an uploaded job

IMPORT_PAGES_PROGRAMS = (
    ProgramPage(
        "import-template",
        "GET",
        "/program/impor/{program}/templat.xlsx",
        gate(Cap.INTERVENTION_LOG, PROGRAMS_LOGGABLE),
        "program",
        PROGRAM_TARGETS,
    ),
    # Pre-filled with the eligible households of a Kendal desa: only those the actor may open (test_program_pages
    # checks the names).
    ProgramPage(
        "import-template-prefilled",
        "GET",
        f"/program/impor/{{program}}/templat.xlsx?desa={KENDAL_DESA}&desa={KUKAR_DESA}",
        gate(Cap.INTERVENTION_LOG, PROGRAMS_LOGGABLE),
        "program",
        PROGRAM_TARGETS,
    ),
    ProgramPage(
        "import-upload",
        "GET",
        "/program/impor/{program}/unggah/",
        gate(Cap.INTERVENTION_LOG, PROGRAMS_LOGGABLE),
        "program",
        PROGRAM_TARGETS,
    ),
    ProgramPage(
        "import-upload-post",  # no file: the form again with the error; nothing created
        "POST",
        "/program/impor/{program}/unggah/",
        gate(Cap.INTERVENTION_LOG, PROGRAMS_LOGGABLE),
        "program",
        PROGRAM_TARGETS,
    ),
    *[
        ProgramPage(
            name,
            method,
            f"/program/impor/unggahan/{{job}}/{suffix}",
            gate(Cap.INTERVENTION_LOG, JOBS_SEEN, ok=302 if method == "POST" else 200),
            "job",
            JOB_TARGETS,
        )
        for name, method, suffix in (
            ("job-detail", "GET", ""),
            ("job-progress", "GET", "progres/"),
            ("job-confirm", "POST", "konfirmasi/"),
            ("job-cancel", "POST", "batal/"),
            ("job-rerun", "POST", "ulang/"),
            ("job-errors", "GET", "kesalahan.xlsx"),
        )
    ],
)

PROGRAM_PAGES: tuple[ProgramPage, ...] = (*PORTAL_PAGES, *IMPORT_PAGES_PROGRAMS, *REPORT_PAGES)


def program_page_changes(actor: str, page: ProgramPage, target: str | None) -> bool:
    """Whether a request to ``page`` writes anything (tested against the rows before and after)."""
    if page.method != "POST":
        return False
    expected = page.expect(actor, target)
    if page.name == "intervention-cancel":
        assert target is not None
        return expected == 302 and target.split("/")[0] in PROGRAMS_LOGGABLE[actor]
    if page.name == "reports-start":
        return False  # an empty form: nothing to start
    if page.name in JOB_ACTIONS_CHANGE:
        return expected == 302 and JOB_ACTIONS_CHANGE[page.name]
    return expected == 302


def visible_program_marks(actor: str) -> frozenset[str]:
    """Programs whose name may appear on a page for ``actor``: the programs it sees, and those that delivered
    to a household it may open (a household's deliveries list every owner's, by design: overlap check)."""
    delivered = {t.split("/")[0] for t in INTERVENTION_TARGETS if t.split("/")[1] in HOUSEHOLDS_SEEN[actor]}
    return PROGRAMS_SEEN[actor] | frozenset(delivered)


# ------------------------------------------------------------------------------------------- API


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str  # placeholders: {household}, {region}, {organization}, {program}, {intervention}
    kind: str  # root, list, detail
    targets: tuple[str | None, ...] = (None,)
    capability: str | None = None  # needed on top of Cap.API

    def path(self, fmt: str = "", **values: object) -> str:
        defaults = {"household": 1, "region": KENDAL_DESA, "organization": 1, "program": 1, "intervention": 1}
        path, _, query = self.url.format(**{**defaults, **values}).partition("?")
        if fmt:
            path = path.rstrip("/") + fmt if self.kind != "root" else path + fmt
        return f"{path}?{query}" if query else path


API_ENDPOINTS = (
    Endpoint("api-root", "/api/v1/", "root"),
    Endpoint("region-list", "/api/v1/regions/?level=2", "list"),
    Endpoint("region-detail", "/api/v1/regions/{region}/", "detail", (IN_REGION, OUT_OF_REGION)),
    Endpoint("organization-list", "/api/v1/organizations/", "list"),
    Endpoint("organization-detail", "/api/v1/organizations/{organization}/", "detail", (OWN, IN_REGION, OUT_OF_REGION)),
    Endpoint("household-list", "/api/v1/households/", "list"),
    Endpoint("household-detail", "/api/v1/households/{household}/", "detail", HOUSEHOLD_TARGETS),
    # Programs: read with Cap.PROGRAM_VIEW (leadership has no API access at all); rows PROGRAMS_SEEN.
    Endpoint("program-list", "/api/v1/programs/", "list", capability=Cap.PROGRAM_VIEW),
    Endpoint("program-detail", "/api/v1/programs/{program}/", "detail", PROGRAM_TARGETS, Cap.PROGRAM_VIEW),
    # Interventions: Cap.INTERVENTION_LOG; rows INTERVENTIONS_SEEN.
    Endpoint("intervention-list", "/api/v1/interventions/", "list", capability=Cap.INTERVENTION_LOG),
    Endpoint(
        "intervention-detail",
        "/api/v1/interventions/{intervention}/",
        "detail",
        INTERVENTION_TARGETS,
        Cap.INTERVENTION_LOG,
    ),
)
API_FORMATS = ("", ".json")  # the router also serves every endpoint with a format suffix


def api_seen(actor: str, endpoint: Endpoint, target: str) -> bool:
    if endpoint.name == "program-detail":
        return target in PROGRAMS_SEEN[actor]
    if endpoint.name == "intervention-detail":
        return target in INTERVENTIONS_SEEN[actor]
    if endpoint.name == "household-detail":
        return target in HOUSEHOLDS_SEEN[actor]
    if endpoint.name == "region-detail":
        return target in REGIONS_SEEN[actor]
    return org_key(actor, target) in ORGS_SEEN[actor]


def api_expected(actor: str, endpoint: Endpoint, target: str | None) -> int | frozenset[int]:
    if actor == "anonymous":
        return ANONYMOUS_API
    if Cap.API not in caps(actor) or (endpoint.capability and endpoint.capability not in caps(actor)):
        return 403
    if endpoint.kind != "detail":
        return 200
    assert target is not None
    return 200 if api_seen(actor, endpoint, target) else 404


@dataclass(frozen=True)
class ApiWrite:
    """A write through the API: method, URL, JSON body and who gets what (``expect``: a Rule over status codes;
    anonymous gets ANONYMOUS_API). ``{mark}`` in the body is what the write would store."""

    name: str
    method: str
    url: str  # placeholders: {program}, {intervention}
    expect: Callable[[str, str | None], int]
    target_kind: str | None = None
    targets: tuple[str | None, ...] = (None,)

    def path(self, fmt: str = "", **values: object) -> str:
        path = self.url.format(**{"program": 1, "intervention": 1, **values})
        return path.rstrip("/") + fmt if fmt else path


def api_gate(
    capability: str, seen: dict[str, frozenset[str]] | None, ok: int | Callable[[str, str | None], int]
) -> Any:
    def rule(actor: str, target: str | None) -> int:
        if Cap.API not in caps(actor) or capability not in caps(actor):
            return 403
        if seen is not None and target is not None and target not in seen[actor]:
            return 404
        return ok(actor, target) if callable(ok) else ok

    return rule


API_WRITES = (
    # Create a program for each owner: 201 for an organization the actor may create programs for, else 400
    # (not among the serializer's organizations).
    ApiWrite(
        "program-create",
        "POST",
        "/api/v1/programs/",
        api_gate(Cap.PROGRAM_MANAGE, None, lambda a, t: 201 if t in PROGRAM_ORGS[a] else 400),
        "organization",
        CREATE_FOR,
    ),
    ApiWrite(
        "program-patch",
        "PATCH",
        "/api/v1/programs/{program}/",
        api_gate(Cap.PROGRAM_MANAGE, PROGRAMS_MANAGED, 200),
        "program",
        PROGRAM_TARGETS,
    ),
    # Log a delivery of each program to LOG_HOUSEHOLD (as the portal's log form).
    ApiWrite(
        "intervention-create",
        "POST",
        "/api/v1/interventions/",
        api_gate(Cap.INTERVENTION_LOG, None, lambda a, t: 201 if _may_log(a, t) else 400),
        "program",
        PROGRAM_TARGETS,
    ),
    # The same as one bulk item: 201 when the item is created, 200 with the item's error otherwise.
    ApiWrite(
        "intervention-bulk",
        "POST",
        "/api/v1/interventions/bulk/",
        api_gate(Cap.INTERVENTION_LOG, None, lambda a, t: 201 if _may_log(a, t) else 200),
        "program",
        PROGRAM_TARGETS,
    ),
    ApiWrite(
        "intervention-cancel",
        "POST",
        "/api/v1/interventions/{intervention}/cancel/",
        api_gate(Cap.INTERVENTION_LOG, INTERVENTIONS_SEEN, 200),
        "intervention",
        INTERVENTION_TARGETS,
    ),
)


# ------------------------------------------------------------------------------------------- admin

SCOPED = "scoped"  # rows from for_user, secretariat reads and writes
REFERENCE = "reference"  # secretariat reads, only superusers write (superuser_only_write)
AUDIT = "audit"  # secretariat reads its region's rows, nobody writes
SUPERUSER_ONLY = "superuser-only"  # third-party tools: no role reaches them
# Code lists shared by every region (program clusters, strategies, assistance kinds): any secretariat reads
# and extends them (add, edit, deactivate), only superusers delete.
SHARED = "shared"

# Every registered ModelAdmin must be listed (test_every_registered_admin_is_in_the_matrix).
ADMIN_KIND: dict[str, str] = {
    "tkpk.region": REFERENCE,
    "households.source": REFERENCE,
    "tkpk.organization": SCOPED,
    "tkpk.membership": SCOPED,
    "auth.user": SCOPED,
    "households.snapshot": SCOPED,
    "households.household": SCOPED,
    "households.person": SCOPED,
    "households.householdsourcelink": SCOPED,
    "households.personsourcelink": SCOPED,
    "csr.allocation": SCOPED,
    "programs.program": SCOPED,
    "programs.intervention": AUDIT,  # read-only rows; the one write is the cancel action (through the service)
    "programs.activityreport": AUDIT,  # read-only: reports are written and reviewed in the portal
    "programs.programcluster": SHARED,
    "programs.programstrategy": SHARED,
    "programs.assistancekind": SHARED,
    "tkpk.personaldataaccess": AUDIT,
    # Coverage gaps (issue 6): need rules are one definition for every region (as the code lists); targets and
    # boundaries are the region's own; computations are written by the engine only.
    "reports.needrule": SHARED,
    "reports.regiontarget": SCOPED,
    "reports.regionboundaryset": SCOPED,
    "reports.gaprun": AUDIT,
    "reports.periodicreport": AUDIT,  # requested and downloaded on the periodic report page
    "households.graduation": AUDIT,  # recorded and revoked on the household page / by verval upload
    # CSR portal (issue 7): cycles, reopenings and contacts are edited here; proposals (targets and timeline as
    # read-only inlines), agreements, refusal letters and reminders are written by csr.services only.
    "csr.csrcycle": SCOPED,
    "csr.cyclereopen": SCOPED,
    "csr.companycontact": SCOPED,
    "csr.proposal": AUDIT,
    "csr.agreement": AUDIT,
    "csr.refusal": AUDIT,
    "csr.reminder": AUDIT,
    "auth.group": SUPERUSER_ONLY,
    "axes.accessattempt": SUPERUSER_ONLY,
    "axes.accesslog": SUPERUSER_ONLY,
    "axes.accessfailurelog": SUPERUSER_ONLY,
    "django_celery_beat.periodictask": SUPERUSER_ONLY,
    "django_celery_beat.clockedschedule": SUPERUSER_ONLY,
    "django_celery_beat.crontabschedule": SUPERUSER_ONLY,
    "django_celery_beat.solarschedule": SUPERUSER_ONLY,
    "django_celery_beat.intervalschedule": SUPERUSER_ONLY,
    "pghistory.events": SUPERUSER_ONLY,
}
# pghistory's Events admin reads a PostgreSQL-only view: its cases run in the PostgreSQL pass only.
POSTGRES_ONLY_ADMINS = {"pghistory.events"}
# Admins whose rows are cut by region; each has one row on each side of the border in the world.
# households.source is unscoped reference data (P3KE, DTKS, ...), the same for every region.
UNSCOPED_BY_DESIGN = {
    "households.source",
    "reports.needrule",
    "programs.programcluster",
    "programs.programstrategy",
    "programs.assistancekind",
}
ADMIN_EXTRA_CAPS = {"auth.user": frozenset({Cap.USERS_MANAGE})}


def admin_changelist_expected(actor: str, label: str) -> int | str:
    if actor == "anonymous":
        return LOGIN
    needed = {Cap.ADMIN} | ADMIN_EXTRA_CAPS.get(label, frozenset())
    if not needed <= caps(actor):
        return 403
    if ADMIN_KIND[label] == SUPERUSER_ONLY:
        return 403
    return 200


# ------------------------------------------------------------------------------------------- coverage gaps (issue 6)

# The world computes this year's gaps (world._gaps): a whole-registry run, then one per kabupaten. Region targets:
# Kendal (IN_REGION) and Kutai Kartanegara (OUT_OF_REGION), asked for by their dotted kabupaten code.
GAP_TARGETS = (IN_REGION, OUT_OF_REGION)
GAP_REGION = {IN_REGION: "33.24", OUT_OF_REGION: "64.02"}
GAP_SIDE = {IN_REGION: "kendal", OUT_OF_REGION: "kukar"}

# Whose gap figures each actor reads (Cap.GAP_VIEW; GapSummary / GapRun / PeriodicReport grant_q by region prefix):
# secretariat, OPD and leadership their kabupaten (a province secretariat the kabupaten of its province); a partner
# none at all (it reads only the households allocated to it, by name, never region figures).
GAP_REGIONS_READ: dict[str, frozenset[str]] = {
    actor: (frozenset({OUT_OF_REGION}) if actor == "secretariat_kukar" else frozenset({IN_REGION}))
    if Cap.GAP_VIEW in caps(actor)
    else frozenset()
    for actor in ACTORS
}
# Summary rows /api/v1/gaps/summary/ answers without a region: one level below the actor's TKPK region (the world's
# households live in two Kendal kecamatan and one Kutai Kartanegara kecamatan).
_KENDAL_KECAMATAN = frozenset({"332401", "332415"})
GAP_SUMMARY_DEFAULT_ROWS: dict[str, frozenset[str]] = {
    "secretariat": _KENDAL_KECAMATAN,
    "opd_officer": _KENDAL_KECAMATAN,
    "leadership": _KENDAL_KECAMATAN,
    "secretariat_kukar": frozenset({"640201"}),
    "secretariat_province": frozenset({"3324"}),
}
# ... and with ?region=<kabupaten>: that kabupaten's kecamatan, or nothing when it is not the actor's.
GAP_SUMMARY_REGION_ROWS = {IN_REGION: _KENDAL_KECAMATAN, OUT_OF_REGION: frozenset({"640201"})}

# Graduations (GraduationQuerySet.grant_q): the secretariat and OPD of the household's region, one by one.
GRADUATIONS_SEEN: dict[str, frozenset[str]] = {
    actor: frozenset(t for t in GAP_TARGETS if t in HOUSEHOLDS_SEEN[actor])
    if ACTOR_ROLE[actor] in (Role.SECRETARIAT, Role.OPD_OFFICER)
    else frozenset()
    for actor in ACTORS
}
# Verval uploads (ImportJob kind verval, ImportJob.grant_q): the secretariat of the job's region.
VERVAL_JOBS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": frozenset({IN_REGION}),
    "secretariat_province": frozenset({IN_REGION}),
    "secretariat_kukar": frozenset({OUT_OF_REGION}),
}


# The households of each side's desa (REGION_TARGETS): the Kendal one holds two, the third lives in another kecamatan.
_DESA_HOUSEHOLDS = {IN_REGION: frozenset({IN_REGION, PARTNER_B_ALLOCATED}), OUT_OF_REGION: frozenset({OUT_OF_REGION})}


def gap_households_listed(actor: str, target: str | None, desa: bool = False) -> frozenset[str]:
    """Households the by-name gap list (page, API, export) shows: those the actor may open one by one (partners:
    their allocation only), cut to the asked kabupaten (or its desa)."""
    seen = HOUSEHOLDS_SEEN[actor]
    if target is None:
        return seen
    if desa:
        return seen & _DESA_HOUSEHOLDS[target]
    kendal = target == IN_REGION
    return frozenset(h for h in seen if (h != OUT_OF_REGION) == kendal)


@dataclass(frozen=True)
class GapPage:
    """A page of the gap dashboard, gap list, periodic reports or graduation (same shape as ProgramPage).

    ``url`` placeholders: {region} (GAP_REGION of the target), {desa} (REGION_TARGETS: a desa there), {household},
    {graduation}, {report}, {job}, {year}.
    ``{mark}`` in ``data`` is replaced by a marker the test looks for afterwards."""

    name: str
    method: str
    url: str
    expect: Rule
    target_kind: str | None = None  # region, household, graduation, report, job
    targets: tuple[str | None, ...] = (None,)
    data: tuple[tuple[str, str], ...] = ()

    def path(self, **values: object) -> str:
        defaults: dict[str, object] = {
            "region": "",
            "desa": "",
            "household": 0,
            "graduation": 0,
            "report": 0,
            "job": 0,
        }
        return self.url.format(**{**defaults, "year": THIS_YEAR, **values})


GAP_PAGES = (
    # Dashboard: figures of the own region (404 for a region outside the scope, never its numbers).
    GapPage("gap-dashboard", "GET", "/kesenjangan/", gate(Cap.GAP_VIEW)),
    GapPage(
        "gap-dashboard-region",
        "GET",
        "/kesenjangan/?region={region}&year={year}",
        gate(Cap.GAP_VIEW, GAP_REGIONS_READ),
        "region",
        GAP_TARGETS,
    ),
    # Drill-down to a desa (the map's or the table's link): the same rule one level deep.
    GapPage(
        "gap-dashboard-desa",
        "GET",
        "/kesenjangan/?region={desa}&year={year}",
        gate(Cap.GAP_VIEW, GAP_REGIONS_READ),
        "region",
        GAP_TARGETS,
    ),
    # Recompute: the secretariat's button (a queued run of its region → back to the dashboard).
    GapPage(
        "gap-recompute", "POST", "/kesenjangan/hitung-ulang/", gate(Cap.GAP_MANAGE, ok=302), data=(("year", "{year}"),)
    ),
    GapPage("gap-run-status", "GET", "/kesenjangan/status-perhitungan/?year={year}", gate(Cap.GAP_VIEW)),
    # By-name gap list: Cap.REGISTRY_VIEW, rows as the registry (gap_households_listed); leadership none.
    GapPage("gap-households", "GET", "/kesenjangan/keluarga/", gate(Cap.REGISTRY_VIEW)),
    GapPage(
        "gap-households-region",
        "GET",
        "/kesenjangan/keluarga/?region={region}",
        gate(Cap.REGISTRY_VIEW),
        "region",
        GAP_TARGETS,
    ),
    # The .xlsx (verval sheet): Cap.GAP_MANAGE (secretariat), logged as an export with the region.
    GapPage(
        "gap-households-desa",
        "GET",
        "/kesenjangan/keluarga/?region={desa}&uncovered=",
        gate(Cap.REGISTRY_VIEW),
        "region",
        GAP_TARGETS,
    ),
    GapPage("gap-export", "GET", "/kesenjangan/keluarga/unduh.xlsx", gate(Cap.GAP_MANAGE)),
    GapPage(
        "gap-export-region",
        "GET",
        "/kesenjangan/keluarga/unduh.xlsx?region={region}",
        gate(Cap.GAP_MANAGE),
        "region",
        GAP_TARGETS,
    ),
    GapPage("verval-upload", "GET", "/kesenjangan/keluarga/verval/", gate(Cap.GAP_MANAGE)),
    # No file: back to the form with the error; nothing created.
    GapPage("verval-upload-post", "POST", "/kesenjangan/keluarga/verval/", gate(Cap.GAP_MANAGE, ok=302)),
    GapPage(
        "verval-detail",
        "GET",
        "/kesenjangan/keluarga/verval/{job}/",
        gate(Cap.GAP_MANAGE, VERVAL_JOBS_SEEN),
        "job",
        GAP_TARGETS,
    ),
    GapPage(
        "verval-confirm",
        "POST",
        "/kesenjangan/keluarga/verval/{job}/konfirmasi/",
        gate(Cap.GAP_MANAGE, VERVAL_JOBS_SEEN, ok=302),
        "job",
        GAP_TARGETS,
    ),
    GapPage(
        "verval-cancel",
        "POST",
        "/kesenjangan/keluarga/verval/{job}/batal/",
        gate(Cap.GAP_MANAGE, VERVAL_JOBS_SEEN, ok=302),
        "job",
        GAP_TARGETS,
    ),
    # Periodic reports: read with Cap.GAP_VIEW (own region's reports), requested with Cap.GAP_MANAGE.
    GapPage("periodic-list", "GET", "/laporan-berkala/", gate(Cap.GAP_VIEW)),
    # Another region's code in ?wilayah= falls back to the own region (never lists the other's reports).
    GapPage(
        "periodic-list-region", "GET", "/laporan-berkala/?wilayah={region}", gate(Cap.GAP_VIEW), "region", GAP_TARGETS
    ),
    GapPage(
        "periodic-request",
        "POST",
        "/laporan-berkala/",
        gate(Cap.GAP_MANAGE, ok=302),
        data=(("year", "{year}"), ("period", "year")),
    ),
    GapPage(
        "periodic-status",
        "GET",
        "/laporan-berkala/{report}/status/",
        gate(Cap.GAP_VIEW, GAP_REGIONS_READ),
        "report",
        GAP_TARGETS,
    ),
    *[
        GapPage(
            f"periodic-download-{kind}",
            "GET",
            f"/laporan-berkala/{{report}}/unduh/{kind}/",
            gate(Cap.GAP_VIEW, GAP_REGIONS_READ),
            "report",
            GAP_TARGETS,
        )
        for kind in ("pdf", "xlsx")
    ],
    # Graduation (household page): the secretariat records and revokes; → the household page either way.
    GapPage(
        "household-graduate",
        "POST",
        "/registri/keluarga/{household}/graduasi/",
        gate(Cap.GAP_MANAGE, HOUSEHOLDS_SEEN, ok=302),
        "household",
        HOUSEHOLD_TARGETS,
        data=(("graduated_on", "{today}"), ("reason", "Graduasi {mark}")),
    ),
    GapPage(
        "graduation-evidence",
        "GET",
        "/registri/graduasi/{graduation}/bukti/",
        gate(Cap.REGISTRY_VIEW, GRADUATIONS_SEEN),
        "graduation",
        GAP_TARGETS,
    ),
    GapPage(
        "graduation-revoke",
        "POST",
        "/registri/graduasi/{graduation}/batal/",
        gate(Cap.GAP_MANAGE, GRADUATIONS_SEEN, ok=302),
        "graduation",
        GAP_TARGETS,
        data=(("reason", "Batal {mark}"),),
    ),
)


@dataclass(frozen=True)
class GapEndpoint:
    """/api/v1/gaps/…: Cap.API and ``capability``; ``?region=`` from the target (None: no region asked)."""

    name: str
    url: str
    capability: str
    targets: tuple[str | None, ...] = (None, *GAP_TARGETS)

    def path(self, target: str | None = None) -> str:
        return f"{self.url}?region={GAP_REGION[target]}" if target else self.url


GAP_API = (
    GapEndpoint("gap-summary", "/api/v1/gaps/summary/", Cap.GAP_VIEW),
    GapEndpoint("gap-households", "/api/v1/gaps/households/", Cap.REGISTRY_VIEW),
)


def gap_api_expected(actor: str, endpoint: GapEndpoint) -> int | frozenset[int]:
    """Figures of another region are no error: an empty answer (the rows are checked by the test)."""
    if actor == "anonymous":
        return ANONYMOUS_API
    return 200 if {Cap.API, endpoint.capability} <= caps(actor) else 403


# ------------------------------------------------------------------------------------------- CSR portal (issue 7)

# The world's CSR rows (world_csr.py): a cycle of each kabupaten; proposals of partner A (agreed with its PKS and a
# delivery; a draft), partner B (submitted) and the Kukar company (agreed); refusal letters of partner A, of a third
# Kendal company and of the Kukar company; the three allocated households in their kabupaten's cycle.


def _by_side(kendal: frozenset[str], kukar: frozenset[str], **others: frozenset[str]) -> dict[str, frozenset[str]]:
    """Kendal rows for the Kendal secretariat and the province's, Kukar rows for the Kukar secretariat, then ``others``
    (every other actor: none)."""
    rows = {actor: frozenset[str]() for actor in ACTORS}
    rows.update(secretariat=kendal, secretariat_province=kendal, secretariat_kukar=kukar)
    rows.update(others)
    return rows


# Cycles (CsrCycleQuerySet.grant_q): secretariat and leadership by region, a partner its TKPK region's; the OPD none.
CSR_CYCLES_SEEN = _by_side(
    frozenset({"kendal"}),
    frozenset({"kukar"}),
    partner=frozenset({"kendal"}),
    partner_b=frozenset({"kendal"}),
    leadership=frozenset({"kendal"}),
)
# Cycles an actor runs (services.may_manage_cycle): the secretariat of a region holding the cycle's.
CSR_CYCLES_MANAGED = _by_side(frozenset({"kendal"}), frozenset({"kukar"}))
_KENDAL_PROPOSALS = frozenset({A_AGREED, A_DRAFT, B_SUBMITTED})
# Proposals (ProposalQuerySet.grant_q): the secretariat its region's cycles', a partner its own organization's.
CSR_PROPOSALS_SEEN = _by_side(
    _KENDAL_PROPOSALS,
    frozenset({KUKAR_PROPOSAL}),
    partner=frozenset({A_AGREED, A_DRAFT}),
    partner_b=frozenset({B_SUBMITTED}),
)
CSR_PROPOSALS_MANAGED = _by_side(_KENDAL_PROPOSALS, frozenset({KUKAR_PROPOSAL}))
CSR_PROPOSALS_OWNED = {
    a: seen if a in ("partner", "partner_b") else frozenset() for a, seen in CSR_PROPOSALS_SEEN.items()
}
# Refusal letters (RefusalQuerySet.grant_q): the same shape.
CSR_REFUSALS_SEEN = _by_side(
    frozenset({REFUSAL_A, REFUSAL_C}), frozenset({REFUSAL_KUKAR}), partner=frozenset({REFUSAL_A})
)
CSR_REFUSALS_MANAGED = _by_side(frozenset({REFUSAL_A, REFUSAL_C}), frozenset({REFUSAL_KUKAR}))
CSR_REFUSALS_OWNED = {
    a: seen if a in ("partner", "partner_b") else frozenset() for a, seen in CSR_REFUSALS_SEEN.items()
}
# Allocations (AllocationQuerySet.grant_q): the secretariat by the household's region, a partner its own.
CSR_ALLOCATION_TARGETS = (IN_REGION, PARTNER_B_ALLOCATED, OUT_OF_REGION)
CSR_ALLOCATIONS_SEEN = _by_side(
    frozenset({IN_REGION, PARTNER_B_ALLOCATED}),
    frozenset({OUT_OF_REGION}),
    partner=frozenset({IN_REGION}),
    partner_b=frozenset({PARTNER_B_ALLOCATED}),
)
CSR_ALLOCATIONS_MANAGED = _by_side(frozenset({IN_REGION, PARTNER_B_ALLOCATED}), frozenset({OUT_OF_REGION}))
# Partner organizations named in ?org= on the portal: only the actor's own.
CSR_PORTAL_ORGS = ("partner", "partner_b", "kukar_partner")
CSR_ORGS_ACTED_FOR = {a: frozenset({a}) if a in ("partner", "partner_b") else frozenset() for a in ACTORS}
# Reopen submission for one company: (cycle side, company) — the company of that side without a reopening.
CSR_REOPEN_TARGETS = ("kendal", "kukar")
CSR_REOPEN_COMPANY = {"kendal": "partner_b", "kukar": "kukar_partner"}


def csr_status(target: str) -> str:
    return str(PROPOSAL_STATUS[target])


@dataclass(frozen=True)
class CsrPage:
    """A page of the CSR secretariat (/csr/) or the partner portal (/mitra-csr/).

    ``url`` placeholders: {cycle}, {proposal}, {refusal}, {allocation}, {organization}, {target} (the proposal's
    target row), {job} (always 0: no upload in the world), filled from the target (0 when the page has none).
    ``data``: the POST body; placeholders as in the URL plus {mark} (looked for afterwards), {today}, {later},
    {soon} (a datetime a week ahead), {need}, {cluster}, {strategy}, {household}."""

    name: str
    method: str
    url: str
    expect: Rule
    target_kind: str | None = None  # cycle, proposal, refusal, allocation, organization, reopen
    targets: tuple[str | None, ...] = (None,)
    data: tuple[tuple[str, str], ...] = ()
    # Whether an answer of ``expect`` writes (checked against the rows before and after): (actor, target) -> bool.
    writes: Callable[[str, str | None], bool] | None = None

    def path(self, **values: object) -> str:
        defaults: dict[str, object] = {
            "cycle": 0,
            "proposal": 0,
            "refusal": 0,
            "allocation": 0,
            "organization": 0,
            "target": 0,
            "job": 0,
        }
        return self.url.format(**{**defaults, **values})


def _manages(seen: dict[str, frozenset[str]]) -> Callable[[str, str | None], bool]:
    return lambda a, t: t in seen[a]


def _csr_proposal_ok(statuses: tuple[str, ...], ok: Expected = 200, otherwise: Expected = 404) -> Rule:
    return lambda a, t: ok if t is not None and csr_status(t) in statuses else otherwise


_MANAGE_CYCLE = gate(Cap.CSR_MANAGE, CSR_CYCLES_MANAGED)
_MANAGE_PROPOSAL = gate(Cap.CSR_MANAGE, CSR_PROPOSALS_MANAGED)
_PORTAL_PROPOSAL = gate(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_OWNED)
_AGREEMENT = frozenset({A_AGREED, KUKAR_PROPOSAL})


def _with_agreement(ok: Expected) -> Rule:
    return lambda a, t: ok if t in _AGREEMENT else 404


def _writes_submitted(actor: str, target: str | None) -> bool:
    # Return for revision / field verification / agree: the secretariat of the region, on the submitted proposal.
    return target == B_SUBMITTED and target in CSR_PROPOSALS_MANAGED[actor]


CSR_SECRETARIAT_PAGES = (
    CsrPage("csr-cycle-list", "GET", "/csr/", gate(Cap.CSR_MANAGE)),
    CsrPage("csr-cycle-new", "GET", "/csr/siklus/baru/", gate(Cap.CSR_MANAGE)),
    # A complete new cycle of the actor's region: created (→ its page) by a secretariat; nobody else gets a form.
    CsrPage(
        "csr-cycle-new-post",
        "POST",
        "/csr/siklus/baru/",
        gate(Cap.CSR_MANAGE, ok=302),
        data=(
            ("year", "{year}"),
            ("name", "Siklus {mark}"),
            ("proposal_deadline", "{soon}"),
            ("verification_starts", "{later}"),
            ("verification_ends", "{later}"),
            ("realisation_deadline", "{later}"),
            ("status", "open"),
            ("required_sectors", "plantation"),
        ),
        writes=lambda a, t: Cap.CSR_MANAGE in caps(a),
    ),
    CsrPage("csr-cycle-detail", "GET", "/csr/{cycle}/", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    CsrPage("csr-cycle-edit", "GET", "/csr/{cycle}/ubah/", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    # The cycle's own values with a new note: saved (→ its page) by the cycle's secretariat only.
    CsrPage(
        "csr-cycle-edit-post",
        "POST",
        "/csr/{cycle}/ubah/",
        gate(Cap.CSR_MANAGE, CSR_CYCLES_MANAGED, ok=302),
        "cycle",
        CYCLE_TARGETS,
        data=(("note", "Catatan {mark}"),),  # + the cycle's current fields (test_csr_pages._data)
        writes=_manages(CSR_CYCLES_MANAGED),
    ),
    CsrPage(
        "csr-cycle-reopen",
        "POST",
        "/csr/{cycle}/buka-kembali/{organization}/",
        gate(Cap.CSR_MANAGE, CSR_CYCLES_MANAGED, ok=302),
        "reopen",
        CSR_REOPEN_TARGETS,
        data=(("until", "{soon}"), ("note", "Dibuka {mark}")),
        writes=_manages(CSR_CYCLES_MANAGED),
    ),
    CsrPage("csr-allocate", "GET", "/csr/{cycle}/alokasi/", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    # Allocate the need to partner B from the gap list (Desil 1, uncovered, not yet allocated): the free Kendal
    # household joins B's allocation (the page shows the result); B is no partner of the Kukar cycle (400).
    CsrPage(
        "csr-allocate-post",
        "POST",
        "/csr/{cycle}/alokasi/",
        gate(Cap.CSR_MANAGE, CSR_CYCLES_MANAGED, ok=lambda a, t: 200 if t == "kendal" else 400),
        "cycle",
        CYCLE_TARGETS,
        data=(("organization", "{partner_b}"), ("assistance_kind", "{need}"), ("allocate", "1"), ("note", "{mark}")),
        writes=lambda a, t: t == "kendal" and t in CSR_CYCLES_MANAGED[a],
    ),
    CsrPage(
        "csr-allocation-list", "GET", "/csr/{cycle}/alokasi/daftar/?released=1", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS
    ),
    CsrPage("csr-allocation-map", "GET", "/csr/{cycle}/alokasi/peta/", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    CsrPage(
        "csr-allocation-release",
        "POST",
        "/csr/alokasi/{allocation}/kembalikan/",
        gate(Cap.CSR_MANAGE, CSR_ALLOCATIONS_MANAGED, ok=302),
        "allocation",
        CSR_ALLOCATION_TARGETS,
        data=(("reason", "Dikembalikan {mark}"),),
        writes=_manages(CSR_ALLOCATIONS_MANAGED),
    ),
    CsrPage("csr-review", "GET", "/csr/{cycle}/usulan/", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    CsrPage("csr-proposal-review", "GET", "/csr/usulan/{proposal}/", _MANAGE_PROPOSAL, "proposal", PROPOSAL_TARGETS),
    # Field verification of the proposal's target (only a submitted proposal takes it; else a message).
    CsrPage(
        "csr-proposal-verify",
        "POST",
        "/csr/usulan/{proposal}/verifikasi/",
        gate(Cap.CSR_MANAGE, CSR_PROPOSALS_MANAGED, ok=302),
        "proposal",
        PROPOSAL_TARGETS,
        data=(("result-{target}", "eligible"), ("note-{target}", "Layak {mark}")),
        writes=_writes_submitted,
    ),
    CsrPage(
        "csr-proposal-return",
        "POST",
        "/csr/usulan/{proposal}/tindakan/",
        gate(Cap.CSR_MANAGE, CSR_PROPOSALS_MANAGED, ok=302),
        "proposal",
        PROPOSAL_TARGETS,
        data=(("action", "return"), ("note", "Perbaiki {mark}")),
        writes=_writes_submitted,
    ),
    # Agree with the PKS details; the test first makes partner B's proposal verified (its target eligible).
    CsrPage(
        "csr-proposal-agree",
        "POST",
        "/csr/usulan/{proposal}/tindakan/",
        gate(Cap.CSR_MANAGE, CSR_PROPOSALS_MANAGED, ok=302),
        "proposal",
        PROPOSAL_TARGETS,
        data=(
            ("action", "agree"),
            ("number", "PKS/{mark}"),
            ("signed_on", "{today}"),
            ("place", "Kendal"),
            ("government_signatory", "Kepala Bappeda"),
            ("company_signatory", "Direktur {mark}"),
        ),
        writes=_writes_submitted,
    ),
    CsrPage(
        "csr-household-search",
        "GET",
        "/csr/usulan/{proposal}/cari-keluarga/?q=Rahasia",
        _MANAGE_PROPOSAL,
        "proposal",
        PROPOSAL_TARGETS,
    ),
    CsrPage(
        "csr-agreement-pdf",
        "GET",
        "/csr/usulan/{proposal}/pks.pdf",
        gate(Cap.CSR_MANAGE, CSR_PROPOSALS_MANAGED, ok=_with_agreement(200)),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    CsrPage(
        "csr-agreement-refresh",
        "POST",
        "/csr/usulan/{proposal}/pks/buat-ulang/",
        gate(Cap.CSR_MANAGE, CSR_PROPOSALS_MANAGED, ok=_with_agreement(302)),
        "proposal",
        PROPOSAL_TARGETS,
        writes=lambda a, t: t in CSR_PROPOSALS_MANAGED[a] and t in _AGREEMENT,
    ),
    CsrPage("csr-refusal-list", "GET", "/csr/{cycle}/penolakan/", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    CsrPage(
        "csr-refusal-pdf",
        "GET",
        "/csr/penolakan/{refusal}/surat.pdf",
        gate(Cap.CSR_MANAGE, CSR_REFUSALS_MANAGED),
        "refusal",
        REFUSAL_TARGETS,
    ),
    CsrPage(
        "csr-refusal-acknowledge",
        "POST",
        "/csr/penolakan/{refusal}/terima/",
        gate(Cap.CSR_MANAGE, CSR_REFUSALS_MANAGED, ok=302),
        "refusal",
        REFUSAL_TARGETS,
        data=(("note", "Diterima {mark}"),),
        writes=_manages(CSR_REFUSALS_MANAGED),
    ),
    # Allocation upload (import engine): the cycle's secretariat; no upload exists in the world (job 0 → 404).
    CsrPage("csr-upload", "GET", "/csr/{cycle}/alokasi/unggah/", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    # No file: back to the form with the message; nothing created.
    CsrPage(
        "csr-upload-post",
        "POST",
        "/csr/{cycle}/alokasi/unggah/",
        gate(Cap.CSR_MANAGE, CSR_CYCLES_MANAGED, ok=302),
        "cycle",
        CYCLE_TARGETS,
    ),
    CsrPage("csr-upload-template", "GET", "/csr/{cycle}/alokasi/templat.xlsx", _MANAGE_CYCLE, "cycle", CYCLE_TARGETS),
    *[
        CsrPage(
            name,
            method,
            f"/csr/{{cycle}}/alokasi/unggah/{{job}}/{suffix}",
            gate(Cap.CSR_MANAGE, CSR_CYCLES_MANAGED, ok=404),
            "cycle",
            CYCLE_TARGETS,
        )
        for name, method, suffix in (
            ("csr-upload-job", "GET", ""),
            ("csr-upload-confirm", "POST", "konfirmasi/"),
            ("csr-upload-cancel", "POST", "batal/"),
        )
    ],
    # Compliance and the Musrenbang CSR summary: Cap.CSR_SUMMARY (leadership reads counts and figures, no rows).
    CsrPage("csr-compliance", "GET", "/csr/kepatuhan/", gate(Cap.CSR_SUMMARY)),
    CsrPage(
        "csr-compliance-cycle",
        "GET",
        "/csr/kepatuhan/{cycle}/",
        gate(Cap.CSR_SUMMARY, CSR_CYCLES_SEEN),
        "cycle",
        CYCLE_TARGETS,
    ),
    CsrPage("csr-summary", "GET", "/csr/ringkasan/", gate(Cap.CSR_SUMMARY)),
    CsrPage(
        "csr-summary-cycle",
        "GET",
        "/csr/ringkasan/?cycle={cycle}",
        gate(Cap.CSR_SUMMARY, CSR_CYCLES_SEEN),
        "cycle",
        CYCLE_TARGETS,
    ),
    *[
        CsrPage(
            f"csr-summary-{kind}",
            "GET",
            f"/csr/ringkasan/unduh/{kind}/?cycle={{cycle}}",
            gate(Cap.CSR_SUMMARY, CSR_CYCLES_SEEN),
            "cycle",
            CYCLE_TARGETS,
        )
        for kind in ("xlsx", "pdf")
    ],
)


def _portal_withdraws(actor: str, target: str | None) -> bool:
    return target in CSR_PROPOSALS_OWNED[actor] and csr_status(str(target)) in ("draft", "submitted")


CSR_PORTAL_PAGES = (
    CsrPage("portal-home", "GET", "/mitra-csr/", gate(Cap.CSR_PARTICIPATE)),
    # Another region's cycle, or another company named in ?org=: 404, never its list.
    CsrPage(
        "portal-home-cycle",
        "GET",
        "/mitra-csr/?cycle={cycle}",
        gate(Cap.CSR_PARTICIPATE, CSR_CYCLES_SEEN),
        "cycle",
        CYCLE_TARGETS,
    ),
    CsrPage(
        "portal-home-org",
        "GET",
        "/mitra-csr/?org={organization}",
        gate(Cap.CSR_PARTICIPATE, CSR_ORGS_ACTED_FOR),
        "organization",
        CSR_PORTAL_ORGS,
    ),
    CsrPage("portal-allocation-xlsx", "GET", "/mitra-csr/alokasi.xlsx", gate(Cap.CSR_PARTICIPATE)),
    CsrPage(
        "portal-allocation-xlsx-org",
        "GET",
        "/mitra-csr/alokasi.xlsx?org={organization}",
        gate(Cap.CSR_PARTICIPATE, CSR_ORGS_ACTED_FOR),
        "organization",
        CSR_PORTAL_ORGS,
    ),
    CsrPage("portal-proposal-new", "GET", "/mitra-csr/usulan/baru/", gate(Cap.CSR_PARTICIPATE)),
    # A complete draft for the company (current cycle, its own allocated household): saved by a partner only.
    CsrPage(
        "portal-proposal-new-post",
        "POST",
        "/mitra-csr/usulan/baru/",
        gate(Cap.CSR_PARTICIPATE, ok=302),
        data=(
            ("title", "Usulan {mark}"),
            ("assistance_kind", "{need}"),
            ("cluster", "{cluster}"),
            ("strategy", "{strategy}"),
            ("budget", "1000000"),
            ("starts_on", "{today}"),
            ("ends_on", "{later}"),
            ("contact_name", "Narahubung {mark}"),
            ("household_ids", "{household}"),
            ("tambahan-TOTAL_FORMS", "0"),
            ("tambahan-INITIAL_FORMS", "0"),
        ),
        writes=lambda a, t: Cap.CSR_PARTICIPATE in caps(a),
    ),
    CsrPage(
        "portal-proposal-detail", "GET", "/mitra-csr/usulan/{proposal}/", _PORTAL_PROPOSAL, "proposal", PROPOSAL_TARGETS
    ),
    # Only a draft (or returned) proposal opens in the form; any other is a 404 even for its company.
    CsrPage(
        "portal-proposal-edit",
        "GET",
        "/mitra-csr/usulan/{proposal}/ubah/",
        gate(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_OWNED, ok=_csr_proposal_ok(("draft",))),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    CsrPage(
        "portal-proposal-edit-post",
        "POST",
        "/mitra-csr/usulan/{proposal}/ubah/",
        gate(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_OWNED, ok=_csr_proposal_ok(("draft",), ok=302)),
        "proposal",
        PROPOSAL_TARGETS,
        data=(
            ("title", "Usulan {mark}"),
            ("assistance_kind", "{need}"),
            ("cluster", "{cluster}"),
            ("strategy", "{strategy}"),
            ("budget", "1000000"),
            ("starts_on", "{today}"),
            ("ends_on", "{later}"),
            ("contact_name", "Narahubung {mark}"),
            ("household_ids", "{household}"),
            ("tambahan-TOTAL_FORMS", "0"),
            ("tambahan-INITIAL_FORMS", "0"),
        ),
        writes=lambda a, t: t in CSR_PROPOSALS_OWNED[a] and csr_status(str(t)) == "draft",
    ),
    # Withdraw (with a reason): the company's own draft or submitted proposal; an agreed one answers a message.
    CsrPage(
        "portal-proposal-withdraw",
        "POST",
        "/mitra-csr/usulan/{proposal}/tindakan/",
        gate(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_OWNED, ok=302),
        "proposal",
        PROPOSAL_TARGETS,
        data=(("action", "withdraw"), ("note", "Ditarik {mark}")),
        writes=_portal_withdraws,
    ),
    CsrPage(
        "portal-agreement-pdf",
        "GET",
        "/mitra-csr/usulan/{proposal}/pks.pdf",
        gate(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_OWNED, ok=_with_agreement(200)),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    CsrPage(
        "portal-delivery-new",
        "GET",
        "/mitra-csr/usulan/{proposal}/penyaluran/baru/",
        _PORTAL_PROPOSAL,
        "proposal",
        PROPOSAL_TARGETS,
    ),
    # A delivery to the proposal's target (the world's delivery there cancelled first, test_csr._prepare): recorded
    # only on the company's agreed proposal; on a draft the household is no choice (the form again).
    CsrPage(
        "portal-delivery-new-post",
        "POST",
        "/mitra-csr/usulan/{proposal}/penyaluran/baru/",
        gate(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_OWNED, ok=_csr_proposal_ok(("agreed",), ok=302, otherwise=200)),
        "proposal",
        PROPOSAL_TARGETS,
        data=(("household", "{household}"), ("delivered_on", "{today}"), ("quantity", "1"), ("note", "{mark}")),
        writes=lambda a, t: t in CSR_PROPOSALS_OWNED[a] and csr_status(str(t)) == "agreed",
    ),
    # Partner A already sent its letter (→ its letter); partner B may write one.
    CsrPage(
        "portal-refusal-new",
        "GET",
        "/mitra-csr/surat-tidak-berpartisipasi/baru/",
        gate(Cap.CSR_PARTICIPATE, ok=lambda a, t: 302 if CSR_REFUSALS_OWNED[a] else 200),
    ),
    # Refused by the service for both (A: its letter exists; B: its proposal is in the workflow): the form again.
    CsrPage(
        "portal-refusal-new-post",
        "POST",
        "/mitra-csr/surat-tidak-berpartisipasi/baru/",
        gate(Cap.CSR_PARTICIPATE),
        data=(
            ("reason", "Tidak ada anggaran CSR pada tahun ini {mark}"),
            ("signatory_name", "Direktur {mark}"),
            ("signatory_position", "Direktur"),
        ),
    ),
    CsrPage(
        "portal-refusal-new-cycle",
        "GET",
        "/mitra-csr/surat-tidak-berpartisipasi/baru/?cycle={cycle}",
        gate(Cap.CSR_PARTICIPATE, CSR_CYCLES_SEEN, ok=lambda a, t: 302 if CSR_REFUSALS_OWNED[a] else 200),
        "cycle",
        CYCLE_TARGETS,
    ),
    CsrPage(
        "portal-refusal-detail",
        "GET",
        "/mitra-csr/surat-tidak-berpartisipasi/{refusal}/",
        gate(Cap.CSR_PARTICIPATE, CSR_REFUSALS_OWNED),
        "refusal",
        REFUSAL_TARGETS,
    ),
    CsrPage(
        "portal-refusal-pdf",
        "GET",
        "/mitra-csr/surat-tidak-berpartisipasi/{refusal}/surat.pdf",
        gate(Cap.CSR_PARTICIPATE, CSR_REFUSALS_OWNED),
        "refusal",
        REFUSAL_TARGETS,
    ),
)
CSR_PAGES: tuple[CsrPage, ...] = (*CSR_SECRETARIAT_PAGES, *CSR_PORTAL_PAGES)


# CSR API (/api/v1/csr/, csr/api.py): Cap.API and, per action, the capability of the role that takes it: reads
# CSR_MANAGE or CSR_PARTICIPATE, the secretariat's steps CSR_MANAGE, the company's CSR_PARTICIPATE (else 403);
# then the row (for_user) → 404; then the business rule (400 with {message, code, extra}).
_CSR_READ = (Cap.CSR_MANAGE, Cap.CSR_PARTICIPATE)
ApiRule = Callable[[str, "str | None"], int]


def csr_api_gate(
    capabilities: tuple[str, ...], seen: dict[str, frozenset[str]] | None = None, ok: int | ApiRule = 200
) -> ApiRule:
    def rule(actor: str, target: str | None) -> int:
        if Cap.API not in caps(actor) or not any(c in caps(actor) for c in capabilities):
            return 403
        if seen is not None and target is not None and target not in seen[actor]:
            return 404
        return ok(actor, target) if callable(ok) else ok

    return rule


@dataclass(frozen=True)
class CsrEndpoint:
    """One CSR API request: method, URL (placeholders as CsrPage), JSON body (``{mark}`` etc. as CsrPage) and who
    gets what (anonymous: ANONYMOUS_API). Run with every API_FORMATS suffix."""

    name: str
    method: str
    url: str
    expect: ApiRule
    target_kind: str | None = None
    targets: tuple[str | None, ...] = (None,)
    data: tuple[tuple[str, Any], ...] = ()
    writes: Callable[[str, str | None], bool] | None = None

    def path(self, fmt: str = "", **values: object) -> str:
        defaults = {"cycle": 1, "proposal": 1, "refusal": 1, "allocation": 1, "target": 1}
        path, _, query = self.url.format(**{**defaults, **values}).partition("?")
        if fmt:
            path = path.rstrip("/") + fmt
        return f"{path}?{query}" if query else path


# The workflow steps as API actions (csr.services.TRANSITIONS): who takes each, and on which of the world's
# proposals it succeeds (200) — every other visible one is refused by the rules (400).
CSR_STEPS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    # Partner A already wrote its refusal letter for the cycle (world._csr): its draft is refused (already_refused).
    "submit": ((Cap.CSR_PARTICIPATE,), frozenset()),
    "withdraw": ((Cap.CSR_PARTICIPATE,), frozenset({A_DRAFT, B_SUBMITTED})),
    "return": ((Cap.CSR_MANAGE,), frozenset({B_SUBMITTED})),
    "verify": ((Cap.CSR_MANAGE,), frozenset()),  # B's target is not verified in the field yet
    "agree": ((Cap.CSR_MANAGE,), frozenset()),  # nothing verified
    "implement": ((Cap.CSR_PARTICIPATE,), frozenset({A_AGREED})),  # A's delivery is recorded
    "report": ((Cap.CSR_PARTICIPATE,), frozenset()),  # nothing implemented
}
CSR_STEP_DATA: dict[str, tuple[tuple[str, Any], ...]] = {
    "withdraw": (("note", "Ditarik {mark}"),),
    "return": (("note", "Perbaiki {mark}"),),
    "report": (("final_report", "Laporan {mark}"),),
}


def _step(name: str) -> CsrEndpoint:
    capabilities, succeeds = CSR_STEPS[name]
    seen = CSR_PROPOSALS_SEEN if capabilities == (Cap.CSR_PARTICIPATE,) else CSR_PROPOSALS_MANAGED
    return CsrEndpoint(
        f"csr-api-proposal-{name}",
        "POST",
        f"/api/v1/csr/proposals/{{proposal}}/{name}/",
        csr_api_gate(capabilities, seen, lambda a, t: 200 if t in succeeds else 400),
        "proposal",
        PROPOSAL_TARGETS,
        data=CSR_STEP_DATA.get(name, (("note", "{mark}"),)),
        writes=lambda a, t: t in seen[a] and t in succeeds and capabilities[0] in caps(a) and Cap.API in caps(a),
    )


def _api_may(capability: str, seen: dict[str, frozenset[str]] | None = None) -> Callable[[str, str | None], bool]:
    return lambda a, t: {Cap.API, capability} <= caps(a) and (seen is None or t in seen[a])


CSR_API = (
    CsrEndpoint("csr-api-cycles", "GET", "/api/v1/csr/cycles/", csr_api_gate(_CSR_READ)),
    CsrEndpoint(
        "csr-api-cycle",
        "GET",
        "/api/v1/csr/cycles/{cycle}/",
        csr_api_gate(_CSR_READ, CSR_CYCLES_SEEN),
        "cycle",
        CYCLE_TARGETS,
    ),
    # A new cycle of the secretariat's own region (the default region).
    CsrEndpoint(
        "csr-api-cycle-create",
        "POST",
        "/api/v1/csr/cycles/",
        csr_api_gate((Cap.CSR_MANAGE,), ok=201),
        data=(
            ("year", "{year}"),
            ("name", "Siklus {mark}"),
            ("proposal_deadline", "{soon}"),
            ("verification_starts", "{later}"),
            ("verification_ends", "{later}"),
            ("realisation_deadline", "{later}"),
        ),
        writes=_api_may(Cap.CSR_MANAGE),
    ),
    CsrEndpoint(
        "csr-api-cycle-patch",
        "PATCH",
        "/api/v1/csr/cycles/{cycle}/",
        csr_api_gate((Cap.CSR_MANAGE,), CSR_CYCLES_MANAGED),
        "cycle",
        CYCLE_TARGETS,
        data=(("note", "Catatan {mark}"),),
        writes=_api_may(Cap.CSR_MANAGE, CSR_CYCLES_MANAGED),
    ),
    CsrEndpoint("csr-api-allocations", "GET", "/api/v1/csr/allocations/", csr_api_gate(_CSR_READ)),
    # Another region's cycle asked for by id: refused as unknown (400 cycle_not_found), never its rows.
    CsrEndpoint(
        "csr-api-allocations-cycle",
        "GET",
        "/api/v1/csr/allocations/?cycle={cycle}",
        csr_api_gate(_CSR_READ, ok=lambda a, t: 200 if t in CSR_CYCLES_SEEN[a] else 400),
        "cycle",
        CYCLE_TARGETS,
    ),
    CsrEndpoint(
        "csr-api-allocation",
        "GET",
        "/api/v1/csr/allocations/{allocation}/",
        csr_api_gate(_CSR_READ, CSR_ALLOCATIONS_SEEN),
        "allocation",
        CSR_ALLOCATION_TARGETS,
    ),
    # Allocate the free Kendal household to partner B in the Kendal cycle: the Kendal secretariat (and the
    # province's) get the counts; the Kukar secretariat neither sees the cycle nor the company (400).
    CsrEndpoint(
        "csr-api-allocate",
        "POST",
        "/api/v1/csr/allocations/",
        csr_api_gate((Cap.CSR_MANAGE,), ok=lambda a, t: 400 if a == "secretariat_kukar" else 201),
        data=(
            ("cycle", "{cycle_kendal}"),
            ("organization", "{partner_b}"),
            ("assistance_kind", "{need_code}"),
            ("household_ids", ["{unallocated}"]),
            ("note", "{mark}"),
        ),
        writes=lambda a, t: {Cap.API, Cap.CSR_MANAGE} <= caps(a) and a != "secretariat_kukar",
    ),
    CsrEndpoint(
        "csr-api-allocation-release",
        "POST",
        "/api/v1/csr/allocations/{allocation}/release/",
        csr_api_gate((Cap.CSR_MANAGE,), CSR_ALLOCATIONS_MANAGED),
        "allocation",
        CSR_ALLOCATION_TARGETS,
        data=(("reason", "Dikembalikan {mark}"),),
        writes=_api_may(Cap.CSR_MANAGE, CSR_ALLOCATIONS_MANAGED),
    ),
    CsrEndpoint("csr-api-proposals", "GET", "/api/v1/csr/proposals/", csr_api_gate(_CSR_READ)),
    CsrEndpoint(
        "csr-api-proposal",
        "GET",
        "/api/v1/csr/proposals/{proposal}/",
        csr_api_gate(_CSR_READ, CSR_PROPOSALS_SEEN),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    # A draft of the company in the Kendal cycle (its own allocated household): 201 for a partner.
    CsrEndpoint(
        "csr-api-proposal-create",
        "POST",
        "/api/v1/csr/proposals/",
        csr_api_gate((Cap.CSR_PARTICIPATE,), ok=201),
        data=(
            ("cycle", "{cycle_kendal}"),
            ("title", "Usulan {mark}"),
            ("assistance_kind", "{need_code}"),
            ("cluster", "{cluster_code}"),
            ("strategy", "{strategy_code}"),
            ("starts_on", "{today}"),
            ("ends_on", "{later}"),
            ("contact_name", "Narahubung {mark}"),
            ("household_ids", ["{household}"]),
        ),
        writes=_api_may(Cap.CSR_PARTICIPATE),
    ),
    CsrEndpoint(
        "csr-api-proposal-patch",
        "PATCH",
        "/api/v1/csr/proposals/{proposal}/",
        csr_api_gate((Cap.CSR_PARTICIPATE,), CSR_PROPOSALS_SEEN, ok=lambda a, t: 200 if t == A_DRAFT else 400),
        "proposal",
        PROPOSAL_TARGETS,
        data=(("title", "Usulan {mark}"),),
        writes=lambda a, t: _api_may(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_SEEN)(a, t) and t == A_DRAFT,
    ),
    *[_step(name) for name in CSR_STEPS],
    CsrEndpoint(
        "csr-api-proposal-targets",
        "GET",
        "/api/v1/csr/proposals/{proposal}/targets/",
        csr_api_gate(_CSR_READ, CSR_PROPOSALS_SEEN),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    CsrEndpoint(
        "csr-api-target-verify",
        "POST",
        "/api/v1/csr/proposals/{proposal}/targets/{target}/verify/",
        csr_api_gate((Cap.CSR_MANAGE,), CSR_PROPOSALS_MANAGED, lambda a, t: 200 if t == B_SUBMITTED else 400),
        "proposal",
        PROPOSAL_TARGETS,
        data=(("result", "eligible"), ("note", "Layak {mark}")),
        writes=lambda a, t: _api_may(Cap.CSR_MANAGE, CSR_PROPOSALS_MANAGED)(a, t) and t == B_SUBMITTED,
    ),
    CsrEndpoint(
        "csr-api-proposal-overlaps",
        "GET",
        "/api/v1/csr/proposals/{proposal}/overlaps/",
        csr_api_gate((Cap.CSR_MANAGE,), CSR_PROPOSALS_MANAGED),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    CsrEndpoint(
        "csr-api-proposal-agreement",
        "GET",
        "/api/v1/csr/proposals/{proposal}/agreement/",
        csr_api_gate(_CSR_READ, CSR_PROPOSALS_SEEN, lambda a, t: 200 if t in _AGREEMENT else 404),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    CsrEndpoint(
        "csr-api-proposal-deliveries",
        "GET",
        "/api/v1/csr/proposals/{proposal}/deliveries/",
        csr_api_gate(_CSR_READ, CSR_PROPOSALS_SEEN),
        "proposal",
        PROPOSAL_TARGETS,
    ),
    # A delivery to the proposal's target (the world's one cancelled first, as on the page): only on an agreed one.
    CsrEndpoint(
        "csr-api-delivery-create",
        "POST",
        "/api/v1/csr/proposals/{proposal}/deliveries/",
        csr_api_gate((Cap.CSR_PARTICIPATE,), CSR_PROPOSALS_SEEN, lambda a, t: 201 if t == A_AGREED else 400),
        "proposal",
        PROPOSAL_TARGETS,
        data=(("household", "{household}"), ("delivered_on", "{today}"), ("note", "{mark}")),
        writes=lambda a, t: _api_may(Cap.CSR_PARTICIPATE, CSR_PROPOSALS_SEEN)(a, t) and t == A_AGREED,
    ),
    CsrEndpoint("csr-api-refusals", "GET", "/api/v1/csr/refusals/", csr_api_gate(_CSR_READ)),
    CsrEndpoint(
        "csr-api-refusal",
        "GET",
        "/api/v1/csr/refusals/{refusal}/",
        csr_api_gate(_CSR_READ, CSR_REFUSALS_SEEN),
        "refusal",
        REFUSAL_TARGETS,
    ),
    # Partner A already wrote its letter, partner B has a proposal in the workflow: both refused (400).
    CsrEndpoint(
        "csr-api-refusal-create",
        "POST",
        "/api/v1/csr/refusals/",
        csr_api_gate((Cap.CSR_PARTICIPATE,), ok=400),
        data=(
            ("cycle", "{cycle_kendal}"),
            ("reason", "Tidak ada anggaran CSR pada tahun ini {mark}"),
            ("signatory_name", "Direktur {mark}"),
            ("signatory_position", "Direktur"),
        ),
    ),
    CsrEndpoint(
        "csr-api-refusal-acknowledge",
        "POST",
        "/api/v1/csr/refusals/{refusal}/acknowledge/",
        csr_api_gate((Cap.CSR_MANAGE,), CSR_REFUSALS_MANAGED),
        "refusal",
        REFUSAL_TARGETS,
        data=(("note", "Diterima {mark}"),),
        writes=_api_may(Cap.CSR_MANAGE, CSR_REFUSALS_MANAGED),
    ),
    CsrEndpoint(
        "csr-api-refusal-letter",
        "GET",
        "/api/v1/csr/refusals/{refusal}/letter/",
        csr_api_gate(_CSR_READ, CSR_REFUSALS_SEEN),
        "refusal",
        REFUSAL_TARGETS,
    ),
)
