"""Pages of the ``reports`` app: the gap dashboard, the by-name gap list and the periodic reports."""

from django.urls import include, path

app_name = "reports"

urlpatterns = [
    path("", include("reports.urls_dashboard")),
    path("keluarga/", include("reports.urls_gaplist")),
]
