from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tkpk import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("akun/masuk/", views.TkpkLoginView.as_view(), name="login"),
    path("akun/keluar/", views.TkpkLogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("registri/", include("households.urls")),
    path("program/", include("programs.urls")),
    path("program/impor/", include("programs.urls_import")),
    path("laporan-kegiatan/", include("programs.urls_reports")),
    path("kesenjangan/", include("reports.urls")),
    path("laporan-berkala/", include(("reports.urls_periodic", "reports_periodic"))),
    path("csr/", include("csr.urls")),
    path("mitra-csr/", include(("csr.urls_portal", "csr_portal"))),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tkpk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", views.healthz, name="healthz"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
