/*
 * cellvm: the command line. `cellvm run` starts a VM and supervises it
 * until the guest stops it (family.c, loop.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "broker.h"
#include "config.h"
#include "log.h"
#include "ring.h"
#include "trigger.h"

#define MEM_DEFAULT (256ull << 20)
#define MEM_MIN_BYTES (2ull << 20)
#define MEM_MAX_BYTES (1ull << 40)
#define CPUS_MAX 255
/* What the VMM's processes take besides guest RAM, and then some
 * (bench/boot measured ~6 MiB of PSS). */
#define MEM_LIMIT_MARGIN (64ull << 20)

static void usage(FILE *out)
{
	fputs("Usage: cellvm run [--kernel FILE] [options]\n"
	      "       cellvm ctl NAME COMMAND [--json]   (cellvm ctl --help)\n"
	      "       cellvm list [--json]\n"
	      "       cellvm policy audit --vm NAME | --dry-run [run options]\n"
	      "       cellvm policy learn [--json] [run options]\n"
	      "       cellvm --help | --version\n"
	      "\n"
	      "Run a virtual machine whose vCPUs, memory map and each device\n"
	      "live in separate sandboxed processes.\n"
	      "\n"
	      "Options of run:\n"
	      "  -k, --kernel FILE      kernel: PVH ELF, ELF64 vmlinux or "
	      "bzImage;\n"
	      "                         without it, the default guest "
	      "(Debian's\n"
	      "                         cloud kernel and a busybox shell)\n"
	      "  -i, --initrd FILE      initial ramdisk\n"
	      "  -c, --cmdline STRING   kernel command line (default guest:\n"
	      "                         \""
	      "console=ttyS0 panic=-1"
	      "\")\n"
	      "  -m, --mem SIZE         guest RAM: 512M, 2G, 65536K; a plain "
	      "number\n"
	      "                         is MiB (default 256M)\n"
	      "  -n, --cpus N           number of vCPUs (default 1)\n"
	      "      --serial WHERE     serial console: stdio (default), "
	      "file:PATH\n"
	      "                         or none\n"
	      "      --disk FILE[,readonly]\n"
	      "                         a virtio-blk disk on a raw image "
	      "(up to 4)\n"
	      "      --net tap=NAME[,mac=MAC]\n"
	      "                         a virtio-net device on host tap NAME\n"
	      "                         (default MAC 52:54:00:12:34:56)\n"
	      "      --no-rng           no virtio-rng device (default: one)\n"
	      "      --vconsole FILE    a virtio-console port (the guest's "
	      "hvc0)\n"
	      "                         whose output is appended to FILE\n"
	      "      --cpu-quota PCT    at most PCT % of one CPU for the "
	      "whole VM\n"
	      "      --mem-limit SIZE   at most SIZE of memory for the whole "
	      "VM\n"
	      "                         (guest RAM and the VMM; both need "
	      "a\n"
	      "                         delegated cgroup v2)\n"
	      "      --uid UID, --gid GID\n"
	      "                         host ids the VM's processes run as; "
	      "as root\n"
	      "                         the default is an unused id from "
	      "268435456\n"
	      "                         (0x10000000) on, else your own\n"
	      "      --name NAME        the VM's name for cellvm ctl, list:\n"
	      "                         A-Z a-z 0-9 _ . - (1 to 64, not "
	      "starting\n"
	      "                         with '.'); default vm-<pid of "
	      "cellvm>\n"
	      "      --log WHERE        log lines to stderr (default) or\n"
	      "                         journald (the systemd journal)\n"
	      "      --stats            print exit and device counters at the "
	      "end\n"
	      "  -v, --verbose          say more (twice: debug)\n"
	      "  -q, --quiet            errors only\n"
#if CELLVM_TEST_HOOKS
	      "      --test-trigger DEV:ACTION[@MS]\n"
	      "                         test build only: ask device DEV to\n"
	      "                         misbehave MS ms after start (ACTION:\n"
	      "                         bad-syscall, corrupt-state, or an\n"
	      "                         escape attempt: open-file, "
	      "create-file,\n"
	      "                         stat-file, open-kvm, connect, "
	      "socketpair,\n"
	      "                         execve, ptrace, kill, steal-fd,\n"
	      "                         read-memory, mmap-fds, memfd, "
	      "setuid,\n"
	      "                         capset, unshare; or keep-fd: keep\n"
	      "                         a descriptor sent with the trigger)\n"
#endif
	      "\n"
	      "On a terminal the console is raw; Ctrl-A x stops the VM.\n"
	      "Exit status: the status a guest writes to the test-exit port\n"
	      "(0xf4); 0 when the guest otherwise stops the machine; 1 on an\n"
	      "error; 128+N when stopped by signal N.\n",
	      out);
}

