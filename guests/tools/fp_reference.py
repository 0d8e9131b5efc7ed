#!/usr/bin/env python3
"""Expected values of test-fp.c's rounding cases, from exact rational arithmetic.

Each case is rounded to binary32/binary64 in the five RISC-V rounding modes with the
flags RISC-V defines (tininess after rounding). Prints the rows of `rounding_cases[]`:

    guests/tools/fp_reference.py > /tmp/rows.txt
"""
from fractions import Fraction as Fr
import math, struct

FMT = {'s': (24, -126, 127, 32), 'd': (53, -1022, 1023, 64)}
NX, UF, OF, DZ, NV = 1, 2, 4, 8, 16

def decode(bits, f):
    p, emin, emax, n = FMT[f]
    mb = p - 1; eb = n - 1 - mb
    s = bits >> (n - 1); e = (bits >> mb) & ((1 << eb) - 1); m = bits & ((1 << mb) - 1)
    if e == (1 << eb) - 1:
        return ('nan' if m else ('-inf' if s else 'inf'))
    if e == 0: v = Fr(m, 1) * Fr(2) ** (emin - mb)
    else: v = Fr(m + (1 << mb)) * Fr(2) ** (e - ((1 << (eb - 1)) - 1) - mb)
    return -v if s else v

def rnd_int(v, mode, neg):
    # v >= 0 Fraction -> integer by mode
    fl = v.numerator // v.denominator
    r = v - fl
    if r == 0: return fl, False
    if mode == 'rne': up = r > Fr(1, 2) or (r == Fr(1, 2) and fl % 2 == 1)
    elif mode == 'rmm': up = r >= Fr(1, 2)
    elif mode == 'rtz': up = False
    elif mode == 'rdn': up = neg
    elif mode == 'rup': up = not neg
    return fl + (1 if up else 0), True

def encode(v, f, mode):
    p, emin, emax, n = FMT[f]
    mb = p - 1
    if v == 0: return 0, 0
    neg = v < 0; a = -v if neg else v
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fr(2) ** e > a: e -= 1
    while Fr(2) ** (e + 1) <= a: e += 1
    flags = 0
    q = max(e, emin) - mb
    m, inexact = rnd_int(a / Fr(2) ** q, mode, neg)
    if m >> p: m >>= 1; q += 1
    if m >= (1 << mb) and q + mb > emax:
        flags |= OF | NX
        toinf = mode in ('rne', 'rmm') or (mode == 'rdn' and neg) or (mode == 'rup' and not neg)
        bits = ((1 << (n - 1 - mb)) - 1) << mb if toinf else (((1 << (n - 1 - mb)) - 1) << mb) - 1
        return bits | (neg << (n - 1)), flags
    if inexact:
        flags |= NX
        tiny = e < emin
        if e == emin - 1:
            m2, _ = rnd_int(a / Fr(2) ** (e - mb), mode, neg)
            if m2 >> p: tiny = False
        if tiny: flags |= UF
    if m >> mb: bits = ((q + mb + (1 << (n - 2 - mb)) - 1) << mb) | (m & ((1 << mb) - 1))
    else: bits = m
    return bits | (neg << (n - 1)), flags

def h(x, f): return '0x%0*x' % (8 if f == 's' else 16, x)

MODES = ['rne', 'rtz', 'rdn', 'rup', 'rmm']

def isqrt_frac(v, k=1300):
    # returns a Fraction strictly inside the same rounding interval as sqrt(v)
    n = (v.numerator * 4 ** k) // v.denominator
    r = math.isqrt(n)
    exact = r * r == n and (v.numerator * 4 ** k) % v.denominator == 0
    if exact: return Fr(r, 2 ** k)
    return Fr(2 * r + 1, 2 ** (k + 1))

def to_int(v, kind, mode):
    # kind: w wu l lu ; returns (xreg value, flags)
    signed = kind in ('w', 'l'); wide = kind in ('l', 'lu')
    bits = 64 if wide else 32
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    neg = v < 0
    m, inexact = rnd_int(-v if neg else v, mode, neg)
    r = -m if neg else m
    if r < lo or r > hi:
        r = lo if neg else hi
        flags = NV
    else:
        flags = NX if inexact else 0
    r &= (1 << bits) - 1
    if not wide and r >> 31: r |= 0xffffffff00000000
    return r, flags

# ---- the cases ----
import struct
def S(x): return struct.unpack('<I', struct.pack('<f', x))[0]
def D(x): return struct.unpack('<Q', struct.pack('<d', x))[0]
def box(b): return 0xffffffff00000000 | b
def val(bits, f): return decode(bits, f)

lines = []
def emit(op, mode, flags, what, a, b, c, want):
    lines.append('    {%s, %s, 0x%02x, "%s", 0x%xull, 0x%xull, 0x%xull, 0x%xull},' %
                 (op, mode.upper(), flags, what, a, b, c, want))

def arith(op, f, what, a, b=0, c=0, modes=MODES):
    for m in modes:
        A, B, C = val(a, f), val(b, f), val(c, f)
        kind = op.split('_')[1]
        if kind == 'FADD': v = A + B
        elif kind == 'FSUB': v = A - B
        elif kind == 'FMUL': v = A * B
        elif kind == 'FDIV': v = A / B
        elif kind == 'FSQRT': v = isqrt_frac(A)
        elif kind == 'FMADD': v = A * B + C
        elif kind == 'FMSUB': v = A * B - C
        elif kind == 'FNMSUB': v = -(A * B) + C
        elif kind == 'FNMADD': v = -(A * B) - C
        r, fl = encode(v, f, m)
        wrap = box if f == 's' else (lambda x: x)
        emit(op, m, fl, what + ' ' + m, wrap(a), wrap(b), wrap(c), wrap(r))

