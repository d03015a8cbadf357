"""Small helpers for the Makefile that need the project's settings (and so the .env file).

python scripts/tkpkctl.py ensure-database        # PostgreSQL: CREATE DATABASE if it is missing
python scripts/tkpkctl.py require-broker         # exit 1 unless CELERY_BROKER_URL is configured
python scripts/tkpkctl.py collectstatic-if-needed  # collectstatic only when DEBUG is off
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tkpk.settings")
    import django

    django.setup()


def ensure_database() -> int:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not str(db["ENGINE"]).endswith(("postgresql", "postgis")):
        return 0
    import psycopg2
    from psycopg2 import sql

    name = str(db["NAME"])
    params = {
        "dbname": "postgres",
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    try:
        conn = psycopg2.connect(**{k: v for k, v in params.items() if v is not None})
    except psycopg2.OperationalError as exc:
        print(f"PostgreSQL tidak dapat dihubungi ({db.get('HOST')}:{db.get('PORT')}): {exc}", file=sys.stderr)
        return 1
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Basis data PostgreSQL {name} dibuat.")
    finally:
        conn.close()
    return 0


def require_broker() -> int:
    from django.conf import settings

    if settings.CELERY_BROKER_URL:
        return 0
    print(
        "CELERY_BROKER_URL belum diatur (lingkungan atau .env): worker/beat tidak diperlukan dalam mode tertanam.\n"
        "Contoh: export DATABASE_URL=postgres://postgres@127.0.0.1:5432/tkpk "
        "CELERY_BROKER_URL=redis://127.0.0.1:6379/0",
        file=sys.stderr,
    )
    return 1


def collectstatic_if_needed() -> int:
    from django.conf import settings
    from django.core.management import call_command

    # With DEBUG on, runserver serves static files from the apps; WhiteNoise needs STATIC_ROOT otherwise.
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
        print(f"File statis dikumpulkan di {settings.STATIC_ROOT}.")
    return 0


COMMANDS = {
    "ensure-database": ensure_database,
    "require-broker": require_broker,
    "collectstatic-if-needed": collectstatic_if_needed,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    _setup()
    return COMMANDS[args.command]()


if __name__ == "__main__":
    raise SystemExit(main())
