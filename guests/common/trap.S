/* Trap entries, setjmp/longjmp, probes and the lower-privilege trampoline.
 *
 * Trap frame: 32 x 8 bytes, x[n] at 8*n (x[0] unused, x[2] = interrupted sp).
 * A trap from the same privilege level pushes the frame on the current stack; a trap from a
 * lower level switches to a dedicated trap stack (the lower level's sp may not be usable
 * there, e.g. a U-mode alias address). mscratch/sscratch are used as a temporary.
 * The dispatcher is called as dispatch(cause, epc, tval, frame, vector) and returns the
 * epc to resume at. */

#define FRAME 256
#define REGBYTES 8

/* save every register except x0, x2 (sp) and x5 (t0), which the entry handles */
.macro SAVE_REST
	sd	x1, 1*REGBYTES(sp)
	sd	x3, 3*REGBYTES(sp)
	sd	x4, 4*REGBYTES(sp)
	sd	x6, 6*REGBYTES(sp)
	sd	x7, 7*REGBYTES(sp)
	sd	x8, 8*REGBYTES(sp)
	sd	x9, 9*REGBYTES(sp)
	sd	x10, 10*REGBYTES(sp)
	sd	x11, 11*REGBYTES(sp)
	sd	x12, 12*REGBYTES(sp)
	sd	x13, 13*REGBYTES(sp)
	sd	x14, 14*REGBYTES(sp)
	sd	x15, 15*REGBYTES(sp)
	sd	x16, 16*REGBYTES(sp)
	sd	x17, 17*REGBYTES(sp)
	sd	x18, 18*REGBYTES(sp)
	sd	x19, 19*REGBYTES(sp)
	sd	x20, 20*REGBYTES(sp)
	sd	x21, 21*REGBYTES(sp)
	sd	x22, 22*REGBYTES(sp)
	sd	x23, 23*REGBYTES(sp)
	sd	x24, 24*REGBYTES(sp)
	sd	x25, 25*REGBYTES(sp)
	sd	x26, 26*REGBYTES(sp)
	sd	x27, 27*REGBYTES(sp)
	sd	x28, 28*REGBYTES(sp)
	sd	x29, 29*REGBYTES(sp)
	sd	x30, 30*REGBYTES(sp)
	sd	x31, 31*REGBYTES(sp)
.endm

/* restore every register from the frame at sp; sp itself last */
.macro RESTORE_ALL
	ld	x1, 1*REGBYTES(sp)
	ld	x3, 3*REGBYTES(sp)
	ld	x4, 4*REGBYTES(sp)
	ld	x5, 5*REGBYTES(sp)
	ld	x6, 6*REGBYTES(sp)
	ld	x7, 7*REGBYTES(sp)
	ld	x8, 8*REGBYTES(sp)
	ld	x9, 9*REGBYTES(sp)
	ld	x10, 10*REGBYTES(sp)
	ld	x11, 11*REGBYTES(sp)
	ld	x12, 12*REGBYTES(sp)
	ld	x13, 13*REGBYTES(sp)
	ld	x14, 14*REGBYTES(sp)
	ld	x15, 15*REGBYTES(sp)
	ld	x16, 16*REGBYTES(sp)
	ld	x17, 17*REGBYTES(sp)
	ld	x18, 18*REGBYTES(sp)
	ld	x19, 19*REGBYTES(sp)
	ld	x20, 20*REGBYTES(sp)
	ld	x21, 21*REGBYTES(sp)
	ld	x22, 22*REGBYTES(sp)
	ld	x23, 23*REGBYTES(sp)
	ld	x24, 24*REGBYTES(sp)
	ld	x25, 25*REGBYTES(sp)
	ld	x26, 26*REGBYTES(sp)
	ld	x27, 27*REGBYTES(sp)
	ld	x28, 28*REGBYTES(sp)
	ld	x29, 29*REGBYTES(sp)
	ld	x30, 30*REGBYTES(sp)
	ld	x31, 31*REGBYTES(sp)
	ld	x2, 2*REGBYTES(sp)
