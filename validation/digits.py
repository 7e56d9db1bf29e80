"""Handwritten 0/1 digits: data sets, IDX files and the class feature.

The default data are the 8x8 digits that scikit-learn ships
(``sklearn.datasets.load_digits``, no download), with pixels in
``[0, 16]``. MNIST is read from local IDX files (``train-images-idx3-ubyte``
and ``train-labels-idx1-ubyte``, optionally gzipped), with pixels in
``[0, 255]``. Pixels are mapped linearly to ``[-1, 1]``.

The unbalanced set keeps a fraction ``zero_fraction`` of zeros and the
rest ones, and splits off a held-out part with the same fraction. The
feature is the class, predicted by a logistic regression.
"""

from __future__ import annotations

import gzip
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

IDX_IMAGES = "train-images-idx3-ubyte"
IDX_LABELS = "train-labels-idx1-ubyte"
# Magic numbers of IDX files: two zero bytes, the type code 0x08 (unsigned
# byte) and the number of dimensions.
_IDX_UBYTE = 0x08


class DataError(ValueError):
    """A data file is missing or malformed."""


def read_idx(path):
    """Read an IDX file of unsigned bytes (gzipped when the name ends in .gz)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read IDX file '{path}': {error}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE:
        raise DataError(
            f"'{path}' is not an IDX file of unsigned bytes (header {raw[:4].hex() or 'empty'}, "
            "expected 000008xx)")
    n_dims = raw[3]
    header = 4 + 4 * n_dims
    if n_dims < 1 or len(raw) < header:
        raise DataError(f"'{path}' has a truncated IDX header")
    shape = struct.unpack(f">{n_dims}I", raw[4:header])
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise DataError(
            f"invalid IDX file '{path}': it contains {len(raw) - header} data bytes "
            f"but its header promises shape {shape} ({size} bytes)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path, array):
    """Write an array of unsigned bytes as an IDX file (gzipped for .gz)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _IDX_UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(header + array.tobytes())


def _find_idx(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    raise DataError(
        f"--mnist-dir '{folder}' has no file {stem} or {stem}.gz; put the MNIST "
        "training images and labels there")


def find_mnist_files(folder):
    """Return the paths of the MNIST training images and labels in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--mnist-dir '{folder}' is not a folder; give the folder that "
                        "contains the MNIST IDX files")
    return _find_idx(folder, IDX_IMAGES), _find_idx(folder, IDX_LABELS)


def load_mnist(folder, pool=2):
    """Load MNIST images and labels from ``folder``, average-pooled by ``pool``.

    Returns ``(images, labels, side)`` with images scaled to ``[-1, 1]`` and
    flattened to ``side*side`` pixels.
    """
    images_path, labels_path = find_mnist_files(folder)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(
            f"MNIST images of shape {images.shape} do not match labels of shape {labels.shape}")
    side = images.shape[1]
    if side % pool or images.shape[2] != side:
        raise DataError(f"image side {side} is not square or not divisible by pool {pool}")
    small = images.reshape(-1, side // pool, pool, side // pool, pool).mean(axis=(2, 4))
    flat = small.reshape(images.shape[0], -1) / 255.0 * 2.0 - 1.0
    return flat, labels.astype(int), side // pool


def load_sklearn_digits():
    """Load scikit-learn's 8x8 digits scaled to ``[-1, 1]``: ``(images, labels, 8)``."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data / 16.0 * 2.0 - 1.0, bunch.target.astype(int), 8


@dataclass
class DigitSets:
    """The unbalanced 0/1 training and held-out sets, and the remaining pool.

    ``labels`` are 0 or 1; ``spare_*`` are 0/1 images in neither set, used
    only to train the classifier.
    """

    train: np.ndarray
    train_labels: np.ndarray
    held_out: np.ndarray
    held_out_labels: np.ndarray
    spare: np.ndarray
    spare_labels: np.ndarray
    side: int

    @property
    def dim(self):
        return self.train.shape[1]


def unbalanced_sets(images, labels, side, rng, *, zero_fraction=0.8, held_out_fraction=0.25,
                    max_size=None):
    """Build the unbalanced 0/1 sets with ``zero_fraction`` zeros in each part.

    The total size is as large as the zeros and ones allow (at most
    ``max_size``); each part keeps the fraction up to rounding.
    """
    if not 0.0 < zero_fraction < 1.0:
        raise ValueError(f"zero fraction must lie in (0, 1), got {zero_fraction}")
    zeros = rng.permutation(np.flatnonzero(labels == 0))
    ones = rng.permutation(np.flatnonzero(labels == 1))
    total = int(min(zeros.size / zero_fraction, ones.size / (1.0 - zero_fraction)))
    if max_size is not None:
        total = min(total, int(max_size))
    n_zeros = int(round(total * zero_fraction))
    n_ones = total - n_zeros
    if n_ones < 4 or n_zeros < 4:
        raise DataError(f"too few images for an unbalanced set: {zeros.size} zeros, {ones.size} ones")
    held_zeros = int(round(n_zeros * held_out_fraction))
    held_ones = int(round(n_ones * held_out_fraction))
    parts = {
        "train": np.concatenate([zeros[held_zeros:n_zeros], ones[held_ones:n_ones]]),
        "held_out": np.concatenate([zeros[:held_zeros], ones[:held_ones]]),
        "spare": np.concatenate([zeros[n_zeros:], ones[n_ones:]]),
    }
    binary = (labels == 1).astype(int)
    return DigitSets(
        train=images[parts["train"]], train_labels=binary[parts["train"]],
        held_out=images[parts["held_out"]], held_out_labels=binary[parts["held_out"]],
        spare=images[parts["spare"]], spare_labels=binary[parts["spare"]], side=side,
    )


def fit_classifier(sets, seed=0):
    """Fit a logistic regression for the class on the training and spare images."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([sets.train, sets.spare])
    y = np.concatenate([sets.train_labels, sets.spare_labels])
    classifier = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    classifier.fit(x, y)
    accuracy = float(classifier.score(sets.held_out, sets.held_out_labels))
    logger.info("classifier accuracy on the held-out set: %.3f", accuracy)
    return classifier, accuracy
