/* test-fp: the F and D extensions. Every arithmetic, fused, sqrt, min/max, sign-injection,
 * compare, classify, convert and move instruction, FP loads and stores (compressed too), the
 * five rounding modes (static and from frm), every fflags bit, canonical NaNs, NaN-boxing,
 * saturating conversions, fcsr/frm/fflags, reserved rounding modes, and mstatus.FS (Off traps,
 * Dirty after a write, SD).
 *
 * Prints `ok N - ...` per check with the value and fflags each instruction produced, and
 * `test-fp: PASS` (exit 0) or FAIL (exit 1). The expected values of the rounding cases were
 * computed with exact rational arithmetic (guests/tools/fp_reference.py); the others follow
 * the spec's rules. Built with -march=rv64imafdc; the start-up code sets mstatus.FS =
 * Initial. */
#include "runtime.h"

#define FS_SHIFT 13
#define FS_MASK (3UL << FS_SHIFT)
#define MSTATUS_SD (1UL << 63)

enum { RNE, RTZ, RDN, RUP, RMM };
enum { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };

/* The operations the tables name; f operands come in ft0, ft1, ft2 (64-bit images), the
 * x operand in a. */
enum op {
  OP_FADD_S, OP_FSUB_S, OP_FMUL_S, OP_FDIV_S, OP_FSQRT_S,
  OP_FMADD_S, OP_FMSUB_S, OP_FNMSUB_S, OP_FNMADD_S,
  OP_FSGNJ_S, OP_FSGNJN_S, OP_FSGNJX_S, OP_FMIN_S, OP_FMAX_S,
  OP_FEQ_S, OP_FLT_S, OP_FLE_S, OP_FCLASS_S,
  OP_FCVT_W_S, OP_FCVT_WU_S, OP_FCVT_L_S, OP_FCVT_LU_S,
  OP_FCVT_S_W, OP_FCVT_S_WU, OP_FCVT_S_L, OP_FCVT_S_LU, OP_FMV_X_W, OP_FMV_W_X,
  OP_FADD_D, OP_FSUB_D, OP_FMUL_D, OP_FDIV_D, OP_FSQRT_D,
  OP_FMADD_D, OP_FMSUB_D, OP_FNMSUB_D, OP_FNMADD_D,
  OP_FSGNJ_D, OP_FSGNJN_D, OP_FSGNJX_D, OP_FMIN_D, OP_FMAX_D,
  OP_FEQ_D, OP_FLT_D, OP_FLE_D, OP_FCLASS_D,
  OP_FCVT_W_D, OP_FCVT_WU_D, OP_FCVT_L_D, OP_FCVT_LU_D,
  OP_FCVT_D_W, OP_FCVT_D_WU, OP_FCVT_D_L, OP_FCVT_D_LU, OP_FMV_X_D, OP_FMV_D_X,
  OP_FCVT_S_D, OP_FCVT_D_S,
};

/* One instruction with rounding mode "dyn" (frm), its fflags on their own. */
static uint64_t exec_op(int op, uint64_t a, uint64_t b, uint64_t c, unsigned long *flags) {
  uint64_t r = 0;
  unsigned long fl = 0;
#define LOAD3 "fmv.d.x ft0, %[a]\n\tfmv.d.x ft1, %[b]\n\tfmv.d.x ft2, %[c]\n\tfsflags zero\n\t"
#define IO [r] "=&r"(r), [fl] "=&r"(fl) : [a] "r"(a), [b] "r"(b), [c] "r"(c) : "ft0", "ft1", "ft2", "ft3"
  /* f result in ft3 */
#define F_OP(id, text) \
  case id: __asm__ volatile(LOAD3 text "\n\tfrflags %[fl]\n\tfmv.x.d %[r], ft3" : IO); break;
  /* x result */
#define X_OP(id, text) \
  case id: __asm__ volatile(LOAD3 text "\n\tfrflags %[fl]" : IO); break;
  switch (op) {
    F_OP(OP_FADD_S, "fadd.s ft3, ft0, ft1")
    F_OP(OP_FSUB_S, "fsub.s ft3, ft0, ft1")
    F_OP(OP_FMUL_S, "fmul.s ft3, ft0, ft1")
    F_OP(OP_FDIV_S, "fdiv.s ft3, ft0, ft1")
    F_OP(OP_FSQRT_S, "fsqrt.s ft3, ft0")
    F_OP(OP_FMADD_S, "fmadd.s ft3, ft0, ft1, ft2")
    F_OP(OP_FMSUB_S, "fmsub.s ft3, ft0, ft1, ft2")
    F_OP(OP_FNMSUB_S, "fnmsub.s ft3, ft0, ft1, ft2")
    F_OP(OP_FNMADD_S, "fnmadd.s ft3, ft0, ft1, ft2")
    F_OP(OP_FSGNJ_S, "fsgnj.s ft3, ft0, ft1")
    F_OP(OP_FSGNJN_S, "fsgnjn.s ft3, ft0, ft1")
    F_OP(OP_FSGNJX_S, "fsgnjx.s ft3, ft0, ft1")
    F_OP(OP_FMIN_S, "fmin.s ft3, ft0, ft1")
    F_OP(OP_FMAX_S, "fmax.s ft3, ft0, ft1")
    X_OP(OP_FEQ_S, "feq.s %[r], ft0, ft1")
    X_OP(OP_FLT_S, "flt.s %[r], ft0, ft1")
    X_OP(OP_FLE_S, "fle.s %[r], ft0, ft1")
    X_OP(OP_FCLASS_S, "fclass.s %[r], ft0")
    X_OP(OP_FCVT_W_S, "fcvt.w.s %[r], ft0")
    X_OP(OP_FCVT_WU_S, "fcvt.wu.s %[r], ft0")
    X_OP(OP_FCVT_L_S, "fcvt.l.s %[r], ft0")
    X_OP(OP_FCVT_LU_S, "fcvt.lu.s %[r], ft0")
    F_OP(OP_FCVT_S_W, "fcvt.s.w ft3, %[a]")
    F_OP(OP_FCVT_S_WU, "fcvt.s.wu ft3, %[a]")
    F_OP(OP_FCVT_S_L, "fcvt.s.l ft3, %[a]")
    F_OP(OP_FCVT_S_LU, "fcvt.s.lu ft3, %[a]")
    X_OP(OP_FMV_X_W, "fmv.x.w %[r], ft0")
    F_OP(OP_FMV_W_X, "fmv.w.x ft3, %[a]")
    F_OP(OP_FADD_D, "fadd.d ft3, ft0, ft1")
    F_OP(OP_FSUB_D, "fsub.d ft3, ft0, ft1")
    F_OP(OP_FMUL_D, "fmul.d ft3, ft0, ft1")
    F_OP(OP_FDIV_D, "fdiv.d ft3, ft0, ft1")
    F_OP(OP_FSQRT_D, "fsqrt.d ft3, ft0")
    F_OP(OP_FMADD_D, "fmadd.d ft3, ft0, ft1, ft2")
    F_OP(OP_FMSUB_D, "fmsub.d ft3, ft0, ft1, ft2")
    F_OP(OP_FNMSUB_D, "fnmsub.d ft3, ft0, ft1, ft2")
    F_OP(OP_FNMADD_D, "fnmadd.d ft3, ft0, ft1, ft2")
    F_OP(OP_FSGNJ_D, "fsgnj.d ft3, ft0, ft1")
    F_OP(OP_FSGNJN_D, "fsgnjn.d ft3, ft0, ft1")
    F_OP(OP_FSGNJX_D, "fsgnjx.d ft3, ft0, ft1")
    F_OP(OP_FMIN_D, "fmin.d ft3, ft0, ft1")
    F_OP(OP_FMAX_D, "fmax.d ft3, ft0, ft1")
    X_OP(OP_FEQ_D, "feq.d %[r], ft0, ft1")
    X_OP(OP_FLT_D, "flt.d %[r], ft0, ft1")
    X_OP(OP_FLE_D, "fle.d %[r], ft0, ft1")
    X_OP(OP_FCLASS_D, "fclass.d %[r], ft0")
    X_OP(OP_FCVT_W_D, "fcvt.w.d %[r], ft0")
    X_OP(OP_FCVT_WU_D, "fcvt.wu.d %[r], ft0")
    X_OP(OP_FCVT_L_D, "fcvt.l.d %[r], ft0")
    X_OP(OP_FCVT_LU_D, "fcvt.lu.d %[r], ft0")
    F_OP(OP_FCVT_D_W, "fcvt.d.w ft3, %[a]")
    F_OP(OP_FCVT_D_WU, "fcvt.d.wu ft3, %[a]")
    F_OP(OP_FCVT_D_L, "fcvt.d.l ft3, %[a]")
    F_OP(OP_FCVT_D_LU, "fcvt.d.lu ft3, %[a]")
    X_OP(OP_FMV_X_D, "fmv.x.d %[r], ft0")
    F_OP(OP_FMV_D_X, "fmv.d.x ft3, %[a]")
    F_OP(OP_FCVT_S_D, "fcvt.s.d ft3, ft0")
    F_OP(OP_FCVT_D_S, "fcvt.d.s ft3, ft0")
  }
#undef F_OP
#undef X_OP
#undef IO
#undef LOAD3
  *flags = fl;
  return r;
}

