/*
 * pit: the 8254 (8254 datasheet: modes 0, 2, 3; counter latch command)
 * and the PC's port 0x61 (bit 0 GATE2, bit 1 speaker data, bit 5 OUT2).
 * Times are measured with kvmclock. One "ok"/"FAIL" line per check, then
 * "pit: N passed, M failed"; exit status 0 only if all pass.
 *
 * - channel 0, mode 2 at 200 Hz (divisor 5966) through the PIC (IRQ 0,
 *   virtual wire): 100 periods of 5.0001 ms +-2% (kit_periodic_ok(); at
 *   1 kHz KVM's in-kernel PIT on the development machines falls behind
 *   by 3-5%, its injections taking up to a host tick); a latched count is
 *   within the divisor and runs down;
 * - channel 2, mode 0, GATE2 high: OUT2 (port 0x61 bit 5) is low while
 *   counting and goes high at terminal count, 10 ms later (early by at
 *   most 1%, late by at most 10 ms: the host may be busy);
 * - GATE2 low holds channel 2's count in mode 0 (counting only with the
 *   gate high); "gate=0" skips this check ("skip" line, not a failure):
 *   QEMU's 8254 models, both the in-kernel and the user-space one, count
 *   regardless of the gate in modes 0 and 4;
 * - a rising edge of GATE2 reloads channel 2 in mode 2;
 * - mode 3 at 1 kHz: OUT2 toggles.
 */
#include "kit.h"
#include "kit_clock.h"
#include "kit_intr.h"

#define VEC_IRQ0 KIT_PIC_MASTER_BASE
#define COUNT_10MS 11932 /* PIT_HZ / 100 */
#define PERIODS 100
#define RATE_DIV 5966 /* PIT_HZ / 200 */

static uint64_t stamps[PERIODS + 1];

static void irq0_handler(unsigned vector)
{
	uint32_t n = kit_irq_count[VEC_IRQ0] - 1;

	if (n <= PERIODS)
		stamps[n] = kit_clock_ns();
	kit_pic_eoi(0);
}

static void port_b(uint8_t set, uint8_t clear)
{
	outb(PIT_PORT_B, (inb(PIT_PORT_B) & ~clear & 0x0f) | set);
}

static bool out2(void)
{
	return inb(PIT_PORT_B) & PORT_B_OUT2;
}

static void test_rate(void)
{
	/* 5966 counts of 1/PIT_HZ s: 5.0001 ms. */
	const uint64_t want = RATE_DIV * NSEC_PER_SEC / PIT_HZ;
	uint32_t div = RATE_DIV, n;
	uint16_t c1, c2;
	uint64_t end, span, median;
	bool ok;

	kit_irq_set(VEC_IRQ0, irq0_handler);
	kit_pit_start(0, PIT_MODE2, div);
	c1 = kit_pit_read(0);
	c2 = kit_pit_read(0);
	kit_check(c1 >= 1 && c1 <= div && c2 >= 1 && c2 <= div && c2 != c1,
		  "channel 0: the latched count runs within the divisor");
	kit_pic_unmask(0);
	end = kit_clock_ns() + 3 * PERIODS * want;
	kit_sti();
	while (kit_irq_count[VEC_IRQ0] <= PERIODS && kit_clock_ns() < end)
		;
	kit_pic_mask(0);
	n = kit_irq_count[VEC_IRQ0];
	ok = n > PERIODS &&
	     kit_periodic_ok(stamps, PERIODS + 1, want, 2, &span, &median);
	if (!kit_check(ok, "channel 0, mode 2, divisor 5966: period +-2%%"))
		kit_printf("     %u interrupts, 100 periods in %lu ns, "
			   "median %lu ns\n",
			   n, span, median);
	outb(PIT_CMD, 0x30); /* mode 0, waiting for a count */
}

static void test_out2(void)
{
	const uint64_t want = 10 * NSEC_PER_MSEC;
	uint64_t t0, took, end;
	bool low;

	port_b(PORT_B_GATE2, PORT_B_SPEAKER);
	t0 = kit_clock_ns();
	kit_pit_start(2, PIT_MODE0, COUNT_10MS);
	low = !out2();
	end = t0 + 10 * want;
	while (!out2() && kit_clock_ns() < end)
		;
	took = kit_clock_ns() - t0;
	kit_check(low, "channel 2, mode 0: OUT2 low while counting");
	if (!kit_check(took >= want - want / 100 && took <= 2 * want,
		       "channel 2, mode 0: OUT2 high at terminal count, 10 ms"))
		kit_printf("     OUT2 %s after %lu ns\n",
			   out2() ? "high" : "still low", took);
}

static void test_gate(bool check_hold)
{
	uint16_t c1, c2;

	port_b(0, PORT_B_GATE2 | PORT_B_SPEAKER);
	kit_pit_start(2, PIT_MODE0, 0xffff);
	kit_delay_ns(NSEC_PER_MSEC);
	c1 = kit_pit_read(2);
	kit_delay_ns(5 * NSEC_PER_MSEC);
	c2 = kit_pit_read(2);
	if (check_hold)
		kit_check(c1 == c2, "channel 2, mode 0: GATE2 low holds the "
				    "count");
	else
		kit_printf("skip channel 2, mode 0: GATE2 low holds the count "
			   "(gate=0)\n");

	/* Mode 2 with the gate high, 50 ms per period; then an edge. */
	port_b(PORT_B_GATE2, 0);
	kit_pit_start(2, PIT_MODE2, 60000);
	kit_delay_ns(20 * NSEC_PER_MSEC);
	c1 = kit_pit_read(2);
	port_b(0, PORT_B_GATE2);
	port_b(PORT_B_GATE2, 0);
	c2 = kit_pit_read(2);
	/* 20 ms is ~23864 counts; the reads take microseconds. */
	if (!kit_check(c1 < 50000 && c2 > 58000,
		       "channel 2, mode 2: a rising GATE2 edge reloads"))
		kit_printf("     count %u before the edge, %u after\n", c1, c2);
}

static void test_square(void)
{
	bool seen[2] = { false, false };
	uint64_t end;

	port_b(PORT_B_GATE2, PORT_B_SPEAKER);
	kit_pit_start(2, PIT_MODE3, kit_pit_divisor(1000));
	end = kit_clock_ns() + 5 * NSEC_PER_MSEC;
	while (kit_clock_ns() < end)
		seen[out2()] = true;
	kit_check(seen[0] && seen[1], "channel 2, mode 3, 1 kHz: OUT2 toggles");
	port_b(0, PORT_B_GATE2);
}

int main(const char *cmdline)
{
	if (!kit_clock_init())
		return 1;
	kit_intr_init();
	test_rate();
	test_out2();
	test_gate(kit_param(cmdline, "gate", 1));
	test_square();
	return kit_check_summary("pit");
}
