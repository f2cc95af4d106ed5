"""Keep torch on one thread: the tests train small models on a shared CPU."""

import torch

torch.set_num_threads(1)
