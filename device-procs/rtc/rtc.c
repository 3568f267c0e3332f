/*
 * Motorola MC146818A real-time clock plus RAM (Motorola datasheet
 * MC146818A/D; quoted section names refer to it), as wired on a PC.
 *
 * Everything here is a pure function of struct rtc_state and its
 * arguments; see rtc.h for the contract.
 *
 * While the clock runs (divider on, SET clear) the time registers are not
 * stored: a read computes them from now_real and the guest's offset, in
 * the current data mode, so changing DM or 24/12 shows the same time in
 * the new format at once (as in QEMU; the chip would need the registers
 * rewritten). While the clock is stopped the registers hold what the
 * guest wrote, in cmos[], and become the time when it starts again;
 * changing DM or 24/12 then does not convert them (as on the chip). The
 * divider's phase within the second is the offset's sub-second part.
 *
 * Invariants kept by every function (and checked by rtc_state_valid()):
 *  - register A's UIP bit is not stored (it is computed on read);
 *  - register C stores PF, AF and UF only (IRQF is computed);
 *  - register D reads VRT = 1, the battery being good;
 *  - the offset keeps the guest's year within reach of 64-bit seconds.
 */
#include <stddef.h>

#include "rtc.h"

#define NSEC_PER_SEC 1000000000ull
#define SECS_PER_DAY 86400
#define RTC_DIVIDER_HZ 32768u	/* the PC's 32.768 kHz crystal */
#define RTC_UIP_NS 244000u	/* Table 6: tBUC, 244 us */
#define RTC_OFF_MAX (1ll << 40) /* seconds: ~35000 years */
#define RTC_SEC_MAX (1ll << 42) /* any guest second */
#define RTC_C_FLAGS (RTC_C_PF | RTC_C_AF | RTC_C_UF)
#define RTC_DV_RUNNING 0x20 /* DV 000, 001, 010: running, as in QEMU */
#define KIB 1024ull
#define MIB (1024 * KIB)

struct rtc_tm {
	int64_t year;
	unsigned mon, mday, hour, min, sec, wday;
};

struct rtc_gtime {
	int64_t sec;
	uint32_t nsec;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!a || (b && b < a))
		return b;
	return a;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b < 0) ? q - 1 : q;
}

static unsigned floor_mod(int64_t a, int64_t b)
{
	return (unsigned)(a - floor_div(a, b) * b);
}

/*
 * Proleptic Gregorian calendar <-> days since 1970-01-01, after H.
 * Hinnant, "chrono-Compatible Low-Level Date Algorithms": years start in
 * March, so the leap day ends one; 400-year eras of 146097 days.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, struct rtc_tm *tm)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	tm->mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = yoe + era * 400 + (tm->mon <= 2);
}

/* 1970-01-01 was a Thursday; Sunday = 0. */
static unsigned weekday(int64_t days)
{
	return floor_mod(days + 4, 7);
}

static void tm_from_sec(int64_t t, struct rtc_tm *tm)
{
	int64_t days = floor_div(t, SECS_PER_DAY);
	unsigned secs = (unsigned)(t - days * SECS_PER_DAY);

	civil_from_days(days, tm);
	tm->hour = secs / 3600;
	tm->min = secs / 60 % 60;
	tm->sec = secs % 60;
	tm->wday = weekday(days);
}

static uint8_t reg(const struct rtc_state *s, unsigned idx)
{
	return s->cmos[idx];
}

