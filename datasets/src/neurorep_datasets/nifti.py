"""Reading NIfTI files with errors a person can act on (corrupt, truncated, wrong dimensionality).

The implementation lives in the host (:mod:`neurorep.fmri.nifti`), shared with the fMRI sources;
this module re-exports it for the dataset loaders.
"""

from __future__ import annotations

from neurorep.fmri.nifti import check_same_grid, read_nifti

__all__ = ["read_nifti", "check_same_grid"]
