/*
 * Intel 8254 programmable interval timer plus the PC's system control port
 * B (0x61): pure register logic, no system calls.
 *
 * The state lives in the device's state page (state.h): everything the
 * model knows is in struct pit_state, with no pointers and no globals. Time
 * comes in as an argument (CLOCK_MONOTONIC ns); the model never reads a
 * clock. A counter's value and OUT level are functions of the time its
 * count was loaded, so nothing has to run between two calls.
 *
 * Interrupts: IRQ0 is channel 0's OUT. The interrupt controllers latch its
 * rising edges, so the caller asks pit_deadline() when the next one is due,
 * calls pit_tick() then, and pulses IRQ0 once for every edge pit_tick()
 * reports. Edges fall at load time + k * period on the 1.193182 MHz clock,
 * never at "now + period", so the rate does not drift however late the
 * caller is. A caller that was away for several periods (its process died
 * and was restarted) gets one edge at once and the rest, up to
 * PIT_OWED_MAX, one at a time every min(period / 4, 1 ms): a guest that
 * counts timer interrupts loses none.
 *
 * Port 0x61 as QEMU's pcspk models it: bit 0 channel 2 gate (RW), bit 1
 * speaker data enable (RW, no sound), bit 4 refresh toggle (RO), bit 5
 * channel 2 OUT (RO); bits 2-3 and 6-7 read as 0 and are not kept. The
 * refresh bit follows DRAM refresh, which PC BIOSes run from channel 1 at
 * 18 clocks (15.085 us); here it is derived from time alone.
 */
#ifndef CELLVM_PIT_H
#define CELLVM_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_CLOCK_HZ 1193182u /* 14.31818 MHz / 12 on every PC */
#define PIT_CHANNELS 3
#define PIT_OWED_MAX 1000u /* OUT0 edges pending at most, this one included */
#define PIT_CATCHUP_MAX_NS 1000000u /* owed edges: at most 1 ms apart */

#define PIT_PORT_CH0 0x40
#define PIT_PORT_CH1 0x41
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CTRL 0x43   /* control word register, write only */
#define PIT_PORT_SYSCTL 0x61 /* system control port B */

/* Control word (8254 datasheet, "Control Word Format"). */
#define PIT_CW_SC 0xc0	   /* select counter; 3 = read-back */
#define PIT_CW_RW 0x30	   /* 0 = counter latch command */
#define PIT_CW_M 0x0e	   /* mode */
#define PIT_CW_BCD 0x01	   /* BCD counting, 4 decades */
#define PIT_RW_LSB 1	   /* least significant byte only */
#define PIT_RW_MSB 2	   /* most significant byte only */
#define PIT_RW_WORD 3	   /* LSB first, then MSB */
#define PIT_RB_COUNT 0x20  /* read-back: 0 = latch count */
#define PIT_RB_STATUS 0x10 /* read-back: 0 = latch status */

/* Status byte ("Read-Back Command", status format). */
#define PIT_ST_OUT 0x80
#define PIT_ST_NULL 0x40

/* Port 0x61. */
#define PIT_SC_GATE2 0x01
#define PIT_SC_SPEAKER 0x02
#define PIT_SC_REFRESH 0x10
#define PIT_SC_OUT2 0x20

/*
 * One counter. While counting, its progress is d = d_base + the clocks
 * since start_ns; OUT and the count are functions of d and n. In modes 2
 * and 3 a count written while counting takes over at the end of the
 * current period (mode 3: half-cycle), at sw_ns, with d = sw_base.
 */
struct pit_channel {
	uint64_t start_ns; /* d = d_base at this time */
	uint64_t d_base;   /* clocks counted before start_ns */
	uint64_t sw_ns;	   /* modes 2/3: when cr takes over, or 0 */
	uint64_t nc_ns;	   /* status "null count" reads 1 before this */
	uint32_t n;	   /* count of the running sequence, 1..65536 */
	uint32_t sw_base;  /* d when cr takes over */
	uint16_t cr;	   /* count register, as last written */
	uint16_t ol;	   /* output latch (latched count) */
	uint8_t mode;	   /* M2-M0 as written, 0-7 (6, 7 act as 2, 3) */
	uint8_t rw;	   /* PIT_RW_* */
	uint8_t bcd;
	uint8_t gate;
	uint8_t loaded;	  /* a whole count written since the control word */
	uint8_t counting; /* d advances (modes 1 and 5: triggered) */
	uint8_t wr_msb;	  /* PIT_RW_WORD: the next write is the MSB */
	uint8_t wr_lsb;	  /* ... and this is the LSB written before it */
	uint8_t rd_msb;	  /* PIT_RW_WORD: the next live read is the MSB */
	uint8_t ol_bytes; /* latched count bytes left to read, 0-2 */
	uint8_t status;	  /* latched status byte */
	uint8_t status_latched;
};

struct pit_state {
	struct pit_channel ch[PIT_CHANNELS];
	uint64_t edges_ns;     /* OUT0 edges up to this time are counted */
	uint64_t owed_next_ns; /* earliest time for the next owed edge */
	uint32_t owed;	       /* OUT0 edges counted, not yet reported */
	uint8_t speaker;       /* port 0x61 bit 1 */
	uint8_t pad[3];
};

/*
 * Power-on state. The datasheet leaves mode, count and OUT undefined; we
 * choose every counter idle in mode 3, LSB-then-MSB, binary, OUT high,
 * waiting for a count, so IRQ0 stays quiet until the guest programs
 * channel 0. Gates of channels 0 and 1 are tied high on a PC; channel 2's
 * comes from port 0x61 and starts low.
 */
void pit_reset(struct pit_state *s);

/* A state found in a state page: every field within its range? */
bool pit_state_valid(const struct pit_state *s);

/* Guest read of port 0x40-0x43 or 0x61 (others read 0xff). Reads of a
 * counter have side effects (latches, the byte flip-flop). */
uint8_t pit_read(struct pit_state *s, uint16_t port, uint64_t now);

/* Guest write of port 0x40-0x43 or 0x61 (others are ignored). */
void pit_write(struct pit_state *s, uint16_t port, uint8_t val, uint64_t now);

/* Level of channel ch's OUT at now (false for ch >= PIT_CHANNELS). */
bool pit_out(const struct pit_state *s, unsigned ch, uint64_t now);

/* When pit_tick() has an edge to report: the next rising edge of OUT0, or
 * the time owed edges are due. 0 = none. */
uint64_t pit_deadline(const struct pit_state *s);

/* Time passes: the number of OUT0 rising edges (0 or 1) to pulse on IRQ0
 * now. Edges beyond the first are kept as owed (see above). */
unsigned pit_tick(struct pit_state *s, uint64_t now);

/*
 * Every edge owed up to now, at once (and none owed after): for a guest
 * write to the counter, before which those edges happened. The interrupt
 * controller merges them into one request, as it would have had they come
 * on time while the guest was not taking interrupts.
 */
unsigned pit_flush(struct pit_state *s, uint64_t now);

#endif
