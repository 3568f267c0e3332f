/*
 * Intel 8254 programmable interval timer (Intel 82C54 datasheet, order
 * number 231244-006; quoted section names refer to it), as wired on a PC.
 *
 * Everything here is a pure function of struct pit_state and its
 * arguments; see pit.h for the contract.
 *
 * A counting sequence is described by its progress d: the CLK pulses
 * counted since the CE was loaded with n (d_base at start_ns, then one per
 * 1/1.193182 us while counting). "Mode Definitions" give OUT and the CE as
 * functions of d, so a read computes them instead of simulating the clock.
 *
 * One simplification: the datasheet loads a count into the CE "on the next
 * CLK pulse" after it is written; we take that pulse to be the write
 * itself, as QEMU and KVM do, so OUT in mode 0 rises N clocks (not N + 1)
 * after an initial count N is written. The 838 ns cannot be seen through
 * port I/O exits. The status byte's null count does last one clock.
 *
 * Invariants kept by every function (and checked by pit_state_valid()):
 *  - n is 1..65536, and 1 <= rw <= 3;
 *  - the gates of channels 0 and 1 are high (tied to +5 V on a PC);
 *  - counting implies a count was loaded, and in modes 0, 2, 3 and 4 that
 *    the gate is high ("GATE = 0 disables counting");
 *  - a pending count (sw_ns) exists only in modes 2 and 3 while counting.
 */
#include <stddef.h>

#include "pit.h"

#define NSEC_PER_SEC 1000000000ull
#define PIT_REFRESH_CLOCKS 18 /* BIOS refresh: channel 1, mode 2, count 18 */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Whole CLK pulses in dt ns: floor(dt * HZ / 1e9), exact in 64 bits. */
static uint64_t clocks(uint64_t dt)
{
	return dt / NSEC_PER_SEC * PIT_CLOCK_HZ +
	       dt % NSEC_PER_SEC * PIT_CLOCK_HZ / NSEC_PER_SEC;
}

/* The first ns offset by which k pulses have passed: ceil(k * 1e9 / HZ).
 * clocks(x) >= k exactly when x >= clocks_ns(k). */
static uint64_t clocks_ns(uint64_t k)
{
	uint64_t q = k / PIT_CLOCK_HZ, r = k % PIT_CLOCK_HZ;

	if (q > UINT64_MAX / NSEC_PER_SEC - 1)
		return UINT64_MAX;
	return q * NSEC_PER_SEC +
	       (r * NSEC_PER_SEC + PIT_CLOCK_HZ - 1) / PIT_CLOCK_HZ;
}

/* "Mode Definitions": modes 6 and 7 are the "X10" and "X11" of 2 and 3. */
static unsigned mode_of(const struct pit_channel *c)
{
	return c->mode > 5 ? c->mode - 4u : c->mode;
}

static bool periodic(const struct pit_channel *c)
{
	return mode_of(c) == 2 || mode_of(c) == 3;
}

static uint32_t modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/*
 * "Write Operations": an initial count of 0 is the largest, 2^16 in binary
 * and 10^4 in BCD. A BCD count with digits above 9 is taken digit by digit.
 */
static uint32_t cr_count(const struct pit_channel *c)
{
	uint32_t v = c->cr;

	if (c->bcd)
		v = (v >> 12) * 1000 + (v >> 8 & 0xf) * 100 +
		    (v >> 4 & 0xf) * 10 + (v & 0xf);
	return v ? v : modulus(c);
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 |
			  (v / 10 % 10) << 4 | v % 10);
}

/* Progress of the sequence at time t. */
static uint64_t clock_at(const struct pit_channel *c, uint64_t t)
{
	if (!c->counting || t <= c->start_ns)
		return c->d_base;
	return c->d_base + clocks(t - c->start_ns);
}

/* The time the sequence reaches progress d (d > d_base). */
static uint64_t time_of(const struct pit_channel *c, uint64_t d)
{
	return sat_add(c->start_ns, clocks_ns(d - c->d_base));
}

/* The channel once its pending count has taken over at sw_ns. */
static struct pit_channel switched(const struct pit_channel *c)
{
	struct pit_channel v = *c;

	v.n = cr_count(c);
	v.start_ns = c->sw_ns;
	v.d_base = c->sw_base;
	v.sw_ns = 0;
	v.sw_base = 0;
	return v;
}

/* The channel as it is at time t. */
static struct pit_channel view(const struct pit_channel *c, uint64_t t)
{
	if (c->sw_ns && t >= c->sw_ns)
		return switched(c);
	return *c;
}

