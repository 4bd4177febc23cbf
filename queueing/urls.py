from django.urls import URLPattern, URLResolver, path

from queueing.views import console, display, home, kiosk

app_name = "queueing"

_console = "windows/<int:window_id>/console/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("halls/<slug:code>/", home.hall, name="hall"),
    path("halls/<slug:code>/kiosk/", kiosk.kiosk, name="kiosk"),
    path("halls/<slug:code>/kiosk/tickets/", kiosk.kiosk_issue, name="kiosk-issue"),
    path("halls/<slug:code>/display/", display.display, name="display"),
    path(_console, console.console, name="console"),
    path(f"{_console}sit/", console.console_sit, name="console-sit"),
    path(f"{_console}open/", console.console_open, name="console-open"),
    path(f"{_console}pause/", console.console_pause, name="console-pause"),
    path(f"{_console}close/", console.console_close, name="console-close"),
    path(f"{_console}auto-call/", console.console_auto_call, name="console-auto-call"),
    path(f"{_console}call-next/", console.console_call_next, name="console-call-next"),
    path(f"{_console}call/", console.console_call, name="console-call"),
    path(f"{_console}recall/", console.console_recall, name="console-recall"),
    path(f"{_console}start/", console.console_start, name="console-start"),
    path(f"{_console}no-show/", console.console_no_show, name="console-no-show"),
    path(f"{_console}complete/", console.console_complete, name="console-complete"),
    path(f"{_console}transfer/", console.console_transfer, name="console-transfer"),
    path(f"{_console}cancel/", console.console_cancel, name="console-cancel"),
]
