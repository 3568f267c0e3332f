/*
 * ACPI fixed-hardware power management: the PM1a event and control blocks
 * and the PM timer (ACPI 6.4, 4.8.3), at the ports the FADT names. Pure
 * logic; time comes in as CLOCK_MONOTONIC ns.
 *
 * cellvm is always in ACPI mode (the FADT has no SMI_CMD): SCI_EN reads 1.
 * A write of SLP_EN with SLP_TYP = ACPIPM_SLP_TYP_S5 (the DSDT's \_S5)
 * powers the machine off. The SCI (IRQ 9, level) is asserted while an
 * enabled status bit is set; the only event source is the PM timer's
 * carry out of bit 23 (TMR_STS).
 */
#ifndef CELLVM_ACPIPM_H
#define CELLVM_ACPIPM_H

#include <stdbool.h>
#include <stdint.h>

#define ACPIPM_BASE 0x600
#define ACPIPM_PORTS 12
#define ACPIPM_PM1_STS 0x600 /* 16-bit, write 1 to clear */
#define ACPIPM_PM1_EN 0x602  /* 16-bit */
#define ACPIPM_PM1_CNT 0x604 /* 16-bit */
#define ACPIPM_PM_TMR 0x608  /* 32-bit, read-only, 24 bits count */
#define ACPIPM_SCI_IRQ 9

#define ACPIPM_TMR_STS (1u << 0)
#define ACPIPM_PWRBTN_STS (1u << 8)
#define ACPIPM_WAK_STS (1u << 15)
#define ACPIPM_TMR_EN (1u << 0)
#define ACPIPM_PWRBTN_EN (1u << 8)
#define ACPIPM_SCI_EN (1u << 0)
#define ACPIPM_SLP_TYP_SHIFT 10
#define ACPIPM_SLP_TYP_MASK (7u << 10)
#define ACPIPM_SLP_EN (1u << 13)
#define ACPIPM_SLP_TYP_S5 5

#define ACPIPM_TIMER_HZ 3579545ull

struct acpipm_state {
	uint16_t sts, en, cnt;
	uint16_t pad;
	uint32_t tmr_carries; /* bit-23 carries already reported */
	uint32_t pad2;
	uint64_t base_ns; /* when the PM timer read 0 */
};

struct acpipm_effect {
	bool power_off;
};

void acpipm_reset(struct acpipm_state *s, uint64_t now);
bool acpipm_state_valid(const struct acpipm_state *s);

/* Accesses of 1, 2 or 4 bytes at port (ACPIPM_BASE..+11). */
uint32_t acpipm_read(struct acpipm_state *s, uint16_t port, unsigned size,
		     uint64_t now);
void acpipm_write(struct acpipm_state *s, uint16_t port, unsigned size,
		  uint32_t val, uint64_t now, struct acpipm_effect *fx);

/* The PM timer's next carry out of bit 23, while TMR_EN is set; or 0. */
uint64_t acpipm_deadline(const struct acpipm_state *s);
/* Time passes: latch TMR_STS for carries due. True if s changed. */
bool acpipm_tick(struct acpipm_state *s, uint64_t now);
/* The SCI level. */
bool acpipm_sci(const struct acpipm_state *s);

#endif
