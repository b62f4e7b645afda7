"""The handshake that reaches every process of a pool exactly once.

A process pool gives no way to run a task in each of its worker processes:
tasks go to whichever worker is free, so two tasks may land on one worker
and another worker may get none.  So :class:`PoolSession` submits one task
per possible worker (:func:`kbackend.worker_side.gated_session`); each says
hello over a local socket (127.0.0.1, with a random token) and then holds its
worker, running the parent's calls, until released.  Once every live worker
process has said hello, the parent holds each worker exactly once, and no
other task can run on it in between: a survey asks each for a row, a setting
checks every worker, sets all or none and restores on a late refusal, all
within one hold.  Only the parent imports this module.

What a pool is made of is read from attributes the pools do not document:
the number of workers (``_max_workers`` of ``concurrent.futures`` and loky
executors, ``_processes`` of a ``multiprocessing`` pool) and the live worker
processes (``_processes`` and ``_pool``).  :func:`pool_shape` returns None
when they are missing or of another type, and the caller then falls back to
a survey that says it may be incomplete (:mod:`kbackend.engines`).
"""

import json
import os

from .worker_side import gated_session
from .workers_data import worker_name

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, List, Optional, Set, Tuple

#: A hello from a worker larger than this is not one of ours.
_MAX_MESSAGE = 1 << 16


def pool_shape(pool: "Any") -> "Optional[Tuple[int, Callable[[], Optional[Set[int]]]]]":
    """``(tasks, live_pids)`` for a process pool whose workers can be
    counted: how many tasks reach every worker, and a function returning the
    pids of its live worker processes now.  None when the pool does not
    expose them (another Python release, another pool class)."""
    processes = getattr(pool, "_processes", None)
    size = getattr(pool, "_max_workers", None)
    if isinstance(size, int) and isinstance(processes, dict):  # concurrent.futures, loky
        return size, lambda: _keys(processes)
    workers = getattr(pool, "_pool", None)
    if isinstance(processes, int) and isinstance(workers, list):  # multiprocessing.Pool
        return processes, lambda: _alive(workers)
    return None


def _keys(processes: "Dict[int, Any]") -> "Optional[Set[int]]":
    for _ in range(100):  # the pool's manager thread may be changing it
        try:
            return set(processes.keys())
        except RuntimeError:
            continue
    return None


def _alive(workers: "List[Any]") -> "Optional[Set[int]]":
    # the pool's maintenance thread replaces workers that exited
    return {worker.pid for worker in list(workers) if worker.exitcode is None and worker.pid is not None}