struct fcase {
  uint8_t op, frm, flags;
  const char *what;
  uint64_t a, b, c, want;
};

/* Rounding: each case in the five modes (set in frm). */
static const struct fcase rounding_cases[] = {
    {OP_FADD_S, RNE, 0x01, "fadd.s 1 + 2^-24 rne", 0xffffffff3f800000ull, 0xffffffff33800000ull, 0xffffffff00000000ull, 0xffffffff3f800000ull},
    {OP_FADD_S, RTZ, 0x01, "fadd.s 1 + 2^-24 rtz", 0xffffffff3f800000ull, 0xffffffff33800000ull, 0xffffffff00000000ull, 0xffffffff3f800000ull},
    {OP_FADD_S, RDN, 0x01, "fadd.s 1 + 2^-24 rdn", 0xffffffff3f800000ull, 0xffffffff33800000ull, 0xffffffff00000000ull, 0xffffffff3f800000ull},
    {OP_FADD_S, RUP, 0x01, "fadd.s 1 + 2^-24 rup", 0xffffffff3f800000ull, 0xffffffff33800000ull, 0xffffffff00000000ull, 0xffffffff3f800001ull},
    {OP_FADD_S, RMM, 0x01, "fadd.s 1 + 2^-24 rmm", 0xffffffff3f800000ull, 0xffffffff33800000ull, 0xffffffff00000000ull, 0xffffffff3f800001ull},
    {OP_FADD_S, RNE, 0x01, "fadd.s -1 + -2^-24 rne", 0xffffffffbf800000ull, 0xffffffffb3800000ull, 0xffffffff00000000ull, 0xffffffffbf800000ull},
    {OP_FADD_S, RTZ, 0x01, "fadd.s -1 + -2^-24 rtz", 0xffffffffbf800000ull, 0xffffffffb3800000ull, 0xffffffff00000000ull, 0xffffffffbf800000ull},
    {OP_FADD_S, RDN, 0x01, "fadd.s -1 + -2^-24 rdn", 0xffffffffbf800000ull, 0xffffffffb3800000ull, 0xffffffff00000000ull, 0xffffffffbf800001ull},
    {OP_FADD_S, RUP, 0x01, "fadd.s -1 + -2^-24 rup", 0xffffffffbf800000ull, 0xffffffffb3800000ull, 0xffffffff00000000ull, 0xffffffffbf800000ull},
    {OP_FADD_S, RMM, 0x01, "fadd.s -1 + -2^-24 rmm", 0xffffffffbf800000ull, 0xffffffffb3800000ull, 0xffffffff00000000ull, 0xffffffffbf800001ull},
    {OP_FSUB_D, RNE, 0x01, "fsub.d 1 - 2^-54 rne", 0x3ff0000000000000ull, 0x3c90000000000000ull, 0x0ull, 0x3ff0000000000000ull},
    {OP_FSUB_D, RTZ, 0x01, "fsub.d 1 - 2^-54 rtz", 0x3ff0000000000000ull, 0x3c90000000000000ull, 0x0ull, 0x3fefffffffffffffull},
    {OP_FSUB_D, RDN, 0x01, "fsub.d 1 - 2^-54 rdn", 0x3ff0000000000000ull, 0x3c90000000000000ull, 0x0ull, 0x3fefffffffffffffull},
    {OP_FSUB_D, RUP, 0x01, "fsub.d 1 - 2^-54 rup", 0x3ff0000000000000ull, 0x3c90000000000000ull, 0x0ull, 0x3ff0000000000000ull},
    {OP_FSUB_D, RMM, 0x01, "fsub.d 1 - 2^-54 rmm", 0x3ff0000000000000ull, 0x3c90000000000000ull, 0x0ull, 0x3ff0000000000000ull},
    {OP_FMUL_D, RNE, 0x01, "fmul.d (1+2^-26)(1+2^-27) rne", 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x0ull, 0x3ff0000006000000ull},
    {OP_FMUL_D, RTZ, 0x01, "fmul.d (1+2^-26)(1+2^-27) rtz", 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x0ull, 0x3ff0000006000000ull},
    {OP_FMUL_D, RDN, 0x01, "fmul.d (1+2^-26)(1+2^-27) rdn", 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x0ull, 0x3ff0000006000000ull},
    {OP_FMUL_D, RUP, 0x01, "fmul.d (1+2^-26)(1+2^-27) rup", 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x0ull, 0x3ff0000006000001ull},
    {OP_FMUL_D, RMM, 0x01, "fmul.d (1+2^-26)(1+2^-27) rmm", 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x0ull, 0x3ff0000006000001ull},
    {OP_FMUL_S, RNE, 0x05, "fmul.s -max * 2 rne", 0xffffffffff7fffffull, 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffffff800000ull},
    {OP_FMUL_S, RTZ, 0x05, "fmul.s -max * 2 rtz", 0xffffffffff7fffffull, 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffffff7fffffull},
    {OP_FMUL_S, RDN, 0x05, "fmul.s -max * 2 rdn", 0xffffffffff7fffffull, 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffffff800000ull},
    {OP_FMUL_S, RUP, 0x05, "fmul.s -max * 2 rup", 0xffffffffff7fffffull, 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffffff7fffffull},
    {OP_FMUL_S, RMM, 0x05, "fmul.s -max * 2 rmm", 0xffffffffff7fffffull, 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffffff800000ull},
    {OP_FMUL_D, RNE, 0x05, "fmul.d max * 1.5 rne", 0x7fefffffffffffffull, 0x3ff8000000000000ull, 0x0ull, 0x7ff0000000000000ull},
    {OP_FMUL_D, RTZ, 0x05, "fmul.d max * 1.5 rtz", 0x7fefffffffffffffull, 0x3ff8000000000000ull, 0x0ull, 0x7fefffffffffffffull},
    {OP_FMUL_D, RDN, 0x05, "fmul.d max * 1.5 rdn", 0x7fefffffffffffffull, 0x3ff8000000000000ull, 0x0ull, 0x7fefffffffffffffull},
    {OP_FMUL_D, RUP, 0x05, "fmul.d max * 1.5 rup", 0x7fefffffffffffffull, 0x3ff8000000000000ull, 0x0ull, 0x7ff0000000000000ull},
    {OP_FMUL_D, RMM, 0x05, "fmul.d max * 1.5 rmm", 0x7fefffffffffffffull, 0x3ff8000000000000ull, 0x0ull, 0x7ff0000000000000ull},
    {OP_FMUL_D, RNE, 0x00, "fmul.d min normal * (1-2^-52) rne", 0x10000000000000ull, 0x3feffffffffffffeull, 0x0ull, 0xfffffffffffffull},
    {OP_FMUL_D, RTZ, 0x00, "fmul.d min normal * (1-2^-52) rtz", 0x10000000000000ull, 0x3feffffffffffffeull, 0x0ull, 0xfffffffffffffull},
    {OP_FMUL_D, RDN, 0x00, "fmul.d min normal * (1-2^-52) rdn", 0x10000000000000ull, 0x3feffffffffffffeull, 0x0ull, 0xfffffffffffffull},
    {OP_FMUL_D, RUP, 0x00, "fmul.d min normal * (1-2^-52) rup", 0x10000000000000ull, 0x3feffffffffffffeull, 0x0ull, 0xfffffffffffffull},
    {OP_FMUL_D, RMM, 0x00, "fmul.d min normal * (1-2^-52) rmm", 0x10000000000000ull, 0x3feffffffffffffeull, 0x0ull, 0xfffffffffffffull},
    {OP_FMUL_D, RNE, 0x03, "fmul.d min subnormal * 0.5 rne", 0x1ull, 0x3fe0000000000000ull, 0x0ull, 0x0ull},
    {OP_FMUL_D, RTZ, 0x03, "fmul.d min subnormal * 0.5 rtz", 0x1ull, 0x3fe0000000000000ull, 0x0ull, 0x0ull},
    {OP_FMUL_D, RDN, 0x03, "fmul.d min subnormal * 0.5 rdn", 0x1ull, 0x3fe0000000000000ull, 0x0ull, 0x0ull},
    {OP_FMUL_D, RUP, 0x03, "fmul.d min subnormal * 0.5 rup", 0x1ull, 0x3fe0000000000000ull, 0x0ull, 0x1ull},
    {OP_FMUL_D, RMM, 0x03, "fmul.d min subnormal * 0.5 rmm", 0x1ull, 0x3fe0000000000000ull, 0x0ull, 0x1ull},
    {OP_FDIV_D, RNE, 0x01, "fdiv.d 1 / 3 rne", 0x3ff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0x3fd5555555555555ull},
    {OP_FDIV_D, RTZ, 0x01, "fdiv.d 1 / 3 rtz", 0x3ff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0x3fd5555555555555ull},
    {OP_FDIV_D, RDN, 0x01, "fdiv.d 1 / 3 rdn", 0x3ff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0x3fd5555555555555ull},
    {OP_FDIV_D, RUP, 0x01, "fdiv.d 1 / 3 rup", 0x3ff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0x3fd5555555555556ull},
    {OP_FDIV_D, RMM, 0x01, "fdiv.d 1 / 3 rmm", 0x3ff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0x3fd5555555555555ull},
    {OP_FDIV_D, RNE, 0x01, "fdiv.d -1 / 3 rne", 0xbff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0xbfd5555555555555ull},
    {OP_FDIV_D, RTZ, 0x01, "fdiv.d -1 / 3 rtz", 0xbff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0xbfd5555555555555ull},
    {OP_FDIV_D, RDN, 0x01, "fdiv.d -1 / 3 rdn", 0xbff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0xbfd5555555555556ull},
    {OP_FDIV_D, RUP, 0x01, "fdiv.d -1 / 3 rup", 0xbff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0xbfd5555555555555ull},
    {OP_FDIV_D, RMM, 0x01, "fdiv.d -1 / 3 rmm", 0xbff0000000000000ull, 0x4008000000000000ull, 0x0ull, 0xbfd5555555555555ull},
    {OP_FDIV_S, RNE, 0x01, "fdiv.s 2 / 3 rne", 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, 0xffffffff3f2aaaabull},
    {OP_FDIV_S, RTZ, 0x01, "fdiv.s 2 / 3 rtz", 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, 0xffffffff3f2aaaaaull},
    {OP_FDIV_S, RDN, 0x01, "fdiv.s 2 / 3 rdn", 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, 0xffffffff3f2aaaaaull},
    {OP_FDIV_S, RUP, 0x01, "fdiv.s 2 / 3 rup", 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, 0xffffffff3f2aaaabull},
    {OP_FDIV_S, RMM, 0x01, "fdiv.s 2 / 3 rmm", 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, 0xffffffff3f2aaaabull},
    {OP_FSQRT_D, RNE, 0x01, "fsqrt.d 2 rne", 0x4000000000000000ull, 0x0ull, 0x0ull, 0x3ff6a09e667f3bcdull},
    {OP_FSQRT_D, RTZ, 0x01, "fsqrt.d 2 rtz", 0x4000000000000000ull, 0x0ull, 0x0ull, 0x3ff6a09e667f3bccull},
    {OP_FSQRT_D, RDN, 0x01, "fsqrt.d 2 rdn", 0x4000000000000000ull, 0x0ull, 0x0ull, 0x3ff6a09e667f3bccull},
    {OP_FSQRT_D, RUP, 0x01, "fsqrt.d 2 rup", 0x4000000000000000ull, 0x0ull, 0x0ull, 0x3ff6a09e667f3bcdull},
    {OP_FSQRT_D, RMM, 0x01, "fsqrt.d 2 rmm", 0x4000000000000000ull, 0x0ull, 0x0ull, 0x3ff6a09e667f3bcdull},
    {OP_FSQRT_S, RNE, 0x01, "fsqrt.s 2 rne", 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff3fb504f3ull},
    {OP_FSQRT_S, RTZ, 0x01, "fsqrt.s 2 rtz", 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff3fb504f3ull},
    {OP_FSQRT_S, RDN, 0x01, "fsqrt.s 2 rdn", 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff3fb504f3ull},
    {OP_FSQRT_S, RUP, 0x01, "fsqrt.s 2 rup", 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff3fb504f4ull},
    {OP_FSQRT_S, RMM, 0x01, "fsqrt.s 2 rmm", 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff3fb504f3ull},
    {OP_FSQRT_D, RNE, 0x00, "fsqrt.d min subnormal rne", 0x1ull, 0x0ull, 0x0ull, 0x1e60000000000000ull},
    {OP_FSQRT_D, RTZ, 0x00, "fsqrt.d min subnormal rtz", 0x1ull, 0x0ull, 0x0ull, 0x1e60000000000000ull},
    {OP_FSQRT_D, RDN, 0x00, "fsqrt.d min subnormal rdn", 0x1ull, 0x0ull, 0x0ull, 0x1e60000000000000ull},
    {OP_FSQRT_D, RUP, 0x00, "fsqrt.d min subnormal rup", 0x1ull, 0x0ull, 0x0ull, 0x1e60000000000000ull},
    {OP_FSQRT_D, RMM, 0x00, "fsqrt.d min subnormal rmm", 0x1ull, 0x0ull, 0x0ull, 0x1e60000000000000ull},
    {OP_FMADD_D, RNE, 0x00, "fmadd.d (1+2^-30)^2 - 1 rne", 0x3ff0000000400000ull, 0x3ff0000000400000ull, 0xbff0000000000000ull, 0x3e20000000200000ull},
    {OP_FMADD_S, RNE, 0x01, "fmadd.s 3 * (1+2^-23) + 2^-22 rne", 0xffffffff40400000ull, 0xffffffff3f800001ull, 0xffffffff34800000ull, 0xffffffff40400002ull},
    {OP_FMADD_S, RTZ, 0x01, "fmadd.s 3 * (1+2^-23) + 2^-22 rtz", 0xffffffff40400000ull, 0xffffffff3f800001ull, 0xffffffff34800000ull, 0xffffffff40400002ull},
    {OP_FMADD_S, RDN, 0x01, "fmadd.s 3 * (1+2^-23) + 2^-22 rdn", 0xffffffff40400000ull, 0xffffffff3f800001ull, 0xffffffff34800000ull, 0xffffffff40400002ull},
    {OP_FMADD_S, RUP, 0x01, "fmadd.s 3 * (1+2^-23) + 2^-22 rup", 0xffffffff40400000ull, 0xffffffff3f800001ull, 0xffffffff34800000ull, 0xffffffff40400003ull},
    {OP_FMADD_S, RMM, 0x01, "fmadd.s 3 * (1+2^-23) + 2^-22 rmm", 0xffffffff40400000ull, 0xffffffff3f800001ull, 0xffffffff34800000ull, 0xffffffff40400003ull},
    {OP_FMSUB_D, RNE, 0x01, "fmsub.d 1 * 2^-60 - 1 rne", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull},
    {OP_FMSUB_D, RTZ, 0x01, "fmsub.d 1 * 2^-60 - 1 rtz", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbfefffffffffffffull},
    {OP_FMSUB_D, RDN, 0x01, "fmsub.d 1 * 2^-60 - 1 rdn", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull},
    {OP_FMSUB_D, RUP, 0x01, "fmsub.d 1 * 2^-60 - 1 rup", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbfefffffffffffffull},
    {OP_FMSUB_D, RMM, 0x01, "fmsub.d 1 * 2^-60 - 1 rmm", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull},
    {OP_FNMSUB_S, RNE, 0x01, "fnmsub.s -(1 * 2^-30) + 1 rne", 0xffffffff3f800000ull, 0xffffffff30800000ull, 0xffffffff3f800000ull, 0xffffffff3f800000ull},
    {OP_FNMSUB_S, RTZ, 0x01, "fnmsub.s -(1 * 2^-30) + 1 rtz", 0xffffffff3f800000ull, 0xffffffff30800000ull, 0xffffffff3f800000ull, 0xffffffff3f7fffffull},
    {OP_FNMSUB_S, RDN, 0x01, "fnmsub.s -(1 * 2^-30) + 1 rdn", 0xffffffff3f800000ull, 0xffffffff30800000ull, 0xffffffff3f800000ull, 0xffffffff3f7fffffull},
    {OP_FNMSUB_S, RUP, 0x01, "fnmsub.s -(1 * 2^-30) + 1 rup", 0xffffffff3f800000ull, 0xffffffff30800000ull, 0xffffffff3f800000ull, 0xffffffff3f800000ull},
    {OP_FNMSUB_S, RMM, 0x01, "fnmsub.s -(1 * 2^-30) + 1 rmm", 0xffffffff3f800000ull, 0xffffffff30800000ull, 0xffffffff3f800000ull, 0xffffffff3f800000ull},
    {OP_FNMADD_D, RNE, 0x01, "fnmadd.d -(1 * 2^-60) - 1 rne", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull},
    {OP_FNMADD_D, RTZ, 0x01, "fnmadd.d -(1 * 2^-60) - 1 rtz", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull},
    {OP_FNMADD_D, RDN, 0x01, "fnmadd.d -(1 * 2^-60) - 1 rdn", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000001ull},
    {OP_FNMADD_D, RUP, 0x01, "fnmadd.d -(1 * 2^-60) - 1 rup", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull},
    {OP_FNMADD_D, RMM, 0x01, "fnmadd.d -(1 * 2^-60) - 1 rmm", 0x3ff0000000000000ull, 0x3c30000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull},
    {OP_FCVT_S_D, RNE, 0x01, "fcvt.s.d 1 + 2^-24 rne", 0x3ff0000010000000ull, 0x0ull, 0x0ull, 0xffffffff3f800000ull},
    {OP_FCVT_S_D, RTZ, 0x01, "fcvt.s.d 1 + 2^-24 rtz", 0x3ff0000010000000ull, 0x0ull, 0x0ull, 0xffffffff3f800000ull},
    {OP_FCVT_S_D, RDN, 0x01, "fcvt.s.d 1 + 2^-24 rdn", 0x3ff0000010000000ull, 0x0ull, 0x0ull, 0xffffffff3f800000ull},
    {OP_FCVT_S_D, RUP, 0x01, "fcvt.s.d 1 + 2^-24 rup", 0x3ff0000010000000ull, 0x0ull, 0x0ull, 0xffffffff3f800001ull},
    {OP_FCVT_S_D, RMM, 0x01, "fcvt.s.d 1 + 2^-24 rmm", 0x3ff0000010000000ull, 0x0ull, 0x0ull, 0xffffffff3f800001ull},
    {OP_FCVT_S_D, RNE, 0x05, "fcvt.s.d -1e300 rne", 0xfe37e43c8800759cull, 0x0ull, 0x0ull, 0xffffffffff800000ull},
    {OP_FCVT_S_D, RTZ, 0x05, "fcvt.s.d -1e300 rtz", 0xfe37e43c8800759cull, 0x0ull, 0x0ull, 0xffffffffff7fffffull},
    {OP_FCVT_S_D, RDN, 0x05, "fcvt.s.d -1e300 rdn", 0xfe37e43c8800759cull, 0x0ull, 0x0ull, 0xffffffffff800000ull},
    {OP_FCVT_S_D, RUP, 0x05, "fcvt.s.d -1e300 rup", 0xfe37e43c8800759cull, 0x0ull, 0x0ull, 0xffffffffff7fffffull},
    {OP_FCVT_S_D, RMM, 0x05, "fcvt.s.d -1e300 rmm", 0xfe37e43c8800759cull, 0x0ull, 0x0ull, 0xffffffffff800000ull},
    {OP_FCVT_S_D, RNE, 0x01, "fcvt.s.d 2^-126 - 2^-151 rne", 0x380ffffff0000000ull, 0x0ull, 0x0ull, 0xffffffff00800000ull},
    {OP_FCVT_S_D, RTZ, 0x03, "fcvt.s.d 2^-126 - 2^-151 rtz", 0x380ffffff0000000ull, 0x0ull, 0x0ull, 0xffffffff007fffffull},
    {OP_FCVT_S_D, RDN, 0x03, "fcvt.s.d 2^-126 - 2^-151 rdn", 0x380ffffff0000000ull, 0x0ull, 0x0ull, 0xffffffff007fffffull},
    {OP_FCVT_S_D, RUP, 0x01, "fcvt.s.d 2^-126 - 2^-151 rup", 0x380ffffff0000000ull, 0x0ull, 0x0ull, 0xffffffff00800000ull},
    {OP_FCVT_S_D, RMM, 0x01, "fcvt.s.d 2^-126 - 2^-151 rmm", 0x380ffffff0000000ull, 0x0ull, 0x0ull, 0xffffffff00800000ull},
    {OP_FCVT_W_D, RNE, 0x01, "fcvt.w.d 2.5 rne", 0x4004000000000000ull, 0x0ull, 0x0ull, 0x2ull},
    {OP_FCVT_W_D, RTZ, 0x01, "fcvt.w.d 2.5 rtz", 0x4004000000000000ull, 0x0ull, 0x0ull, 0x2ull},
    {OP_FCVT_W_D, RDN, 0x01, "fcvt.w.d 2.5 rdn", 0x4004000000000000ull, 0x0ull, 0x0ull, 0x2ull},
    {OP_FCVT_W_D, RUP, 0x01, "fcvt.w.d 2.5 rup", 0x4004000000000000ull, 0x0ull, 0x0ull, 0x3ull},
    {OP_FCVT_W_D, RMM, 0x01, "fcvt.w.d 2.5 rmm", 0x4004000000000000ull, 0x0ull, 0x0ull, 0x3ull},
    {OP_FCVT_W_D, RNE, 0x01, "fcvt.w.d -2.5 rne", 0xc004000000000000ull, 0x0ull, 0x0ull, 0xfffffffffffffffeull},
    {OP_FCVT_W_D, RTZ, 0x01, "fcvt.w.d -2.5 rtz", 0xc004000000000000ull, 0x0ull, 0x0ull, 0xfffffffffffffffeull},
    {OP_FCVT_W_D, RDN, 0x01, "fcvt.w.d -2.5 rdn", 0xc004000000000000ull, 0x0ull, 0x0ull, 0xfffffffffffffffdull},
    {OP_FCVT_W_D, RUP, 0x01, "fcvt.w.d -2.5 rup", 0xc004000000000000ull, 0x0ull, 0x0ull, 0xfffffffffffffffeull},
    {OP_FCVT_W_D, RMM, 0x01, "fcvt.w.d -2.5 rmm", 0xc004000000000000ull, 0x0ull, 0x0ull, 0xfffffffffffffffdull},
    {OP_FCVT_L_S, RNE, 0x01, "fcvt.l.s -7.75 rne", 0xffffffffc0f80000ull, 0x0ull, 0x0ull, 0xfffffffffffffff8ull},
    {OP_FCVT_L_S, RTZ, 0x01, "fcvt.l.s -7.75 rtz", 0xffffffffc0f80000ull, 0x0ull, 0x0ull, 0xfffffffffffffff9ull},
    {OP_FCVT_L_S, RDN, 0x01, "fcvt.l.s -7.75 rdn", 0xffffffffc0f80000ull, 0x0ull, 0x0ull, 0xfffffffffffffff8ull},
    {OP_FCVT_L_S, RUP, 0x01, "fcvt.l.s -7.75 rup", 0xffffffffc0f80000ull, 0x0ull, 0x0ull, 0xfffffffffffffff9ull},
    {OP_FCVT_L_S, RMM, 0x01, "fcvt.l.s -7.75 rmm", 0xffffffffc0f80000ull, 0x0ull, 0x0ull, 0xfffffffffffffff8ull},
    {OP_FCVT_WU_S, RNE, 0x01, "fcvt.wu.s -0.5 rne", 0xffffffffbf000000ull, 0x0ull, 0x0ull, 0x0ull},
    {OP_FCVT_WU_S, RTZ, 0x01, "fcvt.wu.s -0.5 rtz", 0xffffffffbf000000ull, 0x0ull, 0x0ull, 0x0ull},
    {OP_FCVT_WU_S, RDN, 0x10, "fcvt.wu.s -0.5 rdn", 0xffffffffbf000000ull, 0x0ull, 0x0ull, 0x0ull},
    {OP_FCVT_WU_S, RUP, 0x01, "fcvt.wu.s -0.5 rup", 0xffffffffbf000000ull, 0x0ull, 0x0ull, 0x0ull},
    {OP_FCVT_WU_S, RMM, 0x10, "fcvt.wu.s -0.5 rmm", 0xffffffffbf000000ull, 0x0ull, 0x0ull, 0x0ull},
    {OP_FCVT_LU_D, RNE, 0x00, "fcvt.lu.d 2^64 - 2048 rne", 0x43efffffffffffffull, 0x0ull, 0x0ull, 0xfffffffffffff800ull},
    {OP_FCVT_WU_D, RNE, 0x10, "fcvt.wu.d 4294967295.5 rne", 0x41effffffff00000ull, 0x0ull, 0x0ull, 0xffffffffffffffffull},
    {OP_FCVT_WU_D, RTZ, 0x01, "fcvt.wu.d 4294967295.5 rtz", 0x41effffffff00000ull, 0x0ull, 0x0ull, 0xffffffffffffffffull},
    {OP_FCVT_WU_D, RDN, 0x01, "fcvt.wu.d 4294967295.5 rdn", 0x41effffffff00000ull, 0x0ull, 0x0ull, 0xffffffffffffffffull},
    {OP_FCVT_WU_D, RUP, 0x10, "fcvt.wu.d 4294967295.5 rup", 0x41effffffff00000ull, 0x0ull, 0x0ull, 0xffffffffffffffffull},
    {OP_FCVT_WU_D, RMM, 0x10, "fcvt.wu.d 4294967295.5 rmm", 0x41effffffff00000ull, 0x0ull, 0x0ull, 0xffffffffffffffffull},
    {OP_FCVT_S_L, RNE, 0x01, "fcvt.s.l 2^24 + 1 rne", 0x1000001ull, 0x0ull, 0x0ull, 0xffffffff4b800000ull},
    {OP_FCVT_S_L, RTZ, 0x01, "fcvt.s.l 2^24 + 1 rtz", 0x1000001ull, 0x0ull, 0x0ull, 0xffffffff4b800000ull},
    {OP_FCVT_S_L, RDN, 0x01, "fcvt.s.l 2^24 + 1 rdn", 0x1000001ull, 0x0ull, 0x0ull, 0xffffffff4b800000ull},
    {OP_FCVT_S_L, RUP, 0x01, "fcvt.s.l 2^24 + 1 rup", 0x1000001ull, 0x0ull, 0x0ull, 0xffffffff4b800001ull},
    {OP_FCVT_S_L, RMM, 0x01, "fcvt.s.l 2^24 + 1 rmm", 0x1000001ull, 0x0ull, 0x0ull, 0xffffffff4b800001ull},
    {OP_FCVT_S_W, RNE, 0x01, "fcvt.s.w -(2^24 + 3) rne", 0xfffffffffefffffdull, 0x0ull, 0x0ull, 0xffffffffcb800002ull},
    {OP_FCVT_S_W, RTZ, 0x01, "fcvt.s.w -(2^24 + 3) rtz", 0xfffffffffefffffdull, 0x0ull, 0x0ull, 0xffffffffcb800001ull},
    {OP_FCVT_S_W, RDN, 0x01, "fcvt.s.w -(2^24 + 3) rdn", 0xfffffffffefffffdull, 0x0ull, 0x0ull, 0xffffffffcb800002ull},
    {OP_FCVT_S_W, RUP, 0x01, "fcvt.s.w -(2^24 + 3) rup", 0xfffffffffefffffdull, 0x0ull, 0x0ull, 0xffffffffcb800001ull},
    {OP_FCVT_S_W, RMM, 0x01, "fcvt.s.w -(2^24 + 3) rmm", 0xfffffffffefffffdull, 0x0ull, 0x0ull, 0xffffffffcb800002ull},
    {OP_FCVT_D_LU, RNE, 0x01, "fcvt.d.lu 2^64 - 1 rne", 0xffffffffffffffffull, 0x0ull, 0x0ull, 0x43f0000000000000ull},
    {OP_FCVT_D_LU, RTZ, 0x01, "fcvt.d.lu 2^64 - 1 rtz", 0xffffffffffffffffull, 0x0ull, 0x0ull, 0x43efffffffffffffull},
    {OP_FCVT_D_LU, RDN, 0x01, "fcvt.d.lu 2^64 - 1 rdn", 0xffffffffffffffffull, 0x0ull, 0x0ull, 0x43efffffffffffffull},
    {OP_FCVT_D_LU, RUP, 0x01, "fcvt.d.lu 2^64 - 1 rup", 0xffffffffffffffffull, 0x0ull, 0x0ull, 0x43f0000000000000ull},
    {OP_FCVT_D_LU, RMM, 0x01, "fcvt.d.lu 2^64 - 1 rmm", 0xffffffffffffffffull, 0x0ull, 0x0ull, 0x43f0000000000000ull},
    {OP_FCVT_D_L, RNE, 0x01, "fcvt.d.l -(2^53 + 1) rne", 0xffdfffffffffffffull, 0x0ull, 0x0ull, 0xc340000000000000ull},
    {OP_FCVT_D_L, RTZ, 0x01, "fcvt.d.l -(2^53 + 1) rtz", 0xffdfffffffffffffull, 0x0ull, 0x0ull, 0xc340000000000000ull},
    {OP_FCVT_D_L, RDN, 0x01, "fcvt.d.l -(2^53 + 1) rdn", 0xffdfffffffffffffull, 0x0ull, 0x0ull, 0xc340000000000001ull},
    {OP_FCVT_D_L, RUP, 0x01, "fcvt.d.l -(2^53 + 1) rup", 0xffdfffffffffffffull, 0x0ull, 0x0ull, 0xc340000000000000ull},
    {OP_FCVT_D_L, RMM, 0x01, "fcvt.d.l -(2^53 + 1) rmm", 0xffdfffffffffffffull, 0x0ull, 0x0ull, 0xc340000000000001ull},
    {OP_FCVT_S_WU, RNE, 0x01, "fcvt.s.wu 0xffffffff rne", 0xffffffffull, 0x0ull, 0x0ull, 0xffffffff4f800000ull},
    {OP_FCVT_S_WU, RTZ, 0x01, "fcvt.s.wu 0xffffffff rtz", 0xffffffffull, 0x0ull, 0x0ull, 0xffffffff4f7fffffull},
    {OP_FCVT_S_WU, RDN, 0x01, "fcvt.s.wu 0xffffffff rdn", 0xffffffffull, 0x0ull, 0x0ull, 0xffffffff4f7fffffull},
    {OP_FCVT_S_WU, RUP, 0x01, "fcvt.s.wu 0xffffffff rup", 0xffffffffull, 0x0ull, 0x0ull, 0xffffffff4f800000ull},
    {OP_FCVT_S_WU, RMM, 0x01, "fcvt.s.wu 0xffffffff rmm", 0xffffffffull, 0x0ull, 0x0ull, 0xffffffff4f800000ull},
};