/*
 * "Mode Definitions", OUT at progress d. Mode 0: low from the control
 * word until the count expires. Mode 1: low from the trigger for n
 * clocks. Mode 2: low for the one clock at count 1. Mode 3: high for
 * (n + 1) / 2 clocks, low for n / 2. Modes 4 and 5: low for the one clock
 * at count 0. In modes 2 and 3 GATE = 0 forces OUT high; in 0 and 4 the
 * gate has no effect on OUT.
 */
static bool out_at(const struct pit_channel *c, uint64_t d)
{
	switch (mode_of(c)) {
	case 0:
		return c->loaded && d >= c->n;
	case 1:
		return !c->counting || d >= c->n;
	case 2:
		return !c->counting || d % c->n != c->n - 1;
	case 3:
		return !c->counting || d % c->n < (c->n + 1) / 2;
	case 4:
		return !c->loaded || d != c->n;
	default:
		return !c->counting || d != c->n;
	}
}

/*
 * The CE at progress d, modulo 2^16 or 10^4. Modes 0, 1, 4, 5 wrap after
 * 0 and keep counting. Mode 3 counts down by two: from n (even) or n - 1
 * (odd), reloaded at each half-cycle (the "Mode 3" implementation notes).
 */
static uint32_t ce_at(const struct pit_channel *c, uint64_t d)
{
	uint64_t m = modulus(c), n = c->n, p, h;

	switch (mode_of(c)) {
	case 2:
		return (uint32_t)((c->counting ? n - d % n : n) % m);
	case 3:
		if (!c->counting)
			return (uint32_t)(n % m);
		p = d % n;
		h = (n + 1) / 2;
		if (p >= h)
			p -= h;
		return (uint32_t)(((n & ~1ull) - 2 * p) % m);
	default:
		if (!c->counting && (mode_of(c) == 1 || mode_of(c) == 5))
			return (uint32_t)(n % m);
		return (uint32_t)((n % m + m - d % m) % m);
	}
}

/* The next progress value after d at which OUT rises, or 0. A count of 1
 * is illegal in modes 2 and 3; OUT then stays at one level. */
static uint64_t next_rise(const struct pit_channel *c, uint64_t d)
{
	if (!c->counting)
		return 0;
	switch (mode_of(c)) {
	case 0:
	case 1:
		return d < c->n ? c->n : 0;
	case 2:
	case 3:
		return c->n > 1 ? (d / c->n + 1) * c->n : 0;
	default:
		return d <= c->n ? c->n + 1ull : 0;
	}
}

/* Rising edges of OUT with progress in (da, db]. */
static uint64_t rises(const struct pit_channel *c, uint64_t da, uint64_t db)
{
	uint64_t e;

	if (!c->counting || db <= da)
		return 0;
	if (periodic(c))
		return c->n > 1 ? db / c->n - da / c->n : 0;
	e = next_rise(c, da);
	return e && e <= db;
}

static uint64_t seq_rises(const struct pit_channel *c, uint64_t a, uint64_t b)
{
	return rises(c, clock_at(c, a), clock_at(c, b));
}

/* Rising edges of OUT at times in (a, b], across a pending count. */
static uint64_t edges_between(const struct pit_channel *c, uint64_t a,
			      uint64_t b)
{
	struct pit_channel v;
	uint64_t k = 0;

	if (b <= a)
		return 0;
	if (!c->sw_ns || b < c->sw_ns)
		return seq_rises(c, a, b);
	if (a < c->sw_ns)
		k = seq_rises(c, a, c->sw_ns);
	v = switched(c);
	return k + seq_rises(&v, a < c->sw_ns ? c->sw_ns : a, b);
}

static uint64_t seq_next(const struct pit_channel *c, uint64_t a)
{
	uint64_t e = next_rise(c, clock_at(c, a));

	return e ? time_of(c, e) : 0;
}

/* The time of the first rising edge of OUT after a, or 0. */
static uint64_t next_edge(const struct pit_channel *c, uint64_t a)
{
	struct pit_channel v;
	uint64_t t;

	if (!c->sw_ns || a >= c->sw_ns) {
		v = view(c, a);
		return seq_next(&v, a);
	}
	t = seq_next(c, a);
	if (t && t <= c->sw_ns)
		return t;
	v = switched(c);
	return seq_next(&v, c->sw_ns);
}

static bool chan_out(const struct pit_channel *c, uint64_t now)
{
	struct pit_channel v = view(c, now);

	return out_at(&v, clock_at(&v, now));
}

