"""Benchmark the coverage-gap engine and its pages at province scale on PostgreSQL.

    .venv/bin/python bench/gap_bench.py                      # generate 1M households, then measure everything
    .venv/bin/python bench/gap_bench.py --reuse-db           # keep the generated registry (skip generation)
    .venv/bin/python bench/gap_bench.py --reuse-db --locust  # ... and a 2-minute locust run against gunicorn
    .venv/bin/python bench/gap_bench.py --households 100000 --persons 400000 --interventions 200000  # quick

Targets (issue 6): full recompute < 15 s; one-kabupaten recompute (150k households) < 2 s; dashboard, gap list
and API server time < 300 ms at 1M households; locust 20 users / 2 min p95 < 300 ms with 0 errors; a 100k-row
gap list export < 10 s and < 200 MB RSS.

Steps (own scratch database, default ``tkpk_bench_gaps``; never ``tkpk``, ``postgres`` or ``test*``):

1. Generate (``bench/_gap_data.py``): ``migrate``, ``load_regions 33`` (Jawa Tengah), organizations, users,
   snapshots and 2 x 21 programs per kabupaten with the ORM; then with COPY (generator forked, piped into
   PostgreSQL) 1,000,000 households spread over 7 kabupaten (Kendal 33.24 holds 150,000), 4,000,000
   persons, ~1.4M source links, graduations and 2,000,000 interventions over the bench year and the one
   before; secondary indexes rebuilt, ANALYZE. ``--reuse-db`` skips this when the database already holds
   the requested number of households.
2. Engine: ``reports.services.gap_recompute_now`` for the whole registry and for the 150k kabupaten, twice
   each (first run after the load, second run), with the time of each engine phase. Over target:
   ``EXPLAIN (ANALYZE, BUFFERS)`` of the per-household facts statement.
3. Pages with Django's test ``Client`` in this process (server time: middleware, views, queries, templates):
   the dashboard, the gap list (a desa, a kabupaten) and the two API endpoints, logged in as the province
   secretariat and the kabupaten secretariat; median and p95 of ``--requests`` after warm-up, queries each.
4. Export: the gap list ``.xlsx`` of ~100k rows (``reports:gap_export``) in a child process: seconds and the
   child's peak RSS (``wait4``).
5. ``--locust``: gunicorn (``tkpk.wsgi``, 2 workers, DEBUG off) on a free port against the bench database and
   ``locust -f bench/gap_locust.py --headless -u 20 -r 5 -t 2m``; p50 / p95 / failures per endpoint. The same
   by hand::

       DATABASE_URL=postgres://postgres@127.0.0.1:5432/tkpk_bench_gaps DEBUG=0 \\
           .venv/bin/gunicorn tkpk.wsgi -w 2 -b 127.0.0.1:8765
       GAP_BENCH_YEAR=2026 GAP_BENCH_DESA=3324... .venv/bin/locust -f bench/gap_locust.py --headless \\
           -u 20 -r 5 -t 2m --host http://127.0.0.1:8765

Prints a table of figures against targets; writes ``bench/out/gap_bench.json`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from _pgdb import SERVER_URL, check_name, lock_bench, recreate_database

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
DEFAULT_DB = "tkpk_bench_gaps"
BIG_KAB = "3324"  # Kendal: the 150k kabupaten
OTHER_KABS = ("3306", "3305", "3318", "3310", "3308", "3302")  # Purworejo, Kebumen, Pati, Klaten, Magelang, Banyumas
PROVINCE_USER = "bench_gap_provinsi"
KAB_USER = "bench_gap_kendal"

TARGET_FULL_S = 15.0
TARGET_KAB_S = 2.0
TARGET_PAGE_MS = 300.0
TARGET_EXPORT_S = 10.0
TARGET_EXPORT_MB = 200.0


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None
    note: str = ""

    @property
    def ok(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.value < self.target else "MISSED"


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, target: float | None = None, note: str = "") -> None:
        if target is not None:  # a shared 2-core machine: the load at the time of the figure
            note = f"{note}; load {os.getloadavg()[0]:.1f}" if note else f"load {os.getloadavg()[0]:.1f}"
        figure = Figure(name, value, unit, target, note)
        self.figures.append(figure)
        mark = f"  (target < {target:g} {unit}: {figure.ok})" if target is not None else ""
        print(f"  {name:<58} {value:>10.2f} {unit}{mark} {note}", flush=True)

    def table(self) -> str:
        lines = [f"{'figure':<60} {'value':>10} {'unit':<5} {'target':>8}  status  note", "-" * 110]
        for f in self.figures:
            target = f"< {f.target:g}" if f.target is not None else ""
            lines.append(f"{f.name:<60} {f.value:>10.2f} {f.unit:<5} {target:>8}  {f.ok:<6}  {f.note}")
        return "\n".join(lines)


def db_env(name: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"{SERVER_URL}/{name}", "LOG_LEVEL": "WARNING", "DEBUG": "0"}


def run_child(args: list[str], env: dict[str, str], *, check: bool = True) -> tuple[float, float, str, int]:
    """Run a child process: (seconds, peak RSS MB, output, returncode), RSS from wait4."""
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, rusage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if check and code != 0:
        sys.exit(f"{' '.join(args)} failed ({code}):\n{output[-6000:]}")
    return time.monotonic() - started, rusage.ru_maxrss / 1024, output, code


def household_count(name: str) -> int:
    try:
        connection = psycopg2.connect(f"{SERVER_URL}/{name}")
    except psycopg2.OperationalError:
        return -1
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM households_household")
            return int(cursor.fetchone()[0])
    except psycopg2.Error:
        return -1
    finally:
        connection.close()


def django_setup(db: str) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER_URL}/{db}"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tkpk.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------------------------
# Step 1: generation


def kabupaten_plan(households: int, big: int) -> list[tuple[str, int]]:
    rest = households - big
    each, extra = divmod(rest, len(OTHER_KABS))
    return [(BIG_KAB, big)] + [(code, each + (1 if i < extra else 0)) for i, code in enumerate(OTHER_KABS)]


def ensure_orm_rows(year: int, kabs: list[str]) -> tuple[dict[str, int], dict[tuple[str, int], list[Any]]]:
    """Organizations, bench logins, snapshots and programs (ORM). Returns snapshot ids and the catalog."""
    import datetime as dt

    import _gap_data as data

    from households.models import Snapshot
    from programs.models import AssistanceKind, Program, ProgramCluster, ProgramStrategy
    from tkpk.models import Organization, OrganizationKind, Region

    kinds = {k.code: k.pk for k in AssistanceKind.objects.all()}
    clusters = {c.code: c.pk for c in ProgramCluster.objects.all()}
    strategies = {s.code: s.pk for s in ProgramStrategy.objects.all()}
    names = dict(Region.objects.filter(code__in=[*kabs, "33"]).values_list("code", "name"))

    def org(code: str, key: str, kind: str, name: str) -> Organization:
        sector = "plantation" if kind == OrganizationKind.COMPANY else ""
        obj, _created = Organization.objects.get_or_create(
            short_code=f"bench-{code}-{key}",
            defaults={"kind": kind, "name": f"{name} {names[code]}", "region_id": code, "sector": sector},
        )
        return obj

    ensure_users()

    snapshots = {}
    for source, label, taken in (
        ("p3ke", "P3KE bench", dt.date(year - 1, 6, 30)),
        ("dtsen", "DTSEN bench", dt.date(year, 3, 31)),
    ):
        snapshot, _created = Snapshot.objects.get_or_create(
            source_id=source, label=label, defaults={"taken_on": taken, "note": "gap bench"}
        )
        snapshots[source] = snapshot.pk

    catalog: dict[tuple[str, int], list[Any]] = {}
    for code in kabs:
        orgs = {key: org(code, key, kind, name) for key, kind, name in data.ORGANIZATIONS}
        for y in (year - 1, year):
            rows = []
            for i, (kind, cluster, strategy, owner, name, unit) in enumerate(data.PROGRAM_CATALOG):
                program, _created = Program.objects.get_or_create(
                    year=y,
                    code=f"bench-{code}-{i:02d}",
                    defaults={
                        "organization": orgs[owner],
                        "region_id": code,
                        "name": f"{name} {y}",
                        "cluster_id": clusters[cluster],
                        "strategy_id": strategies[strategy],
                        "assistance_kind_id": kinds[kind],
                        "funding_source": "apbd" if orgs[owner].kind == OrganizationKind.OPD else "csr",
                        "unit_value": unit,
                        "budget": unit * 20_000,
                        "target_households": 20_000,
                        "starts_on": dt.date(y, 1, 1),
                        "ends_on": dt.date(y, 12, 31),
                        "once_per_year": True,
                    },
                )
                rows.append((program.pk, program.organization_id, kind, unit))
            catalog[(code, y)] = rows
    return snapshots, catalog


LOCUST_LOGINS = tuple(f"bench_gap_l{i:02d}" for i in range(1, 21))  # odd: province, even: kabupaten


def ensure_users() -> None:
    """The bench logins: two for the in-process pages, twenty for locust (one per simulated user, so the
    API's per-user throttle sees realistic traffic). Secretariat memberships of the province or of Kendal."""
    import _gap_data as data
    from django.contrib.auth import get_user_model

    from tkpk.models import Membership, Organization, OrganizationKind, Region
    from tkpk.scoping import Role

    user_model = get_user_model()
    logins = [(PROVINCE_USER, "33"), (KAB_USER, BIG_KAB)]
    logins += [(name, "33" if i % 2 else BIG_KAB) for i, name in enumerate(LOCUST_LOGINS, start=1)]
    password_hash = ""
    for username, code in logins:
        secretariat, _created = Organization.objects.get_or_create(
            short_code=f"bench-{code}-sekretariat",
            defaults={
                "kind": OrganizationKind.SECRETARIAT,
                "name": f"Sekretariat TKPK {Region.objects.get(code=code).name}",
                "region_id": code,
            },
        )
        user, _created = user_model._default_manager.get_or_create(username=username)
        user.first_name, user.last_name, user.is_active, user.is_staff = "Bench", code, True, True
        if not password_hash:
            user.set_password(data.PASSWORD)
            password_hash = user.password
        user.password = password_hash
        user.save()
        Membership.objects.update_or_create(user=user, organization=secretariat, defaults={"role": Role.SECRETARIAT})


def generate(args: argparse.Namespace, results: Results) -> None:
    import datetime as dt

    import _gap_data as data

    env = db_env(args.db)
    print(f"Database {args.db}: drop, create, migrate, load_regions 33 ...", flush=True)
    started_all = time.monotonic()
    recreate_database(args.db)
    migrate_s, *_ = run_child([sys.executable, "manage.py", "migrate", "-v0"], env)
    regions_s, *_ = run_child([sys.executable, "manage.py", "load_regions", "33"], env)
    results.add("migrate", migrate_s, "s")
    results.add("load_regions 33 (9,175 regions)", regions_s, "s")

    django_setup(args.db)
    from django.db import connection

    plan = data.Plan(
        households=args.households,
        persons=args.persons,
        interventions=args.interventions,
        year=args.year,
        kabupaten=kabupaten_plan(args.households, min(args.big_kab, args.households)),
        seed=args.seed,
    )
    t = time.monotonic()
    kabs = [code for code, _n in plan.kabupaten]
    snapshots, catalog = ensure_orm_rows(args.year, kabs)
    results.add(
        "organizations, logins, snapshots, programs (ORM)",
        time.monotonic() - t,
        "s",
        note=f"{len(catalog) * 21} programs",
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code FROM tkpk_region WHERE level = 4 AND substr(code, 1, 4) = ANY(%s) ORDER BY code", [kabs]
        )
        desa_codes = [r[0] for r in cursor.fetchall()]
    desa_of_kab: dict[str, list[str]] = {}
    for code in desa_codes:
        desa_of_kab.setdefault(code[:4], []).append(code)
    t = time.monotonic()
    registry = data.spread(plan, desa_of_kab)
    results.add("assign desa, sizes, statuses (Python)", time.monotonic() - t, "s")
    connection.close()

    raw = psycopg2.connect(f"{SERVER_URL}/{args.db}")
    raw.autocommit = True
    copy_started = time.monotonic()
    with raw.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no history triggers, no FK checks on COPY
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET synchronous_commit = off")
    data.load_not_null_text(raw)
    ddl = data.drop_secondary_indexes(raw)
    now = dt.datetime.now(dt.UTC).isoformat()
    counts: dict[str, int] = {}
    loads: list[tuple[str, list[str], Callable[[], Iterator[tuple[Any, ...]]]]] = [
        ("households_household", data.HOUSEHOLD_COLUMNS, lambda: data.households_rows(plan, registry, now)),
        ("households_person", data.PERSON_COLUMNS, lambda: data.persons_rows(plan, registry, now)),
        ("households_householdsourcelink", data.LINK_COLUMNS, lambda: data.links_rows(plan, registry, now, snapshots)),
        ("households_graduation", data.GRADUATION_COLUMNS, lambda: data.graduation_rows(plan, registry, now)),
        (
            "programs_intervention",
            data.INTERVENTION_COLUMNS,
            lambda: data.interventions_rows(plan, registry, now, catalog),
        ),
    ]
    for table, columns, rows in loads:
        n, seconds = data.copy_rows(raw, table, columns, rows)
        counts[table] = n
        results.add(f"COPY {table}", seconds, "s", note=f"{n:,} rows, {n / seconds:,.0f} rows/s")
    t = time.monotonic()
    with raw.cursor() as cursor:
        for statement in ddl:
            cursor.execute(statement)
    results.add(f"rebuild {len(ddl)} secondary indexes", time.monotonic() - t, "s")
    t = time.monotonic()
    with raw.cursor() as cursor:
        for table, _columns, _rows in loads:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")
    results.add("setval + ANALYZE", time.monotonic() - t, "s")
    results.add("COPY + indexes + ANALYZE", time.monotonic() - copy_started, "s")
    results.add("generation total (incl. migrate)", time.monotonic() - started_all, "s")
    raw.close()
    results.details["counts"] = counts


# ---------------------------------------------------------------------------------------------------------------
# Step 2: engine


@contextlib.contextmanager
def phase_timer(phases: dict[str, float]) -> Iterator[None]:
    """Time the engine's phases by wrapping its module functions (services call them as ``engine.x``)."""
    from reports import engine

    names = ("prepare_session", "compute_facts", "compute_summaries", "_delete_scope")
    originals = {name: getattr(engine, name) for name in names if hasattr(engine, name)}

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*a: Any, **kw: Any) -> Any:
            t = time.monotonic()
            try:
                return fn(*a, **kw)
            finally:
                key = f"{name}({a[0]})" if name == "_delete_scope" else name
                phases[key] = phases.get(key, 0.0) + time.monotonic() - t

        return timed

    for name, fn in originals.items():
        setattr(engine, name, wrap(name, fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(engine, name, fn)


def explain_facts(year: int, region: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the per-household facts statement, rolled back."""
    from django.conf import settings
    from django.db import connection, transaction

    from reports import engine
    from reports.models import GapRun, NeedRule

    run = GapRun.objects.filter(year=year).order_by("-id").first()
    assert run is not None
    rules = list(NeedRule.objects.filter(is_active=True).prefetch_related("assistance_kinds").order_by("sort_order"))
    sql, params = engine._facts_sql(year=year, region_code=region, run_id=run.pk, rules=rules)
    with transaction.atomic(), connection.cursor() as cursor:
        if hasattr(engine, "prepare_session"):  # the engine's own session settings
            engine.prepare_session()
        else:
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL work_mem = %s", [settings.GAP_WORK_MEM])
        try:  # engines that replace the facts delete them first; engines that upsert need no delete
            with transaction.atomic():
                engine._delete_scope("reports_gaphouseholdfact", year, region)
        except Exception:  # a changed engine API: explain the statement as it is
            pass
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def backend_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this connection's PostgreSQL backend (same machine): a figure
    that, unlike wall time, hardly depends on what else runs on the box."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_step(args: argparse.Namespace, results: Results) -> None:
    from reports.services import gap_recompute_now

    print("\n== Engine", flush=True)
    engine_details: dict[str, Any] = {}
    for label, region, target in (("full", "", TARGET_FULL_S), (f"kabupaten {BIG_KAB}", BIG_KAB, TARGET_KAB_S)):
        for attempt in ("first", "second"):
            phases: dict[str, float] = {}
            cpu_db, cpu_py = backend_cpu_s(), time.process_time()
            t = time.monotonic()
            with phase_timer(phases):
                run = gap_recompute_now(year=args.year, region_code=region)
            seconds = time.monotonic() - t
            cpu_db, cpu_py = backend_cpu_s() - cpu_db, time.process_time() - cpu_py
            households = run.totals.get("households", 0)
            note = f"{households:,} households; PG backend CPU {cpu_db:.1f}s, Python CPU {cpu_py:.1f}s; "
            note += ", ".join(f"{k} {v:.2f}s" for k, v in phases.items())
            results.add(f"recompute {label} ({attempt} run)", seconds, "s", target, note)
            engine_details[f"{label} {attempt}"] = {
                "seconds": seconds,
                "backend_cpu_s": cpu_db,
                "python_cpu_s": cpu_py,
                "phases": phases,
                "totals": run.totals,
            }
        if (results.figures[-1].value > target and not args.no_explain) or args.explain:
            print(f"  EXPLAIN ANALYZE of the facts statement ({label}) ...", flush=True)
            engine_details[f"{label} explain"] = explain_facts(args.year, region)
    results.details["engine"] = engine_details
    # The previous year too (the dashboard's trend reads it) when not computed yet; not timed against a target.
    from reports.models import GapRun, GapRunStatus

    if not GapRun.objects.filter(year=args.year - 1, region_code="", status=GapRunStatus.DONE).exists():
        t = time.monotonic()
        gap_recompute_now(year=args.year - 1)
        results.add(f"recompute full, year {args.year - 1}", time.monotonic() - t, "s")


# ---------------------------------------------------------------------------------------------------------------
# Step 3: pages


def pick_regions(year: int) -> dict[str, str]:
    """A desa of the big kabupaten with many desil 1 uncovered households, and a kecamatan."""
    from reports.models import GapSummary

    desa = (
        GapSummary.objects.filter(year=year, level=4, region_code__startswith=BIG_KAB)
        .order_by("-desil1_uncovered")
        .first()
    )
    kec = GapSummary.objects.filter(year=year, level=3, region_code__startswith=BIG_KAB).order_by("-households").first()
    return {"desa": desa.region_code if desa else "", "kecamatan": kec.region_code if kec else ""}


def page_urls(year: int, regions: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, url, user) of every page measured."""
    desa, kab = regions["desa"], BIG_KAB
    urls = [
        ("dashboard (province)", f"/kesenjangan/?year={year}", PROVINCE_USER),
        ("dashboard (kabupaten)", f"/kesenjangan/?year={year}", KAB_USER),
        ("dashboard drill-down kabupaten (province)", f"/kesenjangan/?year={year}&region={kab}", PROVINCE_USER),
        (
            "gap list desa uncovered desil 1",
            f"/kesenjangan/keluarga/?year={year}&region={desa}&uncovered=1&desil=1",
            KAB_USER,
        ),
        ("gap list kabupaten (150k)", f"/kesenjangan/keluarga/?year={year}&region={kab}", KAB_USER),
        ("gap list kabupaten (province user)", f"/kesenjangan/keluarga/?year={year}&region={kab}", PROVINCE_USER),
        ("API summary (province)", f"/api/v1/gaps/summary/?year={year}", PROVINCE_USER),
        ("API summary kecamatan of kab", f"/api/v1/gaps/summary/?year={year}&region={kab}&level=kecamatan", KAB_USER),
        (
            "API households kab uncovered desil 1",
            f"/api/v1/gaps/households/?year={year}&region={kab}&uncovered=true&desil=1",
            KAB_USER,
        ),
        ("API households kab (province user)", f"/api/v1/gaps/households/?year={year}&region={kab}", PROVINCE_USER),
    ]
    return urls


def pages_step(args: argparse.Namespace, results: Results) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    print("\n== Pages (Django test Client, server time)", flush=True)
    regions = pick_regions(args.year)
    results.details["regions"] = regions
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[PROVINCE_USER, KAB_USER])}
    clients: dict[str, Client] = {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        clients[name] = client
    pages: dict[str, Any] = {}
    urls = page_urls(args.year, regions)
    missed = measure_pages(args, results, clients, urls, pages, suffix="")
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        cursor.execute(
            "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables WHERE relname = 'reports_gaphouseholdfact'"
        )
        modified, live = cursor.fetchone()
    results.details["facts_stats"] = {"autovacuum": autovacuum, "mod_since_analyze": modified, "live": live}
    if missed and modified:
        # Statistics of the facts are stale right after a computation (autovacuum is off on the bench server and
        # lags anyway): the same pages once more after ANALYZE, as autovacuum would eventually leave them.
        print(f"  autovacuum {autovacuum}; {modified:,} facts rows changed since the last ANALYZE: ANALYZE", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reports_gaphouseholdfact, reports_gapsummary")
        again = [u for u in urls if u[0] in missed]
        measure_pages(args, results, clients, again, pages, suffix=" [after ANALYZE]")
    results.details["pages"] = pages


def measure_pages(
    args: argparse.Namespace,
    results: Results,
    clients: dict[str, Any],
    urls: list[tuple[str, str, str]],
    pages: dict[str, Any],
    *,
    suffix: str,
) -> list[str]:
    """Median / p95 of each page after warm-up; returns the labels over target."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    missed: list[str] = []
    for label, url, username in urls:
        client = clients[username]
        response = client.get(url)
        if response.status_code != 200:
            print(f"  {label:<58} HTTP {response.status_code}  {url}", flush=True)
            pages[label + suffix] = {"url": url, "status": response.status_code}
            continue
        for _ in range(2):
            client.get(url)  # warm-up
        times: list[float] = []
        queries = 0
        sql_ms = 0.0
        for _ in range(args.requests):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                t = time.perf_counter()
                response = client.get(url)
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
                times.append((time.perf_counter() - t) * 1000)
            queries = len(captured.captured_queries)
            sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
        median = statistics.median(times)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        note = f"p95 {p95:.0f} ms, {queries} queries, SQL {sql_ms:.0f} ms"
        results.add(label + suffix, median, "ms", TARGET_PAGE_MS, note)
        entry: dict[str, Any] = {"url": url, "median_ms": median, "p95_ms": p95, "queries": queries, "sql_ms": sql_ms}
        if median > TARGET_PAGE_MS:
            missed.append(label)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
            entry["slowest_sql"] = slowest["sql"]
            entry["explain"] = explain_sql(slowest["sql"])
        pages[label + suffix] = entry
    return missed


def explain_sql(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(r[0] for r in cursor.fetchall())


# ---------------------------------------------------------------------------------------------------------------
# Step 4: export (child process)


def export_query(year: int, target_rows: int) -> tuple[str, str, int]:
    """(query, login, rows) of the gap-list filter whose row count is nearest ``target_rows``: the Kendal
    secretariat's kabupaten lists, or the province secretariat's desil 1 uncovered list."""
    from reports.models import GapHouseholdFact

    facts = GapHouseholdFact.objects.filter(year=year)
    kab = facts.filter(kabupaten_code=BIG_KAB)
    options = {
        (f"region={BIG_KAB}", KAB_USER): kab.count(),
        (f"region={BIG_KAB}&uncovered=1", KAB_USER): kab.filter(covered=False).count(),
        ("desil=1&uncovered=1", PROVINCE_USER): facts.filter(desil=1, covered=False).count(),
        ("desil=1", PROVINCE_USER): facts.filter(desil=1).count(),
    }
    (query, login), rows = min(options.items(), key=lambda item: abs(item[1] - target_rows))
    return f"year={year}&{query}", login, rows


def worker_export(payload: dict[str, Any]) -> dict[str, Any]:
    django_setup(payload["db"])
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(get_user_model().objects.get(username=payload["login"]))
    url = f"{reverse('reports:gap_export')}?{payload['query']}"
    import resource

    client.get(reverse("reports:gap_households"))  # Django, templates and the session warm before the baseline
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu_db, cpu_py = backend_cpu_s(), time.process_time()
    t = time.perf_counter()
    response = client.get(url)
    size = 0
    if getattr(response, "streaming", False):
        for chunk in response.streaming_content:  # type: ignore[attr-defined]
            size += len(chunk)
    else:
        size = len(response.content)
    seconds = time.perf_counter() - t
    cpu_db, cpu_py = backend_cpu_s() - cpu_db, time.process_time() - cpu_py
    return {
        "status": response.status_code,
        "seconds": seconds,
        "bytes": size,
        "url": url,
        "baseline_mb": baseline_mb,
        "cpu_db_s": cpu_db,
        "cpu_py_s": cpu_py,
        "content_type": response.get("Content-Type", ""),
    }


def export_step(args: argparse.Namespace, results: Results) -> None:
    from django.urls import NoReverseMatch, reverse

    print("\n== Export", flush=True)
    try:
        reverse("reports:gap_export")
    except NoReverseMatch:
        print("  reports:gap_export is not there yet: export not measured", flush=True)
        results.details["export"] = {"status": "missing"}
        return
    query, login, rows = export_query(args.year, args.export_rows)
    payload = {"db": args.db, "query": query, "login": login}
    seconds, rss, output, code = run_child(
        [sys.executable, __file__, "--worker", "export", "--payload", json.dumps(payload)], db_env(args.db), check=False
    )
    result = last_json(output)
    if code != 0 or result is None or result["status"] != 200:
        print(f"  export failed ({code}):\n{output[-3000:]}", flush=True)
        results.details["export"] = {"status": "failed", "output": output[-3000:]}
        return
    note = f"{rows:,} rows ({login}: {query}); {result['bytes'] / 1e6:.1f} MB xlsx; "
    note += f"CPU: Python {result['cpu_py_s']:.1f} s, PG backend {result['cpu_db_s']:.1f} s"
    results.add("export gap list .xlsx (request time)", result["seconds"], "s", TARGET_EXPORT_S, note)
    results.add(
        "export child peak RSS (Django + request)",
        rss,
        "MB",
        TARGET_EXPORT_MB,
        f"before the request {result['baseline_mb']:.0f} MB; child wall {seconds:.1f} s",
    )
    results.details["export"] = {**result, "child_seconds": seconds, "peak_rss_mb": rss}


def last_json(output: str) -> dict[str, Any] | None:
    for line in reversed(output.strip().splitlines()):
        if line.strip().startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                return json.loads(line)
    return None


# ---------------------------------------------------------------------------------------------------------------
# Step 5: locust against gunicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def locust_step(args: argparse.Namespace, results: Results) -> None:
    import _gap_data as data

    print("\n== Locust (gunicorn -w 2)", flush=True)
    regions = results.details.get("regions") or pick_regions(args.year)
    port = free_port()
    env = {**db_env(args.db), "AXES_FAILURE_LIMIT": os.environ.get("AXES_FAILURE_LIMIT", "5")}
    bin_dir = Path(sys.executable).parent
    gunicorn = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "tkpk.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--access-logfile", "-", "--error-logfile", str(OUT_DIR / "gap_gunicorn.err")],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.2)
        prefix = OUT_DIR / "gap_locust"
        locust_env = {
            **env,
            "GAP_BENCH_YEAR": str(args.year),
            "GAP_BENCH_DESA": regions["desa"],
            "GAP_BENCH_KAB": BIG_KAB,
            "GAP_BENCH_USERS": ",".join(LOCUST_LOGINS),
            "GAP_BENCH_PASSWORD": data.PASSWORD,
        }
        _seconds, _rss, output, code = run_child(
            [str(bin_dir / "locust"), "-f", str(BASE_DIR / "bench" / "gap_locust.py"), "--headless",
             "-u", str(args.locust_users), "-r", "5", "-t", args.locust_time, "--host", f"http://127.0.0.1:{port}",
             "--csv", str(prefix), "--only-summary"],
            locust_env, check=False,
        )  # fmt: skip
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        print(f"  locust wrote no stats ({code}):\n{output[-3000:]}", flush=True)
        return
    rows = list(csv.DictReader(stats_file.open()))
    locust: dict[str, Any] = {}
    for row in rows:
        name = row["Name"]
        requests = int(row["Request Count"])
        failures = int(row["Failure Count"])
        p50, p95 = float(row["50%"] or 0), float(row["95%"] or 0)
        label = f"locust {row['Type']} {name}".strip()
        # The targets are the gap pages and the API; logging in (password hashing) is reported, not judged.
        target = None if "login" in name else TARGET_PAGE_MS
        results.add(f"{label[:50]} (p95)", p95, "ms", target, f"p50 {p50:.0f} ms, {requests} req, {failures} failures")
        locust[name] = {"type": row["Type"], "requests": requests, "failures": failures, "p50": p50, "p95": p95,
                        "rps": float(row["Requests/s"] or 0)}  # fmt: skip
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        locust["failures_detail"] = list(csv.DictReader(failures_file.open()))[:20]
    results.details["locust"] = locust


# ---------------------------------------------------------------------------------------------------------------


def main() -> None:
    import datetime as dt

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=4_000_000)
    parser.add_argument("--interventions", type=int, default=2_000_000)
    parser.add_argument("--big-kab", type=int, default=150_000, help=f"Households of {BIG_KAB} (Kendal).")
    parser.add_argument("--year", type=int, default=dt.date.today().year)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse-db", action="store_true", help="Keep a database that already holds the registry.")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--skip", default="", help="Comma list of steps to skip: engine,pages,export")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the facts statement always.")
    parser.add_argument("--no-explain", action="store_true", help="Never EXPLAIN ANALYZE the facts statement.")
    parser.add_argument("--locust", action="store_true", help="Also run gunicorn + locust.")
    parser.add_argument("--locust-users", type=int, default=20)
    parser.add_argument("--locust-time", default="2m")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "export":
        print(json.dumps(worker_export(json.loads(args.payload))))
        return
    check_name(args.db)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    lock = lock_bench(args.db, bench="gap_bench")
    results = Results()
    results.details["args"] = {k: v for k, v in vars(args).items() if k not in ("worker", "payload")}
    print("== Generation", flush=True)
    if args.reuse_db and household_count(args.db) == args.households:
        print(f"  --reuse-db: {args.db} holds {args.households:,} households; generation skipped", flush=True)
        django_setup(args.db)
    else:
        generate(args, results)
    ensure_users()
    if "engine" not in skip:
        engine_step(args, results)
    if "pages" not in skip:
        pages_step(args, results)
    if "export" not in skip:
        export_step(args, results)
    if args.locust:
        locust_step(args, results)

    table = results.table()
    print("\n" + table)
    (OUT_DIR / "gap_bench.txt").write_text(table + "\n")
    payload = {"figures": [vars(f) for f in results.figures], "details": results.details}
    (OUT_DIR / "gap_bench.json").write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nWritten {OUT_DIR / 'gap_bench.txt'} and .json")
    lock.close()


if __name__ == "__main__":
    main()
