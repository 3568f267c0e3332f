/*
 * cellvm-dev-pci: the PCI host bridge (pci.h). The broker says in the
 * setup which slots hold which virtio device and where their BARs are;
 * the guest's writes to a device's command register or MSI-X control are
 * passed on to that device as a message (the vCPU waits for these writes,
 * so the device sees the message before the guest's next access to it).
 */
#include <string.h>

#include "devloop.h"
#include "log.h"
#include "pci.h"
#include "virtio_pci.h"

extern const char policy_text[];

struct pci_dev {
	struct pci_fn_desc desc[PC_PCI_SLOTS];
	unsigned noutputs;
	bool moved_said[PC_PCI_SLOTS];
};

static int pci_setup(void *dev, struct devloop *d,
		     const Cellvm__SetupDeviceRequest *req, int *fds,
		     size_t nfds)
{
	struct pci_dev *p = dev;
	size_t i;

	p->desc[0].present = 1;
	p->noutputs = (unsigned)req->n_output_fds;
	for (i = 0; i < req->n_pci_functions; i++) {
		const Cellvm__PciFunction *f = req->pci_functions[i];
		struct pci_fn_desc *x;

		if (f->slot == 0 || f->slot >= PC_PCI_SLOTS ||
		    p->desc[f->slot].present || f->virtio_type == 0 ||
		    f->virtio_type > 0xff || f->msix_vectors > 64 ||
		    f->output >= p->noutputs ||
		    f->bar0 & (PC_VIRTIO_BAR_SIZE - 1)) {
			log_err("setup: bad PCI function at slot %u", f->slot);
			return -22;
		}
		x = &p->desc[f->slot];
		x->present = 1;
		x->virtio_type = (uint8_t)f->virtio_type;
		x->msix_vectors = (uint8_t)f->msix_vectors;
		x->output = (uint8_t)f->output;
		x->bar0 = f->bar0;
	}
	return 0;
}

static void pci_dev_reset(void *dev, struct devloop *d)
{
	struct pci_dev *p = dev;

	pci_reset(dev_state(d), p->desc);
}

static bool pci_dev_valid(void *dev, struct devloop *d)
{
	return pci_state_valid(dev_state(d));
}

static void pci_effects(struct pci_dev *p, struct devloop *d,
			const struct pci_fx *fx)
{
	const struct pci_state *s = dev_state(d);

	if (fx->notify && fx->slot)
		dev_send(d, p->desc[fx->slot].output, PCI_MSG_CONFIG,
			 pci_fn_message(s, fx->slot));
	if (fx->moved && !p->moved_said[fx->slot]) {
		p->moved_said[fx->slot] = true;
		log_warn("the guest moved BAR0 of slot %u to 0x%x; its "
			 "registers stay at 0x%x",
			 fx->slot, s->fn[fx->slot].bar0,
			 p->desc[fx->slot].bar0);
	}
}

static uint64_t pci_access(void *dev, struct devloop *d,
			   const struct ring_req *req, uint64_t now)
{
	struct pci_dev *p = dev;
	struct pci_state *s = dev_state(d);
	struct pci_fx fx;
	uint32_t val = (uint32_t)req->data;

	if (req->size > 4)
		return ~0ull;
	if (!(req->flags & RING_MMIO)) {
		if (!(req->flags & RING_WRITE))
			return pci_port_read(s, p->desc, (uint16_t)req->addr,
					     req->size);
		pci_port_write(s, p->desc, (uint16_t)req->addr, req->size, val,
			       &fx);
	} else {
		uint32_t off = (uint32_t)(req->addr - PC_PCI_ECAM_ADDR);

		if (!(req->flags & RING_WRITE))
			return pci_ecam_read(s, p->desc, off, req->size);
		pci_ecam_write(s, p->desc, off, req->size, val, &fx);
	}
	pci_effects(p, d, &fx);
	return 0;
}

static const struct dev_ops pci_ops = {
	.name = "pci",
	.state_size = sizeof(struct pci_state),
	.setup = pci_setup,
	.reset = pci_dev_reset,
	.valid = pci_dev_valid,
	.access = pci_access,
};

int main(void)
{
	static struct pci_dev pci;

	return devloop_main(&pci_ops, &pci, policy_text);
}
