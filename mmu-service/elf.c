/*
 * ELF kernels: a PVH kernel (an ELF32 or ELF64 x86 executable with a Xen
 * XEN_ELFNOTE_PHYS32_ENTRY note, Xen docs/misc/pvh.pandoc) or an ELF64
 * x86-64 vmlinux booted with the Linux 64-bit boot protocol (boot.rst).
 *
 * PT_LOAD segments are loaded at p_paddr (System V ABI, "Program Header":
 * p_filesz bytes from p_offset, then zeros up to p_memsz). Every header
 * field is checked against the file and RAM before any byte is copied.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"

#define ELF_MAX_PHNUM 64
#define XEN_ELFNOTE_PHYS32_ENTRY 18 /* Xen public/elfnote.h */
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))

/* A program header, the same for both ELF classes. */
struct elf_seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz, align;
};

struct elf_image {
	const uint8_t *file;
	size_t size;
	bool is64;
	uint16_t machine;
	uint64_t entry, phoff;
	unsigned phnum, phentsize;
	struct elf_seg ph[ELF_MAX_PHNUM];
	bool pvh;
	uint64_t pvh_entry;
};

/* ELF file header fields we use, from either class. */
static int elf_read_ehdr(struct load_ctx *c, struct elf_image *im)
{
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	uint16_t type;

	if (im->size < EI_NIDENT)
		return load_fail(c, -EINVAL, "truncated ELF header");
	if (im->file[EI_CLASS] != ELFCLASS32 &&
	    im->file[EI_CLASS] != ELFCLASS64)
		return load_fail(c, -ENOEXEC, "bad ELF class %u",
				 im->file[EI_CLASS]);
	if (im->file[EI_DATA] != ELFDATA2LSB)
		return load_fail(c, -ENOEXEC, "ELF is not little-endian");
	im->is64 = im->file[EI_CLASS] == ELFCLASS64;
	if (im->size < (im->is64 ? sizeof(e64) : sizeof(e32)))
		return load_fail(c, -EINVAL, "truncated ELF header");

	if (im->is64) {
		memcpy(&e64, im->file, sizeof(e64));
		type = e64.e_type;
		im->machine = e64.e_machine;
		im->entry = e64.e_entry;
		im->phoff = e64.e_phoff;
		im->phnum = e64.e_phnum;
		im->phentsize = e64.e_phentsize;
	} else {
		memcpy(&e32, im->file, sizeof(e32));
		type = e32.e_type;
		im->machine = e32.e_machine;
		im->entry = e32.e_entry;
		im->phoff = e32.e_phoff;
		im->phnum = e32.e_phnum;
		im->phentsize = e32.e_phentsize;
	}
	if (type != ET_EXEC)
		return load_fail(c, -ENOEXEC, "ELF type %u is not ET_EXEC",
				 type);
	if (im->machine != EM_386 && im->machine != EM_X86_64)
		return load_fail(c, -ENOEXEC, "ELF machine %u is not x86",
				 im->machine);
	return 0;
}

#define ELF_SEG(p)                                                   \
	(struct elf_seg)                                             \
	{                                                            \
		(p).p_type, (p).p_offset, (p).p_paddr, (p).p_filesz, \
			(p).p_memsz, (p).p_align                     \
	}

static void elf_decode_phdr(struct elf_image *im, const uint8_t *p,
			    struct elf_seg *s)
{
	Elf64_Phdr p64;
	Elf32_Phdr p32;

	if (im->is64) {
		memcpy(&p64, p, sizeof(p64));
		*s = ELF_SEG(p64);
	} else {
		memcpy(&p32, p, sizeof(p32));
		*s = ELF_SEG(p32);
	}
}

static int elf_read_phdrs(struct load_ctx *c, struct elf_image *im)
{
	unsigned want = im->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t end;
	unsigned i;

	if (im->phnum == 0)
		return load_fail(c, -EINVAL, "ELF has no program headers");
	if (im->phnum > ELF_MAX_PHNUM)
		return load_fail(c, -EINVAL,
				 "absurd phnum %u (at most %u program headers)",
				 im->phnum, ELF_MAX_PHNUM);
	if (im->phentsize != want)
		return load_fail(c, -EINVAL, "bad e_phentsize %u (want %u)",
				 im->phentsize, want);
	if (!range_end(im->phoff, (uint64_t)im->phnum * want, &end) ||
	    end > im->size)
		return load_fail(c, -EINVAL,
				 "truncated program headers: [%#" PRIx64
				 ", +%#x) is beyond the end of the file",
				 im->phoff, im->phnum * want);
	for (i = 0; i < im->phnum; i++)
		elf_decode_phdr(im, im->file + im->phoff + i * want,
				&im->ph[i]);
	return 0;
}