static int parse_mem(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 20;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || v > (MEM_MAX_BYTES >> shift))
		return -ERANGE;
	v <<= shift;
	if (v < MEM_MIN_BYTES || v > MEM_MAX_BYTES || v & 0xfff)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_serial(const char *s, struct options *o)
{
	if (strcmp(s, "stdio") == 0) {
		o->serial = SERIAL_STDIO;
	} else if (strcmp(s, "none") == 0) {
		o->serial = SERIAL_NONE;
	} else if (strncmp(s, "file:", 5) == 0 && s[5]) {
		o->serial = SERIAL_FILE;
		o->serial_path = s + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

#if CELLVM_TEST_HOOKS
static int parse_trigger(const char *s, struct options *o)
{
	struct test_trigger *t;
	const char *colon = strchr(s, ':'), *at;
	size_t n;

	if (!colon || o->ntriggers == BROKER_MAX_TRIGGERS)
		return -EINVAL;
	t = &o->trigger[o->ntriggers];
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(t->device))
		return -EINVAL;
	memcpy(t->device, s, n);
	at = strchr(colon, '@');
	n = at ? (size_t)(at - colon - 1) : strlen(colon + 1);
	t->action = trigger_action(colon + 1, n);
	if (t->action < 0)
		return -EINVAL;
	t->after_ms = at ? strtoull(at + 1, NULL, 10) : 0;
	o->ntriggers++;
	return 0;
}
#endif

enum {
	OPT_SERIAL = 256,
	OPT_STATS,
	OPT_TRIGGER,
	OPT_DISK,
	OPT_NET,
	OPT_NO_RNG,
	OPT_VCONSOLE,
	OPT_NAME,
	OPT_UID,
	OPT_GID,
	OPT_CPU_QUOTA,
	OPT_MEM_LIMIT,
	OPT_LOG,
};

/* FILE[,readonly] */
static int parse_disk(char *s, struct options *o)
{
	struct disk_opt *d;
	char *comma = strchr(s, ',');

	if (o->ndisks == BROKER_MAX_DISKS || !*s || s[0] == ',')
		return -EINVAL;
	d = &o->disk[o->ndisks];
	if (comma) {
		if (strcmp(comma + 1, "readonly") != 0)
			return -EINVAL;
		*comma = '\0';
		d->read_only = true;
	}
	d->path = s;
	o->ndisks++;
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6], i;
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	/* A multicast address cannot be a station's. */
	return mac[0] & 1 ? -EINVAL : 0;
}

/* tap=NAME[,mac=MAC] */
static int parse_net(char *s, struct options *o)
{
	char *comma = strchr(s, ',');

	if (o->tap || strncmp(s, "tap=", 4) != 0 || !s[4] || s[4] == ',')
		return -EINVAL;
	if (comma) {
		if (strncmp(comma + 1, "mac=", 4) != 0 ||
		    parse_mac(comma + 5, o->mac) < 0)
			return -EINVAL;
		*comma = '\0';
	}
	o->tap = s + 4;
	return 0;
}

static const struct option run_opts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "mem", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'n' },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "no-rng", no_argument, NULL, OPT_NO_RNG },
	{ "vconsole", required_argument, NULL, OPT_VCONSOLE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
	{ "mem-limit", required_argument, NULL, OPT_MEM_LIMIT },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
#if CELLVM_TEST_HOOKS
	{ "test-trigger", required_argument, NULL, OPT_TRIGGER },
#endif
	{ NULL, 0, NULL, 0 },
};

/* A host uid or gid for the VM: not root's, not (uid_t)-1. */
static int parse_id(const char *s, long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0 ||
	    v >= 0xffffffffull)
		return -EINVAL;
	*out = (long)v;
	return 0;
}

/* --log stderr|journald; test builds also stderr-relay: the journal's
 * relay of the children's lines, to stderr (logrelay.h). */
static int parse_log(const char *s, struct options *o)
{
	if (strcmp(s, "stderr") == 0) {
		o->log_to = LOG_TO_STDERR;
	} else if (strcmp(s, "journald") == 0) {
		if (!logrelay_have_journal()) {
			log_err("--log journald: this cellvm was built without "
				"libsystemd");
			return 1;
		}
		o->log_to = LOG_TO_JOURNAL;
#if CELLVM_TEST_HOOKS
	} else if (strcmp(s, "stderr-relay") == 0) {
		o->log_to = LOG_TO_RELAY;
#endif
	} else {
		log_err("invalid --log '%s': give stderr or journald", s);
		return 1;
	}
	return 0;
}

