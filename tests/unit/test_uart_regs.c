/*
 * Unit tests for the 16550A UART model (device-procs/uart/uart.c):
 * reset, plain registers, transmitter, THRE interrupt,
 * FIFO control, line status and interrupt identification.
 *
 * Helpers and the setup shared with the other test_uart_*.c files are in
 * uart_test.h. Section numbers refer to the National PC16550D datasheet.
 */
#include "uart_test.h"

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
		UART_TEST(test_lsr_read_clears_overrun),
		UART_TEST(test_lsr_read_clears_error_bits_and_fifo_error),
		UART_TEST(test_rls_interrupt_on_overrun),
		UART_TEST(test_rls_interrupt_needs_elsi),
		UART_TEST(test_iir_priority_order),
		UART_TEST(test_iir_timeout_ranks_with_rda_above_thre),
		UART_TEST(test_iir_bits_4_5_read_zero),
	};

	return cmocka_run_group_tests_name("uart_regs", tests, NULL, NULL);
}
