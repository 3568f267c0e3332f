/*
 * Two cascaded 8259A PICs and the ELCR (Intel 8259A datasheet, order no.
 * 231468; for the ELCR, the ELCR1/ELCR2 registers of the Intel 82371AB
 * PIIX4 datasheet, order no. 290562).
 *
 * Everything here is a pure function of struct pic_state and its
 * arguments; see pic.h for the contract. Section names below refer to the
 * 8259A datasheet.
 *
 * Invariants kept by every function (and checked by pic_state_valid()):
 *  - the IRR bit of a level-triggered line is its level (the master's IR2
 *    excepted, which follows the slave's INT);
 *  - edges are owed only to edge-triggered lines whose IRR bit is set,
 *    and never to ISA line 2 (no pin: the cascade);
 *  - after every public function the master's IR2 request holds whenever
 *    the slave's INT output is active (cascade_sync()).
 *
 * Where the datasheet is silent or a PC differs, QEMU (hw/intc/i8259.c)
 * and KVM (arch/x86/kvm/i8259.c) were the tie-breakers; each such place
 * says so.
 */
#include <stddef.h>

#include "pic.h"

#define PIC_ICW1_KEPT \
	(PIC_ICW1_IC4 | PIC_ICW1_SNGL | PIC_ICW1_ADI | PIC_ICW1_LTIM)
#define PIC_ICW2_BASE 0xf8 /* T7-T3 in 8086 mode; T2-T0 are the IR */
#define PIC_ICW3_SLAVE_ID 0x07
#define PIC_ICW4_KEPT 0x1f
#define PIC_SPURIOUS_IR 7
#define PIC_BOTTOM_IR 7 /* "IR7 input is assigned priority 7" */

static const uint8_t elcr_mask[2] = { PIC_ELCR_MASTER_MASK,
				      PIC_ELCR_SLAVE_MASK };

/* ISA line of IR ir on chip ci. */
static unsigned line_of(unsigned ci, unsigned ir)
{
	return ci * 8 + ir;
}

/*
 * ICW1 LTIM makes every input of a chip level-triggered; the ELCR does it
 * per line. A PIIX ignores LTIM and has only the ELCR (and QEMU and KVM
 * ignore LTIM too); the 8259A honours it, and so do we. Linux writes ICW1
 * = 0x11 and never sets it.
 */
static bool ir_level(const struct pic_chip *c, unsigned ir)
{
	return (c->icw1 & PIC_ICW1_LTIM) || (c->elcr >> ir & 1);
}

/*
 * "Fully nested mode", "Automatic rotation", "Specific rotation": the IR
 * after the lowest-priority one has the highest priority, the others
 * follow in order, modulo 8. Returns the IR of the highest-priority bit of
 * bits, or -1.
 */
static int highest(uint8_t bits, unsigned lowest)
{
	unsigned i, ir;

	for (i = 1; i <= 8; i++) {
		ir = (lowest + i) & 7;
		if (bits >> ir & 1)
			return (int)ir;
	}
	return -1;
}

/* 0 for the highest priority, 7 for the lowest. */
static unsigned rank(int ir, unsigned lowest)
{
	return ((unsigned)ir - lowest - 1) & 7;
}

/*
 * The priority resolver: the unmasked request of highest priority, if it
 * has a higher priority than every IR in service ("Fully nested mode").
 * In special mask mode a masked level does not hold back lower ones: only
 * the in-service bits of unmasked levels count ("Special mask mode"; the
 * datasheet does not say what an unmasked in-service level does, and like
 * QEMU and KVM we keep it blocking lower levels). In special fully nested
 * mode the master also takes a request on a cascade input already in
 * service, so that the slave can nest a higher-priority request ("Special
 * fully nested mode"); QEMU and KVM instead drop IR2 from the in-service
 * mask altogether, which also lets master levels below IR2 through.
 */
static int chip_request(const struct pic_state *s, unsigned ci)
{
	const struct pic_chip *c = &s->chip[ci];
	uint8_t blocking = c->isr;
	int req = highest(c->irr & ~c->imr, c->lowest);
	int cur;

	if (req < 0)
		return -1;
	if (c->special_mask)
		blocking &= ~c->imr;
	cur = highest(blocking, c->lowest);
	if (cur < 0 || rank(req, c->lowest) < rank(cur, c->lowest))
		return req;
	if (ci == PIC_MASTER && (c->icw4 & PIC_ICW4_SFNM) &&
	    req == PIC_CASCADE_IR && cur == PIC_CASCADE_IR)
		return req;
	return -1;
}

