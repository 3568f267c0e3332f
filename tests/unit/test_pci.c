/*
 * Unit tests for the PCI host bridge model (device-procs/pci/pci.c):
 * configuration mechanism #1 and ECAM see the same headers, absent
 * functions read all ones, BAR0 sizes like a 32 KiB memory BAR, the
 * writable registers keep only their writable bits, and a write that
 * changes what a device must know is reported once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pci.h"
#include "virtio_pci.h"

#define ADDR(slot, reg) (PCI_CONFIG_ENABLE | (slot) << 11 | (reg))
#define ECAM(slot, reg) ((uint32_t)(slot) << 15 | (reg))

struct rig {
	struct pci_state s;
	struct pci_fn_desc desc[PC_PCI_SLOTS];
	struct pci_fx fx;
};

static int rig_setup(void **state)
{
	struct rig *r = test_calloc(1, sizeof(*r));

	r->desc[0].present = 1;
	r->desc[1] = (struct pci_fn_desc){ 1, VIRTIO_ID_RNG, VIRTIO_MSIX_MAX, 0,
					   PC_PCI_BAR(1) };
	r->desc[2] = (struct pci_fn_desc){ 1, VIRTIO_ID_BLOCK, VIRTIO_MSIX_MAX,
					   1, PC_PCI_BAR(2) };
	pci_reset(&r->s, r->desc);
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	test_free(*state);
	return 0;
}

static uint32_t conf_read(struct rig *r, unsigned slot, unsigned reg,
			  unsigned size)
{
	memset(&r->fx, 0, sizeof(r->fx));
	pci_port_write(&r->s, r->desc, PC_PCI_CONF_PORT, 4,
		       ADDR(slot, reg & 0xfc), &r->fx);
	return pci_port_read(&r->s, r->desc,
			     (uint16_t)(PC_PCI_CONF_PORT + 4 + (reg & 3)),
			     size);
}

static void conf_write(struct rig *r, unsigned slot, unsigned reg,
		       unsigned size, uint32_t val)
{
	pci_port_write(&r->s, r->desc, PC_PCI_CONF_PORT, 4,
		       ADDR(slot, reg & 0xfc), &r->fx);
	pci_port_write(&r->s, r->desc,
		       (uint16_t)(PC_PCI_CONF_PORT + 4 + (reg & 3)), size, val,
		       &r->fx);
}

static void ids_and_absent_slots(void **state)
{
	struct rig *r = *state;

	assert_int_equal(conf_read(r, 0, 0, 4),
			 PC_PCI_HOST_VENDOR | PC_PCI_HOST_DEVICE << 16);
	assert_int_equal(conf_read(r, 0, 0x0a, 2), 0x0600); /* host bridge */
	assert_int_equal(conf_read(r, 1, 0, 4),
			 VIRTIO_PCI_VENDOR |
				 (VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_RNG)
					 << 16);
	assert_int_equal(conf_read(r, 2, 2, 2),
			 VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK);
	assert_int_equal(conf_read(r, 2, 0x08, 1), 1); /* revision 1 */
	assert_int_equal(conf_read(r, 3, 0, 4), 0xffffffffu);
	assert_int_equal(conf_read(r, 31, 0, 2), 0xffff);
	/* Function 1 of a present slot: nothing. */
	pci_port_write(&r->s, r->desc, PC_PCI_CONF_PORT, 4, ADDR(1, 0) | 1 << 8,
		       &r->fx);
	assert_int_equal(pci_port_read(&r->s, r->desc, PC_PCI_CONF_PORT + 4, 4),
			 0xffffffffu);
	/* Bus 1 does not exist. */
	pci_port_write(&r->s, r->desc, PC_PCI_CONF_PORT, 4,
		       PCI_CONFIG_ENABLE | 1 << 16, &r->fx);
	assert_int_equal(pci_port_read(&r->s, r->desc, PC_PCI_CONF_PORT + 4, 4),
			 0xffffffffu);
	/* Without the enable bit, data reads all ones. */
	pci_port_write(&r->s, r->desc, PC_PCI_CONF_PORT, 4, 0, &r->fx);
	assert_int_equal(pci_port_read(&r->s, r->desc, PC_PCI_CONF_PORT + 4, 4),
			 0xffffffffu);
}

static void ecam_matches_mechanism_one(void **state)
{
	struct rig *r = *state;
	unsigned slot, reg;

	for (slot = 0; slot < 4; slot++)
		for (reg = 0; reg < 256; reg += 4)
			assert_int_equal(pci_ecam_read(&r->s, r->desc,
						       ECAM(slot, reg), 4),
					 conf_read(r, slot, reg, 4));
	/* Extended space of a conventional function: zeros. */
	assert_int_equal(pci_ecam_read(&r->s, r->desc, ECAM(1, 0x100), 4), 0);
	assert_int_equal(pci_ecam_read(&r->s, r->desc, PC_PCI_ECAM_SIZE, 4),
			 0xffffffffu);
}

