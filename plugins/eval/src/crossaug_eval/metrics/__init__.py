"""Quality metrics of augmented data: pure functions plus :func:`quality_metrics` over a run.

Example:
    >>> from crossaug_eval.metrics import affinity, diversity
    >>> affinity(0.45, 0.9), diversity(1.2, 0.4)
    (0.5, 2.9999999999999996)
"""

from .affinity import affinity, diversity
from .dispersion import mean_distance_to, mean_pairwise_distance, pixel_features
from .filters import filter_ratios
from .preservation import accuracy, label_preservation_rate
from .similarity import ClipScorer, clip_score, cosine_similarity, text_similarity

__all__ = ["affinity", "diversity", "mean_pairwise_distance", "mean_distance_to", "pixel_features",
           "filter_ratios", "accuracy", "label_preservation_rate", "cosine_similarity", "clip_score",
           "text_similarity", "ClipScorer", "quality_metrics"]


def __getattr__(name: str):  # quality_metrics imports the runner; keep this module light
    if name == "quality_metrics":
        from .run import quality_metrics

        return quality_metrics
    raise AttributeError(name)
