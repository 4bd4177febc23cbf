"""Routes of the operations screens (namespace `ops`)."""

from django.urls import URLPattern, URLResolver, path

from hall_ops.views import board, overview, report, tablet

app_name = "ops"

_board = "halls/<slug:code>/board/"
_tablet = "halls/<slug:code>/tablet/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("overview/", overview.overview, name="overview"),
    path(_board, board.board, name="board"),
    path(
        f"{_board}windows/<int:window_id>/status/", board.window_status, name="board-window-status"
    ),
    path(
        f"{_board}windows/<int:window_id>/skills/", board.window_skills, name="board-window-skills"
    ),
    path(f"{_board}alerts/<int:alert_id>/acknowledge/", board.alert_ack, name="board-alert-ack"),
    path(
        f"{_board}alerts/<int:alert_id>/escalate/",
        board.alert_escalate_view,
        name="board-alert-escalate",
    ),
    path(
        f"{_board}alerts/<int:alert_id>/resolve/",
        board.alert_resolve_view,
        name="board-alert-resolve",
    ),
    path("halls/<slug:code>/report/", report.report, name="report"),
    path(_tablet, tablet.tablet, name="tablet"),
    path(f"{_tablet}alerts/<int:alert_id>/acknowledge/", tablet.alert_ack, name="tablet-alert-ack"),
    path(
        f"{_tablet}alerts/<int:alert_id>/resolve/",
        tablet.alert_resolve_view,
        name="tablet-alert-resolve",
    ),
]
