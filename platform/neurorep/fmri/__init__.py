"""fMRI sources and readers: NIfTI through nibabel and nilearn maskers, GLM estimates through nilearn.

Components (registered by :mod:`neurorep.builtin.fmri`):

* ``source.nifti-masker`` (:class:`~neurorep.fmri.sources.NiftiMaskerSource`): precomputed beta or
  response maps; sites are the whole-brain mask, atlas ROIs (by name or label) and spheres at
  coordinates, as voxel patterns or region means.
* ``source.glm`` (:class:`~neurorep.fmri.sources.GLMSource`): per-condition (least-squares-all,
  runs as the repeats axis) or per-trial (least-squares-separate) estimates from 4D BOLD + events
  through nilearn's ``FirstLevelModel``.
* ``source.bids-glm`` (:class:`~neurorep.fmri.bids.BIDSGLMSource`): the same from an fMRIPrep
  derivatives folder (``sub-*/func/*_space-*_desc-preproc_bold.nii.gz``) and the raw dataset's
  ``*_events.tsv``.
* ``source.nsd-betas`` (:class:`~neurorep.fmri.nsd.NSDBetasSource`): single-trial betas in the
  Natural Scenes Dataset's layout (``betas_session*.nii.gz``, ROI label volumes, ``responses.tsv``).

nibabel and nilearn are optional dependencies (``pip install neurorep[fmri]``); they are imported
when data are read, never when this package or the components are imported.
"""

from __future__ import annotations

from .bids import BIDSGLMSource, find_fmriprep_runs
from .glm import check_events, estimate_responses, read_events
from .nifti import as_image, check_finite_rows, check_same_grid, read_nifti, repetition_time, voxel_descriptors
from .nsd import NSDBetasSource
from .sites import SiteSpec, parse_lut, resolve_sites, site_names
from .sources import GLMSource, NiftiMaskerSource

__all__ = [
    "NiftiMaskerSource", "GLMSource", "BIDSGLMSource", "NSDBetasSource",
    "find_fmriprep_runs", "read_events", "check_events", "estimate_responses",
    "read_nifti", "as_image", "check_same_grid", "check_finite_rows", "repetition_time", "voxel_descriptors",
    "SiteSpec", "parse_lut", "resolve_sites", "site_names",
]
