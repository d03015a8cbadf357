"""Benchmark the CSR portal (issue 7) at kabupaten scale on PostgreSQL.

    .venv/bin/python bench/csr_bench.py              # generate the registry, then measure everything
    .venv/bin/python bench/csr_bench.py --reuse-db   # keep the generated registry (skip generation)
    .venv/bin/python bench/csr_bench.py --reuse-db --skip proposal   # steps: allocation,proposal,pages

Target (project norm): server time < 300 ms per page / API request with 150k households in the kabupaten;
generated files (PDF, .xlsx) within a few seconds (< 5 s here); bulk work set-based.

Steps (own scratch database, default ``tkpk_bench_csr``; never ``tkpk``, ``postgres`` or ``test*``):

1. Generate with the gap bench's generator (``bench/gap_bench.generate``): 200,000 households of which
   Kendal (33.24) holds 150,000, 800,000 persons, 400,000 interventions; ``--reuse-db`` skips this when the
   database holds that many households. Every run then empties the CSR tables, runs the gap engine once for
   the year (``gap_recompute_now``) and creates with the ORM one ``CsrCycle`` of Kendal and ~300 partner
   companies (every sector, operating areas of 1-3 kecamatan, a partner login each) plus one big plantation
   company whose area holds tens of thousands of desil 1-2 uncovered households (``bench/_csr_data.py``).
2. Allocation (``csr.services.allocations_create``): all desil 1-2 uncovered households of the big company's
   area in one call; then 300 companies x ~100 households; then the big call again (all skipped).
3. Proposal of 2,000 targets: create, set targets (``proposal_update``), submit, field verification of every
   target (a bulk service when there is one, else ``target_verify`` per target), verify, agree (agreement PDF:
   seconds, pages), ``selectors.proposal_overlaps``. Then other partners' proposals and refusals (ORM) for
   the pages, and deliveries for 70 % of the big proposal's eligible targets.
4. Pages and API with Django's test ``Client`` in this process (server time): median and p95 of
   ``--requests`` after warm-up, queries each. A page whose URL name does not resolve (not written yet) is
   reported as "not available" and skipped.

Prints a table of figures against targets; writes ``bench/out/csr_bench.json`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _csr_data as csrdata
import gap_bench as gb
from _pgdb import check_name, lock_bench

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
DEFAULT_DB = "tkpk_bench_csr"
KAB = gb.BIG_KAB
SECRETARIAT_USER = gb.KAB_USER  # secretariat of Kendal (made by the gap bench's ensure_users)
TARGET_PAGE_MS = 300.0
TARGET_FILE_MS = 5000.0


def load_note() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


class Meter:
    """Wall time and CPU (this process's Python, its PostgreSQL backend's): CPU hardly depends on what else the
    shared machine runs, wall time does."""

    def __enter__(self) -> Meter:
        self.cpu_db, self.cpu_py = gb.backend_cpu_s(), time.process_time()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu_db, self.cpu_py = gb.backend_cpu_s() - self.cpu_db, time.process_time() - self.cpu_py

    @property
    def cpu(self) -> str:
        return f"CPU Python {self.cpu_py:.2f} s, PG {self.cpu_db:.2f} s"


class Results(gb.Results):
    def add(self, name: str, value: float, unit: str, target: float | None = None, note: str = "") -> None:
        if target is None:  # the gap bench's table adds the load to judged figures only: every timed one here
            note = f"{note}; {load_note()}" if note else load_note()
        super().add(name, value, unit, target, note)


# ---------------------------------------------------------------------------------------------------------------
# Setup


def setup(args: argparse.Namespace, results: Results) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from reports.services import gap_recompute_now

    print("\n== CSR setup", flush=True)
    t = time.monotonic()
    csrdata.reset_csr()
    results.add("reset CSR tables", time.monotonic() - t, "s")
    t = time.monotonic()
    run = gap_recompute_now(year=args.year)
    results.add(
        f"gap engine, year {args.year} (whole registry)",
        time.monotonic() - t,
        "s",
        note=f"{run.totals.get('households', 0):,} households",
    )
    pool = csrdata.candidates(args.year, KAB)
    # The big company: kecamatan (largest pools first) until its area holds --big-targets candidates.
    big_area: list[str] = []
    total = 0
    for kec in sorted(pool, key=lambda k: -len(pool[k])):
        if total >= args.big_targets:
            break
        big_area.append(kec)
        total += len(pool[kec])
    t = time.monotonic()
    secretariat = get_user_model()._default_manager.get(username=SECRETARIAT_USER)
    cycle = csrdata.ensure_cycle(args.year, KAB, secretariat)
    partners = csrdata.ensure_partners(kab=KAB, count=args.partners, big_area=big_area, seed=args.seed)
    results.add(
        "cycle, partners, areas, logins, contacts (ORM)",
        time.monotonic() - t,
        "s",
        note=f"{len(partners.areas)} partners; big area {len(big_area)} kecamatan",
    )
    pool_total = sum(len(v) for v in pool.values())
    print(f"  desil 1-2 uncovered households of {KAB}: {pool_total:,}; big company's area: {total:,}", flush=True)
    results.details["setup"] = {"pool": pool_total, "big_area": big_area, "big_candidates": total}
    return {"cycle": cycle, "partners": partners, "pool": pool, "secretariat": secretariat}


# ---------------------------------------------------------------------------------------------------------------
# Step 2: allocation


def allocation_step(args: argparse.Namespace, results: Results, ctx: dict[str, Any]) -> None:
    import random

    from csr import services
    from csr.models import AllocationSource
    from programs.models import AssistanceKind
    from tkpk.models import Organization

    print("\n== Allocation (csr.services.allocations_create)", flush=True)
    cycle, partners, pool, actor = ctx["cycle"], ctx["partners"], ctx["pool"], ctx["secretariat"]
    kinds = AssistanceKind.objects.in_bulk(list(set(partners.kinds.values())))
    orgs = Organization.objects.in_bulk(list(partners.areas))
    big = orgs[partners.big_id]
    big_ids = [h for kec in partners.areas[big.pk] for h in pool.get(kec, [])]
    details: dict[str, Any] = {}

    with Meter() as meter:
        result = services.allocations_create(
            actor=actor,
            cycle=cycle,
            organization=big,
            assistance_kind=kinds[partners.kinds[big.pk]],
            household_ids=big_ids,
            source=AllocationSource.GAP_LIST,
        )
    seconds = meter.seconds
    results.add(
        f"allocate big company's area ({len(big_ids):,} households)",
        seconds,
        "s",
        note=f"{result.created:,} created, {result.created / seconds:,.0f} rows/s, {result.skipped} skipped; "
        + meter.cpu,
    )
    details["big"] = {"households": len(big_ids), "seconds": seconds, "created": result.created}
    analyze_written()  # 26k new rows: autovacuum would analyse them before the next allocations

    # 300 companies x ~100 households of their area not yet allocated for their need (chosen outside the timer).
    rng = random.Random(args.seed + 72)
    taken: dict[int, set[int]] = {partners.kinds[big.pk]: set(big_ids)}
    calls: list[float] = []
    created = 0
    skipped = 0
    chosen_of: dict[int, list[int]] = {}
    for org_id in partners.other_ids:
        kind_id = partners.kinds[org_id]
        used = taken.setdefault(kind_id, set())
        area_pool = [h for kec in partners.areas[org_id] for h in pool.get(kec, []) if h not in used]
        chosen = rng.sample(area_pool, min(args.per_partner, len(area_pool)))
        used.update(chosen)
        chosen_of[org_id] = chosen
    meter = Meter().__enter__()
    for org_id in partners.other_ids:
        t = time.perf_counter()
        result = services.allocations_create(
            actor=actor,
            cycle=cycle,
            organization=orgs[org_id],
            assistance_kind=kinds[partners.kinds[org_id]],
            household_ids=chosen_of[org_id],
            source=AllocationSource.GAP_LIST,
        )
        calls.append((time.perf_counter() - t) * 1000)
        created += result.created
        skipped += result.skipped
    meter.__exit__()
    seconds = meter.seconds
    median = statistics.median(calls)
    p95 = sorted(calls)[max(0, int(len(calls) * 0.95) - 1)]
    results.add(
        f"allocate {len(calls)} companies x ~{args.per_partner} households (total)",
        seconds,
        "s",
        note=f"{created:,} created, {skipped} skipped, {created / seconds:,.0f} rows/s; {meter.cpu}",
    )
    results.add("  one company's call (median)", median, "ms", TARGET_PAGE_MS, f"p95 {p95:.0f} ms")
    details["companies"] = {"calls": len(calls), "seconds": seconds, "created": created, "median_ms": median}

    with Meter() as meter:
        result = services.allocations_create(
            actor=actor,
            cycle=cycle,
            organization=big,
            assistance_kind=kinds[partners.kinds[big.pk]],
            household_ids=big_ids,
            source=AllocationSource.GAP_LIST,
        )
    seconds = meter.seconds
    results.add(
        f"allocate big area again ({len(big_ids):,}, all skipped)",
        seconds,
        "s",
        note=f"{result.created} created, {result.already_allocated_here:,} already allocated here; {meter.cpu}",
    )
    details["again"] = {"seconds": seconds, "created": result.created, "skipped": result.skipped}
    results.details["allocation"] = details


# ---------------------------------------------------------------------------------------------------------------
# Step 3: a proposal of 2,000 targets


def timed(results: Results, label: str, fn: Any, *, note: str = "", target: float | None = None) -> Any:
    with Meter() as meter:
        value = fn()
    results.add(label, meter.seconds * 1000, "ms", target, f"{note}; {meter.cpu}" if note else meter.cpu)
    return value


def bulk_verify_function() -> tuple[str, Any] | None:
    """A set-based verification service if one exists by now (name contains verify and target(s)/bulk)."""
    from csr import services

    for name in dir(services):
        lowered = name.lower()
        if name.startswith("_") or name == "target_verify" or "verify" not in lowered:
            continue
        if "targets" in lowered or "bulk" in lowered or "many" in lowered:
            return name, getattr(services, name)
    return None


def proposal_step(args: argparse.Namespace, results: Results, ctx: dict[str, Any]) -> None:
    import inspect
    import random

    from django.contrib.auth import get_user_model
    from pypdf import PdfReader

    from csr import selectors, services
    from csr.models import Allocation, Proposal, VerificationResult
    from programs.models import AssistanceKind, ProgramCluster, ProgramStrategy
    from tkpk.models import Organization

    print(f"\n== Proposal of {args.targets:,} targets", flush=True)
    cycle, partners, secretariat = ctx["cycle"], ctx["partners"], ctx["secretariat"]
    big = Organization.objects.get(pk=partners.big_id)
    partner_user = get_user_model()._default_manager.get(pk=partners.users[big.pk])
    allocated = list(
        Allocation.objects.filter(cycle=cycle, organization=big)
        .order_by("household_id")
        .values_list("household_id", flat=True)
    )
    if len(allocated) < args.targets:
        print(f"  only {len(allocated)} households allocated to the big company: proposal step skipped", flush=True)
        return
    rng = random.Random(args.seed + 73)
    chosen = sorted(rng.sample(allocated, args.targets))
    kind = AssistanceKind.objects.get(pk=partners.kinds[big.pk])
    details: dict[str, Any] = {}

    proposal = timed(
        results,
        "proposal_create (draft, no targets)",
        lambda: services.proposal_create(
            actor=partner_user,
            organization=big,
            cycle=cycle,
            title="Paket Sembako Keluarga Desil 1-2",
            description="Paket sembako bulanan untuk keluarga desil 1-2 di wilayah kebun.",
            assistance_kind=kind,
            cluster=ProgramCluster.objects.get(code="klaster-1"),
            strategy=ProgramStrategy.objects.get(code="kurangi-beban"),
            budget=args.targets * 1_200_000,
            starts_on=dt.date(cycle.year, 7, 1),
            ends_on=dt.date(cycle.year, 12, 31),
            contact_name="Manajer CSR",
            contact_phone="0294-000000",
        ),
    )
    timed(
        results,
        f"proposal_update: set {args.targets:,} targets",
        lambda: services.proposal_update(actor=partner_user, proposal=proposal, household_ids=chosen),
        target=TARGET_PAGE_MS,
    )
    timed(
        results,
        "submit",
        lambda: services.proposal_transition(actor=partner_user, proposal=proposal, action="submit"),
        target=TARGET_PAGE_MS,
    )

    targets = list(proposal.targets.order_by("pk"))
    ineligible = {t.pk for t in targets[:: max(1, int(1 / args.ineligible_share))]}
    bulk = bulk_verify_function()
    meter = Meter().__enter__()
    profile = cProfile.Profile() if args.profile else None
    if bulk is not None:
        name, fn = bulk
        params = set(inspect.signature(fn).parameters)
        print(f"  bulk verification service: {name}{inspect.signature(fn)}", flush=True)
        details["verify_path"] = name
        try:
            verify_bulk(fn, params, secretariat, proposal, targets, ineligible)
        except TypeError as exc:
            print(f"  {name}: unexpected signature ({exc}); per-target path instead", flush=True)
            bulk = None
    if bulk is None:
        details["verify_path"] = "target_verify per target"
        if profile:
            profile.enable()
        for target in targets:
            result = VerificationResult.NOT_FOUND if target.pk in ineligible else VerificationResult.ELIGIBLE
            services.target_verify(actor=secretariat, target=target, result=result, note="")
        if profile:
            profile.disable()
    meter.__exit__()
    seconds = meter.seconds
    results.add(
        f"field verification of {len(targets):,} targets ({details['verify_path']})",
        seconds,
        "s",
        note=f"{len(targets) / seconds:,.0f} targets/s, {len(ineligible)} not found (released); {meter.cpu}",
    )
    if profile:
        details["verify_profile"] = profile_text(profile)
    timed(
        results,
        "verify",
        lambda: services.proposal_transition(actor=secretariat, proposal=proposal, action="verify"),
        target=TARGET_PAGE_MS,
    )
    with Meter() as meter:
        services.proposal_transition(
            actor=secretariat,
            proposal=proposal,
            action="agree",
            number=f"PKS/{cycle.year}/BENCH/{proposal.pk}",
            signed_on=dt.date.today(),
            place="Kendal",
            government_signatory="Bupati Kendal",
            company_signatory="Direktur Utama",
        )
    seconds = meter.seconds
    proposal = Proposal.objects.get(pk=proposal.pk)
    agreement = proposal.agreement
    with agreement.pdf.open("rb") as handle:
        content = handle.read()
    pages = len(PdfReader(io.BytesIO(content)).pages)
    eligible = proposal.targets.filter(verification=VerificationResult.ELIGIBLE).count()
    results.add(
        f"agree + agreement PDF ({eligible:,} target rows)",
        seconds * 1000,
        "ms",
        TARGET_FILE_MS,
        f"{pages} pages, {len(content) / 1e6:.1f} MB; {meter.cpu}",
    )
    details["agreement"] = {"seconds": seconds, "pages": pages, "bytes": len(content), "rows": eligible}

    times = []
    found: dict[int, Any] = {}
    for _ in range(5):
        t = time.perf_counter()
        found = selectors.proposal_overlaps(proposal=proposal)
        times.append((time.perf_counter() - t) * 1000)
    results.add(
        f"proposal_overlaps ({args.targets:,} targets, median of 5)",
        statistics.median(times),
        "ms",
        TARGET_PAGE_MS,
        f"{len(found):,} households with an overlap",
    )
    ctx["proposal"] = proposal

    t = time.perf_counter()
    counts = csrdata.others_proposals(cycle=cycle, partners=partners, seed=args.seed)
    delivered = csrdata.deliveries(proposal_id=proposal.pk, share=0.7)
    results.add(
        "setup: other partners' proposals/refusals, deliveries (ORM/SQL)",
        time.perf_counter() - t,
        "s",
        note=f"{counts['proposals']} proposals ({counts['targets']:,} targets), {counts['refusals']} refusals, "
        f"{delivered:,} deliveries",
    )
    details["others"] = {**counts, "deliveries": delivered}
    results.details["proposal"] = details


def verify_bulk(fn: Any, params: set[str], actor: Any, proposal: Any, targets: list[Any], ineligible: set[int]) -> None:
    """Call a bulk verification service whose exact signature is discovered at run time."""
    from csr.models import VerificationResult

    eligible_ids = [t.pk for t in targets if t.pk not in ineligible]
    groups = ((VerificationResult.ELIGIBLE, eligible_ids), (VerificationResult.NOT_FOUND, sorted(ineligible)))
    for result, ids in groups:
        kwargs: dict[str, Any] = {"actor": actor}
        if "proposal" in params:
            kwargs["proposal"] = proposal
        for name in ("target_ids", "ids", "targets"):
            if name in params:
                kwargs[name] = ids if name != "targets" else [t for t in targets if t.pk in set(ids)]
                break
        if "result" in params:
            kwargs["result"] = result
        elif "results" in params:
            kwargs["results"] = dict.fromkeys(ids, result)
        if "note" in params:
            kwargs["note"] = "Verifikasi lapangan bench" if result != VerificationResult.ELIGIBLE else ""
        fn(**kwargs)


def profile_text(profile: cProfile.Profile, limit: int = 25) -> str:
    """The project's own functions by cumulative time, then every function by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(rf"^{BASE_DIR}/(?!\.venv)", limit)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Step 4: pages and API


