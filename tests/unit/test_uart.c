/*
 * Unit tests for the 16550A UART model (device-procs/uart/uart.c).
 *
 * Each test drives the model through register accesses the way a guest
 * would and checks what the guest would see. Section numbers refer to the
 * National PC16550D datasheet.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "uart.h"

#define T0 1000000ull /* an arbitrary, non-zero start time */

/* uart_char_ns() values, worked out by hand from 8.1 and 8.3. */
#define NS_8N1_115200 86806ull	     /* 10 bits * 16 / 1843200 Hz, rounded up */
#define NS_8N1_9600 1041667ull	     /* divisor 12 */
#define NS_5N1_9600 729167ull	     /* reset format: 7 bits, divisor 12 */
#define NS_8E2_115200 104167ull	     /* 12 bits */
#define NS_5N15_115200 65105ull	     /* 7.5 bits */
#define NS_8N1_DIV_4660 404513889ull /* divisor 0x1234 */

#define UART_TEST(f) \
	cmocka_unit_test_setup_teardown(f, uart_setup, uart_teardown)

static int uart_setup(void **state)
{
	struct uart_state *s = test_malloc(sizeof(*s));

	uart_reset(s);
	*state = s;
	return 0;
}

static int uart_teardown(void **state)
{
	test_free(*state);
	return 0;
}

static uint8_t rd(struct uart_state *s, unsigned offset)
{
	return uart_read(s, offset, T0);
}

static struct uart_effect wr(struct uart_state *s, unsigned offset,
			     uint8_t value)
{
	struct uart_effect fx;

	uart_write(s, offset, value, T0, &fx);
	return fx;
}

static void push(struct uart_state *s, unsigned n, uint64_t now)
{
	unsigned i;

	for (i = 0; i < n; i++)
		assert_true(uart_rx_push(s, (uint8_t)('a' + i), now));
}

/* Loopback entered and the resulting delta bits read away. */
static void loop_on(struct uart_state *s, uint8_t mcr)
{
	wr(s, UART_MCR, UART_MCR_LOOP | mcr);
	rd(s, UART_MSR);
}

/* FIFO mode, receiver interrupt on, 115200 8N1: a typical Linux setup. */
static void fast_fifo(struct uart_state *s, uint8_t trigger)
{
	wr(s, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN);
	wr(s, UART_DLL, 1);
	wr(s, UART_DLM, 0);
	wr(s, UART_LCR, UART_LCR_WLEN);
	wr(s, UART_FCR, UART_FCR_ENABLE | trigger);
	wr(s, UART_IER, UART_IER_ERBFI);
}

/* ---- Reset and plain registers ---- */

static void test_reset_values_match_datasheet(void **state)
{
	struct uart_state *s = *state;

	assert_int_equal(rd(s, UART_IER), 0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(rd(s, UART_LCR), 0);
	assert_int_equal(rd(s, UART_MCR), 0);
	assert_int_equal(rd(s, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(s, UART_MSR), 0xb0);
	assert_int_equal(rd(s, UART_SCR), 0);
	assert_int_equal(s->tx_seq, 0);
	assert_false(uart_irq(s));
	assert_true(uart_state_valid(s));
}

static void test_reset_divisor_is_9600_baud(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(s, UART_DLL), 12);
	assert_int_equal(rd(s, UART_DLM), 0);
}

static void test_reset_clears_previous_state(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_SCR, 0x55);
	wr(s, UART_THR, 'x');
	push(s, 1, T0);
	s->pad[0] = 0xff;
	uart_reset(s);
	assert_int_equal(rd(s, UART_SCR), 0);
	assert_int_equal(rd(s, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(s->tx_seq, 0);
	assert_true(uart_state_valid(s));
}

static void test_scratch_register_holds_value(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_SCR, 0xa5);
	assert_int_equal(rd(s, UART_SCR), 0xa5);
	wr(s, UART_SCR, 0x00);
	assert_int_equal(rd(s, UART_SCR), 0x00);
	wr(s, UART_SCR, 0xff);
	assert_int_equal(rd(s, UART_SCR), 0xff);
}

static void test_scratch_register_ignores_dlab(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_LCR, UART_LCR_DLAB);
	wr(s, UART_SCR, 0x3c);
	wr(s, UART_LCR, 0);
	assert_int_equal(rd(s, UART_SCR), 0x3c);
}

