"""neurorep-activation-hash-codes: ReLU activation patterns as neural codes (He, Lei, Ji & Tao, 2021).

Components (registered through the ``neurorep`` entry point ``hashcodes``):

* ``transform.activation-code`` (:class:`ActivationCodeTransform`): unit values -> 0/1 activation pattern.
* ``hashcode.determinism`` (:class:`CodeDeterminism`): how the examples occupy the linear regions.
* ``hashcode.categorisation`` (:class:`CodeCategorisation`): K-NN (Hamming), logistic regression and
  K-means on the codes.
* ``source.relu-mlp-digits`` (:class:`ReluMlpDigits`): a seeded ReLU MLP trained on scikit-learn's digits.

Functions: :func:`binary_codes`, :func:`determinism_stats`, :func:`categorisation_scores`,
:func:`cluster_purity`, :func:`hamming_distances`; with torch, :func:`activation_codes` /
:func:`relu_preactivations` (forward pre-hooks on the ReLU modules of any ``nn.Module``),
:func:`train_relu_mlp`; and :func:`phase_chart` / :func:`assign_regimes`.
"""

from __future__ import annotations

from .analyzers import CodeCategorisation, CodeDeterminism
from .core import (
    CITATION,
    binary_codes,
    categorisation_scores,
    cluster_purity,
    code_regions,
    constant_units,
    determinism_stats,
    euclidean_embedding,
    hamming_distances,
    kmeans_scores,
    knn_hamming_predict,
    logistic_predict,
    span_coordinates,
    split_indices,
)
from .phase import REGIMES, assign_regimes, digits_split, phase_chart
from .source import ReluMlpDigits
from .torch_codes import (
    CodeSet,
    activation_codes,
    make_relu_mlp,
    predict_classes,
    relu_modules,
    relu_preactivations,
    train_relu_mlp,
)
from .transform import ActivationCodeTransform

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-activation-hash-codes")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "CITATION", "REGIMES", "ActivationCodeTransform", "CodeCategorisation", "CodeDeterminism", "CodeSet",
    "ReluMlpDigits", "activation_codes", "assign_regimes", "binary_codes", "categorisation_scores",
    "cluster_purity", "code_regions", "constant_units", "determinism_stats", "digits_split", "euclidean_embedding", "hamming_distances",
    "kmeans_scores", "knn_hamming_predict", "logistic_predict", "make_relu_mlp", "phase_chart", "predict_classes",
    "relu_modules", "relu_preactivations", "span_coordinates", "split_indices", "train_relu_mlp", "__version__",
]
