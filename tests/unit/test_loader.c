/*
 * Unit tests of the MMU service loader (mmu-service/loader.h): memory
 * layout, the gpa_range() bounds checker, and load_kernel() on synthetic
 * PVH ELF, ELF64 vmlinux and bzImage files, good and malformed. Guest
 * structures are read back at the raw offsets of the specs (zero-page.rst,
 * boot.rst, Xen start_info.h), not through the loader's own structs.
 */
#include <elf.h>
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "loader.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define RAM_SIZE (64 * MiB)
#define IMG_MAX 0x4000

#define ZP 0x7000ull /* boot_params, as documented in boot.h */
#define SI 0x6000ull /* hvm_start_info */
#define CMDLINE 0x20000ull
#define PVH_ENTRY 0x100010ull
#define VMLINUX_ENTRY 0x1000000ull

struct vm {
	struct guest_mem m;
	struct boot_cpu cpu;
	enum boot_protocol proto;
	char err[256];
};

/* Little-endian store of the low width bytes of v (x86 host). */
static void wr(uint8_t *p, uint64_t v, size_t width)
{
	memcpy(p, &v, width);
}

static uint64_t rd(const struct vm *v, uint64_t gpa, unsigned width)
{
	uint64_t x = 0;
	const void *p = gpa_range(&v->m, gpa, width);

	assert_non_null(p);
	memcpy(&x, p, width);
	return x;
}

static void vm_init(struct vm *v, uint64_t size)
{
	struct mem_slot slots[MEM_MAX_SLOTS];

	memset(v, 0, sizeof(*v));
	assert_int_equal(mem_layout(size, &v->m, slots), 1);
	v->m.ram = malloc(size);
	assert_non_null(v->m.ram);
	memset(v->m.ram, 0xcc, size); /* so that missing zeroing shows */
}

static void vm_free(struct vm *v)
{
	free(v->m.ram);
}

static int vm_load(struct vm *v, const uint8_t *k, size_t klen,
		   const char *cmdline, const uint8_t *initrd, size_t ilen)
{
	struct kernel_args a = {
		.kernel = k,
		.kernel_size = klen,
		.initrd = initrd,
		.initrd_size = ilen,
		.cmdline = cmdline,
		.cpus = 1,
	};

	return load_kernel(&v->m, &a, &v->cpu, &v->proto, v->err,
			   sizeof(v->err));
}

/* ---- image builders ---- */

struct tseg {
	uint32_t type;
	uint64_t off, paddr, filesz, memsz, align;
};