/*
 * The slave's INT drives the master's IR2: the master's request on IR2 is
 * that wire, whatever its trigger mode. A request must stay high until the
 * first INTA ("Edge and level triggered modes"), so when the slave's INT
 * falls (its request masked or gone) the master's request goes too, and an
 * INTA then gets the master's own IR7. While INT stays high across an INTA
 * (a slave in automatic EOI mode with a second request) the request stays
 * and is not lost. KVM and QEMU latch IR2 instead; a guest that masks a
 * slave line after a late edge then still finds IR2 pending (the pic guest
 * test does, after enabling the RTC's PIE with PF already set).
 */
static void cascade_sync(struct pic_state *s)
{
	struct pic_chip *m = &s->chip[PIC_MASTER];
	uint8_t bit = 1u << PIC_CASCADE_IR;

	if (chip_request(s, PIC_SLAVE) >= 0)
		m->irr |= bit;
	else
		m->irr &= ~bit;
}

/*
 * k new edges on an edge-triggered line, seen in one call. The first sets
 * the IRR bit, merging into it if it is set already, as on the chip (so a
 * guest slower than a periodic source loses ticks as it would on hardware
 * instead of drowning in a backlog). The k - 1 others happened while this
 * process slept or was dead and restarting: they are owed, and delivered
 * one by one as acknowledges clear the bit, so that a restart loses none.
 */
static void edges_add(struct pic_state *s, unsigned line, uint32_t k)
{
	struct pic_chip *c = &s->chip[line / 8];
	uint32_t room = PIC_OWED_MAX - s->owed[line];

	if (!k)
		return;
	c->irr |= 1u << (line & 7);
	k--;
	s->owed[line] += k < room ? k : room;
}

/* An acknowledge cleared an edge request: the next owed edge, if any. */
static void edge_taken(struct pic_state *s, unsigned ci, unsigned ir)
{
	unsigned line = line_of(ci, ir);

	if (!s->owed[line])
		return;
	s->owed[line]--;
	s->chip[ci].irr |= 1u << ir;
}

/*
 * Level-triggered lines of chip ci: IRR is the level and nothing is owed.
 * The master's IR2 gets level 0 here (ISA line 2 has no pin) and its
 * request from cascade_sync().
 */
static void chip_relevel(struct pic_state *s, unsigned ci)
{
	struct pic_chip *c = &s->chip[ci];
	unsigned ir, line;

	for (ir = 0; ir < 8; ir++) {
		if (!ir_level(c, ir))
			continue;
		line = line_of(ci, ir);
		s->owed[line] = 0;
		if (s->levels >> line & 1)
			c->irr |= 1u << ir;
		else
			c->irr &= ~(1u << ir);
	}
}

/*
 * "Interrupt sequence", steps 4-6 (and the poll command): the request
 * moves into service. An edge request is consumed; a level request stays
 * as long as the line is high (QEMU and KVM alike). In automatic EOI mode
 * the in-service bit is cleared again at the end of the last INTA pulse,
 * rotating if asked ("Automatic rotation").
 */
static void ack(struct pic_state *s, unsigned ci, unsigned ir)
{
	struct pic_chip *c = &s->chip[ci];
	uint8_t bit = 1u << ir;

	if (!ir_level(c, ir)) {
		c->irr &= ~bit;
		edge_taken(s, ci, ir);
	}
	if (!(c->icw4 & PIC_ICW4_AEOI))
		c->isr |= bit;
	else if (c->rotate_aeoi)
		c->lowest = ir;
}

/*
 * "Initialization command words", ICW1: the edge sense circuit is reset
 * (a held-high input must fall and rise again; owed edges go too), the
 * mask is cleared, IR7 gets the lowest priority, the slave address is 7,
 * special mask mode is off and reads select the IRR; without IC4 every
 * ICW4 function is 0. The datasheet does not say that ICW1 clears the ISR;
 * QEMU and KVM clear it, and a kernel that re-initialises the PIC after a
 * crash (kexec, kdump) would otherwise find levels blocked forever. The
 * rotate-in-AEOI flag and a pending poll go as well (QEMU, KVM).
 */
