/*
 * Split virtqueues, the device side, against a driver that lies: a round
 * trip, the 16-bit indexes wrapping, loops, indexes and buffers out of
 * bounds, every malformed indirect table, chain totals, virtq_check(),
 * and when the used ring becomes visible. Guest RAM is an anonymous
 * mapping; the tests play the driver by writing the rings into it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "guestmem.h"
#include "platform.h"
#include "virtq.h"

#define MIB (1ull << 20)
#define HIGH_START 0x100000000ull /* where RAM above the hole resumes */

#define RAM_SIZE MIB
#define QSIZE 8
#define DESC_GPA 0x1000ull
#define AVAIL_GPA 0x2000ull
#define USED_GPA 0x3000ull
#define TABLE_GPA 0x4000ull /* indirect tables, up to 0x8000 */
#define BUF_GPA 0x10000ull

#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_INDIRECT VIRTQ_DESC_F_INDIRECT

/* Guest RAM with one queue of QSIZE entries in it. */
struct vm {
	uint8_t *ram;
	struct guestmem m;
	struct virtq q;
	struct virtq_chain c;
	const char *why;
};

static void vm_open(struct vm *v, uint64_t size)
{
	memset(v, 0, sizeof(*v));
	/* Untouched pages cost nothing: RAM may be larger than the host's. */
	v->ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(v->ram != MAP_FAILED);
	assert_int_equal(guestmem_init(&v->m, v->ram, size), 0);
	v->q = (struct virtq){ .desc = DESC_GPA,
			       .avail = AVAIL_GPA,
			       .used = USED_GPA,
			       .size = QSIZE,
			       .ready = 1,
			       .msix_vector = 0xffff };
	assert_int_equal(virtq_check(&v->m, &v->q, QSIZE, &v->why), 0);
}

static void vm_close(struct vm *v)
{
	assert_int_equal(munmap(v->ram, v->m.size), 0);
}

static uint8_t *host(const struct vm *v, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guestmem_ptr(&v->m, gpa, len);

	assert_non_null(p);
	return p;
}

static void put16(struct vm *v, uint64_t gpa, uint16_t x)
{
	memcpy(host(v, gpa, 2), &x, 2);
}

/* A little-endian field of len (2 or 4) bytes, as the host is. */
static uint32_t get(const struct vm *v, uint64_t gpa, unsigned len)
{
	uint32_t x = 0;

	memcpy(&x, host(v, gpa, len), len);
	return x;
}