static void elf_build(uint8_t *b, bool is64, uint16_t machine, uint64_t entry,
		      const struct tseg *s, unsigned n)
{
	Elf64_Ehdr e64 = { .e_type = ET_EXEC, .e_machine = machine };
	Elf32_Ehdr e32 = { .e_type = ET_EXEC, .e_machine = machine };
	unsigned i;

	if (is64) {
		e64.e_entry = entry;
		e64.e_phoff = sizeof(e64);
		e64.e_phentsize = sizeof(Elf64_Phdr);
		e64.e_phnum = n;
		memcpy(b, &e64, sizeof(e64));
	} else {
		e32.e_entry = (uint32_t)entry;
		e32.e_phoff = sizeof(e32);
		e32.e_phentsize = sizeof(Elf32_Phdr);
		e32.e_phnum = n;
		memcpy(b, &e32, sizeof(e32));
	}
	memcpy(b, ELFMAG, SELFMAG);
	b[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	b[EI_DATA] = ELFDATA2LSB;
	b[EI_VERSION] = EV_CURRENT;
	for (i = 0; i < n; i++) {
		Elf64_Phdr p64 = { s[i].type,  PF_R,	   s[i].off,
				   s[i].paddr, s[i].paddr, s[i].filesz,
				   s[i].memsz, s[i].align };
		Elf32_Phdr p32 = { s[i].type,  s[i].off,    s[i].paddr,
				   s[i].paddr, s[i].filesz, s[i].memsz,
				   PF_R,       s[i].align };

		if (is64)
			memcpy(b + sizeof(e64) + i * sizeof(p64), &p64,
			       sizeof(p64));
		else
			memcpy(b + sizeof(e32) + i * sizeof(p32), &p32,
			       sizeof(p32));
	}
}

static size_t put_note(uint8_t *p, const char *name, uint32_t type,
		       const void *desc, uint32_t descsz)
{
	uint32_t namesz = strlen(name) + 1;
	size_t n = 12;

	wr(p, namesz, 4);
	wr(p + 4, descsz, 4);
	wr(p + 8, type, 4);
	memcpy(p + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memcpy(p + n, desc, descsz);
	return n + ((descsz + 3) & ~3u);
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/*
 * PVH image: one PT_LOAD of 0x100 bytes at 1 MiB (memsz 0x2000), one
 * PT_NOTE holding a GNU note, a Xen GUEST_OS note and then the
 * PHYS32_ENTRY note, so the loader must walk past the first two.
 */
static size_t make_pvh(uint8_t *b, bool is64, uint32_t descsz)
{
	uint8_t buildid[20] = { 1, 2, 3 }, entry[8] = { 0 };
	struct tseg s[2];
	size_t nlen = 0;

	memset(b, 0, IMG_MAX);
	wr(entry, PVH_ENTRY, 8);
	nlen += put_note(b + 0x200 + nlen, "GNU", 3, buildid, sizeof(buildid));
	nlen += put_note(b + 0x200 + nlen, "Xen", 6, "linux", 6);
	nlen += put_note(b + 0x200 + nlen, "Xen", 18, entry, descsz);
	fill_pattern(b + 0x1000, 0x100, 0x11);
	s[0] = (struct tseg){
		PT_LOAD, 0x1000, 0x100000, 0x100, 0x2000, 0x1000
	};
	s[1] = (struct tseg){ PT_NOTE, 0x200, 0, nlen, nlen, 4 };
	elf_build(b, is64, is64 ? EM_X86_64 : EM_386, 0xffffffff81000000ull, s,
		  2);
	return 0x1100;
}

/* vmlinux: text at 16 MiB, data + bss at 18 MiB, a GNU note only. */
static size_t make_vmlinux(uint8_t *b)
{
	uint8_t buildid[20] = { 9 };
	struct tseg s[3];
	size_t nlen;

	memset(b, 0, IMG_MAX);
	fill_pattern(b + 0x1000, 0x800, 0x22);
	fill_pattern(b + 0x1800, 0x100, 0x33);
	nlen = put_note(b + 0x1900, "GNU", 3, buildid, sizeof(buildid));
	s[0] = (struct tseg){ PT_LOAD, 0x1000, 0x1000000, 0x800, 0x800, 0 };
	s[1] = (struct tseg){ PT_LOAD, 0x1800, 0x1200000, 0x100, 0x10000, 0 };
	s[2] = (struct tseg){ PT_NOTE, 0x1900, 0, nlen, nlen, 4 };
	elf_build(b, true, EM_X86_64, VMLINUX_ENTRY, s, 3);
	return 0x2000;
}

struct bz_opts {
	uint8_t setup_sects;
	uint16_t version, xloadflags;
	uint8_t relocatable;
	uint32_t align, init_size, cmdline_size, initrd_addr_max;
	uint64_t pref;
};

static const struct bz_opts bz_default = {
	.setup_sects = 2,
	.version = 0x020f,
	.xloadflags = 0x3,
	.relocatable = 1,
	.align = 0x200000,
	.init_size = 0x400000,
	.cmdline_size = 2047,
	.initrd_addr_max = 0x7fffffff,
	.pref = 0x1000000,
};

#define BZ_PAYLOAD 0x1000

/* A bzImage: boot sector + setup sectors, then a BZ_PAYLOAD payload. */
static size_t make_bzimage(uint8_t *b, const struct bz_opts *o)
{
	size_t off = ((o->setup_sects ? o->setup_sects : 4) + 1) * 512;

	memset(b, 0, IMG_MAX);
	b[0x1f1] = o->setup_sects;
	wr(b + 0x1fe, 0xaa55, 2);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	wr(b + 0x206, o->version, 2);
	b[0x211] = 0x01; /* LOADED_HIGH */
	wr(b + 0x214, 0x100000, 4);
	wr(b + 0x22c, o->initrd_addr_max, 4);
	wr(b + 0x230, o->align, 4);
	b[0x234] = o->relocatable;
	b[0x235] = 21;
	wr(b + 0x236, o->xloadflags, 2);
	wr(b + 0x238, o->cmdline_size, 4);
	wr(b + 0x258, o->pref, 8);
	wr(b + 0x260, o->init_size, 4);
	fill_pattern(b + off, BZ_PAYLOAD, 0x44);
	return off + BZ_PAYLOAD;
}

/* ---- state checks ---- */

static void check_flat(const struct seg *s, uint16_t sel, uint8_t type,
		       uint8_t l, uint8_t db)
{
	assert_int_equal(s->selector, sel);
	assert_int_equal(s->base, 0);
	assert_int_equal(s->limit, 0xffffffff);
	assert_int_equal(s->type, type);
	assert_int_equal(s->present, 1);
	assert_int_equal(s->s, 1);
	assert_int_equal(s->dpl, 0);
	assert_int_equal(s->g, 1);
	assert_int_equal(s->l, l);
	assert_int_equal(s->db, db);
}

static void check_data_segs(const struct boot_cpu *c)
{
	const struct seg *s[] = { &c->ds, &c->es, &c->fs, &c->gs, &c->ss };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		check_flat(s[i], 0x18, 0x3, 0, 1);
}

static void check_tr(const struct boot_cpu *c)
{
	assert_int_equal(c->tr.selector, 0x20);
	assert_int_equal(c->tr.type, 0xb);
	assert_int_equal(c->tr.s, 0);
	assert_int_equal(c->tr.present, 1);
	assert_int_equal(c->tr.limit, 0x67);
}

/* The GDT holds the same descriptors as the segment registers. */
static void check_gdt(const struct vm *v, uint64_t code)
{
	assert_int_equal(v->cpu.gdt_base, 0x500);
	assert_int_equal(v->cpu.gdt_limit, 0x2f);
	assert_int_equal(rd(v, 0x500, 8), 0);
	assert_int_equal(rd(v, 0x510, 8), code);
	assert_int_equal(rd(v, 0x518, 8), 0x00cf93000000ffffull);
	assert_int_equal(rd(v, 0x520, 8), 0x00008b0000000067ull);
	assert_int_equal(rd(v, 0x528, 8), 0);
}

static void check_long_mode(const struct vm *v, uint64_t entry)
{
	const struct boot_cpu *c = &v->cpu;

	assert_int_equal(v->proto, BOOT_LINUX64);
	assert_int_equal(c->rip, entry);
	assert_int_equal(c->rsi, ZP);
	assert_int_equal(c->rflags, 0x2);
	assert_int_equal(c->cr0, 0x80000011);
	assert_int_equal(c->cr4, 0x20);
	assert_int_equal(c->efer, 0x500);
	assert_int_equal(c->cr3, 0x9000);
	check_flat(&c->cs, 0x10, 0xb, 1, 0);
	check_data_segs(c);
	check_tr(c);
	check_gdt(v, 0x00af9b000000ffffull);
}

/* zero-page.rst: e820_entries at 0x1e8, e820_table at 0x2d0. */
static void check_e820(const struct vm *v, uint64_t low, uint64_t high)
{
	uint64_t t = ZP + 0x2d0;

	assert_int_equal(rd(v, ZP + 0x1e8, 1), high ? 4 : 3);
	assert_int_equal(rd(v, t, 8), 0);
	assert_int_equal(rd(v, t + 8, 8), 0x9fc00);
	assert_int_equal(rd(v, t + 16, 4), 1);
	assert_int_equal(rd(v, t + 20, 8), 0x9fc00);
	assert_int_equal(rd(v, t + 28, 8), 0x100000 - 0x9fc00);
	assert_int_equal(rd(v, t + 36, 4), 2);
	assert_int_equal(rd(v, t + 40, 8), 0x100000);
	assert_int_equal(rd(v, t + 48, 8), low - 0x100000);
	assert_int_equal(rd(v, t + 56, 4), 1);
	if (!high)
		return;
	assert_int_equal(rd(v, t + 60, 8), 4 * GiB);
	assert_int_equal(rd(v, t + 68, 8), high);
	assert_int_equal(rd(v, t + 76, 4), 1);
}

static void check_boot_params(const struct vm *v, const char *cmdline)
{
	assert_int_equal(rd(v, ZP + 0x1fe, 2), 0xaa55);
	assert_int_equal(rd(v, ZP + 0x202, 4), 0x53726448);
	assert_true(rd(v, ZP + 0x206, 2) >= 0x020c);
	assert_int_equal(rd(v, ZP + 0x210, 1), 0xff);
	assert_true(rd(v, ZP + 0x211, 1) & 1);
	assert_int_equal(rd(v, ZP + 0x228, 4), CMDLINE);
	assert_int_equal(rd(v, ZP + 0x0c8, 4), 0);
	assert_int_equal(rd(v, ZP + 0x1ef, 1), 0); /* sentinel */
	assert_string_equal((const char *)gpa_range(&v->m, CMDLINE, 1),
			    cmdline);
}

static void check_initrd_at(const struct vm *v, uint64_t gpa,
			    const uint8_t *data, size_t len, uint64_t limit)
{
	assert_int_equal(gpa % 4096, 0);
	assert_true(gpa + len <= limit);
	assert_true(gpa + len + 4096 > limit); /* at the top */
	assert_memory_equal(gpa_range(&v->m, gpa, len), data, len);
}

static void check_refused(struct vm *v, int rc, int want, const char *msg)
{
	if (rc != want || !strstr(v->err, msg))
		print_error("rc %d (want %d), err \"%s\" (want \"%s\")\n", rc,
			    want, v->err, msg);
	assert_int_equal(rc, want);
	assert_non_null(strstr(v->err, msg));
	assert_null(strchr(v->err, '\n'));
}

/* ---- memory layout and gpa_range() ---- */

static void test_mem_layout_small_ram_is_one_bank(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(MEM_MIN, &m, s), 1);
	assert_null(m.ram);
	assert_int_equal(m.size, MEM_MIN);
	assert_int_equal(m.low_size, MEM_MIN);
	assert_int_equal(s[0].gpa, 0);
	assert_int_equal(s[0].size, MEM_MIN);
	assert_int_equal(s[0].offset, 0);
	assert_int_equal(mem_layout(256 * MiB, &m, s), 1);
	assert_int_equal(m.low_size, 256 * MiB);
}

static void test_mem_layout_exactly_3g_is_one_bank(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(3 * GiB, &m, s), 1);
	assert_int_equal(m.low_size, 3 * GiB);
	assert_int_equal(s[0].size, 3 * GiB);
}

static void test_mem_layout_above_hole_adds_bank_at_4g(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(3 * GiB + 4096, &m, s), 2);
	assert_int_equal(m.low_size, MEM_HOLE_START);
	assert_int_equal(s[1].gpa, MEM_HIGH_START);
	assert_int_equal(s[1].size, 4096);
	assert_int_equal(s[1].offset, 3 * GiB);
	assert_int_equal(mem_layout(16 * GiB, &m, s), 2);
	assert_int_equal(m.size, 16 * GiB);
	assert_int_equal(s[0].size, 3 * GiB);
	assert_int_equal(s[1].size, 13 * GiB);
}

