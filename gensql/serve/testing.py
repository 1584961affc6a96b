"""Run the workbench in a background thread and drive Debian's Chromium with Selenium (browser tests, screenshots)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
#: How to get a browser the tests can drive (the skip message says it).
ENABLE_HINT = (
    "install Debian's Chromium and its driver (`apt-get install -y chromium chromium-driver`) "
    "and the test extra (`pip install -e '.[test]'`, which brings selenium)"
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is missing."""
    browser = next((p for p in CHROMIUM_PATHS if os.access(p, os.X_OK)), None)
    driver = next((p for p in CHROMEDRIVER_PATHS if os.access(p, os.X_OK)), None) or shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def background_server(data_root, index_dir=None, host: str = "127.0.0.1") -> Iterator[str]:
    """The workbench on uvicorn in a daemon thread, on a free port; yields its base URL."""
    import uvicorn

    from . import create_app

    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    app = create_app(data_root, index_dir)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the workbench server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        app.state.workbench.close()


@contextmanager
def chromium(download_dir: str | None = None, width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A Selenium driver on Debian's Chromium, headless, with a fresh profile; downloads go to ``download_dir``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError(f"no Chromium here: {ENABLE_HINT}")
    browser, driver_path = found
    profile = tempfile.mkdtemp(prefix="gensql-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    if download_dir:
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": download_dir,
                "download.prompt_for_download": False,
                "download.directory_upgrade": True,
                "safebrowsing.enabled": False,
            },
        )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        if download_dir:
            driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
