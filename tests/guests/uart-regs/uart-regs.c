/*
 * uart-regs: register-level test of the 16550A at COM1, in the spirit of
 * kvm-unit-tests. Every check is against the 16550D datasheet (National
 * Semiconductor / TI, SNLS378), cited by register and bit.
 *
 * Loopback checks turn the output into input, so nothing can be printed
 * while they run: results are recorded, the UART is put back into normal
 * mode, and then one "ok"/"FAIL" line per check is printed, followed by
 * "uart-regs: N passed, M failed". Exit status 0 only if all pass.
 *
 * Waits are bounded polls of LSR: a VMM moves a byte at once, a real chip
 * takes ~87 us per character at 115200 baud.
 */
#include "kit.h"

#define MAX_RESULTS 48
#define POLL_LIMIT 100000

struct result {
	const char *what;
	uint32_t got, want;
};

static struct result results[MAX_RESULTS];
static unsigned nresults;

static void check(const char *what, uint32_t got, uint32_t want)
{
	if (nresults < MAX_RESULTS) {
		results[nresults].what = what;
		results[nresults].got = got;
		results[nresults].want = want;
		nresults++;
	}
}

static uint8_t rd(unsigned reg)
{
	return inb(KIT_COM1 + reg);
}

static void wr(unsigned reg, uint8_t v)
{
	outb(KIT_COM1 + reg, v);
}

/*
 * Poll LSR until all of bits are set; returns the OR of every value read,
 * since reading LSR clears OE (LSR bit 1) and that must not get lost.
 */
static uint8_t wait_lsr(uint8_t bits)
{
	uint8_t seen = 0;
	unsigned i;

	for (i = 0; i < POLL_LIMIT; i++) {
		uint8_t lsr = rd(UART_LSR);

		seen |= lsr;
		if ((lsr & bits) == bits)
			break;
	}
	return seen;
}

/* Read and discard whatever the receiver holds (bounded: a stuck DR). */
static void drain_rx(void)
{
	unsigned n;

	for (n = 0; n < 64 && (rd(UART_LSR) & UART_LSR_DR); n++)
		rd(UART_RBR);
}

static void test_scratch(void)
{
	static const struct {
		uint8_t value;
		const char *what;
	} values[] = {
		{ 0x55, "SCR holds 0x55" },
		{ 0xaa, "SCR holds 0xaa" },
		{ 0x00, "SCR holds 0x00" },
		{ 0xff, "SCR holds 0xff" },
	};
	unsigned i;

	/* Register table, SCR: a plain read/write byte with no effect. */
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		wr(UART_SCR, values[i].value);
		check(values[i].what, rd(UART_SCR), values[i].value);
	}
}

static void test_divisor(void)
{
	/* LCR bit 7 (DLAB): maps the divisor latch over RBR/THR and IER. */
	wr(UART_LCR, UART_LCR_DLAB | UART_LCR_8N1);
	wr(UART_DLL, 0x34);
	wr(UART_DLM, 0x12);
	check("DLL reads back with DLAB set", rd(UART_DLL), 0x34);
	check("DLM reads back with DLAB set", rd(UART_DLM), 0x12);
	check("LCR reads back with DLAB set", rd(UART_LCR),
	      UART_LCR_DLAB | UART_LCR_8N1);
	wr(UART_LCR, UART_LCR_8N1);
	wr(UART_IER, 0);
	check("offset 1 is IER, not DLM, with DLAB clear", rd(UART_IER), 0);
	wr(UART_LCR, UART_LCR_DLAB | UART_LCR_8N1);
	check("divisor kept while DLAB was clear", rd(UART_DLL), 0x34);
	wr(UART_DLL, 1);
	wr(UART_DLM, 0);
	wr(UART_LCR, UART_LCR_8N1);
}

static void test_ier_iir(void)
{
	/* IER: bits 4-7 are always 0. */
	wr(UART_IER, 0xff);
	check("IER bits 4-7 read 0", rd(UART_IER), 0x0f);
	wr(UART_IER, 0);
	/* IIR: bits 6-7 are set when FCR bit 0 (FIFO enable) is. */
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	check("IIR: no interrupt pending with IER 0",
	      rd(UART_IIR) & UART_IIR_ID, UART_IIR_NO_INT);
	check("IIR bits 6-7 set with FIFOs enabled",
	      rd(UART_IIR) & UART_IIR_FIFO_ON, UART_IIR_FIFO_ON);
	wr(UART_FCR, 0);
	check("IIR bits 6-7 clear with FIFOs disabled",
	      rd(UART_IIR) & UART_IIR_FIFO_ON, 0);
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
}

static void test_lcr_mcr(void)
{
	/* LCR is read/write; 0x1b = 8 bits, parity on, even. */
	wr(UART_LCR, 0x1b);
	check("LCR reads back 0x1b", rd(UART_LCR), 0x1b);
	wr(UART_LCR, UART_LCR_8N1);
	/* MCR: bits 5-7 are always 0. */
	wr(UART_MCR, 0x0f);
	check("MCR reads back 0x0f", rd(UART_MCR), 0x0f);
	wr(UART_MCR, 0xff);
	check("MCR bits 5-7 read 0", rd(UART_MCR), 0x1f);
	wr(UART_MCR, UART_MCR_LOOP);
}

