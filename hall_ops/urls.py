from django.contrib import admin
from django.urls import include, path, re_path

from queueing.api import api
from queueing.api.errors import unknown_route
from queueing.views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_route),  # after every API route: a JSON 404
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("queueing.urls")),
    path("", include("hall_ops.ops_urls")),
    path("", include("vision.urls")),
]

handler404 = "queueing.api.errors.not_found"
