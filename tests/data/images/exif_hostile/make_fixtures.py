#!/usr/bin/env python3
"""Hostile EXIF/XMP fixtures for tests/test_image.c (exif_like_pillow): each file holds one way of
giving (or seeming to give) an orientation, and Pillow decides. For each file this script writes
it here and prints the line of test_image.c's table `hostile` with what Hugging Face's load_image
makes of it: Image.open, ImageOps.exif_transpose, convert("RGB"), then width, height and FNV-1a 64
of the RGB bytes, or that exif_transpose raises. Run it from anywhere with Pillow installed (made
with Pillow 13.0.0) and paste the printed table into tests/test_image.c.

What Pillow 13 does, which the cases pin down:
- JPEG: info["exif"] is the first APP1 that starts "Exif\\0\\0"; later ones are appended to it
  without their prefix (so an offset in the first may point into the second); an APP1 without the
  prefix is not EXIF. The last XMP APP1 is info["xmp"].
- PNG: info["exif"] is the last of the eXIf chunks and tEXt chunks named "exif" (zTXt/iTXt ones
  hold a str, on which Exif.load raises); without it, the hex dump of a "Raw profile type exif"
  text chunk (tEXt, zTXt or iTXt; not a hex dump: raises). XMP: the last XML:com.adobe.xmp text,
  or the raw bytes of the last iTXt of that name when no valid text has it.
- Exif.load drops one or two "Exif\\0\\0" prefixes; a block without a TIFF header, a BigTIFF one or
  under 8 bytes raises, except in a JPEG without a JFIF resolution, where the opener has already
  caught that error and kept no orientation, not even XMP's.
- IFD0: the first entry of a tag wins; unknown types and empty entries are skipped; reading ends
  at a truncated entry or an out-of-line value past the end (earlier tags kept), but an
  out-of-line value is only skipped when the out-of-line sizes add up to more than the block.
  Integer, float and rational values equal to 2..8 transpose; BYTE, UNDEFINED, ASCII never do.
- PNG chunks count up to IEND, but in an animated PNG only up to the fcTL after the image data.
- When IFD0 has no Orientation, the first r'tiff:Orientation(="|>)([0-9])' of the XMP does.
- A JPEG without a JFIF resolution whose IFD0 has ResolutionUnit and an XResolution of one BYTE or
  UNDEFINED byte, or ASCII text of no character or one digit, cannot be opened (JpegImagePlugin's
  _read_dpi_from_exif raises IndexError, which Image.open does not catch).

Left out (q35 transposes, Pillow raises): after transposing, exif_transpose writes the EXIF back
with Exif.tobytes, which raises when a tag's value does not fit the type Pillow's TiffTags gives
the tag (e.g. ResolutionUnit as a LONG over 65535 or as a FLOAT).
"""
import io
import os
import random
import struct
import zlib

from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = Image.frombytes("RGB", (12, 8), random.Random(7).randbytes(12 * 8 * 3))
X = b"Exif\0\0"
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\0"
O = 0x0112  # Orientation


def tiff(entries, le=True, head=None, extra=b"", count=None):
    """A TIFF block whose IFD0 (at 8) holds entries (tag, type, count, 4-byte field), then extra."""
    e = "<" if le else ">"
    head = head if head is not None else (b"II*\0" if le else b"MM\0*") + struct.pack(e + "L", 8)
    n = len(entries) if count is None else count
    ifd = struct.pack(e + "H", n) + b"".join(struct.pack(e + "HHL", *t[:3]) + t[3] for t in entries)
    return head + ifd + struct.pack(e + "L", 0) + extra


def short(v, le=True):
    return struct.pack("<HH" if le else ">HH", v, 0)


def ori(v, le=True):
    return tiff([(O, 3, 1, short(v, le))], le)


def xmp(v, elem=False):
    return (b"<tiff:Orientation>%d</tiff:Orientation>" % v) if elem else (b'<rdf:Description tiff:Orientation="%d"/>' % v)


def jpeg(segments, dpi=None):
    """BASE as a JPEG with APPn segments (marker, payload) after its JFIF APP0."""
    b = io.BytesIO()
    BASE.save(b, "JPEG", quality=90, optimize=True, **({"dpi": dpi} if dpi else {}))
    d = b.getvalue()
    assert d[2:4] == b"\xff\xe0"
    cut = 4 + struct.unpack(">H", d[4:6])[0]
    return d[:cut] + b"".join(struct.pack(">BBH", 0xFF, m, len(s) + 2) + s for m, s in segments) + d[cut:]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(pre=(), post=()):
    """BASE as a PNG with chunks (type, data) before and after the image data."""
    b = io.BytesIO()
    BASE.save(b, "PNG")
    d = b.getvalue()
    ihdr_end = 8 + 12 + 13
    iend = d.rindex(b"IEND") - 4
    return (d[:ihdr_end] + b"".join(chunk(*c) for c in pre) + d[ihdr_end:iend] + b"".join(chunk(*c) for c in post)
            + d[iend:])


