/*
 * Motorola MC146818A real-time clock and its 128 bytes of CMOS memory, at
 * ports 0x70 (index; bit 7 disables NMI, kept without effect) and 0x71
 * (data): pure register logic, no system calls.
 *
 * The state lives in the device's state page (state.h): everything the
 * model knows is in struct rtc_state, with no pointers and no globals. Two
 * times come in as arguments: now_mono (CLOCK_MONOTONIC ns), which paces
 * the periodic interrupt, and now_real (CLOCK_REALTIME ns), from which
 * the guest's time of day is derived: guest time = now_real + an offset
 * that only the guest changes, by writing the clock registers. The model
 * never reads a clock.
 *
 * Interrupts: IRQ 8 follows rtc_irq() (register C's IRQF). The caller asks
 * rtc_deadline() when the next periodic, update-ended or alarm event is
 * due, calls rtc_tick() then and re-publishes the line. Periodic events
 * fall at base + k * period on the 32.768 kHz divider, so they do not
 * drift. Events that came while the caller was away (its process died and
 * was restarted) are not lost: the first sets PF at once, the rest are
 * owed and each sets PF again min(period / 4, 1 ms) after the guest has
 * read register C, up to RTC_OWED_MAX. Register reads and writes bring
 * the flags up to date themselves, so a polling guest needs no ticks.
 *
 * CMOS memory is set up as PC BIOSes, SeaBIOS and QEMU (hw/i386/pc.c,
 * pc_cmos_init) lay it out; see rtc_reset().
 */
#ifndef CELLVM_RTC_H
#define CELLVM_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71
#define RTC_CMOS_SIZE 128
#define RTC_OWED_MAX 1000u	    /* periodic interrupts pending at most */
#define RTC_CATCHUP_MAX_NS 1000000u /* owed interrupts: at most 1 ms on */

/* Registers (MC146818A datasheet, "Address Map"). */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06 /* 1-7, Sunday = 1 */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* IBM PC/AT convention, ACPI FADT "CENTURY" */

#define RTC_A_UIP 0x80
#define RTC_A_DV 0x70
#define RTC_A_RS 0x0f
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM 0x04 /* 1 = binary, 0 = BCD */
#define RTC_B_24H 0x02
#define RTC_B_DSE 0x01
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80
#define RTC_HOURS_PM 0x80  /* 12-hour mode */
#define RTC_ALARM_ANY 0xc0 /* alarm byte >= this: "don't care" */

/* CMOS memory bytes set by rtc_reset() (16-bit values little-endian). */
#define RTC_CMOS_SHUTDOWN 0x0f
#define RTC_CMOS_EQUIPMENT 0x14
#define RTC_CMOS_BASE_KB 0x15	   /* 0x15-0x16: memory below 1 MiB, KiB */
#define RTC_CMOS_EXT_KB 0x17	   /* 0x17-0x18: 1 MiB..64 MiB, KiB */
#define RTC_CMOS_CHECKSUM 0x2e	   /* 0x2e-0x2f, big-endian, of 0x10-0x2d */
#define RTC_CMOS_EXT_KB2 0x30	   /* 0x30-0x31: copy of 0x17-0x18 */
#define RTC_CMOS_HIGH_64K 0x34	   /* 0x34-0x35: 16 MiB..4 GiB, 64 KiB */
#define RTC_CMOS_ABOVE_4G_64K 0x5b /* 0x5b-0x5d: above 4 GiB, 64 KiB */
#define RTC_CMOS_CPUS 0x5f	   /* CPUs - 1 */

struct rtc_state {
	int64_t off_sec;    /* guest time = now_real + off_sec s + off_nsec */
	uint64_t last_mono; /* the times of the last call */
	uint64_t last_real;
	int64_t upd_sec;    /* guest second of the last update cycle */
	uint64_t per_base;  /* mono time of a periodic edge (k = 0) */
	uint64_t per_done;  /* periodic edges up to here are counted */
	uint64_t owed_next; /* earliest mono time of the next owed PF */
	uint32_t off_nsec;  /* 0..999999999 */
	uint32_t owed;	    /* periodic interrupts owed */
	uint8_t index;	    /* port 0x70 bits 0-6 */
	uint8_t nmi_off;    /* port 0x70 bit 7 */
	uint8_t dow_off;    /* day-of-week register - weekday, mod 7 */
	uint8_t pad[5];
	/* Registers A, B, C (PF/AF/UF only), D, the alarm, the clock
	 * registers while the clock is stopped, and the CMOS memory. */
	uint8_t cmos[RTC_CMOS_SIZE];
};

/*
 * Power-on: the clock reads now_real (UTC), in BCD and 24-hour mode with
 * A = 0x26 (32.768 kHz divider, 1024 Hz rate) and B = 0x02, which is what
 * PC BIOSes program and QEMU starts with. mem_bytes is all guest RAM,
 * low_mem_bytes the part below 4 GiB (cellvm: min(mem, 3 GiB), below the
 * PCI hole); cpus the number of vCPUs.
 */
void rtc_reset(struct rtc_state *s, uint64_t mem_bytes, uint64_t low_mem_bytes,
	       unsigned cpus, uint64_t now_mono, uint64_t now_real);

/* A state found in a state page: every field within its range? */
bool rtc_state_valid(const struct rtc_state *s);

/* Guest read of port 0x70 or 0x71 (others read 0xff). Reading register C
 * clears it. */
uint8_t rtc_read(struct rtc_state *s, uint16_t port, uint64_t now_mono,
		 uint64_t now_real);

/* Guest write of port 0x70 or 0x71 (others are ignored). */
void rtc_write(struct rtc_state *s, uint16_t port, uint8_t val,
	       uint64_t now_mono, uint64_t now_real);

/* When the next periodic, update-ended or alarm interrupt is due (mono
 * ns), from the times of the last call; 0 = none. */
uint64_t rtc_deadline(const struct rtc_state *s);

/* Time passes: set PF, AF, UF (and so IRQF) as due. */
void rtc_tick(struct rtc_state *s, uint64_t now_mono, uint64_t now_real);

/* Level of IRQ 8: register C's IRQF. */
bool rtc_irq(const struct rtc_state *s);

#endif
