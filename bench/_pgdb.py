"""Database plumbing shared by the bench scripts: a scratch PostgreSQL database per bench, never a real one."""

from __future__ import annotations

import os
import sys
from typing import Any

import psycopg2
from psycopg2 import sql

SERVER_URL = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PROTECTED = ("tkpk", "postgres", "template0", "template1")


def check_name(name: str) -> None:
    if name in PROTECTED or name.startswith("test"):
        sys.exit(f"Refusing to use database {name!r}.")


def lock_bench(name: str, *, bench: str) -> Any:
    """Serialize concurrent runs on one database: a session advisory lock held until this process exits."""
    connection = psycopg2.connect(f"{SERVER_URL}/postgres")
    connection.autocommit = True
    key = f"{bench}:{name}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        if not cursor.fetchone()[0]:
            print(f"Another {bench} run is using {name}; waiting ...")
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
    return connection


def recreate_database(name: str) -> None:
    check_name(name)
    connection = psycopg2.connect(f"{SERVER_URL}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
