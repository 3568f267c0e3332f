/*
 * `cellvm policy audit`: for every process of a VM, the system calls and
 * argument filters of its policy, its capabilities, namespaces, uid/gid,
 * open descriptors and whether it maps guest RAM; then whether the live
 * processes are held to that, exiting 1 on any difference.
 *
 * The live seccomp filter is read with PTRACE_SECCOMP_GET_FILTER (which
 * needs CAP_SYS_ADMIN: run it as root) and compared instruction by
 * instruction with the program libseccomp makes from the process's
 * policy text, the same text its binary was built with.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "broker.h"
#include "learn.h"
#include "log.h"
#include "policy.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

#define AUDIT_MAX_PROCS (2 + BROKER_MAX_DEVICES)
#define AUDIT_MAX_FDS 64
#define AUDIT_MAX_DIFFS 16
#define AUDIT_BPF_MAX 4096

static const char *const ns_names[] = { "user", "mnt", "pid",
					"ipc",	"uts", "net" };
#define AUDIT_NS (sizeof(ns_names) / sizeof(ns_names[0]))

struct audit_fd {
	int fd;
	char what[160];
};

struct audit_proc {
	char name[64];
	long uid, gid;
	int pid;    /* 0: expected, not running */
	int filter; /* 1 same as the policy, 0 differs, -1 unknown */
	unsigned nfd, ndiff;
	char seccomp[8], filters[8], nnp[8];
	char caps[5][24]; /* CapInh, CapPrm, CapEff, CapBnd, CapAmb */
	char ns[AUDIT_NS][48];
	bool own_ns[AUDIT_NS]; /* differs from the broker's */
	bool guest_ram, wx;
	struct audit_fd fd[AUDIT_MAX_FDS];
	char diff[AUDIT_MAX_DIFFS][200];
};

static const char *const cap_fields[] = { "CapInh", "CapPrm", "CapEff",
					  "CapBnd", "CapAmb" };

const char *audit_policy_text(const char *name)
{
	unsigned i;

	for (i = 0; i < policy_files_len; i++)
		if (strcmp(policy_files[i].process, name) == 0)
			return policy_files[i].text;
	return NULL;
}

static void differ(struct audit_proc *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void differ(struct audit_proc *p, const char *fmt, ...)
{
	va_list ap;

	if (p->ndiff == AUDIT_MAX_DIFFS)
		return;
	va_start(ap, fmt);
	vsnprintf(p->diff[p->ndiff++], sizeof(p->diff[0]), fmt, ap);
	va_end(ap);
}

/* --- what the live process is --- */

static void audit_status(struct audit_proc *p)
{
	char path[64], line[256];
	unsigned i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		if (strcmp(line, "Seccomp") == 0)
			snprintf(p->seccomp, sizeof(p->seccomp), "%s", v);
		else if (strcmp(line, "Seccomp_filters") == 0)
			snprintf(p->filters, sizeof(p->filters), "%s", v);
		else if (strcmp(line, "NoNewPrivs") == 0)
			snprintf(p->nnp, sizeof(p->nnp), "%s", v);
		else if (strcmp(line, "Uid") == 0)
			p->uid = strtol(v, NULL, 10);
		else if (strcmp(line, "Gid") == 0)
			p->gid = strtol(v, NULL, 10);
		for (i = 0; i < 5; i++)
			if (strcmp(line, cap_fields[i]) == 0)
				snprintf(p->caps[i], sizeof(p->caps[i]), "%s",
					 v);
	}
	fclose(f);
}

static void audit_link(int pid, const char *rel, char *buf, size_t len)
{
	char path[320];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, rel);
	n = readlink(path, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

static void audit_fds(struct audit_proc *p)
{
	char path[64], rel[sizeof(((struct dirent *)0)->d_name) + 4];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", p->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) && p->nfd < AUDIT_MAX_FDS) {
		struct audit_fd *fd = &p->fd[p->nfd];

		if (e->d_name[0] == '.')
			continue;
		fd->fd = atoi(e->d_name);
		snprintf(rel, sizeof(rel), "fd/%s", e->d_name);
		audit_link(p->pid, rel, fd->what, sizeof(fd->what));
		p->nfd++;
	}
	closedir(d);
}

static void audit_maps(struct audit_proc *p)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "cellvm-ram"))
			p->guest_ram = true;
		if (strstr(line, " rwxp ") || strstr(line, " rwxs "))
			p->wx = true;
	}
	fclose(f);
}

