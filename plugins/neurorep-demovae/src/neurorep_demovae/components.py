"""The source, transform and analyzer of the DemoVAE plugin (numpy at import; torch on first fit)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Source, Tags, Transform
from neurorep.errors import InvalidInputError
from neurorep.types import StimulusSet

from ._meta import CITATION, DEMOGRAPHIC_ROLE, EDGE_ROLE
from .estimator import DemoVAE
from .simulate import AGE_MEAN, AGE_SD, planted_fc_cohort

__all__ = ["PlantedCohortSource", "Deconfound", "DemographicLeakage", "split_demographics"]


def split_demographics(x: Representation, n_demographics: int, owner: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(features, demographics, demographic names)`` of a representation.

    The demographic columns are those whose ``channel_descriptors["role"]`` is ``"demographic"``; without
    that descriptor, the last ``n_demographics`` columns.
    """
    data = np.asarray(x.data, dtype=float)
    role = x.channel_descriptors.get("role")
    if role is not None:
        is_demo = np.asarray(role).astype(str) == DEMOGRAPHIC_ROLE
    else:
        k = int(n_demographics)
        if not (1 <= k < data.shape[1]):
            raise InvalidInputError(f"{owner}: n_demographics must be between 1 and n_features - 1 = "
                                    f"{data.shape[1] - 1}, got {n_demographics!r} (or give the representation a "
                                    "channel_descriptors['role'] marking the 'demographic' columns).")
        is_demo = np.zeros(data.shape[1], bool)
        is_demo[-k:] = True
    if is_demo.all() or not is_demo.any():
        raise InvalidInputError(f"{owner}: representation {x.name!r} must hold both FC columns and demographic "
                                f"columns; it has {int(is_demo.sum())} demographic column(s) of {data.shape[1]}. "
                                "Use a site such as 'fc+demographics' of demovae.planted-cohort.")
    names = x.channel_descriptors.get("name")
    demo_names = ([str(v) for v in np.asarray(names)[is_demo]] if names is not None
                  else [f"demographic-{i}" for i in range(int(is_demo.sum()))])
    return data[:, ~is_demo], data[:, is_demo], demo_names


# =========================================================================== source

