/*
 * 16550A UART register model (National PC16550D datasheet, June 1995).
 *
 * Everything here is a pure function of struct uart_state and its
 * arguments; see uart.h for the contract. Section numbers below refer to the
 * PC16550D datasheet.
 *
 * Invariants kept by every function (and checked by uart_state_valid()):
 *  - LSR.DR is set exactly when the receiver holds a byte;
 *  - LSR.THRE and LSR.TEMT are always set (transmission is instantaneous);
 *  - MSR bits 4-7 are the modem inputs implied by MCR (modem_inputs());
 *  - the receiver holds at most one byte in 16450 mode;
 *  - the timeout latch is set only in FIFO mode with bytes in the FIFO.
 */
#include <stddef.h>

#include "uart.h"

#define UART_IER_MASK 0x0f /* 8.7: bits 4-7 are always 0 */
#define UART_MCR_MASK 0x1f /* 8.8: bits 5-7 are permanently 0 */
#define UART_FCR_KEPT (UART_FCR_ENABLE | UART_FCR_TRIGGER)
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define UART_LSR_TX_IDLE (UART_LSR_THRE | UART_LSR_TEMT)
#define UART_MSR_DELTAS \
	(UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_TERI | UART_MSR_DDCD)
#define UART_MSR_INPUTS \
	(UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD)
/* A connected terminal outside loopback: CTS, DSR and DCD asserted. */
#define UART_MSR_CONNECTED (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)
#define UART_RESET_DIVISOR 12 /* 9600 baud with the 1.8432 MHz crystal */
#define UART_TIMEOUT_CHARS 4  /* 8.11: "4 continuous character times" */
#define UART_NSEC_PER_SEC 1000000000ull

static bool fifo_on(const struct uart_state *s)
{
	return s->fcr & UART_FCR_ENABLE;
}

static bool loopback(const struct uart_state *s)
{
	return s->mcr & UART_MCR_LOOP;
}

static bool dlab(const struct uart_state *s)
{
	return s->lcr & UART_LCR_DLAB;
}

/* Bytes the receiver holds: the FIFO, or the RBR alone in 16450 mode. */
static unsigned rx_capacity(const struct uart_state *s)
{
	return fifo_on(s) ? UART_FIFO_SIZE : 1;
}

/* 8.5, FCR bits 6-7: receiver FIFO trigger level. */
static unsigned rx_trigger(const struct uart_state *s)
{
	static const unsigned char level[4] = { 1, 4, 8, 14 };

	return level[(s->fcr & UART_FCR_TRIGGER) >> 6];
}

/* Table IV: RDA when the trigger level is reached (one byte in 16450 mode). */
static bool rx_data_available(const struct uart_state *s)
{
	unsigned level = fifo_on(s) ? rx_trigger(s) : 1;

	return s->rx_count >= level;
}

/*
 * 8.8 bit 4 and 8.9 bits 4-7: in loopback DTR, RTS, OUT1 and OUT2 drive
 * DSR, CTS, RI and DCD; otherwise the inputs are those of a connected
 * terminal.
 */
static uint8_t modem_inputs(uint8_t mcr)
{
	uint8_t msr = 0;

	if (!(mcr & UART_MCR_LOOP))
		return UART_MSR_CONNECTED;
	if (mcr & UART_MCR_DTR)
		msr |= UART_MSR_DSR;
	if (mcr & UART_MCR_RTS)
		msr |= UART_MSR_CTS;
	if (mcr & UART_MCR_OUT1)
		msr |= UART_MSR_RI;
	if (mcr & UART_MCR_OUT2)
		msr |= UART_MSR_DCD;
	return msr;
}

/*
 * 8.9: bits 0, 1 and 3 record any change of CTS, DSR and DCD; bit 2 (TERI)
 * only the trailing edge of RI, i.e. MSR.RI going from 1 to 0.
 */
static void msr_update(struct uart_state *s)
{
	uint8_t old = s->msr & UART_MSR_INPUTS;
	uint8_t now = modem_inputs(s->mcr);
	uint8_t delta = ((old ^ now) >> 4) &
			(UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);

	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	s->msr = (s->msr & UART_MSR_DELTAS) | delta | now;
}