/* The BPF libseccomp makes of the process's policy; its length or -1. */
static int audit_policy_bpf(const char *name, struct sock_filter *out,
			    unsigned max)
{
	const char *text = audit_policy_text(name);
	struct policy *pol;
	char err[200];
	ssize_t n;
	int fd, r = -1;

	pol = calloc(1, sizeof(*pol));
	if (!text || !pol || policy_parse(text, pol, err, sizeof(err)) < 0) {
		free(pol);
		return -1;
	}
	fd = memfd_create("cellvm-audit-bpf", MFD_CLOEXEC);
	if (fd >= 0 && policy_export(pol, SCMP_ACT_TRAP, fd) == 0) {
		n = pread(fd, out, max * sizeof(*out), 0);
		if (n >= 0)
			r = (int)(n / (ssize_t)sizeof(*out));
	}
	if (fd >= 0)
		close(fd);
	free(pol);
	return r;
}

/*
 * The live filter, from a moment's ptrace stop of the process: its length,
 * or -errno (-EPERM without CAP_SYS_ADMIN).
 */
static int audit_live_bpf(int pid, struct sock_filter *out, unsigned max)
{
	long n;
	int st;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
	    waitpid(pid, &st, __WALL) < 0) {
		n = -errno;
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return (int)n;
	}
	n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
	if (n > 0 && (unsigned long)n <= max)
		n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, out);
	else if (n > 0)
		n = -E2BIG;
	if (n < 0)
		n = -errno;
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return (int)n;
}

static void audit_filter(struct audit_proc *p)
{
	static struct sock_filter want[AUDIT_BPF_MAX], got[AUDIT_BPF_MAX];
	int nw, ng;

	p->filter = -1;
	nw = audit_policy_bpf(p->name, want, AUDIT_BPF_MAX);
	if (nw < 0) {
		differ(p, "no policy of its own to compare with");
		return;
	}
	ng = audit_live_bpf(p->pid, got, AUDIT_BPF_MAX);
	if (ng < 0)
		return; /* said once, for all processes, by the caller */
	p->filter =
		ng == nw && memcmp(want, got, (size_t)nw * sizeof(*got)) == 0;
	if (!p->filter)
		differ(p,
		       "its seccomp filter (%d instructions) is not the one "
		       "policy/%s.policy makes (%d)",
		       ng, p->name, nw);
}

/* --- what it should be --- */

static bool prefix(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

/* Is this descriptor one the broker hands process name? */
static bool fd_expected(const char *name, const struct audit_fd *fd)
{
	const char *w = fd->what;

	if (fd->fd == 0 || fd->fd == 1)
		return strcmp(w, "/dev/null") == 0;
	if (fd->fd == 2)
		return true; /* the broker's stderr, whatever it is */
	if (fd->fd == 3)
		return prefix(w, "socket:"); /* the control channel */
	if (strcmp(name, "cellvm-vcpu") == 0)
		return prefix(w, "anon_inode:kvm-vm") ||
		       prefix(w, "anon_inode:kvm-vcpu");
	if (strcmp(name, "cellvm-dev-uart") == 0)
		return prefix(w, "pipe:");
	if (strcmp(name, "cellvm-dev-virtio-net") == 0)
		return strcmp(w, "/dev/net/tun") == 0;
	if (strcmp(name, "cellvm-dev-virtio-blk") == 0 ||
	    strcmp(name, "cellvm-dev-virtio-console") == 0)
		return w[0] == '/' && !prefix(w, "/dev/") &&
		       !prefix(w, "/proc/") && !prefix(w, "/memfd:");
	return false;
}

static bool ram_allowed(const char *name)
{
	return strcmp(name, "cellvm-vcpu") == 0 ||
	       strcmp(name, "cellvm-mmu") == 0 ||
	       prefix(name, "cellvm-dev-virtio-");
}

static void audit_check(struct audit_proc *p)
{
	unsigned i;

	if (!p->pid) {
		differ(p, "not running");
		return;
	}
	if (strcmp(p->seccomp, "2") != 0)
		differ(p, "not in a seccomp filter (Seccomp: %s)", p->seccomp);
	if (p->filters[0] && strcmp(p->filters, "1") != 0)
		differ(p, "%s seccomp filters, not 1", p->filters);
	if (strcmp(p->nnp, "1") != 0)
		differ(p, "NoNewPrivs is %s", p->nnp);
	for (i = 0; i < 5; i++)
		if (strtoull(p->caps[i], NULL, 16) != 0)
			differ(p, "%s %s: it holds capabilities", cap_fields[i],
			       p->caps[i]);
	for (i = 0; i < p->nfd; i++)
		if (!fd_expected(p->name, &p->fd[i]))
			differ(p, "fd %d (%s) is not one it was handed",
			       p->fd[i].fd, p->fd[i].what);
	/* The MMU service lets go of guest RAM once it has loaded the
	 * kernel: allowed to map it is not required to. */
	if (p->guest_ram && !ram_allowed(p->name))
		differ(p, "maps guest RAM");
	if (p->wx)
		differ(p, "has a writable and executable mapping");
}

/* --- finding the processes --- */

static int audit_exe_name(int pid, char *name, size_t len)
{
	char exe[4096], *base;

	audit_link(pid, "exe", exe, sizeof(exe));
	if (!exe[0])
		return -1;
	exe[strcspn(exe, " ")] = '\0'; /* " (deleted)" */
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strlen(base) >= len)
		return -1;
	memcpy(name, base, strlen(base) + 1);
	return 0;
}

