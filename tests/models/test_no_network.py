"""With the default settings, import, describe (and capture) open no network socket.

Each command runs in a subprocess whose sitecustomize installs an audit hook (PEP 578) that logs every
socket creation, connect, bind, send and name lookup that is not a local (AF_UNIX) socket — the X server
connection of capture is a Unix socket and allowed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SITECUSTOMIZE = r'''
import json, os, socket, sys

_LOG = os.environ["DESKSCRIBE_NETLOG"]
_EVENTS = {"socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
           "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
           "socket.getnameinfo"}

def _family(event, args):
    if event == "socket.__new__":  # the socket is not set up yet: the family is the second argument
        return args[1] if len(args) > 1 else None
    return getattr(args[0], "family", None) if args else None

def _hook(event, args):
    if event not in _EVENTS:
        return
    fam = _family(event, args) if event.startswith("socket.") and event not in (
        "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
        "socket.getnameinfo") else None
    if fam == socket.AF_UNIX:
        return
    with open(_LOG, "a") as fh:
        fh.write(json.dumps({"event": event, "args": repr(args)[:200], "argv": sys.argv[:3]}) + "\n")

sys.addaudithook(_hook)
'''


def _run(args: list[str], tmp_path: Path, home: Path, timeout: float = 300) -> tuple[subprocess.CompletedProcess, list]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "net.log"
    env = {**os.environ, "DESKSCRIBE_HOME": str(home), "DESKSCRIBE_NETLOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run([sys.executable, "-m", "deskscribe", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, events


def test_the_audit_hook_sees_a_real_connection(tmp_path):
    """The probe itself must be able to fail: an actual TCP connect attempt is logged."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "net.log"
    code = "import socket\ns = socket.socket()\ntry:\n s.connect(('127.0.0.1', 9))\nexcept OSError:\n pass\n"
    env = {**os.environ, "DESKSCRIBE_NETLOG": str(log), "PYTHONPATH": str(site)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert {e["event"] for e in map(json.loads, log.read_text().splitlines())} >= {"socket.__new__", "socket.connect"}


@pytest.mark.model
def test_import_and_describe_open_no_socket(tmp_path, screenagent):
    home = tmp_path / "home"
    proc, events = _run(["import", "--keep-typed-text", str(screenagent / "5fe99045cd214b898c99fce84ff4906b")],
                        tmp_path, home)
    assert proc.returncode == 0, proc.stderr
    proc, more = _run(["describe", "--progress", "none"], tmp_path, home)
    assert proc.returncode == 0, proc.stderr
    assert "described 1 of 1 episodes" in proc.stdout
    assert events + more == []


@pytest.mark.x11
def test_capture_opens_no_network_socket(tmp_path, xdisplay):
    home = tmp_path / "home"
    proc, events = _run(["capture", "--duration", "2"], tmp_path, home, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert events == []
