"""Running recipes over datasets: batching, executors, manifest, resume, summary."""

from .executor import BatchTask, Executor, LocalExecutor, make_executor
from .manifest import Manifest, read_manifest
from .run import RunResult, run

__all__ = ["run", "RunResult", "Executor", "LocalExecutor", "BatchTask", "make_executor",
           "Manifest", "read_manifest"]