static int audit_ppid(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')'); /* the command may hold spaces */
		if (p && sscanf(p + 1, " %*c %d", &ppid) != 1)
			ppid = -1;
	}
	fclose(f);
	return ppid;
}

/* The broker's children, by binary name. */
static unsigned audit_children(int broker, struct audit_proc *procs,
			       unsigned max)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d;
	int pid;

	d = opendir("/proc");
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		pid = atoi(e->d_name);
		if (pid <= 0 || audit_ppid(pid) != broker)
			continue;
		memset(&procs[n], 0, sizeof(procs[n]));
		procs[n].pid = pid;
		if (audit_exe_name(pid, procs[n].name, sizeof(procs[n].name)) ==
		    0)
			n++;
	}
	closedir(d);
	return n;
}

static void audit_inspect(int broker, struct audit_proc *p)
{
	char mine[48], rel[16];
	unsigned i;

	audit_status(p);
	for (i = 0; i < AUDIT_NS; i++) {
		snprintf(rel, sizeof(rel), "ns/%s", ns_names[i]);
		audit_link(p->pid, rel, p->ns[i], sizeof(p->ns[i]));
		audit_link(broker, rel, mine, sizeof(mine));
		p->own_ns[i] = strcmp(p->ns[i], mine) != 0;
	}
	audit_fds(p);
	audit_maps(p);
	audit_filter(p);
	audit_check(p);
}

/* --- output --- */

static struct policy *audit_parse(const char *name)
{
	const char *text = audit_policy_text(name);
	struct policy *pol = calloc(1, sizeof(*pol));
	char err[200];

	if (pol && (!text || policy_parse(text, pol, err, sizeof(err)) < 0)) {
		free(pol);
		return NULL;
	}
	return pol;
}

static void print_text(const struct audit_proc *procs, unsigned n, bool live)
{
	char ns[AUDIT_NS + 1], buf[256];
	unsigned i, j;

	printf("%-26s %7s %-7s %-5s %-21s %-6s %s\n", "PROCESS", "PID",
	       "FILTER", "CAPS", "UID:GID", "NS", "GUEST RAM / DESCRIPTORS");
	for (i = 0; i < n; i++) {
		const struct audit_proc *p = &procs[i];
		struct policy *pol = audit_parse(p->name);
		char ids[24] = "-", pid[16] = "-";
		bool caps = false;

		for (j = 0; j < AUDIT_NS; j++)
			ns[j] = p->own_ns[j] ? ns_names[j][0] : '-';
		ns[AUDIT_NS] = '\0';
		for (j = 0; j < 5; j++)
			caps |= strtoull(p->caps[j], NULL, 16) != 0;
		if (p->pid) {
			snprintf(ids, sizeof(ids), "%ld:%ld", p->uid, p->gid);
			snprintf(pid, sizeof(pid), "%d", p->pid);
		}
		printf("%-26s %7s %-7s %-5s %-21s %-6s %s;", p->name, pid,
		       !live		? "-"
		       : p->filter > 0	? "policy"
		       : p->filter == 0 ? "OTHER"
					: "?",
		       !live  ? "-"
		       : caps ? "SOME"
			      : "none",
		       ids, live ? ns : "-",
		       p->guest_ram || (!live && ram_allowed(p->name))
			       ? "guest RAM"
			       : "no RAM");
		for (j = 0; j < p->nfd; j++)
			if (p->fd[j].fd > 3)
				printf(" %d=%s", p->fd[j].fd, p->fd[j].what);
		printf("\n    policy: %zu rules:", pol ? pol->nrules : 0);
		for (j = 0; pol && j < pol->nrules; j++) {
			policy_rule_text(audit_policy_text(p->name),
					 &pol->rule[j], buf, sizeof(buf));
			printf("%s%s", j ? ", " : " ", buf);
		}
		putchar('\n');
		for (j = 0; j < p->ndiff; j++)
			printf("    DIFFERENCE: %s\n", p->diff[j]);
		free(pol);
	}
}

