"""Benchmark ``manage.py seed_demo`` on a fresh PostgreSQL database.

    .venv/bin/python bench/seed_bench.py [--families 150000] [--region 33.24] [--db tkpk_bench_seed] [--reset-run]

Drops and recreates the database, migrates it, loads the region, then runs seed_demo in a child process and
prints families, persons, seconds, rows/s and the child's peak RSS. ``--reset-run`` also times a second run
with ``--reset`` (delete + regenerate). Never touches the ``tkpk`` or ``test_*`` databases.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from _pgdb import SERVER_URL, lock_bench, recreate_database

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class RunStats:
    seconds: float
    peak_rss_mb: float
    output: str


def manage(args: list[str], env: dict[str, str]) -> RunStats:
    """Run one manage.py command as a child process; time it and read its own peak RSS (wait4)."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, rusage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed ({process.returncode}):\n{output}")
    return RunStats(seconds=seconds, peak_rss_mb=rusage.ru_maxrss / 1024, output=output)


def counts(name: str, region: str) -> dict[str, int]:
    code = region.replace(".", "")
    connection = psycopg2.connect(f"{SERVER_URL}/{name}")
    queries = {
        "families": "SELECT count(*) FROM households_household WHERE is_demo AND kabupaten_code = %s",
        "persons": "SELECT count(*) FROM households_person p JOIN households_household h ON h.id = p.household_id "
        "WHERE h.is_demo AND h.kabupaten_code = %s",
        "household_links": "SELECT count(*) FROM households_householdsourcelink",
        "person_links": "SELECT count(*) FROM households_personsourcelink",
        "history_events": "SELECT (SELECT count(*) FROM households_householdevent) "
        "+ (SELECT count(*) FROM households_personevent) + 0 * length(%s)",
    }
    result: dict[str, int] = {}
    with connection.cursor() as cursor:
        for key, query in queries.items():
            cursor.execute(query, [code] if "%s" in query else [])
            result[key] = cursor.fetchone()[0]
    connection.close()
    return result


def report(title: str, stats: RunStats, numbers: dict[str, int]) -> None:
    rows = numbers["families"] + numbers["persons"]
    print(f"\n== {title}")
    print(f"families        {numbers['families']:>12,}")
    print(f"persons         {numbers['persons']:>12,}")
    print(f"seconds         {stats.seconds:>12.1f}")
    print(f"rows/s          {rows / stats.seconds:>12,.0f}  (families + persons)")
    written = rows + numbers["household_links"] + numbers["person_links"]
    print(f"all rows/s      {written / stats.seconds:>12,.0f}  (+ provenance links; history events not counted)")
    print(f"history events  {numbers['history_events']:>12,}")
    print(f"peak RSS        {stats.peak_rss_mb:>12.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="tkpk_bench_seed")
    parser.add_argument("--region", default="33.24")
    parser.add_argument("--families", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reset-run", action="store_true", help="Also time a second run with --reset.")
    args = parser.parse_args()

    env = {**os.environ, "DATABASE_URL": f"{SERVER_URL}/{args.db}", "LOG_LEVEL": "WARNING"}
    lock = lock_bench(args.db, bench="seed_bench")
    print(f"Database {args.db}: drop, create, migrate ...")
    recreate_database(args.db)
    migrate = manage(["migrate", "-v0"], env)
    regions = manage(["load_regions", args.region], env)
    print(f"migrate {migrate.seconds:.1f}s, load_regions {regions.seconds:.1f}s")

    seed_args = ["seed_demo", "--region", args.region, "--families", str(args.families), "--seed", str(args.seed)]
    first = manage([*seed_args, "-v0"], env)
    report(f"seed_demo --families {args.families} (fresh database)", first, counts(args.db, args.region))
    if args.reset_run:
        again = manage([*seed_args, "--reset", "-v0"], env)
        report("seed_demo --reset (delete + regenerate)", again, counts(args.db, args.region))
    print("\nLast seed_demo output:\n" + (again if args.reset_run else first).output.strip())
    lock.close()


if __name__ == "__main__":
    main()
