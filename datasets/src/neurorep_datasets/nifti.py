"""Reading NIfTI files with errors a person can act on (corrupt, truncated, wrong dimensionality)."""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from neurorep.errors import InvalidInputError

__all__ = ["read_nifti", "check_same_grid"]


def read_nifti(path: str | os.PathLike[str], *, owner: str, what: str = "image",
               ndim: int | None = None) -> tuple[Any, np.ndarray]:
    """Load a NIfTI image and read all its voxel data.

    Reading the data (not just the header) is what exposes a truncated ``.nii.gz``; doing it here
    turns nibabel's low-level errors into one message naming the file and the fix.

    Parameters
    ----------
    path : path
    owner : str
        The component named in error messages.
    what : str
        What the image is (``"BOLD run 3"``, ``"mask 'vt'"``), for messages.
    ndim : int, optional
        Required dimensionality (4 for BOLD time series, 3 for masks).

    Returns
    -------
    img : nibabel.Nifti1Image
    data : ndarray
        The voxel data as stored (no scaling applied when the header has none).

    Raises
    ------
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
            "Expected a valid .nii or .nii.gz file; it is corrupt, truncated or of another format. Replace it "
            "with an intact copy (for a dataset: load with verify=True to check it against the card, or run "
            "'neurorep datasets fetch <id> --force').") from exc
    try:
        data = np.asanyarray(img.dataobj)
    except (EOFError, OSError, zlib.error, ValueError) as exc:
        raise InvalidInputError(
            f"{owner}: {what} file {p} is truncated or corrupt: its header announces shape {img.shape} "
            f"({img.get_data_dtype()}) but reading the voxel data failed after {size} bytes on disk "
            f"({type(exc).__name__}: {exc}). Replace it with an intact copy (for a dataset: load with "
            "verify=True to check it against the card, or run 'neurorep datasets fetch <id> --force').") from exc
    if ndim is not None and data.ndim != ndim:
        if ndim == 4 and data.ndim == 3:
            hint = "a single 3D volume was given where a 4D time series (x, y, z, time) is needed"
        elif ndim == 3 and data.ndim == 4 and data.shape[3] == 1:
            hint = "drop the trailing singleton time axis (e.g. nibabel's squeeze_image)"
        else:
            hint = f"give a {ndim}D image"
        raise InvalidInputError(f"{owner}: {what} file {p} has shape {data.shape} ({data.ndim}D), expected a "
                                f"{ndim}D image: {hint}.")
    return img, data


def check_same_grid(img_a: Any, img_b: Any, *, owner: str, what_a: str, what_b: str, atol: float = 1e-3) -> None:
    """Raise unless two images share the spatial shape and affine (a mask applied to a BOLD image)."""
    sa, sb = tuple(img_a.shape[:3]), tuple(img_b.shape[:3])
    if sa != sb:
        raise InvalidInputError(f"{owner}: {what_a} has spatial shape {sa} but {what_b} has {sb}; they must be on "
                                "the same voxel grid (resample one to the other first, e.g. nilearn's "
                                "resample_to_img).")
    if not np.allclose(img_a.affine, img_b.affine, atol=atol):
        raise InvalidInputError(f"{owner}: {what_a} and {what_b} have different affines "
                                f"({np.round(img_a.affine, 3).tolist()} vs {np.round(img_b.affine, 3).tolist()}); "
                                "they must be on the same voxel grid.")
