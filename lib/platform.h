/*
 * The PC that cellvm shows its guest, as its MP table (mptable.c) and ACPI
 * tables (acpi.c) describe it. The device processes that implement these
 * ports, addresses and lines take them from here, so that the tables and
 * the devices cannot disagree. Constants only: no types, no functions.
 *
 * CPUs:      local APIC IDs 0 .. cpus - 1, all enabled, the BSP is 0;
 *            xAPIC at 0xfee00000. LINT0 is ExtINT (the 8259 pair), LINT1
 *            is NMI, on every CPU.
 * I/O APIC:  ID cpus mod 16 (the 82093AA's ID register has 4 bits; the
 *            ID mattered only on the old serial APIC bus), at 0xfec00000,
 *            GSI 0-23.
 *            ISA IRQ n is GSI n, but IRQ 0 (the PIT) is GSI 2; IRQ 2, the
 *            8259 cascade, reaches no I/O APIC pin. ISA IRQs are edge,
 *            active high, but IRQ 9 (the SCI) is level, active high.
 * Legacy:    8259A pair + ELCR, 8254 PIT + port 0x61, MC146818 RTC, 16550A
 *            COM1, the test-exit port (no ACPI device: nothing to bind).
 * PCI:       one host bridge, segment 0, bus 0 only. Configuration
 *            mechanism #1 at 0xcf8/0xcfc and an ECAM window (ACPI MCFG,
 *            reserved in E820) for bus 0. 00.0 is the host bridge; the
 *            virtio devices are functions 0 of slots 1.. in the order the
 *            broker starts them. Each has one 32-bit memory BAR (BAR0) of
 *            PC_VIRTIO_BAR_SIZE, placed by cellvm in the MMIO window at
 *            PC_PCI_BAR(slot) (the guest may size BARs, not move them),
 *            and MSI-X; INTA of slot s is GSI PC_PCI_GSI(s), level,
 *            active low (ACPI _PRT; no MADT override needed).
 * ACPI PM:   fixed hardware (not HW-reduced), PM1a event/control blocks
 *            and the 24-bit PM timer at 0x600; always in ACPI mode (no
 *            SMI_CMD: SCI_EN reads as 1); S5 is SLP_TYP 5. The power
 *            button is the fixed-feature one (PWRBTN_STS/EN in PM1); no
 *            sleep button, no RTC wake, no GPE blocks, no reset register.
 */
#ifndef CELLVM_PLATFORM_H
#define CELLVM_PLATFORM_H

/* xAPIC IDs are 8 bits: at most 255 CPUs, and the I/O APIC takes ID cpus. */
#define PC_CPUS_MAX 255u

/* RAM below 4 GiB ends at the 32-bit hole (mmu-service/loader.h). */
#define PC_MEM_HOLE 0xc0000000ull

#define PC_LAPIC_ADDR 0xfee00000u
#define PC_LAPIC_TPR 0x80     /* task priority register offset */
#define PC_LAPIC_VERSION 0x14 /* integrated APIC, as KVM's in-kernel one */
#define PC_LAPIC_LINT_EXTINT 0
#define PC_LAPIC_LINT_NMI 1

#define PC_IOAPIC_ADDR 0xfec00000u
#define PC_IOAPIC_VERSION 0x11 /* 82093AA */
#define PC_IOAPIC_PINS 24
#define PC_IOAPIC_GSI_BASE 0
#define PC_IOAPIC_ID(cpus) ((cpus)&0x0fu)

/* ISA IRQs (8259 inputs) and the I/O APIC pins (GSIs) they reach. */
#define PC_ISA_IRQS 16
#define PC_IRQ_PIT 0
#define PC_GSI_PIT 2 /* interrupt source override 0 -> 2 */
#define PC_IRQ_CASCADE 2
#define PC_IRQ_COM1 4
#define PC_IRQ_RTC 8
#define PC_IRQ_SCI 9 /* level, active high: override 9 -> 9 */

