/*
 * Guest kit: kvmclock (or a PIT-calibrated TSC), the 8254 and the RTC. See
 * kit_clock.h for the contract.
 */
#include "kit_clock.h"

/*
 * struct pvclock_vcpu_time_info (Documentation/virt/kvm/x86/msr.rst,
 * MSR_KVM_SYSTEM_TIME_NEW): time = system_time + scaled (TSC -
 * tsc_timestamp), valid while version is even and unchanged.
 */
struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};

/*
 * The BSP's pvclock page, which every CPU reads: a single clock is enough
 * for the tests, and KVM keeps the vCPUs' TSCs in step. With the TSC
 * fallback the kit fills the same structure itself.
 */
static volatile struct pvclock kit_pvclock __attribute__((aligned(64)));
static const char *kit_clock_name = "none";
/* CMOS index + data, PIT latch + two reads: one user at a time. */
static struct kit_spinlock kit_cmos_lock, kit_pit_lock;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
		  uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static bool kvmclock_offered(void)
{
	uint32_t a, b, c, d;

	/* "KVMKVMKVM\0\0\0" in EBX, ECX, EDX of the signature leaf. */
	cpuid(KVM_CPUID_SIGNATURE, &a, &b, &c, &d);
	if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d || a < 0x40000001)
		return false;
	cpuid(KVM_CPUID_FEATURES, &a, &b, &c, &d);
	return (a >> KVM_FEATURE_CLOCKSOURCE2) & 1;
}

/*
 * kvm_get_time_scale() of Linux's arch/x86/kvm/x86.c: mul and shift such
 * that ((ticks << shift) * mul) >> 32 turns base_hz ticks into ns.
 */
static void time_scale(uint64_t base_hz, int8_t *pshift, uint32_t *pmul)
{
	uint64_t scaled = NSEC_PER_SEC, tps64 = base_hz;
	uint32_t tps32;
	int shift = 0;

	while (tps64 > scaled * 2 || (tps64 >> 32)) {
		tps64 >>= 1;
		shift--;
	}
	tps32 = (uint32_t)tps64;
	while (tps32 <= scaled || (scaled >> 32)) {
		if ((scaled >> 32) || (tps32 & 0x80000000))
			scaled >>= 1;
		else
			tps32 <<= 1;
		shift++;
	}
	*pshift = (int8_t)shift;
	*pmul = (uint32_t)((scaled << 32) / tps32);
}

/*
 * Count PIT channel 0 ticks (mode 2, 65536 per wrap) for 50 ms while the
 * TSC runs; a read every few exits is far below the 55 ms wrap. Gives up
 * if the count stands still for a million reads (no PIT).
 */
static bool tsc_calibrate(void)
{
	uint64_t t0, t1, hz;
	uint32_t elapsed = 0, still = 0;
	uint16_t prev, cur;

	kit_pit_start(0, PIT_MODE2, 0);
	prev = kit_pit_read(0);
	t0 = kit_rdtsc();
	while (elapsed < PIT_HZ / 20) {
		cur = kit_pit_read(0);
		if (cur == prev && ++still > 1000000)
			return false;
		if (cur != prev)
			still = 0;
		elapsed += (uint16_t)(prev - cur);
		prev = cur;
	}
	t1 = kit_rdtsc();
	hz = (t1 - t0) * PIT_HZ / elapsed;
	if (!hz)
		return false;
	time_scale(hz, (int8_t *)&kit_pvclock.tsc_shift,
		   (uint32_t *)&kit_pvclock.tsc_to_system_mul);
	kit_pvclock.system_time = 0;
	kit_pvclock.tsc_timestamp = t1;
	return true;
}

bool kit_clock_init(void)
{
	if (kvmclock_offered()) {
		/* Bit 0 enables; KVM then keeps the structure up to date. */
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&kit_pvclock | 1);
		kit_clock_name = "kvmclock";
		return true;
	}
	if (tsc_calibrate()) {
		kit_clock_name = "tsc";
		return true;
	}
	kit_printf("kit: no clock: no kvmclock in CPUID and no PIT\n");
	return false;
}

const char *kit_clock_source(void)
{
	return kit_clock_name;
}

uint64_t kit_clock_ns(void)
{
	uint32_t version;
	uint64_t ns, delta;

	do {
		version = kit_pvclock.version;
		__asm__ volatile("" : : : "memory");
		delta = kit_rdtsc() - kit_pvclock.tsc_timestamp;
		/* Another CPU's TSC may lag the BSP's stamp a little. */
		if ((int64_t)delta < 0)
			delta = 0;
		ns = kit_pvclock.system_time +
		     scale_delta(delta, kit_pvclock.tsc_to_system_mul,
				 kit_pvclock.tsc_shift);
		__asm__ volatile("" : : : "memory");
	} while ((version & 1) || version != kit_pvclock.version);
	return ns;
}

