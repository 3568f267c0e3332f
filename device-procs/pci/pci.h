/*
 * The PCI host bridge (cellvm-dev-pci): configuration space of bus 0,
 * reached through configuration mechanism #1 (CONFIG_ADDRESS at 0xcf8,
 * CONFIG_DATA at 0xcfc-0xcff; PCI 3.0, 3.2.2.3.2) and the ECAM window
 * (PCI Express 4.0, 7.2.2). 00.0 is the host bridge; the virtio devices
 * sit at function 0 of their slots (lib/virtio_pci.h for their headers).
 *
 * The model owns every function's configuration registers. Of those, the
 * command register and the MSI-X message control matter to the device
 * itself (MSI-X on or masked, bus mastering); a write that changes them is
 * reported in fx so the caller can tell the device. BARs are placed by
 * cellvm: the guest may size BAR0 (all ones, read, restore), and what it
 * writes reads back, but the device stays where it was placed (a move is
 * reported in fx so the caller can say so).
 */
#ifndef CELLVM_PCI_H
#define CELLVM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

#define PCI_CONFIG_ENABLE 0x80000000u

/* What the broker put where (from the setup; not guest-writable). */
struct pci_fn_desc {
	uint8_t present;
	uint8_t virtio_type; /* 0: the host bridge (slot 0) */
	uint8_t msix_vectors;
	uint8_t output; /* message ring to the device */
	uint32_t bar0;	/* where cellvm placed BAR0 */
};

/* The registers the guest writes (in the state page). */
struct pci_fn_regs {
	uint16_t command;
	uint16_t msix_ctrl; /* enable and function mask only */
	uint32_t bar0;
	uint8_t int_line;
	uint8_t pad[7];
};

struct pci_state {
	uint32_t config_address; /* mechanism #1 latch */
	uint32_t pad;
	struct pci_fn_regs fn[PC_PCI_SLOTS];
};

struct pci_fx {
	bool notify;   /* slot's command or MSI-X control changed */
	bool moved;    /* the guest moved slot's BAR0 */
	unsigned slot; /* which */
};

void pci_reset(struct pci_state *s, const struct pci_fn_desc *desc);
bool pci_state_valid(const struct pci_state *s);

/* Mechanism #1: a port access in [PC_PCI_CONF_PORT, +8). */
uint32_t pci_port_read(struct pci_state *s, const struct pci_fn_desc *desc,
		       uint16_t port, unsigned size);
void pci_port_write(struct pci_state *s, const struct pci_fn_desc *desc,
		    uint16_t port, unsigned size, uint32_t val,
		    struct pci_fx *fx);

/* ECAM: an access at offset off of the window. */
uint32_t pci_ecam_read(const struct pci_state *s,
		       const struct pci_fn_desc *desc, uint32_t off,
		       unsigned size);
void pci_ecam_write(struct pci_state *s, const struct pci_fn_desc *desc,
		    uint32_t off, unsigned size, uint32_t val,
		    struct pci_fx *fx);

/* The value a device is told: command | MSI-X control << 16. */
uint32_t pci_fn_message(const struct pci_state *s, unsigned slot);

#endif
