/*
 * The broker: `cellvm`. Parses the command line, opens /dev/kvm and the
 * files, creates the shared memory, starts one process per role and
 * supervises them (pidfds), relaying the serial console. It never maps
 * guest RAM and gives /dev/kvm away as soon as the runner has it.
 */
#ifndef CELLVM_BROKER_H
#define CELLVM_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl.h"
#include "irqline.h"
#include "logrelay.h"
#include "ring.h"
#include "status.h"

#define BROKER_MAX_DEVICES 24
#define BROKER_MAX_TRIGGERS 80 /* the escape tests: actions x devices */
#define BROKER_MAX_DISKS 4
#define BROKER_MAX_VIRTIO 8 /* PCI devices: one INTx line each */
#define BROKER_MAX_LINKS 32

enum serial_kind {
	SERIAL_STDIO,
	SERIAL_FILE,
	SERIAL_NONE
};

struct disk_opt {
	const char *path;
	bool read_only;
};

struct test_trigger {
	char device[32];
	int action; /* Cellvm__TestTriggerRequest__Action */
	uint64_t after_ms;
	bool sent;
};

struct options {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t mem;
	unsigned cpus;
	enum serial_kind serial;
	const char *serial_path;
	bool stats;
	int log_level;
	enum log_to log_to; /* --log */
	struct test_trigger trigger[BROKER_MAX_TRIGGERS];
	unsigned ntriggers;
	struct disk_opt disk[BROKER_MAX_DISKS];
	unsigned ndisks;
	const char *tap;      /* --net tap=NAME: the host side */
	uint8_t mac[6];	      /* the guest's */
	bool rng;	      /* a virtio-rng device (default on) */
	const char *vconsole; /* --vconsole FILE: a virtio-console */
	long uid, gid;	      /* --uid, --gid; -1: not given (jail.c) */
	unsigned cpu_quota;   /* --cpu-quota: % of one CPU; 0: none */
	uint64_t mem_limit;   /* --mem-limit: bytes; 0: none (cgroup.c) */
	const char *name;     /* --name: the VM's (api.h); NULL: vm-<pid> */
	bool learn;	      /* cellvm policy learn (learn.h) */
	bool learn_json;      /* its report as JSON */
};

/*
 * Message rings between devices (ARCHITECTURE.md, "Interrupt path"), one
 * per producer and consumer: interrupt messages I/O APIC -> LAPIC and
 * MSI-X device -> LAPIC, EOI broadcasts LAPIC -> I/O APIC, configuration
 * changes PCI host -> PCI device. A device's inputs and outputs are its
 * links in the order they were made.
 */
struct link {
	unsigned from, to; /* device numbers */
	int fd;
};

struct dev_range {
	int space; /* Cellvm__Region__Space */
	uint64_t base, size;
	bool sync; /* the vCPUs wait for writes here */
};

#define DEV_MAX_RANGES 3

/* A device the broker can start: fixed resources of the PC platform. */
struct dev_desc {
	const char *name; /* cellvm-dev-<name> */
	struct dev_range range[DEV_MAX_RANGES];
	int gsi;	  /* the line it drives; -1: none */
	bool irq_page;	  /* maps the IRQ-line page (drives or watches) */
	bool console;	  /* the serial console */
	bool sync_writes; /* the vCPUs wait for its writes */
	bool mailbox;	  /* offers interrupts to the vCPUs (the LAPIC) */
	bool pic;	  /* the runner acknowledges ExtINT here */
	bool ioapic;	  /* sends interrupt messages, takes EOIs */
	bool pci_host;	  /* tells the PCI devices about config writes */
	/* PCI devices (virtio): slot, type, backing file, guest RAM. */
	unsigned pci_slot; /* 0: not a PCI device */
	unsigned virtio_type;
	int backing_fd; /* disk image or tap; -1: none */
	bool read_only;
};

enum child_kind {
	CHILD_VCPU,
	CHILD_MMU,
	CHILD_DEVICE
};

struct child {
	char name[40]; /* cellvm-vcpu, cellvm-mmu, cellvm-dev-uart */
	enum child_kind kind;
	pid_t pid;
	int pidfd;
	int ctl;
	bool alive;
	struct proc_status *status;
	int status_fd;
	size_t status_len;

	/* Devices only. */
	const struct dev_desc *dev;
	unsigned index; /* ring index in the runner's dispatch */
	int ring_fd;
	struct ring *ring;
	int state_fd;
	uint64_t state_size; /* bytes of the state page */
	unsigned restarts;
	uint64_t restart_at;   /* ns; 0: none pending */
	uint64_t window_start; /* restart budget window */
	unsigned window_restarts;
	uint64_t trigger_ns; /* when it was last sent a test trigger */

