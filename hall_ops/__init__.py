"""hall-ops: the Django project package and the operations layer."""

from hall_ops.celery import app as celery_app

__all__ = ["celery_app"]
