"""A minimal lossless JPEG (ITU T.81 process 14) encoder for one grayscale component, for tests only.

No installed package encodes JPEG Lossless (1.2.840.10008.1.2.4.57) with a predictor other than 1,
so the tests build it here, from the standard: the predictors of T.81 Table H.1, difference
categories (SSSS) coded with one Huffman table of 5-bit codes, the extra bits of F.1.2.1, byte
stuffing. The decoder under test (pydicom + pylibjpeg-libjpeg) must give the pixels back exactly.
"""

from __future__ import annotations

import struct

import numpy as np


def _predict(img: np.ndarray, predictor: int, precision: int) -> np.ndarray:
    x = img.astype(np.int64)
    pred = np.empty_like(x)
    ra = np.zeros_like(x)
    rb = np.zeros_like(x)
    rc = np.zeros_like(x)
    ra[:, 1:], rb[1:, :], rc[1:, 1:] = x[:, :-1], x[:-1, :], x[:-1, :-1]
    by_sv = {
        1: ra,
        2: rb,
        3: rc,
        4: ra + rb - rc,
        5: ra + ((rb - rc) >> 1),
        6: rb + ((ra - rc) >> 1),
        7: (ra + rb) >> 1,
    }
    pred[:] = by_sv[predictor]
    pred[0, 1:] = x[0, :-1]  # first line: the left neighbour (H.1.2.1)
    pred[1:, 0] = x[:-1, 0]  # first column: the sample above
    pred[0, 0] = 1 << (precision - 1)
    return pred


def encode_lossless(img: np.ndarray, predictor: int, precision: int) -> bytes:
    """One frame, HxW unsigned integers of `precision` bits, as a JPEG process 14 bitstream."""
    rows, cols = img.shape
    diff = (img.astype(np.int64) - _predict(img, predictor, precision)) % 65536
    diff = np.where(diff > 32768, diff - 65536, diff).ravel()
    bits: list[str] = []
    for d in diff.tolist():
        ssss = 16 if d == 32768 else int(abs(d)).bit_length()
        bits.append(format(ssss, "05b"))  # symbol ssss has the 5-bit code ssss (canonical, 17 codes)
        if 0 < ssss < 16:
            extra = d if d > 0 else d - 1
            bits.append(format(extra & ((1 << ssss) - 1), f"0{ssss}b"))
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = int(stream, 2).to_bytes(len(stream) // 8, "big") if stream else b""
    data = data.replace(b"\xff", b"\xff\x00")

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", marker, len(payload) + 2) + payload

    sof = struct.pack(">BHHB", precision, rows, cols, 1) + bytes([1, 0x11, 0])
    counts = bytes([0, 0, 0, 0, 17] + [0] * 11)  # 17 codes of length 5
    dht = bytes([0x00]) + counts + bytes(range(17))
    sos = bytes([1, 1, 0x00, predictor, 0, 0])
    return (
        b"\xff\xd8" + segment(0xFFC3, sof) + segment(0xFFC4, dht) + segment(0xFFDA, sos) + data + b"\xff\xd9"
    )
