"""Offline sample-image dataset and user image folders.

The sample dataset is assembled at run time from images that ship inside installed
packages -- scikit-image (``skimage.data``), scikit-learn (``load_sample_images``) and,
when present, matplotlib (``sample_data/grace_hopper.jpg``). Nothing is copied into
this repository and nothing is downloaded.

Split
-----
The split is fixed by image *name* (not by a random draw), so it is identical on every
machine: :data:`VALIDATION_NAMES` (four images, each from a required package, so the
validation set never depends on optional packages) is the validation split and every
other available image is the training split. Grayscale images are replicated to three
channels. Images whose loader is unavailable (e.g. matplotlib not installed) are
skipped; :func:`dataset_hash` makes the exact content that was used explicit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "IMAGE_EXTENSIONS",
    "SAMPLE_NAMES",
    "TRAIN_NAMES",
    "VALIDATION_NAMES",
    "NamedImage",
    "dataset_hash",
    "load_image",
    "load_image_folder",
    "load_sample_images",
    "resize_center_crop",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class NamedImage:
    """An RGB image with a stable name.

    Attributes
    ----------
    name : str
        Stable identifier (sample name, or file name relative to a folder).
    pixels : numpy.ndarray
        ``uint8`` array of shape ``(H, W, 3)``.
    """

    name: str
    pixels: np.ndarray


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        img = getattr(data, name)()
        if isinstance(img, tuple):  # stereo_motorcycle -> (left, right, disparity)
            img = img[0]
        return img

    return load


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_images as sk_load

        bunch = sk_load()
        for path, img in zip(bunch.filenames, bunch.images, strict=True):
            if Path(path).name == filename:
                return img
        raise FileNotFoundError(f"{filename} not in sklearn sample images")

    return load


def _matplotlib(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from matplotlib import cbook

        path = cbook.get_sample_data(filename, asfileobj=False)
        return load_image(path)

    return load


# Order is part of the dataset definition (it enters the dataset hash).
_LOADERS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "camera": _skimage("camera"),
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "hubble_deep_field": _skimage("hubble_deep_field"),
    "retina": _skimage("retina"),
    "immunohistochemistry": _skimage("immunohistochemistry"),
    "stereo_motorcycle_left": _skimage("stereo_motorcycle"),
    "coins": _skimage("coins"),
    "moon": _skimage("moon"),
    "brick": _skimage("brick"),
    "grass": _skimage("grass"),
    "gravel": _skimage("gravel"),
    "china": _sklearn("china.jpg"),
    "flower": _sklearn("flower.jpg"),
    "grace_hopper": _matplotlib("grace_hopper.jpg"),
}

#: All sample image names, in dataset order.
SAMPLE_NAMES: tuple[str, ...] = tuple(_LOADERS)
#: The fixed validation split (all from required packages: scikit-image, scikit-learn).
VALIDATION_NAMES: tuple[str, ...] = ("camera", "chelsea", "coffee", "flower")
#: The training split: every other sample name (optional ones may be unavailable).
TRAIN_NAMES: tuple[str, ...] = tuple(n for n in SAMPLE_NAMES if n not in VALIDATION_NAMES)
_OPTIONAL = frozenset({"grace_hopper"})


def _to_rgb_uint8(img: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(img)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(arr.max()) <= 1.0:
            arr = np.clip(np.round(arr * 255.0), 0, 255).astype(np.uint8)
        elif np.issubdtype(arr.dtype, np.integer) and arr.size and int(arr.max()) > 255:
            arr = (arr.astype(np.float64) * (255.0 / float(np.iinfo(arr.dtype).max)))
            arr = np.clip(np.round(arr), 0, 255).astype(np.uint8)
        else:
            arr = np.clip(np.round(arr), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"image {name!r}: cannot convert shape {np.shape(img)} to HxWx3")
    return np.ascontiguousarray(arr)


def resize_center_crop(pixels: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize (area-preserving aspect) and center-crop an RGB image.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``uint8`` image ``(H, W, 3)``.
    size : int or (int, int)
        Output ``S`` (square ``S x S``) or ``(height, width)``. The image is scaled so that
        it covers the output, then center-cropped.

    Returns
    -------
    numpy.ndarray
        ``uint8`` image of the requested size.
    """
    from PIL import Image

    out_h, out_w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    h, w = pixels.shape[:2]
    scale = max(out_h / h, out_w / w)
    new_h, new_w = max(out_h, round(h * scale)), max(out_w, round(w * scale))
    img = Image.fromarray(pixels)
    if (new_h, new_w) != (h, w):
        img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
    top, left = (new_h - out_h) // 2, (new_w - out_w) // 2
    return np.asarray(img)[top : top + out_h, left : left + out_w].copy()