static void print_json(const struct audit_proc *procs, unsigned n, bool live,
		       bool ok)
{
	struct json j;
	char buf[256];
	unsigned i, k;

	json_start(&j, stdout);
	json_object(&j, NULL);
	json_bool(&j, "live", live);
	json_bool(&j, "ok", ok);
	json_array(&j, "processes");
	for (i = 0; i < n; i++) {
		const struct audit_proc *p = &procs[i];
		struct policy *pol = audit_parse(p->name);

		json_object(&j, NULL);
		json_str(&j, "name", p->name);
		json_u64(&j, "pid", (uint64_t)p->pid);
		json_array(&j, "policy");
		for (k = 0; pol && k < pol->nrules; k++) {
			policy_rule_text(audit_policy_text(p->name),
					 &pol->rule[k], buf, sizeof(buf));
			json_str(&j, NULL, buf);
		}
		json_end(&j, ']');
		free(pol);
		json_bool(&j, "guest_ram",
			  live ? p->guest_ram : ram_allowed(p->name));
		if (live) {
			if (p->filter < 0)
				json_null(&j, "filter_is_policy");
			else
				json_bool(&j, "filter_is_policy", p->filter);
			json_u64(&j, "uid", (uint64_t)p->uid);
			json_u64(&j, "gid", (uint64_t)p->gid);
			json_object(&j, "capabilities");
			for (k = 0; k < 5; k++)
				json_str(&j, cap_fields[k], p->caps[k]);
			json_end(&j, '}');
			json_object(&j, "namespaces");
			for (k = 0; k < AUDIT_NS; k++)
				json_str(&j, ns_names[k], p->ns[k]);
			json_end(&j, '}');
			json_array(&j, "fds");
			for (k = 0; k < p->nfd; k++) {
				json_object(&j, NULL);
				json_u64(&j, "fd", (uint64_t)p->fd[k].fd);
				json_str(&j, "what", p->fd[k].what);
				json_end(&j, '}');
			}
			json_end(&j, ']');
		}
		json_array(&j, "differences");
		for (k = 0; k < p->ndiff; k++)
			json_str(&j, NULL, p->diff[k]);
		json_end(&j, ']');
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_end(&j, '}');
	putchar('\n');
}

/* --- the command --- */

static void usage(FILE *out)
{
	fputs("Usage: cellvm policy audit --vm NAME [--json]\n"
	      "       cellvm policy audit [--json] --dry-run [RUN OPTIONS]\n"
	      "       cellvm policy learn [--json] [RUN OPTIONS]   (see "
	      "learn --help)\n"
	      "\n"
	      "For every process of the VM: the system calls and argument\n"
	      "filters of its policy, its capabilities, uid/gid, namespaces\n"
	      "of its own, descriptors and whether it maps guest RAM. With\n"
	      "--vm, the live processes are checked against that (their\n"
	      "seccomp filter instruction by instruction: needs root) and\n"
	      "the exit status is 1 if any differs, naming the process and\n"
	      "the difference. --dry-run shows what `cellvm run` with those\n"
	      "options would start.\n",
	      out);
}

/* The processes `cellvm run` with options o starts, by binary name. */
static unsigned audit_expected(const struct options *o,
			       struct audit_proc *procs, unsigned max)
{
	const char *dev[BROKER_MAX_VIRTIO];
	unsigned n = 0, i, ndev;

	snprintf(procs[n++].name, sizeof(procs[0].name), "cellvm-vcpu");
	snprintf(procs[n++].name, sizeof(procs[0].name), "cellvm-mmu");
	for (i = 0; i < dev_table_len && n < max; i++)
		snprintf(procs[n++].name, sizeof(procs[0].name),
			 "cellvm-dev-%s", dev_table[i].name);
	ndev = pcidev_names(o, dev, BROKER_MAX_VIRTIO);
	for (i = 0; i < ndev && n < max; i++)
		snprintf(procs[n++].name, sizeof(procs[0].name),
			 "cellvm-dev-%s", dev[i]);
	return n;
}

static int audit_vm_pid(const char *name)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, r;

	fd = rundir_connect(name);
	if (fd < 0) {
		log_err("no VM named '%s' is running", name);
		return -1;
	}
	r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	close(fd);
	if (r < 0) {
		log_err("cannot tell VM '%s''s broker: %s", name,
			strerror(errno));
		return -1;
	}
	return cred.pid;
}

