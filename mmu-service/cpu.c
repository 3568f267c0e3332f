/*
 * Boot vCPU state at the kernel entry point, plus the GDT and page tables
 * it refers to. The GDT in memory holds exactly the descriptors loaded in
 * the segment registers, so a kernel that reloads a selector before it
 * installs its own GDT gets the same segment.
 *
 * Intel SDM vol. 3A 3.4.5 (segment descriptors), 7.2.3 (TSS descriptor),
 * 4.5 (4-level paging); AMD APM vol. 2 14.6 (entering long mode).
 */
#include <errno.h>
#include <string.h>

#include "boot.h"

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_RFLAGS_FIXED 0x2ull /* bit 1 is always 1; IF, TF, VM clear */

#define SEG_TYPE_CODE_XRA 0xb /* execute/read, accessed */
#define SEG_TYPE_DATA_RWA 0x3 /* read/write, accessed */
#define SEG_TYPE_TSS_BUSY 0xb /* 32-bit (or 64-bit in long mode) busy TSS */
#define SEG_TYPE_LDT 0x2
#define TSS_LIMIT 0x67 /* pvh.pandoc: a 32-bit TSS, base 0, limit 0x67 */

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)
#define PD_PAGE_2M (1ull << 21)

_Static_assert(BOOT_PD + BOOT_PD_COUNT * PAGE_SIZE_4K <= BOOT_CMDLINE,
	       "page directories run into the command line");

/* A flat 4 GiB code or data segment. */
static struct seg seg_flat(uint16_t sel, uint8_t type, bool code64)
{
	return (struct seg){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.s = 1,
		.l = code64,
		.db = !code64, /* D must be 0 when L is 1 */
		.g = 1,
	};
}

static void cpu_segments(struct boot_cpu *cpu, bool long_mode)
{
	struct seg data = seg_flat(BOOT_DS, SEG_TYPE_DATA_RWA, false);

	cpu->cs = seg_flat(BOOT_CS, SEG_TYPE_CODE_XRA, long_mode);
	cpu->ds = cpu->es = cpu->fs = cpu->gs = cpu->ss = data;
	/* VM entry needs a usable busy TSS in TR (SDM vol. 3C, "Checks on
	 * Guest Segment Registers"). */
	cpu->tr = (struct seg){
		.selector = BOOT_TSS,
		.limit = TSS_LIMIT,
		.type = SEG_TYPE_TSS_BUSY,
		.present = 1,
	};
	cpu->ldt = (struct seg){
		.limit = 0xffff,
		.type = SEG_TYPE_LDT,
		.present = 1,
	};
	cpu->gdt_base = BOOT_GDT;
	cpu->gdt_limit = BOOT_GDT_LIMIT;
	cpu->idt_base = 0;
	cpu->idt_limit = 0; /* interrupts stay off until the kernel's IDT */
}

