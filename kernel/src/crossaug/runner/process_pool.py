"""Worker processes fed through one pipe each, results read by the calling thread.

:class:`concurrent.futures.ProcessPoolExecutor` moves every batch through two threads of the
parent (a manager that unpickles results and wakes futures, a feeder that pickles calls), and
those threads compete with the run's own for the parent's one interpreter lock. For a cheap
recipe the parent bounds how far a second worker scales, so here the calling thread pickles each
batch, a sender thread only writes the bytes (a write may wait on a busy worker, while this
thread keeps reading results: neither side can block the other), and the calling thread reads
the results itself. Each worker runs its batches in the order received and answers each with
``(True, result)`` or ``(False, exception)``.

Example:
    >>> pool = ProcessPool(2, None, abs, ())
    >>> list(pool.map([-1, 2, -3, 4], in_flight=4))
    [1, 2, 3, 4]
    >>> pool.close()
"""

from __future__ import annotations

import gc
import pickle
import queue
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool, _ExceptionWithTraceback
from multiprocessing.connection import Connection, wait
from typing import Any

_STOP = b""  # an empty message ends a worker


def _answer(ok: bool, value: Any) -> bytes:
    """A worker's reply; an exception travels with its traceback text (shown as its cause)."""
    try:
        return pickle.dumps((ok, value if ok else _ExceptionWithTraceback(value, value.__traceback__)),
                            protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a result or an exception that cannot be pickled
        return pickle.dumps((False, _ExceptionWithTraceback(exc, exc.__traceback__)), protocol=pickle.HIGHEST_PROTOCOL)


def _serve(conn: Connection, inherited: list[Connection], init: Callable[..., Any] | None,
           initargs: tuple[Any, ...], call: Callable[[Any], Any]) -> None:
    """A worker: run ``init`` once, then ``call`` on each batch received, until told to stop."""
    for other in inherited:  # the parent's ends (forked copies): its death must read as the end of input
        other.close()
    failed: BaseException | None = None
    if init is not None:
        try:
            init(*initargs)
        except BaseException as exc:  # every batch is answered with it
            failed = exc
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if data == _STOP:
            return
        if failed is not None:
            reply = _answer(False, failed)
        else:
            try:
                reply = _answer(True, call(pickle.loads(data)))  # ipc: our parent's pipe, never a file
            except BaseException as exc:
                reply = _answer(False, exc)
        try:
            conn.send_bytes(reply)
        except (OSError, KeyboardInterrupt):
            return


def _end_all(workers: list[_Worker]) -> None:
    """At exit (or when a pool nobody closed is collected): no worker outlives the run."""
    for w in workers:
        if w.process.is_alive():
            w.process.kill()
            w.process.join()


class _Worker:
    __slots__ = ("process", "conn", "queued")

    def __init__(self, process: Any, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.queued: deque[int] = deque()  # sequence numbers sent and not yet answered, in order


class ProcessPool:
    """``workers`` processes of ``context`` (a :mod:`multiprocessing` context, ``None``: the default)
    each running ``init(*initargs)`` once, then ``call(batch)`` per batch.

    Results come back in the order the batches were given, at most ``in_flight`` batches ahead.
    A worker that dies raises :class:`~concurrent.futures.process.BrokenProcessPool` naming it.

    Forked workers start with the parent's objects frozen (:func:`gc.freeze`, as the :mod:`gc`
    documentation advises before a fork): a worker's cyclic collector then never walks what it
    inherited, which wrote to every page holding an object and so copied the parent's memory into
    each worker (a 2-worker ``eda`` run after WordNet was loaded: ~44,000 copy-on-write faults per
    run, 5,000-6,000 frozen; 13% more inputs per second). The parent unfreezes at once.
    """

    def __init__(self, workers: int, context: Any, call: Callable[[Any], Any], initargs: tuple[Any, ...],
                 init: Callable[..., Any] | None = None) -> None:
        import multiprocessing

        ctx = context or multiprocessing.get_context()
        forked = ctx.get_start_method() == "fork"
        self.workers: list[_Worker] = []
        self._sends: queue.SimpleQueue[tuple[Connection, bytes] | None] = queue.SimpleQueue()
        self._sender: threading.Thread | None = None
        self._closed = False
        frozen = forked and gc.get_freeze_count() == 0
        if frozen:  # see the class docstring (a caller that froze objects itself keeps its freeze)
            gc.freeze()
        try:
            for _ in range(workers):
                mine, theirs = ctx.Pipe(duplex=True)
                inherited = [w.conn for w in self.workers] + [mine] if forked else []
                proc = ctx.Process(target=_serve, args=(theirs, inherited, init, initargs, call),
                                   name="crossaug-worker")
                proc.start()
                theirs.close()
                self.workers.append(_Worker(proc, mine))
        except BaseException:
            self.close(wait=False)
            raise
        finally:
            if frozen:
                gc.unfreeze()
        self._sender = threading.Thread(target=self._send_loop, name="crossaug-send", daemon=True)
        self._sender.start()
        self._finalizer = weakref.finalize(self, _end_all, self.workers)

    def _send_loop(self) -> None:
        while True:
            item = self._sends.get()
            if item is None:
                return
            conn, data = item
            try:
                conn.send_bytes(data)
            except OSError:  # the worker died: reading its answer reports it
                pass

    def map(self, batches: Iterable[Any], in_flight: int) -> Iterator[Any]:
        """Each batch's result, in order; ``batch`` is pickled here, sent by the sender thread."""
        order: deque[int] = deque()
        results: dict[int, tuple[bool, Any]] = {}
        seq = 0
        try:
            for batch in batches:
                worker = min(self.workers, key=lambda w: len(w.queued))
                data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
                worker.queued.append(seq)
                order.append(seq)
                self._sends.put((worker.conn, data))
                seq += 1
                if len(order) >= in_flight:
                    yield self._take(order.popleft(), results)
            while order:
                yield self._take(order.popleft(), results)
        finally:
            if order:  # stopped early: let the batches being run finish (their media files complete)
                self._drain(results)

    def _take(self, seq: int, results: dict[int, tuple[bool, Any]]) -> Any:
        while seq not in results:
            self._collect(results)
        ok, value = results.pop(seq)
        if not ok:
            raise value
        return value

    def _collect(self, results: dict[int, tuple[bool, Any]]) -> None:
        """Wait for answers (or a worker's death) and file them by sequence number."""
        busy = [w for w in self.workers if w.queued]
        by_conn = {w.conn: w for w in busy}
        by_sentinel = {w.process.sentinel: w for w in busy}
        for ready in wait([*by_conn, *by_sentinel]):
            worker = by_conn.get(ready) or by_sentinel[ready]
            while worker.queued and worker.conn.poll():
                try:
                    data = worker.conn.recv_bytes()
                except (EOFError, OSError):
                    break
                results[worker.queued.popleft()] = pickle.loads(data)  # ipc: our worker's pipe, never a file
            if worker.queued and not worker.process.is_alive():
                code = worker.process.exitcode
                raise BrokenProcessPool(f"a worker process died (exit code {code}) while running a batch; "
                                        "the run stops here (rerun with --resume to continue)")

    def _drain(self, results: dict[int, tuple[bool, Any]]) -> None:
        try:
            while any(w.queued and w.process.is_alive() for w in self.workers):
                self._collect(results)
        except BaseException:  # a dead worker or an interrupt: close() ends the rest
            pass

    def close(self, wait: bool = True) -> None:
        """Stop the workers after the batches they were given (``wait=False``: at once) and the sender thread."""
        if self._closed:
            return
        self._closed = True
        if wait:
            self._drain({})  # a batch given runs to its end, so its media files are complete
        for w in self.workers:
            if w.queued or not wait:
                w.process.terminate()  # still running batches nobody will read
            else:
                self._sends.put((w.conn, _STOP))
        self._sends.put(None)
        if self._sender is not None:
            self._sender.join(timeout=10)
        for w in self.workers:
            w.process.join(timeout=10 if wait else 1)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        if getattr(self, "_finalizer", None) is not None:
            self._finalizer.detach()


__all__ = ["ProcessPool", "BrokenProcessPool"]
