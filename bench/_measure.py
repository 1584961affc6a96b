"""Helpers shared by the benchmark scripts: run a command, time it, sample its process tree's memory."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass


@dataclass
class Run:
    label: str
    seconds: float
    peak_mb: float
    returncode: int
    note: str = ""
    peak_anon_mb: float = 0.0  # the largest anonymous PSS seen (heap, not mapped files)
    cpu_seconds: float = 0.0  # user + system CPU of the process tree (each process's last sample)


def _tree_rss_kb(pid: int) -> int:
    """Summed proportional set size (PSS) of a process tree: shared pages (a forked worker's copy of
    the parent's libraries) are split between the processes that share them instead of counted twice."""
    return _tree_pss_kb(pid)[0]


def _tree_pss_kb(pid: int) -> tuple[int, int]:
    """``(PSS, anonymous PSS)`` of a process tree in kB. The difference is file-backed: libraries and
    mapped files (a search index being merged), pages the kernel can drop without swapping."""
    total, anon, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                    elif line.startswith("Pss_Anon:"):
                        anon += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total, anon


def _tree_cpu(pid: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds (user + system) so far of every process in ``pid``'s tree into ``seen``."""
    tick = os.sysconf("SC_CLK_TCK")
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            seen[p] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue


def run(label: str, cmd: list[str] | str, *, timeout: float = 900, env: dict | None = None, shell: bool = False) -> Run:
    """Run ``cmd``; wall time and the peak summed PSS of its process tree (sampled every 20 ms)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    peak = peak_anon = 0
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_anon
        while not done.is_set():
            total, anon = _tree_pss_kb(proc.pid)
            peak, peak_anon = max(peak, total), max(peak_anon, anon)
            _tree_cpu(proc.pid, cpu)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    note = ""
    try:
        _, err = proc.communicate(timeout=timeout)
        if proc.returncode:
            note = err.decode(errors="replace").strip().splitlines()[-1][:160] if err else ""
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        note = f"killed after {timeout:.0f}s"
    done.set()
    sampler.join()
    return Run(
        label, time.perf_counter() - started, peak / 1024, proc.returncode, note, peak_anon / 1024, sum(cpu.values())
    )


def table(rows: list[Run], baseline: Run | None = None) -> str:
    lines = [f"{'route':58} {'seconds':>9} {'peak MB':>9} {'anon MB':>9} {'vs refresh':>10}  note"]
    for r in rows:
        ratio = f"{r.seconds / baseline.seconds:9.2f}x" if baseline and r.returncode == 0 else "         -"
        status = r.note or ("" if r.returncode == 0 else f"exit {r.returncode}")
        lines.append(f"{r.label:58} {r.seconds:9.2f} {r.peak_mb:9.0f} {r.peak_anon_mb:9.0f} {ratio:>10}  {status}")
    return "\n".join(lines)