/* SDM 3.4.5, figure 3-8: the 8-byte descriptor of s. */
static uint64_t gdt_desc(const struct seg *s)
{
	uint32_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t d;

	d = limit & 0xffff;
	d |= (uint64_t)(s->base & 0xffffff) << 16;
	d |= (uint64_t)(s->type & 0xf) << 40;
	d |= (uint64_t)(s->s & 1) << 44;
	d |= (uint64_t)(s->dpl & 3) << 45;
	d |= (uint64_t)(s->present & 1) << 47;
	d |= (uint64_t)((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)(s->l & 1) << 53;
	d |= (uint64_t)(s->db & 1) << 54;
	d |= (uint64_t)(s->g & 1) << 55;
	d |= (uint64_t)((s->base >> 24) & 0xff) << 56;
	return d;
}

/*
 * GDT: two null entries, code at 0x10, data at 0x18, the TSS at 0x20; in
 * long mode a system descriptor is 16 bytes, its upper half (base bits
 * 63:32) zero, which also reads as a null descriptor in 32-bit mode.
 */
static int cpu_write_gdt(struct load_ctx *c)
{
	uint8_t *gdt = gpa_range(c->m, BOOT_GDT, BOOT_GDT_LIMIT + 1);

	if (!gdt)
		return load_fail(c, -E2BIG, "no RAM for the GDT");
	memset(gdt, 0, BOOT_GDT_LIMIT + 1);
	put_le64(gdt + BOOT_CS, gdt_desc(&c->cpu->cs));
	put_le64(gdt + BOOT_DS, gdt_desc(&c->cpu->ds));
	put_le64(gdt + BOOT_TSS, gdt_desc(&c->cpu->tr));
	return 0;
}

/*
 * boot.rst: the kernel, zero page and command line must be identity
 * mapped. Map all of [0, 4 GiB) with 2 MiB pages: PML4[0] -> PDPT,
 * PDPT[0..3] -> four page directories (SDM 4.5, tables 4-15, 4-17).
 */
static int cpu_write_page_tables(struct load_ctx *c)
{
	uint8_t *pml4, *pdpt, *pd;
	uint64_t i;

	pml4 = gpa_range(c->m, BOOT_PML4, PAGE_SIZE_4K);
	pdpt = gpa_range(c->m, BOOT_PDPT, PAGE_SIZE_4K);
	pd = gpa_range(c->m, BOOT_PD, BOOT_PD_COUNT * PAGE_SIZE_4K);
	if (!pml4 || !pdpt || !pd)
		return load_fail(c, -E2BIG, "no RAM for the page tables");
	memset(pml4, 0, PAGE_SIZE_4K);
	memset(pdpt, 0, PAGE_SIZE_4K);
	put_le64(pml4, BOOT_PDPT | PTE_P | PTE_RW);
	for (i = 0; i < BOOT_PD_COUNT; i++)
		put_le64(pdpt + 8 * i,
			 (BOOT_PD + i * PAGE_SIZE_4K) | PTE_P | PTE_RW);
	for (i = 0; i < BOOT_PD_COUNT * 512; i++)
		put_le64(pd + 8 * i, i * PD_PAGE_2M | PTE_P | PTE_RW | PTE_PS);
	return 0;
}

/*
 * boot.rst "64-bit Boot Protocol": long mode, paging on, CS = __BOOT_CS,
 * DS/ES/SS = __BOOT_DS, interrupts off, RSI = boot_params.
 */
int cpu_setup_long_mode(struct load_ctx *c)
{
	struct boot_cpu *cpu = c->cpu;
	int rc;

	memset(cpu, 0, sizeof(*cpu));
	cpu_segments(cpu, true);
	cpu->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	cpu->cr3 = BOOT_PML4;
	cpu->cr4 = X86_CR4_PAE;
	cpu->efer = X86_EFER_LME | X86_EFER_LMA;
	cpu->rip = c->entry;
	cpu->rsi = BOOT_ZERO_PAGE;
	cpu->rsp = BOOT_STACK_TOP;
	cpu->rflags = X86_RFLAGS_FIXED;
	rc = cpu_write_gdt(c);
	return rc ? rc : cpu_write_page_tables(c);
}

/*
 * pvh.pandoc: 32-bit protected mode, paging off, CR0.PE set (ET is fixed
 * to 1 on modern CPUs), CR4 clear, flat CS/DS/ES, a busy TSS in TR,
 * EFLAGS.IF/TF/VM clear, EBX = the start info.
 */
int cpu_setup_pvh(struct load_ctx *c)
{
	struct boot_cpu *cpu = c->cpu;

	memset(cpu, 0, sizeof(*cpu));
	cpu_segments(cpu, false);
	cpu->cr0 = X86_CR0_PE | X86_CR0_ET;
	cpu->rip = c->entry;
	cpu->rbx = BOOT_START_INFO;
	cpu->rsp = BOOT_STACK_TOP;
	cpu->rflags = X86_RFLAGS_FIXED;
	return cpu_write_gdt(c);
}
