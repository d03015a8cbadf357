"""The one import engine for every bulk path (P3KE, DTKS, DTSEN now; interventions, CSR target lists and
graduation lists later).

Pipeline (each step its own module):
  reader.py   stream rows from .xlsx / .csv (one reader module, swappable)
  mapping.py  find the header row, match headers through the alias tables, detect the file kind
  cells.py    pure per-column parsers: raw cell -> typed value or CellIssue
  stage.py    load parsed rows into a staging table (PostgreSQL COPY; batched inserts on SQLite)
  checks.py   set-based checks on the staging table (region codes, duplicate ids, orphans)
  apply.py    upsert into the registry: INSERT ... ON CONFLICT DO UPDATE ... WHERE ... IS DISTINCT FROM
  linkage.py  match records of a second source (DTKS, DTSEN) to the registry; uncertain -> review list
  report.py   the row-error .xlsx (openpyxl write-only)
  engine.py   orchestration: preview(), run(); called by services, the Celery task and the CLI
The shared data types are in types.py.
"""
