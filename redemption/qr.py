"""The module matrix of a version-1 QR code (error correction M, mask 0), without qrcode's Python.

Every voucher code (16 characters of ``CODE_ALPHABET``) and every payment code (18 digits) fits
in version 1. For those, ``modules_v1`` computes the very matrix qrcode's
``QRCode(version=1, mask_pattern=0)`` makes (the test checks it on thousands of codes), at a
fraction of the cost: the fixed patterns are laid once at import, the Reed–Solomon code words
come from log/antilog tables, and the data's modules from a precomputed order of cells.
qrcode spent 0.15 ms per drawing, most of it in its pure-Python polynomial arithmetic
(``create_data``), which was 7 % of a redemption's CPU under gunicorn (py-spy, 2026-12-08).

Anything else (longer data, bytes, other characters) returns ``None``: the caller draws it
with qrcode as before.
"""

from __future__ import annotations

import re

from qrcode.util import BCH_type_info

SIZE = 21  # modules per side of version 1
DATA_CODEWORDS, EC_CODEWORDS = 16, 10  # version 1, error correction M: one block
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHA_VALUE = {c: n for n, c in enumerate(_ALPHANUMERIC)}
_NUMERIC = re.compile(r"[0-9]{1,34}")  # version 1-M holds 34 digits
_ALPHA = re.compile(r"[0-9A-Z $%*+\-./:]{1,20}")  # and 20 alphanumeric characters
_EC_M = 0  # qrcode's ERROR_CORRECT_M (the format bits' "00")
_MASK = 0  # (row + column) % 2 == 0

# GF(256) with the QR code's polynomial x^8 + x^4 + x^3 + x^2 + 1
_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def _generator(degree: int) -> list[int]:
    """(x - α^0)(x - α^1)…(x - α^(degree-1)), highest power first, leading 1 dropped."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coefficient in enumerate(poly):
            nxt[j] ^= coefficient
            if coefficient:
                nxt[j + 1] ^= _EXP[_LOG[coefficient] + i]
        poly = nxt
    return poly[1:]


_GEN_LOG = [_LOG[c] for c in _generator(EC_CODEWORDS)]


def _ec_codewords(data: list[int]) -> list[int]:
    """The remainder of data·x^10 divided by the generator: the error-correction code words."""
    remainder = [0] * EC_CODEWORDS
    for byte in data:
        factor = byte ^ remainder[0]
        remainder = remainder[1:] + [0]
        if factor:
            log_factor = _LOG[factor]
            remainder = [r ^ _EXP[log_factor + g] for r, g in zip(remainder, _GEN_LOG, strict=True)]
    return remainder


def _template() -> tuple[list[list[bool]], list[tuple[int, int]]]:
    """The fixed modules (finders, separators, timing, format bits, the dark module), and the
    cells left for the data, in the order qrcode's ``map_data`` fills them."""
    cells: list[list[bool | None]] = [[None] * SIZE for _ in range(SIZE)]
    for top, left in ((0, 0), (SIZE - 7, 0), (0, SIZE - 7)):  # finder patterns and separators
        for r in range(-1, 8):
            for c in range(-1, 8):
                row, col = top + r, left + c
                if 0 <= row < SIZE and 0 <= col < SIZE:
                    cells[row][col] = (
                        (0 <= r <= 6 and c in (0, 6))
                        or (0 <= c <= 6 and r in (0, 6))
                        or (2 <= r <= 4 and 2 <= c <= 4)
                    )
    for i in range(8, SIZE - 8):  # timing patterns
        if cells[i][6] is None:
            cells[i][6] = i % 2 == 0
        if cells[6][i] is None:
            cells[6][i] = i % 2 == 0
    bits = BCH_type_info((_EC_M << 3) | _MASK)  # format information, as qrcode lays it
    for i in range(15):
        mod = ((bits >> i) & 1) == 1
        if i < 6:
            cells[i][8] = mod
        elif i < 8:
            cells[i + 1][8] = mod
        else:
            cells[SIZE - 15 + i][8] = mod
        if i < 8:
            cells[8][SIZE - i - 1] = mod
        elif i < 9:
            cells[8][15 - i] = mod
        else:
            cells[8][15 - i - 1] = mod
    cells[SIZE - 8][8] = True
    order: list[tuple[int, int]] = []
    step, row = -1, SIZE - 1
    for col in range(SIZE - 1, 0, -2):
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if cells[row][c] is None:
                    order.append((row, c))
                    cells[row][c] = False
            row += step
            if row < 0 or row >= SIZE:
                row -= step
                step = -step
                break
    return [[bool(cell) for cell in line] for line in cells], order


_FIXED, _ORDER = _template()
_MASKED = [(row + col) % 2 == 0 for row, col in _ORDER]


def _codewords(data: str) -> list[int] | None:
    """Mode, count, data, terminator and padding, as qrcode's ``create_data`` writes them."""
    bits: list[str] = []
    if _NUMERIC.fullmatch(data):
        bits += ["0001", format(len(data), "010b")]
        for i in range(0, len(data), 3):
            chunk = data[i : i + 3]
            bits.append(format(int(chunk), f"0{ ({1: 4, 2: 7, 3: 10}[len(chunk)]) }b"))
    elif _ALPHA.fullmatch(data):
        bits += ["0010", format(len(data), "09b")]
        for i in range(0, len(data) - 1, 2):
            bits.append(format(_ALPHA_VALUE[data[i]] * 45 + _ALPHA_VALUE[data[i + 1]], "011b"))
        if len(data) % 2:
            bits.append(format(_ALPHA_VALUE[data[-1]], "06b"))
    else:
        return None
    stream = "".join(bits)
    limit = DATA_CODEWORDS * 8
    if len(stream) > limit:
        return None
    stream += "0" * min(limit - len(stream), 4)
    stream += "0" * (-len(stream) % 8)
    words = [int(stream[i : i + 8], 2) for i in range(0, len(stream), 8)]
    pad = (0xEC, 0x11)
    words += [pad[i % 2] for i in range(DATA_CODEWORDS - len(words))]
    return words


def modules_v1(data: str) -> list[list[bool]] | None:
    """qrcode's module matrix of ``data`` at version 1-M, mask 0; ``None`` when it needs qrcode
    (not numeric or alphanumeric, or too long for version 1)."""
    words = _codewords(data)
    if words is None:
        return None
    words += _ec_codewords(words)
    modules = [line[:] for line in _FIXED]
    n = 0
    for word in words:
        for shift in range(7, -1, -1):
            row, col = _ORDER[n]
            modules[row][col] = bool((word >> shift) & 1) != _MASKED[n]
            n += 1
    for k in range(n, len(_ORDER)):  # remainder bits (none at version 1): zero, masked
        row, col = _ORDER[k]
        modules[row][col] = _MASKED[k]
    return modules