static void bar0_sizes_and_stays(void **state)
{
	struct rig *r = *state;

	assert_int_equal(conf_read(r, 1, 0x10, 4), PC_PCI_BAR(1));
	conf_write(r, 1, 0x10, 4, 0xffffffffu);
	assert_int_equal(conf_read(r, 1, 0x10, 4), ~(PC_VIRTIO_BAR_SIZE - 1));
	assert_false(r->fx.moved); /* sizing is not a move */
	conf_write(r, 1, 0x10, 4, PC_PCI_BAR(1));
	assert_int_equal(conf_read(r, 1, 0x10, 4), PC_PCI_BAR(1));
	assert_false(r->fx.moved);
	conf_write(r, 1, 0x10, 4, 0xd0000000u);
	assert_true(r->fx.moved);
	/* BARs 1-5 do not exist: they read 0, writes vanish. */
	conf_write(r, 1, 0x14, 4, 0xffffffffu);
	assert_int_equal(conf_read(r, 1, 0x14, 4), 0);
}

static void capabilities_chain_to_the_virtio_ones(void **state)
{
	struct rig *r = *state;
	unsigned at, types = 0, n = 0;

	assert_true(conf_read(r, 2, 0x06, 2) & 0x10); /* capability list */
	for (at = conf_read(r, 2, 0x34, 1); at && n < 48;
	     at = conf_read(r, 2, at + 1, 1), n++) {
		unsigned id = conf_read(r, 2, at, 1);

		if (id == 0x11) { /* MSI-X: size, table and PBA in BAR0 */
			assert_int_equal(conf_read(r, 2, at + 2, 2) & 0x7ff,
					 VIRTIO_MSIX_MAX - 1);
			assert_int_equal(conf_read(r, 2, at + 4, 4),
					 VIRTIO_BAR_MSIX_TABLE);
			assert_int_equal(conf_read(r, 2, at + 8, 4),
					 VIRTIO_BAR_MSIX_PBA);
			continue;
		}
		assert_int_equal(id, 0x09);
		types |= 1u << conf_read(r, 2, at + 3, 1);
		assert_int_equal(conf_read(r, 2, at + 4, 1), 0); /* BAR0 */
	}
	assert_int_equal(n, 5);
	assert_int_equal(types, 1u << VIRTIO_PCI_CAP_COMMON_CFG |
					1u << VIRTIO_PCI_CAP_NOTIFY_CFG |
					1u << VIRTIO_PCI_CAP_ISR_CFG |
					1u << VIRTIO_PCI_CAP_DEVICE_CFG);
}

static void command_and_msix_changes_are_reported(void **state)
{
	struct rig *r = *state;

	conf_write(r, 2, 0x04, 2, 0xffff);
	assert_true(r->fx.notify);
	assert_int_equal(r->fx.slot, 2);
	assert_int_equal(conf_read(r, 2, 0x04, 2), 0x0547);
	conf_write(r, 2, 0x04, 2, 0xffff);
	assert_false(r->fx.notify); /* nothing changed */
	/* MSI-X enable and function mask, in the capability's top byte. */
	conf_write(r, 2, VIRTIO_CAP_MSIX + 2, 2, 0xffff);
	assert_true(r->fx.notify);
	assert_int_equal(
		pci_fn_message(&r->s, 2),
		0x0547u | (uint32_t)(PCI_MSIX_ENABLE | PCI_MSIX_MASKALL) << 16);
	/* The table size is read-only. */
	assert_int_equal(conf_read(r, 2, VIRTIO_CAP_MSIX + 2, 2) & 0x7ff,
			 VIRTIO_MSIX_MAX - 1);
	/* Slot 1 was not touched. */
	assert_int_equal(pci_fn_message(&r->s, 1), 0);
	assert_true(pci_state_valid(&r->s));
}

static void vendor_ids_are_read_only(void **state)
{
	struct rig *r = *state;

	conf_write(r, 1, 0x00, 4, 0x12345678);
	conf_write(r, 1, 0x08, 4, 0);
	assert_int_equal(conf_read(r, 1, 0, 2), VIRTIO_PCI_VENDOR);
	assert_int_equal(conf_read(r, 1, 0x08, 1), 1);
	conf_write(r, 1, 0x3c, 1, 11); /* interrupt line is the OS's */
	assert_int_equal(conf_read(r, 1, 0x3c, 1), 11);
	assert_int_equal(conf_read(r, 1, 0x3d, 1), 1); /* INTA */
}

static void corrupt_state_is_invalid(void **state)
{
	struct rig *r = *state;

	assert_true(pci_state_valid(&r->s));
	r->s.fn[3].command = 0xffff;
	assert_false(pci_state_valid(&r->s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, rig_setup, rig_teardown)
		T(ids_and_absent_slots),
		T(ecam_matches_mechanism_one),
		T(bar0_sizes_and_stays),
		T(capabilities_chain_to_the_virtio_ones),
		T(command_and_msix_changes_are_reported),
		T(vendor_ids_are_read_only),
		T(corrupt_state_is_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