.endm

/* M-mode entry body; \vec is the vector index passed to the dispatcher (-1: direct) */
.macro M_ENTRY vec
	csrw	mscratch, t0
	csrr	t0, mstatus
	srli	t0, t0, 11
	andi	t0, t0, 3
	addi	t0, t0, -3
	bnez	t0, 1f
	/* from M: frame on the current stack */
	csrr	t0, mscratch
	addi	sp, sp, -FRAME
	sd	t0, 5*REGBYTES(sp)
	addi	t0, sp, FRAME
	sd	t0, 2*REGBYTES(sp)
	j	2f
1:	/* from S/U: switch to the M trap stack */
	mv	t0, sp
	la	sp, __mtrap_stack_top
	addi	sp, sp, -FRAME
	sd	t0, 2*REGBYTES(sp)
	csrr	t0, mscratch
	sd	t0, 5*REGBYTES(sp)
2:
	SAVE_REST
	csrr	a0, mcause
	csrr	a1, mepc
	csrr	a2, mtval
	mv	a3, sp
	li	a4, \vec
	call	m_trap_dispatch
	csrw	mepc, a0
	RESTORE_ALL
	mret
.endm

	.text
	.balign 4
	.globl m_trap_entry
m_trap_entry:
	M_ENTRY -1

	.balign 4
	.globl s_trap_entry
s_trap_entry:
	csrw	sscratch, t0
	csrr	t0, sstatus
	andi	t0, t0, 0x100		/* SPP */
	beqz	t0, 1f
	/* from S: frame on the current stack */
	csrr	t0, sscratch
	addi	sp, sp, -FRAME
	sd	t0, 5*REGBYTES(sp)
	addi	t0, sp, FRAME
	sd	t0, 2*REGBYTES(sp)
	j	2f
1:	/* from U: switch to the S trap stack */
	mv	t0, sp
	la	sp, __strap_stack_top
	addi	sp, sp, -FRAME
	sd	t0, 2*REGBYTES(sp)
	csrr	t0, sscratch
	sd	t0, 5*REGBYTES(sp)
2:
	SAVE_REST
	csrr	a0, scause
	csrr	a1, sepc
	csrr	a2, stval
	mv	a3, sp
	li	a4, -1
	call	s_trap_dispatch
	csrw	sepc, a0
	RESTORE_ALL
	sret

/* Vectored-mode table for mtvec (MODE = 1): entry 0 takes exceptions, entry k interrupt k. */
	.balign 256
	.globl m_trap_vector_table
m_trap_vector_table:
	.option push
	.option norvc
	j	.Lvec0
	j	.Lvec1
	j	.Lvec2
	j	.Lvec3
	j	.Lvec4
	j	.Lvec5
	j	.Lvec6
	j	.Lvec7
	j	.Lvec8
	j	.Lvec9
	j	.Lvec10
	j	.Lvec11
	j	.Lvec12
	j	.Lvec13
	j	.Lvec14
	j	.Lvec15
	.option pop
.Lvec0:	M_ENTRY 0
.Lvec1:	M_ENTRY 1
.Lvec2:	M_ENTRY 2
.Lvec3:	M_ENTRY 3
.Lvec4:	M_ENTRY 4
.Lvec5:	M_ENTRY 5
.Lvec6:	M_ENTRY 6
.Lvec7:	M_ENTRY 7
.Lvec8:	M_ENTRY 8
.Lvec9:	M_ENTRY 9
.Lvec10: M_ENTRY 10
.Lvec11: M_ENTRY 11
.Lvec12: M_ENTRY 12
.Lvec13: M_ENTRY 13
.Lvec14: M_ENTRY 14
.Lvec15: M_ENTRY 15

/* ---- setjmp / longjmp ---- */
	.globl setjmp
