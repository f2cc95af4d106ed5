"""Runs for the report tests: the quick-start recipe, and a hand-built run with every kind of result.

The hand-built run plants what the quick-start's synthetic sources do not produce: stimulus
categories, noise ceilings, confidence intervals, p-values, MNI locations, an atlas ROI,
voxel maps and per-voxel encoding R², so that every built-in section has something to draw.
"""

from __future__ import annotations

import atexit
import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "recipes" / "quickstart.toml"

#: Categories of the hand-built run's 24 stimuli, in stimulus-id order (deliberately interleaved).
RICH_CATEGORIES = np.array(["face", "body", "house", "tool"] * 6)

RICH_RECIPE = """\
[recipe]
name = "rich"
description = "Hand-built run with categories, ceilings, CIs, p-values and brain locations."
seed = 0

[stimuli.toy]
component = "generator.toy"
n = 24

[sources.model]
component = "source.toy-model"
stimuli = "toy"

[sources.brain]
component = "source.toy-brain"
stimuli = "toy"

[sources.voxels]
component = "source.toy-voxels"
stimuli = "toy"

[[analyses]]
name = "rsa-brain"
component = "rsa.correlation"
inputs = ["model", "brain"]

[report]
title = "Rich report fixture"
"""


def run_quickstart(out: Path) -> dict[str, Any]:
    """Run the quick-start recipe into ``out`` (its report is written at the end)."""
    from neurorep.runner import run_recipe

    return run_recipe(QUICKSTART, out, progress=False)


_SHARED: dict[str, Any] = {}


def _shared_dir() -> Path:
    if "dir" not in _SHARED:
        _SHARED["dir"] = Path(tempfile.mkdtemp(prefix="neurorep-report-tests-"))
        atexit.register(shutil.rmtree, _SHARED["dir"], True)
    return _SHARED["dir"]


def shared_quickstart() -> tuple[Path, dict[str, Any]]:
    """The quick-start run and its summary, made once per test session (the report tests only read it)."""
    if "quickstart" not in _SHARED:
        out = _shared_dir() / "quickstart"
        _SHARED["quickstart"] = (out, run_quickstart(out))
    return _SHARED["quickstart"]


def shared_rich() -> tuple[Path, dict[str, Any], Path]:
    """The hand-built run, its planted rows and its report, made once per test session."""
    if "rich" not in _SHARED:
        from neurorep.report import build_report

        out = _shared_dir() / "rich"
        planted = build_rich_run(out)
        _SHARED["rich"] = (out, planted, build_report(out))
    return _SHARED["rich"]


def _row(analysis: str, x: tuple[str, str], y: tuple[str, str] | None, metric: str, score: float, *,
         component: str = "rsa.correlation", ceiling: tuple[float, float] | None = None,
         ci: tuple[float, float] | None = None, p: float | None = None, extra: dict[str, Any] | None = None,
         status: str = "ok", error: str | None = None, key: str = "k") -> dict[str, Any]:
    nan = math.nan
    return {
        "analysis": analysis, "x": f"{x[0]}:{x[1]}", "y": f"{y[0]}:{y[1]}" if y else None, "metric": metric,
        "score": score, "ceiling_lower": ceiling[0] if ceiling else nan,
        "ceiling_upper": ceiling[1] if ceiling else nan,
        "ci_low": ci[0] if ci else nan, "ci_high": ci[1] if ci else nan, "p_value": nan if p is None else p,
        "n": 0 if status == "failed" else 276, "extra": json.dumps(extra or {}, sort_keys=True),
        "component_id": component, "component_version": "1.0.0", "params": "{}", "transforms": "[]",
        "x_source": x[0], "x_site": x[1], "y_source": y[0] if y else None, "y_site": y[1] if y else None,
        "task_key": key, "row": 0, "recipe_hash": "0" * 64, "status": status, "error": error, "duration_s": 0.01,
    }


def _nifti(path: Path, data: np.ndarray, affine: np.ndarray) -> Path:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, affine), str(path))
    return path