#define B(x) (0xffffffff00000000ull | (x)) /* a NaN-boxed single */
#define QNAN_S 0x7fc00000ull
#define QNAN_D 0x7ff8000000000000ull
#define SNAN_S 0x7f800001ull
#define SNAN_D 0x7ff0000000000001ull
#define INF_S 0x7f800000ull
#define INF_D 0x7ff0000000000000ull
#define ONE_S 0x3f800000ull
#define ONE_D 0x3ff0000000000000ull
#define TWO_S 0x40000000ull
#define TWO_D 0x4000000000000000ull
#define NEG_S 0x80000000ull
#define NEG_D 0x8000000000000000ull

/* Special operands, in RNE. */
static const struct fcase special_cases[] = {
    /* NaN results are the canonical NaN; signaling inputs and invalid operations set NV. */
    {OP_FADD_S, RNE, 0, "fadd.s qNaN(payload) + 1", B(0xffc12345), B(ONE_S), 0, B(QNAN_S)},
    {OP_FADD_D, RNE, NV, "fadd.d sNaN + 1", SNAN_D, ONE_D, 0, QNAN_D},
    {OP_FSUB_D, RNE, NV, "fsub.d inf - inf", INF_D, INF_D, 0, QNAN_D},
    {OP_FADD_S, RNE, 0, "fadd.s -inf + 1", B(NEG_S | INF_S), B(ONE_S), 0, B(NEG_S | INF_S)},
    {OP_FMUL_S, RNE, NV, "fmul.s 0 * inf", B(0), B(INF_S), 0, B(QNAN_S)},
    {OP_FMUL_D, RNE, 0, "fmul.d -0 * 3", NEG_D, 0x4008000000000000ull, 0, NEG_D},
    {OP_FDIV_D, RNE, NV, "fdiv.d 0 / 0", 0, 0, 0, QNAN_D},
    {OP_FDIV_D, RNE, DZ, "fdiv.d 1 / 0", ONE_D, 0, 0, INF_D},
    {OP_FDIV_S, RNE, DZ, "fdiv.s -1 / +0", B(NEG_S | ONE_S), B(0), 0, B(NEG_S | INF_S)},
    {OP_FDIV_D, RNE, 0, "fdiv.d inf / 0", INF_D, 0, 0, INF_D},
    {OP_FDIV_S, RNE, NV, "fdiv.s inf / inf", B(INF_S), B(INF_S), 0, B(QNAN_S)},
    {OP_FSQRT_D, RNE, NV, "fsqrt.d -1", NEG_D | ONE_D, 0, 0, QNAN_D},
    {OP_FSQRT_S, RNE, 0, "fsqrt.s -0", B(NEG_S), 0, 0, B(NEG_S)},
    {OP_FSQRT_D, RNE, NV, "fsqrt.d -inf", NEG_D | INF_D, 0, 0, QNAN_D},
    {OP_FSQRT_D, RNE, 0, "fsqrt.d inf", INF_D, 0, 0, INF_D},
    {OP_FSQRT_S, RNE, NV, "fsqrt.s sNaN", B(SNAN_S), 0, 0, B(QNAN_S)},
    /* Fused: inf * 0 is invalid even with a quiet NaN addend. */
    {OP_FMADD_D, RNE, NV, "fmadd.d inf * 0 + qNaN", INF_D, 0, QNAN_D, QNAN_D},
    {OP_FMADD_S, RNE, 0, "fmadd.s 1 * 1 + qNaN", B(ONE_S), B(ONE_S), B(QNAN_S), B(QNAN_S)},
    {OP_FMADD_D, RNE, NV, "fmadd.d inf * 1 + -inf", INF_D, ONE_D, NEG_D | INF_D, QNAN_D},
    {OP_FNMADD_D, RNE, 0, "fnmadd.d -(inf * 1) - inf", INF_D, ONE_D, INF_D, NEG_D | INF_D},
    {OP_FNMADD_D, RNE, NV, "fnmadd.d -(inf * 1) - -inf", INF_D, ONE_D, NEG_D | INF_D, QNAN_D},
    {OP_FMSUB_S, RNE, NV, "fmsub.s sNaN * 1 - 1", B(SNAN_S), B(ONE_S), B(ONE_S), B(QNAN_S)},
    {OP_FMADD_S, RNE, 0, "fmadd.s -0 * 1 + 0", B(NEG_S), B(ONE_S), B(0), B(0)},
    {OP_FMADD_S, RDN, 0, "fmadd.s -0 * 1 + 0 rdn", B(NEG_S), B(ONE_S), B(0), B(NEG_S)},
    {OP_FNMSUB_D, RNE, 0, "fnmsub.d -(-0 * 1) + -0", NEG_D, ONE_D, NEG_D, 0},
    {OP_FNMADD_D, RNE, 0, "fnmadd.d -(0 * 1) - 0", 0, ONE_D, 0, NEG_D},
    {OP_FMADD_D, RNE, 0, "fmadd.d 1 * 1 + -1", ONE_D, ONE_D, NEG_D | ONE_D, 0},
    {OP_FMADD_D, RDN, 0, "fmadd.d 1 * 1 + -1 rdn", ONE_D, ONE_D, NEG_D | ONE_D, NEG_D},
    {OP_FSUB_S, RDN, 0, "fsub.s 1 - 1 rdn", B(ONE_S), B(ONE_S), 0, B(NEG_S)},
    /* Format conversions. */
    {OP_FCVT_S_D, RNE, 0, "fcvt.s.d qNaN(payload)", 0xfff8000012345678ull, 0, 0, B(QNAN_S)},
    {OP_FCVT_S_D, RNE, NV, "fcvt.s.d sNaN", SNAN_D, 0, 0, B(QNAN_S)},
    {OP_FCVT_S_D, RNE, 0, "fcvt.s.d -inf", NEG_D | INF_D, 0, 0, B(NEG_S | INF_S)},
    {OP_FCVT_D_S, RNE, NV, "fcvt.d.s sNaN", B(SNAN_S), 0, 0, QNAN_D},
    {OP_FCVT_D_S, RNE, 0, "fcvt.d.s min subnormal", B(1), 0, 0, 0x36a0000000000000ull},
    {OP_FCVT_D_S, RNE, 0, "fcvt.d.s -0", B(NEG_S), 0, 0, NEG_D},
    /* Float to integer: NaN gives the largest value, out of range saturates, only NV. */
    {OP_FCVT_W_S, RNE, NV, "fcvt.w.s qNaN", B(QNAN_S), 0, 0, 0x7fffffffull},
    {OP_FCVT_W_S, RNE, NV, "fcvt.w.s -qNaN", B(0xffc00000), 0, 0, 0x7fffffffull},
    {OP_FCVT_WU_S, RNE, NV, "fcvt.wu.s qNaN", B(QNAN_S), 0, 0, ~0ull},
    {OP_FCVT_L_D, RNE, NV, "fcvt.l.d qNaN", QNAN_D, 0, 0, 0x7fffffffffffffffull},
    {OP_FCVT_LU_D, RNE, NV, "fcvt.lu.d sNaN", SNAN_D, 0, 0, ~0ull},
    {OP_FCVT_W_D, RNE, NV, "fcvt.w.d -inf", NEG_D | INF_D, 0, 0, 0xffffffff80000000ull},
    {OP_FCVT_WU_D, RNE, NV, "fcvt.wu.d -inf", NEG_D | INF_D, 0, 0, 0},
    {OP_FCVT_L_S, RNE, NV, "fcvt.l.s inf", B(INF_S), 0, 0, 0x7fffffffffffffffull},
    {OP_FCVT_LU_S, RNE, NV, "fcvt.lu.s -inf", B(NEG_S | INF_S), 0, 0, 0},
    {OP_FCVT_L_D, RNE, NV, "fcvt.l.d 2^63", 0x43e0000000000000ull, 0, 0, 0x7fffffffffffffffull},
    {OP_FCVT_L_D, RNE, 0, "fcvt.l.d -2^63", 0xc3e0000000000000ull, 0, 0, 0x8000000000000000ull},
    {OP_FCVT_L_D, RNE, NV, "fcvt.l.d -2^63 - 2048", 0xc3e0000000000001ull, 0, 0, 0x8000000000000000ull},
    {OP_FCVT_LU_D, RNE, NV, "fcvt.lu.d -1", NEG_D | ONE_D, 0, 0, 0},
    {OP_FCVT_LU_S, RNE, NV, "fcvt.lu.s 2^64", B(0x5f800000), 0, 0, ~0ull},
    {OP_FCVT_W_S, RNE, NV, "fcvt.w.s 2^31", B(0x4f000000), 0, 0, 0x7fffffffull},
    {OP_FCVT_W_S, RNE, 0, "fcvt.w.s -2^31", B(0xcf000000), 0, 0, 0xffffffff80000000ull},
    {OP_FCVT_WU_S, RNE, 0, "fcvt.wu.s 4294967040", B(0x4f7fffff), 0, 0, 0xffffffffffffff00ull},
    {OP_FCVT_WU_D, RNE, NV, "fcvt.wu.d 2^32", 0x41f0000000000000ull, 0, 0, ~0ull},
    {OP_FCVT_W_D, RNE, 0, "fcvt.w.d -0", NEG_D, 0, 0, 0},
    {OP_FCVT_W_D, RNE, NX, "fcvt.w.d min subnormal", 1, 0, 0, 0},
    /* Integer to float: W forms read the low 32 bits of the register. */
    {OP_FCVT_S_W, RDN, 0, "fcvt.s.w 0 rdn", 0, 0, 0, B(0)},
    {OP_FCVT_D_W, RNE, 0, "fcvt.d.w 0x12345678ffffffff", 0x12345678ffffffffull, 0, 0, NEG_D | ONE_D},
    {OP_FCVT_D_WU, RNE, 0, "fcvt.d.wu 0x12345678ffffffff", 0x12345678ffffffffull, 0, 0, 0x41efffffffe00000ull},
    {OP_FCVT_S_LU, RNE, 0, "fcvt.s.lu 2^63", 0x8000000000000000ull, 0, 0, B(0x5f000000)},
    {OP_FCVT_D_L, RNE, 0, "fcvt.d.l -2^63", 0x8000000000000000ull, 0, 0, 0xc3e0000000000000ull},
    /* minimumNumber / maximumNumber. */
    {OP_FMIN_S, RNE, 0, "fmin.s +0, -0", B(0), B(NEG_S), 0, B(NEG_S)},
    {OP_FMAX_S, RNE, 0, "fmax.s -0, +0", B(NEG_S), B(0), 0, B(0)},
    {OP_FMIN_D, RNE, 0, "fmin.d qNaN, 2", QNAN_D, TWO_D, 0, TWO_D},
    {OP_FMAX_D, RNE, NV, "fmax.d sNaN, 2", SNAN_D, TWO_D, 0, TWO_D},
    {OP_FMIN_S, RNE, 0, "fmin.s qNaN, qNaN", B(QNAN_S), B(0xffc00001), 0, B(QNAN_S)},
    {OP_FMAX_D, RNE, NV, "fmax.d sNaN, qNaN", SNAN_D, QNAN_D, 0, QNAN_D},
    {OP_FMIN_D, RNE, 0, "fmin.d -3, 2", 0xc008000000000000ull, TWO_D, 0, 0xc008000000000000ull},
    {OP_FMAX_S, RNE, 0, "fmax.s -inf, inf", B(NEG_S | INF_S), B(INF_S), 0, B(INF_S)},
    {OP_FMAX_D, RNE, 0, "fmax.d 1, 2", ONE_D, TWO_D, 0, TWO_D},
    /* Comparisons: feq is quiet, flt and fle signal on any NaN. */
    {OP_FEQ_S, RNE, 0, "feq.s +0, -0", B(0), B(NEG_S), 0, 1},
    {OP_FEQ_D, RNE, 0, "feq.d qNaN, qNaN", QNAN_D, QNAN_D, 0, 0},
    {OP_FEQ_S, RNE, NV, "feq.s sNaN, 1", B(SNAN_S), B(ONE_S), 0, 0},
    {OP_FLT_D, RNE, NV, "flt.d qNaN, 1", QNAN_D, ONE_D, 0, 0},
    {OP_FLE_S, RNE, NV, "fle.s 1, qNaN", B(ONE_S), B(QNAN_S), 0, 0},
    {OP_FLT_D, RNE, 0, "flt.d -0, +0", NEG_D, 0, 0, 0},
    {OP_FLE_D, RNE, 0, "fle.d -0, +0", NEG_D, 0, 0, 1},
    {OP_FLT_S, RNE, 0, "flt.s -1, 1", B(NEG_S | ONE_S), B(ONE_S), 0, 1},
    {OP_FLT_D, RNE, 0, "flt.d 2, 1", TWO_D, ONE_D, 0, 0},
    {OP_FLE_S, RNE, 0, "fle.s -inf, -inf", B(NEG_S | INF_S), B(NEG_S | INF_S), 0, 1},
    {OP_FEQ_D, RNE, 0, "feq.d 1, 1", ONE_D, ONE_D, 0, 1},
    /* Classify: one bit per class. */
    {OP_FCLASS_S, RNE, 0, "fclass.s -inf", B(NEG_S | INF_S), 0, 0, 1 << 0},
    {OP_FCLASS_S, RNE, 0, "fclass.s -1", B(NEG_S | ONE_S), 0, 0, 1 << 1},
    {OP_FCLASS_S, RNE, 0, "fclass.s -subnormal", B(NEG_S | 1), 0, 0, 1 << 2},
    {OP_FCLASS_S, RNE, 0, "fclass.s -0", B(NEG_S), 0, 0, 1 << 3},
    {OP_FCLASS_S, RNE, 0, "fclass.s +0", B(0), 0, 0, 1 << 4},
    {OP_FCLASS_S, RNE, 0, "fclass.s +subnormal", B(0x7fffff), 0, 0, 1 << 5},
    {OP_FCLASS_S, RNE, 0, "fclass.s 1", B(ONE_S), 0, 0, 1 << 6},
    {OP_FCLASS_S, RNE, 0, "fclass.s inf", B(INF_S), 0, 0, 1 << 7},
    {OP_FCLASS_S, RNE, 0, "fclass.s sNaN", B(SNAN_S), 0, 0, 1 << 8},
    {OP_FCLASS_S, RNE, 0, "fclass.s qNaN", B(QNAN_S), 0, 0, 1 << 9},
    {OP_FCLASS_D, RNE, 0, "fclass.d -inf", NEG_D | INF_D, 0, 0, 1 << 0},
    {OP_FCLASS_D, RNE, 0, "fclass.d -max", 0xffefffffffffffffull, 0, 0, 1 << 1},
    {OP_FCLASS_D, RNE, 0, "fclass.d -subnormal", 0x800fffffffffffffull, 0, 0, 1 << 2},
    {OP_FCLASS_D, RNE, 0, "fclass.d -0", NEG_D, 0, 0, 1 << 3},
    {OP_FCLASS_D, RNE, 0, "fclass.d +0", 0, 0, 0, 1 << 4},
    {OP_FCLASS_D, RNE, 0, "fclass.d +subnormal", 1, 0, 0, 1 << 5},
    {OP_FCLASS_D, RNE, 0, "fclass.d min normal", 0x0010000000000000ull, 0, 0, 1 << 6},
    {OP_FCLASS_D, RNE, 0, "fclass.d inf", INF_D, 0, 0, 1 << 7},
    {OP_FCLASS_D, RNE, 0, "fclass.d sNaN", 0x7ff7ffffffffffffull, 0, 0, 1 << 8},
    {OP_FCLASS_D, RNE, 0, "fclass.d -qNaN", 0xfff8000000000000ull, 0, 0, 1 << 9},
    /* Sign injection keeps NaN payloads (it is not arithmetic). */
    {OP_FSGNJ_D, RNE, 0, "fsgnj.d 1, -2", ONE_D, NEG_D | TWO_D, 0, NEG_D | ONE_D},
    {OP_FSGNJN_S, RNE, 0, "fsgnjn.s 1, -2", B(ONE_S), B(NEG_S | TWO_S), 0, B(ONE_S)},
    {OP_FSGNJX_D, RNE, 0, "fsgnjx.d -1, -2", NEG_D | ONE_D, NEG_D | TWO_D, 0, ONE_D},
    {OP_FSGNJX_S, RNE, 0, "fsgnjx.s -1, 2", B(NEG_S | ONE_S), B(TWO_S), 0, B(NEG_S | ONE_S)},
    {OP_FSGNJN_D, RNE, 0, "fsgnjn.d qNaN(payload), 2", 0x7ff8000000001234ull, TWO_D, 0, 0xfff8000000001234ull},
    {OP_FSGNJ_S, RNE, 0, "fsgnj.s sNaN, -1", B(SNAN_S), B(NEG_S | ONE_S), 0, B(NEG_S | SNAN_S)},
    /* NaN-boxing: an improperly boxed single reads as the canonical NaN... */
    {OP_FADD_S, RNE, 0, "fadd.s unboxed + 1", 0x000000003f800000ull, B(ONE_S), 0, B(QNAN_S)},
    {OP_FSGNJ_S, RNE, 0, "fsgnj.s unboxed, -1", 0xfffffffe3f800000ull, B(NEG_S | ONE_S), 0, B(0xffc00000)},
    {OP_FCLASS_S, RNE, 0, "fclass.s unboxed", 0x7fffffff3f800000ull, 0, 0, 1 << 9},
    {OP_FCVT_D_S, RNE, 0, "fcvt.d.s unboxed", 0x3f800000ull, 0, 0, QNAN_D},
    {OP_FEQ_S, RNE, 0, "feq.s unboxed, unboxed", 0x3f800000ull, 0x3f800000ull, 0, 0},
    {OP_FMIN_S, RNE, 0, "fmin.s unboxed, 2", 0x3f800000ull, B(TWO_S), 0, B(TWO_S)},
    /* ...but moves take the low 32 bits as they are. */
    {OP_FMV_X_W, RNE, 0, "fmv.x.w 0x1234567880000000", 0x1234567880000000ull, 0, 0, 0xffffffff80000000ull},
    {OP_FMV_X_W, RNE, 0, "fmv.x.w boxed qNaN", B(QNAN_S), 0, 0, QNAN_S},
    {OP_FMV_W_X, RNE, 0, "fmv.w.x 0x123456783f800000", 0x123456783f800000ull, 0, 0, B(ONE_S)},
    {OP_FMV_X_D, RNE, 0, "fmv.x.d sNaN", SNAN_D, 0, 0, SNAN_D},
    {OP_FMV_D_X, RNE, 0, "fmv.d.x sNaN", SNAN_D, 0, 0, SNAN_D},
};

