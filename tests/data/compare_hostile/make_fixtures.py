#!/usr/bin/env python3
"""Fixtures for tests/test_compare.c (integer_tensors_exact): one-tensor safetensors dumps named
image_grid_thw, to be compared pairwise with `q35 compare A B` in both orders. Standard library
only; run it from anywhere.

  ii.st           I64 [1, 2]
  fi.st           F32 [1.00001, 2]          a float that is no integer: never equals ii
  fexact.st       F32 [1, 2]                exactly ii's integers: equals ii
  i32.st          I32 [1, 2]                the same integers, 32-bit: equals ii
  i64c.st         I64 [2^53 + 1, 1]         differs from i64d by 1, which double cannot see
  i64d.st         I64 [2^53, 1]
  big_i64.st      I64 [16777217, 1]         2^24 + 1 ...
  big_f32.st      F32 [16777216, 1]         ... rounded by float32: another integer
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def dump(name, dtype, fmt, values):
    data = struct.pack("<%d%s" % (len(values), fmt), *values)
    header = json.dumps({"image_grid_thw": {"dtype": dtype, "shape": [len(values)], "data_offsets": [0, len(data)]}})
    header += " " * (-len(header) % 8)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header.encode() + data)


dump("ii.st", "I64", "q", [1, 2])
dump("fi.st", "F32", "f", [1.00001, 2])
dump("fexact.st", "F32", "f", [1, 2])
dump("i32.st", "I32", "i", [1, 2])
dump("i64c.st", "I64", "q", [2**53 + 1, 1])
dump("i64d.st", "I64", "q", [2**53, 1])
dump("big_i64.st", "I64", "q", [2**24 + 1, 1])
dump("big_f32.st", "F32", "f", [2**24, 1])
