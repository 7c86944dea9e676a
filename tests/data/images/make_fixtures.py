#!/usr/bin/env python3
"""Makes the image fixtures of tests/test_image.c and what Pillow decodes from them.

Run from the repository root with Pillow 9.4 (the version the small_vl goldens used):
    pip install pillow==9.4.0 numpy safetensors
    python3 tests/data/images/make_fixtures.py
Writes the images into tests/data/images/ and expected.safetensors beside them: for each image
NAME, "NAME" = Pillow's pixels as the Hugging Face processor sees them
(ImageOps.exif_transpose(Image.open(path)).convert("RGB")), int64 [h, w, 3], and "NAME.noexif"
without the transpose; and for each resize case "resize.WxH_to_WxH" = Image.resize(BICUBIC) of
the source "resize.src".
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps
from safetensors.numpy import save_file

OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(35)


def smooth(h, w, c):
    """A picture-like array: gradients plus noise, so resampling and JPEG have work to do."""
    y, x = np.mgrid[0:h, 0:w]
    planes = [(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 3) % 256, (x * y) % 256]
    base = np.stack(planes[:c], -1)
    noise = rng.integers(-40, 40, size=(h, w, c))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, arr, bit_depth, color_type, interlace=False, palette=None):
    """A small PNG encoder (filter 0), with Adam7 interlacing, for what Pillow cannot write."""
    h, w = arr.shape[:2]
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    dt = ">u2" if bit_depth == 16 else "u1"

    def row_bytes(r):
        if bit_depth < 8:  # pack samples MSB first
            per = 8 // bit_depth
            v = list(r.reshape(-1)) + [0] * (-len(r.reshape(-1)) % per)
            return bytes(sum(int(v[i + k]) << (8 - bit_depth * (k + 1)) for k in range(per)) for i in range(0, len(v), per))
        return r.astype(dt).tobytes()

    def rows(a):
        return b"".join(b"\0" + row_bytes(a[r]) for r in range(a.shape[0]))

    if interlace:
        raw = b""
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            sub = arr[y0::dy, x0::dx]
            if sub.size:
                raw += rows(sub)
    else:
        raw = rows(arr)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if palette is not None:
        data += png_chunk(b"PLTE", palette.astype("u1").tobytes())
    data += png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def main():
    expected = {}
    names = []

    def add(name):
        p = os.path.join(OUT, name)
        with Image.open(p) as im:
            expected[name] = np.asarray(ImageOps.exif_transpose(im).convert("RGB")).astype(np.int64)
        with Image.open(p) as im:
            expected[name + ".noexif"] = np.asarray(im.convert("RGB")).astype(np.int64)
        names.append(name)

    rgb = smooth(23, 37, 3)
    Image.fromarray(rgb).save(os.path.join(OUT, "rgb8.png")); add("rgb8.png")
    Image.fromarray(smooth(19, 29, 4)).save(os.path.join(OUT, "rgba.png")); add("rgba.png")
    Image.fromarray(smooth(17, 31, 1)[..., 0]).save(os.path.join(OUT, "grey.png")); add("grey.png")
    Image.fromarray(smooth(17, 31, 2), "LA").save(os.path.join(OUT, "grey_alpha.png")); add("grey_alpha.png")
    pal = Image.fromarray(rgb).quantize(16)
    pal.info["transparency"] = 3
    pal.save(os.path.join(OUT, "palette.png"), transparency=3); add("palette.png")
    write_png(os.path.join(OUT, "rgb16.png"), smooth(13, 21, 3).astype(np.uint16) * 257 + 3, 16, 2); add("rgb16.png")
    write_png(os.path.join(OUT, "grey16.png"), smooth(13, 21, 1)[..., 0].astype(np.uint16) * 200, 16, 0); add("grey16.png")
    write_png(os.path.join(OUT, "interlaced.png"), smooth(21, 27, 3), 8, 2, interlace=True); add("interlaced.png")
    write_png(os.path.join(OUT, "grey4.png"), (smooth(9, 11, 1)[..., 0] >> 4), 4, 0); add("grey4.png")

    big = smooth(40, 56, 3)
    Image.fromarray(big).save(os.path.join(OUT, "baseline.jpg"), quality=85); add("baseline.jpg")
    Image.fromarray(big).save(os.path.join(OUT, "progressive.jpg"), quality=80, progressive=True); add("progressive.jpg")
    Image.fromarray(big[..., 0]).save(os.path.join(OUT, "grey.jpg"), quality=90); add("grey.jpg")
    Image.fromarray(big).convert("CMYK").save(os.path.join(OUT, "cmyk.jpg"), quality=90); add("cmyk.jpg")
    for o in (3, 6, 8):
        ex = Image.Exif()
        ex[0x0112] = o
        Image.fromarray(smooth(20, 34, 3)).save(os.path.join(OUT, f"exif{o}.jpg"), quality=90, exif=ex.tobytes())
        add(f"exif{o}.jpg")

    ex = Image.Exif()
    ex[0x0112] = 6
    Image.fromarray(smooth(12, 18, 3)).save(os.path.join(OUT, "exif6.png"), exif=ex.tobytes())
    add("exif6.png")

    # Pillow's bicubic: down, up, and one axis each way
    src = smooth(61, 97, 3)
    expected["resize.src"] = src.astype(np.int64)
    for (w, h) in [(40, 25), (150, 90), (200, 30), (97, 20), (33, 61)]:
        expected[f"resize.97x61_to_{w}x{h}"] = np.asarray(Image.fromarray(src).resize((w, h), Image.BICUBIC)).astype(np.int64)

    # broken files
    with open(os.path.join(OUT, "rgb8.png"), "rb") as f:
        png = f.read()
    with open(os.path.join(OUT, "bad_truncated.png"), "wb") as f:
        f.write(png[: len(png) // 2])
    with open(os.path.join(OUT, "baseline.jpg"), "rb") as f:
        jpg = f.read()
    with open(os.path.join(OUT, "bad_truncated.jpg"), "wb") as f:
        f.write(jpg[: len(jpg) // 2])
    with open(os.path.join(OUT, "bad_text.png"), "w") as f:
        f.write("this is not an image\n")
    write_png(os.path.join(OUT, "bad_huge.png"), np.zeros((1, 8, 3), np.uint8), 8, 2)
    with open(os.path.join(OUT, "bad_huge.png"), "r+b") as f:  # claim 100000 x 1 pixels
        data = bytearray(f.read())
        data[16:20] = struct.pack(">I", 100000)
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        f.seek(0); f.write(data)
    write_png(os.path.join(OUT, "bad_zero.png"), np.zeros((1, 8, 3), np.uint8), 8, 2)
    with open(os.path.join(OUT, "bad_zero.png"), "r+b") as f:  # claim a width of 0
        data = bytearray(f.read())
        data[16:20] = struct.pack(">I", 0)
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        f.seek(0); f.write(data)
    Image.fromarray(smooth(1, 201, 3)).save(os.path.join(OUT, "wide_201x1.png"))

    save_file({k: np.ascontiguousarray(v) for k, v in expected.items()}, os.path.join(OUT, "expected.safetensors"))
    print(f"{len(names)} images, {len(expected)} expected arrays")


if __name__ == "__main__":
    main()