/* Descriptor i of the table at gpa table (2.7.5), as a driver writes it. */
static void desc_put(struct vm *v, uint64_t table, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = host(v, table + 16ull * i, 16);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void avail_idx_set(struct vm *v, uint16_t idx)
{
	put16(v, AVAIL_GPA + 2, idx);
}

/* Make the chain at head available: ring entry, then idx (2.7.13). */
static void avail_put(struct vm *v, uint16_t head)
{
	uint16_t idx = get(v, AVAIL_GPA + 2, 2);

	put16(v, AVAIL_GPA + 4 + 2 * (idx % QSIZE), head);
	avail_idx_set(v, idx + 1);
}

static uint16_t used_idx(const struct vm *v)
{
	return get(v, USED_GPA + 2, 2);
}

static uint32_t used_id(const struct vm *v, unsigned slot)
{
	return get(v, USED_GPA + 4 + 8 * slot, 4);
}

static uint32_t used_len(const struct vm *v, unsigned slot)
{
	return get(v, USED_GPA + 4 + 8 * slot + 4, 4);
}

static int pop(struct vm *v)
{
	return virtq_pop(&v->m, &v->q, &v->c, &v->why);
}

/*
 * Why virtq_pop() refused the next chain, or a word in parentheses for
 * what it did instead; a refusal must leave the queue as it was.
 */
static const char *refusal(struct vm *v)
{
	struct virtq before = v->q;
	int ret;

	v->why = NULL;
	ret = pop(v);
	if (ret == 1)
		return "(accepted)";
	if (ret == 0)
		return "(no chain)";
	if (ret != -EINVAL)
		return "(not -EINVAL)";
	if (memcmp(&before, &v->q, sizeof(before)))
		return "(queue changed)";
	return v->why ? v->why : "(no reason)";
}

/* A one-buffer chain at head 0, made available once. */
static void chain_of_one(struct vm *v, uint64_t addr, uint32_t len,
			 uint16_t flags)
{
	desc_put(v, DESC_GPA, 0, addr, len, flags, 0);
	avail_idx_set(v, 0);
	v->q.last_avail = 0;
	avail_put(v, 0);
}

static void test_nothing_is_popped_until_avail_idx_moves(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	assert_false(virtq_pending(&v.m, &v.q));
	assert_int_equal(pop(&v), 0);
	desc_put(&v, DESC_GPA, 3, BUF_GPA, 16, 0, 0);
	put16(&v, AVAIL_GPA + 4, 3);
	assert_int_equal(pop(&v), 0);
	avail_idx_set(&v, 1);
	assert_true(virtq_pending(&v.m, &v.q));
	assert_int_equal(pop(&v), 1);
	assert_int_equal(v.c.head, 3);
	assert_int_equal(v.q.last_avail, 1);
	assert_false(virtq_pending(&v.m, &v.q));
	assert_int_equal(pop(&v), 0);
	vm_close(&v);
}

static void test_a_request_round_trips_to_the_used_ring(void **state)
{
	struct vm v;
	struct iovec iov[8];
	uint8_t got[32], *hdr, *data, *reply, *status;
	uint64_t n;
	unsigned i;

	vm_open(&v, RAM_SIZE);
	/* Header, data, reply, status; chained out of table order. */
	desc_put(&v, DESC_GPA, 5, BUF_GPA, 16, F_NEXT, 2);
	desc_put(&v, DESC_GPA, 2, BUF_GPA + 0x100, 100, F_NEXT, 7);
	desc_put(&v, DESC_GPA, 7, BUF_GPA + 0x200, 64, F_WRITE | F_NEXT, 0);
	desc_put(&v, DESC_GPA, 0, BUF_GPA + 0x300, 1, F_WRITE, 0);
	hdr = host(&v, BUF_GPA, 16);
	data = host(&v, BUF_GPA + 0x100, 100);
	reply = host(&v, BUF_GPA + 0x200, 64);
	status = host(&v, BUF_GPA + 0x300, 1);
	for (i = 0; i < 16; i++)
		hdr[i] = i;
	for (i = 0; i < 100; i++)
		data[i] = 0x40 + i;
	avail_put(&v, 5);

	assert_int_equal(pop(&v), 1);
	assert_int_equal(v.c.head, 5);
	assert_int_equal(v.c.n, 4);
	assert_int_equal(v.c.nread, 2);
	assert_int_equal(v.c.read_len, 116);
	assert_int_equal(v.c.write_len, 65);
	assert_ptr_equal(v.c.buf[1].ptr, data);
	assert_true(v.c.buf[2].writable);

	/* Reads cross buffer boundaries and stop short at the end. */
	assert_int_equal(virtq_read(&v.c, 10, got, 20), 20);
	assert_int_equal(got[0], 10);
	assert_int_equal(got[5], 15);
	assert_int_equal(got[6], 0x40);
	assert_int_equal(got[19], 0x40 + 13);
	assert_int_equal(virtq_read(&v.c, 110, got, 20), 6);
	assert_int_equal(got[5], 0x40 + 99);
	assert_int_equal(virtq_read(&v.c, 116, got, 1), 0);

	assert_int_equal(virtq_iov(&v.c, false, 10, 20, iov, 8, &n), 2);
	assert_int_equal(n, 20);
	assert_ptr_equal(iov[0].iov_base, hdr + 10);
	assert_int_equal(iov[0].iov_len, 6);
	assert_ptr_equal(iov[1].iov_base, data);
	assert_int_equal(iov[1].iov_len, 14);
	assert_int_equal(virtq_iov(&v.c, false, 10, 20, iov, 1, &n), 1);
	assert_int_equal(n, 6);
	assert_int_equal(virtq_iov(&v.c, true, 0, 1000, iov, 8, &n), 2);
	assert_int_equal(n, 65);
	assert_ptr_equal(iov[1].iov_base, status);

	/* Writes go to the writable buffers only, offsets counted there. */
	assert_int_equal(virtq_write(&v.c, 60, "abcdefgh", 8), 5);
	assert_memory_equal(reply + 60, "abcd", 4);
	assert_int_equal(*status, 'e');
	assert_int_equal(hdr[0], 0);

	assert_int_equal(virtq_push(&v.m, &v.q, v.c.head, 65), 0);
	assert_int_equal(v.q.used_idx, 1);
	assert_int_equal(used_id(&v, 0), 5);
	assert_int_equal(used_len(&v, 0), 65);
	assert_int_equal(used_idx(&v), 0);
	virtq_publish(&v.m, &v.q);
	assert_int_equal(used_idx(&v), 1);
	vm_close(&v);
}

static void test_indexes_wrap_from_65535_to_0(void **state)
{
	struct vm v;
	uint16_t head;

	vm_open(&v, RAM_SIZE);
	v.q.last_avail = 65534;
	v.q.used_idx = 65534;
	avail_idx_set(&v, 65534);
	for (head = 1; head <= 3; head++) {
		desc_put(&v, DESC_GPA, head, BUF_GPA, head, 0, 0);
		avail_put(&v, head);
	}
	assert_int_equal(get(&v, AVAIL_GPA + 2, 2), 1);
	for (head = 1; head <= 3; head++) {
		assert_int_equal(pop(&v), 1);
		assert_int_equal(v.c.head, head);
		assert_int_equal(v.c.read_len, head);
		assert_int_equal(virtq_push(&v.m, &v.q, head, 10 * head), 0);
	}
	assert_int_equal(v.q.last_avail, 1);
	assert_int_equal(pop(&v), 0);
	assert_int_equal(v.q.used_idx, 1);
	virtq_publish(&v.m, &v.q);
	assert_int_equal(used_idx(&v), 1);
	/* 65534 and 65535 are slots 6 and 7; 0 wraps to slot 0. */
	assert_int_equal(used_id(&v, 6), 1);
	assert_int_equal(used_id(&v, 7), 2);
	assert_int_equal(used_id(&v, 0), 3);
	assert_int_equal(used_len(&v, 0), 30);
	vm_close(&v);
}

static void test_avail_idx_over_a_ring_ahead_is_refused(void **state)
{
	struct vm v;
	unsigned i;

	vm_open(&v, RAM_SIZE);
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 1, 0, 0);
	v.q.last_avail = 65530;
	avail_idx_set(&v, (uint16_t)(65530 + QSIZE + 1));
	assert_string_equal(refusal(&v), "available index too far ahead");
	/* A driver that moved idx back is 65535 ahead. */
	avail_idx_set(&v, 65529);
	assert_string_equal(refusal(&v), "available index too far ahead");
	/* A full ring is not too far. */
	avail_idx_set(&v, (uint16_t)(65530 + QSIZE));
	for (i = 0; i < QSIZE; i++)
		assert_int_equal(pop(&v), 1);
	assert_int_equal(pop(&v), 0);
	vm_close(&v);
}

