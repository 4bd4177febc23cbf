from django.contrib import admin
from django.urls import include, path

from queueing.api import api
from queueing.views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("queueing.urls")),
    path("", include("hall_ops.ops_urls")),
    path("", include("vision.urls")),
]
