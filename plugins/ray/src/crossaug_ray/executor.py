"""The Ray executor (``--executor ray``): batches run in a pool of Ray actors, on one machine or a cluster.

Each actor receives the task (the recipe, seed and error policy) once when it
starts and keeps it, so a model-backed recipe loads its models once per actor
and then processes batch after batch. Actors ask for ``num_cpus`` CPUs and
``num_gpus`` GPUs each (by default a GPU share when the cluster has GPUs), so
Ray places them on nodes that have them.

The driver reads the input lazily, keeps at most ``in_flight`` batches
submitted, and yields results **in submission order**: the runner commits them
to its journaled manifest exactly as with the local executor, so a run is
resumable the same way (``--resume``) and, for the same seed and input, the
manifest is byte-identical to the local executor's. When an actor dies (node
lost, process killed, out of memory) Ray restarts it and re-runs its pending
batches (``max_restarts``, ``max_task_retries``); nothing is lost, and since a
batch's output depends only on its records and the seed, nothing changes.

Media files are written by the actors into the output directory: on a
multi-node cluster it must be a path every node sees (a shared filesystem).

The runner finds it through the ``crossaug.executors`` entry point ``ray``
(``pip install 'crossaug[ray]'`` installs this package and Ray).

Example:
    >>> ex = RayExecutor(workers=2, address="ray://head:10001", num_gpus=0)
    >>> (ex.workers, ex.address, ex.in_flight)
    (2, 'ray://head:10001', 4)
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from crossaug.errors import ConfigError, CrossaugError, MissingDependency
from crossaug.runner.executor import Executor

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'crossaug[ray]'"


def import_ray() -> Any:
    """Import ray or raise :class:`~crossaug.MissingDependency` with the install command."""
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency(INSTALL_HINT, what="ray (needed by --executor ray)") from exc
    return ray


class _TaskActor:
    """Holds the task for the actor's lifetime and runs it on batches."""

    def __init__(self, task: Callable[[Any], Any]) -> None:
        self.task = task

    def run(self, batch: Any) -> Any:
        return self.task(batch)

    def pid(self) -> int:
        return os.getpid()


class RayExecutor(Executor):
    """Run batches in ``workers`` Ray actors and yield results in order.

    Args:
        workers: number of actors (the runner passes ``--workers``).
        address: Ray cluster address (``auto``, ``ray://host:10001``, ``host:6379``);
            ``None`` uses a running/connected Ray or ``$RAY_ADDRESS``, else starts a
            local Ray on this machine (shut down again at :meth:`close`).
        num_cpus: CPUs reserved per actor.
        num_gpus: GPUs per actor; ``None`` gives each actor an equal share of the
            cluster's GPUs (at most 1) when it has any, else 0.
        in_flight: batches submitted at once (default ``2 * workers``); bounds memory.
        max_restarts: how often Ray restarts a dead actor (``-1``: always).
        max_task_retries: how often a batch whose actor died is re-run.
        init_options: extra keyword arguments for ``ray.init`` (``runtime_env``, ...).
    """

    def __init__(self, workers: int = 2, address: str | None = None, *, num_cpus: float = 1,
                 num_gpus: float | None = None, in_flight: int | None = None, max_restarts: int = -1,
                 max_task_retries: int = 3, init_options: dict[str, Any] | None = None) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be >= 1, got {workers!r}")
        import_ray()  # fail before the run starts when ray is missing
        if num_gpus is not None and num_gpus < 0:
            raise ConfigError(f"num_gpus must be >= 0, got {num_gpus!r}")
        if in_flight is not None and in_flight < 1:
            raise ConfigError(f"in_flight must be >= 1, got {in_flight!r}")
        self.workers = workers
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.in_flight = in_flight or 2 * workers
        self.max_restarts = max_restarts
        self.max_task_retries = max_task_retries
        self.init_options = dict(init_options or {})
        self._actors: list[Any] = []
        self._started_ray = False

    # -- cluster ----------------------------------------------------------------
    def _connect(self, ray: Any) -> None:
        if ray.is_initialized():
            if self.address is not None:
                log.warning("Ray is already initialised in this process; ignoring address %r", self.address)
            return
        options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
        options.update(self.init_options)
        ray.init(address=self.address, **options)
        self._started_ray = True

    def _gpus_per_actor(self, ray: Any) -> float:
        if self.num_gpus is not None:
            return float(self.num_gpus)
        total = float(ray.cluster_resources().get("GPU", 0))
        if total <= 0:
            return 0.0
        return min(1.0, total / self.workers)

    def start(self, task: Callable[[Any], Any]) -> list[Any]:
        """Connect to Ray and start the actors holding ``task`` (done by :meth:`map`)."""
        ray = import_ray()
        self._connect(ray)
        gpus = self._gpus_per_actor(ray)
        actor_cls = ray.remote(_TaskActor).options(
            num_cpus=self.num_cpus, num_gpus=gpus, max_restarts=self.max_restarts,
            max_task_retries=self.max_task_retries)
        # small tasks travel inline with the constructor call; Ray keeps large ones in its
        # object store for as long as the actors live, so restarts can rebuild them
        self._actors = [actor_cls.remote(task) for _ in range(self.workers)]
        log.info("started %d Ray actors (%s CPU, %s GPU each)", self.workers, self.num_cpus, gpus)
        return self._actors

    # -- Executor -----------------------------------------------------------------
    def map(self, task: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]:
        ray = import_ray()
        actors = self.start(task)
        load = [0] * len(actors)            # batches outstanding per actor
        pending: deque[tuple[Any, int, Any]] = deque()  # (ref, actor index, batch)

        def result(ref: Any, index: int, batch: Any) -> Any:
            try:
                value = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the task itself raised: re-raise its error
                cause = exc.as_instanceof_cause()
                raise cause from None
            except ray.exceptions.RayActorError as exc:
                ids = [getattr(r, "id", "?") for r in batch][:5]
                raise CrossaugError(f"a Ray worker died {self.max_task_retries + 1} times running the batch "
                                    f"starting with inputs {ids}: {exc}") from exc
            finally:
                load[index] -= 1
            return value

        try:
            for batch in batches:
                index = min(range(len(actors)), key=lambda i: (load[i], i))
                pending.append((actors[index].run.remote(batch), index, batch))
                load[index] += 1
                if len(pending) >= self.in_flight:
                    yield result(*pending.popleft())
            while pending:
                yield result(*pending.popleft())
        finally:
            for ref, _, _ in pending:
                try:
                    ray.cancel(ref)
                except Exception:  # pragma: no cover - best effort
                    pass
            self.close()

    def close(self) -> None:
        if not self._actors and not self._started_ray:
            return
        try:
            ray = import_ray()
        except MissingDependency:  # pragma: no cover
            return
        for actor in self._actors:
            try:
                ray.kill(actor)
            except Exception:  # pragma: no cover - already gone
                pass
        self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False


__all__ = ["RayExecutor", "import_ray", "INSTALL_HINT"]
