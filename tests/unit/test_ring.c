/*
 * Exit rings: order, wrap-around, a full ring, recovery after a consumer
 * died, many producers, and two real processes over a memfd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "ring.h"
#include "shm.h"

static struct ring *ring_new(unsigned nvcpus)
{
	struct ring *r = aligned_alloc(64, (ring_size(nvcpus) + 63) & ~63ul);

	assert_non_null(r);
	ring_init(r, nvcpus);
	return r;
}

static struct ring_req req_write(uint64_t addr, uint64_t data, uint16_t vcpu)
{
	struct ring_req q = { .addr = addr,
			      .data = data,
			      .size = 1,
			      .vcpu = vcpu,
			      .flags = RING_WRITE };
	return q;
}

static void test_check_accepts_its_layout_and_rejects_others(void **state)
{
	struct ring *r = ring_new(2);

	assert_int_equal(ring_check(r, ring_size(2), 2), 0);
	assert_int_equal(ring_check(r, ring_size(2), 1), 0);
	assert_int_not_equal(ring_check(r, ring_size(2), 3), 0);
	assert_int_not_equal(ring_check(r, ring_size(2) - 1, 2), 0);
	assert_int_not_equal(ring_check(r, ring_size(2), 0), 0);
	r->magic = 0;
	assert_int_not_equal(ring_check(r, ring_size(2), 2), 0);
	free(r);
}

static void test_requests_come_out_in_order_across_wraparound(void **state)
{
	struct ring *r = ring_new(1);
	struct ring_req q, out;
	uint32_t tail = 0, i;

	/* Ten laps around the ring, in batches that straddle the wrap. */
	for (i = 0; i < RING_SLOTS * 10; i += 100) {
		uint32_t j, n = 100;

		for (j = 0; j < n; j++) {
			q = req_write(0x3f8, i + j, 0);
			ring_post(r, &q);
		}
		for (j = 0; j < n; j++) {
			assert_true(ring_peek(r, tail, &out));
			assert_int_equal(out.data, i + j);
			assert_int_equal(out.addr, 0x3f8);
			ring_release(r, tail++);
		}
		assert_false(ring_peek(r, tail, &out));
	}
	free(r);
}

struct producer {
	struct ring *r;
	uint16_t vcpu;
	unsigned n;
	_Atomic int done;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	unsigned i;

	for (i = 0; i < p->n; i++) {
		struct ring_req q = req_write(p->vcpu, i, p->vcpu);

		ring_post(p->r, &q);
	}
	atomic_store(&p->done, 1);
	return NULL;
}

static void test_full_ring_blocks_the_producer_until_a_slot_frees(void **state)
{
	struct ring *r = ring_new(1);
	struct producer p = { .r = r, .n = RING_SLOTS + 1 };
	struct ring_req out;
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
	usleep(100000);
	/* RING_SLOTS posted, the last one is waiting for room. */
	assert_int_equal(atomic_load(&p.done), 0);
	assert_true(ring_peek(r, RING_SLOTS - 1, &out));
	assert_false(ring_peek(r, RING_SLOTS, &out));
	assert_true(ring_peek(r, 0, &out));
	ring_release(r, 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&p.done), 1);
	assert_true(ring_peek(r, RING_SLOTS, &out));
	assert_int_equal(out.data, RING_SLOTS);
	free(r);
}

static void test_many_producers_lose_nothing_and_keep_their_order(void **state)
{
	enum {
		NPROD = 4,
		PER = 20000
	};
	struct ring *r = ring_new(NPROD);
	struct producer p[NPROD];
	pthread_t t[NPROD];
	uint64_t next[NPROD] = { 0 };
	struct ring_req out;
	uint32_t tail = 0;
	int i;

	for (i = 0; i < NPROD; i++) {
		p[i] = (struct producer){ .r = r,
					  .vcpu = (uint16_t)i,
					  .n = PER };
		assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]),
				 0);
	}
	while (tail < NPROD * PER) {
		if (!ring_peek(r, tail, &out))
			continue;
		assert_true(out.vcpu < NPROD);
		assert_int_equal(out.data, next[out.vcpu]);
		next[out.vcpu]++;
		ring_release(r, tail++);
	}
	for (i = 0; i < NPROD; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(next[i], PER);
	}
	free(r);
}

static void test_recover_releases_a_slot_a_dead_consumer_kept(void **state)
{
	struct ring *r = ring_new(1);
	struct ring_req q = req_write(1, 2, 0), out;
	unsigned i;

	/* Fill the ring; the consumer commits position 0 and dies. */
	for (i = 0; i < RING_SLOTS; i++)
		ring_post(r, &q);
	assert_true(ring_peek(r, 0, &out));
	ring_recover(r, 1);
	/* The slot is free again: one more post goes through at once. */
	ring_post(r, &q);
	assert_true(ring_peek(r, RING_SLOTS, &out));
	/* Recovering again changes nothing. */
	ring_recover(r, 1);
	assert_true(ring_peek(r, 1, &out));
	free(r);
}

