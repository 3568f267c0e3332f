/*
 * AML encoding: see aml.h. Grammar references are to ACPI 6.3, 20.2
 * "AML Grammar Definition".
 */
#include <errno.h>
#include <string.h>

#include "aml.h"

#define AML_SEG_LEN 4
#define AML_PKGLEN_MAX 4   /* bytes */
#define AML_INTEGER_MAX 9  /* QWordPrefix + 8 bytes */
#define AML_PKG_ONE_MAX 63 /* a 1-byte PkgLength holds 6 bits */

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	*a = (struct aml){ .buf = buf, .cap = cap };
}

int aml_finish(const struct aml *a)
{
	if (a->err)
		return a->err;
	return a->depth ? -EINVAL : 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		aml_fail(a, -E2BIG);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* Little-endian, width bytes; returns width. */
static size_t aml_le(uint8_t *out, uint64_t v, unsigned width)
{
	unsigned i;

	for (i = 0; i < width; i++)
		out[i] = (uint8_t)(v >> (8 * i));
	return width;
}

/* Little-endian constant of width bytes after its prefix. */
static size_t aml_const(uint8_t *out, uint8_t prefix, uint64_t v,
			unsigned width)
{
	out[0] = prefix;
	return 1 + aml_le(out + 1, v, width);
}

/* 20.2.3 "Data Objects Encoding": ComputationalData, shortest form. */
static size_t aml_encode_integer(uint8_t *out, uint64_t v)
{
	if (v == 0 || v == 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= UINT8_MAX)
		return aml_const(out, AML_BYTE_PREFIX, v, 1);
	if (v <= UINT16_MAX)
		return aml_const(out, AML_WORD_PREFIX, v, 2);
	if (v <= UINT32_MAX)
		return aml_const(out, AML_DWORD_PREFIX, v, 4);
	return aml_const(out, AML_QWORD_PREFIX, v, 8);
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[AML_INTEGER_MAX];

	aml_bytes(a, b, aml_encode_integer(b, v));
}

/* String := StringPrefix AsciiCharList NullChar; ASCII 0x01-0x7f. */
void aml_string(struct aml *a, const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, n + 1);
}

static int aml_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * ASL EISAID(): the three letters, 5 bits each ('A' = 1), make a
 * big-endian 16-bit vendor code, followed by the product number's bytes.
 */
static int aml_eisaid_value(const char *id, uint32_t *v)
{
	uint32_t vendor = 0;
	int i, d[4];

	if (strlen(id) != 7)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		vendor = vendor << 5 | (uint32_t)(id[i] - '@');
	}
	for (i = 0; i < 4; i++) {
		d[i] = aml_hex(id[3 + i]);
		if (d[i] < 0)
			return -EINVAL;
	}
	*v = (vendor >> 8) | (vendor & 0xff) << 8 |
	     (uint32_t)(d[0] << 4 | d[1]) << 16 |
	     (uint32_t)(d[2] << 4 | d[3]) << 24;
	return 0;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;

	if (aml_eisaid_value(id, &v))
		aml_fail(a, -EINVAL);
	else
		aml_integer(a, v); /* shortest, as iasl: PNP0000 is a Word */
}

static int aml_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static int aml_name_char(char c)
{
	return aml_lead_char(c) || (c >= '0' && c <= '9');
}

/* NameSeg := LeadNameChar NameChar NameChar NameChar, '_'-padded. */
static int aml_nameseg(const char *s, size_t n, uint8_t seg[AML_SEG_LEN])
{
	size_t i;

	if (!n || n > AML_SEG_LEN || !aml_lead_char(s[0]))
		return -EINVAL;
	for (i = 0; i < AML_SEG_LEN; i++) {
		if (i < n && !aml_name_char(s[i]))
			return -EINVAL;
		seg[i] = i < n ? (uint8_t)s[i] : '_';
	}
	return 0;
}

/*
 * NameString := RootChar NamePath | PrefixPath NamePath; NamePath is one
 * NameSeg, DualNamePrefix and two, MultiNamePrefix, a count and more.
 */
static int aml_namepath(struct aml *a, const char *p)
{
	uint8_t seg[AML_SEG_LEN];
	unsigned count = 1;
	const char *end;

	for (end = p; *end; end++)
		count += *end == '.';
	if (!*p || count > UINT8_MAX)
		return -EINVAL; /* no NullName: nothing here needs one */
	if (count == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	if (count > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)count);
	}
	for (; count; count--) {
		end = strchrnul(p, '.');
		if (aml_nameseg(p, (size_t)(end - p), seg))
			return -EINVAL; /* also an empty or trailing segment */
		aml_bytes(a, seg, sizeof(seg));
		p = end + 1;
	}
	return 0;
}

void aml_namestring(struct aml *a, const char *path)
{
	const char *p = path;

	if (*p == AML_ROOT_CHAR)
		aml_byte(a, (uint8_t)*p++);
	else
		while (*p == AML_PARENT_PREFIX)
			aml_byte(a, (uint8_t)*p++);
	if (aml_namepath(a, p))
		aml_fail(a, -EINVAL);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, path);
}

/*
 * 20.2.4 "Package Length Encoding": the length counts its own bytes. Up
 * to 63 it is one byte; else bits 7-6 of the lead byte say how many bytes
 * follow, its bits 3-0 are the low nibble and each next byte 8 more bits.
 */
