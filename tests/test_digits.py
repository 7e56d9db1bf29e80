"""Tests of the digit data: IDX files, MNIST loading, unbalanced sets, classifier.

The IDX files are written here, byte by byte from the format's
definition (big-endian header after the magic ``00 00 08 ndim``), so the
reader is checked against the format rather than against the writer.
"""

import gzip
import struct

import numpy as np
import pytest

from flowphase.validation import digits


def _idx_bytes(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist(folder, images, labels, compress=False):
    for name, array in ((digits.IDX_IMAGES, images), (digits.IDX_LABELS, labels)):
        raw = _idx_bytes(array)
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)


def test_read_idx_parses_handwritten_file(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(_idx_bytes(array))
    np.testing.assert_array_equal(digits.read_idx(tmp_path / "a.idx"), array)


def test_write_idx_roundtrip_gzip(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, size=(5, 7)).astype(np.uint8)
    digits.write_idx(tmp_path / "b.idx.gz", array)
    assert gzip.decompress((tmp_path / "b.idx.gz").read_bytes()) == _idx_bytes(array)
    np.testing.assert_array_equal(digits.read_idx(tmp_path / "b.idx.gz"), array)


@pytest.mark.parametrize("raw, message", [
    (b"", "not an IDX"),
    (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00", "not an IDX"),
    (b"\x00\x00\x08\x02\x00\x00", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "promises shape"),
])
def test_read_idx_rejects_malformed(tmp_path, raw, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(raw)
    with pytest.raises(digits.DataError, match=message):
        digits.read_idx(path)


def test_load_mnist_pools_and_scales(tmp_path):
    images = np.zeros((3, 4, 4), dtype=np.uint8)
    images[0, :2, :2] = 255
    images[1] = 51
    labels = np.array([0, 1, 7], dtype=np.uint8)
    _write_mnist(tmp_path, images, labels, compress=True)
    flat, got_labels, side = digits.load_mnist(tmp_path, pool=2)
    assert side == 2
    np.testing.assert_array_equal(got_labels, [0, 1, 7])
    np.testing.assert_allclose(flat[0], [1.0, -1.0, -1.0, -1.0])
    np.testing.assert_allclose(flat[1], np.full(4, 51 / 255 * 2 - 1))


def test_load_mnist_reports_missing_file(tmp_path):
    with pytest.raises(digits.DataError, match="train-images-idx3-ubyte"):
        digits.load_mnist(tmp_path)


def test_load_mnist_rejects_mismatched_labels(tmp_path):
    _write_mnist(tmp_path, np.zeros((3, 4, 4)), np.zeros(2))
    with pytest.raises(digits.DataError, match="do not match"):
        digits.load_mnist(tmp_path)


def test_unbalanced_sets_keep_fraction():
    images, labels, side = digits.load_sklearn_digits()
    assert images.min() == -1.0
    assert images.max() == 1.0
    sets = digits.unbalanced_sets(images, labels, side, np.random.default_rng(0))
    n_train, n_held = sets.train.shape[0], sets.held_out.shape[0]
    assert abs(np.mean(sets.train_labels == 0) - 0.8) < 1 / n_train + 1e-12
    assert abs(np.mean(sets.held_out_labels == 0) - 0.8) < 1 / n_held + 1e-12
    # No image is in two parts.
    rows = {row.tobytes() for row in sets.train}
    assert not any(row.tobytes() in rows for row in sets.held_out)
    assert set(np.unique(sets.spare_labels)) <= {0, 1}


def test_classifier_separates_zeros_and_ones():
    images, labels, side = digits.load_sklearn_digits()
    sets = digits.unbalanced_sets(images, labels, side, np.random.default_rng(0))
    _, accuracy = digits.fit_classifier(sets)
    assert accuracy >= 0.95


def test_unbalanced_sets_reject_bad_fraction():
    images, labels, side = digits.load_sklearn_digits()
    with pytest.raises(ValueError, match="zero fraction"):
        digits.unbalanced_sets(images, labels, side, np.random.default_rng(0), zero_fraction=1.0)