static void icw1_write(struct pic_state *s, unsigned ci, uint8_t val)
{
	struct pic_chip *c = &s->chip[ci];
	unsigned ir;

	c->icw1 = val & PIC_ICW1_KEPT;
	c->icw3 = PIC_ICW3_SLAVE_ID;
	c->icw4 = 0;
	c->icw_next = 2;
	c->imr = 0;
	c->isr = 0;
	c->lowest = PIC_BOTTOM_IR;
	c->read_isr = 0;
	c->poll = 0;
	c->special_mask = 0;
	c->rotate_aeoi = 0;
	for (ir = 0; ir < 8; ir++) {
		if (!ir_level(c, ir)) {
			c->irr &= ~(1u << ir);
			s->owed[line_of(ci, ir)] = 0;
		}
	}
	chip_relevel(s, ci);
}

/*
 * ICW2-ICW4 in sequence ("Initialization sequence" flow chart): ICW3 only
 * in cascade mode (SNGL = 0), ICW4 only with IC4. In 8086 mode ICW2 gives
 * T7-T3 and the chip adds the IR; ICW3 of a slave holds its ID in bits
 * 0-2. ICW4: uPM = 0 (MCS-80/85 CALL sequence) is not modelled, the vector
 * is always the 8086 one; BUF and M/S change only pins; the master and
 * slave roles come from the PC wiring (SP/EN), not from M/S.
 */
static void data_write(struct pic_chip *c, unsigned ci, uint8_t val)
{
	switch (c->icw_next) {
	case 2:
		c->base = val & PIC_ICW2_BASE;
		if (!(c->icw1 & PIC_ICW1_SNGL))
			c->icw_next = 3;
		else
			c->icw_next = (c->icw1 & PIC_ICW1_IC4) ? 4 : 0;
		break;
	case 3:
		c->icw3 = ci == PIC_SLAVE ? val & PIC_ICW3_SLAVE_ID : val;
		c->icw_next = (c->icw1 & PIC_ICW1_IC4) ? 4 : 0;
		break;
	case 4:
		c->icw4 = val & PIC_ICW4_KEPT;
		c->icw_next = 0;
		break;
	default:
		c->imr = val; /* OCW1 */
		break;
	}
}

/* "Operation command words", OCW2: end of interrupt and priority. */
static void ocw2_write(struct pic_chip *c, uint8_t val)
{
	unsigned level = val & PIC_OCW2_LEVEL;
	int ir;

	switch (val & ~PIC_OCW2_LEVEL) {
	case PIC_OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_aeoi = 0;
		break;
	case PIC_OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = 1;
		break;
	case PIC_OCW2_NONSPECIFIC_EOI:
	case PIC_OCW2_ROTATE_NONSPECIFIC_EOI:
		/* "End of interrupt": the highest-priority IS bit. */
		ir = highest(c->isr, c->lowest);
		if (ir < 0)
			break;
		c->isr &= ~(1u << ir);
		if (val & PIC_OCW2_R)
			c->lowest = (uint8_t)ir;
		break;
	case PIC_OCW2_SPECIFIC_EOI:
	case PIC_OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= ~(1u << level);
		if (val & PIC_OCW2_R)
			c->lowest = (uint8_t)level;
		break;
	case PIC_OCW2_SET_PRIORITY:
		c->lowest = (uint8_t)level;
		break;
	default: /* PIC_OCW2_NOP */
		break;
	}
}

/*
 * OCW3: RR selects the register the command port reads (RIS), P arms the
 * poll word for the next read, ESMM lets SMM set or reset special mask
 * mode. D7 should be 0 and is ignored.
 */
static void ocw3_write(struct pic_chip *c, uint8_t val)
{
	if (val & PIC_OCW3_P)
		c->poll = 1;
	if (val & PIC_OCW3_RR)
		c->read_isr = val & PIC_OCW3_RIS;
	if (val & PIC_OCW3_ESMM)
		c->special_mask = (val & PIC_OCW3_SMM) ? 1 : 0;
}

static void cmd_write(struct pic_state *s, unsigned ci, uint8_t val)
{
	if (val & PIC_ICW1_INIT)
		icw1_write(s, ci, val);
	else if (val & PIC_OCW3_SEL)
		ocw3_write(&s->chip[ci], val);
	else
		ocw2_write(&s->chip[ci], val);
}

