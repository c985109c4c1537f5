"""What the machine running detection is doing: CPU, memory, load, the hub's own memory, and the GPU if any.

Read on demand by ``GET /api/detection/system`` and the dashboard panel (never polled in the background).
``psutil`` gives CPU and memory; NVML (``nvidia-ml-py``, ultralytics' binding) gives the GPUs, and its absence
(no driver, no library, no GPU: this is the common CPU-only case) yields ``gpus: []`` and ``gpu: None``, never
an error. CPU percent is measured between two calls, so the first reading after start-up is primed at import.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

_LOGGER = logging.getLogger(__name__)

try:  # both come with the detection extra (ultralytics needs them); the hub runs without them
    import psutil
except ImportError:  # pragma: no cover - the detection extra installs it
    psutil = None
try:
    import pynvml
except ImportError:  # pragma: no cover - the detection extra installs it
    pynvml = None

__all__ = ["GpuStats", "HostStats", "gpu_stats", "host_stats", "system_stats"]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GpuStats:
    """One NVIDIA GPU as NVML reports it."""

    index: int
    name: str
    memory_total_mb: float
    memory_used_mb: float
    utilization_percent: float | None
    temperature_c: float | None


@dataclass(frozen=True, slots=True)
class HostStats:
    """The machine and the hub process. ``None`` for what this platform cannot tell."""

    cpu_percent: float | None
    cpu_count: int | None
    memory_total_mb: float | None
    memory_used_mb: float | None
    memory_percent: float | None
    load_average: tuple[float, float, float] | None
    process_rss_mb: float | None
    process_cpu_percent: float | None


class _Nvml:
    """NVML initialised once, on first use; unavailable (no library, no driver) is remembered, not retried."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: bool | None = None

    def ready(self) -> bool:
        with self._lock:
            if self._ready is None:
                self._ready = self._init()
            return self._ready

    @staticmethod
    def _init() -> bool:
        if pynvml is None:
            return False
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as error:
            _LOGGER.debug("No NVIDIA GPU statistics: %s", error)
            return False
        return True


_NVML = _Nvml()
_PROCESS = psutil.Process() if psutil is not None else None
if psutil is not None and _PROCESS is not None:  # prime the counters: the next reading covers the time since
    psutil.cpu_percent(interval=None)
    _PROCESS.cpu_percent(interval=None)


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def host_stats() -> HostStats:
    """CPU (percent since the previous call), memory, load average and the hub's resident memory."""
    load: tuple[float, float, float] | None = None
    if hasattr(os, "getloadavg"):
        one, five, fifteen = os.getloadavg()
        load = (round(one, 2), round(five, 2), round(fifteen, 2))
    if psutil is None or _PROCESS is None:  # pragma: no cover - the detection extra installs psutil
        return HostStats(None, os.cpu_count(), None, None, None, load, None, None)
    memory = psutil.virtual_memory()
    return HostStats(
        cpu_percent=_rounded(psutil.cpu_percent(interval=None)),
        cpu_count=psutil.cpu_count(),
        memory_total_mb=_rounded(memory.total / _MIB),
        memory_used_mb=_rounded((memory.total - memory.available) / _MIB),
        memory_percent=_rounded(memory.percent),
        load_average=load,
        process_rss_mb=_rounded(_PROCESS.memory_info().rss / _MIB),
        process_cpu_percent=_rounded(_PROCESS.cpu_percent(interval=None)),
    )


def gpu_stats() -> list[GpuStats]:
    """Every NVIDIA GPU NVML sees; empty without a GPU, a driver or the library. BLOCKING (NVML calls)."""
    if pynvml is None or not _NVML.ready():
        return []
    gpus: list[GpuStats] = []
    try:
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(
                GpuStats(
                    index=index,
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    memory_total_mb=round(memory.total / _MIB, 1),
                    memory_used_mb=round(memory.used / _MIB, 1),
                    utilization_percent=_utilization(handle),
                    temperature_c=_temperature(handle),
                )
            )
    except pynvml.NVMLError as error:  # a GPU fell off the bus, a driver reload: report what we have
        _LOGGER.warning("Reading NVIDIA GPU statistics failed: %s", error)
    return gpus


def _utilization(handle: Any) -> float | None:
    """GPU busy percent; None where the board does not report it (NVML readings some GPUs do not support)."""
    assert pynvml is not None
    try:
        return float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except pynvml.NVMLError:
        return None


def _temperature(handle: Any) -> float | None:
    assert pynvml is not None
    try:
        return float(pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
    except pynvml.NVMLError:
        return None


def system_stats() -> dict[str, Any]:
    """The whole picture as JSON-ready data: ``host``, ``gpus`` and ``gpu`` (the first GPU or None). BLOCKING."""
    gpus = [asdict(gpu) for gpu in gpu_stats()]
    host = asdict(host_stats())
    if host["load_average"] is not None:
        host["load_average"] = list(host["load_average"])
    return {"time": time.time(), "host": host, "gpus": gpus, "gpu": gpus[0] if gpus else None}