static void test_descriptor_loops_are_refused(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	chain_of_one(&v, BUF_GPA, 4, F_NEXT);
	assert_string_equal(refusal(&v), "descriptor loop");
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, F_NEXT, 4);
	desc_put(&v, DESC_GPA, 4, BUF_GPA, 4, F_NEXT, 0);
	assert_string_equal(refusal(&v), "descriptor loop");
	/* A tail that falls into a cycle of two. */
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, F_NEXT, 1);
	desc_put(&v, DESC_GPA, 1, BUF_GPA, 4, F_NEXT, 2);
	desc_put(&v, DESC_GPA, 2, BUF_GPA, 4, F_NEXT, 1);
	assert_string_equal(refusal(&v), "descriptor loop");
	vm_close(&v);
}

static void test_a_chain_through_all_entries_is_no_loop(void **state)
{
	struct vm v;
	unsigned i;

	vm_open(&v, RAM_SIZE);
	for (i = 0; i < QSIZE; i++)
		desc_put(&v, DESC_GPA, i, BUF_GPA + i, 1,
			 i < QSIZE - 1 ? F_NEXT : 0, i + 1);
	avail_put(&v, 0);
	assert_int_equal(pop(&v), 1);
	assert_int_equal(v.c.n, QSIZE);
	vm_close(&v);
}

