from django.urls import path

from programs import views_import as views

app_name = "program_imports"

urlpatterns = [
    path("<int:program_pk>/templat.xlsx", views.TemplateDownloadView.as_view(), name="template"),
    path("<int:program_pk>/unggah/", views.UploadView.as_view(), name="upload"),
    path("unggahan/<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
    path("unggahan/<int:pk>/progres/", views.JobProgressView.as_view(), name="job-progress"),
    path("unggahan/<int:pk>/konfirmasi/", views.JobConfirmView.as_view(), name="job-confirm"),
    path("unggahan/<int:pk>/batal/", views.JobCancelView.as_view(), name="job-cancel"),
    path("unggahan/<int:pk>/ulang/", views.JobRerunView.as_view(), name="job-rerun"),
    path("unggahan/<int:pk>/kesalahan.xlsx", views.JobErrorReportView.as_view(), name="job-errors"),
]
