"""``motifs.network-features`` and ``motifs.pca-lda``: network motif maps and their group classification."""

from __future__ import annotations

import warnings

import numpy as np

from neurorep import Analyzer, Tags
from neurorep.builtin.encoding import _accuracy_inference, _canonical, _label_columns, _stratified_folds
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, Result

from .core import FEATURES, correlation_network, motif_features, pca_lda_pipeline, phase_randomize

CITATION = ("Dey S, Rao AR, Shah M (2012). Exploiting the brain's network structure in identifying ADHD subjects. "
            "Frontiers in Systems Neuroscience 6:75. doi:10.3389/fnsys.2012.00075")


def _check_int(owner: str, name: str, v, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidInputError(f"{owner}: {name!r} must be an integer >= {lo}, got {v!r}.")


def check_network_params(owner: str, threshold, density, features) -> None:
    """Shared validation of the network-construction parameters (analyzers, dataset, source)."""
    if threshold is not None and (isinstance(threshold, bool) or not -1.0 <= float(threshold) < 1.0):
        raise InvalidInputError(f"{owner}: 'threshold' must be a correlation in [-1, 1) or None, got {threshold!r}.")
    if threshold is None and (density is None or isinstance(density, bool) or not 0.0 < float(density) <= 1.0):
        raise InvalidInputError(f"{owner}: 'density' must be in (0, 1] (the share of pairs linked) when no "
                                f"threshold is given, got {density!r}.")
    bad = [f for f in features if f not in FEATURES]
    if not features or bad:
        raise InvalidInputError(f"{owner}: 'features' must be a non-empty list of {list(FEATURES)}, got "
                                f"{list(features)!r}.")


class NetworkFeatures(Analyzer):
    """Per-unit network motif maps of one time series (timepoints x voxels, ROIs or model units).

    ``x`` holds a time series stimuli-first: one row per timepoint (volume), one column per unit
    (voxel, ROI), as ``dataset.nitime-fmri``'s ``roi-timeseries`` or a masked BOLD run. The units
    are linked where their Pearson correlation passes ``threshold`` (or the ``density`` strongest
    pairs), and every unit gets its degree, 3-cycle and 4-cycle participation and clustering.

    One row per feature: ``score`` is the feature's mean over units, ``extra["map"]`` the per-unit
    values (in ``x``'s column order; ``extra["units"]`` names them from the channel descriptor
    ``unit_descriptor`` when present). A last row ``transitivity`` (3 x triangles / connected
    triples) is tested against ``n_surrogates`` phase-randomised surrogates (each unit keeps its power
    spectrum, the units become independent): ``p_value`` is the share of surrogate networks at
    least as transitive, ``extra["null_mean"]`` their mean.

    Parameters
    ----------
    threshold : float, optional
        Correlation above which two units are linked; overrides ``density``.
    density : float, default=0.1
        Share of unit pairs linked (the strongest correlations), when ``threshold`` is None.
    absolute : bool, default=False
        Link by ``|r|`` (anti-correlations count).
    features : list of str, default=["degree", "cycle3", "cycle4", "clustering"]
    unit_descriptor : str, default="roi"
        Channel descriptor naming the units in ``extra["units"]``.
    n_surrogates : int, default=100
        Phase-randomised surrogates for the transitivity test (0: no test).
    random_state : int, default=0
        Seeds the surrogates.

    References
    ----------
    Dey, Rao & Shah (2012), Frontiers in Systems Neuroscience 6:75.
    """

    id = "motifs.network-features"
    version = "0.1.0"
    citation = CITATION
    n_inputs = 1
    tags = Tags(larger_is_more_similar=None, stochastic=True)

    def __init__(self, threshold: float | None = None, density: float = 0.1, absolute: bool = False,
                 features: list[str] | None = None, unit_descriptor: str = "roi", n_surrogates: int = 100,
                 random_state: int = 0):
        self.threshold = threshold
        self.density = density
        self.absolute = absolute
        self.features = features
        self.unit_descriptor = unit_descriptor
        self.n_surrogates = n_surrogates
        self.random_state = random_state

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        if not isinstance(x, Representation):
            raise InvalidInputError(f"{owner}: expected a time series Representation (timepoints x units), got "
                                    f"{type(x).__name__}.")
        feats = list(self.features) if self.features is not None else list(FEATURES)
        check_network_params(owner, self.threshold, self.density, feats)
        _check_int(owner, "n_surrogates", self.n_surrogates, 0)
        x.check_finite(owner=owner)
        names = None
        if self.unit_descriptor in x.channel_descriptors:
            names = [str(v) for v in np.asarray(x.channel_descriptors[self.unit_descriptor])]
        kw = dict(threshold=self.threshold, density=self.density, absolute=bool(self.absolute), owner=owner,
                  names=names)
        A, _ = correlation_network(x.data, **kw)
        maps = motif_features(A, tuple(dict.fromkeys(feats + ["degree", "cycle3"])), owner=owner)
        n_units = A.shape[0]
        rows = []
        for f in feats:
            extra = {"map": [float(v) for v in maps[f]], "n_edges": int(A.sum() // 2),
                     "density": float(A.sum() / max(n_units * (n_units - 1), 1))}
            if names is not None:
                extra["units"] = names
                extra["top_unit"] = names[int(np.argmax(maps[f]))]
            rows.append(Result(score=float(np.mean(maps[f])), metric=f"{f}_mean", n=n_units, extra=extra))
        trans = _transitivity(maps)
        res = Result(score=trans, metric="transitivity", n=n_units,
                     extra={"triangles": float(maps["cycle3"].sum() / 3.0)})
        if self.n_surrogates > 0:
            # surrogates keep each unit's spectrum, so they take the rows in the order given (time order);
            # the maps and scores above do not depend on the row order
            rng = np.random.default_rng([int(self.random_state), 95])
            null = np.empty(int(self.n_surrogates))
            for i in range(null.size):
                As, _ = correlation_network(phase_randomize(x.data, rng), **kw)
                null[i] = _transitivity(motif_features(As, ("degree", "cycle3"), owner=owner))
            res.p_value = float((1 + np.sum(null >= trans - 1e-12)) / (1 + null.size))
            res.extra.update(null_mean=float(null.mean()), null_sd=float(null.std()),
                             n_surrogates=int(self.n_surrogates))
        rows.append(res)
        return rows

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_surrogates=0), cls(threshold=0.2, features=["cycle3"], n_surrogates=5)]