def reverse_any(names: tuple[str, ...], kwargs_options: list[dict[str, Any]]) -> str | None:
    from django.urls import NoReverseMatch, reverse

    for name in names:
        for kwargs in [{}, *kwargs_options]:
            try:
                return reverse(name, kwargs=kwargs or None)
            except NoReverseMatch:
                continue
    return None


def resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


@dataclass
class Page:
    label: str
    names: tuple[str, ...]  # URL names tried in turn
    kwargs: list[dict[str, Any]]  # reverse() kwargs tried in turn (after none)
    query: str
    login: str
    target: float = TARGET_PAGE_MS
    requests: int = 0  # 0: --requests
    headers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    missing: str = ""


def page_list(args: argparse.Namespace, ctx: dict[str, Any]) -> list[Page]:
    """Every page measured, its URL resolved now (None with the reason when the page is not there yet)."""
    from programs.models import AssistanceKind

    cycle, partners = ctx["cycle"], ctx["partners"]
    proposal = ctx.get("proposal")
    big_user = f"{csrdata.PARTNER_USER_PREFIX}{partners.big_id}"
    small_user = f"{csrdata.PARTNER_USER_PREFIX}{partners.other_ids[0]}"
    sec = SECRETARIAT_USER
    cyc = [{"pk": cycle.pk}, {"cycle_id": cycle.pk}, {"cycle_pk": cycle.pk}, {"cycle": cycle.pk}]
    prop = [{"pk": proposal.pk}, {"proposal_id": proposal.pk}, {"proposal_pk": proposal.pk}] if proposal else []
    # The allocation tool's count over the big company's area for another need (its own need is allocated).
    other_kind = AssistanceKind.objects.get(code="tunai").pk
    allocate = f"organization={partners.big_id}&assistance_kind={other_kind}&desil=1&uncovered=1"
    files = args.file_requests
    pages = [
        Page("portal home (big partner, page 1)", ("csr_portal:home",), [], "", big_user),
        Page("portal home (big partner, last page)", ("csr_portal:home",), [], "page=99999", big_user),
        Page("portal home (partner of ~100 households)", ("csr_portal:home",), [], "", small_user),
        Page("portal allocation .xlsx (big partner)", ("csr_portal:allocation-xlsx",), [], "", big_user,
             TARGET_FILE_MS, files),
        Page("allocation tool count (big area, desil 1, uncovered)", ("csr:allocate",), cyc, allocate, sec),
        Page("allocation tool count, htmx partial", ("csr:allocate",), cyc, allocate, sec,
             headers={"HX-Request": "true", "HX-Target": "allocate-preview"}),
        Page("allocation tool count, not allocated at all", ("csr:allocate",), cyc, allocate + "&not_allocated=1", sec,
             headers={"HX-Request": "true", "HX-Target": "allocate-preview"}),
        Page("allocation list (secretariat)", ("csr:allocation-list",), cyc, "", sec),
        Page("allocated vs unallocated map/table", ("csr:allocation-map",), cyc, "", sec),
        Page("cycle detail", ("csr:cycle-detail",), cyc, "", sec),
        Page("review queue", ("csr:review",), cyc, "", sec),
        Page(f"proposal review ({args.targets:,} targets)", ("csr:proposal-review",), prop, "", sec),
        Page(f"compliance ({len(partners.areas)} companies)", ("csr:compliance",), cyc, f"cycle={cycle.pk}", sec),
        Page("Musrenbang CSR summary page", ("csr:summary",), [], f"cycle={cycle.pk}", sec),
        Page("Musrenbang CSR summary .xlsx", ("csr:summary-download",), [{"kind": "xlsx"}], f"cycle={cycle.pk}", sec,
             TARGET_FILE_MS, files),
        Page("Musrenbang CSR summary PDF", ("csr:summary-download",), [{"kind": "pdf"}], f"cycle={cycle.pk}", sec,
             TARGET_FILE_MS, files),
    ]  # fmt: skip
    for page in pages:
        page.url = reverse_any(page.names, page.kwargs)
        if page.url is None:
            page.missing = f"url name missing: {' / '.join(page.names)}"
        elif page.query:
            page.url = f"{page.url}{'&' if '?' in page.url else '?'}{page.query}"
        page.requests = page.requests or args.requests
    api = "/api/v1/csr/allocations/"
    for label, login in (("API allocations (big partner)", big_user), ("API allocations (secretariat)", sec)):
        page = Page(label, (), [], "", login, requests=args.requests)
        if resolves(api):
            page.url = f"{api}?cycle={cycle.pk}"
        else:
            page.missing = f"{api} does not resolve"
        pages.append(page)
    return pages