static uint16_t count_now(const struct pit_channel *c, uint64_t now)
{
	struct pit_channel v = view(c, now);
	uint32_t ce = ce_at(&v, clock_at(&v, now));

	return c->bcd ? to_bcd(ce) : (uint16_t)ce;
}

/* "Read-Back Command", status format: OUT, null count, then the control
 * word's RW, M and BCD fields as programmed. */
static uint8_t status_of(const struct pit_channel *c, uint64_t now)
{
	uint8_t st = (uint8_t)(c->rw << 4 | c->mode << 1 | c->bcd);

	if (chan_out(c, now))
		st |= PIT_ST_OUT;
	if (now < c->nc_ns)
		st |= PIT_ST_NULL;
	return st;
}

/* The CE takes the CR at now and counts from 0 (a load or a trigger). */
static void restart(struct pit_channel *c, uint64_t now)
{
	c->n = cr_count(c);
	c->start_ns = now;
	c->d_base = 0;
	c->sw_ns = 0;
	c->sw_base = 0;
}

/* Null count clears one CLK pulse after the CR is moved into the CE. */
static void loaded_into_ce(struct pit_channel *c, uint64_t now)
{
	if (c->nc_ns > now)
		c->nc_ns = sat_add(now, clocks_ns(1));
}

/*
 * "Mode 2" and "Mode 3": a count written while counting does not affect
 * the current sequence; it is loaded at the end of the current period
 * (mode 3: half-cycle). Ending a high half-cycle, the new count starts in
 * its low half, i.e. at d = (n + 1) / 2.
 */
static void pend(struct pit_channel *c, uint64_t now)
{
	uint64_t d = clock_at(c, now), n = c->n, h = (n + 1) / 2;
	uint64_t p = d % n, e = d - p + n;

	c->sw_base = 0;
	if (mode_of(c) == 3 && p < h) {
		e = d - p + h;
		c->sw_base = (cr_count(c) + 1) / 2;
	}
	c->sw_ns = time_of(c, e);
	c->nc_ns = c->sw_ns;
}

/* "Write Operations": a whole count is in the CR; when does it count? */
static void load(struct pit_channel *c, uint64_t now)
{
	bool was_loaded = c->loaded;

	c->loaded = 1;
	c->nc_ns = UINT64_MAX;
	switch (mode_of(c)) {
	case 0:
	case 4:
		/* A new count restarts the sequence on the next pulse. */
		restart(c, now);
		c->counting = c->gate;
		loaded_into_ce(c, now);
		break;
	case 1:
	case 5:
		/* The CE takes the new count only on the next trigger. */
		break;
	default:
		if (was_loaded && c->counting) {
			pend(c, now);
			break;
		}
		/* First count, or gate low: the trigger will load it. */
		restart(c, now);
		c->counting = c->gate;
		if (c->gate)
			loaded_into_ce(c, now);
	}
}

static void counter_write(struct pit_channel *c, uint8_t val, uint64_t now)
{
	switch (c->rw) {
	case PIT_RW_LSB:
		c->cr = val;
		break;
	case PIT_RW_MSB:
		c->cr = (uint16_t)(val << 8);
		break;
	default:
		if (!c->wr_msb) {
			c->wr_lsb = val;
			c->wr_msb = 1;
			/* "Mode 0": writing the first byte disables counting
			 * and sets OUT low at once. */
			if (mode_of(c) == 0) {
				c->d_base = clock_at(c, now);
				c->counting = 0;
				c->loaded = 0;
			}
			return;
		}
		c->wr_msb = 0;
		c->cr = (uint16_t)(c->wr_lsb | val << 8);
	}
	load(c, now);
}

/* "Counter Latch Command": a second latch before the count is read is
 * ignored. */
static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->ol_bytes)
		return;
	c->ol = count_now(c, now);
	c->ol_bytes = c->rw == PIT_RW_WORD ? 2 : 1;
}

/* "Read-Back Command": bit 5 low latches the counts, bit 4 low the
 * status, of the counters selected by bits 1-3. A latched status stays
 * until read, as does a latched count. */
static void read_back(struct pit_state *s, uint8_t val, uint64_t now)
{
	struct pit_channel *c;
	unsigned i;

	for (i = 0; i < PIT_CHANNELS; i++) {
		if (!(val & 2u << i))
			continue;
		c = &s->ch[i];
		if (!(val & PIT_RB_COUNT))
			latch_count(c, now);
		if (!(val & PIT_RB_STATUS) && !c->status_latched) {
			c->status = status_of(c, now);
			c->status_latched = 1;
		}
	}
}

