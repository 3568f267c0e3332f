/*
 * A small AML encoder (ACPI 6.3, 20 "ACPI Machine Language Specification")
 * for the DSDT: name strings, integers, strings, EISA IDs, Name, Scope,
 * Device, Package and Buffer objects with their PkgLength, the three
 * small resource descriptors a legacy device's _CRS needs and the large
 * ones of a PCI host bridge's windows and a motherboard resource. Pure: it
 * writes into a caller's buffer and never allocates.
 *
 * Objects that hold other objects are opened by aml_scope(), aml_device(),
 * aml_package() or aml_buffer() and closed by aml_close(), which inserts
 * the PkgLength (and a buffer's BufferSize) in front of what was written
 * since. The first error sticks and turns every later call into a no-op;
 * aml_finish() reports it:
 *
 *	aml_scope(&a, "\\_SB_");
 *	aml_device(&a, "COM1");
 *	aml_name(&a, "_HID");
 *	aml_eisaid(&a, "PNP0501");
 *	aml_close(&a);
 *	aml_close(&a);
 *	rc = aml_finish(&a);
 */
#ifndef CELLVM_AML_H
#define CELLVM_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_DEPTH 8 /* objects open at once */

/* Opcodes (ACPI 6.3, 20.2.5 "Term Objects Encoding"). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_PREFIX '^'
#define AML_ONES_OP 0xff

/* Small resource descriptors (ACPI 6.3, 6.4.2). */
#define AML_RES_IRQ_NOFLAGS 0x22 /* IRQ, 2 bytes: edge, active high */
#define AML_RES_IO 0x47		 /* I/O port, 7 bytes */
#define AML_RES_IO_DECODE16 0x01
#define AML_RES_END_TAG 0x79 /* end tag, 1 byte: checksum (0: none) */

/* Large resource descriptors (ACPI 6.3, 6.4.3): tag, 16-bit length. */
#define AML_RES_MEM32_FIXED 0x86 /* 32-bit fixed memory range */
#define AML_RES_DWORD_SPACE 0x87 /* DWord address space */
#define AML_RES_WORD_SPACE 0x88	 /* Word address space */
#define AML_SPACE_MEM 0		 /* address space resource types */
#define AML_SPACE_IO 1
#define AML_SPACE_BUS 2
#define AML_SPACE_MIN_FIXED (1u << 2) /* general flags; bit 0 clear: */
#define AML_SPACE_MAX_FIXED (1u << 3) /* ResourceProducer */
#define AML_MEM_READ_WRITE (1u << 0)  /* _RW; _MEM 0: NonCacheable */
#define AML_IO_ENTIRE_RANGE 3	      /* _RNG: ISA and non-ISA ports */

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err; /* 0, -E2BIG (buffer full) or -EINVAL (bad name, nesting) */
	int depth;
	size_t open[AML_DEPTH];	      /* where each open object's body starts */
	uint8_t open_kind[AML_DEPTH]; /* its opcode */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);

/* 0 if everything fit and every object was closed, else the error. */
int aml_finish(const struct aml *a);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/*
 * A NameString: an optional root '\' or parent '^' prefixes, then
 * dot-separated segments of up to 4 characters ("\\_SB.COM1", "_S5"),
 * each padded with '_' to 4.
 */
void aml_namestring(struct aml *a, const char *path);

/* The shortest integer: ZeroOp, OneOp, Byte, Word, DWord or QWord const. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);

/* EisaId("PNP0501"): three letters and four hex digits, as an integer. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(path, ...): the data object is the next thing written. */
void aml_name(struct aml *a, const char *path);

void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *path);
void aml_package(struct aml *a, uint8_t elements);
void aml_buffer(struct aml *a);
void aml_close(struct aml *a);

/* IO(Decode16, base, base, 1, len), IRQNoFlags() {irq}, EndTag. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, unsigned irq);
void aml_res_end(struct aml *a);

/*
 * A bridge's windows, each ResourceProducer, MinFixed, MaxFixed,
 * PosDecode, granularity 0, no translation, length max - min + 1:
 *	WordBusNumber (...)
 *	WordIO (..., EntireRange, ...)
 *	DWordMemory (..., NonCacheable, ReadWrite, ...)
 * min > max, or a length the fields cannot hold (WordIO 0-0xffff), is
 * -EINVAL. Memory32Fixed (ReadWrite, base, len) is a range
 * that a device uses, such as a motherboard resource's.
 */
void aml_res_bus_window(struct aml *a, uint16_t min, uint16_t max);
void aml_res_io_window(struct aml *a, uint16_t min, uint16_t max);
void aml_res_mem_window(struct aml *a, uint32_t min, uint32_t max);
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len);

#endif
