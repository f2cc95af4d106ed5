import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)


# Real data: the mirror beside the repository (as CI lays it out) unless the caller chose one.
_MIRROR = HERE.parent.parent / "shared" / "datasets"
if "NEUROREP_DATA_MIRROR" not in __import__("os").environ and _MIRROR.is_dir():
    __import__("os").environ["NEUROREP_DATA_MIRROR"] = str(_MIRROR)
