"""Headless Chromium for the browser tests: Debian's `chromium` package (scripts/test installs
it when it can), driven by Playwright, which cannot download a browser of its own here. Without
Chromium the tests are skipped with the reason, except under CI (CI=true), where that is a
failure, as for the engine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1200, "height": 900}


def chromium_path() -> str | None:
    given = os.environ.get("QUANTED_CHROMIUM")
    if given:
        return given
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One Chromium per test module, with a fresh profile; each test opens its own page. Not
    one per session: Playwright's driver and its event loop must be gone before the suite's
    asyncio tests (the editor's) run."""
    executable = chromium_path()
    if executable is None:
        reason = ("Chromium not found: install Debian's chromium package (scripts/test does, "
                  "as root with apt-get) or set QUANTED_CHROMIUM")
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (scripts/setup --test installs it)")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable,
            headless=True, args=ARGS, viewport=VIEWPORT)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def shots() -> Path | None:
    """QUANTED_SCREENSHOTS=DIR keeps the tests' screenshots there (the README's come from it)."""
    folder = os.environ.get("QUANTED_SCREENSHOTS")
    return Path(folder) if folder else None