static void run_table(const struct fcase *cases, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    const struct fcase *t = &cases[i];
    csr_write(frm, t->frm);
    unsigned long flags;
    const uint64_t r = exec_op(t->op, t->a, t->b, t->c, &flags);
    t_check(r == t->want && flags == t->flags, "%s = 0x%lx, fflags 0x%02lx", t->what,
            (unsigned long)r, flags);
    if (r != t->want || flags != t->flags)
      kprintf("#   want 0x%lx, fflags 0x%02x\n", (unsigned long)t->want, t->flags);
  }
  csr_write(frm, 0);
}

/* ---- traps ---- */
/* Runs one instruction that must trap as illegal (mtval: its bits or 0). */
#define EXPECT_ILLEGAL(asmtext, desc)                                                       \
  do {                                                                                      \
    uintptr_t pc_;                                                                          \
    reset_recorded_trap();                                                                  \
    __asm__ volatile("lla %0, 1f\n1: " asmtext : "=&r"(pc_)::"ft0", "ft1", "ft3", "t0",     \
                     "memory");                                                             \
    t_check(last_trap.count == 1 && last_trap.cause == CAUSE_ILLEGAL_INSN && last_trap.epc == pc_ &&               \
                (last_trap.tval == insn_bits(pc_) || last_trap.tval == 0),                                  \
            "%s traps as illegal", desc);                                                   \
  } while (0)

