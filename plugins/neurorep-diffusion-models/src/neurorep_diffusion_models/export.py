"""Export a training run's EMA weights into the package, evaluate them, and write the model card.

One command ships both models and measures what the card states::

    python -m neurorep_diffusion_models.export \\
        --run plugins/neurorep-diffusion-models/training-runs/unet-fmnist \\
        --prior plugins/neurorep-diffusion-models/training-runs/prior-fmnist

It copies each run's newest complete checkpoint (``LATEST``) to a private temporary folder
(so checkpoint rotation cannot delete it mid-export), writes it as a diffusers pipeline
folder (``model_index.json`` + safetensors per component, see
:func:`~neurorep_diffusion_models.pipelines.save_diffusers_folder`) into
``weights/fmnist-diffusion/`` and ``weights/fmnist-prior/``, reloads the written folders,
and evaluates them with the shipped judge:

* class agreement of class-conditional samples at each guidance scale (``--n-per-class`` per class);
* decoding ``--decode`` held-out test images from their embeddings: clean; noisy
  (``z + sigma * noise``, correlation about 0.7 with ``z`` at sigma 1.02) directly and
  through the prior; beside the linear PCA decoder of the same embeddings;
* the prior's class-conditional embeddings decoded by the UNet (class agreement);
* brain-guided synthesis (:mod:`neurorep_diffusion_models.guidance`): a random fixed linear
  readout of the judge's features, guided vs unguided samples with the same seeds;
* the CI setting (few samples, few DDIM steps) that ``tests/test_shipped.py`` re-checks.

Results go to ``weights/model_card.json`` and ``weights/MODEL_CARD.md``; sample grids (PNG) to
``--docs`` (default: the plugin's ``docs/`` folder when run from a source checkout). Every
random number is seeded and the evaluation runs on ``--threads`` (default 1) CPU threads, so
the same checkpoint gives the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .data import FASHION_MNIST_CLASSES, load_fashion_mnist
from .evaluate import evaluate_class_conditional, evaluate_decoding, save_grid
from .guidance import JudgeReadout
from .judge import Judge, load_judge
from .pipelines import MODEL_INDEX, PixelDiffusion, PriorDiffusion, load_model, save_diffusers_folder
from .train import latest_checkpoint

__all__ = ["DIFFUSION_DIR", "PRIOR_DIR", "CARD_JSON", "CARD_MD", "weights_dir", "shipped_model_path",
           "copy_latest", "strip_local_paths", "export_model", "evaluate_for_card", "brain_guidance_test", "ci_check",
           "write_card_markdown", "main"]

DIFFUSION_DIR = "fmnist-diffusion"
PRIOR_DIR = "fmnist-prior"
CARD_JSON = "model_card.json"
CARD_MD = "MODEL_CARD.md"

#: The CI check's settings (``tests/test_shipped.py`` reads them from the card).
CI_SETTINGS = {"n_per_class": 3, "num_inference_steps": 10, "seed": 0}


def weights_dir() -> Path:
    """The package's ``weights/`` folder."""
    return Path(str(resources.files("neurorep_diffusion_models") / "weights"))


def shipped_model_path(name: str = DIFFUSION_DIR) -> Path:
    """Path of a shipped model folder (``"fmnist-diffusion"`` or ``"fmnist-prior"``)."""
    path = weights_dir() / name
    if not (path / MODEL_INDEX).is_file():
        raise FileNotFoundError(
            f"no shipped model at {path}; export one with `python -m neurorep_diffusion_models.export --run RUN "
            f"--prior PRIOR_RUN` (see the plugin README)")
    return path


def copy_latest(run: str | Path, dest: Path, attempts: int = 3) -> Path:
    """Copy the ``model/`` folder of the run's newest checkpoint to ``dest`` (retrying if it rotates away)."""
    last: Exception | None = None
    for _ in range(attempts):
        ckpt = latest_checkpoint(run)
        if ckpt is None:
            raise FileNotFoundError(f"export: run {run} has no checkpoint yet (no LATEST file)")
        try:
            shutil.copytree(ckpt / "model", dest)
            shutil.copy2(ckpt / "state.json", dest / "state.json")
            return ckpt
        except (FileNotFoundError, shutil.Error) as exc:  # deleted by --keep rotation mid-copy
            last = exc
            shutil.rmtree(dest, ignore_errors=True)
            time.sleep(1.0)
    raise RuntimeError(f"export: could not copy the newest checkpoint of {run}: {last}")


