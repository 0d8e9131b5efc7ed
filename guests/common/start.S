/* Entry point of every ferry guest.
 *
 * The hart starts here in M-mode with a0 = hart id, a1 = device tree address.
 * - harts other than 0 park in wfi; a guest that wants them stores an entry point in
 *   `secondary_entry` and sends them an IPI (CLINT msip): each then clears its msip and
 *   calls entry(hartid) on a 16 KiB stack of its own (secondary_stacks), with traps
 *   going nowhere (a secondary must not trap);
 * - a PMP entry granting S/U-mode access to everything is set up and mcounteren/scounteren
 *   = 7 (cycle, time, instret readable from S/U), as firmware does, with a temporary trap
 *   vector that skips any of these writes that trap;
 * - mtvec = m_trap_entry, sp = top of the stack after .bss, .bss zeroed;
 * - in a guest built with F/D (-march with f or d), mstatus.FS = Initial (fcsr is 0 from reset);
 * - main(hartid, dtb) is called and its return value passed to exit(): 0 powers off with
 *   0x5555 (success), anything else with 0x3333 | code << 16. */

	.section .text.init, "ax", @progbits
	.globl _start
_start:
	.option push
	.option norelax
	csrw	mie, zero
	csrci	mstatus, 0x8		/* MIE = 0 */
	mv	s0, a0
	mv	s1, a1
	bnez	a0, .Lpark

	la	sp, __stack_top

	/* PMP entry 0: NAPOT over the whole address space, RWX, so S/U can run. */
	la	t0, .Lskip_trap
	csrw	mtvec, t0
	li	t0, -1
	csrw	pmpaddr0, t0
	li	t0, 0x1f		/* A = NAPOT, R W X */
	csrw	pmpcfg0, t0
	/* Let S and U read cycle/time/instret (as firmware does). */
	li	t0, 7
	csrw	mcounteren, t0
	csrw	scounteren, t0

	la	t0, m_trap_entry
	csrw	mtvec, t0
	csrw	satp, zero
	csrw	mscratch, zero
#ifdef __riscv_flen
	/* The FPU starts Off: FP instructions would trap. */
	li	t0, 1 << 13		/* FS = Initial */
	csrs	mstatus, t0
#endif

	/* zero .bss */
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
	la	t0, boot_hartid
	sd	s0, 0(t0)
	la	t0, boot_dtb
	sd	s1, 0(t0)

	mv	a0, s0
	mv	a1, s1
	call	main
	tail	exit

.Lpark:
	li	t0, 8			/* MSIE: an IPI ends wfi (MIE stays 0: no trap taken) */
	csrw	mie, t0
1:	wfi
	la	t0, secondary_entry
	ld	t1, 0(t0)
	beqz	t1, 1b
	li	t2, 0x2000000		/* CLINT msip of this hart: clear the IPI */
	slli	t3, s0, 2
	add	t2, t2, t3
	sw	zero, 0(t2)
	csrw	mie, zero
	la	t0, .Lpark
	csrw	mtvec, t0
	la	sp, secondary_stacks
	addi	t3, s0, 1
	slli	t3, t3, 14		/* 16 KiB per hart */
	add	sp, sp, t3
	mv	a0, s0
	jalr	t1
	j	.Lpark

	/* Temporary trap handler during PMP set-up: skip the (4-byte) csrw that trapped. */
	.balign 4
.Lskip_trap:
	csrr	t1, mepc
	addi	t1, t1, 4
	csrw	mepc, t1
	mret
	.option pop
