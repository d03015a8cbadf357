"""Benchmark the P3KE import on a fresh PostgreSQL database, against django-import-export and raw COPY.

    .venv/bin/python bench/import_bench.py [--persons 1000000] [--db tkpk_bench_import] [--profile]
    .venv/bin/python bench/import_bench.py --persons 50000          # quick run

Steps (one run, one database, dropped and recreated first; never ``tkpk``, ``postgres`` or ``test*``):

1. Synthetic P3KE family + person files (``households.importing.synthetic``), .xlsx and the same rows as
   .csv, ~4 persons per family, kept in ``bench/out/import_data/<parameters>/`` and reused.
2. (a) ``manage.py import_households`` end to end from the .xlsx pair and, on an emptied registry, from
   the .csv pair (child processes: seconds, peak RSS, the JSON summary of the last stdout line).
3. (d) the same .csv pair again: seconds, created+updated from the summary, and the rows written to the
   registry tables according to ``pg_stat_user_tables`` (n_tup_ins/upd/del deltas).
4. (b) django-import-export ``ModelResource`` with ``use_bulk``/``skip_diff``/``batch_size`` on a
   sample of the person rows (their families inserted first, untimed), scaled to the full row count.
5. (c) the physical limit: COPY of the same .csv rows into bare text tables, then a plain
   ``INSERT ... ON CONFLICT DO UPDATE`` into tables of the same shape (also with a row trigger, and an
   unchanged re-apply with an ``IS DISTINCT FROM`` guard).

Prints rows/s for each, every ratio against its target, and writes ``bench/out/import_bench.json``.
``--profile`` also runs the .csv and .xlsx imports under cProfile and logs slow SQL statements.
Until the engine exists (``households/importing/engine.py`` and the ``import_households`` command), steps
2-3 are skipped and reported as such.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from _pgdb import SERVER_URL, check_name, lock_bench, recreate_database
from psycopg2 import sql

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
# The import stores a copy of every uploaded file (ImportFile): keep the bench's copies out of the project's media.
MEDIA_DIR = OUT_DIR / "media"
ENGINE_FILES = (
    BASE_DIR / "households" / "importing" / "engine.py",
    BASE_DIR / "households" / "management" / "commands" / "import_households.py",
)
# Files whose change makes the cached synthetic files stale.
GENERATOR_FILES = (BASE_DIR / "households" / "demo.py", BASE_DIR / "households" / "importing" / "synthetic.py")
REGISTRY_TABLES = (
    "households_household",
    "households_person",
    "households_householdsourcelink",
    "households_personsourcelink",
    "households_householdevent",
    "households_personevent",
)
PG_LOG_DIR = Path("/var/log/postgresql")

TARGET_SPEEDUP = 10.0
TARGET_XLSX_S = 60.0
TARGET_CSV_S = 30.0
TARGET_REIMPORT = 3.0
TARGET_RSS_MB = 500.0


# ---------------------------------------------------------------------------------------------------------------
# Child processes


@dataclass
class RunStats:
    seconds: float
    peak_rss_mb: float
    output: str
    returncode: int = 0
    cpu_s: float = 0.0  # the child's own user + system CPU (the database server's work is not in it)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after (other work on the machine)

    def last_json(self) -> dict[str, Any] | None:
        for line in reversed(self.output.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    return json.loads(line)
        return None


def run_child(args: list[str], env: dict[str, str], *, check: bool = True) -> RunStats:
    """Run a child process; time it and read its own peak RSS (wait4), stdout and stderr together."""
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, rusage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode
    if check and returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({returncode}):\n{output[-5000:]}")
    return RunStats(
        seconds=seconds,
        peak_rss_mb=rusage.ru_maxrss / 1024,
        output=output,
        returncode=returncode,
        cpu_s=rusage.ru_utime + rusage.ru_stime,
        load=(load_before, os.getloadavg()[0]),
    )


def manage(args: list[str], env: dict[str, str], *, check: bool = True, python: list[str] | None = None) -> RunStats:
    return run_child([*(python or [sys.executable]), str(BASE_DIR / "manage.py"), *args], env, check=check)


def worker(name: str, payload: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any], RunStats]:
    """Run one step of this script in a child process (Django set up there); returns its JSON and stats."""
    stats = run_child([sys.executable, __file__, "--worker", name, "--payload", json.dumps(payload)], env)
    result = stats.last_json()
    if result is None:
        sys.exit(f"worker {name} printed no JSON:\n{stats.output[-5000:]}")
    return result, stats


def django_setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tkpk.settings")
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------------------------
# Database


@contextlib.contextmanager
def db(name: str) -> Iterator[Any]:
    connection = psycopg2.connect(f"{SERVER_URL}/{name}")
    connection.autocommit = True
    try:
        yield connection
    finally:
        connection.close()


def truncate_registry(name: str) -> None:
    """Empty every households_* table except the seeded sources (and history contexts): a fresh registry."""
    with db(name) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND (tablename LIKE 'households\\_%%' OR tablename = 'pghistory_context') "
            "AND tablename <> 'households_source'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )
        cursor.execute("VACUUM ANALYZE")
    shutil.rmtree(MEDIA_DIR, ignore_errors=True)  # the stored copies of the emptied jobs' files


def table_stats(name: str) -> dict[str, dict[str, int]]:
    """n_tup_ins/upd/del per user table (cumulative; compare before/after)."""
    time.sleep(1.0)  # a backend flushes its counters when it exits; let the child's backend finish exiting
    with db(name) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables WHERE schemaname = 'public'"
        )
        return {rel: {"ins": ins, "upd": upd, "del": dele} for rel, ins, upd, dele in cursor.fetchall()}


def stats_delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    delta: dict[str, dict[str, int]] = {}
    for rel, now in after.items():
        then = before.get(rel, {"ins": 0, "upd": 0, "del": 0})
        change = {k: now[k] - then[k] for k in now}
        if any(change.values()):
            delta[rel] = change
    return delta


def registry_counts(name: str) -> dict[str, int]:
    with db(name) as connection, connection.cursor() as cursor:
        result: dict[str, int] = {}
        for table in REGISTRY_TABLES:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            result[table] = cursor.fetchone()[0]
        return result


# ---------------------------------------------------------------------------------------------------------------
# Step 1: files


def fingerprint(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_files(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    params = {"persons": args.persons, "region": args.region, "seed": args.seed, "code": fingerprint(GENERATOR_FILES)}
    directory = Path(args.data_dir) / f"p{args.persons}_r{args.region.replace('.', '')}_s{args.seed}"
    manifest = directory / "manifest.json"
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        paths = [Path(p) for kind in ("family", "person") for p in saved["files"][kind].values()]
        if saved.get("params") == params and all(p.exists() for p in paths):
            print(
                f"Files: reusing {directory} ({saved['files']['families']:,} families, "
                f"{saved['files']['persons']:,} persons)"
            )
            return saved
    print(f"Files: writing {directory} ...")
    payload = {"directory": str(directory), "persons": args.persons, "region": args.region, "seed": args.seed}
    files, stats = worker("generate", payload, env)
    saved = {"params": params, "files": files, "seconds": stats.seconds}
    manifest.write_text(json.dumps(saved, indent=2))
    print(f"Files: {files['families']:,} families, {files['persons']:,} persons in {stats.seconds:.0f}s")
    return saved


def worker_generate(payload: dict[str, Any]) -> dict[str, Any]:
    django_setup()
    from households.importing.synthetic import p3ke_files_write

    files = p3ke_files_write(
        directory=Path(payload["directory"]),
        persons=payload["persons"],
        region_code=payload["region"],
        seed=payload["seed"],
    )
    return files.as_dict()


# ---------------------------------------------------------------------------------------------------------------
# Steps 2-3: our import


@dataclass
class ImportRun:
    label: str
    fmt: str
    seconds: float
    peak_rss_mb: float
    rows: int
    summary: dict[str, Any] | None
    counts: dict[str, int]
    written: dict[str, dict[str, int]]
    registry_rows_written: int
    cpu_s: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    output_tail: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def created_updated(self) -> int | None:
        if not self.summary:
            return None
        return sum(
            self.summary.get(kind, {}).get(key, 0) for kind in ("families", "persons") for key in ("created", "updated")
        )


def import_args(files: dict[str, Any], fmt: str, snapshot: str, args: argparse.Namespace) -> list[str]:
    return [
        "import_households", "--source", "p3ke", "--families", files["family"][fmt], "--persons", files["person"][fmt],
        "--snapshot", snapshot, "--region", args.region, "--date", "2025-06-30", *args.import_arg,
    ]  # fmt: skip


def run_import(
    args: argparse.Namespace, env: dict[str, str], files: dict[str, Any], fmt: str, label: str, snapshot: str
) -> ImportRun:
    before = table_stats(args.db)
    stats = manage(import_args(files, fmt, snapshot, args), env, check=False)
    after = table_stats(args.db)
    written = stats_delta(before, after)
    if stats.returncode != 0:
        sys.exit(f"import_households ({label}) failed ({stats.returncode}):\n{stats.output[-6000:]}")
    registry_written = sum(sum(written.get(t, {}).values()) for t in REGISTRY_TABLES)
    run = ImportRun(
        label=label,
        fmt=fmt,
        seconds=stats.seconds,
        peak_rss_mb=stats.peak_rss_mb,
        rows=files["families"] + files["persons"],
        summary=stats.last_json(),
        counts=registry_counts(args.db),
        written=written,
        registry_rows_written=registry_written,
        cpu_s=stats.cpu_s,
        load=stats.load,
        output_tail="\n".join(stats.output.strip().splitlines()[-8:]),
    )
    print(
        f"  {label}: {run.seconds:.1f}s ({run.cpu_s:.1f}s CPU in the import process; load average "
        f"{run.load[0]:.1f} -> {run.load[1]:.1f}), {run.rows_per_s:,.0f} rows/s, peak RSS {run.peak_rss_mb:.0f} MB, "
        f"summary {json.dumps(run.summary)}"
    )
    return run


def engine_present() -> bool:
    return all(path.exists() for path in ENGINE_FILES)


# ---------------------------------------------------------------------------------------------------------------
# Step 4: django-import-export


def read_sample(path: Path, limit: int) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        headers = next(reader)
        rows = [row for _, row in zip(range(limit), reader, strict=False)]
    return headers, rows


def worker_import_export(payload: dict[str, Any]) -> dict[str, Any]:
    """Insert the sample's families (untimed), then time a ModelResource import of the sample person rows."""
    django_setup()
    import tablib
    from django.db import connection, transaction
    from import_export import fields, resources, widgets
    from import_export.instance_loaders import CachedInstanceLoader

    from households import choices
    from households.models import Household, HouseholdSourceLink, Person, Snapshot

    sample = payload["sample"]
    person_headers, person_rows = read_sample(Path(payload["person_csv"]), sample)
    family_ids = {row[0] for row in person_rows}

    # Families of the sample, through the ORM (not timed).
    started = time.monotonic()
    snapshot = Snapshot.objects.create(source_id="p3ke", label="bench import-export", taken_on=dt.date(2025, 6, 30))
    with Path(payload["family_csv"]).open(encoding="utf-8", newline="") as handle:
        families = [row for row in csv.DictReader(handle) if row["ID Keluarga P3KE"] in family_ids]
    with transaction.atomic():
        households = Household.objects.bulk_create(
            [
                Household(
                    head_name=row["Nama Kepala Keluarga"],
                    address=row["Alamat"],
                    desa_id=row["Kode Kemendagri"],
                    province_code=row["Kode Kemendagri"][:2],
                    kabupaten_code=row["Kode Kemendagri"][:4],
                    kecamatan_code=row["Kode Kemendagri"][:6],
                    desil=int(row["Desil Kesejahteraan"]),
                    persentil=int(row["Persentil"]),
                )
                for row in families
            ],
            batch_size=2000,
        )
        HouseholdSourceLink.objects.bulk_create(
            [
                HouseholdSourceLink(
                    household=household,
                    source_id="p3ke",
                    snapshot=snapshot,
                    first_seen=snapshot,
                    external_id=row["ID Keluarga P3KE"],
                )
                for household, row in zip(households, families, strict=True)
            ],
            batch_size=2000,
        )
    families_seconds = time.monotonic() - started

    def labels(choice: Any) -> dict[str, str]:
        return {str(label).upper(): str(value) for value, label in choice.choices}

    class LabelWidget(widgets.Widget):
        """Upper-case export wording -> our code (unknown -> blank)."""

        def __init__(self, mapping: dict[str, str]) -> None:
            super().__init__()
            self.mapping = mapping

        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
            return self.mapping.get(str(value or "").strip().upper(), "")

    class HouseholdWidget(widgets.Widget):
        """ID Keluarga P3KE -> household id, from a dict loaded once per import (no query per row)."""

        ids: dict[str, int] = {}

        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
            return self.ids.get(value)

    class NikWidget(widgets.CharWidget):
        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
            text = str(value or "").strip()
            return text if len(text) == 16 and text.isdigit() else None

    class PersonResource(resources.ModelResource):
        household_id = fields.Field(attribute="household_id", column_name="ID Keluarga P3KE", widget=HouseholdWidget())
        name = fields.Field(attribute="name", column_name="Nama")
        nik = fields.Field(attribute="nik", column_name="NIK", widget=NikWidget())
        sex = fields.Field(attribute="sex", column_name="Jenis Kelamin", widget=LabelWidget(labels(choices.Sex)))
        relationship = fields.Field(
            attribute="relationship",
            column_name="Hubungan dengan Kepala Keluarga",
            widget=LabelWidget(labels(choices.Relationship)),
        )
        birth_date = fields.Field(
            attribute="birth_date", column_name="Tanggal Lahir", widget=widgets.DateWidget(format="%Y-%m-%d")
        )
        marital_status = fields.Field(
            attribute="marital_status", column_name="Status Kawin", widget=LabelWidget(labels(choices.MaritalStatus))
        )
        occupation = fields.Field(attribute="occupation", column_name="Pekerjaan")
        work_status = fields.Field(
            attribute="work_status", column_name="Status Pekerjaan", widget=LabelWidget(labels(choices.WorkStatus))
        )
        education = fields.Field(
            attribute="education", column_name="Pendidikan", widget=LabelWidget(labels(choices.Education))
        )

        class Meta:
            model = Person
            fields = (
                "household_id",
                "name",
                "nik",
                "sex",
                "relationship",
                "birth_date",
                "marital_status",
                "occupation",
                "work_status",
                "education",
            )
            import_id_fields = ("nik",)  # the only natural key on Person; ID Individu lives in the link table
            instance_loader_class = CachedInstanceLoader  # one query for the whole dataset
            use_bulk = True
            skip_diff = True
            batch_size = payload["batch_size"]

        def before_import(self, dataset: Any, **kwargs: Any) -> None:
            HouseholdWidget.ids = dict(
                HouseholdSourceLink.objects.filter(source_id="p3ke").values_list("external_id", "household_id")
            )

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            instance.nik_status = choices.NikStatus.VALID if instance.nik else choices.NikStatus.MISSING

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(person_headers)
    writer.writerows(person_rows)
    started = time.monotonic()
    dataset = tablib.Dataset().load(text.getvalue(), format="csv")
    load_seconds = time.monotonic() - started
    started = time.monotonic()
    result = PersonResource().import_data(dataset, dry_run=False, use_transactions=True)
    import_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM households_person")
        persons_in_db = cursor.fetchone()[0]
    return {
        "sample_rows": len(person_rows),
        "families_inserted": len(households),
        "families_seconds": families_seconds,
        "load_seconds": load_seconds,
        "import_seconds": import_seconds,
        "seconds": load_seconds + import_seconds,
        "persons_in_db": persons_in_db,
        "totals": {str(k): v for k, v in result.totals.items()},
        "has_errors": result.has_errors(),
        "has_validation_errors": result.has_validation_errors(),
        "batch_size": payload["batch_size"],
    }


