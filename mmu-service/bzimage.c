/*
 * bzImage kernels, booted with the 64-bit boot protocol (boot.rst): the
 * real-mode setup code is skipped; the protected-mode payload is loaded
 * where the header allows and entered at its 64-bit entry point, 0x200
 * bytes in (XLF_KERNEL_64).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "boot.h"
#include "bootparams.h"

#define BZ_SECTOR 512
#define BZ_ENTRY64 0x200
#define BZ_HDR_2_12_END 0x268	     /* through handover_offset */
#define BZ_PREF_DEFAULT 0x1000000ull /* x86-64 CONFIG_PHYSICAL_START */

bool bzimage_probe(const uint8_t *k, size_t len)
{
	return len >= SETUP_HDR_OFFSET + 0x11 &&
	       get_le16(k + 0x1fe) == SETUP_BOOT_FLAG;
}

/*
 * Copy the setup header out of the file into the zeroed h; boot.rst: it
 * ends at 0x202 plus the byte at 0x201 (the jump offset).
 */
static int bz_read_hdr(struct load_ctx *c, struct setup_header *h)
{
	const uint8_t *k = c->a->kernel;
	size_t len = c->a->kernel_size, end;
	uint16_t version;

	if (len < 0x208)
		return load_fail(c, -EINVAL, "truncated bzImage header");
	if (get_le32(k + 0x202) != SETUP_HDRS)
		return load_fail(
			c, -ENOEXEC,
			"bzImage has no \"HdrS\" header: boot protocol "
			"too old for the 64-bit boot protocol");
	version = get_le16(k + 0x206);
	if (version < SETUP_MIN_VERSION)
		return load_fail(c, -ENOEXEC,
				 "boot protocol %u.%02u is too old for the "
				 "64-bit boot protocol (need 2.12)",
				 version >> 8, version & 0xff);
	end = 0x202 + (size_t)k[0x201];
	if (end > SETUP_HDR_AREA_END)
		end = SETUP_HDR_AREA_END;
	if (end < BZ_HDR_2_12_END)
		return load_fail(c, -EINVAL,
				 "bzImage setup header ends at %#zx, before "
				 "the 2.12 fields",
				 end);
	if (len < end)
		return load_fail(c, -EINVAL,
				 "truncated bzImage header: the setup header "
				 "ends at %#zx, the file at %#zx",
				 end, len);
	memcpy(h, k + SETUP_HDR_OFFSET,
	       end - SETUP_HDR_OFFSET < sizeof(*h) ? end - SETUP_HDR_OFFSET
						   : sizeof(*h));
	c->khdr = k + SETUP_HDR_OFFSET;
	c->khdr_len = end - SETUP_HDR_OFFSET;
	return 0;
}

static int bz_check_hdr(struct load_ctx *c, const struct setup_header *h)
{
	if (!(h->xloadflags & XLF_KERNEL_64))
		return load_fail(
			c, -ENOEXEC,
			"kernel has no 64-bit entry point "
			"(XLF_KERNEL_64 clear): too old for the 64-bit "
			"boot protocol");
	if (h->relocatable_kernel &&
	    (!h->kernel_alignment ||
	     (h->kernel_alignment & (h->kernel_alignment - 1))))
		return load_fail(c, -EINVAL,
				 "kernel_alignment %#x is not a power of two",
				 h->kernel_alignment);
	return 0;
}

/* [addr, addr + need) is RAM between 1 MiB and the end of low RAM. */
static bool bz_fits(const struct load_ctx *c, uint64_t addr, uint64_t need)
{
	uint64_t end;

	return addr >= HIGH_MEM_START && range_end(addr, need, &end) &&
	       end <= c->m->low_size;
}

/*
 * boot.rst "pref_address", "relocatable_kernel", "kernel_alignment": a
 * relocatable kernel goes to pref_address if it fits, else to the first
 * of 16 MiB and 1 MiB (aligned up) that does; a fixed one to pref_address.
 */
static int bz_place(struct load_ctx *c, const struct setup_header *h,
		    uint64_t need, uint64_t *addr)
{
	const uint64_t cand[] = { h->pref_address, BZ_PREF_DEFAULT,
				  HIGH_MEM_START };
	uint64_t a, align = h->kernel_alignment;
	unsigned i;

	if (!h->relocatable_kernel) {
		a = h->pref_address ? h->pref_address : HIGH_MEM_START;
		if (!bz_fits(c, a, need))
			return load_fail(
				c, -E2BIG,
				"kernel is not relocatable and needs "
				"[%#" PRIx64 ", +%#" PRIx64
				") but RAM below 3 GiB ends at %#" PRIx64,
				a, need, c->m->low_size);
		*addr = a;
		return 0;
	}
	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (!cand[i] || cand[i] > UINT64_MAX - align)
			continue;
		a = (cand[i] + align - 1) & ~(align - 1);
		if (bz_fits(c, a, need)) {
			*addr = a;
			return 0;
		}
	}
	return load_fail(c, -E2BIG,
			 "kernel needs %#" PRIx64
			 " bytes (init_size) above 1 MiB but RAM below 3 GiB "
			 "ends at %#" PRIx64,
			 need, c->m->low_size);
}

int bzimage_load(struct load_ctx *c)
{
	const uint8_t *k = c->a->kernel;
	size_t len = c->a->kernel_size;
	struct setup_header h = { 0 };
	uint64_t off, payload, need, addr = 0;
	uint8_t *dst;
	int rc;

	rc = bz_read_hdr(c, &h);
	if (!rc)
		rc = bz_check_hdr(c, &h);
	if (rc)
		return rc;

	/* boot.rst "setup_sects": 0 means 4; the boot sector is one more. */
	off = ((uint64_t)(h.setup_sects ? h.setup_sects : 4) + 1) * BZ_SECTOR;
	if (off >= len)
		return load_fail(c, -EINVAL,
				 "truncated bzImage: %" PRIu64
				 " bytes of setup code but the file has %zu",
				 off, len);
	payload = len - off;
	need = h.init_size > payload ? h.init_size : payload;
	if (payload <= BZ_ENTRY64)
		return load_fail(c, -EINVAL,
				 "truncated bzImage: the %" PRIu64
				 "-byte payload has no 64-bit entry point",
				 payload);

	rc = bz_place(c, &h, need, &addr);
	if (!rc)
		rc = check_kernel_range(c, "kernel", addr, need);
	if (rc)
		return rc;

	dst = gpa_range(c->m, addr, payload);
	if (!dst) /* bz_place() said it fits */
		return load_fail(c, -EINVAL, "kernel payload vanished");
	memcpy(dst, k + off, payload);
	c->proto = BOOT_LINUX64;
	c->entry = addr + BZ_ENTRY64;
	c->kernel_start = addr;
	c->kernel_end = addr + need;
	c->cmdline_max = h.cmdline_size;
	c->initrd_limit = (uint64_t)h.initrd_addr_max + 1;
	return 0;
}