static void test_divisor_latch_access(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_LCR, UART_LCR_DLAB);
	wr(s, UART_DLL, 0x34);
	wr(s, UART_DLM, 0x12);
	assert_int_equal(rd(s, UART_DLL), 0x34);
	assert_int_equal(rd(s, UART_DLM), 0x12);
	assert_int_equal(rd(s, UART_LCR), UART_LCR_DLAB);
	wr(s, UART_LCR, 0);
	/* DLAB=0: offsets 0 and 1 are RBR and IER again. */
	assert_int_equal(rd(s, UART_RBR), 0);
	assert_int_equal(rd(s, UART_IER), 0);
	wr(s, UART_IER, UART_IER_ELSI);
	wr(s, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(s, UART_DLM), 0x12);
	assert_int_equal(rd(s, UART_DLL), 0x34);
}

static void test_divisor_write_does_not_transmit(void **state)
{
	struct uart_state *s = *state;
	struct uart_effect fx;

	wr(s, UART_LCR, UART_LCR_DLAB);
	fx = wr(s, UART_DLL, 'A');
	assert_int_equal(fx.tx, -1);
	wr(s, UART_LCR, 0);
	fx = wr(s, UART_THR, 'B');
	assert_int_equal(fx.tx, 'B');
	assert_int_equal(fx.tx_seq, 0);
}

static void test_divisor_write_does_not_change_ier(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_LCR, UART_LCR_DLAB);
	wr(s, UART_DLM, 0xff);
	wr(s, UART_LCR, 0);
	assert_int_equal(rd(s, UART_IER), 0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_dlab_read_does_not_consume_rx(void **state)
{
	struct uart_state *s = *state;

	assert_true(uart_rx_push(s, 'x', T0));
	wr(s, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(s, UART_DLL), 12);
	wr(s, UART_LCR, 0);
	assert_true(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 'x');
}

static void test_lcr_reads_back_all_bits(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_LCR, 0x7f);
	assert_int_equal(rd(s, UART_LCR), 0x7f);
	wr(s, UART_LCR, 0xff);
	assert_int_equal(rd(s, UART_LCR), 0xff);
	wr(s, UART_LCR, 0x03);
	assert_int_equal(rd(s, UART_LCR), 0x03);
}

static void test_ier_upper_bits_read_zero(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, 0xf0);
	assert_int_equal(rd(s, UART_IER), 0);
	wr(s, UART_IER, 0xff);
	assert_int_equal(rd(s, UART_IER), 0x0f);
}

static void test_mcr_upper_bits_read_zero(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_MCR, 0xe0);
	assert_int_equal(rd(s, UART_MCR), 0);
	wr(s, UART_MCR, 0xff);
	assert_int_equal(rd(s, UART_MCR), 0x1f);
}

