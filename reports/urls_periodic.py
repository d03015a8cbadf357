"""URLs of the periodic pages (see reports/urls.py), mounted at /laporan-berkala/ as ``reports_periodic``."""

from django.urls import URLPattern, path

from reports import views_periodic as views

urlpatterns: list[URLPattern] = [
    path("", views.PeriodicReportListView.as_view(), name="list"),
    path("<int:pk>/status/", views.PeriodicReportStatusView.as_view(), name="status"),
    path("<int:pk>/unduh/<str:kind>/", views.PeriodicReportDownloadView.as_view(), name="download"),
]
