/*
 * The devices of the machine, at the ports, addresses and lines of the PC
 * that the MMU service's ACPI and MP tables describe (lib/platform.h).
 */
#include "broker.h"
#include "platform.h"

#define PORTS(b, n)                                                           \
	{                                                                     \
		.space = CELLVM__REGION__SPACE__PIO, .base = (b), .size = (n) \
	}
#define PORTS_SYNC(b, n)                                                       \
	{                                                                      \
		.space = CELLVM__REGION__SPACE__PIO, .base = (b), .size = (n), \
		.sync = true                                                   \
	}
#define MMIO(b, n, s)                                              \
	{                                                          \
		.space = CELLVM__REGION__SPACE__MMIO, .base = (b), \
		.size = (n), .sync = (s)                           \
	}

const struct dev_desc dev_table[] = {
	{ .name = "uart",
	  .range = { PORTS(PC_COM1_PORT, 8) },
	  .gsi = PC_IRQ_COM1,
	  .irq_page = true,
	  .console = true },
	{ .name = "testexit",
	  .range = { PORTS(PC_TESTEXIT_PORT, 4) },
	  .gsi = -1 },
	/* Two cascaded 8259As and the ELCR; INTR goes out on its own line. */
	{ .name = "pic",
	  .range = { PORTS(PC_PIC_MASTER_PORT, PC_PIC_PORT_LEN),
		     PORTS(PC_PIC_SLAVE_PORT, PC_PIC_PORT_LEN),
		     PORTS(PC_ELCR_PORT, PC_ELCR_PORT_LEN) },
	  .gsi = IRQ_LINE_PIC_INTR,
	  .irq_page = true,
	  .pic = true },
	{ .name = "ioapic",
	  .range = { MMIO(PC_IOAPIC_ADDR, 0x1000, false) },
	  .gsi = -1,
	  .irq_page = true,
	  .ioapic = true },
	/*
	 * The vCPUs wait for every write: a write can change what may be
	 * injected next (TPR), and on a machine with fewer cores than busy
	 * threads a waiting vCPU is what gets the LAPIC scheduled at once.
	 */
	{ .name = "lapic",
	  .range = { MMIO(PC_LAPIC_ADDR, 0x1000, true) },
	  .gsi = -1,
	  .mailbox = true },
	/* The 8254 and port 0x61 (channel 2 gate, speaker). */
	{ .name = "pit",
	  .range = { PORTS(PC_PIT_PORT, PC_PIT_PORT_LEN), PORTS(PC_PORT61, 1) },
	  .gsi = PC_IRQ_PIT,
	  .irq_page = true },
	{ .name = "rtc",
	  .range = { PORTS(PC_RTC_PORT, PC_RTC_PORT_LEN) },
	  .gsi = PC_IRQ_RTC,
	  .irq_page = true },
	{ .name = "acpipm",
	  .range = { PORTS(PC_PM1A_EVT_BLK,
			   PC_PM_TMR_BLK + PC_PM_TMR_LEN - PC_PM1A_EVT_BLK) },
	  .gsi = PC_IRQ_SCI,
	  .irq_page = true },
	/*
	 * The vCPUs wait for configuration writes: one that turns a device's
	 * MSI-X on is passed to that device before the guest goes on to use
	 * it (pci.h).
	 */
	{ .name = "pci",
	  .range = { PORTS_SYNC(PC_PCI_CONF_PORT, PC_PCI_CONF_PORT_LEN),
		     MMIO(PC_PCI_ECAM_ADDR, PC_PCI_ECAM_SIZE, true) },
	  .gsi = -1,
	  .pci_host = true },
};

const unsigned dev_table_len = sizeof(dev_table) / sizeof(dev_table[0]);
