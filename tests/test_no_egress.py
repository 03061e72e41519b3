"""With the default settings no deskscribe command opens an internet socket — seen natively, with strace.

Each command runs under ``strace -f -e trace=socket,connect,sendto`` (every thread and child process); any
socket, connect or sendto of the AF_INET / AF_INET6 families fails the test. AF_UNIX is allowed: the X
server, D-Bus and the name-service cache socket are local. This sees what Python's audit hooks cannot, such
as onnxruntime's native telemetry client (deskscribe.models.ocr_engine turns it off with ORT_DISABLE_TELEMETRY=1; on a
machine with a DNS resolver the client's lookup shows up within seconds when it is left on). The first tests
prove the probe sees a real connection made from Python and one made from C.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import wait_for

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace (Debian package) is not installed")

INET = re.compile(r"AF_INET6?\b")
# --seccomp-bpf: only the traced calls stop the process (futex-heavy OCR/llama.cpp threads would crawl otherwise)
TRACE = ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=socket,connect,sendto,bind"]
LOOPBACK = re.compile(r'inet_pton\(AF_INET6, "::1"|inet_addr\("127\.0\.0\.1"\)')
CALL = re.compile(r"^\d+\s+(socket|connect|sendto|bind)\((\d+)?.*?(?:= (-?\d+))?(?: [A-Z]+ \(.*\))?$")


def inet_calls(log: Path) -> list[str]:
    """The traced calls that could reach the network: any connect/sendto over an internet family, and any
    internet socket that is not merely bound to the loopback address and dropped.

    The one allowed pattern is urllib3's import-time IPv6 probe (``socket(AF_INET6)`` + ``bind(("::1", 0))``,
    imported by datasets/huggingface_hub): it sends nothing.
    """
    if not log.exists():
        return []
    bad: list[str] = []
    pending: dict[str, str] = {}  # fd -> the socket() line of an internet socket not yet cleared
    for line in log.read_text(errors="replace").splitlines():
        m = CALL.match(line)
        if m is None:
            continue
        call, fd, ret = m.group(1), m.group(2), m.group(3)
        if call == "socket":
            if INET.search(line) and ret is not None and not ret.startswith("-"):
                pending[ret] = line
        elif call == "bind":
            if fd in pending and LOOPBACK.search(line):
                del pending[fd]
            elif INET.search(line):
                bad.append(line)
        elif INET.search(line) or fd in pending:  # connect / sendto
            bad.append(line)
    return bad + list(pending.values())


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DESKSCRIBE_HOME": str(home), **extra}
    env.pop("ORT_DISABLE_TELEMETRY", None)  # deskscribe must turn it off itself
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    """strace and every process it traces (a killed strace would leave its tracees running)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def traced(args: list[str], log: Path, home: Path, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
    cmd = [*TRACE, "-o", str(log), sys.executable, "-m", "deskscribe", *args]
    proc = subprocess.Popen(cmd, env=_env(home, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        _kill_group(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_the_probe_sees_a_python_connection(tmp_path: Path) -> None:
    log = tmp_path / "trace.log"
    code = "import socket\ns = socket.socket()\ntry:\n s.connect(('127.0.0.1', 9))\nexcept OSError:\n pass\n"
    subprocess.run([*TRACE, "-o", str(log), sys.executable, "-c", code], check=True, timeout=60)
    assert any("connect(" in line for line in inet_calls(log))


def test_the_probe_allows_only_a_loopback_bind(tmp_path: Path) -> None:
    """urllib3's IPv6 probe passes; the same socket sending one datagram does not."""
    probe = "import socket\ns = socket.socket(socket.AF_INET6)\ns.bind(('::1', 0))\ns.close()\n"
    send = "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('127.0.0.1', 9))\n"
    for code, expect_bad in ((probe, False), (send, True)):
        log = tmp_path / "trace.log"
        subprocess.run([*TRACE, "-o", str(log), sys.executable, "-c", code], check=True, timeout=60)
        assert bool(inet_calls(log)) is expect_bad, log.read_text()


def test_the_probe_sees_a_native_connection(tmp_path: Path) -> None:
    """A connect() made by C code (libc through ctypes), never seen by Python's socket module or audit hooks."""
    code = textwrap.dedent("""
        import ctypes, socket, struct
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
        addr = struct.pack("!HH4s8x", socket.AF_INET, 9, socket.inet_aton("127.0.0.1"))
        addr = struct.pack("=H", socket.AF_INET) + addr[2:]  # sa_family is host order, the port network order
        libc.connect(fd, ctypes.c_char_p(addr), len(addr))
        libc.close(fd)
    """)
    log = tmp_path / "trace.log"
    subprocess.run([*TRACE, "-o", str(log), sys.executable, "-c", code], check=True, timeout=60)
    assert any("connect(" in line and "127.0.0.1" in line for line in inet_calls(log)), log.read_text()


@pytest.mark.model
@pytest.mark.parametrize("engine", ["hybrid", "rapidocr"])
def test_the_ocr_engines_make_no_network_calls(tmp_path: Path, engine: str) -> None:
    """Each engine used for longer than onnxruntime's telemetry upload interval (RapidOCR loads onnxruntime,
    whose native client deskscribe.models.ocr_engine turns off); the hybrid loads the same detector."""
    code = textwrap.dedent(f"""
        import time
        from PIL import Image
        from deskscribe.models.ocr_engine import OcrEngine
        engine = OcrEngine({engine!r})
        start = time.monotonic()
        while time.monotonic() - start < 12:  # the client uploads every ~5 s while the process lives
            engine.read(Image.new("RGB", (256, 64), "white"))
    """)
    log = tmp_path / "trace.log"
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    subprocess.run([*TRACE, "-o", str(log), sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert inet_calls(log) == []


def _child_pid(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0])


def _review_opens_offscreen(tmp_path: Path, home: Path) -> list[str]:
    """`deskscribe review` on the offscreen platform: wait until its window is shown, then SIGTERM it."""
    log = tmp_path / "review.trace"
    cmd = [*TRACE, "-o", str(log), sys.executable, "-m", "deskscribe", "review"]
    proc = subprocess.Popen(cmd, env=_env(home, QT_QPA_PLATFORM="offscreen"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    review_log = home / "logs" / "review.log"
    try:
        wait_for(lambda: review_log.exists() and "review window shown" in review_log.read_text(), timeout=120,
                 what="the review window")
        os.kill(_child_pid(proc.pid), signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        _kill_group(proc)
    return inet_calls(log)


@pytest.mark.model
@pytest.mark.gui
@pytest.mark.timeout(1800)  # four commands, each loading its stage (describe: OCR + SmolLM2) on 2 shared cores
def test_import_describe_review_export_open_no_internet_socket(tmp_path: Path, screenagent: Path) -> None:
    home = tmp_path / "home"
    found: dict[str, list[str]] = {}
    folder = tmp_path / "session"  # two real frames: OCR (full, then change-only) and SmolLM2 both run
    folder.mkdir()
    for name in ("00.jpg", "01.jpg"):
        shutil.copy(screenagent / "5fe99045cd214b898c99fce84ff4906b" / name, folder / name)
    proc = traced(["import", str(folder)], tmp_path / "import.trace", home)
    assert proc.returncode == 0, proc.stderr
    found["import"] = inet_calls(tmp_path / "import.trace")
    proc = traced(["describe", "--progress", "none"], tmp_path / "describe.trace", home, timeout=1000)
    assert proc.returncode == 0, proc.stderr
    assert "described 1 of 1 episodes" in proc.stdout
    found["describe"] = inet_calls(tmp_path / "describe.trace")
    found["review"] = _review_opens_offscreen(tmp_path, home)
    proc = traced(["export", "jsonl", str(tmp_path / "out"), "--include-unreviewed", "--progress", "none"],
                  tmp_path / "export.trace", home)
    assert proc.returncode == 0, proc.stderr
    assert any((tmp_path / "out").rglob("*.jsonl"))
    found["export"] = inet_calls(tmp_path / "export.trace")
    assert found == {"import": [], "describe": [], "review": [], "export": []}


@pytest.mark.x11
def test_capture_opens_no_internet_socket(tmp_path: Path, xdisplay: str) -> None:
    home = tmp_path / "home"
    proc = traced(["capture", "--duration", "3"], tmp_path / "capture.trace", home, timeout=120, DISPLAY=xdisplay)
    assert proc.returncode == 0, proc.stderr
    assert inet_calls(tmp_path / "capture.trace") == []
    assert any(line for line in (tmp_path / "capture.trace").read_text().splitlines() if "AF_UNIX" in line)