/* The processes every VM has: one missing is a difference. */
static unsigned audit_missing(struct audit_proc *procs, unsigned n,
			      unsigned max)
{
	static struct options none;
	struct audit_proc want[AUDIT_MAX_PROCS];
	unsigned nw, i, j;

	memset(want, 0, sizeof(want));
	none.rng = false; /* the virtio devices depend on the options */
	nw = audit_expected(&none, want, AUDIT_MAX_PROCS);
	for (i = 0; i < nw && n < max; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(procs[j].name, want[i].name) == 0)
				break;
		if (j == n) {
			memset(&procs[n], 0, sizeof(procs[n]));
			snprintf(procs[n].name, sizeof(procs[n].name), "%s",
				 want[i].name);
			n++;
		}
	}
	return n;
}

/*
 * The jail (jail.c): once children have namespaces of their own, each
 * must have all of them; every child runs as the broker's (the VM's)
 * uid and gid, and never as root.
 */
static void audit_jail(int broker, struct audit_proc *procs, unsigned n)
{
	struct audit_proc b;
	bool jailed = false;
	unsigned i, k;

	memset(&b, 0, sizeof(b));
	b.pid = broker;
	audit_status(&b);
	for (i = 0; i < n; i++)
		jailed |= procs[i].pid && procs[i].own_ns[0];
	for (i = 0; i < n; i++) {
		struct audit_proc *p = &procs[i];

		if (!p->pid)
			continue;
		for (k = 0; jailed && k < AUDIT_NS; k++)
			if (!p->own_ns[k])
				differ(p, "shares the broker's %s namespace",
				       ns_names[k]);
		if (p->uid != b.uid || p->gid != b.gid)
			differ(p, "runs as %ld:%ld, the broker as %ld:%ld",
			       p->uid, p->gid, b.uid, b.gid);
		if (p->uid == 0 || p->gid == 0)
			differ(p, "runs as root (uid %ld, gid %ld)", p->uid,
			       p->gid);
	}
}

static int audit_live(const char *vm, bool json)
{
	static struct audit_proc procs[AUDIT_MAX_PROCS];
	unsigned n, i;
	bool ok = true, unknown = false;
	int broker;

	broker = audit_vm_pid(vm);
	if (broker < 0)
		return 1;
	n = audit_children(broker, procs, AUDIT_MAX_PROCS);
	if (!n) {
		log_err("VM '%s' (broker pid %d) has no processes to audit", vm,
			broker);
		return 1;
	}
	n = audit_missing(procs, n, AUDIT_MAX_PROCS);
	for (i = 0; i < n; i++)
		if (procs[i].pid)
			audit_inspect(broker, &procs[i]);
		else
			audit_check(&procs[i]);
	audit_jail(broker, procs, n);
	for (i = 0; i < n; i++) {
		ok &= procs[i].ndiff == 0;
		unknown |= procs[i].pid && procs[i].filter < 0;
	}
	if (json)
		print_json(procs, n, true, ok);
	else
		print_text(procs, n, true);
	if (unknown)
		log_warn("could not read the live seccomp filters "
			 "(PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN)");
	for (i = 0; i < n; i++)
		if (procs[i].ndiff)
			log_err("%s (pid %d): %s", procs[i].name, procs[i].pid,
				procs[i].diff[0]);
	return ok ? 0 : 1;
}

static int audit_dry_run(int argc, char **argv, bool json)
{
	static struct audit_proc procs[AUDIT_MAX_PROCS];
	static struct options o;
	unsigned n;
	int r;

	r = options_parse(argc, argv, &o);
	if (r)
		return r;
	n = audit_expected(&o, procs, AUDIT_MAX_PROCS);
	if (json)
		print_json(procs, n, false, true);
	else
		print_text(procs, n, false);
	return 0;
}

int policy_main(int argc, char **argv)
{
	const char *vm = NULL;
	bool json = false, dry = false;
	int i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "learn") == 0)
		return learn_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") != 0) {
		log_err("unknown policy command '%s'; try 'cellvm policy "
			"--help'",
			argv[1]);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--vm") == 0 && i + 1 < argc) {
			vm = argv[++i];
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry = true;
			i++;
			break;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			log_err("unexpected '%s'; try 'cellvm policy --help'",
				argv[i]);
			return 2;
		}
	}
	if (dry == !!vm) {
		log_err("give one of --vm NAME and --dry-run");
		return 2;
	}
	if (dry) {
		/* The rest are `cellvm run` options; getopt wants a name. */
		argv[i - 1] = (char *)"cellvm policy audit --dry-run";
		return audit_dry_run(argc - (i - 1), argv + (i - 1), json);
	}
	return audit_live(vm, json);
}
