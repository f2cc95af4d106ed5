"""The judge: a small CNN trained by the project on Fashion-MNIST, used to score generated images.

It is trained deterministically (fixed seed, one thread) on the 60,000 training
images and shipped as ``weights/judge.safetensors`` with its measured test accuracy
in ``weights/judge.json``. Its 128-d penultimate activations are the feature space for
2-way identification.

Train or re-train with ``python -m neurorep_diffusion_models.judge --out DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from .data import load_fashion_mnist
from .utils import atomic_write_bytes, images_to_tensor, step_generator

__all__ = ["JudgeCNN", "Judge", "train_judge", "load_judge", "shipped_judge_path", "main"]

JUDGE_FILE = "judge.safetensors"
JUDGE_META = "judge.json"


class JudgeCNN(nn.Module):
    """Three conv blocks and a 128-unit feature layer; ~130k parameters.

    Input is ``(n, 1, 28, 28)`` in [-1, 1] (the diffusion models' pixel range).
    """

    def __init__(self, n_classes: int = 10, width: int = 32, n_features: int = 128) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(1, w, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(w)
        self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(2 * w)
        self.conv3 = nn.Conv2d(2 * w, 2 * w, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(2 * w)
        self.fc = nn.Linear(2 * w * 3 * 3, n_features)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(n_features, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate (post-ReLU) features, ``(n, n_features)``."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)  # 14x14
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)  # 7x7
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)  # 3x3
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


class Judge:
    """An evaluation wrapper around a trained :class:`JudgeCNN` (eval mode, no gradients).

    Parameters
    ----------
    model : JudgeCNN
        Trained network.
    meta : dict
        Training record (seed, epochs, test accuracy, ...).
    """

    def __init__(self, model: JudgeCNN, meta: dict | None = None) -> None:
        self.model = model.eval()
        self.meta = dict(meta or {})

    @staticmethod
    def _as_tensor(images) -> torch.Tensor:
        if isinstance(images, torch.Tensor):
            x = images.float()
        else:
            arr = np.asarray(images)
            x = images_to_tensor(arr) if arr.dtype == np.uint8 else torch.as_tensor(arr, dtype=torch.float32)
        if x.ndim == 3:
            x = x[:, None]
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"Judge expects images (n, 28, 28) or (n, 1, 28, 28) in [-1, 1] (or uint8), "
                             f"got shape {tuple(x.shape)}")
        return x

    @torch.no_grad()
    def _batched(self, fn, images, batch_size: int) -> torch.Tensor:
        x = self._as_tensor(images)
        return torch.cat([fn(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]) if len(x) else \
            fn(x)

    def logits(self, images, batch_size: int = 512) -> np.ndarray:
        """Class logits ``(n, 10)``."""
        return self._batched(self.model, images, batch_size).numpy()

    def predict(self, images, batch_size: int = 512) -> np.ndarray:
        """Predicted class labels ``(n,)``."""
        return self.logits(images, batch_size).argmax(1)

    def features(self, images, batch_size: int = 512) -> np.ndarray:
        """Penultimate features ``(n, 128)``, the space for 2-way identification."""
        return self._batched(self.model.features, images, batch_size).numpy()


def shipped_judge_path() -> Path:
    """Path of the judge weights shipped in this package."""
    return Path(str(resources.files("neurorep_diffusion_models") / "weights" / JUDGE_FILE))


def load_judge(path: str | os.PathLike | None = None) -> Judge:
    """Load a judge from ``path`` (a ``.safetensors`` file or a folder holding one); default: the shipped one.

    Raises
    ------
    FileNotFoundError
        If no judge weights are there, with the command that trains them.
    """
    path = Path(path) if path is not None else shipped_judge_path()
    if path.is_dir():
        path = path / JUDGE_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"judge weights not found at {path}; train them with "
            f"`python -m neurorep_diffusion_models.judge --out {path.parent}` (needs Fashion-MNIST)"
        )
    meta_path = path.with_name(JUDGE_META)
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    cfg = meta.get("architecture", {})
    model = JudgeCNN(**cfg)
    state = load_file(str(path))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return Judge(model, meta)


def train_judge(
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray | None = None,
    test_labels: np.ndarray | None = None,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    threads: int | None = 1,
    log=print,
) -> tuple[Judge, dict]:
    """Train a :class:`JudgeCNN` deterministically.

    Parameters
    ----------
    images, labels : numpy.ndarray
        uint8 ``(n, 28, 28)`` training images and their int labels.
    test_images, test_labels : numpy.ndarray, optional
        Held-out split for the accuracy in the returned record.
    epochs, batch_size, lr, seed : training settings (Adam, one-cycle cosine schedule, random
        horizontal flips, per-step seeded batches).
    threads : int, optional
        ``torch.set_num_threads`` value (1 keeps runs bitwise reproducible and polite on shared cores).

    Returns
    -------
    (Judge, dict)
        The trained judge and its training record.
    """
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = JudgeCNN()
    x_all = images_to_tensor(images)[:, None]
    y_all = torch.as_tensor(labels, dtype=torch.long)
    n = len(x_all)
    steps_per_epoch = n // batch_size
    total = epochs * steps_per_epoch
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.15)
    t0 = time.monotonic()
    step = 0
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=step_generator(seed, epoch, "judge-epoch"))
        model.train()
        running = 0.0
        for b in range(steps_per_epoch):
            g = step_generator(seed, step, "judge-step")
            idx = perm[b * batch_size:(b + 1) * batch_size]
            x = x_all[idx]
            flip = torch.rand(len(x), generator=g) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            loss = F.cross_entropy(model(x), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += float(loss.detach())
            step += 1
        log(f"judge epoch {epoch + 1}/{epochs}: mean loss {running / steps_per_epoch:.4f} "
            f"({time.monotonic() - t0:.0f} s)")
    judge = Judge(model.eval())
    record: dict = {
        "architecture": {"n_classes": 10, "width": 32, "n_features": 128},
        "data": "Fashion-MNIST train split (60,000 images), Debian package dataset-fashion-mnist",
        "seed": seed, "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "optimizer": "Adam + OneCycle (cosine)", "augmentation": "random horizontal flip",
        "train_seconds": round(time.monotonic() - t0, 1), "torch": str(torch.__version__),
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "input": "(n, 1, 28, 28) float in [-1, 1] (uint8 0..255 is converted)",
    }
    if test_images is not None and test_labels is not None:
        pred = judge.predict(test_images)
        record["test_accuracy"] = float(np.mean(pred == np.asarray(test_labels)))
        record["test_n"] = int(len(test_labels))
        log(f"judge test accuracy {record['test_accuracy']:.4f} on {len(test_labels)} images")
    judge.meta = record
    return judge, record


def save_judge(judge: Judge, out_dir: str | os.PathLike) -> Path:
    """Write ``judge.safetensors`` and ``judge.json`` into ``out_dir`` atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in judge.model.state_dict().items()}
    tmp = out / f".{JUDGE_FILE}.tmp-{os.getpid()}"
    save_file(state, str(tmp), metadata={"format": "pt"})
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / JUDGE_FILE)
    atomic_write_bytes(out / JUDGE_META, (json.dumps(judge.meta, indent=2, sort_keys=True) + "\n").encode())
    return out / JUDGE_FILE


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m neurorep_diffusion_models.judge --out DIR [--epochs 5] [--seed 0]``."""
    p = argparse.ArgumentParser(prog="python -m neurorep_diffusion_models.judge",
                                description="Train the Fashion-MNIST judge CNN deterministically.")
    p.add_argument("--out", required=True, help="folder for judge.safetensors and judge.json")
    p.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    train = load_fashion_mnist("train", args.data_dir)
    test = load_fashion_mnist("test", args.data_dir)
    judge, record = train_judge(train.images, train.labels, test.images, test.labels,
                                epochs=args.epochs, seed=args.seed, threads=args.threads)
    path = save_judge(judge, args.out)
    print(json.dumps(record, indent=2))
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
