"""One torch thread for the tests (the machines running them are shared; training is bitwise reproducible on one
thread and multi-threaded kernels under oversubscription are many times slower)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