class PlantedCohortSource(Source):
    """A synthetic FC cohort with planted age and sex effects, and DemoVAE fitted on it.

    Subjects are the rows (ids ``sub-0001`` ...); no stimuli are needed. The ground truth is described in
    :func:`neurorep_demovae.planted_fc_cohort`.

    Sites
    -----
    ``fc``
        Each subject's FC (Fisher z, upper triangle), ``channel_descriptors`` ``role`` = ``"edge"``,
        ``roi_i``, ``roi_j``.
    ``demographics``
        Age (years) and sex (0/1), ``role`` = ``"demographic"``, ``name``.
    ``fc+demographics``
        Both side by side (the input of ``demovae.deconfound`` and ``demovae.leakage``).
    ``latents``
        DemoVAE's confound-free latents of each subject (DemoVAE fitted on the whole cohort).
    ``synthetic-fc``
        One synthetic subject per row, sampled from DemoVAE with that row's real subject's demographics.

    Parameters
    ----------
    n_subjects : int, default=400
    n_rois : int, default=10
    age_effect : float, default=0.25
        Planted change of FC (Fisher z) per SD of age on each age edge.
    sex_effect : float, default=0.25
        Planted sex difference on each sex edge.
    n_timepoints : int or None, default=None
        Observe FC from this many simulated time points per subject (finite-scan noise).
    latent_dim : int, default=4
        DemoVAE latents (sites ``latents`` and ``synthetic-fc``).
    epochs : int, default=40
        DemoVAE training epochs.
    decor_weight : float, default=10.0
        DemoVAE decorrelation weight (0 ablates it).
    random_state : int or None, default=0
        Seed of the subjects and of DemoVAE.
    """

    id = "demovae.planted-cohort"
    version = "0.1.0"
    citation = CITATION
    description = "SYNTHETIC FC cohort with planted age/sex effects; DemoVAE latents and synthetic FC"
    tags = Tags(stochastic=True)
    SITES = ("fc", "demographics", "fc+demographics", "latents", "synthetic-fc")

    def __init__(self, n_subjects: int = 400, n_rois: int = 10, age_effect: float = 0.25, sex_effect: float = 0.25,
                 n_timepoints: int | None = None, latent_dim: int = 4, epochs: int = 40, decor_weight: float = 10.0,
                 random_state: int | None = 0):
        self.n_subjects = n_subjects
        self.n_rois = n_rois
        self.age_effect = age_effect
        self.sex_effect = sex_effect
        self.n_timepoints = n_timepoints
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.decor_weight = decor_weight
        self.random_state = random_state

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(self.SITES)

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return tuple(f"sub-{i + 1:04d}" for i in range(int(self.n_subjects)))

    def cohort(self):
        """The :class:`~neurorep_demovae.PlantedCohort` (data and ground truth)."""
        return planted_fc_cohort(n_subjects=int(self.n_subjects), n_rois=int(self.n_rois),
                                 age_effect=float(self.age_effect), sex_effect=float(self.sex_effect),
                                 n_timepoints=self.n_timepoints, random_state=self.random_state)

    def model(self, cohort=None) -> DemoVAE:
        """DemoVAE fitted on the cohort."""
        c = self.cohort() if cohort is None else cohort
        return DemoVAE(latent_dim=int(self.latent_dim), hidden=64, epochs=int(self.epochs),
                       decor_weight=float(self.decor_weight), random_state=self.random_state).fit(c.fc, c.demographics)

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in self.SITES:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {list(self.SITES)}.")
        c = self.cohort()
        ids = self.stimulus_ids()
        iu = np.triu_indices(c.n_rois, k=1)
        edge_desc = {"role": np.full(iu[0].size, EDGE_ROLE), "roi_i": iu[0], "roi_j": iu[1]}
        demo_desc = {"role": np.full(2, DEMOGRAPHIC_ROLE), "name": np.array(["age", "sex"])}
        space = {"kind": "brain", "modality": "FC (synthetic)", "source": self.id, "site": site,
                 "features": "Fisher-z FC edges (upper triangle, k=1)"}
        if site == "fc":
            data, desc = c.fc, edge_desc
        elif site == "demographics":
            data, desc = c.demographics, demo_desc
        elif site == "fc+demographics":
            data = np.column_stack([c.fc, c.demographics])
            desc = {"role": np.concatenate([edge_desc["role"], demo_desc["role"]]),
                    "name": np.concatenate([np.array([f"edge-{i}-{j}" for i, j in zip(*iu)]), demo_desc["name"]])}
        else:
            est = self.model(c)
            if site == "latents":
                data = est.transform(c.fc)
                desc = {"role": np.full(data.shape[1], "latent")}
            else:
                data, desc = est.sample(len(ids), c.demographics), edge_desc
        return Representation(data=np.asarray(data, dtype=float), stimulus_ids=ids, space=space,
                              channel_descriptors=desc, name=f"{self.id}:{site}")


# =========================================================================== transform

