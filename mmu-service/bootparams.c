/*
 * The Linux boot_params ("zero page") for the 64-bit boot protocol
 * (boot.rst, "64-bit Boot Protocol"; zero-page.rst): start from zeros,
 * copy the kernel's setup header (bzImage) or make one up (vmlinux, which
 * has none), then write the fields a boot loader must fill in.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "bootparams.h"

_Static_assert(BOOT_ZERO_PAGE + sizeof(struct boot_params) <= BOOT_STACK_TOP,
	       "zero page runs into the boot stack");

/*
 * A vmlinux carries no setup header: describe it as a 2.12 kernel that
 * was loaded high. The kernel reads cmdline_size and the loader fields.
 */
static void bootparams_vmlinux_hdr(struct setup_header *h)
{
	h->boot_flag = SETUP_BOOT_FLAG;
	h->header = SETUP_HDRS;
	h->version = SETUP_MIN_VERSION;
	h->loadflags = LOADED_HIGH;
	h->xloadflags = XLF_KERNEL_64;
	h->kernel_alignment = 0x200000; /* x86-64 minimum PHYSICAL_ALIGN */
	h->initrd_addr_max = MEM_HOLE_START - 1;
	h->cmdline_size = BOOT_CMDLINE_MAX - 1;
}

/* boot.rst "Details of Header Fields": the (obligatory) write fields. */
static void bootparams_loader_fields(struct load_ctx *c, struct boot_params *bp)
{
	struct setup_header *h = &bp->hdr;

	h->type_of_loader = SETUP_LOADER_TYPE;
	h->vid_mode = SETUP_VID_NORMAL;
	h->cmd_line_ptr = (uint32_t)BOOT_CMDLINE;
	bp->ext_cmd_line_ptr = 0;
	h->setup_data = 0;
	if (c->khdr) /* "code32_start": where the kernel really is */
		h->code32_start = (uint32_t)c->kernel_start;
	if (c->initrd_gpa) {
		/* The initrd lies below 3 GiB: the ext_ fields stay 0. */
		h->ramdisk_image = (uint32_t)c->initrd_gpa;
		h->ramdisk_size = (uint32_t)c->a->initrd_size;
	}
}

static int bootparams_e820(struct load_ctx *c, struct boot_params *bp)
{
	struct mem_range r[BOOT_MEMMAP_MAX];
	int i, n;

	n = boot_memmap(c->m, r, BOOT_MEMMAP_MAX);
	if (n < 0)
		return load_fail(c, n, "memory map does not fit");
	for (i = 0; i < n; i++) {
		bp->e820_table[i].addr = r[i].addr;
		bp->e820_table[i].size = r[i].size;
		bp->e820_table[i].type = r[i].type;
	}
	bp->e820_entries = (uint8_t)n;
	return 0;
}

int bootparams_build(struct load_ctx *c)
{
	struct boot_params *bp;

	bp = gpa_range(c->m, BOOT_ZERO_PAGE, sizeof(*bp));
	if (!bp)
		return load_fail(c, -E2BIG, "no RAM for boot_params");
	memset(bp, 0, sizeof(*bp));
	if (c->khdr)
		memcpy((uint8_t *)bp + SETUP_HDR_OFFSET, c->khdr, c->khdr_len);
	else
		bootparams_vmlinux_hdr(&bp->hdr);
	bootparams_loader_fields(c, bp);
	bp->acpi_rsdp_addr = c->rsdp; /* protocol 2.14; older kernels scan */
	return bootparams_e820(c, bp);
}
