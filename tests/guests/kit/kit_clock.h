/*
 * Guest kit: time. kvmclock for measuring (ns, from the BSP's pvclock
 * page), and the PC's timer chips as interrupt sources and test subjects:
 * 8254 PIT (ports 0x40-0x43, channel 2's gate and output in port 0x61) and
 * MC146818 RTC (CMOS index 0x70, data 0x71).
 *
 * kit_clock_init() picks the clock: kvmclock when CPUID 0x40000001 offers
 * MSR_KVM_SYSTEM_TIME_NEW (KVM_FEATURE_CLOCKSOURCE2), else the TSC,
 * calibrated once against PIT channel 0 (50 ms of polling). Either works
 * before any interrupt is set up, so SMP start-up delays can use it.
 */
#ifndef CELLVM_GUEST_CLOCK_H
#define CELLVM_GUEST_CLOCK_H

#include "kit.h"

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull

/* KVM paravirtual clock (Documentation/virt/kvm/x86/msr.rst, cpuid.rst). */
#define KVM_CPUID_SIGNATURE 0x40000000
#define KVM_CPUID_FEATURES 0x40000001
#define KVM_FEATURE_CLOCKSOURCE2 3
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

/* 8254 (datasheet: control word, counter latch command). */
#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_MODE0 0 /* interrupt on terminal count */
#define PIT_MODE2 2 /* rate generator */
#define PIT_MODE3 3 /* square wave */
/* Port 0x61 (PC "port B"): gate and speaker data in, OUT2 out. */
#define PIT_PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20

/* MC146818 (datasheet: register map, registers A-D). */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* the PC's century byte (ACPI FADT default) */
#define RTC_A_UIP 0x80
#define RTC_A_DV_32K 0x20 /* divider: 32.768 kHz time base */
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10

/* Pick and start the clock; false (after one line saying why) if none. */
bool kit_clock_init(void);
/* "kvmclock" or "tsc". */
const char *kit_clock_source(void);
/* Nanoseconds on the clock; any CPU, once kit_clock_init() ran. */
uint64_t kit_clock_ns(void);
/* A TSC difference in nanoseconds. */
uint64_t kit_tsc_to_ns(uint64_t delta);

static inline uint64_t kit_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return lo | (uint64_t)hi << 32;
}

/* Busy-wait for at least ns nanoseconds. */
void kit_delay_ns(uint64_t ns);

/* Program channel (0-2) in mode with count (0 = 65536), binary. */
void kit_pit_start(unsigned channel, unsigned mode, uint32_t count);
/* The channel's count, through a counter latch command. */
uint16_t kit_pit_read(unsigned channel);
/* The divisor (count) closest to PIT_HZ / hz. */
uint32_t kit_pit_divisor(uint32_t hz);

uint8_t kit_cmos_read(uint8_t reg);
void kit_cmos_write(uint8_t reg, uint8_t v);

struct kit_rtc_time {
	unsigned year, month, day, hour, minute, second;
};

/*
 * The RTC's date and time: waits for UIP to clear, reads until two reads
 * agree, decodes BCD and 12-hour mode as register B says.
 */
void kit_rtc_read_time(struct kit_rtc_time *t);

#endif