/*
 * PIIX4 ELCR1/ELCR2: a 1 makes the line level-triggered; IRQ 0, 1, 2, 8, 13
 * must stay edge-triggered and their bits read 0. A line that becomes
 * edge-triggered keeps its IRR bit until acknowledged (QEMU likewise).
 */
static void elcr_write(struct pic_state *s, unsigned ci, uint8_t val)
{
	s->chip[ci].elcr = val & elcr_mask[ci];
	chip_relevel(s, ci);
}

/*
 * "Poll command": the read after it is an interrupt acknowledge for this
 * chip alone (no cascade cycle: software polls the slave next) and
 * returns I (bit 7) and W2-W0, the highest-priority request. With no
 * request we return 0, as QEMU and KVM do. KVM also clears the in-service
 * bit again; the datasheet sets it like an INTA does, and so do we.
 */
static uint8_t poll_read(struct pic_state *s, unsigned ci)
{
	int ir;

	s->chip[ci].poll = 0;
	ir = chip_request(s, ci);
	if (ir < 0)
		return 0;
	ack(s, ci, (unsigned)ir);
	return PIC_POLL_INT | (uint8_t)ir;
}

void pic_reset(struct pic_state *s)
{
	unsigned ci;

	*s = (struct pic_state){ 0 };
	for (ci = 0; ci < 2; ci++) {
		icw1_write(s, ci, PIC_ICW1_INIT);
		s->chip[ci].icw_next = 0;
		s->chip[ci].imr = 0xff;
	}
}

/* One chip's registers: reserved bits clear, sequence state coherent. */
static bool chip_valid(const struct pic_chip *c, unsigned ci)
{
	if ((c->elcr & ~elcr_mask[ci]) || (c->base & ~PIC_ICW2_BASE))
		return false;
	if ((c->icw1 & ~PIC_ICW1_KEPT) || (c->icw4 & ~PIC_ICW4_KEPT))
		return false;
	if (!(c->icw1 & PIC_ICW1_IC4) && c->icw4)
		return false;
	if (ci == PIC_SLAVE && (c->icw3 & ~PIC_ICW3_SLAVE_ID))
		return false;
	switch (c->icw_next) {
	case 0:
	case 2:
		break;
	case 3:
		if (c->icw1 & PIC_ICW1_SNGL)
			return false;
		break;
	case 4:
		if (!(c->icw1 & PIC_ICW1_IC4))
			return false;
		break;
	default:
		return false;
	}
	if (c->lowest > 7 || c->read_isr > 1 || c->poll > 1)
		return false;
	if (c->special_mask > 1 || c->rotate_aeoi > 1)
		return false;
	return !c->pad[0] && !c->pad[1];
}

/* One line: level requests follow the level, debts only where allowed. */
static bool line_valid(const struct pic_state *s, unsigned line)
{
	const struct pic_chip *c = &s->chip[line / 8];
	unsigned ir = line & 7;
	bool requested = c->irr >> ir & 1;

	if (s->owed[line] > PIC_OWED_MAX)
		return false;
	if (line == PIC_CASCADE_IR)
		return !s->owed[line] && !(s->levels >> line & 1);
	if (ir_level(c, ir))
		return !s->owed[line] && requested == (s->levels >> line & 1);
	return !s->owed[line] || requested;
}

bool pic_state_valid(const struct pic_state *s)
{
	unsigned i;

	if (!s || s->pad)
		return false;
	for (i = 0; i < 2; i++)
		if (!chip_valid(&s->chip[i], i))
			return false;
	for (i = 0; i < PIC_LINES; i++)
		if (!line_valid(s, i))
			return false;
	return true;
}

/* The chip behind a port, or -1. */
static int port_chip(uint16_t port)
{
	switch (port) {
	case PIC_MASTER_CMD:
	case PIC_MASTER_DATA:
	case PIC_ELCR_MASTER:
		return PIC_MASTER;
	case PIC_SLAVE_CMD:
	case PIC_SLAVE_DATA:
	case PIC_ELCR_SLAVE:
		return PIC_SLAVE;
	default:
		return -1;
	}
}