/*
 * "Control Word Format". A control word resets the counter's control
 * logic ("Write Operations"): the byte flip-flops and latches clear, OUT
 * goes to its initial state (low in mode 0, high otherwise) and nothing
 * counts until a count is written.
 */
static void control_write(struct pit_state *s, uint8_t val, uint64_t now)
{
	unsigned sc = val >> 6, rw = (val & PIT_CW_RW) >> 4;
	struct pit_channel *c;

	if (sc == 3) {
		read_back(s, val, now);
		return;
	}
	c = &s->ch[sc];
	if (!rw) {
		latch_count(c, now);
		return;
	}
	c->mode = (val & PIT_CW_M) >> 1;
	c->rw = (uint8_t)rw;
	c->bcd = val & PIT_CW_BCD;
	c->loaded = 0;
	c->counting = 0;
	c->d_base = 0;
	c->sw_ns = 0;
	c->sw_base = 0;
	c->nc_ns = UINT64_MAX;
	c->wr_msb = 0;
	c->rd_msb = 0;
	c->ol_bytes = 0;
	c->status_latched = 0;
}

/*
 * "Read Operations": a latched status comes first, then a latched count
 * (its bytes as RW says), else the live CE; in LSB-then-MSB mode the live
 * reads alternate bytes.
 */
static uint8_t counter_read(struct pit_channel *c, uint64_t now)
{
	uint16_t v;
	bool msb;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->ol_bytes) {
		msb = c->rw == PIT_RW_MSB ||
		      (c->rw == PIT_RW_WORD && c->ol_bytes == 1);
		c->ol_bytes--;
		v = c->ol;
	} else {
		msb = c->rw == PIT_RW_MSB ||
		      (c->rw == PIT_RW_WORD && c->rd_msb);
		if (c->rw == PIT_RW_WORD)
			c->rd_msb ^= 1;
		v = count_now(c, now);
	}
	return (uint8_t)(msb ? v >> 8 : v);
}

/*
 * The gate of channel 2 ("Mode Definitions", gate column of the summary
 * table). Modes 0 and 4: low suspends counting. Modes 1 and 5: a rising
 * edge (trigger) loads the CR and starts the sequence. Modes 2 and 3: low
 * stops counting and sets OUT high; a trigger reloads the count.
 */
static void gate_set(struct pit_channel *c, bool high, uint64_t now)
{
	bool rise = high && !c->gate, fall = !high && c->gate;

	c->gate = high;
	if (mode_of(c) == 0 || mode_of(c) == 4) {
		if (fall && c->counting) {
			c->d_base = clock_at(c, now);
			c->counting = 0;
		}
		if (rise && c->loaded) {
			c->start_ns = now;
			c->counting = 1;
		}
		return;
	}
	if (fall && periodic(c)) {
		c->counting = 0;
		if (c->sw_ns)
			c->nc_ns = UINT64_MAX;
		c->sw_ns = 0;
		c->sw_base = 0;
	}
	if (rise && c->loaded) {
		restart(c, now);
		c->counting = 1;
		loaded_into_ce(c, now);
	}
}

static void owe(struct pit_state *s, uint64_t k)
{
	uint64_t total = s->owed + k;

	s->owed = total > PIT_OWED_MAX ? PIT_OWED_MAX : (uint32_t)total;
}

/* Count the OUT0 edges up to now, then let due pending counts take over
 * (in that order, so the edges before the switch are not lost). */
static void advance(struct pit_state *s, uint64_t now)
{
	unsigned i;

	if (now > s->edges_ns) {
		owe(s, edges_between(&s->ch[0], s->edges_ns, now));
		s->edges_ns = now;
	}
	for (i = 0; i < PIT_CHANNELS; i++)
		if (s->ch[i].sw_ns && now >= s->ch[i].sw_ns)
			s->ch[i] = switched(&s->ch[i]);
}

/* Owed edges come min(period / 4, 1 ms) apart: fast enough to catch up
 * with the counter, slow enough for the guest to take each one. */
static uint64_t catchup_ns(const struct pit_state *s)
{
	uint64_t ns = clocks_ns(s->ch[0].n) / 4;

	if (ns > PIT_CATCHUP_MAX_NS)
		ns = PIT_CATCHUP_MAX_NS;
	return ns ? ns : 1;
}

void pit_reset(struct pit_state *s)
{
	unsigned i;

	*s = (struct pit_state){ .owed = 0 };
	for (i = 0; i < PIT_CHANNELS; i++)
		s->ch[i] = (struct pit_channel){
			.mode = 3,
			.rw = PIT_RW_WORD,
			.n = 65536,
			.gate = i != 2,
			.nc_ns = UINT64_MAX,
		};
}