/* Called in loopback mode with FIFOs on. */
static void test_loopback_data(void)
{
	uint8_t lsr;
	uint32_t got;

	/*
	 * MCR bit 4 (loop): the transmitter output is
	 * connected to the receiver input; LSR.DR says a byte arrived.
	 */
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	check("loopback: receiver empty after FIFO clear",
	      rd(UART_LSR) & UART_LSR_DR, 0);
	wr(UART_THR, 0x5a);
	lsr = wait_lsr(UART_LSR_DR | UART_LSR_TEMT);
	check("loopback: LSR.DR set after a write", lsr & UART_LSR_DR,
	      UART_LSR_DR);
	/* LSR bits 5-6: THRE and TEMT are set once the byte has gone. */
	check("LSR.THRE and LSR.TEMT set after a write",
	      lsr & (UART_LSR_THRE | UART_LSR_TEMT),
	      UART_LSR_THRE | UART_LSR_TEMT);
	check("loopback: RBR returns the byte written", rd(UART_RBR), 0x5a);
	check("loopback: LSR.DR clear after the read",
	      rd(UART_LSR) & UART_LSR_DR, 0);

	wr(UART_THR, 'A');
	wr(UART_THR, 'B');
	wr(UART_THR, 'C');
	wait_lsr(UART_LSR_TEMT);
	got = rd(UART_RBR);
	got |= (uint32_t)rd(UART_RBR) << 8;
	got |= (uint32_t)rd(UART_RBR) << 16;
	check("loopback: FIFO keeps byte order", got,
	      'A' | 'B' << 8 | 'C' << 16);
	drain_rx();
}

static void test_loopback_msr(void)
{
	static const struct {
		uint8_t mcr, msr;
		const char *what;
	} pins[] = {
		{ UART_MCR_DTR, UART_MSR_DSR,
		  "loopback: MCR.DTR shows as MSR.DSR" },
		{ UART_MCR_RTS, UART_MSR_CTS,
		  "loopback: MCR.RTS shows as MSR.CTS" },
		{ UART_MCR_OUT1, UART_MSR_RI,
		  "loopback: MCR.OUT1 shows as MSR.RI" },
		{ UART_MCR_OUT2, UART_MSR_DCD,
		  "loopback: MCR.OUT2 shows as MSR.DCD" },
	};
	unsigned i;

	/*
	 * MCR bit 4 (loop): the modem inputs CTS, DSR, RI
	 * and DCD are driven by RTS, DTR, OUT1 and OUT2 (MSR bits 4-7). The
	 * low nibble holds the delta bits, which depend on history: masked.
	 */
	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		wr(UART_MCR, UART_MCR_LOOP | pins[i].mcr);
		check(pins[i].what, rd(UART_MSR) & 0xf0, pins[i].msr);
	}
	wr(UART_MCR, UART_MCR_LOOP);
	check("loopback: MSR bits 4-7 clear with MCR bits 0-3 clear",
	      rd(UART_MSR) & 0xf0, 0);
}

static void test_overrun(void)
{
	uint8_t lsr;
	unsigned i, n, in_order;

	/*
	 * LSR bit 1 (OE): with the 16-byte receive FIFO full, the
	 * next character overwrites the shift register and is not moved to
	 * the FIFO; OE is set, and reset by reading LSR.
	 */
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	for (i = 0; i < 17; i++)
		wr(UART_THR, 0x30 + i);
	lsr = wait_lsr(UART_LSR_TEMT);
	check("overrun: 17 bytes into the FIFO set LSR.OE", lsr & UART_LSR_OE,
	      UART_LSR_OE);
	check("overrun: reading LSR cleared OE", rd(UART_LSR) & UART_LSR_OE, 0);
	for (n = 0, in_order = 0; n < 32 && (rd(UART_LSR) & UART_LSR_DR); n++)
		if (rd(UART_RBR) == 0x30 + n)
			in_order++;
	check("overrun: FIFO holds 16 bytes", n, 16);
	check("overrun: FIFO kept the first 16 bytes", in_order, 16);
}

static void restore_uart(void)
{
	wr(UART_MCR, UART_MCR_LOOP);
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	drain_rx();
	kit_serial_init();
}

int main(const char *cmdline)
{
	unsigned i, passed = 0;

	/* Nothing of ours may still be shifting out when loopback starts. */
	wait_lsr(UART_LSR_TEMT);
	test_scratch();
	test_divisor();
	test_ier_iir();
	test_lcr_mcr();
	test_loopback_data();
	test_loopback_msr();
	test_overrun();
	restore_uart();

	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];

		if (r->got == r->want) {
			passed++;
			kit_printf("ok   %s\n", r->what);
		} else {
			kit_printf("FAIL %s: got 0x%x, want 0x%x\n", r->what,
				   r->got, r->want);
		}
	}
	kit_printf("uart-regs: %u passed, %u failed\n", passed,
		   nresults - passed);
	return passed == nresults ? 0 : 1;
}
