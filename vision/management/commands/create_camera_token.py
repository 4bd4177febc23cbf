"""`manage.py create_camera_token NAME --camera ID [--camera ID]`: a token for a vision
worker. The key is printed once; only its hash is kept."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vision.models import Camera
from vision.services import camera_token_create


class Command(BaseCommand):
    help = "Create a vision worker's token for some cameras and print its key (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Which worker uses it, e.g. 'hall 1 edge box'")
        parser.add_argument(
            "--camera",
            dest="cameras",
            action="append",
            type=int,
            default=[],
            metavar="ID",
            help="A camera the worker reads and reports (repeat for several)",
        )

    def handle(self, *args: Any, name: str, cameras: list[int], **options: Any) -> None:
        if not cameras:
            raise CommandError("Name at least one camera with --camera ID.")
        found = {c.pk: c for c in Camera.objects.select_related("hall").filter(pk__in=cameras)}
        unknown = sorted(set(cameras) - set(found))
        if unknown:
            raise CommandError(f"Unknown camera: {', '.join(map(str, unknown))}.")
        token, key = camera_token_create(name=name, cameras=found.values())
        self.stdout.write(
            f"Created camera token {token.name!r} (prefix {token.key_prefix}) for "
            f"{', '.join(str(c) for c in found.values())}. Its key:"
        )
        self.stdout.write(key)
        self.stdout.write(
            self.style.WARNING("Keep it now: it will not be shown again (only its hash is kept).")
        )
