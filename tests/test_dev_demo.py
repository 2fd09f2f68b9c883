"""./dev demo serves where DEMO_ADDR says, and the links it e-mails lead there too."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def recording_uv(tmp_path):
    """A stand-in for uv on PATH that writes down each call and the SITE_URL it ran with."""
    log = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    uv = bin_dir / "uv"
    uv.write_text(f'#!/bin/sh\necho "SITE_URL=$SITE_URL $*" >> "{log}"\n')
    uv.chmod(0o755)
    return bin_dir, log


def run_demo(recording_uv, **env):
    bin_dir, log = recording_uv
    clean = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DEMO_ADDR"}}
    clean["PATH"] = f"{bin_dir}{os.pathsep}{clean['PATH']}"
    subprocess.run(
        [shutil.which("bash"), str(REPO / "dev"), "demo"], env={**clean, **env}, check=True, timeout=30
    )
    return log.read_text().splitlines()


def test_the_demo_on_another_address_sends_links_to_that_address(recording_uv):
    calls = run_demo(recording_uv, DEMO_ADDR="0.0.0.0:9000")

    setup = next(call for call in calls if "demo_setup" in call)
    serve = next(call for call in calls if "runserver" in call)
    assert setup.endswith("--base-url http://0.0.0.0:9000")
    # The server's e-mails (watches, tickets) build their links from SITE_URL.
    assert serve.startswith("SITE_URL=http://0.0.0.0:9000 ")
    assert serve.endswith("runserver 0.0.0.0:9000")


def test_a_site_url_given_for_the_demo_is_kept(recording_uv):
    calls = run_demo(recording_uv, DEMO_ADDR="127.0.0.1:9000", SITE_URL="https://demo.example")

    assert all(call.startswith("SITE_URL=https://demo.example ") for call in calls)
    assert next(call for call in calls if "demo_setup" in call).endswith("--base-url https://demo.example")