def _file_digests(folder: Path) -> dict[str, dict]:
    out = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            out[str(f.relative_to(folder))] = {"bytes": f.stat().st_size,
                                               "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
    return out


def strip_local_paths(folder: Path) -> None:
    """Drop diffusers' ``_name_or_path`` (the folder a component was loaded from) from every ``config.json``.

    It would record the export's temporary folder, making the files machine- and run-dependent.
    """
    for f in sorted(folder.rglob("config.json")):
        cfg = json.loads(f.read_text())
        if cfg.pop("_name_or_path", None) is not None:
            f.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def export_model(model_dir: Path, out: Path) -> dict:
    """Write the model in ``model_dir`` (a checkpoint's ``model/`` copy) to ``out``; return its training record."""
    model = load_model(model_dir)
    index = json.loads((model_dir / MODEL_INDEX).read_text())
    training = dict(index.get("training", {}))
    state_file = model_dir / "state.json"
    if state_file.is_file():
        training.update(json.loads(state_file.read_text()))
    if out.exists():
        shutil.rmtree(out)
    save_diffusers_folder(model, out, extra={"training": training})
    strip_local_paths(out)
    for f in out.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    return training


# --------------------------------------------------------------------------- evaluation pieces

def brain_guidance_test(model: PixelDiffusion, judge: Judge, scales=(0.003, 0.01, 0.03, 0.1), n_per_class: int = 4,
                        guidance_scale: float = 1.0, num_inference_steps: int = 25, readout_seed: int = 0,
                        seed: int = 0) -> tuple[dict, dict]:
    """Guided vs unguided class-conditional samples (same seeds) under a random fixed judge-feature readout.

    Returns
    -------
    (dict, dict)
        Per scale: mean readout of guided and unguided samples, mean paired increase, the fraction of
        pairs raised, the judge's class agreement; and the samples per scale (for a grid).
    """
    readout = JudgeReadout.random(judge, seed=readout_seed)
    labels = np.tile(np.arange(model.num_classes), n_per_class)
    base = model.sample(labels=labels, guidance_scale=guidance_scale, num_inference_steps=num_inference_steps,
                        seed=seed)
    r0 = readout.score(base)
    agree0 = float(np.mean(judge.predict(base.numpy()) == labels))
    rows = [{"scale": 0.0, "readout_mean": float(r0.mean()), "class_agreement": agree0}]
    images = {0.0: base}
    for s in scales:
        x = model.sample(labels=labels, guidance_scale=guidance_scale, num_inference_steps=num_inference_steps,
                         seed=seed, readout=readout, readout_scale=float(s))
        r = readout.score(x)
        d = r - r0
        rows.append({"scale": float(s), "readout_mean": float(r.mean()), "increase_mean": float(d.mean()),
                     "increase_sd_units": float(d.mean() / max(r0.std(), 1e-12)),
                     "fraction_raised": float(np.mean(d > 0)),
                     "class_agreement": float(np.mean(judge.predict(x.numpy()) == labels))})
        images[float(s)] = x
    works = [r["scale"] for r in rows[1:] if r["fraction_raised"] >= 0.8
             and r["class_agreement"] >= agree0 - 0.15]
    result = {"readout": f"random fixed linear readout of the judge's 128 features (seed {readout_seed}), "
                         "standing in for one voxel",
              "n": int(len(labels)), "guidance_scale": guidance_scale, "num_inference_steps": num_inference_steps,
              "seed": seed, "readout_sd_unguided": float(r0.std()), "by_scale": rows,
              "working_scales": works,
              "criterion": "readout raised in >= 80% of same-seed pairs and judge class agreement within 0.15 of "
                           "unguided"}
    return result, images


def ci_check(model: PixelDiffusion, judge: Judge, guidance_scale: float) -> dict:
    """Class agreement at the CI test's small setting (:data:`CI_SETTINGS`)."""
    m, _ = evaluate_class_conditional(model, judge, CI_SETTINGS["n_per_class"], guidance_scale,
                                      CI_SETTINGS["num_inference_steps"], seed=CI_SETTINGS["seed"])
    return {**CI_SETTINGS, "guidance_scale": guidance_scale, "class_agreement": m["class_agreement"], "n": m["n"]}


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "images"}