static void test_head_or_next_past_the_table_is_refused(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, 0, 0);
	avail_put(&v, QSIZE);
	assert_string_equal(refusal(&v), "head index outside the table");
	put16(&v, AVAIL_GPA + 4, 0xffff);
	assert_string_equal(refusal(&v), "head index outside the table");
	chain_of_one(&v, BUF_GPA, 4, F_NEXT);
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, F_NEXT, QSIZE);
	assert_string_equal(refusal(&v), "next index outside the table");
	/* Without NEXT, next means nothing. */
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, 0, 0xffff);
	assert_string_equal(refusal(&v), "(accepted)");
	vm_close(&v);
}

static void test_buffers_not_wholly_in_ram_are_refused(void **state)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ RAM_SIZE, 1 },
		{ RAM_SIZE - 1, 2 },
		{ RAM_SIZE, 0 },
		{ BUF_GPA, UINT32_MAX },
		{ UINT64_MAX, 1 },
		{ UINT64_MAX - 7, 16 }, /* addr + len wraps to 8 */
		{ PC_MEM_HOLE, 1 },
		{ HIGH_START, 1 },
	};
	struct vm v;
	unsigned i;

	vm_open(&v, RAM_SIZE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chain_of_one(&v, bad[i].addr, bad[i].len, i % 2 ? F_WRITE : 0);
		assert_string_equal(refusal(&v), "buffer outside RAM");
	}
	chain_of_one(&v, RAM_SIZE - 16, 16, F_WRITE);
	assert_string_equal(refusal(&v), "(accepted)");
	assert_ptr_equal(v.c.buf[0].ptr, v.ram + RAM_SIZE - 16);
	vm_close(&v);
}

static void test_zero_length_buffers_are_kept_and_skipped(void **state)
{
	struct vm v;
	struct iovec iov[4];
	uint8_t got[8];
	uint64_t n;

	vm_open(&v, RAM_SIZE);
	memcpy(host(&v, BUF_GPA, 4), "abcd", 4);
	memcpy(host(&v, BUF_GPA + 0x100, 4), "efgh", 4);
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, F_NEXT, 1);
	desc_put(&v, DESC_GPA, 1, BUF_GPA + 0x80, 0, F_NEXT, 2);
	desc_put(&v, DESC_GPA, 2, BUF_GPA + 0x100, 4, F_NEXT, 3);
	desc_put(&v, DESC_GPA, 3, BUF_GPA + 0x200, 0, F_WRITE, 0);
	avail_put(&v, 0);
	assert_int_equal(pop(&v), 1);
	assert_int_equal(v.c.n, 4);
	assert_int_equal(v.c.nread, 3);
	assert_int_equal(v.c.read_len, 8);
	assert_int_equal(v.c.write_len, 0);
	assert_int_equal(virtq_read(&v.c, 0, got, 8), 8);
	assert_memory_equal(got, "abcdefgh", 8);
	assert_int_equal(virtq_read(&v.c, 4, got, 1), 1);
	assert_int_equal(got[0], 'e');
	assert_int_equal(virtq_iov(&v.c, false, 0, 8, iov, 4, &n), 2);
	assert_int_equal(n, 8);
	assert_int_equal(virtq_iov(&v.c, true, 0, 8, iov, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(virtq_write(&v.c, 0, "x", 1), 0);
	vm_close(&v);
}

static void test_readable_after_writable_is_refused(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, F_WRITE | F_NEXT, 1);
	desc_put(&v, DESC_GPA, 1, BUF_GPA + 4, 4, 0, 0);
	avail_put(&v, 0);
	assert_string_equal(refusal(&v),
			    "readable buffer after a writable one");
	/* Writable buffers alone are a chain. */
	desc_put(&v, DESC_GPA, 1, BUF_GPA + 4, 4, F_WRITE, 0);
	assert_string_equal(refusal(&v), "(accepted)");
	assert_int_equal(v.c.nread, 0);
	assert_int_equal(v.c.write_len, 8);
	vm_close(&v);
}

/* RAM of 3 GiB + 1 MiB: the low bank up to the hole, 1 MiB above 4 GiB. */
#define BIG_RAM (PC_MEM_HOLE + MIB)