static void test_mem_layout_rejects_invalid_sizes(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(0, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MIN - 4096, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MIN + 512, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MAX + 4096, &m, s), -EINVAL);
	assert_int_equal(mem_layout(UINT64_MAX, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MAX, &m, s), 2);
}

static void test_gpa_range_low_bank_edges(void **state)
{
	struct vm v;
	uint8_t *ram;

	(void)state;
	vm_init(&v, MEM_MIN);
	ram = v.m.ram;
	assert_ptr_equal(gpa_range(&v.m, 0, MEM_MIN), ram);
	assert_ptr_equal(gpa_range(&v.m, 0, 0), ram);
	assert_ptr_equal(gpa_range(&v.m, MEM_MIN - 1, 1), ram + MEM_MIN - 1);
	assert_null(gpa_range(&v.m, MEM_MIN, 1));
	assert_null(gpa_range(&v.m, MEM_MIN - 1, 2));
	assert_null(gpa_range(&v.m, 0, MEM_MIN + 1));
	v.m.ram = NULL;
	assert_null(gpa_range(&v.m, 0, 1));
	v.m.ram = ram;
	vm_free(&v);
}

static void test_gpa_range_rejects_wrapping_ranges(void **state)
{
	struct vm v;

	(void)state;
	vm_init(&v, MEM_MIN);
	assert_null(gpa_range(&v.m, UINT64_MAX, 2));
	assert_null(gpa_range(&v.m, 1, UINT64_MAX));
	assert_null(gpa_range(&v.m, 4096, UINT64_MAX - 4095));
	assert_null(gpa_range(&v.m, UINT64_MAX - 0xfff, 0x1000));
	assert_null(gpa_range(&v.m, MEM_HIGH_START, UINT64_MAX));
	vm_free(&v);
}

