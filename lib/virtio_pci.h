/*
 * Virtio over PCI as cellvm lays it out (virtio 1.2, 4.1): shared by the
 * PCI host (which shows each device's configuration space and its
 * capability list) and the virtio device processes (which implement the
 * BAR the capabilities point into). Modern interface only.
 *
 * BAR0 (PC_VIRTIO_BAR_SIZE, 32-bit memory):
 *   0x0000 common configuration (4.1.4.3)
 *   0x1000 ISR status (4.1.4.5), one byte, cleared on read
 *   0x2000 device-specific configuration
 *   0x3000 notifications: queue q at 0x3000 + q * VIRTIO_NOTIFY_MULT
 *   0x4000 MSI-X table (16 bytes per vector)
 *   0x5000 MSI-X pending bit array
 *
 * Configuration space (type 0 header): vendor 0x1af4, device 0x1040 +
 * virtio type, revision 1, subsystem 0x1af4:0x0040 (non-transitional),
 * INTA; capabilities at 0x40: MSI-X, then the common, notify, ISR and
 * device vendor capabilities. No VIRTIO_PCI_CAP_PCI_CFG window (for
 * firmware without BAR access; Linux does not use it).
 */
#ifndef CELLVM_VIRTIO_PCI_H
#define CELLVM_VIRTIO_PCI_H

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_PCI_SUBSYS_ID 0x0040

/* Device types (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* BAR0 layout. */
#define VIRTIO_BAR_COMMON 0x0000
#define VIRTIO_BAR_ISR 0x1000
#define VIRTIO_BAR_DEVICE 0x2000
#define VIRTIO_BAR_NOTIFY 0x3000
#define VIRTIO_BAR_MSIX_TABLE 0x4000
#define VIRTIO_BAR_MSIX_PBA 0x5000
#define VIRTIO_BAR_REGION 0x1000 /* each region's length */
#define VIRTIO_NOTIFY_MULT 4

#define VIRTIO_MSIX_MAX 8 /* vectors per device: config + queues */
#define VIRTIO_NO_VECTOR 0xffff

/* Configuration space offsets of the capabilities. */
#define VIRTIO_CAP_MSIX 0x40
#define VIRTIO_CAP_COMMON 0x4c
#define VIRTIO_CAP_NOTIFY 0x5c
#define VIRTIO_CAP_ISR 0x70
#define VIRTIO_CAP_DEVICE 0x80

/* Virtio vendor capability cfg_type (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* MSI-X message control (PCI 3.0, 6.8.2.3). */
#define PCI_MSIX_ENABLE 0x8000
#define PCI_MSIX_MASKALL 0x4000

/*
 * The PCI host tells a device about its configuration registers that
 * matter to it, as a message on its ring: addr PCI_MSG_CONFIG, data the
 * command register | MSI-X message control << 16.
 */
#define PCI_MSG_CONFIG 1

/* Command register bits (PCI 3.0, 6.2.2). */
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

#endif