def d2s(what, a, modes=MODES):
    for m in modes:
        r, fl = encode(val(a, 'd'), 's', m)
        emit('OP_FCVT_S_D', m, fl, what + ' ' + m, a, 0, 0, box(r))

def cvt_int(op, f, kind, what, a, modes=MODES):
    for m in modes:
        r, fl = to_int(val(a, f), kind, m)
        emit(op, m, fl, what + ' ' + m, box(a) if f == 's' else a, 0, 0, r)

def from_int(op, f, kind, what, x, modes=MODES):
    bits = 64 if kind in ('l', 'lu') else 32
    v = x & ((1 << bits) - 1)
    if kind in ('w', 'l') and v >> (bits - 1): v -= 1 << bits
    for m in modes:
        r, fl = encode(Fr(v), f, m)
        emit(op, m, fl, what + ' ' + m, x, 0, 0, box(r) if f == 's' else r)

one_s, tie_s = S(1.0), S(2.0 ** -24)
arith('OP_FADD_S', 's', 'fadd.s 1 + 2^-24', one_s, tie_s)
arith('OP_FADD_S', 's', 'fadd.s -1 + -2^-24', S(-1.0), S(-2.0 ** -24))
arith('OP_FSUB_D', 'd', 'fsub.d 1 - 2^-54', D(1.0), D(2.0 ** -54))
arith('OP_FMUL_D', 'd', 'fmul.d (1+2^-26)(1+2^-27)', D(1 + 2.0 ** -26), D(1 + 2.0 ** -27))
arith('OP_FMUL_S', 's', 'fmul.s -max * 2', S(-3.4028234663852886e38), S(2.0))
arith('OP_FMUL_D', 'd', 'fmul.d max * 1.5', 0x7fefffffffffffff, D(1.5))
arith('OP_FMUL_D', 'd', 'fmul.d min normal * (1-2^-52)', 0x0010000000000000, D(1 - 2.0 ** -52))
arith('OP_FMUL_D', 'd', 'fmul.d min subnormal * 0.5', 1, D(0.5))
arith('OP_FDIV_D', 'd', 'fdiv.d 1 / 3', D(1.0), D(3.0))
arith('OP_FDIV_D', 'd', 'fdiv.d -1 / 3', D(-1.0), D(3.0))
arith('OP_FDIV_S', 's', 'fdiv.s 2 / 3', S(2.0), S(3.0))
arith('OP_FSQRT_D', 'd', 'fsqrt.d 2', D(2.0))
arith('OP_FSQRT_S', 's', 'fsqrt.s 2', S(2.0))
arith('OP_FSQRT_D', 'd', 'fsqrt.d min subnormal', 1)
arith('OP_FMADD_D', 'd', 'fmadd.d (1+2^-30)^2 - 1', D(1 + 2.0 ** -30), D(1 + 2.0 ** -30), D(-1.0),
      modes=['rne'])
arith('OP_FMADD_S', 's', 'fmadd.s 3 * (1+2^-23) + 2^-22', S(3.0), S(1 + 2.0 ** -23), S(2.0 ** -22))
arith('OP_FMSUB_D', 'd', 'fmsub.d 1 * 2^-60 - 1', D(1.0), D(2.0 ** -60), D(1.0))
arith('OP_FNMSUB_S', 's', 'fnmsub.s -(1 * 2^-30) + 1', S(1.0), S(2.0 ** -30), S(1.0))
arith('OP_FNMADD_D', 'd', 'fnmadd.d -(1 * 2^-60) - 1', D(1.0), D(2.0 ** -60), D(1.0))
d2s('fcvt.s.d 1 + 2^-24', D(1 + 2.0 ** -24))
d2s('fcvt.s.d -1e300', D(-1e300))
d2s('fcvt.s.d 2^-126 - 2^-151', D(2.0 ** -126 - 2.0 ** -151))
cvt_int('OP_FCVT_W_D', 'd', 'w', 'fcvt.w.d 2.5', D(2.5))
cvt_int('OP_FCVT_W_D', 'd', 'w', 'fcvt.w.d -2.5', D(-2.5))
cvt_int('OP_FCVT_L_S', 's', 'l', 'fcvt.l.s -7.75', S(-7.75))
cvt_int('OP_FCVT_WU_S', 's', 'wu', 'fcvt.wu.s -0.5', S(-0.5))
cvt_int('OP_FCVT_LU_D', 'd', 'lu', 'fcvt.lu.d 2^64 - 2048', D(2.0 ** 64 - 2048), modes=['rne'])
cvt_int('OP_FCVT_WU_D', 'd', 'wu', 'fcvt.wu.d 4294967295.5', D(4294967295.5))
from_int('OP_FCVT_S_L', 's', 'l', 'fcvt.s.l 2^24 + 1', (1 << 24) + 1)
from_int('OP_FCVT_S_W', 's', 'w', 'fcvt.s.w -(2^24 + 3)', (-((1 << 24) + 3)) & 0xffffffffffffffff)
from_int('OP_FCVT_D_LU', 'd', 'lu', 'fcvt.d.lu 2^64 - 1', (1 << 64) - 1)
from_int('OP_FCVT_D_L', 'd', 'l', 'fcvt.d.l -(2^53 + 1)', (-((1 << 53) + 1)) & 0xffffffffffffffff)
from_int('OP_FCVT_S_WU', 's', 'wu', 'fcvt.s.wu 0xffffffff', 0xffffffff)
print('\n'.join(lines))
