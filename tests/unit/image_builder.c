/*
 * Shared helpers of the loader unit tests: see image_builder.h.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "image_builder.h"

void wr(uint8_t *p, uint64_t v, size_t width)
{
	memcpy(p, &v, width);
}

uint64_t rd(const struct vm *v, uint64_t gpa, unsigned width)
{
	uint64_t x = 0;
	const void *p = gpa_range(&v->m, gpa, width);

	assert_non_null(p);
	memcpy(&x, p, width);
	return x;
}

void vm_init(struct vm *v, uint64_t size)
{
	struct mem_slot slots[MEM_MAX_SLOTS];

	memset(v, 0, sizeof(*v));
	assert_int_equal(mem_layout(size, &v->m, slots), 1);
	v->m.ram = malloc(size);
	assert_non_null(v->m.ram);
	memset(v->m.ram, 0xcc, size); /* so that missing zeroing shows */
}

void vm_free(struct vm *v)
{
	free(v->m.ram);
}

bool big_vm_init(struct vm *v, uint64_t size)
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

int vm_load(struct vm *v, const uint8_t *k, size_t klen, const char *cmdline,
	    const uint8_t *initrd, size_t ilen)
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

void elf_build(uint8_t *b, bool is64, uint16_t machine, uint64_t entry,
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

size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc,
		uint32_t descsz)
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

void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

size_t make_pvh(uint8_t *b, bool is64, uint32_t descsz)
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

size_t make_vmlinux(uint8_t *b)
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

const struct bz_opts bz_default = {
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

size_t make_bzimage(uint8_t *b, const struct bz_opts *o)
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

void check_flat(const struct seg *s, uint16_t sel, uint8_t type, uint8_t l,
		uint8_t db)
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

void check_data_segs(const struct boot_cpu *c)
{
	const struct seg *s[] = { &c->ds, &c->es, &c->fs, &c->gs, &c->ss };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		check_flat(s[i], 0x18, 0x3, 0, 1);
}

void check_tr(const struct boot_cpu *c)
{
	assert_int_equal(c->tr.selector, 0x20);
	assert_int_equal(c->tr.type, 0xb);
	assert_int_equal(c->tr.s, 0);
	assert_int_equal(c->tr.present, 1);
	assert_int_equal(c->tr.limit, 0x67);
}

/* The GDT holds the same descriptors as the segment registers. */
void check_gdt(const struct vm *v, uint64_t code)
{
	assert_int_equal(v->cpu.gdt_base, 0x500);
	assert_int_equal(v->cpu.gdt_limit, 0x2f);
	assert_int_equal(rd(v, 0x500, 8), 0);
	assert_int_equal(rd(v, 0x510, 8), code);
	assert_int_equal(rd(v, 0x518, 8), 0x00cf93000000ffffull);
	assert_int_equal(rd(v, 0x520, 8), 0x00008b0000000067ull);
	assert_int_equal(rd(v, 0x528, 8), 0);
}

void check_long_mode(const struct vm *v, uint64_t entry)
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
void check_e820(const struct vm *v, uint64_t low, uint64_t high)
{
	uint64_t t = ZP + 0x2d0;

	assert_int_equal(rd(v, ZP + 0x1e8, 1), high ? 5 : 4);
	assert_int_equal(rd(v, t, 8), 0);
	assert_int_equal(rd(v, t + 8, 8), 0x9fc00);
	assert_int_equal(rd(v, t + 16, 4), 1);
	assert_int_equal(rd(v, t + 20, 8), 0x9fc00);
	assert_int_equal(rd(v, t + 28, 8), 0x100000 - 0x9fc00);
	assert_int_equal(rd(v, t + 36, 4), 2);
	assert_int_equal(rd(v, t + 40, 8), 0x100000);
	assert_int_equal(rd(v, t + 48, 8), low - 0x100000);
	assert_int_equal(rd(v, t + 56, 4), 1);
	assert_int_equal(rd(v, t + 60, 8), 0xe0000000); /* ECAM, bus 0 */
	assert_int_equal(rd(v, t + 68, 8), 0x100000);
	assert_int_equal(rd(v, t + 76, 4), 2);
	if (!high)
		return;
	assert_int_equal(rd(v, t + 80, 8), 4 * GiB);
	assert_int_equal(rd(v, t + 88, 8), high);
	assert_int_equal(rd(v, t + 96, 4), 1);
}

void check_boot_params(const struct vm *v, const char *cmdline)
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

void check_initrd_at(const struct vm *v, uint64_t gpa, const uint8_t *data,
		     size_t len, uint64_t limit)
{
	assert_int_equal(gpa % 4096, 0);
	assert_true(gpa + len <= limit);
	assert_true(gpa + len + 4096 > limit); /* at the top */
	assert_memory_equal(gpa_range(&v->m, gpa, len), data, len);
}

void check_refused(struct vm *v, int rc, int want, const char *msg)
{
	if (rc != want || !strstr(v->err, msg))
		print_error("rc %d (want %d), err \"%s\" (want \"%s\")\n", rc,
			    want, v->err, msg);
	assert_int_equal(rc, want);
	assert_non_null(strstr(v->err, msg));
	assert_null(strchr(v->err, '\n'));
}
