/*
 * Shared helpers for the 8259A PIC model tests (test_pic_*.c).
 *
 * Each test drives the model the way a guest and the IRQ-line page would:
 * port writes and reads, line levels with their rise counts, and the INTA
 * cycle. Section names refer to the Intel 8259A datasheet. The helpers are
 * static inline so that each test file links against the model alone and
 * unused ones cost no warning.
 */
#ifndef CELLVM_TESTS_UNIT_PIC_TEST_H
#define CELLVM_TESTS_UNIT_PIC_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pic.h"

#define MASTER_BASE 0x20 /* Linux's ICW2 on i386 and before 2.6.x x86_64 */
#define SLAVE_BASE 0x28
#define NS_EOI PIC_OCW2_NONSPECIFIC_EOI
#define READ_IRR (PIC_OCW3_SEL | PIC_OCW3_RR)
#define READ_ISR (PIC_OCW3_SEL | PIC_OCW3_RR | PIC_OCW3_RIS)

/* The model plus the IRQ-line page that feeds it. */
struct pic_test {
	struct pic_state s;
	uint16_t levels;
	uint32_t rises[PIC_LINES];
};

#define PIC_TEST(f) cmocka_unit_test_setup_teardown(f, pic_setup, pic_teardown)

static inline int pic_setup(void **state)
{
	struct pic_test *t = test_calloc(1, sizeof(*t));

	pic_reset(&t->s);
	*state = t;
	return 0;
}

static inline int pic_teardown(void **state)
{
	test_free(*state);
	return 0;
}

static inline void wr(struct pic_state *s, uint16_t port, uint8_t val)
{
	pic_write(s, port, val);
}

static inline uint8_t rd(struct pic_state *s, uint16_t port)
{
	return pic_read(s, port);
}

/* One chip's ICW sequence, as Linux's init_8259A() writes it. */
static inline void init_chip(struct pic_state *s, uint16_t cmd, uint8_t base,
			     uint8_t icw3, uint8_t icw4)
{
	wr(s, cmd, PIC_ICW1_INIT | PIC_ICW1_IC4);
	wr(s, cmd + 1, base);
	wr(s, cmd + 1, icw3);
	wr(s, cmd + 1, icw4);
}

/*
 * Linux's sequence: mask both, ICW1 0x11, ICW2 0x20/0x28, ICW3 4/2,
 * ICW4 1 (8086 mode, plus AEOI on the master if icw4_master says so),
 * then every input unmasked so the tests see each request.
 */
static inline void linux_init_icw4(struct pic_state *s, uint8_t icw4_master)
{
	wr(s, PIC_MASTER_DATA, 0xff);
	wr(s, PIC_SLAVE_DATA, 0xff);
	init_chip(s, PIC_MASTER_CMD, MASTER_BASE, 1u << PIC_CASCADE_IR,
		  icw4_master);
	init_chip(s, PIC_SLAVE_CMD, SLAVE_BASE, PIC_CASCADE_IR, PIC_ICW4_UPM);
	wr(s, PIC_MASTER_DATA, 0x00);
	wr(s, PIC_SLAVE_DATA, 0x00);
}

static inline void linux_init(struct pic_state *s)
{
	linux_init_icw4(s, PIC_ICW4_UPM);
}

/* Line to level, counting a rise on 0 -> 1 as the IRQ-line page does. */
static inline void line_set(struct pic_test *t, unsigned line, bool level)
{
	uint16_t bit = (uint16_t)(1u << line);

	if (level && !(t->levels & bit))
		t->rises[line]++;
	if (level)
		t->levels |= bit;
	else
		t->levels &= (uint16_t)~bit;
	pic_set_lines(&t->s, t->levels, t->rises);
}

/* n complete pulses on line, all between two calls: only the count moves. */
static inline void pulses(struct pic_test *t, unsigned line, uint32_t n)
{
	t->rises[line] += n;
	pic_set_lines(&t->s, t->levels, t->rises);
}

/* A short edge request on line: up, then down. */
static inline void edge(struct pic_test *t, unsigned line)
{
	line_set(t, line, true);
	line_set(t, line, false);
}

/* INTA with INTR checked first, as the CPU would. */
static inline uint8_t take(struct pic_state *s)
{
	assert_true(pic_intr(s));
	return pic_intack(s);
}

static inline uint8_t isr(struct pic_state *s, uint16_t cmd)
{
	uint8_t val;

	wr(s, cmd, READ_ISR);
	val = rd(s, cmd);
	wr(s, cmd, READ_IRR);
	return val;
}

static inline uint8_t irr(struct pic_state *s, uint16_t cmd)
{
	return rd(s, cmd);
}

#endif
