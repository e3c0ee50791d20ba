"""The worker starts one node watch per process, however many worker threads ask."""

from __future__ import annotations

import threading

from diemcau.media import tasks, watch


def test_the_worker_starts_one_watch_per_process(monkeypatch):
    started = []
    running = threading.Event()

    def run(self, stop: threading.Event) -> None:  # stands in for the loop: waits, no rounds
        started.append(self)
        running.set()
        stop.wait()

    monkeypatch.setattr(watch.NodeWatch, "run", run)
    monkeypatch.setattr(watch, "_thread", None)
    tasks.watch_nodes_at_worker_start()  # each of the worker's threads calls its startup
    first = watch._thread
    tasks.watch_nodes_at_worker_start()
    assert first is not None and first.is_alive() and first.daemon
    assert watch._thread is first and first.name == "diemcau-node-watch"
    assert running.wait(10)
    assert len(started) == 1
