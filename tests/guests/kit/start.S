/*
 * PVH entry of the guest kit: 32-bit protected mode to 64-bit long mode,
 * then kit_main(start_info) in C.
 *
 * Entry state, from the PVH boot ABI (Xen docs/misc/pvh.pandoc, "x86/HVM
 * direct boot ABI"): EBX = physical address of struct hvm_start_info;
 * CR0.PE = 1, CR0.PG = 0, CR4 = 0; CS a flat 32-bit code segment, DS/ES/SS
 * flat 32-bit data segments, their selectors undefined; GDTR and IDTR
 * undefined; EFLAGS.IF = 0; no stack. So: load our own GDT before any
 * segment load, never use the stack before setting RSP, and keep EBX.
 *
 * Everything the switch needs (GDT, IDT, page tables) is built at assembly
 * and link time: guest ring-0 code may be instruction-emulated at ~1 us per
 * instruction, so start-up runs a few dozen instructions, not loops.
 *
 * Only general-purpose instructions: no INT3, no XSAVE/XRSTOR, no SSE.
 */

#include "kit.h"

/* The one GDT: null, 64-bit code, flat data, 32-bit code (AP start-up). */
#define KIT_CS64 0x08
#define KIT_DS 0x10
#define KIT_CS32 0x18

/* AMD64 APM vol. 2, 3.1.1 (CR0), 3.1.3 (CR4), 3.1.7 (EFER). */
#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

/* AMD64 APM vol. 2, "Page-Translation-Table Entry Fields". */
#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A 0x020
#define PTE_D 0x040
#define PTE_PS 0x080
#define PTE_2M (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PS)

/* XEN_ELFNOTE_PHYS32_ENTRY, xen/include/public/elfnote.h. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define KIT_VECTOR_STUB 16 /* bytes per stub, see kit_vectors */
#define KIT_NR_EXCEPTIONS 32 /* the architectural exceptions */
#define KIT_NR_VECTORS 256 /* exceptions, then interrupts 32-255 */

/* The local APIC's ID register, xAPIC mode (Intel SDM vol. 3A, 11.4.6). */
#define KIT_LAPIC_ID_REG 0xfee00020

/*
 * The PVH note. Its descriptor is the 32-bit physical entry address, stored
 * as 8 bytes as Linux does (_ASM_PTR in arch/x86/platform/pvh/head.S):
 * Xen reads numeric notes of 4 or 8 bytes by descsz, but QEMU (hw/i386/x86.c,
 * read_pvh_start_addr) reads 8 bytes from any ELF64 image, so a 4-byte
 * descriptor there would pick up whatever follows it. The linker script puts
 * this section in a PT_NOTE with 4-byte alignment, which QEMU also requires
 * (it aligns namesz to p_align).
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 8				/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad kit_pvh_entry
	.balign 4

	.section .text.boot, "ax", @progbits
	.code32
	.globl kit_pvh_entry
	.type kit_pvh_entry, @function
kit_pvh_entry:
	cld
	/* ESI survives until the call: it becomes RDI, kit_main's argument. */
	movl %ebx, %esi

	/*
	 * Long mode must be offered in CPUID 0x80000001 EDX bit 29 (APM vol.
	 * 3, CPUID), or setting EFER.LME raises #GP, which with no IDT yet is
	 * a triple fault. KVM enforces this from the vCPU's CPUID as the VMM
	 * set it (KVM_SET_CPUID2): say so on COM1 instead of resetting.
	 */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb .Lno_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc .Lno_long_mode

	lgdt kit_gdt_desc

	/*
	 * AMD64 APM vol. 2, "Enabling and Activating Long Mode": CR4.PAE = 1,
	 * CR3 = PML4, EFER.LME = 1, then CR0.PG = 1; the far jump that
	 * follows loads a CS with L = 1 and leaves compatibility mode.
	 */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $kit_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $KIT_CS64, $kit_long_entry

.Lno_long_mode:
	movl $kit_no_long_mode_msg, %esi
1:	movb (%esi), %cl
	testb %cl, %cl
	jz 3f
	movw $KIT_COM1 + UART_LSR, %dx
2:	inb %dx, %al
	testb $UART_LSR_THRE, %al
	jz 2b
	movw $KIT_COM1 + UART_THR, %dx
	movb %cl, %al
	outb %al, %dx
	incl %esi
	jmp 1b
3:	movw $KIT_EXIT_PORT, %dx
	movl $KIT_EXIT_NO_LONG_MODE, %eax
	outl %eax, %dx
4:	cli
	hlt
	jmp 4b
	.size kit_pvh_entry, . - kit_pvh_entry

	.code64
