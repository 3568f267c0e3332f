/*
 * Unit tests for the 16550A UART model (device-procs/uart/uart.c):
 * receiver, FIFO trigger levels, character timeout (8.11)
 * and character time (8.1, 8.3).
 *
 * Helpers and the setup shared with the other test_uart_*.c files are in
 * uart_test.h. Section numbers refer to the National PC16550D datasheet.
 */
#include "uart_test.h"

/* ---- Receiver ---- */

static void test_rx_push_sets_data_ready(void **state)
{
	struct uart_state *s = *state;

	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
	assert_true(uart_rx_push(s, 'k', T0));
	assert_true(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 'k');
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
}

static void test_rbr_read_empty_returns_zero(void **state)
{
	struct uart_state *s = *state;

	assert_int_equal(rd(s, UART_RBR), 0);
	assert_true(uart_state_valid(s));
}

static void test_rbr_read_returns_bytes_in_order(void **state)
{
	struct uart_state *s = *state;
	unsigned i;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, 5, T0);
	for (i = 0; i < 5; i++)
		assert_int_equal(rd(s, UART_RBR), 'a' + i);
	assert_int_equal(rd(s, UART_RBR), 0);
}

static void test_data_ready_stays_until_fifo_empty(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, 2, T0);
	rd(s, UART_RBR);
	assert_true(rd(s, UART_LSR) & UART_LSR_DR);
	rd(s, UART_RBR);
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
}

static void test_rx_fifo_holds_16_bytes(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, UART_FIFO_SIZE, T0);
	assert_false(uart_rx_room(s));
	rd(s, UART_RBR);
	assert_true(uart_rx_room(s));
}

static void test_rx_without_fifo_holds_one_byte(void **state)
{
	struct uart_state *s = *state;

	assert_true(uart_rx_room(s));
	push(s, 1, T0);
	assert_false(uart_rx_room(s));
	assert_false(uart_rx_push(s, 'z', T0));
	assert_int_equal(rd(s, UART_RBR), 'a');
	assert_true(uart_rx_room(s));
}

static void test_rx_push_refused_when_full(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, UART_FIFO_SIZE, T0);
	assert_false(uart_rx_push(s, '!', T0));
	/* The host side never overruns: no OE, the refused byte is absent. */
	assert_false(rd(s, UART_LSR) & UART_LSR_OE);
	assert_int_equal(s->rx_count, UART_FIFO_SIZE);
}

static void test_rx_fifo_wraps_around(void **state)
{
	struct uart_state *s = *state;
	unsigned i;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, 10, T0);
	for (i = 0; i < 10; i++)
		rd(s, UART_RBR);
	push(s, UART_FIFO_SIZE, T0);
	for (i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(s, UART_RBR), 'a' + i);
	assert_true(uart_state_valid(s));
}

