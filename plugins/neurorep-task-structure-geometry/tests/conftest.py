"""Keep torch to one thread: the test machines are small and shared."""

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