/* A sparse VM bigger than the hole: PROT_NONE except the first 64 MiB. */
static bool big_vm_init(struct vm *v, uint64_t size)
{
	struct mem_slot slots[MEM_MAX_SLOTS];
	void *p;

	memset(v, 0, sizeof(*v));
	assert_int_equal(mem_layout(size, &v->m, slots), 2);
	p = mmap(NULL, size, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	if (mprotect(p, RAM_SIZE, PROT_READ | PROT_WRITE)) {
		munmap(p, size);
		return false;
	}
	v->m.ram = p;
	return true;
}

static void test_gpa_range_refuses_hole_and_straddles(void **state)
{
	const uint64_t hole = MEM_HOLE_START, high = MEM_HIGH_START;
	struct vm v;
	uint8_t *ram;

	(void)state;
	if (!big_vm_init(&v, 5 * GiB))
		skip();
	ram = v.m.ram;
	assert_ptr_equal(gpa_range(&v.m, hole - 4096, 4096), ram + hole - 4096);
	assert_null(gpa_range(&v.m, hole - 4096, 8192));
	assert_null(gpa_range(&v.m, hole, 1));
	assert_null(gpa_range(&v.m, high - 1, 2));
	assert_null(gpa_range(&v.m, hole - 1, high - hole + 2));
	assert_ptr_equal(gpa_range(&v.m, high, 4096), ram + hole);
	assert_ptr_equal(gpa_range(&v.m, high + 2 * GiB - 1, 1),
			 ram + 5 * GiB - 1);
	assert_null(gpa_range(&v.m, high + 2 * GiB - 1, 2));
	assert_null(gpa_range(&v.m, high + 2 * GiB, 1));
	munmap(ram, 5 * GiB);
}

/* ---- PVH ---- */

static void check_pvh_state(const struct vm *v)
{
	const struct boot_cpu *c = &v->cpu;

	assert_int_equal(v->proto, BOOT_PVH);
	assert_int_equal(c->rip, PVH_ENTRY);
	assert_int_equal(c->rbx, SI);
	assert_int_equal(c->rflags, 0x2);
	assert_int_equal(c->cr0, 0x11);
	assert_int_equal(c->cr4, 0);
	assert_int_equal(c->efer, 0);
	check_flat(&c->cs, 0x10, 0xb, 0, 1);
	check_data_segs(c);
	check_tr(c);
	check_gdt(v, 0x00cf9b000000ffffull);
}

/* Xen start_info.h version 1: memmap_paddr at 40, memmap_entries at 48. */
static void check_pvh_memmap(const struct vm *v, uint64_t low)
{
	uint64_t mm = rd(v, SI + 40, 8);

	assert_int_equal(rd(v, SI + 48, 4), 3);
	assert_int_equal(rd(v, mm, 8), 0);
	assert_int_equal(rd(v, mm + 8, 8), 0x9fc00);
	assert_int_equal(rd(v, mm + 16, 4), 1);
	assert_int_equal(rd(v, mm + 24, 8), 0x9fc00);
	assert_int_equal(rd(v, mm + 40, 4), 2);
	assert_int_equal(rd(v, mm + 48, 8), 0x100000);
	assert_int_equal(rd(v, mm + 56, 8), low - 0x100000);
	assert_int_equal(rd(v, mm + 64, 4), 1);
}

static void test_pvh_elf32_loads_segment_and_start_info(void **state)
{
	static uint8_t img[IMG_MAX];
	uint8_t zero[0x1f00] = { 0 };
	size_t len = make_pvh(img, false, 4);
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "console=hvc0", NULL, 0), 0);
	check_pvh_state(&v);
	assert_memory_equal(gpa_range(&v.m, 0x100000, 0x100), img + 0x1000,
			    0x100);
	assert_memory_equal(gpa_range(&v.m, 0x100100, sizeof(zero)), zero,
			    sizeof(zero));
	assert_int_equal(rd(&v, 0x102000, 1), 0xcc); /* past p_memsz */
	assert_int_equal(rd(&v, SI, 4), 0x336ec578);
	assert_int_equal(rd(&v, SI + 4, 4), 1);
	assert_int_equal(rd(&v, SI + 12, 4), 0); /* nr_modules */
	assert_int_equal(rd(&v, SI + 24, 8), CMDLINE);
	assert_int_equal(rd(&v, SI + 32, 8), 0); /* rsdp_paddr */
	assert_string_equal((char *)gpa_range(&v.m, CMDLINE, 1),
			    "console=hvc0");
	check_pvh_memmap(&v, RAM_SIZE);
	vm_free(&v);
}

static void test_pvh_elf64_note_with_initrd_module(void **state)
{
	static uint8_t img[IMG_MAX], initrd[10000];
	size_t len = make_pvh(img, true, 8);
	uint64_t mod;
	struct vm v;

	(void)state;
	fill_pattern(initrd, sizeof(initrd), 0x5a);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", initrd, sizeof(initrd)), 0);
	check_pvh_state(&v);
	assert_int_equal(rd(&v, SI + 12, 4), 1);
	mod = rd(&v, SI + 16, 8);
	assert_int_not_equal(mod, 0);
	assert_int_equal(rd(&v, mod + 8, 8), sizeof(initrd));
	assert_int_equal(rd(&v, mod + 16, 8), 0); /* no module cmdline */
	check_initrd_at(&v, rd(&v, mod, 8), initrd, sizeof(initrd), RAM_SIZE);
	assert_int_equal(rd(&v, CMDLINE, 1), 0);
	vm_free(&v);
}