/* I/O ports: base and length. */
#define PC_PIC_MASTER_PORT 0x20
#define PC_PIC_SLAVE_PORT 0xa0
#define PC_PIC_PORT_LEN 2
#define PC_ELCR_PORT 0x4d0 /* edge/level control, one byte per 8259 */
#define PC_ELCR_PORT_LEN 2
#define PC_PIT_PORT 0x40
#define PC_PIT_PORT_LEN 4
#define PC_PORT61 0x61 /* NMI status and control: PIT channel 2 gate */
#define PC_RTC_PORT 0x70
#define PC_RTC_PORT_LEN 2
#define PC_RTC_CENTURY 0x32 /* CMOS index of the century, FADT CENTURY */
#define PC_COM1_PORT 0x3f8
#define PC_COM1_PORT_LEN 8
#define PC_TESTEXIT_PORT 0xf4
#define PC_TESTEXIT_PORT_LEN 4

/* PCI (see above). */
#define PC_PCI_CONF_PORT 0xcf8 /* CONFIG_ADDRESS at 0xcf8, DATA at 0xcfc */
#define PC_PCI_CONF_PORT_LEN 8
#define PC_PCI_ECAM_ADDR 0xe0000000u
#define PC_PCI_ECAM_SIZE 0x100000u   /* bus 0: 32 slots x 8 functions x 4K */
#define PC_PCI_MMIO_ADDR 0xc0000000u /* 32-bit BAR window */
#define PC_PCI_MMIO_SIZE 0x20000000u
#define PC_PCI_SLOTS 32
#define PC_PCI_HOST_VENDOR 0x1b36 /* Red Hat: generic PCIe host bridge */
#define PC_PCI_HOST_DEVICE 0x0008
#define PC_PCI_GSI_BASE 16 /* the I/O APIC pins 16-23 */
#define PC_PCI_GSIS 8
/*
 * Pin p of slot s (0 INTA .. 3 INTD) on the I/O APIC: the usual swizzle,
 * so that the INTAs of neighbouring slots use different lines. The ACPI
 * _PRT (mmu-service/acpi.c) lists it for every slot and pin.
 */
#define PC_PCI_PINS 4
#define PC_PCI_PIN_GSI(slot, pin) \
	(PC_PCI_GSI_BASE + ((slot)-1 + (pin)) % PC_PCI_GSIS)
#define PC_PCI_GSI(slot) PC_PCI_PIN_GSI(slot, 0)
#define PC_VIRTIO_BAR_SIZE 0x8000u
#define PC_PCI_BAR(slot) (PC_PCI_MMIO_ADDR + (slot)*PC_VIRTIO_BAR_SIZE)

/*
 * ACPI fixed hardware (ACPI 6.3, 4.8 "ACPI Hardware Features"): PM1a
 * status at 0x600, enable at 0x602, control at 0x604, timer at 0x608.
 */
#define PC_PM1A_EVT_BLK 0x600
#define PC_PM1_EVT_LEN 4 /* status (2 bytes) then enable (2 bytes) */
#define PC_PM1A_STS PC_PM1A_EVT_BLK
#define PC_PM1A_EN (PC_PM1A_EVT_BLK + PC_PM1_EVT_LEN / 2)
#define PC_PM1A_CNT_BLK 0x604
#define PC_PM1_CNT_LEN 2
#define PC_PM_TMR_BLK 0x608
#define PC_PM_TMR_LEN 4
#define PC_PM_TMR_HZ 3579545u /* "Power Management Timer": 3.579545 MHz */
#define PC_PM_TMR_BITS 24     /* FADT TMR_VAL_EXT clear */
#define PC_SCI_IRQ PC_IRQ_SCI

/* ACPI 6.3, "PM1 Status, Enable and Control Registers" (fixed features). */
#define PC_PM1_STS_TMR (1u << 0)
#define PC_PM1_STS_PWRBTN (1u << 8)
#define PC_PM1_STS_WAK (1u << 15)
#define PC_PM1_EN_TMR (1u << 0)
#define PC_PM1_EN_PWRBTN (1u << 8)
#define PC_PM1_CNT_SCI_EN (1u << 0)
#define PC_PM1_CNT_SLP_TYP_SHIFT 10
#define PC_PM1_CNT_SLP_TYP_MASK (7u << PC_PM1_CNT_SLP_TYP_SHIFT)
#define PC_PM1_CNT_SLP_EN (1u << 13)
#define PC_SLP_TYP_S5 5 /* \_S5 in the DSDT; the PM device powers off */

#endif
