/*
 * rtc: the MC146818 RTC (datasheet: registers A-D, periodic and
 * update-ended interrupts) on IRQ 8, through I/O APIC pin 8 (edge, as
 * ISA IRQs without an override are). Times are measured with kvmclock.
 *
 * Output: "rtc-time: YYYY-MM-DDTHH:MM:SS" (the RTC's date and time, read
 * as register B says: BCD or binary, 12- or 24-hour), then one "ok"/"FAIL"
 * line per check and "rtc: N passed, M failed"; exit status 0 only if all
 * pass. The first line depends on the host's clock: rtc/expected.re
 * matches the output line by line, and the host compares rtc-time with
 * its own UTC clock (run-qemu.py --rtc-time: within 2 s).
 *
 * - the date and time read are a valid date and time;
 * - periodic interrupt, RS = 6 (1024 Hz): register C says PF and IRQF;
 *   1000 periods of 976.6 us +-2% (kit_periodic_ok()); if they stop
 *   coming, where the last one stopped (register C, the I/O APIC entry,
 *   the LAPIC's IRR and ISR);
 * - update-ended interrupt (UIE): register C says UF; two come 1 s
 *   +-2% apart and the seconds advanced by one between them.
 */
#include "kit.h"
#include "kit_clock.h"
#include "kit_intr.h"

#define VEC_RTC 0x48
#define PIN_RTC 8
#define RTC_RATE_1024HZ 0x06 /* RS: 32768 >> (6 - 1) */
/* Enough that an interrupt lost on its way (one in a few hundred, before
 * the LAPIC took injection reports first) shows. */
#define PERIODS 1000

static volatile uint8_t last_c;
static volatile uint64_t first_ns, last_ns;
static volatile uint32_t ticks;
static uint64_t stamps[PERIODS + 1];

static void rtc_handler(unsigned vector)
{
	uint64_t now = kit_clock_ns();

	/* Reading C clears its flags and drops the IRQ line. */
	last_c = kit_cmos_read(RTC_REG_C);
	if (!ticks)
		first_ns = now;
	last_ns = now;
	if (ticks <= PERIODS)
		stamps[ticks] = now;
	ticks++;
	kit_lapic_eoi();
}

static bool valid(const struct kit_rtc_time *t)
{
	static const uint8_t mdays[] = { 31, 29, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31 };

	return t->year >= 2000 && t->year <= 2099 && t->month >= 1 &&
	       t->month <= 12 && t->day >= 1 && t->day <= mdays[t->month - 1] &&
	       t->hour < 24 && t->minute < 60 && t->second < 60;
}

static bool wait_ticks(uint32_t n, uint64_t timeout)
{
	uint64_t end = kit_clock_ns() + timeout;

	kit_sti();
	while (ticks < n && kit_clock_ns() < end)
		;
	return ticks >= n;
}

static void set_b(uint8_t set, uint8_t clear)
{
	kit_cmos_write(RTC_REG_B, (kit_cmos_read(RTC_REG_B) & ~clear) | set);
}

static void test_periodic(void)
{
	const uint64_t want = NSEC_PER_SEC / 1024;
	uint64_t span, median;
	bool ok;

	ticks = 0;
	kit_cmos_write(RTC_REG_A, RTC_A_DV_32K | RTC_RATE_1024HZ);
	set_b(RTC_B_PIE, RTC_B_UIE | RTC_B_AIE);
	kit_check(wait_ticks(PERIODS + 1, 3 * PERIODS * want) &&
			  (last_c & (RTC_C_IRQF | RTC_C_PF)) ==
				  (RTC_C_IRQF | RTC_C_PF),
		  "periodic: interrupts with PF and IRQF in register C");
	/* Where the interrupt that did not come stopped. */
	if (ticks <= PERIODS)
		kit_printf(
			"     stalled after %u: register B %x C %x, I/O APIC "
			"entry %lx, LAPIC IRR %u ISR %u, RFLAGS %lx\n",
			ticks, kit_cmos_read(RTC_REG_B),
			kit_cmos_read(RTC_REG_C), kit_ioapic_rte(PIN_RTC),
			kit_lapic_irr(VEC_RTC), kit_lapic_isr(VEC_RTC),
			kit_rflags());
	set_b(0, RTC_B_PIE);
	ok = ticks > PERIODS &&
	     kit_periodic_ok(stamps, PERIODS + 1, want, 2, &span, &median);
	if (!kit_check(ok, "periodic, 1024 Hz: period 976.6 us +-2%%"))
		kit_printf("     %u interrupts, %u periods in %lu ns, "
			   "median %lu ns\n",
			   ticks, PERIODS, span, median);
}

static void test_update(void)
{
	struct kit_rtc_time t1, t2;
	uint64_t took;
	bool uf;

	/*
	 * Masked while UIE goes on and C is read: an edge of a flag set
	 * before is dropped (the pin is edge-triggered), one already on its
	 * way is taken during the wait, so the first interrupt counted is
	 * the end of a real update.
	 */
	kit_ioapic_mask(PIN_RTC, true);
	set_b(RTC_B_UIE, RTC_B_PIE | RTC_B_AIE);
	kit_cmos_read(RTC_REG_C);
	kit_sti();
	kit_delay_ns(2 * NSEC_PER_MSEC);
	ticks = 0;
	kit_ioapic_mask(PIN_RTC, false);
	uf = wait_ticks(1, 1200 * NSEC_PER_MSEC) && (last_c & RTC_C_UF);
	kit_rtc_read_time(&t1);
	uf = wait_ticks(2, 1200 * NSEC_PER_MSEC) && uf && (last_c & RTC_C_UF);
	kit_rtc_read_time(&t2);
	set_b(0, RTC_B_UIE);
	kit_check(uf, "update-ended: interrupts with UF in register C");
	took = last_ns - first_ns;
	if (!kit_check(took >= NSEC_PER_SEC - NSEC_PER_SEC / 50 &&
			       took <= NSEC_PER_SEC + NSEC_PER_SEC / 50,
		       "update-ended: two come 1 s +-2%% apart"))
		kit_printf("     %lu ns apart\n", took);
	kit_check(t2.second == (t1.second + 1) % 60,
		  "update-ended: the seconds advanced by one");
}

int main(const char *cmdline)
{
	struct kit_rtc_time t;

	if (!kit_clock_init())
		return 1;
	kit_intr_init();
	kit_rtc_read_time(&t);
	kit_printf("rtc-time: %04u-%02u-%02uT%02u:%02u:%02u\n", t.year, t.month,
		   t.day, t.hour, t.minute, t.second);
	kit_check(valid(&t), "date and time are valid");
	kit_irq_set(VEC_RTC, rtc_handler);
	kit_ioapic_route(PIN_RTC, VEC_RTC, 0, kit_lapic_id());
	test_periodic();
	test_update();
	kit_ioapic_mask(PIN_RTC, true);
	return kit_check_summary("rtc");
}