/* The entry note lives in the second PT_NOTE; the first has none. */
static void test_pvh_note_found_in_second_note_segment(void **state)
{
	static uint8_t img[IMG_MAX];
	uint8_t id[8] = { 7 }, entry[4];
	struct tseg s[3];
	size_t n1, n2;
	struct vm v;

	(void)state;
	memset(img, 0, IMG_MAX);
	wr(entry, PVH_ENTRY, 4);
	n1 = put_note(img + 0x200, "GNU", 3, id, sizeof(id));
	n2 = put_note(img + 0x300, "Xen", 18, entry, sizeof(entry));
	s[0] = (struct tseg){ PT_NOTE, 0x200, 0, n1, n1, 4 };
	s[1] = (struct tseg){ PT_LOAD, 0x1000, 0x100000, 0x100, 0x100, 0 };
	s[2] = (struct tseg){ PT_NOTE, 0x300, 0, n2, n2, 4 };
	elf_build(img, false, EM_386, 0, s, 3);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, 0x1100, "", NULL, 0), 0);
	assert_int_equal(v.proto, BOOT_PVH);
	assert_int_equal(v.cpu.rip, PVH_ENTRY);
	vm_free(&v);
}

/* ---- ELF64 vmlinux ---- */

static void test_vmlinux_enters_long_mode_with_boot_params(void **state)
{
	static uint8_t img[IMG_MAX], zero[0x10000 - 0x100];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "root=/dev/vda", NULL, 0), 0);
	check_long_mode(&v, VMLINUX_ENTRY);
	check_boot_params(&v, "root=/dev/vda");
	check_e820(&v, RAM_SIZE, 0);
	assert_true(rd(&v, ZP + 0x238, 4) >= strlen("root=/dev/vda"));
	assert_int_equal(rd(&v, ZP + 0x218, 4), 0); /* no ramdisk */
	assert_int_equal(rd(&v, ZP + 0x21c, 4), 0);
	assert_memory_equal(gpa_range(&v.m, 0x1000000, 0x800), img + 0x1000,
			    0x800);
	assert_memory_equal(gpa_range(&v.m, 0x1200000, 0x100), img + 0x1800,
			    0x100);
	assert_memory_equal(gpa_range(&v.m, 0x1200100, sizeof(zero)), zero,
			    sizeof(zero));
	vm_free(&v);
}

/* Walk the 4-level tables the way the MMU does (SDM vol. 3A, 4.5). */
static uint64_t walk(const struct vm *v, uint64_t va)
{
	const uint64_t addr = 0x000ffffffffff000ull;
	uint64_t e;

	e = rd(v, (v->cpu.cr3 & addr) + ((va >> 39) & 511) * 8, 8);
	assert_int_equal(e & 3, 3);
	e = rd(v, (e & addr) + ((va >> 30) & 511) * 8, 8);
	assert_int_equal(e & 3, 3);
	e = rd(v, (e & addr) + ((va >> 21) & 511) * 8, 8);
	assert_int_equal(e & 0x83, 0x83);
	return (e & addr & ~0x1fffffull) | (va & 0x1fffff);
}

static void test_vmlinux_page_tables_identity_map_4g(void **state)
{
	static uint8_t img[IMG_MAX];
	const uint64_t va[] = { 0,	    ZP,		 CMDLINE, VMLINUX_ENTRY,
				0x1234567,  3 * GiB - 1, 3 * GiB, 0xfee00000,
				4 * GiB - 1 };
	size_t len = make_vmlinux(img), i;
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	for (i = 0; i < sizeof(va) / sizeof(va[0]); i++)
		assert_int_equal(walk(&v, va[i]), va[i]);
	assert_int_equal(rd(&v, 0x9000 + 8, 8), 0);	/* PML4[1] */
	assert_int_equal(rd(&v, 0xa000 + 4 * 8, 8), 0); /* PDPT[4] */
	vm_free(&v);
}

static void test_vmlinux_initrd_at_top_of_low_ram(void **state)
{
	static uint8_t img[IMG_MAX], initrd[5000];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	fill_pattern(initrd, sizeof(initrd), 0x77);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "quiet", initrd, sizeof(initrd)),
			 0);
	assert_int_equal(rd(&v, ZP + 0x21c, 4), sizeof(initrd));
	assert_int_equal(rd(&v, ZP + 0x0c0, 4), 0); /* ext_ramdisk_image */
	assert_int_equal(rd(&v, ZP + 0x0c4, 4), 0);
	check_initrd_at(&v, rd(&v, ZP + 0x218, 4), initrd, sizeof(initrd),
			RAM_SIZE);
	vm_free(&v);
}

static void test_e820_reports_ram_above_4g(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	if (!big_vm_init(&v, 5 * GiB))
		skip();
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	check_e820(&v, 3 * GiB, 2 * GiB);
	munmap(v.m.ram, 5 * GiB);
}

/* ---- bzImage ---- */

static void test_bzimage_loads_at_pref_address(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_bzimage(img, &bz_default);
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "console=ttyS0", NULL, 0), 0);
	check_long_mode(&v, 0x1000000 + 0x200);
	check_boot_params(&v, "console=ttyS0");
	check_e820(&v, RAM_SIZE, 0);
	assert_memory_equal(gpa_range(&v.m, 0x1000000, BZ_PAYLOAD),
			    img + 3 * 512, BZ_PAYLOAD);
	/* The kernel's own header fields survive in boot_params.hdr. */
	assert_int_equal(rd(&v, ZP + 0x1f1, 1), 2);
	assert_int_equal(rd(&v, ZP + 0x206, 2), 0x020f);
	assert_int_equal(rd(&v, ZP + 0x236, 2), 3);
	assert_int_equal(rd(&v, ZP + 0x238, 4), 2047);
	assert_int_equal(rd(&v, ZP + 0x260, 4), 0x400000);
	assert_int_equal(rd(&v, ZP + 0x214, 4), 0x1000000); /* code32_start */
	assert_int_equal(rd(&v, ZP + 0x218, 4), 0);
	vm_free(&v);
}