#define EXPECT_NO_TRAP(asmtext, desc)                                                       \
  do {                                                                                      \
    reset_recorded_trap();                                                                  \
    __asm__ volatile(asmtext ::: "ft0", "ft1", "ft3", "t0", "memory");                      \
    t_check(last_trap.count == 0, "%s does not trap", desc);                                        \
  } while (0)

static unsigned long fs(void) { return (csr_read(mstatus) & FS_MASK) >> FS_SHIFT; }
static void set_fs(unsigned long v) {
  csr_clear(mstatus, FS_MASK);
  csr_set(mstatus, v << FS_SHIFT);
}

static void test_fs_and_misa(void) {
  const unsigned long misa = csr_read(misa);
  t_check((misa >> ('F' - 'A') & 1) && (misa >> ('D' - 'A') & 1), "misa has F and D");
  t_check(fs() == 1, "mstatus.FS = %lu (Initial) after start-up", fs());

  /* A write to an f register makes the state Dirty, and SD says so. */
  __asm__ volatile("fmv.d.x ft0, zero" ::: "ft0");
  unsigned long m = csr_read(mstatus), s = csr_read(sstatus);
  t_check(fs() == 3 && (m & MSTATUS_SD), "fmv.d.x: FS = %lu, SD = %lu", fs(), m >> 63);
  t_check(((s & FS_MASK) >> FS_SHIFT) == 3 && (s & MSTATUS_SD), "sstatus shows FS = %lu, SD = %lu",
          (s & FS_MASK) >> FS_SHIFT, s >> 63);

  /* Clean: reads keep it Clean, SD clear; an FP load makes it Dirty. */
  set_fs(2);
  m = csr_read(mstatus);
  t_check(fs() == 2 && !(m & MSTATUS_SD), "FS = Clean: FS = %lu, SD = %lu", fs(), m >> 63);
  unsigned long x;
  __asm__ volatile("fmv.x.d %0, ft0" : "=r"(x));
  t_check(fs() == 2, "fmv.x.d keeps FS = %lu", fs());
  __asm__ volatile("frcsr %0" : "=r"(x));
  t_check(fs() == 2, "reading fcsr keeps FS = %lu", fs());
  static volatile uint64_t slot = 0x4000000000000000ull;
  __asm__ volatile("fld ft0, 0(%0)" ::"r"(&slot) : "ft0");
  t_check(fs() == 3, "fld: FS = %lu", fs());
  set_fs(2);
  __asm__ volatile("fsflags zero");
  t_check(fs() == 3, "writing fflags: FS = %lu", fs());

  /* sstatus.FS is writable too. */
  csr_clear(sstatus, FS_MASK);
  csr_set(sstatus, 1UL << FS_SHIFT);
  t_check(fs() == 1, "sstatus write: mstatus.FS = %lu", fs());

  /* Off: every FP instruction and fcsr access is illegal. */
  set_fs(0);
  m = csr_read(mstatus);
  t_check(fs() == 0 && !(m & MSTATUS_SD), "FS = Off: FS = %lu, SD = %lu", fs(), m >> 63);
  EXPECT_ILLEGAL("fadd.d ft0, ft0, ft1", "FS = Off: fadd.d");
  EXPECT_ILLEGAL("fmv.x.d t0, ft0", "FS = Off: fmv.x.d");
  EXPECT_ILLEGAL("fmv.w.x ft0, zero", "FS = Off: fmv.w.x");
  EXPECT_ILLEGAL("fcvt.d.w ft0, zero", "FS = Off: fcvt.d.w");
  EXPECT_ILLEGAL("flw ft0, 0(sp)", "FS = Off: flw");
  EXPECT_ILLEGAL("fsd ft0, -8(sp)", "FS = Off: fsd");
  EXPECT_ILLEGAL(".option push\n.option rvc\nc.fldsp ft0, 0(sp)\n.option pop",
                 "FS = Off: c.fldsp");
  EXPECT_ILLEGAL("frflags t0", "FS = Off: frflags");
  EXPECT_ILLEGAL("fscsr zero", "FS = Off: fscsr");
  EXPECT_ILLEGAL("csrr t0, frm", "FS = Off: csrr frm");
  t_check(fs() == 0, "FS stays Off: %lu", fs());
  set_fs(1);
  EXPECT_NO_TRAP("fadd.d ft0, ft0, ft1", "FS = Initial: fadd.d");
}

