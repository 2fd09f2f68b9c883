"""Run nginx in front of a local gunicorn, configured as the production front.

``deploy/nginx/kitty.conf.template`` is the front's configuration;
docker-compose.yml hands it to the nginx image. Here it is wrapped in a
main configuration of its own (pid, logs, temporary files, all under one
directory) so bench/load.py and the tests run the same front next to the
processes they start, without touching the system's nginx.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("nginx") / "kitty.conf.template"


def nginx_binary() -> str | None:
    """nginx on the PATH or where Debian puts it (apt-get install -y nginx-light), else None."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def configuration(
    *,
    listen: str,
    upstream: str,
    workdir: Path,
    diagnoses_upstream: str = "",
    api_upstream: str = "",
    trusted_proxy: str = "127.0.0.1",
    access_log: str = "off",
) -> Path:
    """Write ``workdir/nginx.conf``: the front's template inside a main block of its own.

    ``trusted_proxy`` (an address or CIDR) is the TLS-terminating proxy whose
    X-Forwarded-Proto the front believes; locally, whoever connects from 127.0.0.1.
    ``access_log``: "off", or a file and the template's format (``"/path kitty_paths"``).
    """
    cache = workdir / "cache"
    temp = workdir / "temp"
    for directory in (cache, temp):
        directory.mkdir(parents=True, exist_ok=True)
    front = Template(TEMPLATE.read_text()).safe_substitute(
        KITTY_LISTEN=listen,
        KITTY_UPSTREAM=upstream,
        KITTY_DIAGNOSES_UPSTREAM=diagnoses_upstream or upstream,
        KITTY_API_UPSTREAM=api_upstream or upstream,
        KITTY_CACHE_DIR=str(cache),
        KITTY_TRUSTED_PROXY=trusted_proxy,
        KITTY_ACCESS_LOG=access_log,
    )
    main = "\n".join(
        [
            # As root, nginx's workers would run as nobody, who cannot write the cache under workdir.
            "user root;" if os.geteuid() == 0 else "",
            "worker_processes auto;",
            "daemon off;",
            f"pid {workdir / 'nginx.pid'};",
            f"error_log {workdir / 'error.log'} warn;",
            "events { worker_connections 1024; }",
            "http {",
            "    access_log off;",
            "    default_type application/octet-stream;",
            *(
                f"    {kind}_temp_path {temp / kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
            front,
            "}",
            "",
        ]
    )
    path = workdir / "nginx.conf"
    path.write_text(main)
    return path


def start(
    *,
    port: int,
    upstream_port: int,
    workdir: Path,
    diagnoses_port: int | None = None,
    api_port: int | None = None,
    host: str = "127.0.0.1",
    trusted_proxy: str = "127.0.0.1",
    access_log: str = "off",
) -> subprocess.Popen:
    """Start nginx on ``host:port`` in front of gunicorn on ``host:upstream_port``; return once it listens.

    "Check every step" goes to ``diagnoses_port``, the API and MCP server to ``api_port``
    (default: the same gunicorn).

    Raises FileNotFoundError when nginx is not installed, RuntimeError when it does not start.
    """
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (apt-get install -y nginx-light)")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = configuration(
        listen=f"{host}:{port}",
        upstream=f"{host}:{upstream_port}",
        diagnoses_upstream=f"{host}:{diagnoses_port or upstream_port}",
        api_upstream=f"{host}:{api_port or upstream_port}",
        workdir=workdir,
        trusted_proxy=trusted_proxy,
        access_log=access_log,
    )
    process = subprocess.Popen(
        [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            log = (workdir / "error.log").read_text() if (workdir / "error.log").exists() else ""
            raise RuntimeError(f"nginx exited with {process.returncode}: {error}{log}")
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"nginx did not listen on {host}:{port} within 10 s")


def stop(process: subprocess.Popen) -> None:
    """Stop nginx (quit: finish the requests in progress) and wait for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