def evaluate_for_card(model: PixelDiffusion, prior: PriorDiffusion | None, judge: Judge, *,
                      guidances=(1.0, 1.5, 2.0), n_per_class: int = 10, steps: int = 25, n_decode: int = 200,
                      sigma: float = 1.02, prior_guidance: float = 2.0, seed: int = 0, docs: Path | None = None,
                      guide_n_per_class: int = 4, prior_samples: int = 8, log=print) -> dict:
    """Every figure of the model card (and the grids when ``docs`` is given); see the module docstring."""
    t0 = time.monotonic()
    card: dict = {"class_conditional": []}
    best, best_x = None, None
    for g in guidances:
        m, x = evaluate_class_conditional(model, judge, n_per_class, g, steps, seed=seed)
        card["class_conditional"].append(m)
        log(f"class-conditional guidance {g:g}: agreement {m['class_agreement']:.3f} (n={m['n']})")
        if best is None or m["class_agreement"] > best["class_agreement"]:
            best, best_x = m, x
    card["best_guidance"] = best["guidance_scale"]
    card["best_class_agreement"] = best["class_agreement"]
    if docs is not None:
        k = min(10, n_per_class)
        idx = np.concatenate([np.arange(c * n_per_class, c * n_per_class + k) for c in range(model.num_classes)])
        save_grid(best_x[idx], docs / "fmnist-diffusion-samples.png", nrow=k)

    test = load_fashion_mnist("test")
    imgs, labs = test.images[:n_decode], test.labels[:n_decode]
    clean = evaluate_decoding(model, judge, imgs, labs, num_inference_steps=steps, seed=seed, return_images=True)
    log(f"decode clean: diffusion {clean['diffusion']['class_agreement']:.3f}, "
        f"linear PCA {clean['linear_pca']['class_agreement']:.3f}")
    noisy = evaluate_decoding(model, judge, imgs, labs, sigma=sigma, num_inference_steps=steps, seed=seed,
                              return_images=True)
    log(f"decode noisy (r={noisy['settings']['embedding_correlation']:.3f}): diffusion "
        f"{noisy['diffusion']['class_agreement']:.3f}, linear PCA {noisy['linear_pca']['class_agreement']:.3f}")
    card["decoding"] = {"clean": _strip(clean), "noisy": _strip(noisy)}
    decode_rows = [clean["images"]["original"], clean["images"]["linear_pca"], clean["images"]["diffusion"],
                   noisy["images"]["linear_pca"], noisy["images"]["diffusion"]]
    if prior is not None:
        via = evaluate_decoding(model, judge, imgs, labs, prior=prior, sigma=sigma, prior_guidance=prior_guidance,
                                num_inference_steps=steps, seed=seed, return_images=True, prior_samples=prior_samples)
        log(f"decode noisy via prior (guidance {prior_guidance:g}, mean of {prior_samples}): diffusion "
            f"{via['diffusion']['class_agreement']:.3f}")
        card["decoding"]["noisy_via_prior"] = _strip(via)
        decode_rows.append(via["images"]["diffusion"])
        z = prior.sample(labels=np.repeat(np.arange(prior.num_classes), 10), guidance_scale=prior_guidance,
                         seed=seed)
        xp = model.sample(embeddings=z, guidance_scale=1.0, num_inference_steps=steps, seed=seed)
        labels_p = np.repeat(np.arange(prior.num_classes), 10)
        card["prior_class_conditional"] = {
            "class_agreement": float(np.mean(judge.predict(xp.numpy()) == labels_p)), "n": int(len(labels_p)),
            "prior_guidance": prior_guidance, "decoder": "UNet conditioned on the sampled embedding, guidance 1",
            "seed": seed}
        log(f"prior class-conditional -> UNet: agreement {card['prior_class_conditional']['class_agreement']:.3f}")
        if docs is not None:
            save_grid(xp, docs / "fmnist-prior-samples.png", nrow=10)
    if docs is not None:
        save_grid(torch.cat([r[:10] for r in decode_rows]), docs / "fmnist-decoding.png", nrow=10)

    bg, bg_images = brain_guidance_test(model, judge, n_per_class=guide_n_per_class,
                                        guidance_scale=card["best_guidance"], num_inference_steps=steps, seed=seed)
    card["brain_guidance"] = bg
    log(f"brain guidance: working scales {bg['working_scales']}")
    if docs is not None:
        save_grid(torch.cat([v[:10] for v in bg_images.values()]), docs / "fmnist-brain-guidance.png", nrow=10)
    card["ci_check"] = ci_check(model, judge, card["best_guidance"])
    log(f"CI setting: agreement {card['ci_check']['class_agreement']:.3f} (n={card['ci_check']['n']})")
    card["evaluation_seconds"] = round(time.monotonic() - t0, 1)
    return card