class Deconfound(Transform):
    """Remove demographic confounds from FC with DemoVAE before a comparison.

    Fits :class:`~neurorep_demovae.DemoVAE` on the representation's FC columns with its demographic
    columns (``channel_descriptors["role"] == "demographic"``, else the last ``n_demographics``) and
    returns, per subject, the confound-free latents (``output="latents"``) or the FC decoded from them at
    the cohort's mean demographics (``output="fc"``: every subject as if of average age and sex).

    Parameters
    ----------
    output : {"latents", "fc"}, default="latents"
        What replaces the FC columns.
    latent_dim : int, default=8
    hidden : int, default=64
    epochs : int, default=60
    decor_weight : float, default=10.0
        Weight of the decorrelation term.
    n_demographics : int, default=1
        Trailing demographic columns, used only when the representation has no ``role`` descriptor.
    keep_demographics : bool, default=False
        Append the demographic columns (still marked ``role="demographic"``) to the output, e.g. to measure
        what leaks with ``demovae.leakage``.
    random_state : int or None, default=0
    """

    id = "demovae.deconfound"
    version = "0.1.0"
    citation = CITATION
    description = "DemoVAE confound removal: FC + demographics -> latents (or FC at mean demographics)"
    tags = Tags(stochastic=True)

    def __init__(self, output: Literal["latents", "fc"] = "latents", latent_dim: int = 8, hidden: int = 64,
                 epochs: int = 60, decor_weight: float = 10.0, n_demographics: int = 1,
                 keep_demographics: bool = False, random_state: int | None = 0):
        self.output = output
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.epochs = epochs
        self.decor_weight = decor_weight
        self.n_demographics = n_demographics
        self.keep_demographics = keep_demographics
        self.random_state = random_state

    def transform(self, x: Representation) -> Representation:
        owner = f"Transform {self.id!r}"
        if not isinstance(x, Representation):
            raise InvalidInputError(f"{owner}: expected a neurorep.Representation (subjects x [FC, demographics]), "
                                    f"got {type(x).__name__}.")
        if self.output not in ("latents", "fc"):
            raise InvalidInputError(f"{owner}: 'output' must be one of ['latents', 'fc']; {self.output!r} was provided.")
        x.check_finite(owner)
        fc, demo, names = split_demographics(x, self.n_demographics, owner)
        est = DemoVAE(latent_dim=int(self.latent_dim), hidden=int(self.hidden), epochs=int(self.epochs),
                      decor_weight=float(self.decor_weight), random_state=self.random_state).fit(fc, demo)
        if self.output == "latents":
            out = est.transform(fc)
            role = np.full(out.shape[1], "latent")
        else:
            out = est.reconstruct(fc, demo.mean(0, keepdims=True))
            role = np.full(out.shape[1], EDGE_ROLE)
        desc = {"role": role}
        if self.keep_demographics:
            out = np.column_stack([out, demo])
            desc = {"role": np.concatenate([role, np.full(demo.shape[1], DEMOGRAPHIC_ROLE)]),
                    "name": np.array([f"{self.output}-{i}" for i in range(role.size)] + names)}
        return dataclasses.replace(x, data=out, repeats=None, channel_descriptors=desc,
                                   space={**dict(x.space), "transform": self.id, "output": self.output},
                                   name=f"{x.name}|{self.id}")


# =========================================================================== analyzer

class DemographicLeakage(Analyzer):
    """How much of the demographics a representation still carries: max |Pearson r| between any feature
    and each demographic column (after Orlichenko et al., 2024, who correlate latents with demographics).

    The input holds the features and the demographics side by side (``role`` descriptor, else the last
    ``n_demographics`` columns). Rows: ``max_abs_corr`` over all demographics (headline), then one per
    demographic (``extra["demographic"]``), each with the number of features in ``extra``.

    Parameters
    ----------
    n_demographics : int, default=1
        Trailing demographic columns, used only when the representation has no ``role`` descriptor.
    """

    id = "demovae.leakage"
    version = "0.1.0"
    citation = CITATION
    description = "max |Pearson r| between a representation's features and its demographic columns"
    n_inputs = 1

    def __init__(self, n_demographics: int = 1):
        self.n_demographics = n_demographics

    def analyze(self, x: Representation, y: Representation | None = None) -> list[Result]:
        owner = f"Analyzer {self.id!r}"
        if not isinstance(x, Representation):
            raise InvalidInputError(f"{owner}: expected a neurorep.Representation, got {type(x).__name__}.")
        x.check_finite(owner)
        feats, demo, names = split_demographics(x, self.n_demographics, owner)
        fc = feats - feats.mean(0)
        dc = demo - demo.mean(0)
        fs, ds = np.linalg.norm(fc, axis=0), np.linalg.norm(dc, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (dc.T @ fc) / np.outer(ds, fs)
        r = np.where(np.isfinite(r), r, 0.0)  # a constant column correlates with nothing
        per = np.abs(r).max(axis=1)
        n = x.n_stimuli
        rows = [Result(score=float(per.max()), metric="max_abs_corr", n=n,
                       extra={"n_features": int(feats.shape[1]), "demographics": names})]
        rows += [Result(score=float(v), metric="max_abs_corr", n=n,
                        extra={"demographic": nm, "n_features": int(feats.shape[1])}) for nm, v in zip(names, per)]
        return rows