kit_long_entry:
	/*
	 * 64-bit mode ignores DS/ES bases and limits (APM vol. 2, "Segment
	 * Registers in 64-Bit Mode"), but the old 32-bit selectors are
	 * undefined values: reload them all so that an interrupt return or a
	 * segment save never sees garbage.
	 */
	movl $KIT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	lidt kit_idt_desc
	movq $kit_stack_top, %rsp
	xorl %ebp, %ebp

	/*
	 * Zero .bss. ELF loaders zero p_memsz beyond p_filesz already, but the
	 * PVH ABI does not promise that RAM is clean. The stack lives outside
	 * [__bss_start, __bss_end) so this stays a few bytes.
	 */
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb

	movl %esi, %edi			/* zero-extends: start_info < 4 GiB */
	call kit_main
1:	cli
	hlt
	jmp 1b

/*
 * One stub per vector, each exactly KIT_VECTOR_STUB bytes so that the IDT
 * can be filled at link time (see kit_idt). Exceptions (0-31): the CPU
 * pushes an error code for vectors 8, 10-14, 17, 21, 29 and 30 (APM vol.
 * 2, 8.2, "Vectors"); the others push a zero in its place so that
 * kit_exception_entry sees one frame layout. Interrupts (32-255) push their
 * vector and go to kit_irq_entry. The block is aligned to 4096 bytes so
 * that the low 16 bits of every stub address are kit_vectors_lo + 16 * n
 * without a carry (at most 0xf000 + 0xff0).
 */
	.balign 4096
kit_vectors:
	.set .Lvec, 0
	.rept KIT_NR_VECTORS
	.balign KIT_VECTOR_STUB
	.if .Lvec >= KIT_NR_EXCEPTIONS
	pushq $.Lvec
	jmp kit_irq_entry
	.else
	.if (.Lvec == 8) || ((.Lvec >= 10) && (.Lvec <= 14)) || (.Lvec == 17)
	.elseif (.Lvec == 21) || (.Lvec == 29) || (.Lvec == 30)
	.else
	pushq $0
	.endif
	pushq $.Lvec
	jmp kit_exception_entry
	.endif
	.set .Lvec, .Lvec + 1
	.endr
	/* guest.ld checks this is at most 4096 bytes on: no stub outgrew 16. */
kit_vectors_end:
	.globl kit_vectors, kit_vectors_end

kit_exception_entry:
	/* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
	movq (%rsp), %rdi
	movq 8(%rsp), %rsi
	movq 16(%rsp), %rdx
	andq $-16, %rsp
	call kit_exception
1:	cli
	hlt
	jmp 1b

/*
 * Interrupts: save the registers the SysV ABI lets kit_irq_dispatch()
 * clobber, call it with the vector on a 16-byte aligned stack, restore,
 * IRETQ. Interrupt gates entered with IF = 0; a handler may STI to nest.
 */
kit_irq_entry:
	/* Stack: vector, RIP, CS, RFLAGS, RSP, SS. */
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbp
	movq %rsp, %rbp
	movq 80(%rsp), %rdi		/* the vector, above the 10 pushes */
	andq $-16, %rsp
	cld
	call kit_irq_dispatch
	movq %rbp, %rsp
	popq %rbp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $8, %rsp			/* the vector */
	iretq

/*
 * An application processor, in long mode on kit_pml4 (kit_trampoline got
 * it here): the BSP's GDT, IDT and segments, then a stack of its own,
 * picked by its local APIC ID, and kit_ap_main(apic_id).
 */
kit_ap_long_entry:
	movl $KIT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	lidt kit_idt_desc
	/* A 32-bit absolute operand would be sign-extended: use a register. */
	movl $KIT_LAPIC_ID_REG, %ebx
	movl (%rbx), %edi
	shrl $24, %edi
	cmpl $KIT_MAX_CPUS, %edi
	jae 2f
	movl %edi, %eax
	incl %eax
	shll $KIT_AP_STACK_SHIFT, %eax
	leaq kit_ap_stacks(%rax), %rsp
	xorl %ebp, %ebp
	call kit_ap_main
2:	cli
	hlt
	jmp 2b

/*
 * The AP start-up code: INIT-SIPI-SIPI starts an AP in real mode at CS =
 * vector << 8, IP = 0 (Intel SDM vol. 3A, 9.4.4.1 and 11.6.1: the SIPI
 * vector is the page number). guest.ld puts this section in a PT_LOAD of
 * its own at a fixed page below 1 MiB. Real mode, then 32-bit protected
 * mode on the kit's GDT (LGDTL: with a 16-bit operand LGDT keeps only 24
 * bits of the base), then long mode exactly as kit_pvh_entry does; the
 * BSP's page tables and GDT serve every CPU.
 */
	.section .kit_trampoline, "awx", @progbits
	.code16
	.globl kit_trampoline