static void test_bzimage_setup_sects_zero_means_four(void **state)
{
	static uint8_t img[IMG_MAX];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.setup_sects = 0;
	len = make_bzimage(img, &o);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	assert_memory_equal(gpa_range(&v.m, 0x1000000, BZ_PAYLOAD),
			    img + 5 * 512, BZ_PAYLOAD);
	vm_free(&v);
}

static void test_bzimage_falls_back_when_pref_does_not_fit(void **state)
{
	static uint8_t img[IMG_MAX];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.init_size = 12 * MiB; /* 16 MiB + 12 MiB > 24 MiB of RAM */
	len = make_bzimage(img, &o);
	vm_init(&v, 24 * MiB);
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	/* 1 MiB aligned up to kernel_alignment (2 MiB). */
	check_long_mode(&v, 0x200000 + 0x200);
	assert_int_equal(rd(&v, ZP + 0x214, 4), 0x200000);
	assert_memory_equal(gpa_range(&v.m, 0x200000, BZ_PAYLOAD),
			    img + 3 * 512, BZ_PAYLOAD);
	vm_free(&v);
}

static void test_bzimage_initrd_below_initrd_addr_max(void **state)
{
	static uint8_t img[IMG_MAX], initrd[8192 + 100];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.initrd_addr_max = 32 * MiB - 1;
	len = make_bzimage(img, &o);
	fill_pattern(initrd, sizeof(initrd), 0x99);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", initrd, sizeof(initrd)), 0);
	assert_int_equal(rd(&v, ZP + 0x21c, 4), sizeof(initrd));
	check_initrd_at(&v, rd(&v, ZP + 0x218, 4), initrd, sizeof(initrd),
			32 * MiB);
	vm_free(&v);
}

/* ---- command line, initrd and argument limits ---- */

static void test_cmdline_longer_than_cmdline_size_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.cmdline_size = 16;
	len = make_bzimage(img, &o);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "0123456789abcdef", NULL, 0), 0);
	check_refused(&v, vm_load(&v, img, len, "0123456789abcdefX", NULL, 0),
		      -E2BIG, "command line too long: the limit is 16 bytes");
	vm_free(&v);
}

static void test_cmdline_longer_than_sane_max_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	static char line[0x10001];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	memset(line, 'a', 0xffff);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, line, NULL, 0), 0);
	assert_int_equal(strlen(gpa_range(&v.m, CMDLINE, 1)), 0xffff);
	line[0xffff] = 'b';
	check_refused(&v, vm_load(&v, img, len, line, NULL, 0), -E2BIG,
		      "command line too long");
	vm_free(&v);
}

static void test_initrd_too_large_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_vmlinux(img), ilen = 48 * MiB;
	uint8_t *initrd = calloc(1, ilen);
	struct vm v;

	(void)state;
	assert_non_null(initrd);
	vm_init(&v, RAM_SIZE);
	check_refused(&v, vm_load(&v, img, len, "", initrd, ilen), -E2BIG,
		      "initrd of 50331648 bytes does not fit");
	check_refused(&v, vm_load(&v, img, len, "", NULL, 10), -EINVAL,
		      "initrd size without initrd data");
	free(initrd);
	vm_free(&v);
}

static void test_missing_arguments_are_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_vmlinux(img);
	struct kernel_args a = { .kernel = img, .kernel_size = len };
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(
		load_kernel(&v.m, &a, &v.cpu, NULL, v.err, sizeof(v.err)),
		-EINVAL); /* NULL cmdline */
	a.cmdline = "";
	assert_int_equal(load_kernel(&v.m, &a, &v.cpu, NULL, NULL, 0), 0);
	a.kernel = NULL;
	check_refused(&v,
		      load_kernel(&v.m, &a, &v.cpu, NULL, v.err, sizeof(v.err)),
		      -EINVAL, "no kernel image");
	vm_free(&v);
}

/* If the host has a real kernel, it must parse and load as a bzImage. */
static void test_real_bzimage_from_boot_loads(void **state)
{
	glob_t g;
	FILE *f = NULL;
	uint8_t *k = NULL;
	long len;
	struct vm v;

	(void)state;
	if (glob("/boot/vmlinuz-*", 0, NULL, &g) || !g.gl_pathc) {
		globfree(&g);
		skip();
	}
	f = fopen(g.gl_pathv[0], "rb");
	globfree(&g);
	if (!f)
		skip();
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	if (len <= 0) {
		fclose(f);
		skip();
	}
	k = malloc(len);
	assert_non_null(k);
	assert_int_equal(fread(k, 1, len, f), (size_t)len);
	fclose(f);
	vm_init(&v, 256 * MiB);
	assert_int_equal(vm_load(&v, k, len, "console=ttyS0", NULL, 0), 0);
	assert_int_equal(v.proto, BOOT_LINUX64);
	assert_int_equal(v.cpu.rip & 0xfff, 0x200);
	assert_int_equal(rd(&v, ZP + 0x202, 4), 0x53726448);
	free(k);
	vm_free(&v);
}

/* ---- malformed images: each refused with one line saying why ---- */

enum base {
	PVH32,
	VMLINUX,
	BZIMAGE
};

struct poke {
	uint32_t off;
	uint8_t width; /* 0: unused */
	uint64_t val;
};

struct bad_case {
	const char *name;
	const char *msg; /* expected in the error line */
	struct poke poke[2];
	size_t trunc; /* cut the file to this length; 0: keep */
	int rc;
	enum base base;
};

#define EH(f, v)                                                         \
	{                                                                \
		offsetof(Elf64_Ehdr, f), sizeof(((Elf64_Ehdr *)0)->f), v \
	}
