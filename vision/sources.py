"""Camera sources without credentials in the database.

A camera's `source` is an RTSP/HTTP URL or a video file path. A password never goes in
it: write a `${NAME}` placeholder instead (`rtsp://viewer:${CAMERA_ENTRANCE_PASSWORD}@
10.0.0.5/sub`) and give the vision worker that variable in its environment (or a
`NAME_FILE` variable naming a file that holds it, as Docker secrets do). The app stores
and serves the placeholder; only the worker, on the edge box, expands it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]{0,63})\}")


class SourceError(ValueError):
    pass


def check_source(source: str) -> None:
    """Refuse a URL that carries a literal password (a placeholder is fine)."""
    if "://" not in source:
        return  # a file path
    parts = urlsplit(PLACEHOLDER.sub("placeholder", source))
    if parts.scheme.lower() not in {"rtsp", "rtsps", "http", "https"}:
        raise SourceError("use an rtsp://, http:// or https:// URL, or a file path")
    userinfo = urlsplit(source).netloc.rpartition("@")[0]
    password = userinfo.partition(":")[2]
    if password and not PLACEHOLDER.fullmatch(password):
        raise SourceError("put the password in a ${CAMERA_<NAME>_PASSWORD} placeholder")


def expand_source(source: str, environ: Mapping[str, str] | None = None) -> str:
    """The source with each `${NAME}` replaced by the environment's NAME (or the
    contents of the file NAME_FILE names). A missing one is an error, not ""."""
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in env:
            return env[name]
        if f"{name}_FILE" in env:
            return Path(env[f"{name}_FILE"]).read_text().strip()
        raise SourceError(f"the environment lacks {name} (or {name}_FILE)")

    return PLACEHOLDER.sub(value, source)