kit_trampoline:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl kit_tramp_gdt_desc - kit_trampoline
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $KIT_CS32, $kit_tramp32

	.code32
kit_tramp32:
	movl $KIT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $kit_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $KIT_CS64, $kit_ap_long_entry

	.balign 8
	.word 0
kit_tramp_gdt_desc:
	.word kit_gdt_end - kit_gdt - 1
	.long kit_gdt
kit_trampoline_end:
	.globl kit_trampoline_end

	.text
	.code64

	.section .rodata, "a", @progbits
kit_no_long_mode_msg:
	.ascii "kit: CPUID 0x80000001 EDX has no long mode (LM); "
	.asciz "the VMM must set CPUID\n"

	.section .data, "aw", @progbits
	.balign 8
kit_gdt:
	.quad 0
	/*
	 * 64-bit code: P, DPL 0, S, type execute/read accessed, L = 1, D = 0
	 * (APM vol. 2, "Long-Mode Segment Descriptors"). Accessed bits are
	 * preset so that loading a selector never makes the CPU write the
	 * descriptor.
	 */
	.quad 0x00af9b000000ffff
	/* Flat data: P, DPL 0, S, type read/write accessed, G, D/B. */
	.quad 0x00cf93000000ffff
	/* Flat 32-bit code for kit_tramp32: type execute/read accessed, D. */
	.quad 0x00cf9b000000ffff
kit_gdt_end:

	/*
	 * LGDT in 32-bit mode reads a 16-bit limit and a 32-bit base; the
	 * base is stored as 8 bytes so that the same descriptor would do for
	 * a 64-bit LGDT too.
	 */
	.balign 8
	.word 0
kit_gdt_desc:
	.word kit_gdt_end - kit_gdt - 1
	.quad kit_gdt

	.balign 8
	.word 0
kit_idt_desc:
	.word kit_idt_end - kit_idt - 1
	.quad kit_idt

/*
 * Long-mode interrupt gates (APM vol. 2, "Long-Mode Segment Descriptors",
 * gate descriptors): offset[15:0], selector, IST 0, type 0xe (64-bit
 * interrupt gate), P, DPL 0, offset[31:16], offset[63:32], reserved. No
 * relocation can express the split offset, so guest.ld computes
 * kit_vectors_lo/mid/hi and the 16- and 32-bit relocations below resolve
 * against those absolute symbols.
 */
	.balign 16
kit_idt:
	.set .Lvec, 0
	.rept KIT_NR_VECTORS
	.word kit_vectors_lo + KIT_VECTOR_STUB * .Lvec
	.word KIT_CS64
	.word 0x8e00
	.word kit_vectors_mid
	.long kit_vectors_hi
	.long 0
	.set .Lvec, .Lvec + 1
	.endr
kit_idt_end:

/*
 * Identity map of 0-4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3] ->
 * four page directories of 512 PDEs each (APM vol. 2, "2-Mbyte Page
 * Translation"). Accessed and dirty bits are preset so that the page
 * walker never writes them. 3-4 GiB is the MMIO hole (LAPIC, IOAPIC):
 * mapped uncached (PCD, PWT).
 */
	.balign 4096
kit_pml4:
	.quad kit_pdpt + (PTE_P | PTE_RW | PTE_A)
	.fill 511, 8, 0
kit_pdpt:
	.quad kit_pd + 0x0000 + (PTE_P | PTE_RW | PTE_A)
	.quad kit_pd + 0x1000 + (PTE_P | PTE_RW | PTE_A)
	.quad kit_pd + 0x2000 + (PTE_P | PTE_RW | PTE_A)
	.quad kit_pd + 0x3000 + (PTE_P | PTE_RW | PTE_A)
	.fill 508, 8, 0
kit_pd:
	.set .Laddr, 0
	.rept 4 * 512
	.if .Laddr >= 0xc0000000
	.quad .Laddr + (PTE_2M | PTE_PCD | PTE_PWT)
	.else
	.quad .Laddr + PTE_2M
	.endif
	.set .Laddr, .Laddr + 0x200000
	.endr

	/* Outside .bss: the entry code must not zero its own stack. */
	.section .kit_stack, "aw", @nobits
	.balign 16
	.skip 16384
kit_stack_top:

	/*
	 * One stack per AP, by APIC ID: the AP with ID n runs on
	 * [kit_ap_stacks + n * size, + size). ID 0's slot is the BSP's and
	 * stays unused. Not in .bss: zeroing 128 KiB at start-up would cost
	 * a noticeable time on an instruction-emulating KVM.
	 */
	.balign 16
	.globl kit_ap_stacks
kit_ap_stacks:
	.skip KIT_MAX_CPUS << KIT_AP_STACK_SHIFT

	.section .note.GNU-stack, "", @progbits