static void test_chains_over_4gib_minus_1_are_refused(void **state)
{
	struct vm v;

	vm_open(&v, BIG_RAM);
	desc_put(&v, DESC_GPA, 0, 0, 0x80000000u, F_NEXT, 1);
	desc_put(&v, DESC_GPA, 1, 0, 0x7fffffffu, 0, 0);
	avail_put(&v, 0);
	assert_string_equal(refusal(&v), "(accepted)");
	assert_int_equal(v.c.read_len, UINT32_MAX);
	/* Readable and writable bytes count together (2.7.5.2). */
	v.q.last_avail = 0;
	desc_put(&v, DESC_GPA, 0, 0, 0xc0000000u, F_NEXT, 1);
	desc_put(&v, DESC_GPA, 1, 0, 0x40000000u, F_WRITE, 0);
	assert_string_equal(refusal(&v), "buffers above 4 GiB - 1 in total");
	desc_put(&v, DESC_GPA, 1, 0, 0x3fffffffu, F_WRITE, 0);
	assert_string_equal(refusal(&v), "(accepted)");
	assert_int_equal(v.c.write_len, 0x3fffffffu);
	/* Two buffers whose sum wraps 32 bits. */
	v.q.last_avail = 0;
	desc_put(&v, DESC_GPA, 0, 0, 0xa0000000u, F_NEXT, 1);
	desc_put(&v, DESC_GPA, 1, 0, 0xa0000000u, 0, 0);
	assert_string_equal(refusal(&v), "buffers above 4 GiB - 1 in total");
	vm_close(&v);
}

static void test_high_ram_buffers_are_at_their_offset(void **state)
{
	struct vm v;

	vm_open(&v, BIG_RAM);
	chain_of_one(&v, HIGH_START + 0x1000, MIB - 0x1000, F_WRITE);
	assert_string_equal(refusal(&v), "(accepted)");
	assert_ptr_equal(v.c.buf[0].ptr, v.ram + PC_MEM_HOLE + 0x1000);
	chain_of_one(&v, PC_MEM_HOLE - 8, 16, 0);
	assert_string_equal(refusal(&v), "buffer outside RAM");
	chain_of_one(&v, HIGH_START + MIB - 8, 16, 0);
	assert_string_equal(refusal(&v), "buffer outside RAM");
	vm_close(&v);
}

static void test_an_indirect_table_gives_its_buffers(void **state)
{
	struct vm v;
	uint8_t got[8];

	vm_open(&v, RAM_SIZE);
	/* WRITE on the descriptor of a table means nothing (2.7.5.3.2). */
	desc_put(&v, DESC_GPA, 2, TABLE_GPA, 4 * 16, F_INDIRECT | F_WRITE, 0);
	desc_put(&v, TABLE_GPA, 0, BUF_GPA, 4, F_NEXT, 3);
	desc_put(&v, TABLE_GPA, 3, BUF_GPA + 0x100, 4, F_NEXT, 1);
	desc_put(&v, TABLE_GPA, 1, BUF_GPA + 0x200, 32, F_WRITE, 0);
	desc_put(&v, TABLE_GPA, 2, UINT64_MAX, 16, F_INDIRECT, 0); /* unused */
	memcpy(host(&v, BUF_GPA, 4), "head", 4);
	memcpy(host(&v, BUF_GPA + 0x100, 4), "tail", 4);
	avail_put(&v, 2);
	assert_int_equal(pop(&v), 1);
	assert_int_equal(v.c.head, 2);
	assert_int_equal(v.c.n, 3);
	assert_int_equal(v.c.nread, 2);
	assert_int_equal(v.c.write_len, 32);
	assert_ptr_equal(v.c.buf[2].ptr, v.ram + BUF_GPA + 0x200);
	assert_int_equal(virtq_read(&v.c, 0, got, 8), 8);
	assert_memory_equal(got, "headtail", 8);
	vm_close(&v);
}

static void test_direct_buffers_may_precede_a_table(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, F_NEXT, 6);
	desc_put(&v, DESC_GPA, 6, TABLE_GPA, 2 * 16, F_INDIRECT, 0);
	desc_put(&v, TABLE_GPA, 0, BUF_GPA + 4, 4, F_NEXT, 1);
	desc_put(&v, TABLE_GPA, 1, BUF_GPA + 8, 4, F_WRITE, 0);
	avail_put(&v, 0);
	assert_int_equal(pop(&v), 1);
	assert_int_equal(v.c.n, 3);
	assert_int_equal(v.c.nread, 2);
	assert_int_equal(v.c.read_len, 8);
	assert_int_equal(v.c.write_len, 4);
	/* Writable, then a table that starts readable. */
	v.q.last_avail = 0;
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 4, F_WRITE | F_NEXT, 6);
	assert_string_equal(refusal(&v),
			    "readable buffer after a writable one");
	vm_close(&v);
}