static bool flags_valid(const struct pit_channel *c)
{
	if (c->bcd > 1 || c->gate > 1 || c->loaded > 1 || c->counting > 1)
		return false;
	if (c->wr_msb > 1 || c->rd_msb > 1 || c->status_latched > 1)
		return false;
	if (c->ol_bytes > 2)
		return false;
	return c->rw == PIT_RW_WORD ||
	       (!c->wr_msb && !c->rd_msb && c->ol_bytes < 2);
}

static bool channel_valid(const struct pit_channel *c, unsigned i)
{
	unsigned m = mode_of(c);

	if (c->mode > 7 || c->rw < PIT_RW_LSB || c->rw > PIT_RW_WORD)
		return false;
	if (!flags_valid(c) || c->n < 1 || c->n > 65536)
		return false;
	if (i < 2 && !c->gate)
		return false;
	if (c->counting && !c->loaded)
		return false;
	if (c->counting && !c->gate && m != 1 && m != 5)
		return false;
	if (!c->sw_ns)
		return !c->sw_base;
	return periodic(c) && c->counting && c->sw_base <= cr_count(c);
}

bool pit_state_valid(const struct pit_state *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < sizeof(s->pad); i++)
		if (s->pad[i])
			return false;
	for (i = 0; i < PIT_CHANNELS; i++)
		if (!channel_valid(&s->ch[i], (unsigned)i))
			return false;
	return s->owed <= PIT_OWED_MAX && s->speaker <= 1;
}

bool pit_out(const struct pit_state *s, unsigned ch, uint64_t now)
{
	return ch < PIT_CHANNELS && chan_out(&s->ch[ch], now);
}

static uint8_t sysctl_read(const struct pit_state *s, uint64_t now)
{
	uint8_t v = (uint8_t)(s->ch[2].gate | s->speaker << 1);

	if (clocks(now) / PIT_REFRESH_CLOCKS & 1)
		v |= PIT_SC_REFRESH;
	if (chan_out(&s->ch[2], now))
		v |= PIT_SC_OUT2;
	return v;
}

uint8_t pit_read(struct pit_state *s, uint16_t port, uint64_t now)
{
	switch (port) {
	case PIT_PORT_CH0:
	case PIT_PORT_CH1:
	case PIT_PORT_CH2:
		advance(s, now);
		return counter_read(&s->ch[port - PIT_PORT_CH0], now);
	case PIT_PORT_SYSCTL:
		return sysctl_read(s, now);
	default:
		/* A1 A0 = 11 on a read is "No-Operation (3-State)": the
		 * undriven ISA bus reads all ones. */
		return 0xff;
	}
}

void pit_write(struct pit_state *s, uint16_t port, uint8_t val, uint64_t now)
{
	bool was_high = pit_out(s, 0, now);

	advance(s, now);
	switch (port) {
	case PIT_PORT_CH0:
	case PIT_PORT_CH1:
	case PIT_PORT_CH2:
		counter_write(&s->ch[port - PIT_PORT_CH0], val, now);
		break;
	case PIT_PORT_CTRL:
		control_write(s, val, now);
		break;
	case PIT_PORT_SYSCTL:
		s->speaker = !!(val & PIT_SC_SPEAKER);
		gate_set(&s->ch[2], val & PIT_SC_GATE2, now);
		break;
	default:
		return;
	}
	/* A write can raise OUT0 at once (a control word for modes 1-5
	 * after mode 0); the interrupt controller sees that edge too. */
	if (!was_high && pit_out(s, 0, now))
		owe(s, 1);
}

uint64_t pit_deadline(const struct pit_state *s)
{
	uint64_t t;

	if (!s->owed)
		return next_edge(&s->ch[0], s->edges_ns);
	/* Owed edges are due at once or at the next catch-up step. */
	t = s->owed_next_ns > s->edges_ns ? s->owed_next_ns : s->edges_ns;
	return t ? t : 1;
}

unsigned pit_flush(struct pit_state *s, uint64_t now)
{
	unsigned n;

	advance(s, now);
	n = s->owed;
	s->owed = 0;
	return n;
}

unsigned pit_tick(struct pit_state *s, uint64_t now)
{
	advance(s, now);
	if (!s->owed || now < s->owed_next_ns)
		return 0;
	s->owed--;
	s->owed_next_ns = sat_add(now, catchup_ns(s));
	return 1;
}