def load_sample_images(
    split: str = "all", size: int | tuple[int, int] | None = None
) -> list[NamedImage]:
    """Load the offline sample images.

    Parameters
    ----------
    split : {"all", "train", "validation"}
        Which split to return (see the module docstring).
    size : int or (int, int) or None
        ``None`` keeps native resolution; otherwise see :func:`resize_center_crop`.

    Returns
    -------
    list of NamedImage
        In dataset order; ``uint8`` ``(H, W, 3)`` pixels.

    Raises
    ------
    ValueError
        For an unknown split.
    ImportError
        When a required source package (scikit-image, scikit-learn) is missing.
    """
    names = {"all": SAMPLE_NAMES, "train": TRAIN_NAMES, "validation": VALIDATION_NAMES}
    if split not in names:
        raise ValueError(f"split must be one of {sorted(names)}, got {split!r}")
    out = []
    for name in names[split]:
        try:
            raw = _LOADERS[name]()
        except (ImportError, FileNotFoundError, OSError):
            if name in _OPTIONAL:
                continue
            raise
        pixels = _to_rgb_uint8(raw, name)
        if size is not None:
            pixels = resize_center_crop(pixels, size)
        out.append(NamedImage(name, pixels))
    return out


def load_image(path: str | Path) -> np.ndarray:
    """Read one image file as ``uint8`` RGB ``(H, W, 3)`` (PIL; palette/alpha/gray handled)."""
    from PIL import Image

    with Image.open(path) as img:
        arr = np.asarray(img.convert("RGB"))
    return np.ascontiguousarray(arr)


def load_image_folder(
    path: str | Path,
    size: int | tuple[int, int] | None = None,
    recursive: bool = False,
    extensions: Iterable[str] = IMAGE_EXTENSIONS,
) -> list[NamedImage]:
    """Load a user's image folder (PNG, JPEG, ...), sorted by relative path.

    Parameters
    ----------
    path : str or pathlib.Path
        Folder to read.
    size : int or (int, int) or None
        Optional resize + center crop (see :func:`resize_center_crop`).
    recursive : bool
        Also read sub-folders.
    extensions : iterable of str
        Accepted file suffixes (case-insensitive).

    Returns
    -------
    list of NamedImage
        Names are POSIX paths relative to ``path``.

    Raises
    ------
    NotADirectoryError
        If ``path`` is not a folder.
    FileNotFoundError
        If the folder holds no image files.
    """
    root = Path(path)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    exts = {e.lower() for e in extensions}
    files = sorted(
        (p for p in (root.rglob("*") if recursive else root.iterdir())
         if p.is_file() and p.suffix.lower() in exts),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    if not files:
        raise FileNotFoundError(f"no image files ({', '.join(sorted(exts))}) in {root}")
    out = []
    for f in files:
        pixels = load_image(f)
        if size is not None:
            pixels = resize_center_crop(pixels, size)
        out.append(NamedImage(f.relative_to(root).as_posix(), pixels))
    return out


def dataset_hash(images: Sequence[NamedImage]) -> str:
    """Stable sha256 over names, shapes and pixel bytes, in the given order.

    Returns
    -------
    str
        ``"sha256:<hex>"``.
    """
    h = hashlib.sha256()
    for img in images:
        px = np.ascontiguousarray(img.pixels, dtype=np.uint8)
        h.update(img.name.encode("utf-8") + b"\0")
        h.update(("x".join(map(str, px.shape))).encode("ascii") + b"\0")
        h.update(px.tobytes())
    return "sha256:" + h.hexdigest()