uint64_t kit_tsc_to_ns(uint64_t delta)
{
	return scale_delta(delta, kit_pvclock.tsc_to_system_mul,
			   kit_pvclock.tsc_shift);
}

void kit_delay_ns(uint64_t ns)
{
	uint64_t end = kit_clock_ns() + ns;

	while (kit_clock_ns() < end)
		__asm__ volatile("pause");
}

void kit_pit_start(unsigned channel, unsigned mode, uint32_t count)
{
	uint64_t flags = kit_irq_save();

	kit_spin_lock(&kit_pit_lock);
	/* Control word: SC = channel, RW = LSB then MSB, mode, binary. */
	outb(PIT_CMD, channel << 6 | 0x30 | mode << 1);
	outb(PIT_CH0 + channel, count & 0xff);
	outb(PIT_CH0 + channel, (count >> 8) & 0xff);
	kit_spin_unlock(&kit_pit_lock);
	kit_irq_restore(flags);
}

uint16_t kit_pit_read(unsigned channel)
{
	uint64_t flags = kit_irq_save();
	uint16_t v;

	kit_spin_lock(&kit_pit_lock);
	/* Counter latch command: SC = channel, RW = 00. */
	outb(PIT_CMD, channel << 6);
	v = inb(PIT_CH0 + channel);
	v |= inb(PIT_CH0 + channel) << 8;
	kit_spin_unlock(&kit_pit_lock);
	kit_irq_restore(flags);
	return v;
}

uint32_t kit_pit_divisor(uint32_t hz)
{
	uint32_t div = (PIT_HZ + hz / 2) / hz;

	return div > 65536 ? 65536 : div ? div : 1;
}

uint8_t kit_cmos_read(uint8_t reg)
{
	uint64_t flags = kit_irq_save();
	uint8_t v;

	kit_spin_lock(&kit_cmos_lock);
	outb(CMOS_INDEX, reg);
	v = inb(CMOS_DATA);
	kit_spin_unlock(&kit_cmos_lock);
	kit_irq_restore(flags);
	return v;
}

void kit_cmos_write(uint8_t reg, uint8_t v)
{
	uint64_t flags = kit_irq_save();

	kit_spin_lock(&kit_cmos_lock);
	outb(CMOS_INDEX, reg);
	outb(CMOS_DATA, v);
	kit_spin_unlock(&kit_cmos_lock);
	kit_irq_restore(flags);
}

static const uint8_t rtc_regs[] = {
	RTC_SECONDS, RTC_MINUTES, RTC_HOURS,   RTC_DAY,
	RTC_MONTH,   RTC_YEAR,	  RTC_CENTURY,
};
#define RTC_NREGS (sizeof(rtc_regs) / sizeof(rtc_regs[0]))

static void rtc_read_raw(uint8_t *r)
{
	unsigned i;

	/* UIP = 1: an update may begin within 244 us; wait it out. */
	while (kit_cmos_read(RTC_REG_A) & RTC_A_UIP)
		;
	for (i = 0; i < RTC_NREGS; i++)
		r[i] = kit_cmos_read(rtc_regs[i]);
}

static unsigned bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

void kit_rtc_read_time(struct kit_rtc_time *t)
{
	uint8_t a[RTC_NREGS], b[RTC_NREGS];
	uint8_t regb = kit_cmos_read(RTC_REG_B);
	bool bin = regb & RTC_B_DM_BINARY, pm;
	unsigned century;

	/* Two equal reads cannot straddle an update. */
	rtc_read_raw(b);
	do {
		memcpy(a, b, sizeof(a));
		rtc_read_raw(b);
	} while (memcmp(a, b, sizeof(a)));
	t->second = bcd(a[0], bin);
	t->minute = bcd(a[1], bin);
	/* 12-hour mode: bit 7 of the hours byte is PM; 12 means 0. */
	pm = !(regb & RTC_B_24H) && (a[2] & 0x80);
	t->hour = bcd(a[2] & 0x7f, bin);
	if (!(regb & RTC_B_24H))
		t->hour = t->hour % 12 + (pm ? 12 : 0);
	t->day = bcd(a[3], bin);
	t->month = bcd(a[4], bin);
	century = bcd(a[6], bin);
	if (century < 19 || century > 99)
		century = 20;
	t->year = century * 100 + bcd(a[5], bin);
}
