/*
 * Unit tests for the 16550A UART model (device-procs/uart/uart.c):
 * modem control and status, loopback, interrupt output,
 * state validation and random accesses.
 *
 * Helpers and the setup shared with the other test_uart_*.c files are in
 * uart_test.h. Section numbers refer to the National PC16550D datasheet.
 */
#include "uart_test.h"

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

	return cmocka_run_group_tests_name("uart_modem", tests, NULL, NULL);
}