/* The file bytes [offset, offset + filesz) of segment i exist. */
static int elf_check_file_range(struct load_ctx *c, struct elf_image *im,
				unsigned i)
{
	const struct elf_seg *s = &im->ph[i];
	uint64_t end;

	if (!range_end(s->offset, s->filesz, &end))
		return load_fail(c, -EINVAL,
				 "segment %u: p_offset + p_filesz overflows",
				 i);
	if (end > im->size)
		return load_fail(c, -EINVAL,
				 "segment %u data [%#" PRIx64 ", +%#" PRIx64
				 ") is beyond the end of the file (%zu bytes)",
				 i, s->offset, s->filesz, im->size);
	return 0;
}

/* Xen public/elfnote.h: numeric values are 4 or 8 bytes. */
static int elf_pvh_entry(struct load_ctx *c, struct elf_image *im,
			 const uint8_t *desc, uint32_t descsz)
{
	uint64_t entry;

	if (descsz == 4)
		entry = get_le32(desc);
	else if (descsz == 8)
		entry = get_le64(desc);
	else
		return load_fail(c, -EINVAL,
				 "PVH entry note has a %u-byte value "
				 "(want 4 or 8)",
				 descsz);
	if (entry >= MEM_HIGH_START)
		return load_fail(c, -EINVAL,
				 "PVH entry %#" PRIx64 " is above 4 GiB",
				 entry);
	im->pvh = true;
	im->pvh_entry = entry;
	return 0;
}

struct elf_note {
	uint32_t namesz, descsz, type;
	const uint8_t *name, *desc;
	uint64_t next; /* offset of the next note in the segment */
};

/*
 * The note at off in PT_NOTE segment i (System V ABI, "Note Section"):
 * namesz, descsz, type, then name and desc, each padded to the segment's
 * alignment (4, or 8 for ELF64 notes aligned so).
 */
static int elf_note_at(struct load_ctx *c, const struct elf_image *im,
		       unsigned i, uint64_t off, struct elf_note *n)
{
	const struct elf_seg *s = &im->ph[i];
	const uint8_t *p = im->file + s->offset;
	uint64_t align = s->align == 8 ? 8 : 4, name = off + 12, desc;

	n->namesz = get_le32(p + off);
	n->descsz = get_le32(p + off + 4);
	n->type = get_le32(p + off + 8);
	desc = name + ALIGN_UP((uint64_t)n->namesz, align);
	if (desc > s->filesz || n->descsz > s->filesz - desc)
		return load_fail(c, -EINVAL,
				 "truncated note at offset %#" PRIx64
				 " in segment %u",
				 off, i);
	n->name = p + name;
	n->desc = p + desc;
	n->next = desc + ALIGN_UP((uint64_t)n->descsz, align);
	return 0;
}

static int elf_scan_notes(struct load_ctx *c, struct elf_image *im, unsigned i)
{
	const struct elf_seg *s = &im->ph[i];
	struct elf_note n = { 0 };
	uint64_t off = 0;
	int rc;

	rc = elf_check_file_range(c, im, i);
	while (!rc && off <= s->filesz && s->filesz - off >= 12) {
		rc = elf_note_at(c, im, i, off, &n);
		if (!rc && n.type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    n.namesz == 4 && !memcmp(n.name, "Xen", 4))
			return elf_pvh_entry(c, im, n.desc, n.descsz);
		off = n.next;
	}
	return rc;
}