def _transitivity(maps: dict[str, np.ndarray]) -> float:
    d = maps["degree"]
    triples = float((d * (d - 1.0) / 2.0).sum())
    return float(maps["cycle3"].sum() / triples) if triples > 0 else 0.0


class PCALDA(Analyzer):
    """Group classification of per-voxel feature maps with a discriminative mask and PCA-LDA.

    ``x``: one row per subject, one column per voxel (a motif map such as the ``cycle3`` site of
    ``synthetic.network-groups`` or ``source.motif-maps``); ``y``: the subjects' group labels (one
    column, ``label_column``; ``discretize`` bins a continuous one). In stratified ``n_folds`` cross-validation, the
    mask keeps the ``mask_percentile`` % of voxels with the largest ANOVA F between the groups of
    the training subjects only, PCA reduces them, and LDA classifies the held-out subjects.

    Rows: ``accuracy`` (headline; permutation p-value of the held-out predictions against shuffled
    labels when ``n_permutations`` > 0; ``extra``: ``balanced_accuracy``, ``chance``, ``n_masked``),
    then with ``compare_unmasked`` the same pipeline without the mask (``accuracy_unmasked``), and,
    when ``x`` has the channel descriptor ``region_descriptor``, one ``mask_share.<region>`` row per region:
    the share of the mask (over folds) that falls in that region.

    Parameters
    ----------
    mask_percentile : float, default=10.0
        Percent of voxels the mask keeps (100: no mask).
    n_components : int, default=10
        PCA components (capped at the training subjects minus the number of groups).
    standardize : bool, default=True
        z-score each voxel on the training subjects first.
    n_folds : int, default=5
    discretize : int, default=0
        0: ``y`` holds labels; k >= 2: cut a continuous ``y`` into k quantile bins.
    label_column : int, default=0
        The column of ``y`` holding the group labels.
    compare_unmasked : bool, default=True
    region_descriptor : str, default="region"
    n_permutations : int, default=1000
    random_state : int, default=0
        Seeds the folds and the permutations.

    References
    ----------
    Dey, Rao & Shah (2012), Frontiers in Systems Neuroscience 6:75.
    """

    id = "motifs.pca-lda"
    version = "0.1.0"
    citation = CITATION
    n_inputs = 2
    tags = Tags(larger_is_more_similar=None, stochastic=True)

    def __init__(self, mask_percentile: float = 10.0, n_components: int = 10, standardize: bool = True,
                 n_folds: int = 5, discretize: int = 0, label_column: int = 0, compare_unmasked: bool = True,
                 region_descriptor: str = "region", n_permutations: int = 1000, random_state: int = 0):
        self.mask_percentile = mask_percentile
        self.n_components = n_components
        self.standardize = standardize
        self.n_folds = n_folds
        self.discretize = discretize
        self.label_column = label_column
        self.compare_unmasked = compare_unmasked
        self.region_descriptor = region_descriptor
        self.n_permutations = n_permutations
        self.random_state = random_state

    def _run(self, X, code, folds, percentile: float, n_classes: int):
        n, p = X.shape
        pred = np.empty(n, dtype=int)
        freq = np.zeros(p)
        for tr, te in folds:
            if np.unique(code[tr]).size < 2:
                pred[te] = code[tr][0]
                continue
            n_keep = p if percentile >= 100 else max(1, int(p * percentile / 100))
            pipe = pca_lda_pipeline(percentile, min(int(self.n_components), n_keep), bool(self.standardize),
                                    tr.size, n_classes)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*constant.*")  # F of a voxel constant over subjects
                warnings.filterwarnings("ignore", category=RuntimeWarning)
                pipe.fit(X[tr], code[tr])
            pred[te] = pipe.predict(X[te])
            sel = [s for s in pipe.named_steps.values() if hasattr(s, "get_support")]
            freq += sel[0].get_support() if sel else 1.0
        return pred, freq / len(folds)

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        _check_int(owner, "n_folds", self.n_folds, 2)
        _check_int(owner, "n_components", self.n_components, 1)
        _check_int(owner, "n_permutations", self.n_permutations, 0)
        if isinstance(self.mask_percentile, bool) or not 0 < float(self.mask_percentile) <= 100:
            raise InvalidInputError(f"{owner}: 'mask_percentile' must be in (0, 100] (100: no mask), got "
                                    f"{self.mask_percentile!r}.")
        X, Y, _, _, xr, _ = _canonical(x, y, owner, "reorder", "float64")
        _check_int(owner, "label_column", self.label_column, 0)
        if self.label_column >= Y.shape[1]:
            raise InvalidInputError(f"{owner}: 'label_column' is {self.label_column} but y has {Y.shape[1]} "
                                    "column(s) of labels; give the index of the group-label column.")
        lab = _label_columns(Y[:, [self.label_column]], owner, self.discretize)[0]
        classes, code = np.unique(lab, return_inverse=True)
        if np.bincount(code).min() < 2:
            raise InvalidInputError(f"{owner}: every group needs at least 2 subjects; got group sizes "
                                    f"{dict(zip(classes.tolist(), np.bincount(code).tolist()))}.")
        folds = _stratified_folds(code, min(int(self.n_folds), int(np.bincount(code).min())), self.random_state,
                                  owner)
        pred, freq = self._run(X, code, folds, float(self.mask_percentile), classes.size)
        acc = float(np.mean(pred == code))
        bal = float(np.mean([np.mean(pred[code == c] == c) for c in range(classes.size)]))
        n_keep = X.shape[1] if self.mask_percentile >= 100 else max(1, int(X.shape[1] * self.mask_percentile / 100))
        res = Result(score=acc, metric="accuracy", n=int(code.size),
                     extra={"balanced_accuracy": bal, "chance": 1.0 / classes.size, "n_masked": int(n_keep),
                            "n_features": int(X.shape[1]), "classes": [str(c) for c in classes],
                            "n_folds": len(folds)})
        _accuracy_inference(res, [pred], [code], int(self.n_permutations), self.random_state)
        rows = [res]
        if self.compare_unmasked and self.mask_percentile < 100:
            pred_u, _ = self._run(X, code, folds, 100.0, classes.size)
            r2 = Result(score=float(np.mean(pred_u == code)), metric="accuracy_unmasked", n=int(code.size),
                        extra={"chance": 1.0 / classes.size})
            _accuracy_inference(r2, [pred_u], [code], int(self.n_permutations), self.random_state)
            rows.append(r2)
        if self.region_descriptor in xr.channel_descriptors:
            regions = np.asarray(xr.channel_descriptors[self.region_descriptor]).astype(str)
            total = float(freq.sum())
            for reg in np.unique(regions):
                s = regions == reg
                share = float(freq[s].sum() / total) if total > 0 else 0.0
                rows.append(Result(score=share, metric=f"mask_share.{reg}", n=int(s.sum()),
                                   extra={"region": str(reg), "region_share_of_voxels": float(s.mean())}))
        return rows

    @classmethod
    def _conformance_instances(cls):
        return [cls(discretize=2, n_folds=2, n_components=3, mask_percentile=50.0, n_permutations=20),
                cls(discretize=2, n_folds=3, n_components=2, mask_percentile=100.0, standardize=False,
                    n_permutations=0)]
