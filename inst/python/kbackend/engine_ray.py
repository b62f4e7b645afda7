"""Reaching a Ray runtime's workers: one task on every alive node.

Ray gives no way to run a function in each of its worker processes: every
node's raylet starts task workers on demand, from the node's environment plus
the job's runtime environment, and keeps a changing pool of them.  What a
task of this job gets on a node is what a new worker there gets, so the
survey runs one task on each alive node (pinned to it, taking no CPU so that
busy nodes still answer) and says that it reached one worker per node.

For the same reason a setting cannot reach Ray's workers: a value set inside
today's workers would not reach the workers Ray starts tomorrow.  Ray's own
way is the runtime environment's variables, which :meth:`RayReach.cannot_set`
names.  Only used once the caller has imported and initialised Ray.
"""

import json
import sys

from .engines import Reach

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, Optional

NOTE = ("Ray starts task workers on demand, from each node's environment and the job's runtime environment: each "
        "row is what a task of this job gets on one alive node. Actors and tasks started with another runtime_env "
        "are not surveyed.")


class RayReach(Reach):
    """Every alive node of the Ray cluster this process is connected to,
    labelled by node id."""

    complete = False
    note = NOTE

    def __init__(self, timeout: float) -> None:
        self.ray = sys.modules["ray"]
        if not self.ray.is_initialized():
            raise TypeError("Ray is not initialised in this process: call ray.init() first")
        self.timeout = timeout
        self.nodes = {node["NodeID"]: node for node in self.ray.nodes() if node.get("Alive")}

    def _task(self, label: str, function: "Callable[..., Any]", *args: "Any") -> "Any":
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # type: ignore[import-not-found]

        remote = self.ray.remote(num_cpus=0, max_retries=0)(function)
        return remote.options(scheduling_strategy=NodeAffinitySchedulingStrategy(label, soft=False)).remote(*args)

    def run(self, function: "Callable[..., Any]", *args: "Any") -> "Dict[Any, Any]":
        import time

        refs = {label: self._task(label, function, *args) for label in sorted(self.nodes)}
        deadline = time.monotonic() + self.timeout
        answers: "Dict[Any, Any]" = {}
        for label, ref in refs.items():
            try:
                answers[label] = self.ray.get(ref, timeout=max(deadline - time.monotonic(), 0.001))
            except Exception as exc:  # noqa: BLE001 - the node's failure is its answer
                answers[label] = exc
                try:
                    self.ray.cancel(ref, force=True)  # a task still waiting must not run later
                except Exception:  # noqa: BLE001 - it may have ended already; nothing to cancel
                    pass
        return answers

    def run_on(self, label: "Any", function: "Callable[..., Any]", *args: "Any") -> "Any":
        return self.ray.get(self._task(label, function, *args), timeout=self.timeout)

    def describe(self, label: "Any") -> str:
        return "node {} ({})".format(label, self.nodes[label].get("NodeManagerAddress"))

    def cannot_set(self, name: str) -> "Optional[str]":
        return ("Ray starts worker processes on demand, from each node's environment and the job's runtime "
                "environment, so a value set inside today's workers would not reach tomorrow's. Give the job the "
                "variable instead: ray.init(runtime_env={{\"env_vars\": {{\"KERAS_BACKEND\": {}}}}}) (or the "
                "runtime_env of a task's or an actor's .options()), then check with "
                "kbackend.backend_survey().".format(json.dumps(name)))