#define PH(i, f, v)                                             \
	{                                                       \
		sizeof(Elf64_Ehdr) + (i) * sizeof(Elf64_Phdr) + \
			offsetof(Elf64_Phdr, f),                \
			sizeof(((Elf64_Phdr *)0)->f), v         \
	}
#define PH32(i, f, v)                                           \
	{                                                       \
		sizeof(Elf32_Ehdr) + (i) * sizeof(Elf32_Phdr) + \
			offsetof(Elf32_Phdr, f),                \
			sizeof(((Elf32_Phdr *)0)->f), v         \
	}
#define B(off, width, v)      \
	{                     \
		off, width, v \
	}
#define BAD(n, b, t, r, m, ...)                                           \
	{                                                                 \
		.name = n, .msg = m, .poke = { __VA_ARGS__ }, .trunc = t, \
		.rc = r, .base = b                                        \
	}
/* In make_pvh(), the PHYS32_ENTRY note is the third, at 0x23c. */
#define XEN_NOTE 0x23c

static const struct bad_case bad_cases[] = {
	BAD("tiny_file", VMLINUX, 2, -ENOEXEC, "truncated file"),
	BAD("bad_magic", VMLINUX, 0, -ENOEXEC, "bad magic", B(1, 1, 'X')),
	BAD("truncated_elf_header", VMLINUX, 40, -EINVAL,
	    "truncated ELF header"),
	BAD("bad_elf_class", VMLINUX, 0, -ENOEXEC, "bad ELF class 3",
	    B(EI_CLASS, 1, 3)),
	BAD("big_endian_elf", VMLINUX, 0, -ENOEXEC, "not little-endian",
	    B(EI_DATA, 1, ELFDATA2MSB)),
	BAD("wrong_machine", VMLINUX, 0, -ENOEXEC, "ELF machine 40 is not x86",
	    EH(e_machine, EM_ARM)),
	BAD("elf64_i386_without_pvh_note", VMLINUX, 0, -ENOEXEC,
	    "is not x86-64", EH(e_machine, EM_386)),
	BAD("elf32_without_pvh_note", PVH32, 0, -ENOEXEC,
	    "no Xen PVH entry note", B(XEN_NOTE + 8, 4, 19)),
	BAD("not_executable", VMLINUX, 0, -ENOEXEC, "not ET_EXEC",
	    EH(e_type, ET_DYN)),
	BAD("no_program_headers", VMLINUX, 0, -EINVAL, "no program headers",
	    EH(e_phnum, 0)),
	BAD("absurd_phnum", VMLINUX, 0, -EINVAL, "absurd phnum 1000",
	    EH(e_phnum, 1000)),
	BAD("bad_phentsize", VMLINUX, 0, -EINVAL, "bad e_phentsize 32",
	    EH(e_phentsize, 32)),
	BAD("truncated_program_headers", VMLINUX, 64 + 56 + 10, -EINVAL,
	    "truncated program headers"),
	BAD("phoff_overflow", VMLINUX, 0, -EINVAL, "truncated program headers",
	    EH(e_phoff, UINT64_MAX - 8)),
	BAD("segment_data_beyond_file", VMLINUX, 0, -EINVAL,
	    "segment 0 data [0x1000, +0x1800) is beyond the end of the file",
	    PH(0, p_filesz, 0x1800), PH(0, p_memsz, 0x1800)),
	BAD("segment_offset_overflow", VMLINUX, 0, -EINVAL,
	    "segment 0: p_offset + p_filesz overflows",
	    PH(0, p_offset, UINT64_MAX - 0x10)),
	BAD("filesz_above_memsz", VMLINUX, 0, -EINVAL,
	    "segment 1: p_filesz 0x200 > p_memsz 0x100", PH(1, p_filesz, 0x200),
	    PH(1, p_memsz, 0x100)),
	BAD("filesz_with_zero_memsz", VMLINUX, 0, -EINVAL,
	    "segment 1: p_filesz 0x100 > p_memsz 0", PH(1, p_memsz, 0)),
	BAD("paddr_overflow", VMLINUX, 0, -EINVAL,
	    "segment 1: p_paddr + p_memsz overflows",
	    PH(1, p_paddr, UINT64_MAX - 0x100)),
	BAD("overlapping_segments", VMLINUX, 0, -EINVAL,
	    "segment 1 overlaps segment 0", PH(1, p_paddr, 0x1000400)),
	BAD("segment_in_hole", VMLINUX, 0, -E2BIG,
	    "segment 1 [0xc0000000, +0x10000) is outside RAM",
	    PH(1, p_paddr, 0xc0000000)),
	BAD("segment_beyond_ram", VMLINUX, 0, -E2BIG,
	    "segment 1 [0x3ff8000, +0x10000) is outside RAM",
	    PH(1, p_paddr, 0x3ff8000)),
	BAD("segment_straddles_hole", VMLINUX, 0, -EINVAL,
	    "straddles the 32-bit hole", PH(1, p_paddr, 0xbfff8000)),
	BAD("segment_over_boot_structures", VMLINUX, 0, -EINVAL,
	    "segment 1 [0x7000, +0x10000) overlaps the boot",
	    PH(1, p_paddr, 0x7000)),
	BAD("segment_in_bios_area", VMLINUX, 0, -EINVAL,
	    "overlaps the BIOS area", PH(1, p_paddr, 0xf0000)),
	BAD("no_loadable_segment", VMLINUX, 0, -EINVAL, "no loadable segment",
	    PH(0, p_type, PT_NULL), PH(1, p_type, PT_NULL)),
	BAD("entry_outside_segments", VMLINUX, 0, -EINVAL,
	    "entry point 0x1100000 is outside the loaded segments",
	    EH(e_entry, 0x1100000)),
	BAD("entry_in_bss", VMLINUX, 0, -EINVAL,
	    "entry point 0x1200100 is outside", EH(e_entry, 0x1200100)),
	BAD("truncated_note", PVH32, 0, -EINVAL,
	    "truncated note at offset 0 in segment 1", B(0x200, 4, 0x1000)),
	BAD("pvh_note_bad_size", PVH32, 0, -EINVAL, "(want 4 or 8)",
	    B(XEN_NOTE + 4, 4, 2)),
	BAD("pvh_entry_outside_segments", PVH32, 0, -EINVAL,
	    "entry point 0x200000 is outside", B(XEN_NOTE + 16, 4, 0x200000)),
	BAD("note_segment_beyond_file", PVH32, 0, -EINVAL,
	    "segment 1 data [0x1100, +0x50) is beyond the end",
	    PH32(1, p_offset, 0x1100)),
	BAD("bzimage_old_protocol", BZIMAGE, 0, -ENOEXEC,
	    "boot protocol 2.11 is too old", B(0x206, 2, 0x020b)),
	BAD("bzimage_no_64bit_entry", BZIMAGE, 0, -ENOEXEC,
	    "XLF_KERNEL_64 clear", B(0x236, 2, 0)),
	BAD("bzimage_no_hdrs", BZIMAGE, 0, -ENOEXEC, "no \"HdrS\" header",
	    B(0x202, 4, 0)),
	BAD("bzimage_truncated_header", BZIMAGE, 0x204, -EINVAL,
	    "truncated bzImage header"),
	BAD("bzimage_short_setup_header", BZIMAGE, 0, -EINVAL,
	    "before the 2.12 fields", B(0x201, 1, 0x40)),
	BAD("bzimage_truncated_payload", BZIMAGE, 3 * 512, -EINVAL,
	    "truncated bzImage"),
	BAD("bzimage_setup_sects_beyond_file", BZIMAGE, 0, -EINVAL,
	    "truncated bzImage: 102912 bytes of setup code", B(0x1f1, 1, 200)),
	BAD("bzimage_init_size_beyond_ram", BZIMAGE, 0, -E2BIG,
	    "kernel needs 0x8000000 bytes (init_size)", B(0x260, 4, 0x8000000)),
	BAD("bzimage_fixed_kernel_does_not_fit", BZIMAGE, 0, -E2BIG,
	    "kernel is not relocatable", B(0x234, 1, 0),
	    B(0x258, 8, 0x3f00000)),
	BAD("bzimage_bad_alignment", BZIMAGE, 0, -EINVAL,
	    "kernel_alignment 0x300000 is not a power of two",
	    B(0x230, 4, 0x300000)),
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void test_malformed_image_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	const struct bad_case *bc = *state;
	size_t len, i;
	struct vm v;

	if (bc->base == PVH32)
		len = make_pvh(img, false, 4);
	else if (bc->base == VMLINUX)
		len = make_vmlinux(img);
	else
		len = make_bzimage(img, &bz_default);
	for (i = 0; i < 2 && bc->poke[i].width; i++)
		wr(img + bc->poke[i].off, bc->poke[i].val, bc->poke[i].width);
	if (bc->trunc)
		len = bc->trunc;
	vm_init(&v, RAM_SIZE);
	check_refused(&v, vm_load(&v, img, len, "", NULL, 0), bc->rc, bc->msg);
	vm_free(&v);
}

