"""Locust load test of the gap pages: dashboard, gap list and the gap API, with logged-in sessions.

Run by ``bench/gap_bench.py --locust`` (which starts gunicorn on the bench database and sets the variables
below), or by hand against a running server::

    GAP_BENCH_YEAR=2026 GAP_BENCH_DESA=3324010001 GAP_BENCH_KAB=3324 \\
    GAP_BENCH_USERS=bench_gap_l01,bench_gap_l02 GAP_BENCH_PASSWORD=... \\
        .venv/bin/locust -f bench/gap_locust.py --headless -u 20 -r 5 -t 2m --host http://127.0.0.1:8765

Each simulated user takes the next login of ``GAP_BENCH_USERS`` (round robin; logins ending in an even
number are kabupaten secretariats, odd ones province secretariats), logs in through ``/akun/masuk/`` (form +
CSRF, the way a browser does; django-axes sees correct passwords only), then browses with 1-3 s think time.
Requests are named by endpoint so the report groups them.
"""

from __future__ import annotations

import itertools
import os
import re
import threading

from locust import HttpUser, between, task

YEAR = os.environ.get("GAP_BENCH_YEAR", "2026")
DESA = os.environ.get("GAP_BENCH_DESA", "")
KAB = os.environ.get("GAP_BENCH_KAB", "3324")
USERS = [u for u in os.environ.get("GAP_BENCH_USERS", "").split(",") if u]
PASSWORD = os.environ.get("GAP_BENCH_PASSWORD", "")
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_next_user = itertools.cycle(USERS or ["bench_gap_kendal"])
_lock = threading.Lock()


class GapUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        with _lock:
            self.username = next(_next_user)
        page = self.client.get("/akun/masuk/", name="login form")
        match = _CSRF.search(page.text)
        token = match.group(1) if match else self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/akun/masuk/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/akun/masuk/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {self.username} failed: HTTP {response.status_code}")

    @task(4)
    def dashboard(self) -> None:
        self.client.get(f"/kesenjangan/?year={YEAR}", name="dashboard")

    @task(2)
    def dashboard_kabupaten(self) -> None:
        self.client.get(f"/kesenjangan/?year={YEAR}&region={KAB}", name="dashboard kabupaten")

    @task(3)
    def gap_list_desa(self) -> None:
        self.client.get(f"/kesenjangan/keluarga/?year={YEAR}&region={DESA}&uncovered=1&desil=1", name="gap list desa")

    @task(2)
    def gap_list_kabupaten(self) -> None:
        self.client.get(f"/kesenjangan/keluarga/?year={YEAR}&region={KAB}", name="gap list kabupaten")

    @task(2)
    def api_summary(self) -> None:
        self.client.get(f"/api/v1/gaps/summary/?year={YEAR}", name="api summary")

    @task(2)
    def api_households(self) -> None:
        self.client.get(
            f"/api/v1/gaps/households/?year={YEAR}&region={KAB}&uncovered=true&desil=1", name="api households"
        )