/* Head 0 is an indirect descriptor with these fields; entries zeroed. */
static void indirect_head(struct vm *v, uint64_t addr, uint32_t len,
			  uint16_t flags)
{
	memset(host(v, TABLE_GPA, 0x4000), 0, 0x4000);
	chain_of_one(v, addr, len, F_INDIRECT | flags);
}

static void test_bad_indirect_descriptors_are_refused(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	indirect_head(&v, TABLE_GPA, 16, F_NEXT);
	assert_string_equal(refusal(&v), "indirect descriptor with NEXT");
	indirect_head(&v, TABLE_GPA, 0, 0);
	assert_string_equal(refusal(&v), "empty indirect table");
	indirect_head(&v, TABLE_GPA, 8, 0);
	assert_string_equal(refusal(&v),
			    "indirect table not a multiple of 16 bytes");
	indirect_head(&v, TABLE_GPA, 24, 0);
	assert_string_equal(refusal(&v),
			    "indirect table not a multiple of 16 bytes");
	indirect_head(&v, TABLE_GPA, (VIRTQ_MAX_BUFS + 1) * 16, 0);
	assert_string_equal(refusal(&v),
			    "indirect table longer than VIRTQ_MAX_BUFS");
	indirect_head(&v, TABLE_GPA, UINT32_MAX & ~15u, 0);
	assert_string_equal(refusal(&v),
			    "indirect table longer than VIRTQ_MAX_BUFS");
	indirect_head(&v, RAM_SIZE - 16, 32, 0);
	assert_string_equal(refusal(&v), "indirect table outside RAM");
	indirect_head(&v, UINT64_MAX - 15, 32, 0);
	assert_string_equal(refusal(&v), "indirect table outside RAM");
	vm_close(&v);
}

static void test_malformed_indirect_tables_are_refused(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	indirect_head(&v, TABLE_GPA, 2 * 16, 0);
	desc_put(&v, TABLE_GPA, 0, TABLE_GPA, 16, F_INDIRECT, 0);
	assert_string_equal(refusal(&v),
			    "indirect descriptor in an indirect table");
	/* next is bounded by the table, not by the queue (8 entries). */
	desc_put(&v, TABLE_GPA, 0, BUF_GPA, 4, F_NEXT, 2);
	assert_string_equal(refusal(&v), "next index outside the table");
	desc_put(&v, TABLE_GPA, 0, BUF_GPA, 4, F_NEXT, 0);
	assert_string_equal(refusal(&v), "descriptor loop");
	desc_put(&v, TABLE_GPA, 0, BUF_GPA, 4, F_NEXT, 1);
	desc_put(&v, TABLE_GPA, 1, BUF_GPA, 4, F_NEXT, 0);
	assert_string_equal(refusal(&v), "descriptor loop");
	desc_put(&v, TABLE_GPA, 0, BUF_GPA, 4, F_WRITE | F_NEXT, 1);
	desc_put(&v, TABLE_GPA, 1, BUF_GPA, 4, 0, 0);
	assert_string_equal(refusal(&v),
			    "readable buffer after a writable one");
	desc_put(&v, TABLE_GPA, 1, RAM_SIZE - 2, 4, F_WRITE, 0);
	assert_string_equal(refusal(&v), "buffer outside RAM");
	desc_put(&v, TABLE_GPA, 1, RAM_SIZE - 4, 4, F_WRITE, 0);
	assert_string_equal(refusal(&v), "(accepted)");
	vm_close(&v);
}