/* Register B, DM: binary or BCD for the time, calendar and alarm bytes. */
static uint8_t to_reg(const struct rtc_state *s, unsigned v)
{
	if (reg(s, RTC_REG_B) & RTC_B_DM)
		return (uint8_t)v;
	return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static unsigned from_reg(const struct rtc_state *s, uint8_t b)
{
	if (reg(s, RTC_REG_B) & RTC_B_DM)
		return b;
	return (b >> 4) * 10u + (b & 0xf);
}

/* Register B, 24/12: in 12-hour mode hours are 1-12, bit 7 set for PM. */
static uint8_t hours_to_reg(const struct rtc_state *s, unsigned h)
{
	if (reg(s, RTC_REG_B) & RTC_B_24H)
		return to_reg(s, h);
	return (uint8_t)(to_reg(s, h % 12 ? h % 12 : 12) |
			 (h >= 12 ? RTC_HOURS_PM : 0));
}

static unsigned hours_from_reg(const struct rtc_state *s, uint8_t b)
{
	if (reg(s, RTC_REG_B) & RTC_B_24H)
		return from_reg(s, b);
	return from_reg(s, b & 0x7f) % 12 + (b & RTC_HOURS_PM ? 12 : 0);
}

static bool is_clock_reg(unsigned idx)
{
	return idx == RTC_CENTURY ||
	       (idx <= RTC_YEAR && idx != RTC_SECONDS_ALARM &&
		idx != RTC_MINUTES_ALARM && idx != RTC_HOURS_ALARM);
}

/* "Time, Calendar and Alarm Locations": one clock register's byte. The
 * day of week counts 1-7 alongside the date, from whatever the guest set. */
static uint8_t clock_reg(const struct rtc_state *s, const struct rtc_tm *tm,
			 unsigned idx)
{
	switch (idx) {
	case RTC_SECONDS:
		return to_reg(s, tm->sec);
	case RTC_MINUTES:
		return to_reg(s, tm->min);
	case RTC_HOURS:
		return hours_to_reg(s, tm->hour);
	case RTC_DAY_OF_WEEK:
		return to_reg(s, (tm->wday + s->dow_off) % 7 + 1);
	case RTC_DAY_OF_MONTH:
		return to_reg(s, tm->mday);
	case RTC_MONTH:
		return to_reg(s, tm->mon);
	case RTC_YEAR:
		return to_reg(s, floor_mod(tm->year, 100));
	default:
		return to_reg(s, floor_mod(floor_div(tm->year, 100), 100));
	}
}

/* The clock registers stop at guest second sec. */
static void snapshot(struct rtc_state *s, int64_t sec)
{
	static const uint8_t regs[] = { RTC_SECONDS,	  RTC_MINUTES,
					RTC_HOURS,	  RTC_DAY_OF_WEEK,
					RTC_DAY_OF_MONTH, RTC_MONTH,
					RTC_YEAR,	  RTC_CENTURY };
	struct rtc_tm tm;
	size_t i;

	tm_from_sec(sec, &tm);
	for (i = 0; i < sizeof(regs); i++)
		s->cmos[regs[i]] = clock_reg(s, &tm, regs[i]);
}

/* The guest second the stopped clock registers say. Out-of-range fields
 * carry over (month clamped to 1-12), which normalises them on restart. */
static int64_t image_sec(const struct rtc_state *s)
{
	unsigned mon = from_reg(s, reg(s, RTC_MONTH));
	int64_t year = from_reg(s, reg(s, RTC_CENTURY)) * 100ll +
		       from_reg(s, reg(s, RTC_YEAR));
	int64_t days;

	mon = mon < 1 ? 1 : mon > 12 ? 12 : mon;
	days = days_from_civil(year, mon, 1) +
	       from_reg(s, reg(s, RTC_DAY_OF_MONTH)) - 1;
	return days * SECS_PER_DAY +
	       hours_from_reg(s, reg(s, RTC_HOURS)) * 3600ll +
	       from_reg(s, reg(s, RTC_MINUTES)) * 60ll +
	       from_reg(s, reg(s, RTC_SECONDS));
}

static uint8_t image_dow_off(const struct rtc_state *s, int64_t sec)
{
	int64_t dow = from_reg(s, reg(s, RTC_DAY_OF_WEEK));

	return (uint8_t)floor_mod(
		dow - 1 - weekday(floor_div(sec, SECS_PER_DAY)), 7);
}

static struct rtc_gtime guest_time(const struct rtc_state *s, uint64_t now_real)
{
	uint64_t ns = now_real % NSEC_PER_SEC + s->off_nsec;
	struct rtc_gtime g = {
		.sec = (int64_t)(now_real / NSEC_PER_SEC) + s->off_sec +
		       (int64_t)(ns / NSEC_PER_SEC),
		.nsec = (uint32_t)(ns % NSEC_PER_SEC),
	};

	return g;
}

/* Choose the offset that makes the guest time (sec, nsec) at now_real. */
static void set_guest_time(struct rtc_state *s, uint64_t now_real, int64_t sec,
			   uint32_t nsec)
{
	int64_t r_sec = (int64_t)(now_real / NSEC_PER_SEC);
	uint32_t r_ns = (uint32_t)(now_real % NSEC_PER_SEC);
	int64_t off;

	if (nsec >= r_ns) {
		s->off_nsec = nsec - r_ns;
		off = sec - r_sec;
	} else {
		s->off_nsec = (uint32_t)(nsec + NSEC_PER_SEC - r_ns);
		off = sec - r_sec - 1;
	}
	if (off > RTC_OFF_MAX)
		off = RTC_OFF_MAX;
	if (off < -RTC_OFF_MAX)
		off = -RTC_OFF_MAX;
	s->off_sec = off;
}

/* Register A, DV2-0: 11x holds the divider chain in reset and 011/10x are
 * test modes; with those the clock and the periodic taps stop. */
static bool divider_runs(uint8_t a)
{
	return (a & RTC_A_DV) <= RTC_DV_RUNNING;
}

/* "SET": with SET = 1 the update cycle is inhibited. */
static bool clock_runs(const struct rtc_state *s)
{
	return divider_runs(reg(s, RTC_REG_A)) &&
	       !(reg(s, RTC_REG_B) & RTC_B_SET);
}

/*
 * Table 4, 32.768 kHz time base: the periodic interrupt period in divider
 * clocks for RS3-0 (RS 1 and 2 repeat 8 and 9: 256 and 128 Hz), 0 = none.
 */
static uint32_t period_clocks(uint8_t a)
{
	unsigned rs = a & RTC_A_RS;

	if (!rs || !divider_runs(a))
		return 0;
	if (rs < 3)
		rs += 7;
	return 1u << (rs - 1);
}

/* Whole divider clocks in dt ns, and the ns by which k clocks passed. */
static uint64_t div_clocks(uint64_t dt)
{
	return dt / NSEC_PER_SEC * RTC_DIVIDER_HZ +
	       dt % NSEC_PER_SEC * RTC_DIVIDER_HZ / NSEC_PER_SEC;
}

static uint64_t div_ns(uint64_t k)
{
	uint64_t q = k / RTC_DIVIDER_HZ, r = k % RTC_DIVIDER_HZ;

	if (q > UINT64_MAX / NSEC_PER_SEC - 1)
		return UINT64_MAX;
	return q * NSEC_PER_SEC +
	       (r * NSEC_PER_SEC + RTC_DIVIDER_HZ - 1) / RTC_DIVIDER_HZ;
}

/* Periodic edges happen at per_base + div_ns(k * period), k >= 1. */
static uint64_t per_index(const struct rtc_state *s, uint64_t t, uint32_t pc)
{
	return t > s->per_base ? div_clocks(t - s->per_base) / pc : 0;
}

static uint64_t per_next(const struct rtc_state *s, uint32_t pc)
{
	uint64_t k = per_index(s, s->per_done, pc) + 1;

	return sat_add(s->per_base, div_ns(k * pc));
}

/*
 * A new rate or a restarted divider: every period divides a second, so
 * the taps are in phase with the seconds; the schedule restarts from the
 * last tap edge before now, found from the divider phase.
 */
static void per_rebase(struct rtc_state *s, uint64_t now_mono,
		       uint64_t now_real)
{
	uint32_t pc = period_clocks(reg(s, RTC_REG_A));
	uint32_t nsec = guest_time(s, now_real).nsec;
	uint64_t ph, since = 0;

	if (pc) {
		ph = div_clocks(nsec);
		since = nsec - div_ns(ph - ph % pc);
	}
	s->per_base = now_mono >= since ? now_mono - since : now_mono;
	s->per_done = now_mono;
}

static uint64_t catchup_ns(const struct rtc_state *s)
{
	uint64_t ns = div_ns(period_clocks(reg(s, RTC_REG_A))) / 4;

	if (!ns || ns > RTC_CATCHUP_MAX_NS)
		ns = RTC_CATCHUP_MAX_NS;
	return ns;
}

static void owe(struct rtc_state *s, uint64_t k)
{
	uint64_t total = s->owed + k;

	s->owed = total > RTC_OWED_MAX ? RTC_OWED_MAX : (uint32_t)total;
}

/*
 * "Periodic Interrupt": PF is set at every tap edge whatever PIE says.
 * Edges that fell between two calls beyond the first are owed when PIE is
 * set, and each comes back as PF once the guest has read register C.
 */
static void periodic_advance(struct rtc_state *s, uint64_t now)
{
	uint32_t pc = period_clocks(reg(s, RTC_REG_A));
	uint64_t k;

	if (!pc || !(reg(s, RTC_REG_B) & RTC_B_PIE))
		s->owed = 0;
	if (!pc) {
		s->per_done = now > s->per_done ? now : s->per_done;
		return;
	}
	if (now > s->per_done) {
		k = per_index(s, now, pc) - per_index(s, s->per_done, pc);
		s->per_done = now;
		if (k)
			s->cmos[RTC_REG_C] |= RTC_C_PF;
		if (k > 1 && (reg(s, RTC_REG_B) & RTC_B_PIE))
			owe(s, k - 1);
	}
	if (s->owed && !(reg(s, RTC_REG_C) & RTC_C_PF) && now >= s->owed_next) {
		s->cmos[RTC_REG_C] |= RTC_C_PF;
		s->owed--;
		s->owed_next = sat_add(now, catchup_ns(s));
	}
}

static int alarm_field(const struct rtc_state *s, unsigned idx)
{
	uint8_t b = reg(s, idx);

	if (b >= RTC_ALARM_ANY)
		return -1;
	if (idx == RTC_HOURS_ALARM)
		return (int)hours_from_reg(s, b);
	return (int)from_reg(s, b);
}

/*
 * "Alarm": AF is set at the update cycle whose time matches the three
 * alarm bytes, a byte of 0xc0-0xff matching any value. Seconds from
 * day-second t to the next match (1..86400), or 0 if none ever matches.
 */
static uint32_t alarm_wait(const struct rtc_state *s, uint32_t t)
{
	int ah = alarm_field(s, RTC_HOURS_ALARM);
	int am = alarm_field(s, RTC_MINUTES_ALARM);
	int as = alarm_field(s, RTC_SECONDS_ALARM);
	uint32_t step = 1, c, sec;

	if (ah > 23 || am > 59 || as > 59)
		return 0;
	while (step <= SECS_PER_DAY) {
		c = (t + step) % SECS_PER_DAY;
		sec = c % 60;
		if (ah >= 0 && c / 3600 != (uint32_t)ah)
			step += 3600 - c % 3600;
		else if (am >= 0 && c / 60 % 60 != (uint32_t)am)
			step += 60 - sec;
		else if (as >= 0 && sec != (uint32_t)as)
			step += (uint32_t)as > sec ? (uint32_t)as - sec
						   : 60 - sec;
		else
			return step;
	}
	return 0;
}

/* Does a second in (from, to] match the alarm? */
static bool alarm_between(const struct rtc_state *s, int64_t from, int64_t to)
{
	uint32_t w;

	if (to - from >= SECS_PER_DAY)
		return alarm_wait(s, 0) != 0;
	w = alarm_wait(s, floor_mod(from, SECS_PER_DAY));
	return w && w <= to - from;
}

/*
 * "Update Cycle": once a second, unless SET or the divider stops it, the
 * time advances and UF is set, and AF if the alarm matches. After a gap
 * (a late call, a host clock step) one update stands for all the seconds
 * missed; a step backwards only resynchronises.
 */
static void update_advance(struct rtc_state *s, uint64_t now_real)
{
	struct rtc_gtime g;

	if (!clock_runs(s))
		return;
	g = guest_time(s, now_real);
	if (g.sec > s->upd_sec) {
		s->cmos[RTC_REG_C] |= RTC_C_UF;
		if (alarm_between(s, s->upd_sec, g.sec))
			s->cmos[RTC_REG_C] |= RTC_C_AF;
	}
	s->upd_sec = g.sec;
}

static void advance(struct rtc_state *s, uint64_t now_mono, uint64_t now_real)
{
	periodic_advance(s, now_mono);
	update_advance(s, now_real);
	s->last_mono = now_mono;
	s->last_real = now_real;
}

/*
 * A write to A or B may stop or start the clock. Stopping freezes the
 * registers at the current time. Starting takes the time from them: on
 * clearing SET the divider keeps its phase; when the divider leaves reset
 * "the first update cycle begins one-half second later" (register A, DV).
 */
static void clock_transition(struct rtc_state *s, uint8_t old_a, uint8_t old_b,
			     uint64_t now_real)
{
	bool was = divider_runs(old_a) && !(old_b & RTC_B_SET);
	bool is = clock_runs(s);
	bool released = !divider_runs(old_a) && divider_runs(reg(s, RTC_REG_A));
	struct rtc_gtime g = guest_time(s, now_real);
	int64_t sec;

	if (was && !is) {
		snapshot(s, g.sec);
		return;
	}
	if (!released && (was || !is))
		return;
	sec = image_sec(s);
	s->dow_off = image_dow_off(s, sec);
	set_guest_time(s, now_real, sec, released ? NSEC_PER_SEC / 2 : g.nsec);
	s->upd_sec = sec;
}

/* A running clock register written: that field changes, the divider's
 * phase does not (no update cycle happens). */
static void clock_reg_write(struct rtc_state *s, unsigned idx, uint8_t val,
			    uint64_t now_real)
{
	struct rtc_gtime g;
	int64_t sec;

	if (!clock_runs(s)) {
		s->cmos[idx] = val;
		return;
	}
	g = guest_time(s, now_real);
	snapshot(s, g.sec);
	s->cmos[idx] = val;
	sec = image_sec(s);
	s->dow_off = image_dow_off(s, sec);
	set_guest_time(s, now_real, sec, g.nsec);
	s->upd_sec = sec;
}

static void reg_a_write(struct rtc_state *s, uint8_t val, uint64_t now_mono,
			uint64_t now_real)
{
	uint8_t old = reg(s, RTC_REG_A);

	/* "Register A": UIP is read-only. */
	s->cmos[RTC_REG_A] = val & (uint8_t)~RTC_A_UIP;
	clock_transition(s, old, reg(s, RTC_REG_B), now_real);
	if ((old ^ val) & (RTC_A_DV | RTC_A_RS))
		per_rebase(s, now_mono, now_real);
}

/* "Register B": SET going to 1 clears UIE (as MAME and QEMU do); SQWE
 * and DSE are kept without effect (no SQW pin, no daylight saving). */
static void reg_b_write(struct rtc_state *s, uint8_t val, uint64_t now_real)
{
	uint8_t old = reg(s, RTC_REG_B);

	if ((val & RTC_B_SET) && !(old & RTC_B_SET))
		val &= (uint8_t)~RTC_B_UIE;
	s->cmos[RTC_REG_B] = val;
	clock_transition(s, reg(s, RTC_REG_A), old, now_real);
}

/* "Register C": reading returns the flags and clears them all. */
static uint8_t reg_c_read(struct rtc_state *s, uint64_t now_mono)
{
	uint8_t v = reg(s, RTC_REG_C) & RTC_C_FLAGS;

	if (rtc_irq(s))
		v |= RTC_C_IRQF;
	s->cmos[RTC_REG_C] = 0;
	if (s->owed)
		s->owed_next = sat_add(now_mono, catchup_ns(s));
	return v;
}

static void put16(uint8_t *p, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/*
 * CMOS memory as QEMU's pc_cmos_init() and SeaBIOS read it: base memory
 * (at most 640 KiB), extended memory from 1 MiB in KiB (0x17 and its copy
 * at 0x30, capped at 0xffff), memory from 16 MiB to the end of low RAM in
 * 64 KiB blocks, memory above 4 GiB in 64 KiB blocks (0x5b-0x5d) and the
 * CPU count less one (0x5f). Equipment byte (IBM PC/AT Technical
 * Reference): math coprocessor present, no diskette drive, primary display
 * 00 (EGA/VGA or none). The AT checksum of 0x10-0x2d goes in 0x2e-0x2f.
 */
static void cmos_memory(struct rtc_state *s, uint64_t mem, uint64_t low,
			unsigned cpus)
{
	uint8_t *m = s->cmos;
	uint64_t above, v;
	unsigned i, sum = 0;

	if (low > mem)
		low = mem;
	above = mem - low;
	put16(m + RTC_CMOS_BASE_KB, low / KIB < 640 ? low / KIB : 640);
	v = low > MIB ? (low - MIB) / KIB : 0;
	put16(m + RTC_CMOS_EXT_KB, v);
	put16(m + RTC_CMOS_EXT_KB2, v);
	put16(m + RTC_CMOS_HIGH_64K,
	      low > 16 * MIB ? (low - 16 * MIB) / 65536 : 0);
	v = above / 65536;
	if (v > 0xffffff)
		v = 0xffffff;
	m[RTC_CMOS_ABOVE_4G_64K] = (uint8_t)v;
	m[RTC_CMOS_ABOVE_4G_64K + 1] = (uint8_t)(v >> 8);
	m[RTC_CMOS_ABOVE_4G_64K + 2] = (uint8_t)(v >> 16);
	m[RTC_CMOS_CPUS] = (uint8_t)(!cpus ? 0 : cpus > 256 ? 255 : cpus - 1);
	m[RTC_CMOS_EQUIPMENT] = 0x02;
	for (i = 0x10; i < RTC_CMOS_CHECKSUM; i++)
		sum += m[i];
	m[RTC_CMOS_CHECKSUM] = (uint8_t)(sum >> 8);
	m[RTC_CMOS_CHECKSUM + 1] = (uint8_t)sum;
}

void rtc_reset(struct rtc_state *s, uint64_t mem_bytes, uint64_t low_mem_bytes,
	       unsigned cpus, uint64_t now_mono, uint64_t now_real)
{
	*s = (struct rtc_state){ .index = 0 };
	s->cmos[RTC_REG_A] = RTC_DV_RUNNING | 0x06;
	s->cmos[RTC_REG_B] = RTC_B_24H;
	s->cmos[RTC_REG_D] = RTC_D_VRT;
	cmos_memory(s, mem_bytes, low_mem_bytes, cpus);
	set_guest_time(s, now_real, (int64_t)(now_real / NSEC_PER_SEC),
		       (uint32_t)(now_real % NSEC_PER_SEC));
	s->upd_sec = (int64_t)(now_real / NSEC_PER_SEC);
	s->last_mono = now_mono;
	s->last_real = now_real;
	per_rebase(s, now_mono, now_real);
}

bool rtc_state_valid(const struct rtc_state *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < sizeof(s->pad); i++)
		if (s->pad[i])
			return false;
	if (s->index >= RTC_CMOS_SIZE || s->nmi_off > 1 || s->dow_off > 6)
		return false;
	if (s->off_nsec >= NSEC_PER_SEC || s->off_sec > RTC_OFF_MAX ||
	    s->off_sec < -RTC_OFF_MAX)
		return false;
	if (s->upd_sec > RTC_SEC_MAX || s->upd_sec < -RTC_SEC_MAX)
		return false;
	if (s->owed > RTC_OWED_MAX || (reg(s, RTC_REG_A) & RTC_A_UIP))
		return false;
	if (reg(s, RTC_REG_C) & ~RTC_C_FLAGS)
		return false;
	return reg(s, RTC_REG_D) == RTC_D_VRT;
}

/* "UIP": 1 from tBUC (244 us) before the update until it is done. */
static bool update_in_progress(const struct rtc_state *s, uint64_t now_real)
{
	return clock_runs(s) &&
	       guest_time(s, now_real).nsec >= NSEC_PER_SEC - RTC_UIP_NS;
}

uint8_t rtc_read(struct rtc_state *s, uint16_t port, uint64_t now_mono,
		 uint64_t now_real)
{
	unsigned idx = s->index;
	struct rtc_tm tm;

	/* Port 0x70 is write-only on a PC; the bus floats high. */
	if (port != RTC_PORT_DATA)
		return 0xff;
	advance(s, now_mono, now_real);
	if (is_clock_reg(idx) && clock_runs(s)) {
		tm_from_sec(guest_time(s, now_real).sec, &tm);
		return clock_reg(s, &tm, idx);
	}
	switch (idx) {
	case RTC_REG_A:
		return (uint8_t)(reg(s, RTC_REG_A) |
				 (update_in_progress(s, now_real) ? RTC_A_UIP
								  : 0));
	case RTC_REG_C:
		return reg_c_read(s, now_mono);
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return reg(s, idx);
	}
}

void rtc_write(struct rtc_state *s, uint16_t port, uint8_t val,
	       uint64_t now_mono, uint64_t now_real)
{
	unsigned idx = s->index;

	if (port == RTC_PORT_INDEX) {
		s->index = val & 0x7f;
		s->nmi_off = val >> 7;
		return;
	}
	if (port != RTC_PORT_DATA)
		return;
	advance(s, now_mono, now_real);
	if (is_clock_reg(idx)) {
		clock_reg_write(s, idx, val, now_real);
		return;
	}
	switch (idx) {
	case RTC_REG_A:
		reg_a_write(s, val, now_mono, now_real);
		break;
	case RTC_REG_B:
		reg_b_write(s, val, now_real);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		/* Read-only. */
		break;
	default:
		s->cmos[idx] = val;
	}
}

/* The next update cycle, or alarm, in mono ns from the last call. */
static uint64_t update_deadline(const struct rtc_state *s)
{
	struct rtc_gtime g = guest_time(s, s->last_real);
	uint64_t next = sat_add(s->last_mono, NSEC_PER_SEC - g.nsec);
	uint64_t d = 0;
	uint32_t w;

	if (reg(s, RTC_REG_B) & RTC_B_UIE)
		d = next;
	if (reg(s, RTC_REG_B) & RTC_B_AIE) {
		w = alarm_wait(s, floor_mod(g.sec, SECS_PER_DAY));
		if (w)
			d = earliest(d, sat_add(next, (w - 1) * NSEC_PER_SEC));
	}
	return d;
}

/* Owed interrupts are due at once or at the next catch-up step. */
static uint64_t owed_due(const struct rtc_state *s)
{
	uint64_t t = s->owed_next > s->last_mono ? s->owed_next : s->last_mono;

	return t ? t : 1;
}

uint64_t rtc_deadline(const struct rtc_state *s)
{
	uint32_t pc = period_clocks(reg(s, RTC_REG_A));
	uint64_t d = 0;

	if (pc && (reg(s, RTC_REG_B) & RTC_B_PIE)) {
		d = per_next(s, pc);
		if (s->owed && !(reg(s, RTC_REG_C) & RTC_C_PF))
			d = earliest(d, owed_due(s));
	}
	if (clock_runs(s) && (reg(s, RTC_REG_B) & (RTC_B_UIE | RTC_B_AIE)))
		d = earliest(d, update_deadline(s));
	return d;
}

void rtc_tick(struct rtc_state *s, uint64_t now_mono, uint64_t now_real)
{
	advance(s, now_mono, now_real);
}

/* "IRQF": PF.PIE + AF.AIE + UF.UIE; the enables share the flags' bits. */
bool rtc_irq(const struct rtc_state *s)
{
	return reg(s, RTC_REG_C) & reg(s, RTC_REG_B) & RTC_C_FLAGS;
}