# ---------------------------------------------------------------------------------------------------------------
# Step 5: physical limit


def upsert_sql(*, table: str, stage: str, columns: list[str], key: str, guard: bool) -> str:
    """INSERT ... SELECT ... ON CONFLICT DO UPDATE, optionally only where the row differs."""
    column_list = ", ".join(columns)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    where = ""
    if guard:
        mine = ", ".join(f"{table}.{c}" for c in columns)
        theirs = ", ".join(f"EXCLUDED.{c}" for c in columns)
        where = f" WHERE ({mine}) IS DISTINCT FROM ({theirs})"
    return (
        f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {stage} "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}{where}"
    )


def physical_file(cursor: Any, kind: str, path: Path) -> dict[str, Any]:
    """COPY one .csv into a bare text table, then upsert it into tables of the same shape."""
    with path.open(encoding="utf-8", newline="") as handle:
        headers = next(csv.reader(handle))
    columns = [f"c{i}" for i in range(len(headers))]
    key = "c1" if kind == "person" else "c0"  # ID Individu / ID Keluarga P3KE
    stage, target, target_trg, events = (f"bench_{kind}_{s}" for s in ("stage", "target", "target_trg", "ev"))
    column_list = ", ".join(columns)
    text_columns = ", ".join(f"{c} text" for c in columns)
    for table in (stage, target, target_trg, events):
        cursor.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    cursor.execute(f"CREATE UNLOGGED TABLE {stage} ({text_columns})")
    cursor.execute(f"CREATE TABLE {target} ({text_columns}, PRIMARY KEY ({key}))")
    cursor.execute(f"CREATE TABLE {target_trg} ({text_columns}, PRIMARY KEY ({key}))")
    # A pghistory-like event table: a copy of the row, a label and a time, per insert/update.
    cursor.execute(
        f"CREATE TABLE {events} (pgh_id bigserial PRIMARY KEY, pgh_created_at timestamptz NOT NULL, "
        f"pgh_label text NOT NULL, {text_columns})"
    )
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {events}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO {events} (pgh_created_at, pgh_label, {column_list}) "
        f"VALUES (now(), TG_OP, {', '.join(f'NEW.{c}' for c in columns)}); RETURN NULL; END $$"
    )
    cursor.execute(
        f"CREATE TRIGGER {events}_trg AFTER INSERT OR UPDATE ON {target_trg} "
        f"FOR EACH ROW EXECUTE FUNCTION {events}_fn()"
    )
    timings: dict[str, Any] = {}
    cursor.execute("CHECKPOINT")
    started = time.monotonic()
    with path.open(encoding="utf-8", newline="") as handle:
        cursor.copy_expert(f"COPY {stage} ({column_list}) FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
    timings["copy_s"] = time.monotonic() - started
    cursor.execute(f"SELECT count(*) FROM {stage}")
    timings["rows"] = cursor.fetchone()[0]
    for label, table, guard in (
        ("upsert", target, False),
        ("upsert_trigger", target_trg, False),
        ("reapply_unchanged", target, True),
    ):
        started = time.monotonic()
        cursor.execute(upsert_sql(table=table, stage=stage, columns=columns, key=key, guard=guard))
        timings[f"{label}_s"] = time.monotonic() - started
        timings[f"{label}_rows"] = cursor.rowcount
    for table in (stage, target, target_trg, events):
        cursor.execute(f"DROP TABLE {table} CASCADE")
    cursor.execute(f"DROP FUNCTION IF EXISTS {events}_fn()")
    return timings


def physical_limit(name: str, files: dict[str, Any]) -> dict[str, Any]:
    """(c) for both files; totals are family + person."""
    result: dict[str, Any] = {}
    with db(name) as connection, connection.cursor() as cursor:
        for kind in ("family", "person"):
            t = physical_file(cursor, kind, Path(files[kind]["csv"]))
            result[kind] = t
            print(
                f"  {kind}: COPY {t['copy_s']:.1f}s, upsert {t['upsert_s']:.1f}s, with trigger "
                f"{t['upsert_trigger_s']:.1f}s, unchanged re-apply {t['reapply_unchanged_s']:.1f}s "
                f"({t['rows']:,} rows; re-apply wrote {t['reapply_unchanged_rows']})"
            )
    for label in ("copy_s", "upsert_s", "upsert_trigger_s", "reapply_unchanged_s", "rows"):
        result[label] = result["family"][label] + result["person"][label]
    result["seconds"] = result["copy_s"] + result["upsert_s"]
    result["seconds_with_trigger"] = result["copy_s"] + result["upsert_trigger_s"]
    result["reimport_seconds"] = result["copy_s"] + result["reapply_unchanged_s"]
    return result


# ---------------------------------------------------------------------------------------------------------------
# Parse-only timing and profiling


def worker_parse(payload: dict[str, Any]) -> dict[str, Any]:
    """Time the pure steps alone (reader + mapping + cells) over both files of one format."""
    django_setup()
    from households.importing.engine import parse_file

    result: dict[str, Any] = {}
    for kind in ("family", "person"):
        started = time.monotonic()
        parsed = parse_file(Path(payload[kind]), kind)
        rows = rejected = 0
        for row in parsed.rows:
            rows += 1
            rejected += row.rejected
        result[kind] = {"rows": rows, "rejected": rejected, "seconds": time.monotonic() - started}
    result["seconds"] = result["family"]["seconds"] + result["person"]["seconds"]
    return result


AUTO_EXPLAIN_MS = 1000
AUTO_EXPLAIN = (
    f"-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration={AUTO_EXPLAIN_MS} "
    "-c auto_explain.log_analyze=on -c auto_explain.log_triggers=on -c auto_explain.log_timing=on "
    "-c log_min_duration_statement=500"
)


def log_offsets() -> dict[Path, int]:
    return {p: p.stat().st_size for p in PG_LOG_DIR.glob("postgresql-*.log")} if PG_LOG_DIR.exists() else {}


def logged_since(offsets: dict[Path, int], database: str) -> list[list[str]]:
    """Server log entries of ``database`` since ``offsets``: each a header line and its tab-indented lines."""
    entries: list[list[str]] = []
    for path, offset in offsets.items():
        with path.open(encoding="utf-8", errors="replace") as handle:
            handle.seek(offset)
            text = handle.read()
        for line in text.splitlines():
            if line.startswith("\t") and entries:
                entries[-1].append(line[1:])
            elif f"@{database} " in line:
                entries.append([line])
    return entries


def statement_label(text: str) -> str:
    """The SQL without pghistory's ``SELECT set_config(...);`` prefix, whitespace squeezed, shortened."""
    if text.startswith("SELECT set_config('pghistory") and "true); " in text:
        text = text.split("true); ", 1)[1]
    return " ".join(text.split())[:160]


def slow_plans(entries: list[list[str]]) -> list[dict[str, Any]]:
    """auto_explain plans (``duration: ... plan:``), plus the COPY statements (which auto_explain does not
    explain) from ``log_min_duration_statement``, summed per target table."""
    plans: list[dict[str, Any]] = []
    copies: dict[str, dict[str, Any]] = {}
    for entry in entries:
        head = entry[0]
        if "duration:" not in head:
            continue
        try:
            ms = float(head.split("duration:")[1].split(" ms")[0])
        except (ValueError, IndexError):
            continue
        if " plan:" in head:
            body = entry[1:]
            first_node = next((i for i, line in enumerate(body) if "(cost=" in line or "(actual time=" in line), 1)
            query = " ".join(line.removeprefix("Query Text:").strip() for line in body[:first_node])
            nodes = [line.strip() for line in body if "(actual time=" in line]
            triggers = [line.strip() for line in body if line.startswith("Trigger ")]
            plans.append({"ms": ms, "sql": statement_label(query), "top": nodes[:1], "triggers": triggers})
        elif "statement: COPY " in head:
            table = head.split("statement: COPY ", 1)[1].split(" ", 1)[0]
            copy = copies.setdefault(table, {"ms": 0.0, "sql": f"COPY {table} ... FROM STDIN", "calls": 0})
            copy["ms"] += ms
            copy["calls"] += 1
    for copy in copies.values():
        plans.append({"ms": copy["ms"], "sql": f"{copy['sql']} (sum of {copy['calls']} batches over 0.5 s)",
                      "top": [], "triggers": []})  # fmt: skip
    return sorted(plans, key=lambda e: -e["ms"])


def profile_import(
    args: argparse.Namespace, env: dict[str, str], files: dict[str, Any], fmt: str, top: int = 30
) -> dict[str, Any]:
    """Re-run one import on an emptied registry under cProfile, with auto_explain (ANALYZE, trigger times) for
    every statement over a second and the server's timing of every statement over half a second."""
    truncate_registry(args.db)
    profile_path = OUT_DIR / f"import_bench_{fmt}.prof"
    offsets = log_offsets()
    stats = manage(
        import_args(files, fmt, f"Bench profile {fmt}", args),
        {**env, "PGOPTIONS": AUTO_EXPLAIN},
        python=[sys.executable, "-m", "cProfile", "-o", str(profile_path)],
    )
    out = io.StringIO()
    profile = pstats.Stats(str(profile_path), stream=out)
    profile.sort_stats("cumulative").print_stats(top)
    profile.sort_stats("tottime").print_stats(top)
    plans = slow_plans(logged_since(offsets, args.db))
    print(f"\n== cProfile of the {fmt} import ({stats.seconds:.1f}s, {stats.cpu_s:.1f}s CPU under the profiler)")
    print(out.getvalue())
    print(f"== {fmt} import: statements over {AUTO_EXPLAIN_MS} ms (auto_explain ANALYZE; times include its overhead)")
    for plan in plans:
        print(f"  {plan['ms'] / 1000:7.2f}s  {plan['sql']}")
        for line in plan["top"] + plan["triggers"]:
            print(f"             {line[:150]}")
    return {
        "seconds": stats.seconds,
        "cpu_s": stats.cpu_s,
        "profile": str(profile_path),
        "pstats": out.getvalue(),
        "slow_sql": plans,
    }


# ---------------------------------------------------------------------------------------------------------------
# Report


@dataclass
class Report:
    params: dict[str, Any]
    files: dict[str, Any]
    runs: dict[str, Any] = field(default_factory=dict)
    ratios: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def target(self, name: str, value: float | None, goal: str, ok: bool | None) -> None:
        self.targets.append({"target": name, "value": value, "goal": goal, "met": ok})


def summarise(
    report: Report,
    a_xlsx: ImportRun | None,
    a_csv: ImportRun | None,
    d_csv: ImportRun | None,
    d_full: ImportRun | None,
    ie: dict[str, Any],
    phys: dict[str, Any],
) -> None:
    files = report.files
    rows = files["families"] + files["persons"]
    ie_rate = ie["sample_rows"] / ie["seconds"]
    ie_full_seconds = rows / ie_rate
    phys_rate = phys["rows"] / phys["seconds"]
    lines = [
        ("(b) django-import-export (persons sample)", ie["seconds"], ie["sample_rows"], ie_rate),
        ("(b) ... scaled to all rows", ie_full_seconds, rows, ie_rate),
        ("(c) COPY + upsert (physical limit)", phys["seconds"], phys["rows"], phys_rate),
        (
            "(c) COPY + upsert with row trigger",
            phys["seconds_with_trigger"],
            phys["rows"],
            phys["rows"] / phys["seconds_with_trigger"],
        ),
        (
            "(c) COPY + unchanged re-apply",
            phys["reimport_seconds"],
            phys["rows"],
            phys["rows"] / phys["reimport_seconds"],
        ),
    ]
    runs = (a_xlsx, a_csv, d_csv, d_full)
    ours = [(run.label, run.seconds, run.rows, run.rows_per_s) for run in runs if run is not None]
    lines = ours + lines
    print(f"\n== Results: {files['families']:,} families + {files['persons']:,} persons = {rows:,} rows")
    print(f"{'':46}{'seconds':>10}{'rows':>12}{'rows/s':>12}")
    for label, seconds, count, rate in lines:
        print(f"{label:46}{seconds:>10.1f}{count:>12,}{rate:>12,.0f}")

    ratios = report.ratios
    ratios["ie_rows_per_s"] = ie_rate
    ratios["ie_full_seconds_estimate"] = ie_full_seconds
    ratios["physical_rows_per_s"] = phys_rate
    print("\n== Ratios and targets")
    for run, limit, name in ((a_xlsx, TARGET_XLSX_S, "xlsx"), (a_csv, TARGET_CSV_S, "csv")):
        if run is None:
            report.target(f"(a) {name} seconds", None, f"< {limit:.0f} s", None)
            continue
        speedup = run.rows_per_s / ie_rate
        ratios[f"speedup_vs_ie_{name}"] = speedup
        ratios[f"distance_to_physical_{name}"] = run.seconds / phys["seconds"]
        report.target(f"(a) {name} seconds", run.seconds, f"< {limit:.0f} s", run.seconds < limit)
        report.target(f"(a)/(b) speedup {name}", speedup, f">= {TARGET_SPEEDUP:.0f}x", speedup >= TARGET_SPEEDUP)
        report.target(
            f"(a) {name} peak RSS MB", run.peak_rss_mb, f"< {TARGET_RSS_MB:.0f} MB", run.peak_rss_mb < TARGET_RSS_MB
        )
        print(
            f"(a) {name:4}: {run.seconds:7.1f}s (target < {limit:.0f}s)  speedup over (b) {speedup:6.1f}x "
            f"(target >= {TARGET_SPEEDUP:.0f}x)  (a)/(c) {run.seconds / phys['seconds']:5.1f}x the physical "
            f"limit  peak RSS {run.peak_rss_mb:.0f} MB (target < {TARGET_RSS_MB:.0f})"
        )
    if a_csv is not None and d_csv is not None:
        faster = a_csv.seconds / d_csv.seconds
        ratios["reimport_speedup"] = faster
        ratios["reimport_vs_physical_reapply"] = d_csv.seconds / phys["reimport_seconds"]
        report.target(
            "(d) re-import faster than (a) csv", faster, f">= {TARGET_REIMPORT:.0f}x", faster >= TARGET_REIMPORT
        )
        report.target("(d) created+updated (summary)", d_csv.created_updated, "== 0", d_csv.created_updated == 0)
        report.target(
            "(d) registry rows written (pg_stat)", d_csv.registry_rows_written, "== 0", d_csv.registry_rows_written == 0
        )
        report.target(
            "(d) peak RSS MB", d_csv.peak_rss_mb, f"< {TARGET_RSS_MB:.0f} MB", d_csv.peak_rss_mb < TARGET_RSS_MB
        )
        print(
            f"(d) re-import: {d_csv.seconds:.1f}s, {faster:.1f}x faster than (a) csv (target >= "
            f"{TARGET_REIMPORT:.0f}x); created+updated {d_csv.created_updated} and {d_csv.registry_rows_written} "
            f"registry rows written (target 0 and 0); {d_csv.seconds / phys['reimport_seconds']:.1f}x the "
            f"physical unchanged re-apply"
        )
        if d_csv.written:
            print(f"    tables written during (d): {json.dumps(d_csv.written)}")
    if a_csv is not None and d_full is not None:
        ratios["reimport_full_recheck_speedup"] = a_csv.seconds / d_full.seconds
        print(
            f"(d') re-import with every row re-read and compared: {d_full.seconds:.1f}s, "
            f"{a_csv.seconds / d_full.seconds:.1f}x faster than (a) csv; created+updated {d_full.created_updated}, "
            f"{d_full.registry_rows_written} registry rows written"
        )
    print("\n== Targets" + ("" if rows >= 1_000_000 else " (set for --persons 1000000; this run is smaller)"))
    for t in report.targets:
        mark = "n/a " if t["met"] is None else ("MET " if t["met"] else "MISS")
        value = "-" if t["value"] is None else (f"{t['value']:,.1f}" if isinstance(t["value"], float) else t["value"])
        print(f"  [{mark}] {t['target']:42} {value!s:>12}  ({t['goal']})")


# ---------------------------------------------------------------------------------------------------------------
# Main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--region", default="33.24")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default="tkpk_bench_import")
    parser.add_argument("--data-dir", default=str(OUT_DIR / "import_data"))
    parser.add_argument("--ie-sample", type=int, default=50_000, help="person rows for django-import-export")
    parser.add_argument("--ie-batch", type=int, default=2_000, help="django-import-export batch_size")
    parser.add_argument("--import-arg", action="append", default=[], help="extra argument for import_households")
    parser.add_argument("--skip-import", action="store_true", help="skip (a) and (d) even if the engine exists")
    parser.add_argument("--profile", action="store_true", help="also profile the csv and xlsx imports")
    parser.add_argument("--json", default=str(OUT_DIR / "import_bench.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        workers = {"generate": worker_generate, "import_export": worker_import_export, "parse": worker_parse}
        print(json.dumps(workers[args.worker](json.loads(args.payload))))
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
    lock = lock_bench(args.db, bench="import_bench")
    saved = ensure_files(args, env)
    files = saved["files"]
    engine_code = sorted((BASE_DIR / "households" / "importing").glob("*.py"))
    report = Report(
        params=vars(args) | {"generator": saved["params"], "engine_code": fingerprint(tuple(engine_code))},
        files=files,
    )
    report.runs["generate_seconds"] = saved.get("seconds")

    print(f"Database {args.db}: drop, create, migrate, load_regions {args.region} ...")
    recreate_database(args.db)
    migrate = manage(["migrate", "-v0"], env)
    regions = manage(["load_regions", args.region], env)
    print(f"  migrate {migrate.seconds:.1f}s, load_regions {regions.seconds:.1f}s")

    a_xlsx = a_csv = d_csv = d_full = None
    if engine_present() and not args.skip_import:
        print("\n(a) our import, xlsx then csv (registry emptied before each), (d) csv again unchanged")
        a_xlsx = run_import(args, env, files, "xlsx", "(a) import_households xlsx", "Bench xlsx")
        report.runs["a_xlsx"] = asdict(a_xlsx)
        truncate_registry(args.db)
        a_csv = run_import(args, env, files, "csv", "(a) import_households csv", "Bench csv")
        report.runs["a_csv"] = asdict(a_csv)
        d_csv = run_import(args, env, files, "csv", "(d) re-import csv unchanged", "Bench csv")
        report.runs["d_csv"] = asdict(d_csv)
        # The same re-import without the identical-file shortcut (households/importing/rerun.py): every row
        # read, staged and compared, which is what a re-import costs after any change to the registry.
        no_shortcut = {**env, "IMPORT_SKIP_IDENTICAL_RERUN": "False"}
        d_full = run_import(args, no_shortcut, files, "csv", "(d') re-import csv, full re-check", "Bench csv")
        report.runs["d_full_csv"] = asdict(d_full)
        with contextlib.suppress(SystemExit):
            for fmt in ("xlsx", "csv"):
                parsed, stats = worker("parse", {k: files[k][fmt] for k in ("family", "person")}, env)
                parsed["peak_rss_mb"] = stats.peak_rss_mb
                report.runs[f"parse_only_{fmt}"] = parsed
                print(
                    f"  parse only (reader+mapping+cells) {fmt}: {parsed['seconds']:.1f}s, "
                    f"peak RSS {stats.peak_rss_mb:.0f} MB"
                )
    else:
        note = "engine/CLI not present yet: (a) and (d) skipped" if not args.skip_import else "(a), (d) skipped"
        report.notes.append(note)
        print(f"\n{note}")

    print(f"\n(b) django-import-export on {args.ie_sample:,} person rows (their families inserted first, untimed)")
    truncate_registry(args.db)
    payload = {
        "person_csv": files["person"]["csv"],
        "family_csv": files["family"]["csv"],
        "sample": args.ie_sample,
        "batch_size": args.ie_batch,
    }
    ie, ie_stats = worker("import_export", payload, env)
    ie["peak_rss_mb"] = ie_stats.peak_rss_mb
    report.runs["b_import_export"] = ie
    print(
        f"  {ie['families_inserted']:,} families inserted in {ie['families_seconds']:.1f}s; "
        f"{ie['sample_rows']:,} persons: load {ie['load_seconds']:.1f}s + import {ie['import_seconds']:.1f}s = "
        f"{ie['sample_rows'] / ie['seconds']:,.0f} rows/s; in db {ie['persons_in_db']:,}; totals {ie['totals']}"
    )
    if ie["persons_in_db"] != ie["sample_rows"]:
        report.notes.append(f"import-export wrote {ie['persons_in_db']} of {ie['sample_rows']} persons")

    print("\n(c) physical limit: COPY into bare text tables + upsert into tables of the same shape")
    truncate_registry(args.db)
    phys = physical_limit(args.db, files)
    report.runs["c_physical"] = phys

    summarise(report, a_xlsx, a_csv, d_csv, d_full, ie, phys)
    if args.profile and a_csv is not None:
        report.runs["profile_csv"] = profile_import(args, env, files, "csv")
        report.runs["profile_xlsx"] = profile_import(args, env, files, "xlsx")

    shutil.rmtree(MEDIA_DIR, ignore_errors=True)
    Path(args.json).write_text(json.dumps(asdict(report), indent=2, default=str))
    print(f"\nJSON: {args.json}")
    lock.close()


if __name__ == "__main__":
    main()
