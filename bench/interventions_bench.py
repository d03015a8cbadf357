"""Benchmark program interventions on PostgreSQL: a 100k-row upload end to end, and the program pages.

    .venv/bin/python bench/interventions_bench.py [--families 150000] [--rows 100000] [--requests 20]
    .venv/bin/python bench/interventions_bench.py --families 20000 --rows 10000      # quick run
    .venv/bin/python bench/interventions_bench.py --reuse-db                         # keep the seeded households

Targets (the issue): a 100k-row intervention upload end to end in < 10 s; the "Program saya" pages of a program
with 100k interventions in < 300 ms server time; no N+1 queries on any list page.

Steps (one scratch database, dropped and recreated first; never ``tkpk``, ``postgres`` or ``test*``):

0. ``migrate``, ``load_regions``, ``seed_demo --families N`` (the demo registry, organizations, logins and demo
   programs). ``--reuse-db`` keeps a database already seeded with at least N families (bench programs are
   deleted and made again).
1. Three programs of the demo OPD (Dinas Sosial, whose officer is ``demo_opd``), once per year, and a
   template-shaped upload file of ``--rows`` distinct households (ID Keluarga P3KE; ``--nik-share`` of them by
   the head's NIK instead), written as .xlsx (openpyxl write-only, real date cells) and as .csv.
2. Uploads, each timed end to end:
   (a) ``manage.py import_interventions`` with the .xlsx (child process: Django start, job, engine, commit),
   (b) the same command with the .csv into the second program,
   (c) the web path as a service sequence with the .xlsx into the third program: upload (store + hash),
       preview, confirm, run; each step timed,
   (d) the .xlsx again into the first program: every row a duplicate.
3. Pages with Django's test ``Client`` in one process (server time: middleware, views, queries, templates; no
   network), logged in as ``demo_opd`` and as ``demo_sekretariat``: program list, overview, the program page
   (page 1 and the last page of 100k interventions), the log form with the household panel, the household
   finder. Median and p95 of ``--requests`` requests after warm-up, queries per request, SQL time; the query
   count must not grow with the data shown (N+1 check: list as OPD vs secretariat, program page 1 vs last,
   a program with 100k interventions vs a small one).
4. Any page over its target: ``EXPLAIN (ANALYZE, BUFFERS)`` of its slowest query.

Prints a table of figures against targets; writes ``bench/out/interventions_bench.json`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from _pgdb import SERVER_URL, check_name, lock_bench, recreate_database

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
MEDIA_DIR = OUT_DIR / "media_interventions"  # the stored copies of the uploaded files
DEFAULT_DB = "tkpk_bench_interventions"
OPD_USER = "demo_opd"
SECRETARIAT_USER = "demo_sekretariat"
OPD_KEY = "dinsos"
PROGRAMS = ("bench-xlsx", "bench-csv", "bench-web")
HEADERS = (
    "ID Keluarga P3KE",
    "NIK Penerima",
    "Nama Kepala Keluarga (info)",
    "Desa/Kelurahan (info)",
    "Tanggal Penyaluran",
    "Nilai (Rp)",
    "Jumlah",
    "Status",
    "Keterangan",
)

TARGET_UPLOAD_S = 10.0
TARGET_PAGE_MS = 300.0


# ---------------------------------------------------------------------------------------------------------------
# Child processes


@dataclass
class RunStats:
    seconds: float
    peak_rss_mb: float
    output: str
    returncode: int = 0
    cpu_s: float = 0.0

    def last_json(self) -> dict[str, Any] | None:
        for line in reversed(self.output.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    return json.loads(line)
        return None


def run_child(args: list[str], env: dict[str, str], *, check: bool = True) -> RunStats:
    """Run a child process; time it and read its own peak RSS (wait4), stdout and stderr together."""
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, rusage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    returncode = os.waitstatus_to_exitcode(status)
    if check and returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({returncode}):\n{output[-6000:]}")
    return RunStats(seconds, rusage.ru_maxrss / 1024, output, returncode, rusage.ru_utime + rusage.ru_stime)


def manage(args: list[str], env: dict[str, str], *, check: bool = True) -> RunStats:
    return run_child([sys.executable, str(BASE_DIR / "manage.py"), *args], env, check=check)


def worker(name: str, payload: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any], RunStats]:
    """Run one step of this script in a child process (Django set up there); returns its JSON and stats."""
    stats = run_child([sys.executable, __file__, "--worker", name, "--payload", json.dumps(payload)], env)
    result = stats.last_json()
    if result is None:
        sys.exit(f"worker {name} printed no JSON:\n{stats.output[-6000:]}")
    return result, stats


def django_setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tkpk.settings")
    import django

    django.setup()


def demo_families(name: str, region: str) -> int:
    """Demo households of the region in database ``name`` (0 when the database or its tables are missing)."""
    try:
        connection = psycopg2.connect(f"{SERVER_URL}/{name}")
    except psycopg2.OperationalError:
        return 0
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM households_household WHERE is_demo AND kabupaten_code = %s",
                [region.replace(".", "")],
            )
            return int(cursor.fetchone()[0])
    except psycopg2.Error:
        return 0
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------------------------
# Step 1 (worker): programs and files


def worker_prepare(payload: dict[str, Any]) -> dict[str, Any]:
    django_setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from households.models import HouseholdSourceLink, ImportJob, Person
    from programs.models import AssistanceKind, FundingSource, Intervention, Program, ProgramCluster, ProgramStrategy
    from tkpk.models import Organization

    region = payload["region"].replace(".", "")
    today = timezone.localdate()
    organization = Organization.objects.get(short_code=f"{region}-{OPD_KEY}")
    old = Program.objects.filter(code__in=PROGRAMS, year=today.year)
    with transaction.atomic():
        if old.exists():
            # --reuse-db: the previous run's programs, uploads and interventions go (history rows stay).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")  # skip history triggers
            Intervention.objects.filter(program__in=old).delete()
            ImportJob.objects.filter(program__in=old).delete()
            old.delete()
        programs = {}
        for code in PROGRAMS:
            program = Program(
                organization=organization,
                region_id=organization.region_id,
                code=code,
                name=f"Bantuan Pangan Non Tunai Daerah (bench {code.removeprefix('bench-')})",
                year=today.year,
                cluster=ProgramCluster.objects.get(code="klaster-1"),
                strategy=ProgramStrategy.objects.get(code="kurangi-beban"),
                assistance_kind=AssistanceKind.objects.get(code="pangan"),
                funding_source=FundingSource.APBD,
                unit_value=300_000,
                budget=300_000 * payload["rows"],
                target_households=payload["rows"],
                starts_on=dt.date(today.year, 1, 1),
                ends_on=dt.date(today.year, 12, 31),
                once_per_year=True,
            )
            program.save()
            programs[code] = program.pk

    # Upload rows: distinct demo households, in random order; a share identified by the head's NIK only.
    rng = random.Random(payload["seed"])
    links = list(
        HouseholdSourceLink.objects.filter(
            source_id="p3ke", household__kabupaten_code=region, household__status="active", household__is_demo=True
        )
        .order_by("household_id")
        .values_list("household_id", "external_id", "household__head_name", "household__desa__name")
    )
    if len(links) < payload["rows"]:
        raise SystemExit(f"only {len(links)} households for {payload['rows']} rows")
    chosen = rng.sample(links, payload["rows"])
    by_nik_ids = {row[0] for row in rng.sample(chosen, int(len(chosen) * payload["nik_share"]))}
    niks = dict(
        Person.objects.filter(household_id__in=by_nik_ids, relationship="KEPALA_KELUARGA", nik__isnull=False)
        .exclude(nik="")
        .values_list("household_id", "nik")
    )
    last = min(today, dt.date(today.year, 12, 31))
    span = (last - dt.date(today.year, 1, 1)).days
    rows: list[tuple[Any, ...]] = []
    nik_rows = 0
    for household_id, external_id, head_name, desa_name in chosen:
        nik = niks.get(household_id)
        delivered = dt.date(today.year, 1, 1) + dt.timedelta(days=rng.randint(0, span))
        value = None if rng.random() < 0.8 else 250_000 + 50_000 * rng.randint(0, 2)
        if nik:
            nik_rows += 1
        rows.append((
            "" if nik else external_id, nik or "", head_name, desa_name, delivered, value, 1, "Tersalurkan",
            f"Tahap {1 + delivered.month // 4}",
        ))  # fmt: skip

    directory = Path(payload["directory"])
    directory.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = directory / "penyaluran.xlsx", directory / "penyaluran.csv"
    # The same rows (same households, seed and day) reuse the files written by an earlier run.
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    manifest = directory / "manifest.json"
    xlsx_s = 0.0
    if not (manifest.exists() and json.loads(manifest.read_text()).get("rows") == digest and xlsx.exists()):
        started = time.monotonic()
        write_xlsx(xlsx, rows)
        xlsx_s = time.monotonic() - started
        with csv_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            for row in rows:
                writer.writerow([*row[:4], row[4].strftime("%d-%m-%Y"), "" if row[5] is None else row[5], *row[6:]])
        manifest.write_text(json.dumps({"rows": digest}))
    return {
        "programs": programs,
        "xlsx": str(xlsx),
        "csv": str(csv_path),
        "rows": len(rows),
        "nik_rows": nik_rows,
        "xlsx_mb": xlsx.stat().st_size / 1e6,
        "csv_mb": csv_path.stat().st_size / 1e6,
        "xlsx_write_s": xlsx_s,
        "year": today.year,
    }


def write_xlsx(path: Path, rows: list[tuple[Any, ...]]) -> None:
    """The program template's shape: a header row on sheet 'Penyaluran', dates as date cells, NIK as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Penyaluran")
    sheet.append(list(HEADERS))
    date_cell = WriteOnlyCell(sheet)
    date_cell.number_format = "DD-MM-YYYY"
    for row in rows:
        cell = WriteOnlyCell(sheet, value=row[4])
        cell.number_format = "DD-MM-YYYY"
        sheet.append([row[0] or None, row[1] or None, row[2], row[3], cell, row[5], row[6], row[7], row[8]])
    notes = workbook.create_sheet("Petunjuk")
    notes.append(["Berkas uji bench: satu baris per keluarga penerima."])
    workbook.save(path)