static void test_repair_posts_filler_where_a_producer_died(void **state)
{
	struct ring *r = ring_new(1);
	struct ring_req q = req_write(1, 2, 0), out;

	assert_int_equal(ring_repair(r), 0);
	ring_post(r, &q);
	/* A producer claims position 1 and dies before posting it. */
	atomic_store(&r->head, 2);
	ring_post(r, &q);
	assert_false(ring_peek(r, 1, &out));
	assert_int_equal(ring_repair(r), 1);
	assert_true(ring_peek(r, 0, &out));
	assert_true(ring_peek(r, 1, &out));
	assert_int_equal(out.flags, 0);
	assert_true(ring_peek(r, 2, &out));
	assert_int_equal(out.flags, q.flags);
	/* Released slots are not touched. */
	ring_release(r, 0);
	assert_int_equal(ring_repair(r), 0);
	free(r);
}

static void test_recover_on_a_fresh_ring_does_nothing(void **state)
{
	struct ring *r = ring_new(1);
	struct ring_req out;

	ring_recover(r, 0);
	assert_false(ring_peek(r, 0, &out));
	free(r);
}

static void test_oldest_posted_position_is_found_from_the_ring(void **state)
{
	struct ring *r = ring_new(1);
	struct ring_req q = req_write(1, 2, 0);
	uint32_t tail = 0, i;

	assert_int_equal(ring_oldest(r), 0);
	/* Go round the ring a few times, leaving 10 requests posted. */
	for (i = 0; i < 3 * RING_SLOTS + 40; i++) {
		ring_post(r, &q);
		if (i >= 10)
			ring_release(r, tail++);
	}
	assert_int_equal(ring_oldest(r), tail);
	/* Nothing posted: the consumer is at head. */
	while (tail < 3 * RING_SLOTS + 40)
		ring_release(r, tail++);
	assert_int_equal(ring_oldest(r), 3 * RING_SLOTS + 40);
	free(r);
}

static void test_answer_for_a_bad_vcpu_is_dropped(void **state)
{
	struct ring *r = ring_new(1);

	ring_answer(r, 1, 5, 1, 42); /* out of range: must not write */
	assert_int_equal(atomic_load(&r->answer[0].id), 0);
	ring_answer(r, 1, 0, 1, 42);
	assert_int_equal(atomic_load(&r->answer[0].id), 1);
	assert_int_equal(r->answer[0].data, 42);
	free(r);
}

/*
 * The device side of the two-process test: a scratch register. Writes
 * store, reads return the last value written; the consumer sleeps on the
 * doorbell like a device does.
 */
static void device_process(struct ring *r, unsigned nreq)
{
	uint64_t reg = 0;
	uint32_t tail = 0, db;
	struct ring_req q;

	while (tail < nreq) {
		if (!ring_peek(r, tail, &q)) {
			db = ring_prepare_sleep(r);
			if (ring_peek(r, tail, &q)) {
				ring_cancel_sleep(r);
				continue;
			}
			ring_sleep(r, db, now_ns() + 1000000000ull);
			continue;
		}
		if (q.flags & RING_WRITE)
			reg = q.data;
		else
			ring_answer(r, 1, q.vcpu, q.id, reg);
		ring_release(r, tail++);
	}
	_exit(0);
}

static void test_two_processes_scratch_register_round_trips(void **state)
{
	enum {
		PAIRS = 20000
	};
	size_t len = ring_size(1);
	int fd = shm_create("test-ring", len), status;
	struct ring *r;
	pid_t pid;
	uint32_t id = 0;
	unsigned i;

	assert_true(fd >= 0);
	r = shm_map(fd, len, 1);
	assert_non_null(r);
	ring_init(r, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		device_process(r, PAIRS * 2);
	for (i = 0; i < PAIRS; i++) {
		struct ring_req w = req_write(0x3ff, i * 7 + 1, 0);
		struct ring_req rd = { .addr = 0x3ff, .size = 1, .vcpu = 0 };

		ring_post(r, &w);
		rd.id = ++id;
		/* A read sees every earlier write: the ring keeps order. */
		assert_int_equal(ring_call(r, &rd), i * 7 + 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_check_accepts_its_layout_and_rejects_others),
		cmocka_unit_test(
			test_requests_come_out_in_order_across_wraparound),
		cmocka_unit_test(
			test_full_ring_blocks_the_producer_until_a_slot_frees),
		cmocka_unit_test(
			test_many_producers_lose_nothing_and_keep_their_order),
		cmocka_unit_test(
			test_recover_releases_a_slot_a_dead_consumer_kept),
		cmocka_unit_test(test_recover_on_a_fresh_ring_does_nothing),
		cmocka_unit_test(
			test_oldest_posted_position_is_found_from_the_ring),
		cmocka_unit_test(test_answer_for_a_bad_vcpu_is_dropped),
		cmocka_unit_test(
			test_repair_posts_filler_where_a_producer_died),
		cmocka_unit_test(
			test_two_processes_scratch_register_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