/* Returns 0, or the exit status for a bad command line (after a message). */
static int parse_option(int c, struct options *o)
{
	char *end;
	unsigned long n;

	switch (c) {
	case 'k':
		o->kernel = optarg;
		return 0;
	case 'i':
		o->initrd = optarg;
		return 0;
	case 'c':
		o->cmdline = optarg;
		return 0;
	case 'm':
		if (parse_mem(optarg, &o->mem) == 0)
			return 0;
		log_err("invalid --mem '%s': give 2M to 1T in steps of 4K "
			"(e.g. 512M)",
			optarg);
		return 1;
	case 'n':
		errno = 0;
		n = strtoul(optarg, &end, 10);
		/* xAPIC IDs are 8 bits and 0xff is the broadcast ID. */
		if (!errno && *end == '\0' && n >= 1 && n <= CPUS_MAX) {
			o->cpus = (unsigned)n;
			return 0;
		}
		log_err("invalid --cpus '%s': give 1 to %u", optarg, CPUS_MAX);
		return 1;
	case OPT_SERIAL:
		if (parse_serial(optarg, o) == 0)
			return 0;
		log_err("invalid --serial '%s': give stdio, file:PATH or none",
			optarg);
		return 1;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_DISK:
		if (parse_disk(optarg, o) == 0)
			return 0;
		log_err("invalid --disk '%s': give FILE or FILE,readonly, at "
			"most %d times",
			optarg, BROKER_MAX_DISKS);
		return 1;
	case OPT_NET:
		if (parse_net(optarg, o) == 0)
			return 0;
		log_err("invalid --net '%s': give tap=NAME or "
			"tap=NAME,mac=52:54:00:12:34:56, once",
			optarg);
		return 1;
	case OPT_NO_RNG:
		o->rng = false;
		return 0;
	case OPT_VCONSOLE:
		if (!o->vconsole && *optarg) {
			o->vconsole = optarg;
			return 0;
		}
		log_err("invalid --vconsole '%s': give one FILE", optarg);
		return 1;
	case OPT_NAME:
		if (vm_name_valid(optarg)) {
			o->name = optarg;
			return 0;
		}
		log_err("invalid --name '%s': 1 to %d of A-Z a-z 0-9 _ . -, "
			"not starting with '.'",
			optarg, VM_NAME_MAX);
		return 1;
	case OPT_CPU_QUOTA:
		errno = 0;
		n = strtoul(optarg, &end, 10);
		if (!errno && *end == '\0' && n >= 1 && n <= 100 * CPUS_MAX) {
			o->cpu_quota = (unsigned)n;
			return 0;
		}
		log_err("invalid --cpu-quota '%s': give a percentage of one "
			"CPU, 1 to %u",
			optarg, 100 * CPUS_MAX);
		return 1;
	case OPT_MEM_LIMIT:
		if (parse_mem(optarg, &o->mem_limit) == 0)
			return 0;
		log_err("invalid --mem-limit '%s': give a size like --mem's "
			"(e.g. 1G)",
			optarg);
		return 1;
	case OPT_UID:
	case OPT_GID:
		if (parse_id(optarg, c == OPT_UID ? &o->uid : &o->gid) == 0)
			return 0;
		log_err("invalid --%s '%s': give a number from 1 to 4294967294",
			c == OPT_UID ? "uid" : "gid", optarg);
		return 1;
	case OPT_LOG:
		return parse_log(optarg, o);
	case 'v':
		o->log_level++;
		return 0;
	case 'q':
		o->log_level = LOG_ERR;
		return 0;
#if CELLVM_TEST_HOOKS
	case OPT_TRIGGER:
		if (parse_trigger(optarg, o) == 0)
			return 0;
		log_err("invalid --test-trigger '%s': give DEVICE:ACTION[@MS] "
			"(see --help), at most %d times",
			optarg, BROKER_MAX_TRIGGERS);
		return 1;
#endif
	case 'h':
		usage(stdout);
		exit(0);
	default:
		fputs("Try 'cellvm run --help'.\n", stderr);
		return 1;
	}
}

int options_parse(int argc, char **argv, struct options *o)
{
	int c, r;

	o->mem = MEM_DEFAULT;
	o->cpus = 1;
	o->serial = SERIAL_STDIO;
	o->log_level = LOG_WARN;
	o->log_to = LOG_TO_STDERR;
	o->rng = true;
	o->uid = o->gid = -1;
	memcpy(o->mac, (const uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	       sizeof(o->mac));
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:i:c:m:n:vqh", run_opts, NULL)) !=
	       -1) {
		r = parse_option(c, o);
		if (r)
			return r;
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return 1;
	}
	/* The limit counts the guest's RAM and the VMM's own memory. */
	if (o->mem_limit && o->mem_limit < o->mem + MEM_LIMIT_MARGIN) {
		log_err("--mem-limit %llu MiB is too small for --mem %llu MiB: "
			"give at least %llu MiB (the VMM's own memory is "
			"counted too)",
			(unsigned long long)(o->mem_limit >> 20),
			(unsigned long long)(o->mem >> 20),
			(unsigned long long)((o->mem + MEM_LIMIT_MARGIN) >>
					     20));
		return 1;
	}
	return 0;
}

int run_vm(struct options *o)
{
	log_set_level(o->log_level);
	logrelay_start(o->log_to);
	if (!o->kernel && default_guest(o) < 0)
		return 1;
	check_host_kvm(o);
	return family_run(o);
}

static int cmd_run(int argc, char **argv)
{
	static struct options o;
	int r;

	r = options_parse(argc, argv, &o);
	if (r)
		return r;
	return run_vm(&o);
}

int main(int argc, char **argv)
{
	log_init("cellvm", 0);
	/* A reader of the console that goes away must not kill the VM. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("cellvm %s\n", CELLVM_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return list_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return policy_main(argc - 1, argv + 1);
	log_err("unknown command '%s'; try 'cellvm --help'", argv[1]);
	return 1;
}