def analyze_written() -> None:
    """The bench server runs without autovacuum: analyse what this run wrote (tens of thousands of allocations,
    targets, deliveries) as autovacuum would within a minute, so the plans are those of a live server."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(quote_ident(relname), ', ') FROM pg_stat_user_tables "
            "WHERE relname LIKE 'csr\\_%%' OR relname IN ('programs_intervention', 'programs_program')"
        )
        tables = cursor.fetchone()[0]
        cursor.execute(f"ANALYZE {tables}")


def pages_step(args: argparse.Namespace, results: Results, ctx: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print("\n== Pages and API (Django test Client, server time)", flush=True)
    analyze_written()
    clients: dict[str, Client] = {}
    pages: dict[str, Any] = {}
    for page in page_list(args, ctx):
        label, url, login, missing, target, requests = (
            page.label,
            page.url,
            page.login,
            page.missing,
            page.target,
            page.requests,
        )
        if url is None:
            print(f"  {label:<58} not available ({missing})", flush=True)
            pages[label] = {"status": "not available", "missing": missing}
            continue
        if login not in clients:
            client = Client()
            client.force_login(get_user_model()._default_manager.get(username=login))
            clients[login] = client
        client = clients[login]
        response = fetch(client, url, page.headers)
        if response.status_code != 200:
            print(f"  {label:<58} HTTP {response.status_code}  {url}", flush=True)
            pages[label] = {"url": url, "status": response.status_code}
            continue
        if page.target < TARGET_FILE_MS:
            fetch(client, url, page.headers)  # warm-up (a file's first request above is its warm-up)
        times: list[float] = []
        queries = 0
        sql_ms = 0.0
        size = 0
        for _ in range(requests):
            with CaptureQueriesContext(connection) as captured:
                t = time.perf_counter()
                response = fetch(client, url, page.headers)
                times.append((time.perf_counter() - t) * 1000)
            queries = len(captured.captured_queries)
            sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
            streaming = getattr(response, "streaming", False)
            size = len(response._bench_content) if streaming else len(response.content)
        median = statistics.median(times)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        note = f"p95 {p95:.0f} ms, {queries} queries, SQL {sql_ms:.0f} ms, {size / 1024:.0f} kB, n={requests}"
        results.add(label, median, "ms", target, note)
        entry: dict[str, Any] = {
            "url": url,
            "login": login,
            "median_ms": median,
            "p95_ms": p95,
            "queries": queries,
            "sql_ms": sql_ms,
            "bytes": size,
        }
        if median > target:
            entry.update(diagnose(client, url, page.headers, captured.captured_queries, median))
            print(
                f"    slowest SQL {entry.get('slowest_sql_ms', 0):.0f} ms; repeated: {entry.get('repeated_sql')}",
                flush=True,
            )
        pages[label] = entry
    results.details["pages"] = pages


def fetch(client: Any, url: str, headers: dict[str, str] | None = None) -> Any:
    response = client.get(url, headers=headers or {})
    if getattr(response, "streaming", False):
        response._bench_content = b"".join(response.streaming_content)
    return response


def diagnose(
    client: Any, url: str, headers: dict[str, str], queries: list[dict[str, Any]], median_ms: float
) -> dict[str, Any]:
    """A slow page: its slowest statement with EXPLAIN ANALYZE, duplicate statements, a cProfile summary."""
    from collections import Counter

    from django.db import connection

    found: dict[str, Any] = {}
    if queries:
        slowest = max(queries, key=lambda q: float(q["time"]))
        found["slowest_sql_ms"] = float(slowest["time"]) * 1000
        found["slowest_sql"] = slowest["sql"][:4000]
        if slowest["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
                found["explain"] = "\n".join(r[0] for r in cursor.fetchall())
        shapes = Counter(q["sql"].split(" WHERE ")[0][:200] for q in queries)
        found["query_list"] = [(float(q["time"]) * 1000, q["sql"][:300]) for q in queries]
        found["repeated_sql"] = [(sql, n) for sql, n in shapes.most_common(5) if n > 3]
    if median_ms < 20_000:  # a profile of a file that takes tens of seconds adds minutes to the run
        profile = cProfile.Profile()
        profile.enable()
        fetch(client, url, headers)
        profile.disable()
        found["profile"] = profile_text(profile)
    return found


# ---------------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--persons", type=int, default=800_000)
    parser.add_argument("--interventions", type=int, default=400_000)
    parser.add_argument("--big-kab", type=int, default=150_000, help=f"Households of {KAB} (Kendal).")
    parser.add_argument("--year", type=int, default=dt.date.today().year)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse-db", action="store_true", help="Keep a database that already holds the registry.")
    parser.add_argument("--partners", type=int, default=300, help="Companies besides the big one.")
    parser.add_argument("--big-targets", type=int, default=25_000, help="Candidates in the big company's area.")
    parser.add_argument("--per-partner", type=int, default=100)
    parser.add_argument("--targets", type=int, default=2_000, help="Targets of the measured proposal.")
    parser.add_argument("--ineligible-share", type=float, default=0.05)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--file-requests", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the per-target field verification.")
    parser.add_argument("--skip", default="", help="Comma list of steps to skip: allocation,proposal,pages")
    args = parser.parse_args()

    check_name(args.db)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MEDIA_ROOT", str(OUT_DIR / "csr_media"))  # agreement PDFs of the scratch database
    skip = set(filter(None, args.skip.split(",")))
    lock = lock_bench(args.db, bench="csr_bench")
    results = Results()
    results.details["args"] = vars(args)
    started = time.monotonic()
    print(f"== Generation ({args.db}); {load_note()}", flush=True)
    if args.reuse_db and gb.household_count(args.db) == args.households:
        print(f"  --reuse-db: {args.db} holds {args.households:,} households; generation skipped", flush=True)
        gb.django_setup(args.db)
    else:
        gb.generate(args, results)
    gb.ensure_users()
    ctx = setup(args, results)
    if "allocation" not in skip:
        allocation_step(args, results, ctx)
    if "proposal" not in skip:
        proposal_step(args, results, ctx)
    if "pages" not in skip:
        pages_step(args, results, ctx)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        results.details["postgres"] = cursor.fetchone()[0]
    results.details["load_at_end"] = os.getloadavg()
    results.details["wall_s"] = time.monotonic() - started
    table = results.table()
    header = f"CSR bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {args.db}, 2-core shared machine, {load_note()}"
    print("\n" + header + "\n" + table)
    (OUT_DIR / "csr_bench.txt").write_text(header + "\n" + table + "\n")
    payload = {"figures": [vars(f) for f in results.figures], "details": results.details}
    (OUT_DIR / "csr_bench.json").write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nWritten {OUT_DIR / 'csr_bench.txt'} and .json")
    lock.close()


if __name__ == "__main__":
    main()
