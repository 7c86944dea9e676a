#!/usr/bin/env python3
"""Makes the .npy fixtures of tests/test_npy.c, and checks .npy files written by q35.

Run from the repository root with numpy (any version with numpy.lib.format; these were made with
numpy 2.4):
    python3 tests/data/npy/make_fixtures.py
writes every fixture below into tests/data/npy/ (plus notes.txt and sub/inner.npy, which the
reader must ignore). The values are formulas that tests/test_npy.c recomputes in C, so every
element is compared exactly.

    Q35_NPY_EXPORT=/tmp/npyout build/tests/test_npy
    python3 tests/data/npy/make_fixtures.py --check /tmp/npyout
checks what q35_npy_write wrote (the test re-writes every fixture it read into $Q35_NPY_EXPORT):
numpy must load each file to the expected dtype, shape and bits, and each file must be byte for
byte what numpy.save writes for the same array.
"""
import io
import os
import sys

import numpy as np
from numpy.lib import format as npf

OUT = os.path.dirname(os.path.abspath(__file__))


def bf16_bits(x):
    """bfloat16 saved the documented way: the upper 16 bits of the float32, as uint16."""
    return (np.asarray(x, dtype=np.float32).view(np.uint32) >> 16).astype("<u2")


def fixtures():
    """name -> (array, npy version or None for numpy's default)."""
    i = np.arange
    return {
        # one per dtype; C recomputes each element
        "f32": ((i(6, dtype=np.float32) * np.float32(0.1) - np.float32(0.3)).reshape(2, 3).astype("<f4"), None),
        "f16": (((i(7) - 3) * 0.125).astype("<f2"), None),
        "bf16": (bf16_bits((i(8) - 4) * 0.375).reshape(2, 4), None),
        "f64": ((i(3, dtype=np.float64) * 0.1 - 2.5).astype("<f8"), None),
        "i64": (((i(4, dtype=np.int64) - 2) * 3000000019).reshape(2, 2).astype("<i8"), None),
        "i32": (((i(5, dtype=np.int64) - 2) * 1000000007).astype("<i4"), None),
        # shapes
        "scalar": (np.array(2.5, dtype="<f4"), None),
        "empty": (np.zeros((0,), dtype="<f4"), None),
        "empty3": (np.zeros((2, 0, 3), dtype="<f8"), None),
        "dims8": (i(6, dtype=np.float32).reshape(1, 1, 1, 1, 1, 1, 2, 3).astype("<f4"), None),
        "f32_4d": ((i(120, dtype=np.float32) * np.float32(0.5)).reshape(2, 3, 4, 5).astype("<f4"), None),
        # header versions 2.0 and 3.0 (4-byte header length)
        "v2": ((i(4) + 10).astype("<i4"), (2, 0)),
        "v3": (np.array([1.5, -2.0], dtype="<f2"), (3, 0)),
        # names other implementations use, kept verbatim
        "Kcur-3": (np.full(2, 3.0, dtype="<f4"), None),
        "Kcur-3#1": (np.full(2, 31.0, dtype="<f4"), None),
        "attn_norm-0": (np.full(1, 0.5, dtype="<f4"), None),
        "model.layers.0.mlp": (np.full(3, 7.0, dtype="<f4"), None),
    }


def npy_bytes(arr, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, arr)
    else:
        npf.write_array(b, arr, version=version)
    return b.getvalue()


def make():
    for name, (arr, version) in fixtures().items():
        with open(os.path.join(OUT, name + ".npy"), "wb") as f:
            f.write(npy_bytes(arr, version))
    with open(os.path.join(OUT, "notes.txt"), "w") as f:
        f.write("not a tensor: test_npy checks that files not named *.npy are ignored\n")
    os.makedirs(os.path.join(OUT, "sub"), exist_ok=True)
    np.save(os.path.join(OUT, "sub", "inner.npy"), np.zeros(1, dtype="<f4"))  # subdirectories are ignored
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {len(fixtures())} fixtures into {OUT} ({total} bytes with the script)")


def check(d):
    bad = 0
    for name, (arr, _) in fixtures().items():
        path = os.path.join(d, name + ".npy")
        got = np.load(path)
        ok = got.dtype == arr.dtype and got.shape == arr.shape and got.tobytes() == arr.tobytes()
        same = open(path, "rb").read() == npy_bytes(arr)
        print(f"{name:20s} {'ok' if ok else 'WRONG VALUES'}  {'bytes as numpy.save' if same else 'BYTES DIFFER from numpy.save'}")
        bad += (not ok) + (not same)
    print("all good" if not bad else f"{bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    make()