/*
 * "Reading the 8259A status": A0 = 0 reads the IRR or ISR as OCW3 last
 * chose, A0 = 1 the IMR; after a poll command the next read of either
 * port is the poll word ("the poll command overrides a read register
 * command").
 */
uint8_t pic_read(struct pic_state *s, uint16_t port)
{
	int ci = port_chip(port);
	struct pic_chip *c;
	uint8_t val;

	if (ci < 0)
		return 0xff;
	c = &s->chip[ci];
	if (port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE)
		return c->elcr;
	if (c->poll) {
		val = poll_read(s, (unsigned)ci);
		cascade_sync(s);
		return val;
	}
	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

/* A0 = 0: ICW1, OCW2 or OCW3 by D4 and D3; A0 = 1: ICW2-4 or OCW1. */
void pic_write(struct pic_state *s, uint16_t port, uint8_t val)
{
	int ci = port_chip(port);

	if (ci < 0)
		return;
	if (port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE)
		elcr_write(s, (unsigned)ci, val);
	else if (port & 1)
		data_write(&s->chip[ci], (unsigned)ci, val);
	else
		cmd_write(s, (unsigned)ci, val);
	cascade_sync(s);
}

/*
 * Edge-triggered: the number of rises since the last call, or 1 for a
 * 0 -> 1 change the counts do not show. Level-triggered: IRR is the level.
 * The 8259A needs an edge request to stay high until INTA or it answers
 * with IR7; we latch it instead (like QEMU and KVM), since a pulse known
 * only from its count is already low.
 */
static void line_update(struct pic_state *s, unsigned line, uint16_t levels,
			uint32_t rises)
{
	struct pic_chip *c = &s->chip[line / 8];
	unsigned ir = line & 7;
	uint32_t k = rises - s->rises[line];

	if (ir_level(c, ir)) {
		if (levels >> line & 1)
			c->irr |= 1u << ir;
		else
			c->irr &= ~(1u << ir);
		return;
	}
	if (!k && ((levels & ~s->levels) >> line & 1))
		k = 1;
	edges_add(s, line, k);
}

void pic_set_lines(struct pic_state *s, uint16_t levels,
		   const uint32_t rises[PIC_LINES])
{
	unsigned line;

	levels &= (uint16_t) ~(1u << PIC_CASCADE_IR);
	for (line = 0; line < PIC_LINES; line++) {
		if (line == PIC_CASCADE_IR)
			continue;
		line_update(s, line, levels,
			    rises ? rises[line] : s->rises[line]);
	}
	s->levels = levels;
	if (rises)
		for (line = 0; line < PIC_LINES; line++)
			s->rises[line] = rises[line];
	cascade_sync(s);
}

bool pic_intr(const struct pic_state *s)
{
	return chip_request(s, PIC_MASTER) >= 0;
}

/* The master routes IR2 to a slave: cascade mode and ICW3 says so. */
static bool master_cascades(const struct pic_chip *m)
{
	return !(m->icw1 & PIC_ICW1_SNGL) && (m->icw3 >> PIC_CASCADE_IR & 1);
}

/*
 * "Interrupt sequence" (8086 mode) and "Cascade mode": the master
 * resolves priority; for a cascade input the slave supplies the vector.
 * With no request left by the time of INTA, the chip concerned answers IR7
 * without setting its IS bit ("Edge and level triggered modes"); for a
 * spurious slave the master has already put its cascade input in service,
 * so the guest must EOI the master (Linux does).
 */
uint8_t pic_intack(struct pic_state *s)
{
	struct pic_chip *m = &s->chip[PIC_MASTER];
	struct pic_chip *sl = &s->chip[PIC_SLAVE];
	int ir = chip_request(s, PIC_MASTER);
	int ir2;
	uint8_t vector;

	if (ir < 0)
		return m->base | PIC_SPURIOUS_IR;
	if (ir == PIC_CASCADE_IR && master_cascades(m)) {
		ir2 = chip_request(s, PIC_SLAVE);
		if (ir2 < 0) {
			vector = sl->base | PIC_SPURIOUS_IR;
		} else {
			ack(s, PIC_SLAVE, (unsigned)ir2);
			vector = sl->base | (uint8_t)ir2;
		}
	} else {
		vector = m->base | (uint8_t)ir;
	}
	ack(s, PIC_MASTER, (unsigned)ir);
	cascade_sync(s);
	return vector;
}
