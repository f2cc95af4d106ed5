"""Built-in fMRI sources: beta maps through nilearn maskers, GLM estimates, BIDS derivatives, NSD betas.

Registering them imports neither nibabel nor nilearn (``neurorep[fmri]``); those are imported when a
source reads data.
"""

from __future__ import annotations

from .. import hookimpl
from ..fmri.bids import BIDSGLMSource
from ..fmri.nsd import NSDBetasSource
from ..fmri.sources import GLMSource, NiftiMaskerSource

__all__ = ["register_sources"]


@hookimpl
def register_sources(register):
    register(NiftiMaskerSource)
    register(GLMSource)
    register(BIDSGLMSource)
    register(NSDBetasSource)
