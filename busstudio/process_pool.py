"""Heavy engine calls in a separate process, so the UI thread never waits for the GIL.

A thread is not enough: parts of the generator (scipy.ndimage filters, torch) run long stretches of
C code without releasing the GIL, and the UI thread then stalls for seconds (measured by
benchmarks/bench_app_ui.py). One spawned process is kept for the session, so models and imports load
once. Errors come back as the same engine exception classes.
"""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

from engine.errors import BusError, DataError, InputError, MissingPartError, ModelError

_pool: ProcessPoolExecutor | None = None


def get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, never fork: forking a process that runs Qt threads can deadlock the child
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _portable(exc: BaseException):
    """The exception itself when it survives pickling, else a description to rebuild it."""
    if isinstance(exc, MissingPartError):
        return ("missing", exc.part, exc.issue)
    try:
        pickle.loads(pickle.dumps(exc))
        return ("raise", exc)
    except Exception:
        for base in (ModelError, InputError, DataError, BusError):
            if isinstance(exc, base):
                return ("base", base.__name__, str(exc))
        return ("base", "RuntimeError", f"{type(exc).__name__}: {exc}")


def _call(fn, args, kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except BaseException as exc:
        return ("error", _portable(exc))


def _rebuild(info) -> BaseException:
    kind = info[0]
    if kind == "missing":
        return MissingPartError(info[1], info[2])
    if kind == "raise":
        return info[1]
    classes = {c.__name__: c for c in (ModelError, InputError, DataError, BusError, RuntimeError)}
    return classes[info[1]](info[2])


def _preload() -> bool:
    """In the worker process: import what a generation needs, so the first one starts at once."""
    import contextlib
    import importlib

    for name in ("busstudio.models.generation", "engine.generator.pipeline"):
        with contextlib.suppress(ImportError):  # a missing room is reported when a generation asks
            importlib.import_module(name)
    return True


def warm_up() -> bool:
    """Start the worker process and preload the generator. Call it off the UI thread at app start:
    measured here, the first submit stalls the UI thread for about a second, later ones do not."""
    return bool(run_in_process(_preload))


def run_in_process(fn, *args, **kwargs):
    """Call a module-level function in the session's worker process and return its result."""
    try:
        status, value = get_pool().submit(_call, fn, args, kwargs).result()
    except Exception as exc:  # the process died (killed, out of memory): start a fresh one next time
        shutdown_pool()
        if isinstance(exc, BusError):
            raise
        raise ModelError(
            f"the generation process stopped unexpectedly ({type(exc).__name__}: {exc})"
        ) from exc
    if status == "error":
        raise _rebuild(value)
    return value