static void test_rda_interrupt_without_fifo_on_first_byte(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ERBFI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	push(s, 1, T0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_RDI);
	rd(s, UART_RBR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_rda_interrupt_needs_erbfi(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ETBEI);
	rd(s, UART_IIR);
	push(s, 1, T0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

/* 8.5 and 8.11 A: RDA exactly when the FIFO reaches the trigger level. */
static void check_trigger(struct uart_state *s, uint8_t bits, unsigned level)
{
	const uint8_t none = UART_IIR_FIFO_ON | UART_IIR_NO_INT;

	fast_fifo(s, bits);
	push(s, level - 1, T0);
	assert_int_equal(rd(s, UART_IIR), none);
	push(s, 1, T0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
	rd(s, UART_RBR);
	assert_int_equal(rd(s, UART_IIR), none);
}

static void test_fifo_trigger_level_1_raises_rda(void **state)
{
	check_trigger(*state, 0x00, 1);
}

static void test_fifo_trigger_level_4_raises_rda(void **state)
{
	check_trigger(*state, 0x40, 4);
}

static void test_fifo_trigger_level_8_raises_rda(void **state)
{
	check_trigger(*state, 0x80, 8);
}

static void test_fifo_trigger_level_14_raises_rda(void **state)
{
	check_trigger(*state, 0xc0, 14);
}

/* ---- Character timeout (8.11) ---- */

static void test_char_timeout_fires_after_4_chars(void **state)
{
	struct uart_state *s = *state;
	uint64_t due = T0 + 4 * NS_8N1_115200;

	fast_fifo(s, 0x80);
	push(s, 3, T0);
	assert_int_equal(uart_deadline(s), due);
	assert_false(uart_tick(s, due - 1));
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	assert_true(uart_tick(s, due));
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
	assert_int_equal(uart_deadline(s), 0);
}

static void test_char_timeout_cleared_by_rbr_read(void **state)
{
	struct uart_state *s = *state;
	uint64_t due = T0 + 4 * NS_8N1_115200;

	fast_fifo(s, 0x80);
	push(s, 3, T0);
	assert_true(uart_tick(s, due));
	assert_int_equal(uart_read(s, UART_RBR, due + 10), 'a');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	/* Two bytes left: the timer restarts from the read. */
	assert_int_equal(uart_deadline(s), due + 10 + 4 * NS_8N1_115200);
}

static void test_char_timeout_restarted_by_new_byte(void **state)
{
	struct uart_state *s = *state;
	uint64_t later = T0 + 2 * NS_8N1_115200;

	fast_fifo(s, 0x80);
	push(s, 1, T0);
	assert_false(uart_tick(s, later));
	push(s, 1, later);
	assert_int_equal(uart_deadline(s), later + 4 * NS_8N1_115200);
	assert_false(uart_tick(s, T0 + 4 * NS_8N1_115200));
}

static void test_char_timeout_restarted_by_rbr_read(void **state)
{
	struct uart_state *s = *state;
	uint64_t later = T0 + NS_8N1_115200;

	fast_fifo(s, 0x80);
	push(s, 2, T0);
	uart_read(s, UART_RBR, later);
	assert_int_equal(uart_deadline(s), later + 4 * NS_8N1_115200);
}

static void test_char_timeout_stays_latched_as_bytes_arrive(void **state)
{
	struct uart_state *s = *state;
	uint64_t due = T0 + 4 * NS_8N1_115200;

	fast_fifo(s, 0x80);
	push(s, 1, T0);
	assert_true(uart_tick(s, due));
	push(s, 1, due + 1);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
	assert_false(uart_tick(s, due + 10 * NS_8N1_115200));
}

static void test_char_timeout_not_armed_at_trigger_level(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0x40);
	push(s, 4, T0);
	assert_int_equal(uart_deadline(s), 0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
}

static void test_char_timeout_not_armed_without_fifo(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0x80);
	wr(s, UART_FCR, 0);
	push(s, 1, T0);
	assert_int_equal(uart_deadline(s), 0);
	assert_false(uart_tick(s, UINT64_MAX));
}

static void test_char_timeout_not_armed_in_polled_mode(void **state)
{
	struct uart_state *s = *state;

	/* 8.12: no timeout indication with IER0 = 0. */
	fast_fifo(s, 0x80);
	wr(s, UART_IER, 0);
	push(s, 1, T0);
	assert_int_equal(uart_deadline(s), 0);
	assert_false(uart_tick(s, UINT64_MAX));
}

static void test_char_timeout_due_when_erbfi_enabled_late(void **state)
{
	struct uart_state *s = *state;
	uint64_t now = T0 + 100 * NS_8N1_115200;

	fast_fifo(s, 0x80);
	wr(s, UART_IER, 0);
	push(s, 1, T0);
	uart_write(s, UART_IER, UART_IER_ERBFI, now, NULL);
	assert_int_equal(uart_deadline(s), T0 + 4 * NS_8N1_115200);
	assert_true(uart_tick(s, now));
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
}

static void test_fcr_clear_rx_cancels_char_timeout(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0x80);
	push(s, 1, T0);
	assert_true(uart_tick(s, T0 + 4 * NS_8N1_115200));
	wr(s, UART_FCR, UART_FCR_ENABLE | 0x80 | UART_FCR_CLEAR_RX);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	assert_int_equal(uart_deadline(s), 0);
}

static void test_deadline_zero_when_fifo_empty(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0x80);
	assert_int_equal(uart_deadline(s), 0);
	push(s, 1, T0);
	rd(s, UART_RBR);
	assert_int_equal(uart_deadline(s), 0);
}

static void test_deadline_follows_baud_rate(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0x80);
	push(s, 1, T0);
	wr(s, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN);
	wr(s, UART_DLL, 12);
	wr(s, UART_LCR, UART_LCR_WLEN);
	assert_int_equal(uart_deadline(s), T0 + 4 * NS_8N1_9600);
}

static void test_deadline_saturates(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0x80);
	push(s, 1, UINT64_MAX - 5);
	assert_int_equal(uart_deadline(s), UINT64_MAX);
}

static void test_tick_without_deadline_changes_nothing(void **state)
{
	struct uart_state *s = *state;
	struct uart_state before;

	fast_fifo(s, 0x80);
	before = *s;
	assert_false(uart_tick(s, UINT64_MAX));
	assert_memory_equal(&before, s, sizeof(before));
}

/* ---- Character time (8.1, 8.3) ---- */

static void set_format(struct uart_state *s, uint16_t divisor, uint8_t lcr)
{
	wr(s, UART_LCR, UART_LCR_DLAB);
	wr(s, UART_DLL, divisor & 0xff);
	wr(s, UART_DLM, divisor >> 8);
	wr(s, UART_LCR, lcr);
}