def apng_with_exif(at_end):
    """BASE then its mirror image as an animated PNG, with an eXIf chunk before its IEND (after the
    second frame) or right after the first frame's image data."""
    b = io.BytesIO()
    BASE.save(b, "PNG", save_all=True, append_images=[BASE.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    d = b.getvalue()
    cut = d.rindex(b"IEND") - 4 if at_end else d.index(b"fcTL", d.index(b"IDAT")) - 4
    return d[:cut] + chunk(b"eXIf", ori(6)) + d[cut:]


def raw_profile(block):
    h = block.hex()
    return ("\nexif\n%8d\n%s\n" % (len(block), "\n".join(h[i:i + 72] for i in range(0, len(h), 72)))).encode()


def itxt(key, text, compressed=False):
    return key + b"\0" + bytes([int(compressed), 0]) + b"\0\0" + (zlib.compress(text) if compressed else text)


RAW = b"Raw profile type exif\0"
CASES = {
    # JPEG: which APP1 is EXIF
    "j_bare_tiff_6.jpg": jpeg([(0xE1, ori(6))]),
    "j_exif1_then_exif6.jpg": jpeg([(0xE1, X + ori(1)), (0xE1, X + ori(6))]),
    "j_noorient_then_exif6.jpg": jpeg([(0xE1, X + tiff([(0x010F, 2, 4, b"abc\0")])), (0xE1, X + ori(6))]),
    "j_empty_exif_then_6.jpg": jpeg([(0xE1, X), (0xE1, X + ori(6))]),
    "j_value_in_second_app1_8.jpg": jpeg([(0xE1, X + tiff([(O, 3, 3, struct.pack("<L", 26))])),
                                          (0xE1, X + struct.pack("<HHH", 8, 1, 1))]),
    "j_double_prefix_6.jpg": jpeg([(0xE1, X + X + ori(6))]),
    "j_mm002b_header_6.jpg": jpeg([(0xE1, X + b"MM\0+" + ori(6, le=False)[4:])]),
    # JPEG: a block Pillow cannot parse
    "j_bad_header.jpg": jpeg([(0xE1, X + b"XXXX\x08\0\0\0" + ori(6)[8:])]),
    "j_bad_header_dpi.jpg": jpeg([(0xE1, X + b"XXXX\x08\0\0\0" + ori(6)[8:])], dpi=(72, 72)),
    "j_bad_header_xmp6.jpg": jpeg([(0xE1, X + b"XXXX\x08\0\0\0"), (0xE1, XMP_APP1 + xmp(6))]),
    "j_bigtiff_dpi.jpg": jpeg([(0xE1, X + b"II+\0\x08\0\0\0" + ori(6)[8:])], dpi=(300, 300)),
    # Pillow's JPEG opener reads XResolution when no JFIF resolution is given, and can fail on it
    "j_xres_one_byte.jpg": jpeg([(0xE1, X + tiff([(0x011A, 1, 1, b"\x48\0\0\0"), (0x0128, 3, 1, short(2))]))]),
    "j_xres_one_byte_dpi.jpg": jpeg([(0xE1, X + tiff([(0x011A, 1, 1, b"\x48\0\0\0"), (0x0128, 3, 1, short(2))]))],
                                    dpi=(72, 72)),
    "j_xres_digit.jpg": jpeg([(0xE1, X + tiff([(0x011A, 2, 2, b"5\0\0\0"), (0x0128, 3, 1, short(2))]))]),
    "j_xres_letter.jpg": jpeg([(0xE1, X + tiff([(0x011A, 2, 2, b"a\0\0\0"), (0x0128, 3, 1, short(2))]))]),
    # the value's type and count
    "j_byte_6.jpg": jpeg([(0xE1, X + tiff([(O, 1, 1, b"\6\0\0\0")]))]),
    "j_long_be_6.jpg": jpeg([(0xE1, X + tiff([(O, 4, 1, struct.pack(">L", 6))], le=False))]),
    "j_float_6.jpg": jpeg([(0xE1, X + tiff([(O, 11, 1, struct.pack("<f", 6.0))]))]),
    "j_rational_12_2.jpg": jpeg([(0xE1, X + tiff([(O, 5, 1, struct.pack("<L", 26))], extra=struct.pack("<LL", 12, 2)))]),
    "j_rational_6_0.jpg": jpeg([(0xE1, X + tiff([(O, 5, 1, struct.pack("<L", 26))], extra=struct.pack("<LL", 6, 0)))]),
    "j_count2_6_3.jpg": jpeg([(0xE1, X + tiff([(O, 3, 2, struct.pack("<HH", 6, 3))]))]),
    # IFD0 structure
    "j_dup_6_then_3.jpg": jpeg([(0xE1, X + tiff([(O, 3, 1, short(6)), (O, 3, 1, short(3))]))]),
    "j_dup_unknown_type_then_3.jpg": jpeg([(0xE1, X + tiff([(O, 14, 1, short(6)), (O, 3, 1, short(3))]))]),
    "j_truncated_ifd_6.jpg": jpeg([(0xE1, X + tiff([(O, 3, 1, short(6))], count=5)[:8 + 2 + 12 + 5])]),
    "j_offset_past_end_before_6.jpg": jpeg([(0xE1, X + tiff([(0x010F, 2, 20, struct.pack("<L", 5000)), (O, 3, 1, short(6))]))]),
    "j_huge_count_before_6.jpg": jpeg([(0xE1, X + tiff([(0x010F, 2, 0x7FFFFFFF, struct.pack("<L", 8)), (O, 3, 1, short(6))]))]),
    # XMP
    "j_xmp6.jpg": jpeg([(0xE1, XMP_APP1 + xmp(6))]),
    "j_exif1_xmp6.jpg": jpeg([(0xE1, X + ori(1)), (0xE1, XMP_APP1 + xmp(6))]),
    "j_noorient_xmp6.jpg": jpeg([(0xE1, X + tiff([(0x010F, 2, 4, b"abc\0")])), (0xE1, XMP_APP1 + xmp(6))]),
    "j_xmp6_then_xmp3.jpg": jpeg([(0xE1, XMP_APP1 + xmp(6)), (0xE1, XMP_APP1 + xmp(3))]),
    # PNG
    "p_exif3_then_exif6_after_idat.png": png(pre=[(b"eXIf", ori(3))], post=[(b"eXIf", ori(6))]),
    "p_exif_bad_header.png": png(pre=[(b"eXIf", b"XXXX\x08\0\0\0" + ori(6)[8:])]),
    "p_text_exif6_then_exif3.png": png(pre=[(b"tEXt", b"exif\0" + ori(6)), (b"eXIf", ori(3))]),
    "p_ztxt_exif.png": png(pre=[(b"zTXt", b"exif\0\0" + zlib.compress(ori(6)))]),
    "p_raw_profile_6.png": png(pre=[(b"zTXt", RAW + b"\0" + zlib.compress(raw_profile(X + ori(6))))]),
    "p_raw_profile_itxt_6.png": png(post=[(b"iTXt", itxt(RAW[:-1], raw_profile(ori(6)), compressed=True))]),
    "p_raw_profile6_exif3.png": png(pre=[(b"zTXt", RAW + b"\0" + zlib.compress(raw_profile(X + ori(6)))), (b"eXIf", ori(3))]),
    "p_raw_profile_bad_hex.png": png(pre=[(b"tEXt", RAW + raw_profile(X + ori(6)) + b"zz\n")]),
    "p_raw_profile_corrupt_zlib_xmp8.png": png(pre=[(b"zTXt", RAW + b"\0\x78\x9c\xff\xff\xff"),
                                                    (b"iTXt", itxt(b"XML:com.adobe.xmp", xmp(8)))]),
    "p_raw_profile_no_adler_6.png": png(pre=[(b"zTXt", RAW + b"\0" + zlib.compress(raw_profile(X + ori(6)))[:-4])]),
    "p_xmp_itxt_compressed_8.png": png(post=[(b"iTXt", itxt(b"XML:com.adobe.xmp", xmp(8, elem=True), compressed=True))]),
    "p_xmp_bad_utf8_6.png": png(pre=[(b"iTXt", itxt(b"XML:com.adobe.xmp", b"\xff" + xmp(6)))]),
    "p_xmp_text3_bad_utf8_6.png": png(pre=[(b"tEXt", b"XML:com.adobe.xmp\0" + xmp(3)),
                                           (b"iTXt", itxt(b"XML:com.adobe.xmp", b"\xff" + xmp(6)))]),
    "p_exif1_xmp6.png": png(pre=[(b"eXIf", ori(1)), (b"iTXt", itxt(b"XML:com.adobe.xmp", xmp(6)))]),
    # an animated PNG: Pillow reads the chunks up to the second frame's fcTL
    "p_apng_exif6_after_second_frame.png": apng_with_exif(at_end=True),
    "p_apng_exif6_before_second_frame.png": apng_with_exif(at_end=False),
}


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for c in data:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    import PIL
    print("    /* tests/data/images/exif_hostile/make_fixtures.py, Pillow %s */" % PIL.__version__)
    for name, data in CASES.items():
        path = os.path.join(HERE, name)
        with open(path, "wb") as f:
            f.write(data)
        try:
            im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        except Exception as e:  # Hugging Face's load_image raises with it
            kind = type(e).__name__ if type(e).__module__ == "builtins" else type(e).__module__ + "." + type(e).__name__
            print('    { "%s", 0, 0, 0 }, /* raises %s */' % (name, kind))
            continue
        print('    { "%s", %d, %d, 0x%016xull },' % (name, im.width, im.height, fnv1a64(im.tobytes())))


if __name__ == "__main__":
    main()