class PoolSession:
    """Every live worker process of a pool, held for the duration of a
    ``with`` block; :meth:`run` calls a worker-side function in each.

    ``submit(function, on_end, *args)`` submits a task to the pool, has it
    call ``on_end()`` when it ends, and returns an object with ``done()``
    and ``error()`` (a task that ends while the session is still collecting
    has failed: see :func:`_raise_early_end`).  ``tasks`` is how many tasks
    reach every worker; ``live_pids()`` the pids of the live workers now
    (None if unknown); see :func:`pool_shape`.
    """

    def __init__(self, submit: "Callable[..., Any]", tasks: int, live_pids: "Callable[[], Optional[Set[int]]]",
                 timeout: float) -> None:
        self.submit, self.tasks, self.live_pids, self.timeout = submit, tasks, live_pids, timeout
        #: worker label -> (connection, reader, host, pid), labels 0.. in (host, pid) order
        self.held: "Dict[int, Tuple[Any, Any, str, int]]" = {}

    def __enter__(self) -> "PoolSession":
        import selectors
        import socket
        import time

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        wake_read, wake_write = socket.socketpair()
        wake_write.setblocking(False)
        selector = selectors.DefaultSelector()
        arrived: "Dict[Tuple[str, int], Any]" = {}
        collecting = [True]

        def poke() -> None:
            # A task that ends while the session is still collecting has failed.
            if collecting:
                try:
                    wake_write.send(b"x")
                except OSError:
                    pass

        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(self.tasks + 8)
            address = listener.getsockname()[:2]
            token = os.urandom(16).hex()
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake_read, selectors.EVENT_READ)
            deadline = time.monotonic() + self.timeout
            handles = [self.submit(gated_session, poke, address, token, self.timeout) for _ in range(self.tasks)]
            while True:
                live = self.live_pids()
                pids = {pid for (_host, pid) in arrived}
                if arrived and (live <= pids if live is not None else len(pids) >= self.tasks):
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    expected = len(live) if live is not None else self.tasks
                    raise TimeoutError(
                        "{} of {} worker processes reported within {} s; is the pool busy with other work, or can "
                        "its workers not import kbackend?".format(len(pids), expected, self.timeout))
                for ready, _events in selector.select(remaining):
                    if ready.fileobj is listener:
                        _admit(listener, token, deadline, arrived)
                    else:
                        wake_read.recv(64)
                        _raise_early_end(handles)
        except BaseException:
            for connection in arrived.values():
                connection.close()
            raise
        finally:
            collecting.clear()
            listener.close()  # first, so that a late (surplus) task finds nobody listening
            selector.close()
            wake_read.close()
            wake_write.close()
        for label, (host, pid) in enumerate(sorted(arrived)):
            connection = arrived[(host, pid)]
            connection.settimeout(self.timeout)  # an answer that takes longer is an error, not a hang
            self.held[label] = (connection, connection.makefile("r", encoding="utf-8"), host, pid)
        return self

    def __exit__(self, *exc_info: "Any") -> None:
        release = (json.dumps({"call": None}) + "\n").encode("utf-8")
        for connection, reader, _host, _pid in self.held.values():
            try:
                connection.sendall(release)
            except OSError:
                pass
            reader.close()
            connection.close()
        self.held.clear()

    def describe(self, label: int) -> str:
        """How a worker is named in messages: its label and its process."""
        _connection, _reader, host, pid = self.held[label]
        return worker_name(label, pid, host)

    def run(self, function: "Any", *args: "Any", only: "Optional[List[int]]" = None) -> "Dict[int, Any]":
        """``function(*args)`` in every held worker (or those in ``only``):
        ``{label: answer}``, an exception as the answer where a worker did
        not answer.  All workers are asked before any answer is read."""
        request = (json.dumps({"call": function.__name__, "args": list(args)}) + "\n").encode("utf-8")
        labels = sorted(self.held) if only is None else only
        answers: "Dict[int, Any]" = {}
        for label in labels:
            try:
                self.held[label][0].sendall(request)
            except OSError as exc:
                answers[label] = exc
        for label in labels:
            if label in answers:
                continue
            try:
                line = self.held[label][1].readline()
                answers[label] = json.loads(line) if line else ConnectionError("the worker closed the session")
            except (OSError, ValueError) as exc:
                answers[label] = exc
        return answers


def _admit(listener: "Any", token: str, deadline: float, arrived: "Dict[Tuple[str, int], Any]") -> None:
    """Accept one worker's hello; anything not carrying the token is dropped."""
    import time

    connection, _peer = listener.accept()
    data = b""
    try:
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        while not data.endswith(b"\n") and len(data) < _MAX_MESSAGE:
            chunk = connection.recv(4096)  # a worker sends nothing after its hello until asked
            if not chunk:
                break
            data += chunk
        hello = json.loads(data.decode("utf-8"))
        if not isinstance(hello, dict) or hello.get("token") != token:
            raise ValueError("not a session hello")
        arrived[(str(hello["host"]), int(hello["pid"]))] = connection
    except (OSError, ValueError, KeyError, TypeError):
        connection.close()


def _raise_early_end(handles: "List[Any]") -> None:
    """A session task finished before the session released it: say why."""
    for handle in handles:
        if handle.done():
            error = handle.error()
            if error is not None:
                raise error
            raise RuntimeError("a worker process could not report to this process over 127.0.0.1 "
                               "(a firewall?)")