# ---------------------------------------------------------------------------------------------------------------
# Step 2: uploads


@dataclass
class Upload:
    label: str
    seconds: float
    rows: int
    result: dict[str, Any] | None
    steps: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    note: str = ""
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
    statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # slowest SQL per step

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def cli_upload(label: str, code: str, path: str, rows: int, env: dict[str, str]) -> Upload:
    load_before = os.getloadavg()[0]
    stats = manage(["import_interventions", "--program", code, "--user", OPD_USER, path], env, check=False)
    if stats.returncode != 0:
        sys.exit(f"import_interventions ({label}) failed ({stats.returncode}):\n{stats.output[-6000:]}")
    upload = Upload(label, stats.seconds, rows, stats.last_json(), peak_rss_mb=stats.peak_rss_mb, cpu_s=stats.cpu_s)
    upload.load = (load_before, os.getloadavg()[0])
    print(f"  {label}: {upload.seconds:.1f}s ({upload.cpu_s:.1f}s CPU in the process; load {upload.load[0]:.1f} -> "
          f"{upload.load[1]:.1f}), {upload.rows_per_s:,.0f} rows/s, peak RSS {upload.peak_rss_mb:.0f} MB, "
          f"{json.dumps(upload.result)}")  # fmt: skip
    return upload