static int elf_find_pvh(struct load_ctx *c, struct elf_image *im)
{
	unsigned i;
	int rc;

	for (i = 0; i < im->phnum && !im->pvh; i++) {
		if (im->ph[i].type != PT_NOTE)
			continue;
		rc = elf_scan_notes(c, im, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* Segment i lies in low RAM, clear of the boot structures. */
static int elf_check_place(struct load_ctx *c, unsigned i, uint64_t gpa,
			   uint64_t len)
{
	char what[32];
	uint64_t end;

	if (!range_end(gpa, len, &end))
		return load_fail(c, -EINVAL,
				 "segment %u: p_paddr + p_memsz overflows", i);
	if (gpa < MEM_HOLE_START && end > MEM_HOLE_START)
		return load_fail(c, -EINVAL,
				 "segment %u [%#" PRIx64 ", +%#" PRIx64
				 ") straddles the 32-bit hole at 3 GiB",
				 i, gpa, len);
	if (!gpa_range(c->m, gpa, len))
		return load_fail(c, -E2BIG,
				 "segment %u [%#" PRIx64 ", +%#" PRIx64
				 ") is outside RAM",
				 i, gpa, len);
	if (end > c->m->low_size)
		return load_fail(
			c, -E2BIG,
			"segment %u [%#" PRIx64 ", +%#" PRIx64
			") is above 4 GiB, out of the boot code's reach",
			i, gpa, len);
	snprintf(what, sizeof(what), "segment %u", i);
	return check_kernel_range(c, what, gpa, len);
}

static int elf_check_seg(struct load_ctx *c, struct elf_image *im, unsigned i)
{
	const struct elf_seg *s = &im->ph[i];
	unsigned j;
	int rc;

	rc = elf_check_file_range(c, im, i);
	if (rc)
		return rc;
	if (s->filesz > s->memsz)
		return load_fail(c, -EINVAL,
				 "segment %u: p_filesz %#" PRIx64
				 " > p_memsz %#" PRIx64,
				 i, s->filesz, s->memsz);
	rc = elf_check_place(c, i, s->paddr, s->memsz);
	if (rc)
		return rc;
	for (j = 0; j < i; j++) {
		if (im->ph[j].type == PT_LOAD &&
		    ranges_overlap(s->paddr, s->memsz, im->ph[j].paddr,
				   im->ph[j].memsz))
			return load_fail(c, -EINVAL,
					 "segment %u overlaps segment %u", i,
					 j);
	}
	return 0;
}

/* Validate every PT_LOAD and the entry point; set the kernel's extent. */
static int elf_check_segs(struct load_ctx *c, struct elf_image *im,
			  uint64_t entry)
{
	const struct elf_seg *s;
	bool entry_ok = false;
	unsigned i, nload = 0;
	int rc;

	c->kernel_start = UINT64_MAX;
	for (i = 0; i < im->phnum; i++) {
		s = &im->ph[i];
		if (s->type != PT_LOAD || (!s->memsz && !s->filesz))
			continue;
		rc = elf_check_seg(c, im, i);
		if (rc)
			return rc;
		nload++;
		if (s->paddr < c->kernel_start)
			c->kernel_start = s->paddr;
		if (s->paddr + s->memsz > c->kernel_end)
			c->kernel_end = s->paddr + s->memsz;
		if (entry >= s->paddr && entry - s->paddr < s->filesz)
			entry_ok = true;
	}
	if (!nload)
		return load_fail(c, -EINVAL, "ELF has no loadable segment");
	if (!entry_ok)
		return load_fail(c, -EINVAL,
				 "entry point %#" PRIx64
				 " is outside the loaded segments",
				 entry);
	return 0;
}

static int elf_copy_segs(struct load_ctx *c, const struct elf_image *im)
{
	uint8_t *dst;
	unsigned i;

	for (i = 0; i < im->phnum; i++) {
		const struct elf_seg *s = &im->ph[i];

		if (s->type != PT_LOAD || !s->memsz)
			continue;
		dst = gpa_range(c->m, s->paddr, s->memsz);
		if (!dst) /* elf_check_segs() said it fits */
			return load_fail(c, -EINVAL, "segment %u vanished", i);
		memcpy(dst, im->file + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

/* Without a PVH note only an x86-64 vmlinux is bootable (boot.rst). */
static int elf_choose(struct load_ctx *c, const struct elf_image *im)
{
	if (im->pvh) {
		c->proto = BOOT_PVH;
		c->entry = im->pvh_entry;
		return 0;
	}
	if (!im->is64)
		return load_fail(c, -ENOEXEC,
				 "ELF32 kernel has no Xen PVH entry note; "
				 "only an ELF64 vmlinux boots without one");
	if (im->machine != EM_X86_64)
		return load_fail(c, -ENOEXEC, "ELF64 machine %u is not x86-64",
				 im->machine);
	c->proto = BOOT_LINUX64;
	c->entry = im->entry;
	return 0;
}

int elf_load(struct load_ctx *c)
{
	struct elf_image im = {
		.file = c->a->kernel,
		.size = c->a->kernel_size,
	};
	int rc;

	rc = elf_read_ehdr(c, &im);
	if (!rc)
		rc = elf_read_phdrs(c, &im);
	if (!rc)
		rc = elf_find_pvh(c, &im);
	if (!rc)
		rc = elf_choose(c, &im);
	if (!rc)
		rc = elf_check_segs(c, &im, c->entry);
	return rc ? rc : elf_copy_segs(c, &im);
}
