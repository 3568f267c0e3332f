/*
 * timer-count: counts the interrupts of one timer for a while, measured
 * with kvmclock, and compares with what the rate promises. Meant for a
 * test that kills device processes while it runs: lost or doubled ticks
 * show up in the count.
 *
 * Command line: "src=pit|rtc|lapic" (pit), "hz=N" (100; the RTC needs a
 * power of two from 2 to 8192, its default is 128), "secs=S" (5, at most
 * 500). The guest waits in HLT; for pit and rtc a one-shot local APIC
 * timer at the deadline wakes it should the source stop for good.
 * - pit: channel 0, mode 2, divisor PIT_HZ / hz, I/O APIC pin 2;
 * - rtc: periodic interrupt, RS for hz, I/O APIC pin 8;
 * - lapic: the BSP's timer, periodic, 10^9 / hz bus cycles at divide 1.
 *
 * Output: "timer-count: src=S hz=N secs=S", then "count N expected M"
 * where N is the number of interrupts in the secs seconds after the first
 * one and M = secs * rate; exit status 0 if N is within 2% of M, 1 if not,
 * 2 for a bad command line. N varies from run to run: a test checks the
 * lines with timer-count/expected.re (regular expressions).
 */
#include "kit.h"
#include "kit_clock.h"
#include "kit_intr.h"

#define VEC_TIMER 0x40
#define VEC_WATCHDOG 0x41
#define PIN_PIT 2
#define PIN_RTC 8

enum source {
	SRC_PIT,
	SRC_RTC,
	SRC_LAPIC
};

static enum source src;
static volatile bool started, done;
static volatile uint64_t end_ns;
static volatile uint32_t counted;
static uint64_t window_ns;

static void timer_handler(unsigned vector)
{
	uint64_t now = kit_clock_ns();

	if (src == SRC_RTC)
		kit_cmos_read(RTC_REG_C);
	if (!started) {
		end_ns = now + window_ns;
		started = true;
	} else if (now <= end_ns) {
		counted++;
	} else {
		done = true;
	}
	kit_lapic_eoi();
}

/* Only wakes the HLT loop, should the source stop for good. */
static void watchdog_handler(unsigned vector)
{
	kit_lapic_eoi();
}

static bool parse_source(const char *cmdline, enum source *out)
{
	const char *p = cmdline, *name;

	/* The last src= wins, as with kit_param(). */
	*out = SRC_PIT;
	for (; *p; p++) {
		if ((p != cmdline && p[-1] != ' ') || memcmp(p, "src=", 4))
			continue;
		name = p + 4;
		if (!memcmp(name, "pit", 3) && (!name[3] || name[3] == ' '))
			*out = SRC_PIT;
		else if (!memcmp(name, "rtc", 3) &&
			 (!name[3] || name[3] == ' '))
			*out = SRC_RTC;
		else if (!memcmp(name, "lapic", 5) &&
			 (!name[5] || name[5] == ' '))
			*out = SRC_LAPIC;
		else
			return false;
	}
	return true;
}

/* RS for hz = 32768 >> (RS - 1), hz a power of two in 2..8192; 0 if not. */
static unsigned rtc_rate_select(unsigned long hz)
{
	unsigned rs;

	for (rs = 3; rs <= 15; rs++)
		if (32768ul >> (rs - 1) == hz)
			return rs;
	return 0;
}

/* Start the source; returns its rate in mHz, 0 if hz does not suit. */
static uint64_t start(unsigned long hz)
{
	uint32_t bsp = kit_lapic_id(), div;
	unsigned rs;

	switch (src) {
	case SRC_PIT:
		div = kit_pit_divisor(hz);
		kit_ioapic_route(PIN_PIT, VEC_TIMER, 0, bsp);
		kit_pit_start(0, PIT_MODE2, div);
		return PIT_HZ * 1000ull / div;
	case SRC_RTC:
		rs = rtc_rate_select(hz);
		if (!rs)
			return 0;
		kit_ioapic_route(PIN_RTC, VEC_TIMER, 0, bsp);
		kit_cmos_write(RTC_REG_A, RTC_A_DV_32K | rs);
		kit_cmos_write(RTC_REG_B, kit_cmos_read(RTC_REG_B) | RTC_B_PIE);
		kit_cmos_read(RTC_REG_C);
		return hz * 1000;
	case SRC_LAPIC:
		if (hz > NSEC_PER_SEC)
			return 0;
		kit_lapic_timer_start(VEC_TIMER, NSEC_PER_SEC / hz,
				      LAPIC_DCR_DIV1, true);
		return NSEC_PER_SEC * 1000 / (NSEC_PER_SEC / hz);
	}
	return 0;
}

int main(const char *cmdline)
{
	static const char *const names[] = { "pit", "rtc", "lapic" };
	unsigned long hz, secs = kit_param(cmdline, "secs", 5);
	uint64_t mhz, expected, deadline;

	if (!parse_source(cmdline, &src)) {
		kit_printf("timer-count: src= must be pit, rtc or lapic\n");
		return 2;
	}
	hz = kit_param(cmdline, "hz", src == SRC_RTC ? 128 : 100);
	kit_printf("timer-count: src=%s hz=%lu secs=%lu\n", names[src], hz,
		   secs);
	if (!hz || !secs || secs > 500) {
		kit_printf("timer-count: hz and secs must be positive\n");
		return 2;
	}
	if (!kit_clock_init())
		return 1;
	kit_intr_init();
	kit_irq_set(VEC_TIMER, timer_handler);
	window_ns = secs * NSEC_PER_SEC;
	mhz = start(hz);
	if (!mhz) {
		kit_printf("timer-count: hz=%lu does not suit src=%s\n", hz,
			   names[src]);
		return 2;
	}
	/* Rounded: secs * mhz / 1000 interrupts in the window. */
	expected = (secs * mhz + 500) / 1000;
	deadline = kit_clock_ns() + window_ns + 2 * NSEC_PER_SEC;
	if (src != SRC_LAPIC) {
		/* 1 GHz / 128: up to 549 s in 32 bits. */
		kit_irq_set(VEC_WATCHDOG, watchdog_handler);
		kit_lapic_timer_start(VEC_WATCHDOG,
				      (window_ns + 2 * NSEC_PER_SEC) / 128,
				      LAPIC_DCR_DIV128, false);
	}
	kit_cli();
	while (!done && kit_clock_ns() < deadline) {
		kit_sti_hlt();
		kit_cli();
	}
	kit_lapic_timer_stop();
	kit_printf("count %u expected %lu\n", counted, expected);
	return counted * 100 >= expected * 98 && counted * 100 <= expected * 102
		       ? 0
		       : 1;
}
