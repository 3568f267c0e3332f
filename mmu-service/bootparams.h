/*
 * The parts of Linux's struct boot_params ("zero page") and struct
 * setup_header that cellvm writes or reads, at the offsets of
 * Documentation/arch/x86/zero-page.rst and boot.rst ("The Real-Mode Kernel
 * Header"). Little-endian, packed; fields we do not use are padding.
 */
#ifndef CELLVM_BOOTPARAMS_H
#define CELLVM_BOOTPARAMS_H

#include <stddef.h>
#include <stdint.h>

#define SETUP_HDR_OFFSET 0x1f1
#define SETUP_BOOT_FLAG 0xaa55
#define SETUP_HDRS 0x53726448	 /* "HdrS" */
#define SETUP_MIN_VERSION 0x020c /* 2.12: xloadflags, 64-bit entry */
#define SETUP_LOADER_TYPE 0xff	 /* boot.rst: no assigned id */
#define SETUP_VID_NORMAL 0xffff

/* loadflags and xloadflags bits (boot.rst). */
#define LOADED_HIGH (1 << 0)
#define XLF_KERNEL_64 (1 << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1 << 1)

#define E820_MAX_ENTRIES_ZEROPAGE 128

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_params {
	uint8_t pad0[0x070];
	uint64_t acpi_rsdp_addr;
	uint8_t pad1[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image;
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad2[0x1e8 - 0x0cc];
	uint8_t e820_entries;
	uint8_t pad3[0x1ef - 0x1e9];
	uint8_t sentinel;
	uint8_t pad4;
	struct setup_header hdr;
	uint8_t pad5[0x2d0 - 0x1f1 - sizeof(struct setup_header)];
	struct boot_e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE];
	uint8_t pad6[0x1000 - 0xcd0];
} __attribute__((packed));

/* The end of the setup header area the kernel can declare (0x202 + 0xff). */
#define SETUP_HDR_AREA_END 0x290

#define BP_ASSERT(field, off)                                        \
	_Static_assert(offsetof(struct boot_params, field) == (off), \
		       #field " at " #off)

BP_ASSERT(acpi_rsdp_addr, 0x070);
BP_ASSERT(ext_ramdisk_image, 0x0c0);
BP_ASSERT(ext_ramdisk_size, 0x0c4);
BP_ASSERT(ext_cmd_line_ptr, 0x0c8);
BP_ASSERT(e820_entries, 0x1e8);
BP_ASSERT(sentinel, 0x1ef);
BP_ASSERT(hdr, 0x1f1);
BP_ASSERT(hdr.boot_flag, 0x1fe);
BP_ASSERT(hdr.header, 0x202);
BP_ASSERT(hdr.version, 0x206);
BP_ASSERT(hdr.type_of_loader, 0x210);
BP_ASSERT(hdr.loadflags, 0x211);
BP_ASSERT(hdr.code32_start, 0x214);
BP_ASSERT(hdr.ramdisk_image, 0x218);
BP_ASSERT(hdr.ramdisk_size, 0x21c);
BP_ASSERT(hdr.cmd_line_ptr, 0x228);
BP_ASSERT(hdr.initrd_addr_max, 0x22c);
BP_ASSERT(hdr.kernel_alignment, 0x230);
BP_ASSERT(hdr.relocatable_kernel, 0x234);
BP_ASSERT(hdr.min_alignment, 0x235);
BP_ASSERT(hdr.xloadflags, 0x236);
BP_ASSERT(hdr.cmdline_size, 0x238);
BP_ASSERT(hdr.setup_data, 0x250);
BP_ASSERT(hdr.pref_address, 0x258);
BP_ASSERT(hdr.init_size, 0x260);
BP_ASSERT(hdr.kernel_info_offset, 0x268);
BP_ASSERT(e820_table, 0x2d0);
_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup_header");
_Static_assert(sizeof(struct boot_e820_entry) == 20, "boot_e820_entry");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params");

#endif