int main(void)
{
	static struct CMUnitTest bad[N_BAD];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_layout_small_ram_is_one_bank),
		cmocka_unit_test(test_mem_layout_exactly_3g_is_one_bank),
		cmocka_unit_test(test_mem_layout_above_hole_adds_bank_at_4g),
		cmocka_unit_test(test_mem_layout_rejects_invalid_sizes),
		cmocka_unit_test(test_gpa_range_low_bank_edges),
		cmocka_unit_test(test_gpa_range_rejects_wrapping_ranges),
		cmocka_unit_test(test_gpa_range_refuses_hole_and_straddles),
		cmocka_unit_test(test_pvh_elf32_loads_segment_and_start_info),
		cmocka_unit_test(test_pvh_elf64_note_with_initrd_module),
		cmocka_unit_test(test_pvh_note_found_in_second_note_segment),
		cmocka_unit_test(
			test_vmlinux_enters_long_mode_with_boot_params),
		cmocka_unit_test(test_vmlinux_page_tables_identity_map_4g),
		cmocka_unit_test(test_vmlinux_initrd_at_top_of_low_ram),
		cmocka_unit_test(test_e820_reports_ram_above_4g),
		cmocka_unit_test(test_bzimage_loads_at_pref_address),
		cmocka_unit_test(test_bzimage_setup_sects_zero_means_four),
		cmocka_unit_test(
			test_bzimage_falls_back_when_pref_does_not_fit),
		cmocka_unit_test(test_bzimage_initrd_below_initrd_addr_max),
		cmocka_unit_test(
			test_cmdline_longer_than_cmdline_size_is_refused),
		cmocka_unit_test(test_cmdline_longer_than_sane_max_is_refused),
		cmocka_unit_test(test_initrd_too_large_is_refused),
		cmocka_unit_test(test_missing_arguments_are_refused),
		cmocka_unit_test(test_real_bzimage_from_boot_loads),
	};
	size_t i;
	int failed;

	for (i = 0; i < N_BAD; i++)
		bad[i] = (struct CMUnitTest){
			.name = bad_cases[i].name,
			.test_func = test_malformed_image_is_refused,
			.initial_state = (void *)&bad_cases[i],
		};
	failed = cmocka_run_group_tests_name("loader", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("loader refuses malformed images",
					      bad, NULL, NULL);
	return failed;
}
