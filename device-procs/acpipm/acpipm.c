#include <string.h>

#include "acpipm.h"

/* The 24-bit PM timer counts at 3.579545 MHz (ACPI 6.4, 4.8.3.3). */
static uint64_t ticks(const struct acpipm_state *s, uint64_t now)
{
	uint64_t ns = now > s->base_ns ? now - s->base_ns : 0;

	return (uint64_t)((unsigned __int128)ns * ACPIPM_TIMER_HZ /
			  1000000000u);
}

/* The time of carry number n out of bit 23 (every 2^23 ticks). */
static uint64_t carry_time(const struct acpipm_state *s, uint64_t n)
{
	unsigned __int128 t = (unsigned __int128)(n << 23) * 1000000000u;

	return s->base_ns +
	       (uint64_t)((t + ACPIPM_TIMER_HZ - 1) / ACPIPM_TIMER_HZ);
}

void acpipm_reset(struct acpipm_state *s, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->cnt = ACPIPM_SCI_EN;
	s->base_ns = now;
}

bool acpipm_state_valid(const struct acpipm_state *s)
{
	return (s->cnt & ACPIPM_SCI_EN) && !(s->cnt & ACPIPM_SLP_EN) &&
	       s->pad == 0 && s->pad2 == 0;
}

static uint32_t acpipm_reg(struct acpipm_state *s, unsigned reg, uint64_t now)
{
	switch (reg) {
	case 0:
		return s->sts | (uint32_t)s->en << 16;
	case 1:
		return s->cnt;
	case 2:
		return (uint32_t)(ticks(s, now) & 0xffffff);
	default:
		return 0;
	}
}

uint32_t acpipm_read(struct acpipm_state *s, uint16_t port, unsigned size,
		     uint64_t now)
{
	unsigned off = (unsigned)(port - ACPIPM_BASE);
	uint32_t mask = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	/* Nothing decodes outside the block: the bus floats high. */
	if (off >= ACPIPM_PORTS || size == 0 || size > 4)
		return mask;
	return (acpipm_reg(s, off / 4, now) >> (8 * (off % 4))) & mask;
}

/* One 16-bit register written with bytes [mask]. */
static uint16_t merge16(uint16_t old, uint32_t val, unsigned shift,
			unsigned size)
{
	uint32_t mask = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	uint32_t m = (mask << shift) & 0xffff;

	return (uint16_t)((old & ~m) | ((val << shift) & m));
}

void acpipm_write(struct acpipm_state *s, uint16_t port, unsigned size,
		  uint32_t val, uint64_t now, struct acpipm_effect *fx)
{
	unsigned off = (unsigned)(port - ACPIPM_BASE);
	uint16_t v;

	fx->power_off = false;
	if (off >= ACPIPM_PORTS || size == 0 || size > 4)
		return;
	if (off < 2) {
		/* PM1_STS: writing 1 clears a status bit (4.8.3.1.1). */
		v = merge16(0, val, 8 * off, size);
		s->sts &= (uint16_t)~v;
		if (size > 2 - off)
			s->en = merge16(s->en, val >> (8 * (2 - off)), 0,
					size - (2 - off));
	} else if (off < 4) {
		s->en = merge16(s->en, val, 8 * (off - 2), size);
	} else if (off < 6) {
		v = merge16(s->cnt, val, 8 * (off - 4), size);
		if ((v & ACPIPM_SLP_EN) &&
		    ((v & ACPIPM_SLP_TYP_MASK) >> ACPIPM_SLP_TYP_SHIFT) ==
			    ACPIPM_SLP_TYP_S5)
			fx->power_off = true;
		/* SLP_EN is write-only, SCI_EN fixed at 1. */
		s->cnt = (uint16_t)((v & ~ACPIPM_SLP_EN) | ACPIPM_SCI_EN);
	}
	/* The PM timer is read-only. */
	if (!(s->en & ACPIPM_TMR_EN))
		s->tmr_carries = (uint32_t)(ticks(s, now) >> 23);
}

uint64_t acpipm_deadline(const struct acpipm_state *s)
{
	if (!(s->en & ACPIPM_TMR_EN))
		return 0;
	return carry_time(s, (uint64_t)s->tmr_carries + 1);
}

bool acpipm_tick(struct acpipm_state *s, uint64_t now)
{
	uint32_t carries = (uint32_t)(ticks(s, now) >> 23);

	if (!(s->en & ACPIPM_TMR_EN) || carries == s->tmr_carries)
		return false;
	s->tmr_carries = carries;
	s->sts |= ACPIPM_TMR_STS;
	return true;
}

bool acpipm_sci(const struct acpipm_state *s)
{
	return (s->sts & s->en & (ACPIPM_TMR_STS | ACPIPM_PWRBTN_STS)) != 0;
}