# --------------------------------------------------------------------------- the card

def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def write_card_markdown(card: dict, path: Path) -> Path:
    """Render ``card`` (the JSON record) as ``MODEL_CARD.md``."""
    u, p = card["models"][DIFFUSION_DIR], card["models"].get(PRIOR_DIR)
    lines = [
        "# Model card: neurorep's Fashion-MNIST diffusion models",
        "",
        "Written by `python -m neurorep_diffusion_models.export` from a real evaluation of the files next to it;",
        "the same figures are in `model_card.json`.",
        "",
        "## Models",
        "",
        f"- `{DIFFUSION_DIR}/`: class- and embedding-conditional pixel-space UNet (diffusers `UNet2DModel` + "
        f"condition encoder + 64-d whitened pixel-PCA embedding), EMA weights of step {u['training'].get('step')} "
        f"({u['training'].get('wall_seconds', 0) / 3600:.2f} h of training on 2 shared CPU cores), seed "
        f"{u['training'].get('seed')}, {u['n_parameters']:,} parameters, {u['bytes'] / 1e6:.2f} MB.",
    ]
    if p:
        lines.append(
            f"- `{PRIOR_DIR}/`: embedding-space diffusion prior (MLP noise predictor, MindEye-style), EMA weights "
            f"of step {p['training'].get('step')} ({p['training'].get('wall_seconds', 0) / 60:.0f} min), seed "
            f"{p['training'].get('seed')}, {p['n_parameters']:,} parameters, {p['bytes'] / 1e6:.2f} MB.")
    lines += [
        "- Data: Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) training split, 60,000 images 28x28, 10 classes "
        "(Debian package `dataset-fashion-mnist`); all figures below use the test split or fresh samples.",
        f"- Judge: the shipped CNN (`judge.safetensors`), {_pct(card['judge_test_accuracy'])} test accuracy.",
        "- Format: diffusers pipeline folders (`model_index.json`, one safetensors file per component); load with "
        "`FashionMNISTDiffusionPipeline.from_pretrained(folder)` or `neurorep_diffusion_models.load_model(folder)`.",
        "",
        "## Class-conditional samples",
        "",
        f"DDIM {card['evaluation']['class_conditional'][0]['num_inference_steps']} steps, seed "
        f"{card['evaluation']['class_conditional'][0]['seed']}, chance 10 %.",
        "",
        "| guidance | n | judge class agreement |",
        "| --- | --- | --- |",
    ]
    ev = card["evaluation"]
    for m in ev["class_conditional"]:
        lines.append(f"| {m['guidance_scale']:g} | {m['n']} | {_pct(m['class_agreement'])} |")
    best = next(m for m in ev["class_conditional"] if m["guidance_scale"] == ev["best_guidance"])
    lines += ["", "Per class at guidance " f"{ev['best_guidance']:g}: " + ", ".join(
        f"{name} {_pct(a)}" for name, a in zip(FASHION_MNIST_CLASSES, best["per_class"], strict=True)) + "."]
    d = ev["decoding"]
    lines += [
        "",
        f"## Decoding held-out test images from their embeddings (n = {d['clean']['settings']['n']})",
        "",
        f"Noisy: `z + {d['noisy']['settings']['sigma']:g} * noise`, correlation "
        f"{d['noisy']['settings']['embedding_correlation']:.3f} with the clean embedding. Linear PCA = the "
        "embedding's least-squares inverse (the linear decoder baseline).",
        "",
        "| embedding | decoder | judge class agreement | judge agreement with original | pixel r | SSIM | "
        "2-way id (judge features) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]

    def row(cond, name, m):
        return (f"| {cond} | {name} | {_pct(m['class_agreement'])} | {_pct(m['judge_agreement'])} | "
                f"{m['pixel_correlation']:.3f} | {m['ssim']:.3f} | {_pct(m['two_way_identification'])} |")

    lines.append(row("clean", "diffusion", d["clean"]["diffusion"]))
    lines.append(row("clean", "linear PCA", d["clean"]["linear_pca"]))
    lines.append(row("noisy", "diffusion", d["noisy"]["diffusion"]))
    if "noisy_via_prior" in d:
        st = d["noisy_via_prior"]["settings"]
        lines.append(row("noisy", f"prior (guidance {st['prior_guidance']:g}, mean of {st['prior_samples']} "
                                  "posterior samples) -> diffusion", d["noisy_via_prior"]["diffusion"]))
    lines.append(row("noisy", "linear PCA", d["noisy"]["linear_pca"]))
    if "prior_class_conditional" in ev:
        pc = ev["prior_class_conditional"]
        lines += ["", f"Prior alone: class-conditional embeddings (guidance {pc['prior_guidance']:g}) decoded by the "
                      f"UNet are put in their class {_pct(pc['class_agreement'])} of the time (n = {pc['n']})."]
    bg = ev["brain_guidance"]
    lines += [
        "",
        "## Brain-guided synthesis (smoke test)",
        "",
        f"{bg['readout']}; class-conditional samples (guidance {bg['guidance_scale']:g}, n = {bg['n']}), guided vs "
        f"unguided with the same seeds. Readout SD across unguided samples: {bg['readout_sd_unguided']:.3f}.",
        "",
        "| scale | mean readout | mean increase (unguided SDs) | pairs raised | judge class agreement |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in bg["by_scale"]:
        lines.append(f"| {r['scale']:g} | {r['readout_mean']:.3f} | {r.get('increase_sd_units', 0.0):+.2f} | "
                     f"{_pct(r.get('fraction_raised', 0.0)) if r['scale'] else '-'} | {_pct(r['class_agreement'])} |")
    lines += ["", f"Scales that work ({bg['criterion']}): {bg['working_scales'] or 'none'}."]
    ci = ev["ci_check"]
    lines += [
        "",
        "## CI check",
        "",
        f"`tests/test_shipped.py` samples {ci['n']} images ({ci['n_per_class']} per class, DDIM "
        f"{ci['num_inference_steps']} steps, guidance {ci['guidance_scale']:g}, seed {ci['seed']}); measured here: "
        f"{_pct(ci['class_agreement'])}.",
        "",
        "## Provenance",
        "",
        f"Exported {card['exported_at']} from `{u['checkpoint']}`" + (f" and `{p['checkpoint']}`" if p else "") +
        f"; evaluation {ev['evaluation_seconds']:.0f} s on {card['threads']} thread(s), torch {card['torch']}, "
        f"diffusers {card['diffusers']}.",
        "",
    ]
    path.write_text("\n".join(lines))
    return path


def _n_params(model) -> int:
    return int(sum(p.numel() for m in model.modules().values() for p in m.parameters()))


def main(argv: list[str] | None = None) -> int:
    """CLI: export the newest checkpoints of the runs, evaluate them, write the card and the grids."""
    import diffusers

    p = argparse.ArgumentParser(prog="python -m neurorep_diffusion_models.export",
                                description="Ship a run's EMA weights into the package with a measured model card.")
    p.add_argument("--run", required=True, help="pixel UNet run folder (its newest checkpoint is exported)")
    p.add_argument("--prior", default=None, help="embedding-prior run folder")
    p.add_argument("--out", default=None, help="weights folder (default: the package's weights/)")
    p.add_argument("--docs", default=None, help="folder for the PNG grids (default: the plugin's docs/ if present)")
    p.add_argument("--guidance", type=float, nargs="+", default=[1.0, 1.5, 2.0])
    p.add_argument("--n-per-class", type=int, default=10)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--decode", type=int, default=200)
    p.add_argument("--sigma", type=float, default=1.02)
    p.add_argument("--prior-guidance", type=float, default=2.0)
    p.add_argument("--prior-samples", type=int, default=8, help="posterior samples averaged before decoding")
    p.add_argument("--guide-n-per-class", type=int, default=4, help="samples per class in the brain-guidance test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    out = Path(a.out) if a.out else weights_dir()
    docs = Path(a.docs) if a.docs else None
    if docs is None:
        candidate = Path(__file__).resolve().parents[2] / "docs"
        if (candidate.parent / "pyproject.toml").is_file():
            docs = candidate
    t0 = time.monotonic()
    models: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="neurorep-export-") as tmp:
        for name, run in ((DIFFUSION_DIR, a.run), (PRIOR_DIR, a.prior)):
            if run is None:
                continue
            src = Path(tmp) / name
            ckpt = copy_latest(run, src)
            training = export_model(src, out / name)
            models[name] = {"checkpoint": f"{Path(run).name}/{ckpt.name}", "training": training}
            print(f"exported {ckpt} -> {out / name}", flush=True)
    model = load_model(out / DIFFUSION_DIR)
    prior = load_model(out / PRIOR_DIR) if a.prior else None
    if not isinstance(model, PixelDiffusion) or (prior is not None and not isinstance(prior, PriorDiffusion)):
        raise ValueError("export: --run must be a pixel UNet run and --prior an embedding-prior run")
    for name, m in ((DIFFUSION_DIR, model), (PRIOR_DIR, prior)):
        if m is not None:
            models[name]["n_parameters"] = _n_params(m)
            files = _file_digests(out / name)
            models[name]["bytes"] = sum(f["bytes"] for f in files.values())
            models[name]["files"] = files
    judge = load_judge()
    if docs is not None:
        docs.mkdir(parents=True, exist_ok=True)
    evaluation = evaluate_for_card(model, prior, judge, guidances=a.guidance, n_per_class=a.n_per_class,
                                   steps=a.steps, n_decode=a.decode, sigma=a.sigma, prior_guidance=a.prior_guidance,
                                   seed=a.seed, docs=docs, guide_n_per_class=a.guide_n_per_class,
                                   prior_samples=a.prior_samples,
                                   log=lambda s: print(s, flush=True))
    card = {
        "format_version": 1,
        "exported_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "models": models,
        "data": {"name": "Fashion-MNIST", "citation": "Xiao, Rasul & Vollgraf (2017) arXiv:1708.07747",
                 "train": "60,000 training images (Debian package dataset-fashion-mnist)",
                 "evaluation": f"the first {a.decode} test images; fresh samples"},
        "judge_test_accuracy": float(judge.meta.get("test_accuracy", float("nan"))),
        "evaluation": evaluation,
        "settings": {"guidance": a.guidance, "n_per_class": a.n_per_class, "steps": a.steps, "decode": a.decode,
                     "sigma": a.sigma, "prior_guidance": a.prior_guidance, "seed": a.seed,
                     "guide_n_per_class": a.guide_n_per_class, "prior_samples": a.prior_samples},
        "threads": a.threads, "torch": str(torch.__version__), "diffusers": diffusers.__version__,
        "python": platform.python_version(),
    }
    (out / CARD_JSON).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    write_card_markdown(card, out / CARD_MD)
    print(f"wrote {out / CARD_JSON} and {out / CARD_MD} ({time.monotonic() - t0:.0f} s in all)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
