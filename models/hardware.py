"""What this machine has for local models: CPU cores, RAM, and the GPUs llama.cpp can offload to.

:func:`detect` reads llama.cpp's own device list (ggml's backend registry, through the loaded library: the
Python binding has no wrapper for it) and, when that shows no GPU, ``nvidia-smi`` if it is installed (a GPU
that a CPU-only build of llama-cpp-python cannot use is still worth naming). The result is a small
:class:`Hardware` record; the recommendation (models/recommend.py) is a pure function of it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

# enum ggml_backend_dev_type (ggml-backend.h): CPU, GPU, IGPU (integrated), ACCEL
_GPU_TYPES = {1: "gpu", 2: "igpu"}


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mb: int
    backend: str  # CUDA, Metal, Vulkan, ROCm, SYCL… ("" when only the vendor tool saw it)
    integrated: bool = False  # shares system RAM (Apple silicon, iGPUs)


@dataclass(frozen=True)
class Hardware:
    cores: int
    ram_mb: int
    offload: bool  # this llama-cpp-python build can offload layers to a GPU
    gpus: tuple[Gpu, ...] = ()
    source: str = ""  # where the GPU list came from

    def usable_gpu(self) -> Gpu | None:
        """The largest GPU llama.cpp can offload to (none when this build cannot offload)."""
        usable = [g for g in self.gpus if g.backend] if self.offload else []
        return max(usable, key=lambda g: g.memory_mb, default=None)

    def describe(self) -> str:
        gpus = "; ".join(f"{g.name} {g.memory_mb / 1024:.1f} GB ({g.backend or 'not usable by this build'})"
                         for g in self.gpus) or "none found"
        return (f"{self.cores} CPU cores, {self.ram_mb / 1024:.1f} GB RAM; GPU: {gpus}"
                f" [llama.cpp offload: {'yes' if self.offload else 'no'}; {self.source or 'no GPU source'}]")


def detect() -> Hardware:
    cores = os.cpu_count() or 1
    offload, gpus, ram_mb = _llama_devices()
    source = "llama.cpp device list" if gpus else ""
    if not gpus:
        # an offload-capable build that listed no devices (an older binding) with an NVIDIA GPU: CUDA
        gpus = [Gpu(g.name, g.memory_mb, "CUDA" if offload else "") for g in _nvidia_smi()]
        source = "nvidia-smi" if gpus else "llama.cpp device list (CPU only); nvidia-smi " + (
            "found no GPU" if shutil.which("nvidia-smi") else "not installed")
    return Hardware(cores=cores, ram_mb=ram_mb or _ram_mb(), offload=offload, gpus=tuple(gpus), source=source)


def _llama_devices() -> tuple[bool, list[Gpu], int]:
    """(build can offload, its GPU devices, system RAM from its CPU device) — empty when llama_cpp is absent."""
    try:
        import llama_cpp
        from llama_cpp import llama_cpp as binding
    except (ImportError, OSError) as exc:
        log.info("llama_cpp unavailable for device detection: %s", exc)
        return False, [], 0
    offload = bool(llama_cpp.llama_supports_gpu_offload())
    try:
        lib = binding._lib
        count = lib.ggml_backend_dev_count
        count.restype = ctypes.c_size_t
        get = lib.ggml_backend_dev_get
        get.argtypes, get.restype = [ctypes.c_size_t], ctypes.c_void_p
        name = lib.ggml_backend_dev_name
        desc = lib.ggml_backend_dev_description
        for f in (name, desc):
            f.argtypes, f.restype = [ctypes.c_void_p], ctypes.c_char_p
        kind = lib.ggml_backend_dev_type
        kind.argtypes, kind.restype = [ctypes.c_void_p], ctypes.c_int
        memory = lib.ggml_backend_dev_memory
        memory.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]
        memory.restype = None
    except AttributeError as exc:  # an older or different build: fall back to the vendor tool
        log.info("llama.cpp exposes no device list: %s", exc)
        return offload, [], 0
    gpus, ram_mb = [], 0
    for i in range(int(count())):
        dev = get(i)
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        memory(dev, ctypes.byref(free), ctypes.byref(total))
        t = int(kind(dev))
        if t == 0:
            ram_mb = total.value // 2**20
        elif t in _GPU_TYPES:
            dev_name = (name(dev) or b"").decode(errors="replace")
            gpus.append(Gpu((desc(dev) or b"").decode(errors="replace") or dev_name, total.value // 2**20,
                            backend_of(dev_name), integrated=_GPU_TYPES[t] == "igpu"))
    return offload, gpus, ram_mb


def backend_of(device_name: str) -> str:
    """llama.cpp device names are the backend and an index: CUDA0, Vulkan1, ROCm0, SYCL0, MTL0/Metal."""
    base = re.sub(r"\d+$", "", device_name)
    return {"MTL": "Metal", "HIP": "ROCm"}.get(base, base)


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """``nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`` → GPUs (memory in MiB)."""
    gpus = []
    for line in text.splitlines():
        name, _, mem = line.rpartition(",")
        if name.strip() and mem.strip().isdigit():
            gpus.append(Gpu(name.strip(), int(mem.strip()), ""))
    return gpus


def _nvidia_smi() -> list[Gpu]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("nvidia-smi failed: %s", exc)
        return []
    return parse_nvidia_smi(out.stdout) if out.returncode == 0 else []


def _ram_mb() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20)
    except (ValueError, OSError, AttributeError):
        return 0