static void test_fcsr(void) {
  unsigned long v, old;
  __asm__ volatile("fscsr %0, %1" : "=r"(old) : "r"(0xffUL));
  t_check(csr_read(fcsr) == 0xff && csr_read(frm) == 7 && csr_read(fflags) == 0x1f,
          "fcsr = 0xff: frm = %lu, fflags = 0x%lx", csr_read(frm), csr_read(fflags));
  csr_write(fcsr, 0x3ffUL);
  t_check(csr_read(fcsr) == 0xff, "fcsr keeps 8 bits: 0x%lx", csr_read(fcsr));
  csr_write(frm, 0xfUL);
  t_check(csr_read(frm) == 7, "frm keeps 3 bits: %lu", csr_read(frm));
  csr_write(fflags, 0xffUL);
  t_check(csr_read(fflags) == 0x1f, "fflags keeps 5 bits: 0x%lx", csr_read(fflags));
  __asm__ volatile("fsrm %0, %1" : "=r"(old) : "r"(2UL));
  v = csr_read(fcsr);
  t_check(old == 7 && v == 0x5f, "fsrm 2: old %lu, fcsr 0x%lx", old, v);
  csr_write(fcsr, 0);

  /* Flags accrue: they are only ever set by instructions. */
  __asm__ volatile("fmv.w.x ft0, %0\n\tfmv.w.x ft1, %1\n\tfdiv.s ft3, ft0, ft1\n\t"
                   "fmv.w.x ft1, zero\n\tfdiv.s ft3, ft0, ft1"
                   ::"r"(ONE_S), "r"(0x40400000UL) : "ft0", "ft1", "ft3");
  t_check(csr_read(fflags) == (NX | DZ), "1/3 then 1/0: fflags 0x%lx", csr_read(fflags));
  csr_write(fflags, 0);

  /* Static rounding modes win over frm. */
  uint64_t r;
  csr_write(frm, RUP);
  __asm__ volatile("fmv.w.x ft0, %1\n\tfmv.w.x ft1, %2\n\tfadd.s ft3, ft0, ft1, rne\n\t"
                   "fmv.x.w %0, ft3" : "=r"(r) : "r"(ONE_S), "r"(0x33800000UL) : "ft0", "ft1", "ft3");
  t_check(r == ONE_S, "fadd.s rne with frm = rup: 0x%lx", (unsigned long)r);
  __asm__ volatile("fmv.w.x ft0, %1\n\tfmv.w.x ft1, %2\n\tfadd.s ft3, ft0, ft1, rmm\n\t"
                   "fmv.x.w %0, ft3" : "=r"(r) : "r"(ONE_S), "r"(0x33800000UL) : "ft0", "ft1", "ft3");
  t_check(r == 0x3f800001, "fadd.s rmm: 0x%lx", (unsigned long)r);
  __asm__ volatile("fmv.w.x ft0, %1\n\tfcvt.w.s %0, ft0, rtz" : "=r"(r) : "r"(0x3fc00000UL) : "ft0");
  t_check(r == 1, "fcvt.w.s 1.5 rtz: %ld", (long)r);
  __asm__ volatile("fmv.w.x ft0, %1\n\tfcvt.w.s %0, ft0, rdn" : "=r"(r) : "r"(0xbfc00000UL) : "ft0");
  t_check(r == (uint64_t)-2, "fcvt.w.s -1.5 rdn: %ld", (long)r);
  csr_write(fcsr, 0);

  /* Reserved rounding modes: static 5 and 6, and dyn with frm >= 5. */
  EXPECT_ILLEGAL(".word 0x001051d3", "fadd.s rm = 5");
  EXPECT_ILLEGAL(".word 0x001061d3", "fadd.s rm = 6");
  for (unsigned long bad = 5; bad <= 7; ++bad) {
    csr_write(frm, bad);
    EXPECT_ILLEGAL("fadd.s ft3, ft0, ft1", "fadd.s dyn with frm >= 5");
    /* Exact conversions too (the assembler only writes rm = rne for them). */
    EXPECT_ILLEGAL(".word 0x420071d3", "fcvt.d.s ft3, ft0, dyn with frm >= 5");
    EXPECT_ILLEGAL(".word 0xd20071d3", "fcvt.d.w ft3, zero, dyn with frm >= 5");
    EXPECT_NO_TRAP("fadd.s ft3, ft0, ft1, rne", "fadd.s rne with frm >= 5");
    EXPECT_NO_TRAP("fsgnj.s ft3, ft0, ft1", "fsgnj.s (no rm) with frm >= 5");
  }
  csr_write(frm, 0);
  EXPECT_ILLEGAL(".word 0x581071d3", "fsqrt.s with rs2 = 1");
  EXPECT_ILLEGAL(".word 0x040001d3", "fadd.h (no Zfh)");
}

