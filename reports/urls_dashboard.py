"""URLs of the gap dashboard (mounted at /kesenjangan/ with namespace "reports", see reports/urls.py)."""

from django.urls import URLPattern, path

from reports import views_dashboard as views

urlpatterns: list[URLPattern] = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("hitung-ulang/", views.RecomputeView.as_view(), name="recompute"),
    path("status-perhitungan/", views.RunStatusView.as_view(), name="run_status"),
]
