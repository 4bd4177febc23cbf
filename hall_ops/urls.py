from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from queueing.api import api
from queueing.api.errors import unknown_route
from queueing.views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_route),  # after every API route: a JSON 404
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("queueing.urls")),
    path("", include("hall_ops.ops_urls")),
    path("", include("vision.urls")),
]

# Password reset mails a link: served only with a mail server (settings.EMAIL_HOST).
if settings.PASSWORD_RESET_ENABLED:
    urlpatterns.insert(1, path("accounts/", include("django.contrib.auth.urls")))

handler404 = "queueing.api.errors.not_found"
