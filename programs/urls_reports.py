from django.urls import path

from programs import views_reports as views

app_name = "activity_reports"

urlpatterns = [
    path("", views.MyReportsView.as_view(), name="mine"),
    path("mulai/", views.StartReportView.as_view(), name="start"),
    path("<int:pk>/", views.ReportDetailView.as_view(), name="detail"),
    path("<int:pk>/ubah/", views.EditReportView.as_view(), name="edit"),
    path("<int:pk>/tinjau/", views.ReviewReportView.as_view(), name="review"),
    path("papan/", views.BoardView.as_view(), name="board"),
    path("papan/unduh/", views.BoardExportView.as_view(), name="export"),
]