def worker_web_upload(payload: dict[str, Any]) -> dict[str, Any]:
    """The web flow as the services run it: upload (store + hash), preview, confirm, run; each timed."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from households.importing import jobs
    from programs.importing import intervention_job_create
    from programs.models import Program

    timings: dict[str, float] = {}
    statements: dict[str, list[dict[str, Any]]] = {}

    def top(captured: CaptureQueriesContext, limit: int = 6) -> list[dict[str, Any]]:
        # COPY goes around Django's cursor wrapper: only execute() statements are listed.
        timed = sorted(captured.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:limit]
        total = sum(float(q["time"]) for q in captured.captured_queries)
        listed = [{"ms": float(q["time"]) * 1000, "sql": " ".join(q["sql"].split())[:300]} for q in timed]
        return [{"ms": total * 1000, "sql": f"(all {len(captured.captured_queries)} statements)"}, *listed]

    started = time.perf_counter()
    user = get_user_model()._default_manager.get(username=OPD_USER)
    program = Program.objects.get(pk=payload["program"])
    mark = time.perf_counter()
    job = intervention_job_create(actor=user, program=program, upload=Path(payload["path"]))
    timings["upload (store + hash)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        job = jobs.import_job_preview(job=job)
    timings["preview"] = time.perf_counter() - mark
    statements["preview"] = top(captured)
    mark = time.perf_counter()
    job = jobs.import_job_confirm(job=job, accept_duplicate=True, send=False)
    timings["confirm"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        finished = jobs.import_job_execute(job_id=job.pk)
    timings["run"] = time.perf_counter() - mark
    statements["run"] = top(captured)
    timings["total in process"] = time.perf_counter() - started
    assert finished is not None
    counts = finished.summary.get("interventions", {})
    preview_counts = {k: v for k, v in (job.preview or {}).items() if k == "counts"}
    return {
        "timings": timings,
        "statements": statements,
        "status": finished.status,
        "message": finished.message,
        "result": {key: int(counts.get(key, 0)) for key in ("created", "duplicates", "rejected")},
        "preview": preview_counts or {"rows_total": job.rows_total, "errors": job.error_count},
    }


def web_upload(label: str, program: int, path: str, rows: int, env: dict[str, str]) -> Upload:
    load_before = os.getloadavg()[0]
    result, stats = worker("web_upload", {"program": program, "path": path}, env)
    upload = Upload(
        label,
        result["timings"]["total in process"],
        rows,
        result["result"],
        steps=result["timings"],
        peak_rss_mb=stats.peak_rss_mb,
        cpu_s=stats.cpu_s,
        note=f"status {result['status']} {result['message']}".strip(),
        load=(load_before, os.getloadavg()[0]),
        statements=result.get("statements", {}),
    )
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in upload.steps.items())
    print(f"  {label}: {steps}; {json.dumps(upload.result)} ({upload.note})")
    return upload


# ---------------------------------------------------------------------------------------------------------------
# Step 3 (worker): pages


def worker_pages(payload: dict[str, Any]) -> dict[str, Any]:
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from programs import views
    from programs.models import Intervention, Program

    users = {u.username: u for u in get_user_model()._default_manager.filter(username__in=[OPD_USER, SECRETARIAT_USER])}
    big = Program.objects.get(pk=payload["program"])
    count = Intervention.objects.filter(program=big).count()
    per_page = getattr(views, "INTERVENTIONS_PER_PAGE", 25)
    last_page = max(1, -(-count // per_page))
    small: Any = (
        Program.objects.filter(organization_id=big.organization_id, is_demo=True, year=big.year)
        .annotate(n=Count("interventions"))
        .filter(n__gt=0)
        .order_by("n")
        .first()
    )
    # A household with deliveries in several programs (the panel lists them).
    busy = (
        Intervention.objects.filter(program=big)
        .values("household_id")
        .annotate(n=Count("program", distinct=True))
        .order_by("-n", "household_id")
        .first()
    )
    household = busy["household_id"] if busy else None
    head = Intervention.objects.filter(program=big).select_related("household").first()
    name_query = head.household.head_name.split()[0] if head else "SITI"
    detail = reverse("programs:detail", args=[big.pk])
    pages: list[tuple[str, str, str, float]] = [
        ("list (Program saya)", OPD_USER, reverse("programs:list"), TARGET_PAGE_MS),
        ("list (secretariat)", SECRETARIAT_USER, reverse("programs:list"), TARGET_PAGE_MS),
        ("overview", OPD_USER, reverse("programs:overview"), TARGET_PAGE_MS),
        ("overview (secretariat)", SECRETARIAT_USER, reverse("programs:overview"), TARGET_PAGE_MS),
        ("program page 1", OPD_USER, detail, TARGET_PAGE_MS),
        (f"program page {last_page} (last)", OPD_USER, f"{detail}?page={last_page}", TARGET_PAGE_MS),
        ("program page 1 (secretariat)", SECRETARIAT_USER, detail, TARGET_PAGE_MS),
        ("log form + household panel", OPD_USER, f"{reverse('programs:log')}?program={big.pk}&household={household}",
         TARGET_PAGE_MS),
        ("household panel (htmx)", OPD_USER, reverse("programs:household-panel", args=[household]), TARGET_PAGE_MS),
        ("household finder (name)", OPD_USER, f"{reverse('programs:household-finder')}?q={name_query}",
         TARGET_PAGE_MS),
    ]  # fmt: skip
    if small is not None:
        pages.append(
            (f"small program page 1 ({small.n} rows)", OPD_USER, reverse("programs:detail", args=[small.pk]), 0.0)
        )
    clients: dict[str, Client] = {}
    for username, user in users.items():
        client = Client()
        client.force_login(user)
        clients[username] = client

    results = []
    for label, username, url, target in pages:
        client = clients[username]
        for _ in range(payload["warmup"]):
            client.get(url)
        times: list[float] = []
        sql_times: list[float] = []
        queries: list[int] = []
        slowest: dict[str, Any] = {"ms": 0.0, "sql": ""}
        status = 0
        size = 0
        cpu_times: list[float] = []
        for _ in range(payload["requests"]):
            with CaptureQueriesContext(connection) as captured:
                cpu_started = time.process_time()
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                cpu_times.append((time.process_time() - cpu_started) * 1000)
            status = response.status_code
            size = len(response.content)
            times.append(elapsed)
            queries.append(len(captured.captured_queries))
            sql_ms = [float(q["time"]) * 1000 for q in captured.captured_queries]
            sql_times.append(sum(sql_ms))
            for q, ms in zip(captured.captured_queries, sql_ms, strict=True):
                if ms > slowest["ms"]:
                    slowest = {"ms": ms, "sql": q["sql"]}
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        result = {
            "label": label,
            "user": username,
            "url": url,
            "status": status,
            "bytes": size,
            "median_ms": statistics.median(times),
            "p95_ms": p95,
            "min_ms": ordered[0],
            "sql_median_ms": statistics.median(sql_times),
            "cpu_median_ms": statistics.median(cpu_times),
            "queries": max(queries),
            "queries_min": min(queries),
            "target_ms": target,
            "slowest_query": slowest,
            # The last request's three slowest statements (what dominates the page's SQL time).
            "top_queries": [
                {"ms": ms, "sql": q["sql"][:400]}
                for ms, q in sorted(
                    zip(sql_ms, captured.captured_queries, strict=True), key=lambda pair: pair[0], reverse=True
                )[:3]
            ],
        }
        if target and p95 > target:
            result["explain"] = explain(connection, slowest["sql"])
        results.append(result)
        print(f"  {label:<38} {status} median {result['median_ms']:7.1f} ms  p95 {p95:7.1f} ms  "
              f"queries {result['queries']:3d}  sql {result['sql_median_ms']:6.1f} ms", file=sys.stderr)  # fmt: skip
    return {"pages": results, "interventions_in_program": count, "per_page": per_page, "household": household}


def explain(connection: Any, sql_text: str) -> list[str]:
    # pghistory prefixes statements run inside a history context with "SELECT set_config(...); ": explain the rest.
    if sql_text.startswith("SELECT set_config('pghistory."):
        sql_text = sql_text.split(";", 1)[1].strip()
    if not sql_text.lstrip().upper().startswith(("SELECT", "WITH")):
        return [f"(not a SELECT: {sql_text[:200]})"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql_text}")
        return [row[0] for row in cursor.fetchall()]


# ---------------------------------------------------------------------------------------------------------------
# Report


@dataclass
class Report:
    params: dict[str, Any]
    setup: dict[str, Any] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    pages: list[dict[str, Any]] = field(default_factory=list)
    n_plus_one: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def summarise(report: Report, uploads: list[Upload], rows: int) -> list[str]:
    lines = ["", "=" * 104, f"Uploads ({rows:,} rows; target < {TARGET_UPLOAD_S:.0f} s end to end)", "-" * 104]
    lines.append(
        f"{'upload':<52} {'seconds':>8} {'rows/s':>9}  {'created':>8} {'dupl.':>7} {'rejected':>8} {'cpu s':>6} "
        f"{'load':>9}  verdict"
    )
    for upload in uploads:
        r = upload.result or {}
        created = r.get("created", 0)
        timed = upload.label.startswith(("(a)", "(b)", "(c)"))
        good = upload.seconds < TARGET_UPLOAD_S and (created == rows or not timed)
        lines.append(
            f"{upload.label:<52} {upload.seconds:8.2f} {upload.rows_per_s:9,.0f}  {created:8,} "
            f"{r.get('duplicates', 0):7,} {r.get('rejected', 0):8,} {upload.cpu_s:6.1f} "
            f"{upload.load[0]:4.1f}>{upload.load[1]:<4.1f}  {verdict(good)}"
        )
        for step, seconds in upload.steps.items():
            lines.append(f"    {step:<48} {seconds:8.2f}")
            for statement in upload.statements.get(step, []):
                lines.append(f"        {statement['ms'] / 1000:7.2f}s  {statement['sql'][:150]}")
    lines += ["", f"Pages (server time, Django test Client; target p95 < {TARGET_PAGE_MS:.0f} ms)", "-" * 104]
    lines.append(f"{'page':<40} {'user':<17} {'median':>8} {'p95':>8} {'sql':>8} {'py cpu':>8} {'queries':>7}  verdict")
    for page in report.pages:
        target = page["target_ms"]
        good = page["status"] == 200 and (not target or page["p95_ms"] < target)
        mark = verdict(good) if target else ("ok" if page["status"] == 200 else f"HTTP {page['status']}")
        lines.append(
            f"{page['label']:<40} {page['user']:<17} {page['median_ms']:7.1f}ms {page['p95_ms']:7.1f}ms "
            f"{page['sql_median_ms']:7.1f}ms {page['cpu_median_ms']:7.1f}ms {page['queries']:7d}  {mark}"
            + ("" if page["status"] == 200 else f" (HTTP {page['status']})")
        )
    lines += ["", "N+1 check (queries per request must not grow with the rows shown)", "-" * 104]
    for check in report.n_plus_one:
        lines.append(f"{check['what']:<80} {check['a']:>4} vs {check['b']:>4}  {verdict(check['ok'])}")
    for page in report.pages:
        if "explain" in page:
            lines += [
                "",
                f"EXPLAIN ANALYZE, slowest query of '{page['label']}' ({page['slowest_query']['ms']:.1f} ms):",
            ]
            lines += ["  top statements of the last request:"]
            lines += [f"    {q['ms']:7.1f} ms  {q['sql'][:200]}" for q in page["top_queries"]]
            lines += ["  plan:"]
            lines += ["  " + line for line in page["explain"]]
    lines += [
        "",
        "median/p95: wall time of Client.get in the page process; sql: time inside the database calls (median);",
        "py cpu: CPU time of the page process itself (median; excludes the database server's work).",
    ]
    lines += [*(f"note: {n}" for n in report.notes), "=" * 104]
    return lines


def n_plus_one_checks(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_label = {p["label"]: p for p in pages}

    def pair(what: str, a: str, b: str, slack: int = 0) -> dict[str, Any] | None:
        if a not in by_label or b not in by_label:
            return None
        qa, qb = by_label[a]["queries"], by_label[b]["queries"]
        return {"what": what, "a": qa, "b": qb, "ok": abs(qa - qb) <= slack}

    last = next((p["label"] for p in pages if p["label"].endswith("(last)")), "")
    small = next((p["label"] for p in pages if p["label"].startswith("small program")), "")
    checks = [
        pair("program list: OPD (few programs) vs secretariat (all programs of the region)", "list (Program saya)",
             "list (secretariat)", slack=2),
        pair("program page: page 1 vs last page (25 rows each, 100k-row program)", "program page 1", last),
        # Two programs may differ by a conditional query (target regions, ...); an N+1 would differ by ~25.
        pair("program page: 100k-row program vs a small demo program", "program page 1", small, slack=1),
        pair("overview: OPD vs secretariat", "overview", "overview (secretariat)", slack=2),
    ]  # fmt: skip
    return [c for c in checks if c is not None]


# ---------------------------------------------------------------------------------------------------------------
# Main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=150_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--nik-share", type=float, default=0.05, help="rows identified by NIK instead of ID Keluarga")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--region", default="33.24")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--reuse-db", action="store_true", help="keep a database already seeded with >= families")
    parser.add_argument("--skip-uploads", action="store_true", help="pages only (needs a previous run's programs)")
    parser.add_argument("--json", default=str(OUT_DIR / "interventions_bench.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        workers = {"prepare": worker_prepare, "web_upload": worker_web_upload, "pages": worker_pages}
        print(json.dumps(workers[args.worker](json.loads(args.payload)), default=str))
        return

    check_name(args.db)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER_URL}/{args.db}",
        "MEDIA_ROOT": str(MEDIA_DIR),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    # In-process tasks: the bench runs every step itself and must not queue work for some other worker.
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_RESULT_BACKEND", None)
    env["DEBUG"] = "False"  # server time as deployed (the embedded default runs with DEBUG on)
    lock = lock_bench(args.db, bench="interventions_bench")
    report = Report(params={k: v for k, v in vars(args).items() if k not in ("worker", "payload")})

    seeded = demo_families(args.db, args.region)
    if args.reuse_db and seeded >= args.families:
        print(f"Database {args.db}: reusing ({seeded:,} demo families)")
        manage(["migrate", "-v0"], env)
    else:
        print(f"Database {args.db}: drop, create, migrate, load_regions {args.region}, seed_demo {args.families:,} ...")
        recreate_database(args.db)
        migrate = manage(["migrate", "-v0"], env)
        regions = manage(["load_regions", args.region], env)
        seed = manage(
            ["seed_demo", "--region", args.region, "--families", str(args.families), "--seed", str(args.seed), "-v0"],
            env,
        )
        report.setup = {"migrate_s": migrate.seconds, "load_regions_s": regions.seconds, "seed_demo_s": seed.seconds}
        print(f"  migrate {migrate.seconds:.1f}s, load_regions {regions.seconds:.1f}s, seed_demo {seed.seconds:.1f}s")
        print(
            "  " + "\n  ".join(line for line in seed.output.splitlines() if line.startswith(("Data demo", "Program")))
        )
        with contextlib.closing(psycopg2.connect(f"{SERVER_URL}/{args.db}")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    uploads: list[Upload] = []
    if not args.skip_uploads:
        print(f"\n1. programs {', '.join(PROGRAMS)} and a {args.rows:,}-row upload file (.xlsx, .csv)")
        directory = OUT_DIR / "interventions_data" / f"f{args.families}_r{args.rows}_s{args.seed}"
        payload = {
            "region": args.region,
            "rows": args.rows,
            "nik_share": args.nik_share,
            "seed": args.seed,
            "directory": str(directory),
        }
        prepared, prep_stats = worker("prepare", payload, env)
        report.setup["prepare"] = prepared
        print(
            f"  {prepared['rows']:,} rows ({prepared['nik_rows']:,} by NIK): xlsx {prepared['xlsx_mb']:.1f} MB "
            f"(written in {prepared['xlsx_write_s']:.1f}s; 0 = reused), csv {prepared['csv_mb']:.1f} MB; "
            f"{prep_stats.seconds:.0f}s"
        )
        programs = prepared["programs"]
        rows = prepared["rows"]

        print("\n2. uploads")
        uploads.append(cli_upload("(a) import_interventions .xlsx (CLI, end to end)", "bench-xlsx", prepared["xlsx"],
                                  rows, env))  # fmt: skip
        uploads.append(cli_upload("(b) import_interventions .csv (CLI, end to end)", "bench-csv", prepared["csv"],
                                  rows, env))  # fmt: skip
        uploads.append(web_upload("(c) web path .xlsx: upload, preview, confirm, run", programs["bench-web"],
                                  prepared["xlsx"], rows, env))  # fmt: skip
        uploads.append(cli_upload("(d) .xlsx again into bench-xlsx (all duplicates)", "bench-xlsx", prepared["xlsx"],
                                  rows, env))  # fmt: skip
        report.uploads = [asdict(u) | {"rows_per_s": u.rows_per_s} for u in uploads]
        big = programs["bench-xlsx"]
        with contextlib.closing(psycopg2.connect(f"{SERVER_URL}/{args.db}")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum would do soon after a 300k-row load
    else:
        with contextlib.closing(psycopg2.connect(f"{SERVER_URL}/{args.db}")) as connection, connection.cursor() as cur:
            cur.execute("SELECT id FROM programs_program WHERE code = 'bench-xlsx' ORDER BY year DESC LIMIT 1")
            found = cur.fetchone()
        if found is None:
            sys.exit("--skip-uploads: no bench-xlsx program in the database; run without it first")
        big = found[0]
        rows = args.rows

    print(f"\n3. pages ({args.requests} requests each after {args.warmup} warm-up)")
    pages, _stats = worker("pages", {"program": big, "requests": args.requests, "warmup": args.warmup}, env)
    print(_stats.output.rsplit("\n", 2)[0][-4000:])
    report.pages = pages["pages"]
    report.n_plus_one = n_plus_one_checks(report.pages)
    report.notes.append(
        f"program page figures are for a program with {pages['interventions_in_program']:,} interventions "
        f"({pages['per_page']} per page); the OPD also owns the other bench programs and the demo programs"
    )
    report.notes.append(
        f"machine: {os.cpu_count()} CPUs, load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        "(other work on the machine inflates wall times; compare py cpu and sql)"
    )
    lines = summarise(report, uploads, rows)
    print("\n".join(lines))
    Path(args.json).write_text(json.dumps(asdict(report), indent=2, default=str))
    Path(args.json).with_suffix(".txt").write_text("\n".join(lines) + "\n")
    print(f"\nJSON: {args.json}")
    shutil.rmtree(MEDIA_DIR, ignore_errors=True)
    lock.close()


if __name__ == "__main__":
    main()