static void test_chains_hold_at_most_virtq_max_bufs(void **state)
{
	struct vm v;
	unsigned i;

	vm_open(&v, RAM_SIZE);
	indirect_head(&v, TABLE_GPA, VIRTQ_MAX_BUFS * 16, 0);
	for (i = 0; i < VIRTQ_MAX_BUFS; i++)
		desc_put(&v, TABLE_GPA, i, BUF_GPA + i, 1,
			 i < VIRTQ_MAX_BUFS - 1 ? F_NEXT : 0, i + 1);
	assert_string_equal(refusal(&v), "(accepted)");
	assert_int_equal(v.c.n, VIRTQ_MAX_BUFS);
	assert_int_equal(v.c.read_len, VIRTQ_MAX_BUFS);
	/* One direct buffer before the same table is one too many. */
	v.q.last_avail = 0;
	desc_put(&v, DESC_GPA, 0, BUF_GPA, 1, F_NEXT, 1);
	desc_put(&v, DESC_GPA, 1, TABLE_GPA, VIRTQ_MAX_BUFS * 16, F_INDIRECT,
		 0);
	assert_string_equal(refusal(&v), "more than VIRTQ_MAX_BUFS buffers");
	vm_close(&v);
}

/* virtq_check() of v's queue with one field changed: its reason. */
static const char *check(struct vm *v, struct virtq q, unsigned max)
{
	const char *why = NULL;

	if (virtq_check(&v->m, &q, max, &why) == 0)
		return "(accepted)";
	return why ? why : "(no reason)";
}

static void test_check_refuses_bad_sizes(void **state)
{
	struct vm v;
	struct virtq q;

	vm_open(&v, RAM_SIZE);
	q = v.q;
	q.size = 0;
	assert_string_equal(check(&v, q, 16), "queue size not a power of 2");
	q.size = 3;
	assert_string_equal(check(&v, q, 16), "queue size not a power of 2");
	q.size = 12;
	assert_string_equal(check(&v, q, 16), "queue size not a power of 2");
	q.size = 16;
	assert_string_equal(check(&v, q, 8), "queue size above the maximum");
	q.size = 1;
	assert_string_equal(check(&v, q, 8), "(accepted)");
	/* A maximum above VIRTQ_MAX_SIZE does not lift it. */
	q.size = 2 * VIRTQ_MAX_SIZE;
	q.desc = 0x10000;
	assert_string_equal(check(&v, q, 65535),
			    "queue size above VIRTQ_MAX_SIZE");
	q.size = VIRTQ_MAX_SIZE;
	assert_string_equal(check(&v, q, 65535), "(accepted)");
	vm_close(&v);
}

static void test_check_refuses_misaligned_rings(void **state)
{
	struct vm v;
	struct virtq q;

	vm_open(&v, RAM_SIZE);
	q = v.q;
	q.desc = DESC_GPA + 8;
	assert_string_equal(check(&v, q, QSIZE), "misaligned ring");
	q = v.q;
	q.avail = AVAIL_GPA + 1;
	assert_string_equal(check(&v, q, QSIZE), "misaligned ring");
	q = v.q;
	q.used = USED_GPA + 2;
	assert_string_equal(check(&v, q, QSIZE), "misaligned ring");
	/* The least alignment 2.7 asks for is enough. */
	q = v.q;
	q.desc = DESC_GPA + 16;
	q.avail = AVAIL_GPA + 2;
	q.used = USED_GPA + 4;
	assert_string_equal(check(&v, q, QSIZE), "(accepted)");
	vm_close(&v);
}

static void test_check_refuses_rings_outside_ram(void **state)
{
	/* Ring sizes for QSIZE entries (2.7). */
	const uint64_t desc_len = 16 * QSIZE, avail_len = 6 + 2 * QSIZE,
		       used_len = 6 + 8 * QSIZE;
	struct vm v;
	struct virtq q;

	vm_open(&v, RAM_SIZE);
	q = v.q;
	q.desc = RAM_SIZE - desc_len;
	assert_string_equal(check(&v, q, QSIZE), "(accepted)");
	q.desc += 16;
	assert_string_equal(check(&v, q, QSIZE), "ring outside RAM");
	q = v.q;
	q.avail = RAM_SIZE - avail_len;
	assert_string_equal(check(&v, q, QSIZE), "(accepted)");
	q.avail += 2;
	assert_string_equal(check(&v, q, QSIZE), "ring outside RAM");
	q = v.q;
	q.used = (RAM_SIZE - used_len) & ~3ull;
	assert_string_equal(check(&v, q, QSIZE), "(accepted)");
	q.used += 4;
	assert_string_equal(check(&v, q, QSIZE), "ring outside RAM");
	q = v.q;
	q.desc = UINT64_MAX - 15;
	assert_string_equal(check(&v, q, QSIZE), "ring outside RAM");
	q = v.q;
	q.used = PC_MEM_HOLE;
	assert_string_equal(check(&v, q, QSIZE), "ring outside RAM");
	vm_close(&v);
}