def build_rich_run(out: Path, *, with_nifti: bool = True) -> dict[str, Any]:
    """Write a run folder (store, results.parquet, provenance.json) by hand; return what was planted.

    Returns
    -------
    dict
        ``rows`` (the result rows), ``categories`` and the paths of the NIfTI files.
    """
    from neurorep.runner.run import write_results
    from neurorep.store import RepresentationStore, atomic_write_text
    from neurorep.types import RDMs, Representation, StimulusSet

    rng = np.random.default_rng(0)
    out.mkdir(parents=True, exist_ok=True)
    store = RepresentationStore(out / "store")
    ids = [f"s{i:02d}" for i in range(24)]
    store.write_stimuli("gen000000000000000000001", StimulusSet(ids=ids, descriptors={"category": RICH_CATEGORIES},
                                                                name="toy"))
    # model: three layers whose patterns carry the category structure more and more
    onehot = (RICH_CATEGORIES[:, None] == np.unique(RICH_CATEGORIES)[None]).astype(float)
    g = store.open_source("src00000000000000000model", {"source": "model", "stimulus_ids": ids,
                                                         "sites": ["layer1", "layer2", "layer3"]})
    for k, site in enumerate(["layer1", "layer2", "layer3"]):
        X = rng.normal(size=(24, 30)) + (k + 1) * onehot @ rng.normal(size=(4, 30))
        g.write_site(site, Representation(X, ids, name=f"model:{site}"))
    g.mark_complete()
    # brain: per-subject RDMs of three ROIs with MNI centres (V1, IT) and an atlas label (FFA)
    spaces = {"V1": {"kind": "brain", "roi": "V1", "mni": [-8, -92, 2]},
              "IT": {"kind": "brain", "roi": "IT", "mni": [44, -58, -14]},
              "FFA": {"kind": "brain", "roi": "FFA", "atlas": {"path": "atlas/rois.nii.gz", "label": 2}}}
    g = store.open_source("src00000000000000000brain", {"source": "brain", "stimulus_ids": ids,
                                                         "sites": list(spaces), "site_spaces": spaces})
    for site in spaces:
        mats = []
        for _ in range(3):
            P = onehot @ rng.normal(size=(4, 20)) + rng.normal(size=(24, 20))
            P = P - P.mean(1, keepdims=True)
            P /= np.linalg.norm(P, axis=1, keepdims=True)
            mats.append(1 - P @ P.T)
        g.write_site(site, RDMs.from_matrices(np.array(mats), ids, dissimilarity_measure="correlation",
                                              rdm_descriptors={"subject": ["a", "b", "c"]},
                                              space=spaces[site], name=f"brain:{site}"))
    g.mark_complete()
    # voxels: 50 voxels with MNI coordinates, for per-voxel encoding R²
    xyz = np.c_[rng.uniform(-60, 60, 50), rng.uniform(-90, 30, 50), rng.uniform(-30, 50, 50)]
    vspace = {"kind": "brain", "template": "MNI152NLin2009cAsym", "roi": "cortex"}
    g = store.open_source("src0000000000000000voxels", {"source": "voxels", "stimulus_ids": ids, "sites": ["roi"],
                                                         "site_spaces": {"roi": vspace}})
    g.write_site("roi", Representation(rng.normal(size=(24, 50)), ids, space=vspace, name="voxels:roi",
                                       channel_descriptors={"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2]}))
    g.mark_complete()

    files: dict[str, Path] = {}
    if with_nifti:
        aff = np.diag([4.0, 4.0, 4.0, 1.0])
        aff[:3, 3] = [-90, -126, -72]
        atlas = np.zeros((46, 55, 46), dtype=np.int16)
        i, j, k = np.rint((np.array([40, -60, -16]) - aff[:3, 3]) / 4).astype(int)
        atlas[i - 2:i + 3, j - 2:j + 3, k - 2:k + 3] = 2
        files["atlas"] = _nifti(out / "atlas" / "rois.nii.gz", atlas, aff)
        vol = np.zeros((46, 55, 46), dtype=np.float32)
        vol[i - 3:i + 4, j - 3:j + 4, k - 3:k + 4] = 0.6
        files["acc_map"] = _nifti(out / "maps" / "accuracy.nii.gz", vol, aff)
        files["r2_map"] = _nifti(out / "maps" / "r2.nii.gz", vol * 0.3, aff)

    rows = []
    layer_scores = {"V1": [0.30, 0.22, 0.12], "IT": [0.08, 0.21, 0.35], "FFA": [0.05, 0.15, 0.28]}
    for roi, scores in layer_scores.items():
        for k, s in enumerate(scores):
            rows.append(_row("rsa-brain", ("model", f"layer{k + 1}"), ("brain", roi), "spearman", s,
                             ceiling=(0.40, 0.52), ci=(s - 0.06, s + 0.06), p=0.001 if s > 0.1 else 0.2,
                             key=f"rsa{roi}{k}"))
    rows.append(_row("decoding", ("brain", "V1"), None, "accuracy", 0.81, component="decoding.svm",
                     ci=(0.74, 0.88), p=0.001, key="decV1"))
    rows.append(_row("decoding", ("brain", "IT"), None, "accuracy", 0.66, component="decoding.svm",
                     ci=(0.58, 0.74), p=0.01, key="decIT"))
    rows.append(_row("searchlight", ("voxels", "roi"), None, "accuracy", 0.55, component="decoding.svm",
                     extra={"map": "maps/accuracy.nii.gz", "mni": [40, -60, -16]} if with_nifti
                     else {"mni": [40, -60, -16]}, key="sl"))
    r2 = np.clip(rng.normal(0.1, 0.08, 50), -0.05, None)
    rows.append(_row("encoding", ("model", "layer3"), ("voxels", "roi"), "r2", float(r2.mean()),
                     component="encoding.ridge", extra={"per_channel": [float(v) for v in r2]}, key="enc"))
    if with_nifti:
        rows.append(_row("encoding-map", ("model", "layer2"), ("voxels", "roi"), "r2", 0.05,
                         component="encoding.ridge", extra={"map": "maps/r2.nii.gz"}, key="encmap"))
    rows.append(_row("rsa-brain", ("model", "layer9"), ("brain", "V1"), None, math.nan, status="failed",
                     error="InvalidInputError: planted failure for the report test", key="failed"))

    prov = {
        "neurorep": "0.1.0", "hook_api": 1,
        "recipe": {"name": "rich", "text": RICH_RECIPE, "recipe_hash": "0" * 64, "sha256": "0" * 64,
                   "options": {"description": "Hand-built run.", "report": {"title": "Rich report fixture"},
                               "stimuli": {"toy": {"kind": "generator", "component_id": "generator.toy",
                                                   "task": "gen000000000000000000001", "n": 24}}}},
        "plugins": [{"name": "neurorep.builtin.analyzers", "distribution": "neurorep", "version": "0.1.0",
                     "builtin": True}],
        "plugin_errors": [], "components": [], "environment": {"python": "3.11", "numpy": np.__version__},
        "seeds": {"recipe": 0, "tasks": [0]}, "store_dtype": None,
        "tasks": [{"key": "gen000000000000000000001", "kind": "generate", "name": "toy",
                   "component_id": "generator.toy"},
                  {"key": "src00000000000000000model", "kind": "source", "name": "model", "component_id": "x.y"},
                  {"key": "src00000000000000000brain", "kind": "source", "name": "brain", "component_id": "x.y"},
                  {"key": "src0000000000000000voxels", "kind": "source", "name": "voxels", "component_id": "x.y"}],
        "started_at": "2026-01-01T00:00:00+00:00", "finished_at": "2026-01-01T00:01:00+00:00", "duration_s": 60.0,
        "executor": {"name": "local"},
        "summary": {"n_tasks": len(rows) + 4, "n_ok": len(rows) + 3, "n_cached": 0, "n_failed": 1,
                    "n_rows": len(rows)},
    }
    write_results(out / "results.parquet", rows, prov)
    atomic_write_text(out / "provenance.json", json.dumps(prov, indent=1))
    return {"rows": rows, "files": files}
