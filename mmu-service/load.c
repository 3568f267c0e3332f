/*
 * load_kernel(): recognise the image, load it, then place the command line
 * and the initrd and build the boot tables of the chosen protocol.
 *
 * Error codes: -ENOEXEC for an image we cannot boot (bad magic, wrong ELF
 * class or machine, boot protocol too old), -EINVAL for a malformed image
 * (truncated, overlapping, inconsistent sizes, integer overflow), -E2BIG
 * for one that does not fit (segment or init_size outside RAM, command
 * line too long, initrd too large).
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "platform.h"
#include "boot.h"

void load_msg(struct load_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->err || !c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

int check_kernel_range(struct load_ctx *c, const char *what, uint64_t gpa,
		       uint64_t len)
{
	if (ranges_overlap(gpa, len, 0, BOOT_AREA_END))
		return load_fail(c, -EINVAL,
				 "%s [%#" PRIx64 ", +%#" PRIx64
				 ") overlaps the boot structures at [0, %#llx)",
				 what, gpa, len, BOOT_AREA_END);
	if (ranges_overlap(gpa, len, BIOS_AREA_START,
			   BIOS_AREA_END - BIOS_AREA_START))
		return load_fail(c, -EINVAL,
				 "%s [%#" PRIx64 ", +%#" PRIx64
				 ") overlaps the BIOS area [%#llx, %#llx)",
				 what, gpa, len, BIOS_AREA_START,
				 BIOS_AREA_END);
	return 0;
}

/* boot.rst, "The Kernel Command Line": NUL-terminated, cmdline_size max. */
static int load_cmdline(struct load_ctx *c)
{
	uint64_t max = c->cmdline_max;
	size_t len;
	char *dst;

	if (max > BOOT_CMDLINE_MAX - 1)
		max = BOOT_CMDLINE_MAX - 1;
	len = strnlen(c->a->cmdline, max + 1);
	if (len > max)
		return load_fail(c, -E2BIG,
				 "command line too long: the limit is %" PRIu64
				 " bytes",
				 max);
	dst = gpa_range(c->m, BOOT_CMDLINE, len + 1);
	if (!dst)
		return load_fail(c, -E2BIG, "no RAM for the command line");
	memcpy(dst, c->a->cmdline, len);
	dst[len] = '\0';
	return 0;
}

/*
 * The initrd goes page-aligned to the top of low RAM, below the kernel's
 * limit (initrd_addr_max for a bzImage), above the kernel image.
 */
static int load_initrd(struct load_ctx *c)
{
	uint64_t top = c->initrd_limit, size = c->a->initrd_size, gpa;
	void *dst;

	if (!c->a->initrd || !size)
		return 0;
	if (top > c->m->low_size)
		top = c->m->low_size;
	if (size > top || ((top - size) & ~(PAGE_SIZE_4K - 1)) < c->kernel_end)
		return load_fail(c, -E2BIG,
				 "initrd of %" PRIu64
				 " bytes does not fit between the kernel end "
				 "%#" PRIx64 " and %#" PRIx64,
				 size, c->kernel_end, top);
	gpa = (top - size) & ~(PAGE_SIZE_4K - 1);
	if (check_kernel_range(c, "initrd", gpa, size))
		return -E2BIG;
	dst = gpa_range(c->m, gpa, size);
	if (!dst)
		return load_fail(c, -E2BIG,
				 "initrd [%#" PRIx64 ", +%#" PRIx64
				 ") is outside RAM",
				 gpa, size);
	memcpy(dst, c->a->initrd, size);
	c->initrd_gpa = gpa;
	return 0;
}

static int check_args(struct load_ctx *c)
{
	const struct kernel_args *a = c->a;

	if (!c->m || !c->cpu || !c->m->ram || !a || !a->cmdline)
		return load_fail(c, -EINVAL, "missing memory, cpu or argument");
	if (!a->kernel)
		return load_fail(c, -EINVAL, "no kernel image");
	if (!a->initrd && a->initrd_size)
		return load_fail(c, -EINVAL, "initrd size without initrd data");
	if (c->m->low_size <= BIOS_AREA_END)
		return load_fail(c, -E2BIG, "RAM below 3 GiB is too small");
	if (!a->cpus || a->cpus > PC_CPUS_MAX)
		return load_fail(c, -EINVAL,
				 "%u CPUs: give 1 to %u, as xAPIC IDs are 8 "
				 "bits",
				 a->cpus, PC_CPUS_MAX);
	return 0;
}

static int load_image(struct load_ctx *c)
{
	const uint8_t *k = c->a->kernel;
	size_t len = c->a->kernel_size;

	if (len >= SELFMAG && !memcmp(k, ELFMAG, SELFMAG))
		return elf_load(c);
	if (bzimage_probe(k, len))
		return bzimage_load(c);
	if (len < SELFMAG)
		return load_fail(c, -ENOEXEC, "truncated file: %zu bytes", len);
	return load_fail(c, -ENOEXEC, "bad magic: not an ELF or a bzImage");
}

/*
 * Boot tables and vCPU state of the protocol load_image() chose, after
 * the MP and ACPI tables, whose RSDP address both protocols pass on.
 */
static int build_tables(struct load_ctx *c)
{
	int rc;

	rc = acpi_build(c);
	if (!rc)
		rc = mptable_build(c);
	if (rc)
		return rc;
	if (c->proto == BOOT_PVH) {
		rc = pvh_build(c);
		return rc ? rc : cpu_setup_pvh(c);
	}
	rc = bootparams_build(c);
	return rc ? rc : cpu_setup_long_mode(c);
}

int load_kernel(struct guest_mem *m, const struct kernel_args *a,
		struct boot_cpu *cpu, enum boot_protocol *proto, char *err,
		size_t errlen)
{
	struct load_ctx c = {
		.m = m,
		.a = a,
		.cpu = cpu,
		.err = err,
		.errlen = errlen,
		.cmdline_max = BOOT_CMDLINE_MAX - 1,
		.initrd_limit = MEM_HOLE_START,
	};
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = check_args(&c);
	if (!rc)
		rc = load_image(&c);
	if (!rc)
		rc = load_cmdline(&c);
	if (!rc)
		rc = load_initrd(&c);
	if (!rc)
		rc = build_tables(&c);
	if (rc)
		return rc;
	if (proto)
		*proto = c.proto;
	return 0;
}