static void test_an_unchecked_bad_queue_is_never_used(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	chain_of_one(&v, BUF_GPA, 4, 0);
	v.q.size = 2 * VIRTQ_MAX_SIZE;
	assert_false(virtq_pending(&v.m, &v.q));
	assert_string_equal(refusal(&v), "queue size above VIRTQ_MAX_SIZE");
	assert_int_equal(virtq_push(&v.m, &v.q, 0, 0), -EINVAL);
	v.q = (struct virtq){ .desc = DESC_GPA,
			      .avail = AVAIL_GPA,
			      .used = RAM_SIZE,
			      .size = QSIZE };
	v.q.used_idx = 1;
	assert_string_equal(refusal(&v), "ring outside RAM");
	assert_int_equal(virtq_push(&v.m, &v.q, 0, 0), -EINVAL);
	virtq_publish(&v.m, &v.q);
	assert_false(virtq_no_interrupt(&v.m, &v.q));
	assert_int_equal(v.q.used_idx, 1);
	vm_close(&v);
}

static void test_pushes_are_seen_only_once_published(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	assert_int_equal(virtq_push(&v.m, &v.q, QSIZE, 0), -EINVAL);
	assert_int_equal(v.q.used_idx, 0);
	assert_int_equal(virtq_push(&v.m, &v.q, 4, 100), 0);
	assert_int_equal(virtq_push(&v.m, &v.q, 7, UINT32_MAX), 0);
	assert_int_equal(used_idx(&v), 0);
	virtq_publish(&v.m, &v.q);
	assert_int_equal(used_idx(&v), 2);
	assert_int_equal(used_id(&v, 0), 4);
	assert_int_equal(used_len(&v, 0), 100);
	assert_int_equal(used_id(&v, 1), 7);
	assert_int_equal(used_len(&v, 1), UINT32_MAX);
	/* used->flags is the device's to set, and it set none. */
	assert_int_equal(get(&v, USED_GPA, 2), 0);
	vm_close(&v);
}

static void test_no_interrupt_follows_the_avail_flag(void **state)
{
	struct vm v;

	vm_open(&v, RAM_SIZE);
	assert_false(virtq_no_interrupt(&v.m, &v.q));
	put16(&v, AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_true(virtq_no_interrupt(&v.m, &v.q));
	put16(&v, AVAIL_GPA, 0);
	assert_false(virtq_no_interrupt(&v.m, &v.q));
	vm_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_is_popped_until_avail_idx_moves),
		cmocka_unit_test(test_a_request_round_trips_to_the_used_ring),
		cmocka_unit_test(test_indexes_wrap_from_65535_to_0),
		cmocka_unit_test(test_avail_idx_over_a_ring_ahead_is_refused),
		cmocka_unit_test(test_descriptor_loops_are_refused),
		cmocka_unit_test(test_a_chain_through_all_entries_is_no_loop),
		cmocka_unit_test(test_head_or_next_past_the_table_is_refused),
		cmocka_unit_test(test_buffers_not_wholly_in_ram_are_refused),
		cmocka_unit_test(test_zero_length_buffers_are_kept_and_skipped),
		cmocka_unit_test(test_readable_after_writable_is_refused),
		cmocka_unit_test(test_chains_over_4gib_minus_1_are_refused),
		cmocka_unit_test(test_high_ram_buffers_are_at_their_offset),
		cmocka_unit_test(test_an_indirect_table_gives_its_buffers),
		cmocka_unit_test(test_direct_buffers_may_precede_a_table),
		cmocka_unit_test(test_bad_indirect_descriptors_are_refused),
		cmocka_unit_test(test_malformed_indirect_tables_are_refused),
		cmocka_unit_test(test_chains_hold_at_most_virtq_max_bufs),
		cmocka_unit_test(test_check_refuses_bad_sizes),
		cmocka_unit_test(test_check_refuses_misaligned_rings),
		cmocka_unit_test(test_check_refuses_rings_outside_ram),
		cmocka_unit_test(test_an_unchecked_bad_queue_is_never_used),
		cmocka_unit_test(test_pushes_are_seen_only_once_published),
		cmocka_unit_test(test_no_interrupt_follows_the_avail_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