static void test_offset_masked_to_three_bits(void **state)
{
	struct uart_state *s = *state;

	uart_write(s, 8 + UART_SCR, 0x5a, T0, NULL);
	assert_int_equal(uart_read(s, 8 + UART_SCR, T0), 0x5a);
	assert_int_equal(uart_read(s, 0x100 + UART_LSR, T0),
			 UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_lsr_and_msr_writes_ignored(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_LSR, 0xff);
	wr(s, UART_MSR, 0x0f);
	assert_int_equal(rd(s, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(s, UART_MSR), 0xb0);
	assert_true(uart_state_valid(s));
}

/* ---- Transmitter ---- */

static void test_thr_write_transmits_byte(void **state)
{
	struct uart_state *s = *state;
	struct uart_effect fx = wr(s, UART_THR, 'A');

	assert_int_equal(fx.tx, 'A');
	assert_int_equal(fx.tx_seq, 0);
}

static void test_tx_sequence_numbers_increase(void **state)
{
	struct uart_state *s = *state;
	uint64_t i;

	for (i = 0; i < 5; i++) {
		struct uart_effect fx = wr(s, UART_THR, (uint8_t)i);

		assert_int_equal(fx.tx, (int)i);
		assert_int_equal(fx.tx_seq, i);
	}
	assert_int_equal(s->tx_seq, 5);
}

static void test_tx_sequence_continues_from_state(void **state)
{
	struct uart_state *s = *state;
	struct uart_effect fx;

	s->tx_seq = 1000;
	fx = wr(s, UART_THR, 'z');
	assert_int_equal(fx.tx_seq, 1000);
	assert_int_equal(s->tx_seq, 1001);
}

static void test_tx_byte_not_masked_by_word_length(void **state)
{
	struct uart_state *s = *state;
	struct uart_effect fx;

	/* Reset LCR is 5-bit words; guests that never set LCR still print. */
	fx = wr(s, UART_THR, 0xff);
	assert_int_equal(fx.tx, 0xff);
}

static void test_thre_and_temt_set_after_transmit(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_THR, 'x');
	assert_int_equal(rd(s, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			 UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_non_thr_writes_transmit_nothing(void **state)
{
	struct uart_state *s = *state;
	unsigned off;

	for (off = 1; off < 8; off++) {
		struct uart_effect fx = wr(s, off, 0);

		assert_int_equal(fx.tx, -1);
	}
	assert_int_equal(s->tx_seq, 0);
}

static void test_write_accepts_null_effect(void **state)
{
	struct uart_state *s = *state;

	uart_write(s, UART_THR, 'q', T0, NULL);
	assert_int_equal(s->tx_seq, 1);
	assert_true(uart_state_valid(s));
}

/* ---- THRE interrupt ---- */

static void test_thre_interrupt_on_etbei_enable(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ETBEI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
}

static void test_thre_interrupt_cleared_by_iir_read(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ETBEI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_thre_interrupt_rearmed_by_thr_write(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ETBEI);
	rd(s, UART_IIR);
	wr(s, UART_THR, 'x');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
}

static void test_thre_interrupt_needs_etbei(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_THR, 'x');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	wr(s, UART_IER, UART_IER_ERBFI | UART_IER_ELSI | UART_IER_EDSSI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_thre_interrupt_reraised_by_etbei_toggle(void **state)
{
	struct uart_state *s = *state;

	/* Linux's UART_BUG_THRE probe and Windows rely on this. */
	wr(s, UART_IER, UART_IER_ETBEI);
	rd(s, UART_IIR);
	wr(s, UART_IER, 0);
	wr(s, UART_IER, UART_IER_ETBEI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
}

static void test_thre_interrupt_not_reraised_without_etbei_edge(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ETBEI);
	rd(s, UART_IIR);
	wr(s, UART_IER, UART_IER_ETBEI | UART_IER_ELSI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_iir_read_keeps_thre_behind_higher_priority(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	push(s, 1, T0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_RDI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_RDI);
	rd(s, UART_RBR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

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

/* ---- FIFO control ---- */

static void test_iir_fifo_bits_follow_fcr_enable(void **state)
{
	struct uart_state *s = *state;

	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	wr(s, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	wr(s, UART_FCR, 0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_fcr_clear_rx_empties_fifo(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, 3, T0);
	wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	push(s, 1, T0);
	assert_int_equal(rd(s, UART_RBR), 'a');
}

static void test_fcr_clear_rx_keeps_line_errors(void **state)
{
	struct uart_state *s = *state;
	unsigned i;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	loop_on(s, 0);
	for (i = 0; i <= UART_FIFO_SIZE; i++)
		wr(s, UART_THR, (uint8_t)i);
	wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_int_equal(rd(s, UART_LSR),
			 UART_LSR_OE | UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_fcr_rewrite_keeps_fifo_contents(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	wr(s, UART_IER, UART_IER_ERBFI);
	push(s, 3, T0);
	/* Raising the trigger level to 8 does not clear the FIFO. */
	wr(s, UART_FCR, UART_FCR_ENABLE | 0x80);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	assert_int_equal(rd(s, UART_RBR), 'a');
	assert_int_equal(s->rx_count, 2);
}

static void test_fcr_bits_ignored_without_enable(void **state)
{
	struct uart_state *s = *state;

	push(s, 1, T0);
	wr(s, UART_FCR, UART_FCR_CLEAR_RX | UART_FCR_TRIGGER);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	assert_true(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 'a');
	assert_true(uart_state_valid(s));
}

static void test_fcr_disable_clears_fifo(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, 3, T0);
	wr(s, UART_FCR, 0);
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 0);
	assert_true(uart_rx_room(s));
}

static void test_fcr_enable_clears_16450_receiver(void **state)
{
	struct uart_state *s = *state;

	push(s, 1, T0);
	wr(s, UART_FCR, UART_FCR_ENABLE);
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 0);
}

static void test_fcr_clear_tx_keeps_thre(void **state)
{
	struct uart_state *s = *state;
	struct uart_effect fx;

	fx = wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_TX);
	assert_int_equal(fx.tx, -1);
	assert_int_equal(rd(s, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			 UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_fcr_mode_change_raises_thre_interrupt(void **state)
{
	struct uart_state *s = *state;

	/* 8.11: the first THRE interrupt after changing FCR0 is immediate. */
	wr(s, UART_IER, UART_IER_ETBEI);
	rd(s, UART_IIR);
	wr(s, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_THRI);
	wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
}

static void test_fcr_dma_mode_has_no_visible_effect(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_DMA);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	assert_true(uart_state_valid(s));
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

/* ---- Line status ---- */

static void test_lsr_read_clears_overrun(void **state)
{
	struct uart_state *s = *state;

	loop_on(s, 0);
	wr(s, UART_THR, 'a');
	wr(s, UART_THR, 'b');
	assert_true(rd(s, UART_LSR) & UART_LSR_OE);
	assert_false(rd(s, UART_LSR) & UART_LSR_OE);
	assert_true(rd(s, UART_LSR) & UART_LSR_DR);
}

static void test_lsr_read_clears_error_bits_and_fifo_error(void **state)
{
	struct uart_state *s = *state;
	uint8_t errs = UART_LSR_PE | UART_LSR_FE | UART_LSR_BI | UART_LSR_FIFOE;

	/* The model never receives bad characters; plant them as a chip would. */
	wr(s, UART_FCR, UART_FCR_ENABLE);
	s->lsr |= errs;
	assert_true(uart_state_valid(s));
	assert_int_equal(rd(s, UART_LSR) & errs, errs);
	assert_int_equal(rd(s, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_rls_interrupt_on_overrun(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ELSI);
	loop_on(s, 0);
	wr(s, UART_THR, 'a');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	wr(s, UART_THR, 'b');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_RLSI);
	rd(s, UART_LSR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_rls_interrupt_needs_elsi(void **state)
{
	struct uart_state *s = *state;

	loop_on(s, 0);
	wr(s, UART_THR, 'a');
	wr(s, UART_THR, 'b');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

/* ---- Interrupt identification ---- */

static void test_iir_priority_order(void **state)
{
	struct uart_state *s = *state;

	/* Table IV: RLS > RDA > THRE > modem status, peeled one by one. */
	wr(s, UART_IER, 0x0f);
	wr(s, UART_MCR, UART_MCR_LOOP); /* CTS, DSR, DCD drop: deltas */
	wr(s, UART_THR, 'a');
	wr(s, UART_THR, 'b'); /* overrun */
	assert_int_equal(rd(s, UART_IIR), UART_IIR_RLSI);
	rd(s, UART_LSR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_RDI);
	assert_int_equal(rd(s, UART_RBR), 'b');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_MSI);
	rd(s, UART_MSR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

static void test_iir_timeout_ranks_with_rda_above_thre(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0x80);
	wr(s, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	push(s, 1, T0);
	assert_true(uart_tick(s, T0 + 4 * NS_8N1_115200));
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
	rd(s, UART_RBR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_THRI);
}

static void test_iir_bits_4_5_read_zero(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER);
	wr(s, UART_IER, 0x0f);
	assert_int_equal(rd(s, UART_IIR) & 0x30, 0);
}

/* ---- Modem control and status ---- */

static void test_msr_reports_connected_terminal(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	assert_int_equal(rd(s, UART_MSR),
			 UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	wr(s, UART_MCR, 0);
	assert_int_equal(rd(s, UART_MSR),
			 UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
}

static void test_msr_read_clears_delta_bits(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(rd(s, UART_MSR),
			 UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	assert_int_equal(rd(s, UART_MSR), 0);
}

static void test_loopback_msr_follows_mcr(void **state)
{
	struct uart_state *s = *state;

	loop_on(s, UART_MCR_DTR);
	assert_int_equal(rd(s, UART_MSR) & 0xf0, UART_MSR_DSR);
	loop_on(s, UART_MCR_RTS);
	assert_int_equal(rd(s, UART_MSR) & 0xf0, UART_MSR_CTS);
	loop_on(s, UART_MCR_OUT1);
	assert_int_equal(rd(s, UART_MSR) & 0xf0, UART_MSR_RI);
	loop_on(s, UART_MCR_OUT2);
	assert_int_equal(rd(s, UART_MSR) & 0xf0, UART_MSR_DCD);
	loop_on(s, 0x0f);
	assert_int_equal(rd(s, UART_MSR) & 0xf0, 0xf0);
}

static void test_loopback_sets_delta_bits_on_change(void **state)
{
	struct uart_state *s = *state;

	/* CTS, DSR and DCD stay asserted; RI rises (no TERI). */
	wr(s, UART_MCR, UART_MCR_LOOP | 0x0f);
	assert_int_equal(rd(s, UART_MSR), 0xf0);
	wr(s, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_OUT2);
	assert_int_equal(rd(s, UART_MSR), UART_MSR_RI | UART_MSR_DCD |
						  UART_MSR_DCTS |
						  UART_MSR_DDSR);
	wr(s, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	assert_int_equal(rd(s, UART_MSR), UART_MSR_RI | UART_MSR_DDCD);
}

static void test_loopback_teri_on_ri_trailing_edge(void **state)
{
	struct uart_state *s = *state;

	loop_on(s, UART_MCR_OUT1);
	wr(s, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(rd(s, UART_MSR), UART_MSR_TERI);
	wr(s, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	assert_int_equal(rd(s, UART_MSR), UART_MSR_RI);
}

static void test_delta_bits_accumulate_until_read(void **state)
{
	struct uart_state *s = *state;

	loop_on(s, 0);
	wr(s, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	wr(s, UART_MCR, UART_MCR_LOOP);
	wr(s, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	assert_int_equal(rd(s, UART_MSR),
			 UART_MSR_DSR | UART_MSR_DCTS | UART_MSR_DDSR);
}

static void test_leaving_loopback_restores_connected_inputs(void **state)
{
	struct uart_state *s = *state;

	loop_on(s, 0);
	wr(s, UART_MCR, 0);
	assert_int_equal(rd(s, UART_MSR),
			 0xb0 | UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
}

static void test_linux_loopback_probe_reads_0x90(void **state)
{
	struct uart_state *s = *state;

	/* 8250 autoconfig: MCR = LOOP | RTS | OUT2 must give CTS | DCD. */
	wr(s, UART_MCR, UART_MCR_LOOP | 0x0a);
	assert_int_equal(rd(s, UART_MSR) & 0xf0, 0x90);
}

static void test_modem_status_interrupt_needs_edssi(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	wr(s, UART_IER, UART_IER_EDSSI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_MSI);
}

static void test_modem_status_interrupt_cleared_by_msr_read(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_EDSSI);
	wr(s, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_MSI);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_MSI);
	rd(s, UART_MSR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
}

/* ---- Loopback data path ---- */

static void test_loopback_tx_goes_to_rx(void **state)
{
	struct uart_state *s = *state;
	struct uart_effect fx;

	loop_on(s, 0);
	fx = wr(s, UART_THR, 'L');
	assert_int_equal(fx.tx, -1);
	assert_int_equal(s->tx_seq, 0);
	assert_true(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 'L');
	wr(s, UART_MCR, 0);
	fx = wr(s, UART_THR, 'M');
	assert_int_equal(fx.tx, 'M');
	assert_int_equal(fx.tx_seq, 0);
}

static void test_loopback_raises_rda_and_thre(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	rd(s, UART_IIR);
	loop_on(s, 0);
	wr(s, UART_THR, 'x');
	assert_int_equal(rd(s, UART_IIR), UART_IIR_RDI);
	rd(s, UART_RBR);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
}

static void test_loopback_overrun_in_fifo_mode_drops_byte(void **state)
{
	struct uart_state *s = *state;
	unsigned i;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	loop_on(s, 0);
	for (i = 0; i < UART_FIFO_SIZE; i++)
		wr(s, UART_THR, (uint8_t)('A' + i));
	assert_false(rd(s, UART_LSR) & UART_LSR_OE);
	wr(s, UART_THR, '!');
	assert_true(rd(s, UART_LSR) & UART_LSR_OE);
	for (i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(s, UART_RBR), 'A' + i);
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
}

static void test_loopback_overrun_without_fifo_overwrites_byte(void **state)
{
	struct uart_state *s = *state;

	/* 8.4 bit 1: in 16450 mode the new character destroys the old. */
	loop_on(s, 0);
	wr(s, UART_THR, 'a');
	wr(s, UART_THR, 'b');
	assert_true(rd(s, UART_LSR) & UART_LSR_OE);
	assert_int_equal(rd(s, UART_RBR), 'b');
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
}

static void test_loopback_disconnects_host_input(void **state)
{
	struct uart_state *s = *state;

	loop_on(s, 0);
	assert_false(uart_rx_room(s));
	assert_false(uart_rx_push(s, 'h', T0));
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
	wr(s, UART_MCR, 0);
	assert_true(uart_rx_room(s));
}

/* ---- Interrupt output ---- */

static void test_irq_gated_by_out2(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ETBEI);
	assert_false(uart_irq(s));
	wr(s, UART_MCR, UART_MCR_OUT2);
	assert_true(uart_irq(s));
	wr(s, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1);
	assert_false(uart_irq(s));
}

static void test_irq_follows_pending_interrupt(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_MCR, UART_MCR_OUT2);
	assert_false(uart_irq(s));
	wr(s, UART_IER, UART_IER_ERBFI);
	push(s, 1, T0);
	assert_true(uart_irq(s));
	rd(s, UART_RBR);
	assert_false(uart_irq(s));
}

static void test_irq_drops_when_iir_read_clears_thre(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_MCR, UART_MCR_OUT2);
	wr(s, UART_IER, UART_IER_ETBEI);
	assert_true(uart_irq(s));
	rd(s, UART_IIR);
	assert_false(uart_irq(s));
}

static void test_irq_forced_low_in_loopback(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_IER, UART_IER_ETBEI);
	wr(s, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	assert_false(uart_irq(s));
	/* The interrupt is still identified, only the pin is off. */
	assert_int_equal(rd(s, UART_IIR), UART_IIR_THRI);
}

static void test_irq_raised_by_char_timeout(void **state)
{
	struct uart_state *s = *state;

	fast_fifo(s, 0xc0);
	wr(s, UART_MCR, UART_MCR_OUT2);
	push(s, 1, T0);
	assert_false(uart_irq(s));
	assert_true(uart_tick(s, T0 + 4 * NS_8N1_115200));
	assert_true(uart_irq(s));
}

/* ---- State validation ---- */

/* A valid state with everything in use: FIFO, bytes, latches, deltas. */
static void busy(struct uart_state *s)
{
	fast_fifo(s, 0x80);
	wr(s, UART_IER, 0x0f);
	wr(s, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
	push(s, 3, T0);
	assert_true(uart_tick(s, T0 + 4 * NS_8N1_115200));
	assert_true(uart_state_valid(s));
}

static void test_state_valid_accepts_reset_state(void **state)
{
	assert_true(uart_state_valid(*state));
}

static void test_state_valid_accepts_busy_state(void **state)
{
	busy(*state);
}

static void test_state_valid_accepts_full_fifo(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	push(s, UART_FIFO_SIZE, T0);
	assert_true(uart_state_valid(s));
}

static void test_state_valid_rejects_null(void **state)
{
	(void)state;
	assert_false(uart_state_valid(NULL));
}

static void test_state_valid_rejects_corrupt_fifo(void **state)
{
	struct uart_state *s = *state;

	busy(s);
	s->rx_head = UART_FIFO_SIZE;
	assert_false(uart_state_valid(s));
	s->rx_head = 0xff;
	assert_false(uart_state_valid(s));
	s->rx_head = 0;
	s->rx_count = UART_FIFO_SIZE + 1;
	assert_false(uart_state_valid(s));
	s->rx_count = 0xff;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_two_bytes_without_fifo(void **state)
{
	struct uart_state *s = *state;

	push(s, 1, T0);
	s->rx_count = 2;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_inconsistent_data_ready(void **state)
{
	struct uart_state *s = *state;

	s->lsr |= UART_LSR_DR;
	assert_false(uart_state_valid(s));
	uart_reset(s);
	push(s, 1, T0);
	s->lsr &= ~UART_LSR_DR;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_reserved_ier_bits(void **state)
{
	struct uart_state *s = *state;

	s->ier = 0x10;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_reserved_mcr_bits(void **state)
{
	struct uart_state *s = *state;

	s->mcr = 0x20;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_reserved_fcr_bits(void **state)
{
	struct uart_state *s = *state;

	s->fcr = UART_FCR_ENABLE | UART_FCR_CLEAR_RX;
	assert_false(uart_state_valid(s));
	s->fcr = UART_FCR_ENABLE | 0x30;
	assert_false(uart_state_valid(s));
	/* Trigger bits are not programmed while FCR0 = 0. */
	s->fcr = 0x80;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_busy_transmitter(void **state)
{
	struct uart_state *s = *state;

	s->lsr &= ~UART_LSR_THRE;
	assert_false(uart_state_valid(s));
	uart_reset(s);
	s->lsr &= ~UART_LSR_TEMT;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_fifo_error_without_fifo(void **state)
{
	struct uart_state *s = *state;

	s->lsr |= UART_LSR_FIFOE;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_msr_inconsistent_with_mcr(void **state)
{
	struct uart_state *s = *state;

	s->msr = UART_MSR_CTS;
	assert_false(uart_state_valid(s));
	uart_reset(s);
	s->mcr = UART_MCR_LOOP | UART_MCR_DTR; /* MSR should read DSR only */
	assert_false(uart_state_valid(s));
	s->msr = UART_MSR_DSR | UART_MSR_TERI;
	assert_true(uart_state_valid(s));
}

static void test_state_valid_rejects_non_boolean_latches(void **state)
{
	struct uart_state *s = *state;

	busy(s);
	s->timeout = 2;
	assert_false(uart_state_valid(s));
	s->timeout = 1;
	s->thr_ipending = 2;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_timeout_with_empty_fifo(void **state)
{
	struct uart_state *s = *state;

	wr(s, UART_FCR, UART_FCR_ENABLE);
	s->timeout = 1;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_timeout_without_fifo(void **state)
{
	struct uart_state *s = *state;

	push(s, 1, T0);
	s->timeout = 1;
	assert_false(uart_state_valid(s));
}

static void test_state_valid_rejects_nonzero_pad(void **state)
{
	struct uart_state *s = *state;

	s->pad[2] = 1;
	assert_false(uart_state_valid(s));
}

/* xorshift64: a fixed sequence, so a failure reproduces. */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One random guest or host action; every state reached must be valid. */
static void random_step(struct uart_state *s, uint64_t r, uint64_t now)
{
	unsigned off = (r >> 8) & 7;
	uint8_t val = (uint8_t)(r >> 16);
	uint8_t iir;

	switch (r & 3) {
	case 0:
		uart_write(s, off, val, now, NULL);
		break;
	case 1:
		iir = uart_read(s, off, now);
		if (off == UART_IIR)
			assert_int_equal(iir & 0x30, 0);
		break;
	case 2:
		if (uart_rx_room(s))
			assert_true(uart_rx_push(s, val, now));
		break;
	default:
		uart_tick(s, now);
		break;
	}
	assert_true(uart_state_valid(s));
	if (uart_irq(s))
		assert_int_equal(s->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP),
				 UART_MCR_OUT2);
}

static void test_random_accesses_keep_state_valid(void **state)
{
	struct uart_state *s = *state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint64_t now = T0;
	unsigned i;

	for (i = 0; i < 200000; i++) {
		uint64_t r = next_rand(&x);

		now += (r >> 40) & 0xfffff;
		random_step(s, r, now);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UART_TEST(test_reset_values_match_datasheet),
		UART_TEST(test_reset_divisor_is_9600_baud),
		UART_TEST(test_reset_clears_previous_state),
		UART_TEST(test_scratch_register_holds_value),
		UART_TEST(test_scratch_register_ignores_dlab),
		UART_TEST(test_divisor_latch_access),
		UART_TEST(test_divisor_write_does_not_transmit),
		UART_TEST(test_divisor_write_does_not_change_ier),
		UART_TEST(test_dlab_read_does_not_consume_rx),
		UART_TEST(test_lcr_reads_back_all_bits),
		UART_TEST(test_ier_upper_bits_read_zero),
		UART_TEST(test_mcr_upper_bits_read_zero),
		UART_TEST(test_offset_masked_to_three_bits),
		UART_TEST(test_lsr_and_msr_writes_ignored),
		UART_TEST(test_thr_write_transmits_byte),
		UART_TEST(test_tx_sequence_numbers_increase),
		UART_TEST(test_tx_sequence_continues_from_state),
		UART_TEST(test_tx_byte_not_masked_by_word_length),
		UART_TEST(test_thre_and_temt_set_after_transmit),
		UART_TEST(test_non_thr_writes_transmit_nothing),
		UART_TEST(test_write_accepts_null_effect),
		UART_TEST(test_thre_interrupt_on_etbei_enable),
		UART_TEST(test_thre_interrupt_cleared_by_iir_read),
		UART_TEST(test_thre_interrupt_rearmed_by_thr_write),
		UART_TEST(test_thre_interrupt_needs_etbei),
		UART_TEST(test_thre_interrupt_reraised_by_etbei_toggle),
		UART_TEST(test_thre_interrupt_not_reraised_without_etbei_edge),
		UART_TEST(test_iir_read_keeps_thre_behind_higher_priority),
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
		UART_TEST(test_iir_fifo_bits_follow_fcr_enable),
		UART_TEST(test_fcr_clear_rx_empties_fifo),
		UART_TEST(test_fcr_clear_rx_keeps_line_errors),
		UART_TEST(test_fcr_rewrite_keeps_fifo_contents),
		UART_TEST(test_fcr_bits_ignored_without_enable),
		UART_TEST(test_fcr_disable_clears_fifo),
		UART_TEST(test_fcr_enable_clears_16450_receiver),
		UART_TEST(test_fcr_clear_tx_keeps_thre),
		UART_TEST(test_fcr_mode_change_raises_thre_interrupt),
		UART_TEST(test_fcr_dma_mode_has_no_visible_effect),
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
		UART_TEST(test_lsr_read_clears_overrun),
		UART_TEST(test_lsr_read_clears_error_bits_and_fifo_error),
		UART_TEST(test_rls_interrupt_on_overrun),
		UART_TEST(test_rls_interrupt_needs_elsi),
		UART_TEST(test_iir_priority_order),
		UART_TEST(test_iir_timeout_ranks_with_rda_above_thre),
		UART_TEST(test_iir_bits_4_5_read_zero),
		UART_TEST(test_msr_reports_connected_terminal),
		UART_TEST(test_msr_read_clears_delta_bits),
		UART_TEST(test_loopback_msr_follows_mcr),
		UART_TEST(test_loopback_sets_delta_bits_on_change),
		UART_TEST(test_loopback_teri_on_ri_trailing_edge),
		UART_TEST(test_delta_bits_accumulate_until_read),
		UART_TEST(test_leaving_loopback_restores_connected_inputs),
		UART_TEST(test_linux_loopback_probe_reads_0x90),
		UART_TEST(test_modem_status_interrupt_needs_edssi),
		UART_TEST(test_modem_status_interrupt_cleared_by_msr_read),
		UART_TEST(test_loopback_tx_goes_to_rx),
		UART_TEST(test_loopback_raises_rda_and_thre),
		UART_TEST(test_loopback_overrun_in_fifo_mode_drops_byte),
		UART_TEST(test_loopback_overrun_without_fifo_overwrites_byte),
		UART_TEST(test_loopback_disconnects_host_input),
		UART_TEST(test_irq_gated_by_out2),
		UART_TEST(test_irq_follows_pending_interrupt),
		UART_TEST(test_irq_drops_when_iir_read_clears_thre),
		UART_TEST(test_irq_forced_low_in_loopback),
		UART_TEST(test_irq_raised_by_char_timeout),
		UART_TEST(test_state_valid_accepts_reset_state),
		UART_TEST(test_state_valid_accepts_busy_state),
		UART_TEST(test_state_valid_accepts_full_fifo),
		UART_TEST(test_state_valid_rejects_null),
		UART_TEST(test_state_valid_rejects_corrupt_fifo),
		UART_TEST(test_state_valid_rejects_two_bytes_without_fifo),
		UART_TEST(test_state_valid_rejects_inconsistent_data_ready),
		UART_TEST(test_state_valid_rejects_reserved_ier_bits),
		UART_TEST(test_state_valid_rejects_reserved_mcr_bits),
		UART_TEST(test_state_valid_rejects_reserved_fcr_bits),
		UART_TEST(test_state_valid_rejects_busy_transmitter),
		UART_TEST(test_state_valid_rejects_fifo_error_without_fifo),
		UART_TEST(test_state_valid_rejects_msr_inconsistent_with_mcr),
		UART_TEST(test_state_valid_rejects_non_boolean_latches),
		UART_TEST(test_state_valid_rejects_timeout_with_empty_fifo),
		UART_TEST(test_state_valid_rejects_timeout_without_fifo),
		UART_TEST(test_state_valid_rejects_nonzero_pad),
		UART_TEST(test_random_accesses_keep_state_valid),
	};

	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