static size_t aml_pkglength(uint8_t *out, size_t body)
{
	size_t n, total, i;

	if (body + 1 <= AML_PKG_ONE_MAX) {
		out[0] = (uint8_t)(body + 1);
		return 1;
	}
	for (n = 2; n <= AML_PKGLEN_MAX; n++) {
		total = body + n;
		if (total < (size_t)1 << (4 + 8 * (n - 1)))
			break;
	}
	if (n > AML_PKGLEN_MAX)
		return 0;
	out[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return n;
}

static void aml_open(struct aml *a, uint8_t kind)
{
	if (a->err)
		return;
	if (a->depth == AML_DEPTH) {
		aml_fail(a, -EINVAL);
		return;
	}
	a->open_kind[a->depth] = kind;
	a->open[a->depth++] = a->len;
}

void aml_scope(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a, AML_SCOPE_OP);
	aml_namestring(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a, AML_DEVICE_OP);
	aml_namestring(a, path);
}

void aml_package(struct aml *a, uint8_t elements)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a, AML_PACKAGE_OP);
	aml_byte(a, elements);
}

void aml_buffer(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a, AML_BUFFER_OP);
}

/*
 * Insert PkgLength (and, for a buffer, the BufferSize TermArg: DefBuffer
 * := BufferOp PkgLength BufferSize ByteList) before the open body.
 */
static int aml_close_body(struct aml *a)
{
	uint8_t pre[AML_PKGLEN_MAX + AML_INTEGER_MAX], size[AML_INTEGER_MAX];
	size_t start, body, n, sn = 0;

	if (!a->depth)
		return -EINVAL;
	start = a->open[--a->depth];
	body = a->len - start;
	if (a->open_kind[a->depth] == AML_BUFFER_OP)
		sn = aml_encode_integer(size, body);
	n = aml_pkglength(pre, body + sn);
	if (!n)
		return -E2BIG;
	memcpy(pre + n, size, sn);
	n += sn;
	if (n > a->cap - a->len)
		return -E2BIG;
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, pre, n);
	a->len += n;
	return 0;
}

void aml_close(struct aml *a)
{
	int rc;

	if (a->err)
		return;
	rc = aml_close_body(a);
	if (rc)
		aml_fail(a, rc);
}

/* 6.4.2.5 "I/O Port Descriptor": fixed base, 16-bit decode. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	uint8_t d[8] = {
		AML_RES_IO,
		AML_RES_IO_DECODE16,
		(uint8_t)base,
		(uint8_t)(base >> 8),
		(uint8_t)base,
		(uint8_t)(base >> 8),
		1, /* alignment */
		len,
	};

	aml_bytes(a, d, sizeof(d));
}

/* 6.4.2.1 "IRQ Descriptor", the 2-byte form: a 16-bit IRQ mask. */
void aml_res_irq(struct aml *a, unsigned irq)
{
	uint16_t mask;

	if (irq > 15) {
		aml_fail(a, -EINVAL);
		return;
	}
	mask = (uint16_t)(1u << irq);
	aml_byte(a, AML_RES_IRQ_NOFLAGS);
	aml_byte(a, (uint8_t)mask);
	aml_byte(a, (uint8_t)(mask >> 8));
}

/* 6.4.2.9 "End Tag": a zero checksum means "treat as valid". */
void aml_res_end(struct aml *a)
{
	aml_byte(a, AML_RES_END_TAG);
	aml_byte(a, 0);
}

/*
 * 6.4.3.5.2 "DWord Address Space Descriptor", 6.4.3.5.3 "Word Address
 * Space Descriptor": after the tag and length, the resource type, the
 * general and the type-specific flags, then _GRA, _MIN, _MAX, _TRA and
 * _LEN, each width bytes. With _MIF and _MAF set and a non-zero _LEN,
 * 6.4.3.5's valid combinations want _GRA 0 and _LEN = _MAX - _MIN + 1.
 */
static void aml_res_space(struct aml *a, uint8_t tag, unsigned width,
			  uint8_t space, uint8_t flags, uint64_t min,
			  uint64_t max)
{
	const uint64_t limit = width == 2 ? UINT16_MAX : UINT32_MAX;
	uint8_t d[6 + 5 * 4];
	size_t n = 0;

	if (min > max || max - min >= limit) {
		aml_fail(a, -EINVAL);
		return;
	}
	d[n++] = tag;
	n += aml_le(d + n, 3 + 5 * width, 2);
	d[n++] = space;
	d[n++] = AML_SPACE_MIN_FIXED | AML_SPACE_MAX_FIXED;
	d[n++] = flags;
	n += aml_le(d + n, 0, width);
	n += aml_le(d + n, min, width);
	n += aml_le(d + n, max, width);
	n += aml_le(d + n, 0, width);
	n += aml_le(d + n, max - min + 1, width);
	aml_bytes(a, d, n);
}

void aml_res_bus_window(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_space(a, AML_RES_WORD_SPACE, 2, AML_SPACE_BUS, 0, min, max);
}

void aml_res_io_window(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_space(a, AML_RES_WORD_SPACE, 2, AML_SPACE_IO,
		      AML_IO_ENTIRE_RANGE, min, max);
}

void aml_res_mem_window(struct aml *a, uint32_t min, uint32_t max)
{
	aml_res_space(a, AML_RES_DWORD_SPACE, 4, AML_SPACE_MEM,
		      AML_MEM_READ_WRITE, min, max);
}

/* 6.4.3.4 "32-Bit Fixed Memory Range Descriptor". */
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	uint8_t d[12];
	size_t n = 0;

	d[n++] = AML_RES_MEM32_FIXED;
	n += aml_le(d + n, sizeof(d) - 3, 2);
	d[n++] = AML_MEM_READ_WRITE;
	n += aml_le(d + n, base, 4);
	n += aml_le(d + n, len, 4);
	aml_bytes(a, d, n);
}
