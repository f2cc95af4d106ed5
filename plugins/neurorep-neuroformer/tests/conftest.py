"""Keep torch on one thread: the tests train small models on a shared CPU."""

import pytest


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)
    yield
