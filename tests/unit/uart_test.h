/*
 * Shared helpers for the 16550A UART model tests (test_uart_*.c).
 *
 * Each test drives the model through register accesses the way a guest
 * would and checks what the guest would see. Section numbers refer to the
 * National PC16550D datasheet. The helpers are static inline so that each
 * test file links against the model alone and unused ones cost no warning.
 */
#ifndef CELLVM_TESTS_UNIT_UART_TEST_H
#define CELLVM_TESTS_UNIT_UART_TEST_H

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

static inline int uart_setup(void **state)
{
	struct uart_state *s = test_malloc(sizeof(*s));

	uart_reset(s);
	*state = s;
	return 0;
}

static inline int uart_teardown(void **state)
{
	test_free(*state);
	return 0;
}

static inline uint8_t rd(struct uart_state *s, unsigned offset)
{
	return uart_read(s, offset, T0);
}

static inline struct uart_effect wr(struct uart_state *s, unsigned offset,
				    uint8_t value)
{
	struct uart_effect fx;

	uart_write(s, offset, value, T0, &fx);
	return fx;
}

static inline void push(struct uart_state *s, unsigned n, uint64_t now)
{
	unsigned i;

	for (i = 0; i < n; i++)
		assert_true(uart_rx_push(s, (uint8_t)('a' + i), now));
}

/* Loopback entered and the resulting delta bits read away. */
static inline void loop_on(struct uart_state *s, uint8_t mcr)
{
	wr(s, UART_MCR, UART_MCR_LOOP | mcr);
	rd(s, UART_MSR);
}

/* FIFO mode, receiver interrupt on, 115200 8N1: a typical Linux setup. */
static inline void fast_fifo(struct uart_state *s, uint8_t trigger)
{
	wr(s, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN);
	wr(s, UART_DLL, 1);
	wr(s, UART_DLM, 0);
	wr(s, UART_LCR, UART_LCR_WLEN);
	wr(s, UART_FCR, UART_FCR_ENABLE | trigger);
	wr(s, UART_IER, UART_IER_ERBFI);
}

#endif