	uint64_t started_ns; /* this instance */
	char last_exit[160]; /* how the last instance ended; "": none did */
	struct logrelay log; /* its stderr pipe (--log journald) */
};

struct console {
	int out_rd, out_wr; /* UART output records */
	int in_fd;	    /* memfd of struct console_in */
	struct console_in *in;
	int sink; /* where guest output goes, -1 for none */
	uint32_t next_seq;
	bool stdin_open;    /* still reading the broker's stdin */
	bool stdin_polled;  /* a file epoll cannot watch: just read it */
	bool stdin_watched; /* in the epoll set */
	bool tty;	    /* stdin is a terminal in raw mode */
	bool escape;	    /* saw Ctrl-A */
	unsigned char rec_buf[64];
	size_t rec_len;
};

/* The jail of the VM's processes (jail.c). */
struct jail {
	uid_t uid; /* the VM's, on the host */
	gid_t gid;
	bool ns;     /* children get their own namespaces */
	int lock_fd; /* holds an allocated uid; -1: none */
	int dir_fd;  /* where the child binaries are */
};

struct family {
	const struct options *opt;
	char dir[4096]; /* where the child binaries are */
	int devnull;
	int kvm_fd, kernel_fd, initrd_fd, ram_fd, irq_fd, mbox_fd;
	struct link link[BROKER_MAX_LINKS];
	unsigned nlinks;
	struct dev_desc pcidev[BROKER_MAX_VIRTIO]; /* made from the options */
	unsigned npcidev;
	const struct irq_page *irq; /* read-only view for --stats */
	struct child runner, mmu;
	struct child dev[BROKER_MAX_DEVICES];
	unsigned ndev;
	struct console con;
	struct jail jail;
	struct {
		char parent[1100]; /* the broker's cgroup (v2) */
		char dir[1200];	   /* cellvm-NAME under it */
		bool made;
	} cgroup;
	int epoll, sigfd;
	uint64_t started_ns;
	bool stopping;
	int exit_status;
	struct ctlsock *api; /* the control socket (ctlsock.c) */
	struct learn *learn; /* cellvm policy learn; NULL: not learning */
};

/* devices.c */
extern const struct dev_desc dev_table[];
extern const unsigned dev_table_len;

/* pcidev.c: the virtio devices the options ask for, their backing files
 * opened; 0, or -errno after saying why. */
int pcidev_plan(struct family *f);
/* The names of those devices ("virtio-rng", ...), in slot order, without
 * opening anything; how many. */
unsigned pcidev_names(const struct options *o, const char **names,
		      unsigned max);

/* main.c: parse `cellvm run` options into o (defaults first); 0, or the
 * exit status for a bad command line after saying why. */
int options_parse(int argc, char **argv, struct options *o);
/* main.c: run the VM o describes (cellvm run, cellvm policy learn); its
 * exit status. */
int run_vm(struct options *o);
void pcidev_close(struct family *f);

/* cgroup.c: the VM's cgroup v2 limits (--cpu-quota, --mem-limit), the
 * broker moved into it before it forks; 0, or -errno after saying why. */
int cgroup_setup(struct family *f, const char *name);
void cgroup_close(struct family *f);

/* jail.c: pick the VM's uid/gid and, as root, become them once all is
 * open (0, or -errno after saying why); clone a child into its
 * namespaces; in the child before exec, its id maps and rlimits. */
int jail_setup(struct family *f);
void jail_close(struct family *f);
pid_t jail_clone(struct family *f, int *pidfd);
int jail_child(struct family *f, const struct child *c);

/* spawn.c */
int child_spawn(struct family *f, struct child *c);
int child_expect(struct family *f, struct child *c,
		 Cellvm__Control__BodyCase which, int timeout_ms,
		 ctl_msg **out);
void child_kill(struct child *c);
void child_reap(struct child *c, char *cause, size_t len);
int child_status_page(struct child *c, unsigned nvcpus);

/* family.c */
int family_run(const struct options *opt);

/* guest.c: fill in the default guest's kernel, initrd and command line
 * (no --kernel given). 0, or -errno after saying why. */
int default_guest(struct options *o);

/* guest.c: one line of warning when a Linux kernel (bzImage) is about to
 * boot on a software-based KVM, where it may never finish. */
void check_host_kvm(const struct options *o);
int family_hello(struct family *f, struct child *c);

/* loop.c */
int loop_run(struct family *f);
void loop_stop(struct family *f, int status);
int device_setup(struct family *f, struct child *c);

/* console.c */
int console_init(struct family *f);
void console_restore(struct family *f);
int console_pump_output(struct family *f);
int console_pump_input(struct family *f);
bool console_input_blocked(const struct family *f);

#endif
