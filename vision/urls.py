"""Routes of the vision pages (namespace `vision`)."""

from django.urls import URLPattern, URLResolver, path

from vision import views

app_name = "vision"

_camera = "halls/<slug:code>/cameras/<int:camera_id>/"

urlpatterns: list[URLPattern | URLResolver] = [
    path(f"{_camera}zones/", views.zones, name="zones"),
    path(f"{_camera}snapshot.jpg", views.snapshot, name="snapshot"),
]
