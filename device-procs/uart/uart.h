/*
 * 16550A UART model: pure register logic, no system calls.
 *
 * The state lives in the device's state page (state.h), so everything the
 * model knows is in struct uart_state and nothing else: no pointers, no
 * globals. Time comes in as an argument (CLOCK_MONOTONIC ns) and is used
 * only for the receiver's character timeout.
 *
 * Transmission is instantaneous: a THR write hands one byte to the caller
 * (struct uart_effect) together with its sequence number, and THR/TSR are
 * empty again at once. Reception: the caller pushes host bytes with
 * uart_rx_push() while uart_rx_room() says there is space, so the host side
 * never overruns the FIFO; only loopback can (LSR.OE), as on the chip.
 *
 * The interrupt output follows the PC wiring: the line is asserted while an
 * interrupt is pending and MCR.OUT2 is set and loopback is off (in loopback
 * the OUT pins are forced inactive; 16550D datasheet, MCR bit 4).
 */
#ifndef CELLVM_UART_H
#define CELLVM_UART_H

#include <stdbool.h>
#include <stdint.h>

#define UART_FIFO_SIZE 16
#define UART_CLOCK_HZ 1843200u /* 1.8432 MHz crystal: divisor 1 = 115200 */

/* Register offsets (DLAB = LCR bit 7 selects DLL/DLM at 0 and 1). */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI 0x04  /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_CTI 0x0c /* character timeout */
#define UART_IIR_FIFO_ON 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_DMA 0x08
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_WLEN 0x03
#define UART_LCR_STOP 0x04
#define UART_LCR_PARITY 0x08
#define UART_LCR_BREAK 0x40
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

struct uart_state {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t fcr;	      /* last FCR written (enable and trigger bits) */
	uint8_t thr_ipending; /* THRE interrupt latched (IIR read clears it) */
	uint8_t timeout;      /* character timeout latched */
	uint8_t rx_head;      /* receive FIFO: ring of UART_FIFO_SIZE bytes */
	uint8_t rx_count;
	uint8_t pad[3];
	uint8_t rx_fifo[UART_FIFO_SIZE];
	uint64_t rx_activity_ns; /* last byte in or out of the RX FIFO */
	uint64_t tx_seq;	 /* bytes transmitted so far */
};

struct uart_effect {
	int tx;		 /* -1, or the byte the guest transmitted */
	uint64_t tx_seq; /* its sequence number (first byte: 0) */
};

/* Power-on values (16550D datasheet, table "Reset control"). */
void uart_reset(struct uart_state *s);

/* A state found in a state page: every field within its range? */
bool uart_state_valid(const struct uart_state *s);

/* Guest read of register offset (0-7). Reads have side effects (RBR, IIR,
 * LSR, MSR) like on the chip. */
uint8_t uart_read(struct uart_state *s, unsigned offset, uint64_t now);

/* Guest write of register offset (0-7). fx->tx is -1 unless a byte went out
 * to the host. */
void uart_write(struct uart_state *s, unsigned offset, uint8_t value,
		uint64_t now, struct uart_effect *fx);

/* Room for one more host byte in the receiver? */
bool uart_rx_room(const struct uart_state *s);

/* A byte from the host arrives on the serial input (not in loopback: then
 * the input is disconnected and the byte is dropped, returning false). */
bool uart_rx_push(struct uart_state *s, uint8_t byte, uint64_t now);

/* When the character timeout will fire if nothing happens, or 0. */
uint64_t uart_deadline(const struct uart_state *s);

/* Time passes: latch the character timeout if due. True if s changed. */
bool uart_tick(struct uart_state *s, uint64_t now);

/* Level of the interrupt output (see the note on OUT2 above). */
bool uart_irq(const struct uart_state *s);

/* Nanoseconds one character takes at the current divisor and format. */
uint64_t uart_char_ns(const struct uart_state *s);

#endif