static void test_loads_stores(void) {
  static volatile uint64_t mem[4];
  uint64_t r;
  mem[0] = 0x123456783f800000ull;
  __asm__ volatile("flw ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(mem) : "ft0");
  t_check(r == B(ONE_S), "flw boxes: 0x%lx", (unsigned long)r);
  __asm__ volatile("fmv.d.x ft0, %0\n\tfsw ft0, 8(%1)" ::"r"(0x1234567887654321ull), "r"(mem)
                   : "ft0", "memory");
  t_check(mem[1] == 0x87654321ull, "fsw stores the low 32 bits: 0x%lx", (unsigned long)mem[1]);
  __asm__ volatile("fmv.d.x ft0, %0\n\tfsd ft0, 16(%1)\n\tfld ft1, 16(%1)\n\tfmv.x.d %0, ft1"
                   : "+r"(r) : "r"(mem) : "ft0", "ft1", "memory");
  t_check(mem[2] == B(ONE_S) && r == B(ONE_S), "fsd/fld: 0x%lx", (unsigned long)r);
  /* Compressed forms. */
  uint64_t a = 0x400921fb54442d18ull, b = 0;
  __asm__ volatile(".option push\n.option rvc\n"
                   "mv s0, %2\n"
                   "fmv.d.x fs0, %1\n"
                   "c.fsd fs0, 8(s0)\n"
                   "c.fld fs1, 8(s0)\n"
                   "addi sp, sp, -16\n"
                   "c.fsdsp fs1, 8(sp)\n"
                   "c.fldsp ft0, 8(sp)\n"
                   "addi sp, sp, 16\n"
                   "fmv.x.d %0, ft0\n"
                   ".option pop"
                   : "=r"(b) : "r"(a), "r"(mem) : "s0", "fs0", "fs1", "ft0", "memory");
  t_check(b == a && mem[1] == a, "c.fsd, c.fld, c.fsdsp, c.fldsp: 0x%lx", (unsigned long)b);
}

int main(void) {
  set_m_handler(record_and_skip_trap);
  test_fs_and_misa();
  test_fcsr();
  test_loads_stores();
  run_table(rounding_cases, sizeof rounding_cases / sizeof rounding_cases[0]);
  run_table(special_cases, sizeof special_cases / sizeof special_cases[0]);
  return t_finish("test-fp");
}
