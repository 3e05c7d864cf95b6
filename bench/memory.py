"""Peak resident memory of processes while a scenario runs, sampled from /proc/<pid>/status.

VmRSS is sampled (not VmHWM, the all-time peak) so that the peak belongs to the sampled
window even when the processes served earlier scenarios."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

PERIOD_S = 0.1


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


class RssSampler:
    """``with RssSampler({"server": pid}) as mem: ...`` then ``mem.peaks`` (name -> MB)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(PERIOD_S):
            self._sample()

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            value = rss_mb(pid)
            if value is not None and value > self.peaks.get(name, 0.0):
                self.peaks[name] = value


def merge_peaks(*samples: dict[str, float]) -> dict[str, float]:
    """The highest peak of each process over several runs."""
    merged: dict[str, float] = {}
    for peaks in samples:
        for name, value in peaks.items():
            merged[name] = max(value, merged.get(name, 0.0))
    return merged


def describe(peaks: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.0f} MB" for name, value in peaks.items())