setjmp:
	sd	ra, 0*8(a0)
	sd	sp, 1*8(a0)
	sd	s0, 2*8(a0)
	sd	s1, 3*8(a0)
	sd	s2, 4*8(a0)
	sd	s3, 5*8(a0)
	sd	s4, 6*8(a0)
	sd	s5, 7*8(a0)
	sd	s6, 8*8(a0)
	sd	s7, 9*8(a0)
	sd	s8, 10*8(a0)
	sd	s9, 11*8(a0)
	sd	s10, 12*8(a0)
	sd	s11, 13*8(a0)
	li	a0, 0
	ret

	.globl longjmp
longjmp:
	ld	ra, 0*8(a0)
	ld	sp, 1*8(a0)
	ld	s0, 2*8(a0)
	ld	s1, 3*8(a0)
	ld	s2, 4*8(a0)
	ld	s3, 5*8(a0)
	ld	s4, 6*8(a0)
	ld	s5, 7*8(a0)
	ld	s6, 8*8(a0)
	ld	s7, 9*8(a0)
	ld	s8, 10*8(a0)
	ld	s9, 11*8(a0)
	ld	s10, 12*8(a0)
	ld	s11, 13*8(a0)
	seqz	a0, a1
	add	a0, a0, a1
	ret

/* ---- lower-privilege trampoline ----
 * enter_lower(mode, fn, arg, trampoline, va_offset): MPP = mode, mepc = trampoline,
 * sp += va_offset, a0 = arg, a1 = fn, mret. The trampoline calls fn and reports its result
 * with an ecall carrying LOWER_EXIT_MAGIC in a7, which the dispatcher turns into a longjmp. */
	.globl enter_lower
enter_lower:
	li	t0, 0x1800
	csrc	mstatus, t0
	slli	t1, a0, 11
	csrs	mstatus, t1
	csrw	mepc, a3
	add	sp, sp, a4
	mv	a0, a2
	mret

	.globl lower_trampoline
lower_trampoline:
	jalr	a1
	.globl lower_exit
lower_exit:
	li	a7, 0x4c4f5745525f4558
	ecall
1:	j	1b

/* ---- probes: every instruction 4 bytes, so a trapping access is skipped by epc += 4 ---- */
	.section .text.probe, "ax", @progbits
	.option push
	.option norvc
	.globl __probe_start, __probe_end
__probe_start:
	.globl probe_ld
probe_ld:
	ld	a0, 0(a0)
	ret
	.globl probe_lw
probe_lw:
	lw	a0, 0(a0)
	ret
	.globl probe_lwu
probe_lwu:
	lwu	a0, 0(a0)
	ret
	.globl probe_lh
probe_lh:
	lh	a0, 0(a0)
	ret
	.globl probe_lhu
probe_lhu:
	lhu	a0, 0(a0)
	ret
	.globl probe_lbu
probe_lbu:
	lbu	a0, 0(a0)
	ret
	.globl probe_sd
probe_sd:
	sd	a1, 0(a0)
	ret
	.globl probe_sw
probe_sw:
	sw	a1, 0(a0)
	ret
	.globl probe_sh
probe_sh:
	sh	a1, 0(a0)
	ret
	.globl probe_sb
probe_sb:
	sb	a1, 0(a0)
	ret
	.globl probe_amoadd_w
probe_amoadd_w:
	amoadd.w a0, a1, (a0)
	ret
	.globl probe_amoadd_d
probe_amoadd_d:
	amoadd.d a0, a1, (a0)
	ret
	.globl probe_lr_w
probe_lr_w:
	lr.w	a0, (a0)
	ret
	.globl probe_sc_w
probe_sc_w:
	sc.w	a0, a1, (a0)
	ret
__probe_end:

	.globl probe_exec_raw
probe_exec_raw:
	addi	sp, sp, -16
	sd	ra, 8(sp)
	jalr	a0
	ld	ra, 8(sp)
	addi	sp, sp, 16
	ret
	.option pop
