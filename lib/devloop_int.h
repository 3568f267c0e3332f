/* The device loop's own state, shared by devloop.c and devwork.c only. */
#ifndef CELLVM_DEVLOOP_INT_H
#define CELLVM_DEVLOOP_INT_H

#include <sys/types.h>

#include "devloop.h"
#include "state.h"
#include "status.h"

struct devloop {
	const struct dev_ops *ops;
	void *dev;
	int ctl;
	unsigned nvcpus;
	struct ring *ring;
	struct ring *in[DEV_MAX_INPUTS];
	unsigned nin;
	struct ring *out[DEV_MAX_OUTPUTS];
	unsigned nout;
	struct state st;
	size_t model_off; /* the model's part of block 0 */
	struct irq_page *irq;
	unsigned gsi;
	uint32_t source;    /* this device's bit on its line */
	unsigned source_id; /* its number as a message producer */
	int irq_published;  /* -1 unknown, else the level last set */
	struct mailbox_page *mbox;
	struct proc_status *status;
	uint32_t chores_db;   /* doorbell value when chores last ran */
	uint32_t lines_seq;   /* IRQ page seq when lines() last ran */
	unsigned pulses;      /* pulses asked for in the current change */
	struct dev_common *c; /* working block 0 in a change, else NULL */
	pid_t pid;	      /* taken before the sandbox, for test triggers */
};

/* devwork.c */
void devwork_resume(struct devloop *d);
void devwork_run(struct devloop *d);
bool devwork_serve(struct devloop *d);

#endif