static void test_char_ns_8n1_at_115200(void **state)
{
	struct uart_state *s = *state;

	set_format(s, 1, UART_LCR_WLEN);
	assert_int_equal(uart_char_ns(s), NS_8N1_115200);
}

static void test_char_ns_8n1_at_9600(void **state)
{
	struct uart_state *s = *state;

	set_format(s, 12, UART_LCR_WLEN);
	assert_int_equal(uart_char_ns(s), NS_8N1_9600);
}

static void test_char_ns_reset_format(void **state)
{
	struct uart_state *s = *state;

	assert_int_equal(uart_char_ns(s), NS_5N1_9600);
}

static void test_char_ns_counts_parity_and_two_stop_bits(void **state)
{
	struct uart_state *s = *state;

	set_format(s, 1, UART_LCR_WLEN | UART_LCR_STOP | UART_LCR_PARITY);
	assert_int_equal(uart_char_ns(s), NS_8E2_115200);
}

static void test_char_ns_5_bit_words_use_one_and_half_stop_bits(void **state)
{
	struct uart_state *s = *state;

	set_format(s, 1, UART_LCR_STOP);
	assert_int_equal(uart_char_ns(s), NS_5N15_115200);
}

static void test_char_ns_ignores_dlab_and_break(void **state)
{
	struct uart_state *s = *state;

	set_format(s, 1, UART_LCR_WLEN | UART_LCR_DLAB | UART_LCR_BREAK);
	assert_int_equal(uart_char_ns(s), NS_8N1_115200);
}

static void test_char_ns_uses_divisor_high_byte(void **state)
{
	struct uart_state *s = *state;

	set_format(s, 0x1234, UART_LCR_WLEN);
	assert_int_equal(uart_char_ns(s), NS_8N1_DIV_4660);
}

static void test_char_ns_divisor_zero_treated_as_one(void **state)
{
	struct uart_state *s = *state;

	set_format(s, 0, UART_LCR_WLEN);
	assert_int_equal(uart_char_ns(s), NS_8N1_115200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UART_TEST(test_rx_push_sets_data_ready),
		UART_TEST(test_rbr_read_empty_returns_zero),
		UART_TEST(test_rbr_read_returns_bytes_in_order),
		UART_TEST(test_data_ready_stays_until_fifo_empty),
		UART_TEST(test_rx_fifo_holds_16_bytes),
		UART_TEST(test_rx_without_fifo_holds_one_byte),
		UART_TEST(test_rx_push_refused_when_full),
		UART_TEST(test_rx_fifo_wraps_around),
		UART_TEST(test_rda_interrupt_without_fifo_on_first_byte),
		UART_TEST(test_rda_interrupt_needs_erbfi),
		UART_TEST(test_fifo_trigger_level_1_raises_rda),
		UART_TEST(test_fifo_trigger_level_4_raises_rda),
		UART_TEST(test_fifo_trigger_level_8_raises_rda),
		UART_TEST(test_fifo_trigger_level_14_raises_rda),
		UART_TEST(test_char_timeout_fires_after_4_chars),
		UART_TEST(test_char_timeout_cleared_by_rbr_read),
		UART_TEST(test_char_timeout_restarted_by_new_byte),
		UART_TEST(test_char_timeout_restarted_by_rbr_read),
		UART_TEST(test_char_timeout_stays_latched_as_bytes_arrive),
		UART_TEST(test_char_timeout_not_armed_at_trigger_level),
		UART_TEST(test_char_timeout_not_armed_without_fifo),
		UART_TEST(test_char_timeout_not_armed_in_polled_mode),
		UART_TEST(test_char_timeout_due_when_erbfi_enabled_late),
		UART_TEST(test_fcr_clear_rx_cancels_char_timeout),
		UART_TEST(test_deadline_zero_when_fifo_empty),
		UART_TEST(test_deadline_follows_baud_rate),
		UART_TEST(test_deadline_saturates),
		UART_TEST(test_tick_without_deadline_changes_nothing),
		UART_TEST(test_char_ns_8n1_at_115200),
		UART_TEST(test_char_ns_8n1_at_9600),
		UART_TEST(test_char_ns_reset_format),
		UART_TEST(test_char_ns_counts_parity_and_two_stop_bits),
		UART_TEST(test_char_ns_5_bit_words_use_one_and_half_stop_bits),
		UART_TEST(test_char_ns_ignores_dlab_and_break),
		UART_TEST(test_char_ns_uses_divisor_high_byte),
		UART_TEST(test_char_ns_divisor_zero_treated_as_one),
	};

	return cmocka_run_group_tests_name("uart_rx", tests, NULL, NULL);
}
