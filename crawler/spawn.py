"""A ``spawn`` multiprocessing context whose children do not re-run the parent's ``__main__``.

Why: the crawl starts fresh processes after its threads exist (a page worker in place of a lost
one, ``crawler/handoff.py``; a page reader in place of a killed one, ``crawler/reader.py``), and
only ``spawn`` (``fork`` + ``exec``) is safe then. Plain ``spawn`` makes each child import the
parent's main module first (as ``__mp_main__``): a script that drives a crawl or a hand-off
without an ``if __name__ == "__main__":`` guard would run again in every child, and start
children of its own. Our children's entry points (``crawler.handoff._worker_main``,
``crawler.reader._reader_main``) and everything they are given are importable by name, so the
child needs nothing from ``__main__``: this context leaves it out of what the child is told to
prepare (``init_main_from_path`` / ``init_main_from_name``), and the child starts with its own
bare ``__main__``. A function given as a target must therefore live in an importable module.

How: multiprocessing builds that preparation data in ``spawn.get_preparation_data``; our
``Popen`` wraps that one function while it launches a child (under a lock, the only moment the
wrapper is in place), and lets the standard launch do everything else.
"""

from __future__ import annotations

import threading
from multiprocessing import context, popen_spawn_posix, spawn
from pathlib import Path

_MAIN_KEYS = ("init_main_from_path", "init_main_from_name")
_launching = threading.Lock()


class _Popen(popen_spawn_posix.Popen):
    def _launch(self, process_obj):
        real = spawn.get_preparation_data

        def without_main(name):
            data = real(name)
            for key in _MAIN_KEYS:
                data.pop(key, None)
            return data

        with _launching:
            spawn.get_preparation_data = without_main
            try:
                super()._launch(process_obj)
            finally:
                spawn.get_preparation_data = real


class _Process(context.SpawnProcess):
    _start_method = "spawn"

    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class _Context(context.SpawnContext):
    Process = _Process


_CONTEXT = _Context()


def spawn_context() -> context.SpawnContext:
    """The ``spawn`` context to start crawl helpers with (``get_start_method()`` is ``"spawn"``)."""
    return _CONTEXT


def stopped(pid: int) -> bool:
    """Whether a process is stopped by a signal or a tracer (Linux ``/proc``; False elsewhere): a
    helper that is stopped is not hung, so its time stopped is not held against a page."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] in ("T", "t")
