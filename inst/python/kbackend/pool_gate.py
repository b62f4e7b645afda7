"""The handshake that surveys every process of a pool exactly once.

A ``concurrent.futures.ProcessPoolExecutor`` gives no way to run a task in
each of its worker processes: tasks go to whichever worker is free, so two
survey tasks may land on one worker and another worker may get none.  The
survey therefore submits one task per possible worker
(:func:`kbackend.worker_side.gated_row`); each reports its row over a local
socket (127.0.0.1, with a random token) and holds its worker until every
live worker process has reported, so none can run two of them and none is
missed.  Only the surveying parent imports this module.
"""

import os

from .worker_side import gated_row

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

#: An arrival message from a worker larger than this is not one of ours.
_MAX_MESSAGE = 1 << 16


def _live_pids(executor: "Any") -> "Optional[set]":
    """The pids of the pool's worker processes now; None if the pool hides them."""
    processes = getattr(executor, "_processes", None)
    if not isinstance(processes, dict):
        return None
    for _ in range(100):  # the pool's manager thread may be changing it
        try:
            return set(processes.keys())
        except RuntimeError:
            continue
    return None


def collect_rows(executor: "Any", timeout: float) -> "List[Dict[str, Any]]":
    """Survey a process pool: one report from each live worker process, held
    in its worker (see :func:`gated_row`) until all have reported.  Returns
    the rows, ``worker`` numbered in (host, pid) order."""
    import selectors
    import socket
    import time

    tasks = executor._max_workers
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    wake_read, wake_write = socket.socketpair()
    wake_write.setblocking(False)
    selector = selectors.DefaultSelector()
    admitted: "Dict[Tuple[str, int], Tuple[Any, Dict[str, Any]]]" = {}
    released: "List[bool]" = []
    done = False

    def poke(_future: "Any") -> None:
        # A task that ends while the survey is still collecting has failed.
        if not released:
            try:
                wake_write.send(b"x")
            except OSError:
                pass

    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(tasks + 8)
        address = listener.getsockname()[:2]
        token = os.urandom(16).hex()
        selector.register(listener, selectors.EVENT_READ)
        selector.register(wake_read, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        futures = [executor.submit(gated_row, address, token, timeout) for _ in range(tasks)]
        for future in futures:
            future.add_done_callback(poke)
        while True:
            live = _live_pids(executor)
            pids = {pid for (_host, pid) in admitted}
            if admitted and (live <= pids if live is not None else len(pids) >= tasks):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    "backend_survey: {} of {} worker processes reported within {} s; is the pool busy with "
                    "other work?".format(len(pids), len(live) if live is not None else tasks, timeout))
            for key, _events in selector.select(remaining):
                if key.fileobj is listener:
                    _admit(listener, token, deadline, admitted)
                else:
                    wake_read.recv(64)
                    _raise_early_end(futures)
        done = True
    finally:
        released.append(True)
        listener.close()  # first, so that a late task finds nobody listening
        for connection, _row in admitted.values():
            try:
                if done:
                    connection.sendall(b"1")
            except OSError:
                pass
            connection.close()
        selector.close()
        wake_read.close()
        wake_write.close()
    rows = [admitted[key][1] for key in sorted(admitted, key=lambda k: (str(k[0]), k[1]))]
    for index, row in enumerate(rows):
        row["worker"] = index
    return rows


def _admit(listener: "Any", token: str, deadline: float,
           admitted: "Dict[Tuple[str, int], Tuple[Any, Dict[str, Any]]]") -> None:
    """Accept one worker's report; anything not carrying the token is dropped."""
    import json
    import time

    connection, _peer = listener.accept()
    data = b""
    try:
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        while not data.endswith(b"\n") and len(data) < _MAX_MESSAGE:
            chunk = connection.recv(4096)
            if not chunk:
                break
            data += chunk
        message = json.loads(data.decode("utf-8"))
        if not isinstance(message, dict) or message.get("token") != token:
            raise ValueError("not a survey report")
        row = message["row"]
        admitted[(row["host"], row["pid"])] = (connection, row)
    except (OSError, ValueError, KeyError, TypeError):
        connection.close()


def _raise_early_end(futures: "List[Any]") -> None:
    """A survey task finished before the survey released it: say why."""
    for future in futures:
        if future.done():
            exc = None if future.cancelled() else future.exception()
            if exc is not None:
                raise exc
            raise RuntimeError("backend_survey: a worker process could not report to this process "
                               "over 127.0.0.1 (a firewall?)")

