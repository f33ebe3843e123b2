from django.contrib import admin
from django.urls import include, path

from zhipei.api import api
from zhipei.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("xapi/", include("zhipei.lrs.urls")),
    path("records/", include("zhipei.lrs.page_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("zhipei.accounts.urls")),
    path("people/", include("zhipei.people.urls")),
    path("orgs/", include("zhipei.orgs.urls")),
    path("courses/", include("zhipei.catalog.catalogues.urls")),
    path("selection/", include("zhipei.catalog.selection.urls")),
    path("filings/", include("zhipei.catalog.filings.urls")),
    path("catalogue/", include("zhipei.catalog.public.urls")),
    path("enterprises/", include("zhipei.enterprises.urls")),
    path("subsidies/", include("zhipei.subsidies.urls")),
    path("learning/certificates/", include("zhipei.learning.certificates.download_urls")),
    path("learning/", include("zhipei.learning.urls")),
    path("verify/", include("zhipei.learning.certificates.urls")),
    path("", include("zhipei.portal.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
