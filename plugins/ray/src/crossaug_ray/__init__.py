"""crossaug-ray: run recipes on a Ray cluster (``crossaug run ... --executor ray``).

The runner finds :class:`~crossaug_ray.executor.RayExecutor` through the
``crossaug.executors`` entry point ``ray``; nothing here is imported until a run asks for it.
"""

from .executor import INSTALL_HINT, RayExecutor, import_ray

__all__ = ["RayExecutor", "import_ray", "INSTALL_HINT"]
