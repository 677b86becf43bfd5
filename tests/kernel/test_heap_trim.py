"""Freed heap memory goes back to the system (glibc's malloc_trim) without the process's help."""

from __future__ import annotations

import subprocess
import sys

from kernel.heap_trim import HeapTrim, glibc_malloc_trim


def test_memory_freed_after_a_peak_goes_back_to_the_system() -> None:
    # In a fresh process: many bytes objects over 512 bytes (malloc's, not pymalloc's) from a
    # thread's arena, most freed; a trim must lower the resident size by most of them.
    code = """
import threading
from kernel.heap_trim import HeapTrim
def rss():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])
keep = []
def churn():
    blobs = [bytes(2048) + bytes([i % 256]) for i in range(100_000)]
    keep.extend(blobs[::1000])  # a few survivors scattered through the heap
t = threading.Thread(target=churn); t.start(); t.join()
before = rss()
assert HeapTrim().trim()
after = rss()
print(before, after)
assert before - after > 100_000, (before, after)  # KiB: most of the ~200 MB peak
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_thread_trims_on_its_interval_and_stops() -> None:
    heap = HeapTrim(interval_s=0.01)
    assert glibc_malloc_trim() is not None and heap.available
    heap.start()
    thread = heap._thread
    assert thread is not None and thread.daemon and thread.name == "loregate-heap-trim"
    heap.stop()
    assert not thread.is_alive() and heap._thread is None
