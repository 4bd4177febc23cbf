"""Small helpers of the browser tests."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

# Screenshots of each page for a person to look at: name a folder to take them.
SHOTS = os.environ.get("HALL_OPS_SCREENSHOTS", "")


def live(page: Page) -> None:
    """Wait until the page's live socket is open (a push sent before would be missed)."""
    page.wait_for_selector('body[data-live-state="up"]', state="attached", timeout=10_000)


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))
