"""Reading NIfTI images with errors a person can act on.

Corrupt, truncated and wrong-dimensional files, images on different voxel grids and
non-finite values each raise :class:`~neurorep.errors.InvalidInputError` with a message
that names the component, the file, what was expected and the fix. nibabel is imported
only when an image is read.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = [
    "read_nifti",
    "as_image",
    "check_same_grid",
    "check_finite_rows",
    "repetition_time",
    "voxel_descriptors",
    "world_coordinates",
]

_FIX_COPY = ("Replace it with an intact copy (for a dataset: load with verify=True to check it against the card, "
             "or run 'neurorep datasets fetch <id> --force').")


def read_nifti(path: str | os.PathLike[str], *, owner: str, what: str = "image",
               ndim: int | None = None) -> tuple[Any, np.ndarray]:
    """Load a NIfTI image and read all its voxel data.

    Reading the data (not just the header) is what exposes a truncated ``.nii.gz``; doing it here
    turns nibabel's low-level errors into one message naming the file and the fix.

    Parameters
    ----------
    path : path
    owner : str
        The component named in error messages (``"Source 'source.glm'"``).
    what : str
        What the image is (``"BOLD run 3"``, ``"mask 'vt'"``), for messages.
    ndim : int, optional
        Required dimensionality (4 for BOLD time series, 3 for masks).

    Returns
    -------
    img : nibabel.Nifti1Image
    data : ndarray
        The voxel data (scaled by the header's slope/intercept when it has them).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InvalidInputError
        The file is not NIfTI, is corrupt or truncated, or has the wrong number of dimensions.
    """
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{owner}: {what} file {p} does not exist.")
    size = p.stat().st_size
    try:
        img = nib.load(str(p))
    except (ImageFileError, OSError, EOFError, zlib.error, ValueError) as exc:
        raise InvalidInputError(
            f"{owner}: {what} file {p} ({size} bytes) could not be read as NIfTI: {type(exc).__name__}: {exc}. "
            f"Expected a valid .nii or .nii.gz file; it is corrupt, truncated or of another format. {_FIX_COPY}"
        ) from exc
    try:
        data = np.asanyarray(img.dataobj)
    except (EOFError, OSError, zlib.error, ValueError) as exc:
        raise InvalidInputError(
            f"{owner}: {what} file {p} is truncated or corrupt: its header announces shape {img.shape} "
            f"({img.get_data_dtype()}) but reading the voxel data failed after {size} bytes on disk "
            f"({type(exc).__name__}: {exc}). {_FIX_COPY}") from exc
    _check_ndim(data, ndim, owner=owner, what=f"{what} file {p}")
    return img, data


def _check_ndim(data: np.ndarray, ndim: int | None, *, owner: str, what: str) -> None:
    if ndim is None or data.ndim == ndim:
        return
    if ndim == 4 and data.ndim == 3:
        hint = "a single 3D volume was given where a 4D time series (x, y, z, time) is needed"
    elif ndim == 3 and data.ndim == 4 and data.shape[3] == 1:
        hint = "drop the trailing singleton time axis (e.g. nibabel's squeeze_image)"
    else:
        hint = f"give a {ndim}D image"
    raise InvalidInputError(f"{owner}: {what} has shape {data.shape} ({data.ndim}D), expected a "
                            f"{ndim}D image: {hint}.")


def as_image(img: Any, *, owner: str, what: str = "image", ndim: int | None = None) -> tuple[Any, np.ndarray]:
    """A path (read with :func:`read_nifti`) or an in-memory nibabel image -> ``(img, data)``.

    Parameters
    ----------
    img : path or nibabel.Nifti1Image
    owner, what, ndim
        As :func:`read_nifti`.
    """
    if isinstance(img, (str, os.PathLike)):
        return read_nifti(img, owner=owner, what=what, ndim=ndim)
    if not (hasattr(img, "dataobj") and hasattr(img, "affine")):
        raise InvalidInputError(f"{owner}: {what} must be a path to a NIfTI file or a nibabel image, "
                                f"got {type(img).__name__}.")
    data = np.asanyarray(img.dataobj)
    _check_ndim(data, ndim, owner=owner, what=what)
    return img, data


def check_same_grid(img_a: Any, img_b: Any, *, owner: str, what_a: str, what_b: str, atol: float = 1e-3) -> None:
    """Raise unless two images share the spatial shape and affine (e.g. a mask applied to a BOLD image).

    Parameters
    ----------
    img_a, img_b : nibabel images
    owner : str
        The component named in the message.
    what_a, what_b : str
        What each image is, for the message.
    atol : float, default=1e-3
        Tolerance on the affines (mm).
    """
    sa, sb = tuple(img_a.shape[:3]), tuple(img_b.shape[:3])
    if sa != sb:
        raise InvalidInputError(f"{owner}: {what_a} has spatial shape {sa} but {what_b} has {sb}; they must be on "
                                "the same voxel grid (resample one to the other first, e.g. nilearn's "
                                "resample_to_img).")
    if not np.allclose(img_a.affine, img_b.affine, atol=atol):
        raise InvalidInputError(f"{owner}: {what_a} and {what_b} have different affines "
                                f"({np.round(img_a.affine, 3).tolist()} vs {np.round(img_b.affine, 3).tolist()}); "
                                "they must be on the same voxel grid (resample one to the other first, e.g. "
                                "nilearn's resample_to_img, or check that both come from the same space).")


def check_finite_rows(X: np.ndarray, *, owner: str, what: str, row_label: str = "image",
                      row_names: Sequence[str] | None = None, fix: str = "") -> None:
    """Raise if the masked data ``X`` (n_rows, n_voxels) holds NaN or inf.

    The message counts the voxels and rows affected and names the first ones.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_voxels)
    owner : str
    what : str
        E.g. ``"the beta maps inside the mask"``.
    row_label : str, default="image"
        What a row is (``"volume"``, ``"image"``), for the message.
    row_names : sequence of str, optional
        Names of the rows (file names, stimulus ids).
    fix : str
        The remedy appended to the message.
    """
    if X.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(X)
    if not bad.any():
        return
    rows = np.flatnonzero(bad.any(axis=1))
    cols = np.flatnonzero(bad.any(axis=0))
    first = [row_names[r] if row_names is not None else f"{row_label} {r}" for r in rows[:3]]
    raise InvalidInputError(
        f"{owner}: {what} hold {int(bad.sum())} NaN/inf value(s) in {len(cols)} of {X.shape[1]} voxel(s) and "
        f"{len(rows)} of {X.shape[0]} {row_label}(s) (first: {', '.join(map(str, first))}); expected finite values. "
        + (fix or "Exclude those voxels with a tighter mask, or impute them before loading."))


def repetition_time(img: Any) -> float | None:
    """The TR in seconds from a 4D NIfTI header (``pixdim[4]`` and the time unit), or None when absent."""
    zooms = img.header.get_zooms()
    if len(zooms) < 4:
        return None
    tr = float(zooms[3])
    if not np.isfinite(tr) or tr <= 0:
        return None
    try:
        unit = img.header.get_xyzt_units()[1]
    except Exception:  # headers without units (Analyze)
        unit = "sec"
    if unit == "msec":
        tr /= 1000.0
    elif unit == "usec":
        tr /= 1e6
    return tr


def world_coordinates(ijk: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Voxel indices (n, 3) -> world coordinates in mm (n, 3) through ``affine``."""
    ijk = np.asarray(ijk, dtype=float).reshape(-1, 3)
    A = np.asarray(affine, dtype=float)
    return ijk @ A[:3, :3].T + A[:3, 3]


def voxel_descriptors(mask: np.ndarray, affine: np.ndarray) -> dict[str, np.ndarray]:
    """Per-voxel ``i``, ``j``, ``k`` (indices) and ``x``, ``y``, ``z`` (world mm) of a boolean mask, in C order.

    C order is the order of ``data[mask]`` and of nilearn's maskers, so the descriptors line up
    with the columns those produce.
    """
    ijk = np.argwhere(mask)
    xyz = world_coordinates(ijk, affine)
    return {"i": ijk[:, 0].astype(np.int32), "j": ijk[:, 1].astype(np.int32), "k": ijk[:, 2].astype(np.int32),
            "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2]}