static void rx_clear(struct uart_state *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
	s->timeout = 0;
	s->lsr &= ~UART_LSR_DR;
}

/* 8.4 bit 0: DR is set as soon as a character is in the RBR or FIFO. */
static void rx_put(struct uart_state *s, uint8_t byte, uint64_t now)
{
	unsigned tail = (s->rx_head + s->rx_count) % UART_FIFO_SIZE;

	s->rx_fifo[tail] = byte;
	s->rx_count++;
	s->lsr |= UART_LSR_DR;
	s->rx_activity_ns = now;
}

/*
 * A byte looped back from the transmitter (8.8 bit 4). 8.4 bit 1: with the
 * receiver full this is an overrun. In FIFO mode the new character is lost;
 * in 16450 mode it is transferred into the RBR, destroying the previous one.
 */
static void rx_loop(struct uart_state *s, uint8_t byte, uint64_t now)
{
	if (s->rx_count < rx_capacity(s)) {
		rx_put(s, byte, now);
		return;
	}
	s->lsr |= UART_LSR_OE;
	if (!fifo_on(s)) {
		s->rx_fifo[s->rx_head] = byte;
		s->rx_activity_ns = now;
	}
}

/*
 * 8.11 C and D: a CPU read restarts the timeout timer and clears a pending
 * timeout interrupt. 8.4 bit 0: DR drops when the last byte is read.
 */
static uint8_t rbr_read(struct uart_state *s, uint64_t now)
{
	uint8_t byte;

	s->timeout = 0;
	if (!s->rx_count)
		return 0;
	byte = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
	s->rx_count--;
	s->rx_activity_ns = now;
	if (!s->rx_count)
		s->lsr &= ~UART_LSR_DR;
	return byte;
}

/* Table IV: the highest-priority enabled interrupt, as IIR bits 0-3. */
static uint8_t iir_source(const struct uart_state *s)
{
	if ((s->ier & UART_IER_ELSI) && (s->lsr & UART_LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((s->ier & UART_IER_ERBFI) && s->timeout)
		return UART_IIR_CTI;
	if ((s->ier & UART_IER_ERBFI) && rx_data_available(s))
		return UART_IIR_RDI;
	if ((s->ier & UART_IER_ETBEI) && s->thr_ipending)
		return UART_IIR_THRI;
	if ((s->ier & UART_IER_EDSSI) && (s->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/*
 * 8.6 and Table IV: reading the IIR clears the THRE interrupt only when it
 * is the source reported. Bits 6-7 are set when FCR0 = 1.
 */
static uint8_t iir_read(struct uart_state *s)
{
	uint8_t iir = iir_source(s);

	if (iir == UART_IIR_THRI)
		s->thr_ipending = 0;
	if (fifo_on(s))
		iir |= UART_IIR_FIFO_ON;
	return iir;
}

/* 8.4: reading the LSR clears OE, PE, FE, BI and the FIFO error bit 7. */
static uint8_t lsr_read(struct uart_state *s)
{
	uint8_t lsr = s->lsr;

	s->lsr &= ~(UART_LSR_ERRORS | UART_LSR_FIFOE);
	return lsr;
}

/* 8.9: reading the MSR clears the delta bits 0-3. */
static uint8_t msr_read(struct uart_state *s)
{
	uint8_t msr = s->msr;

	s->msr &= ~UART_MSR_DELTAS;
	return msr;
}

/* THR just became empty: Table IV latches the THRE interrupt if enabled. */
static void thr_empty(struct uart_state *s)
{
	s->lsr |= UART_LSR_TX_IDLE;
	if (s->ier & UART_IER_ETBEI)
		s->thr_ipending = 1;
}

/*
 * Writing the THR clears the THRE interrupt (Table IV). The byte leaves at
 * once, to the host or, in loopback, into the receiver (8.8 bit 4), so the
 * THR and TSR are empty again before the guest can look.
 */
static void thr_write(struct uart_state *s, uint8_t byte, uint64_t now,
		      struct uart_effect *fx)
{
	s->thr_ipending = 0;
	if (loopback(s)) {
		rx_loop(s, byte, now);
	} else {
		fx->tx = byte;
		fx->tx_seq = s->tx_seq++;
	}
	thr_empty(s);
}

/*
 * 8.7: bits 4-7 read 0. Table IV's THRE source is the THR being empty, so
 * enabling ETBEI while it is empty raises the interrupt at once. The
 * datasheet does not spell out the edge; Linux's THRE probe and Windows
 * toggle ETBEI 0 -> 1 and expect it, so only a rising edge re-raises it.
 */
static void ier_write(struct uart_state *s, uint8_t value)
{
	uint8_t old = s->ier;

	s->ier = value & UART_IER_MASK;
	if (!(old & UART_IER_ETBEI) && (s->ier & UART_IER_ETBEI) &&
	    (s->lsr & UART_LSR_THRE))
		s->thr_ipending = 1;
}

/*
 * 8.5: FCR0 must be 1 for the other bits to be programmed; clearing it
 * leaves FIFO mode. Changing mode clears both FIFOs, and 8.11 makes the
 * first THRE interrupt after changing FCR0 immediate. The transmitter is
 * always empty here, so FCR2 (clear XMIT) has nothing to do; FCR3 (DMA mode)
 * only changes the RXRDY/TXRDY pins, which a PC does not wire.
 */
static void fcr_write(struct uart_state *s, uint8_t value)
{
	bool was_on = fifo_on(s);
	bool on = value & UART_FCR_ENABLE;

	if (was_on != on || (on && (value & UART_FCR_CLEAR_RX)))
		rx_clear(s);
	if (was_on != on)
		thr_empty(s);
	if (!on) {
		s->fcr = 0;
		s->lsr &= ~UART_LSR_FIFOE; /* 8.4 bit 7: 0 in 16450 mode */
		return;
	}
	s->fcr = value & UART_FCR_KEPT;
}

static void mcr_write(struct uart_state *s, uint8_t value)
{
	s->mcr = value & UART_MCR_MASK;
	msr_update(s);
}

void uart_reset(struct uart_state *s)
{
	/* Table I, "UART Reset Configuration"; every other field is 0. */
	*s = (struct uart_state){
		.lsr = UART_LSR_TX_IDLE,
		.msr = modem_inputs(0),
		.dll = UART_RESET_DIVISOR,
	};
}

/* Register fields: reserved bits clear, bits the model keeps fixed. */
static bool regs_valid(const struct uart_state *s)
{
	if ((s->ier & ~UART_IER_MASK) || (s->mcr & ~UART_MCR_MASK))
		return false;
	if (s->fcr & ~UART_FCR_KEPT)
		return false;
	if (!(s->fcr & UART_FCR_ENABLE) && s->fcr)
		return false;
	if ((s->lsr & UART_LSR_TX_IDLE) != UART_LSR_TX_IDLE)
		return false;
	if (!fifo_on(s) && (s->lsr & UART_LSR_FIFOE))
		return false;
	if ((s->msr & UART_MSR_INPUTS) != modem_inputs(s->mcr))
		return false;
	return s->thr_ipending <= 1;
}

/* Receiver fields: ring indices in range and consistent with LSR.DR. */
static bool rx_valid(const struct uart_state *s)
{
	if (s->rx_head >= UART_FIFO_SIZE || s->rx_count > rx_capacity(s))
		return false;
	if (!(s->lsr & UART_LSR_DR) != !s->rx_count)
		return false;
	if (s->timeout > 1)
		return false;
	return !s->timeout || (fifo_on(s) && s->rx_count);
}

bool uart_state_valid(const struct uart_state *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < sizeof(s->pad); i++)
		if (s->pad[i])
			return false;
	return regs_valid(s) && rx_valid(s);
}

uint8_t uart_read(struct uart_state *s, unsigned offset, uint64_t now)
{
	switch (offset & 7) {
	case UART_RBR:
		return dlab(s) ? s->dll : rbr_read(s, now);
	case UART_IER:
		return dlab(s) ? s->dlm : s->ier;
	case UART_IIR:
		return iir_read(s);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return lsr_read(s);
	case UART_MSR:
		return msr_read(s);
	default:
		return s->scr;
	}
}

void uart_write(struct uart_state *s, unsigned offset, uint8_t value,
		uint64_t now, struct uart_effect *fx)
{
	struct uart_effect ignored;

	if (!fx)
		fx = &ignored;
	fx->tx = -1;
	fx->tx_seq = 0;
	switch (offset & 7) {
	case UART_THR:
		if (dlab(s))
			s->dll = value;
		else
			thr_write(s, value, now, fx);
		break;
	case UART_IER:
		if (dlab(s))
			s->dlm = value;
		else
			ier_write(s, value);
		break;
	case UART_FCR:
		fcr_write(s, value);
		break;
	case UART_LCR:
		/* 8.1: all bits read back; break (bit 6) only acts on SOUT. */
		s->lcr = value;
		break;
	case UART_MCR:
		mcr_write(s, value);
		break;
	case UART_SCR:
		s->scr = value;
		break;
	default:
		/* LSR and MSR: writes are for factory test only (8.4 note). */
		break;
	}
}

/* In loopback SIN is disconnected (8.8 bit 4): no room for host bytes. */
bool uart_rx_room(const struct uart_state *s)
{
	return !loopback(s) && s->rx_count < rx_capacity(s);
}

bool uart_rx_push(struct uart_state *s, uint8_t byte, uint64_t now)
{
	if (!uart_rx_room(s))
		return false;
	rx_put(s, byte, now);
	return true;
}

/*
 * 8.1 and 8.3: start bit, 5-8 data bits, optional parity, then 1 stop bit,
 * or with LCR bit 2 set 1.5 (5-bit words) or 2. The bit clock is
 * UART_CLOCK_HZ / (16 * divisor); 8.3 advises against divisor 0, and we
 * treat it as 1. Counted in half bits for the 1.5 case, rounded up.
 */
uint64_t uart_char_ns(const struct uart_state *s)
{
	uint64_t divisor = (uint64_t)s->dlm << 8 | s->dll;
	unsigned wlen = s->lcr & UART_LCR_WLEN;
	uint64_t half_bits = 2 * (1 + 5 + wlen);
	uint64_t num;

	if (!divisor)
		divisor = 1;
	if (s->lcr & UART_LCR_PARITY)
		half_bits += 2;
	if (!(s->lcr & UART_LCR_STOP))
		half_bits += 2;
	else
		half_bits += wlen ? 4 : 3;
	num = half_bits * 8 * divisor * UART_NSEC_PER_SEC;
	return (num + UART_CLOCK_HZ - 1) / UART_CLOCK_HZ;
}

/*
 * 8.11 A and 8.12: the timeout needs FIFO mode, the receiver interrupt
 * enabled and at least one byte; below the trigger level only, since at or
 * above it RDA is already pending at the same priority.
 */
static bool timeout_armed(const struct uart_state *s)
{
	return fifo_on(s) && (s->ier & UART_IER_ERBFI) && !s->timeout &&
	       s->rx_count && s->rx_count < rx_trigger(s);
}

uint64_t uart_deadline(const struct uart_state *s)
{
	uint64_t wait;

	if (!timeout_armed(s))
		return 0;
	wait = UART_TIMEOUT_CHARS * uart_char_ns(s);
	if (s->rx_activity_ns > UINT64_MAX - wait)
		return UINT64_MAX;
	return s->rx_activity_ns + wait;
}

bool uart_tick(struct uart_state *s, uint64_t now)
{
	uint64_t deadline = uart_deadline(s);

	if (!deadline || now < deadline)
		return false;
	s->timeout = 1;
	return true;
}

/*
 * On the PC the INTR pin reaches the PIC through a gate driven by OUT2, and
 * in loopback the OUT pins are forced inactive (8.8 bit 4).
 */
bool uart_irq(const struct uart_state *s)
{
	if (!(s->mcr & UART_MCR_OUT2) || loopback(s))
		return false;
	return iir_source(s) != UART_IIR_NO_INT;
}
