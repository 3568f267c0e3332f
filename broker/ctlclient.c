/*
 * `cellvm ctl NAME COMMAND` and `cellvm list`: clients of the VMs' control
 * sockets (proto/api.proto). Tables by default, JSON with --json. Exit
 * status: 0 done, 1 the VM is not running or the request failed (one line
 * on stderr), 2 a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "clock.h"
#include "log.h"
#include "proto/api.pb-c.h"

#define CLIENT_TIMEOUT_MS 30000 /* a restart or stop may take seconds */
#define CLIENT_LIST_TIMEOUT_MS 5000
#define CLIENT_MAX_REPLY 65536

enum {
	EXIT_DONE = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
};

typedef Cellvm__Api__Reply api_reply;

struct command {
	const char *name;
	Cellvm__Api__Request__BodyCase body;
	bool device; /* takes a DEVICE argument */
};

static const struct command commands[] = {
	{ "status", CELLVM__API__REQUEST__BODY_STATUS, false },
	{ "stats", CELLVM__API__REQUEST__BODY_STATS, false },
	{ "pause", CELLVM__API__REQUEST__BODY_PAUSE, false },
	{ "resume", CELLVM__API__REQUEST__BODY_RESUME, false },
	{ "stop", CELLVM__API__REQUEST__BODY_STOP, false },
	{ "restart", CELLVM__API__REQUEST__BODY_RESTART, true },
	{ "kill", CELLVM__API__REQUEST__BODY_KILL, true },
	{ "list", CELLVM__API__REQUEST__BODY_LIST, false },
};

static void ctl_usage(FILE *out)
{
	fputs("Usage: cellvm ctl NAME COMMAND [--json]\n"
	      "       cellvm list [--json]\n"
	      "\n"
	      "Steer the running VM named NAME through its control socket.\n"
	      "\n"
	      "Commands:\n"
	      "  status            the VM's state and uptime, and per process\n"
	      "                    its pid, uptime, restarts, last exit cause\n"
	      "  stats             per vCPU the exit counters (named after\n"
	      "                    KVM's kvm_vcpu_stat), per device requests,\n"
	      "                    restarts and service-time percentiles\n"
	      "  pause, resume     stop and restart running the guest's vCPUs\n"
	      "  stop              stop the VM (cellvm run exits 0); returns\n"
	      "                    once it is gone\n"
	      "  restart DEVICE    replace a device's process (uart, mmu, a "
	      "pid);\n"
	      "                    returns once the new one serves\n"
	      "  kill DEVICE       SIGKILL a device's process (it is "
	      "restarted)\n"
	      "  list              the VM's processes\n"
	      "\n"
	      "  --json            print JSON instead of a table\n"
	      "\n"
	      "`cellvm list` shows the VMs of this user on this host.\n"
	      "Exit status: 0 done; 1 the VM is not running or the request\n"
	      "failed; 2 a usage error.\n",
	      out);
}

/*
 * The words of argv[1..] into words (at most max; more is an error), with
 * --json and --help anywhere. The count, or -1 after a usage message.
 */
static int client_args(int argc, char **argv, char **words, int max, bool *json)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*json = true;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			ctl_usage(stdout);
			exit(EXIT_DONE);
		} else if (argv[i][0] == '-') {
			log_err("unknown option '%s'", argv[i]);
			return -1;
		} else if (n == max) {
			log_err("unexpected argument '%s'", argv[i]);
			return -1;
		} else {
			words[n++] = argv[i];
		}
	}
	return n;
}

/* Wait for a packet (or the end) on fd, up to timeout_ms. */
static int client_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

/*
 * One request, one reply: 0 with *rep set, -ENOTCONN when the VM closed
 * the connection first, -ETIMEDOUT, -EBADMSG, or another -errno.
 */
static int client_call(int fd, const Cellvm__Api__Request *req, api_reply **rep,
		       int timeout_ms)
{
	size_t len = cellvm__api__request__get_packed_size(req);
	uint8_t *buf = malloc(CLIENT_MAX_REPLY);
	ssize_t n;
	int r;

	*rep = NULL;
	if (!buf || len > CLIENT_MAX_REPLY) {
		free(buf);
		return -ENOMEM;
	}
	cellvm__api__request__pack(req, buf);
	n = send(fd, buf, len, MSG_NOSIGNAL);
	r = n < 0 ? -errno : client_wait(fd, timeout_ms);
	if (!r) {
		n = recv(fd, buf, CLIENT_MAX_REPLY, 0);
		if (n < 0)
			r = -errno;
		else if (n == 0)
			r = -ENOTCONN;
	}
	if (!r) {
		*rep = cellvm__api__reply__unpack(NULL, (size_t)n, buf);
		if (!*rep)
			r = -EBADMSG;
	}
	free(buf);
	return r;
}

static const char *state_name(Cellvm__Api__VmState s)
{
	switch (s) {
	case CELLVM__API__VM_STATE__VM_STATE_RUNNING:
		return "running";
	case CELLVM__API__VM_STATE__VM_STATE_PAUSING:
		return "pausing";
	case CELLVM__API__VM_STATE__VM_STATE_PAUSED:
		return "paused";
	case CELLVM__API__VM_STATE__VM_STATE_STOPPING:
		return "stopping";
	default:
		return "unknown";
	}
}

static const char *fmt_ms(char *buf, size_t len, uint64_t ms)
{
	unsigned long long s = ms / 1000;

	if (ms < 60000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%llud%02lluh", s / 86400, s / 3600 % 24);
	return buf;
}

static const char *fmt_ns(char *buf, size_t len, const Cellvm__Api__Value *v)
{
	double ns = v ? (double)v->value : 0;

	if (!v)
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.1fs", ns / 1e9);
	return buf;
}

static void json_processes(struct json *j, Cellvm__Api__Process **p, size_t n)
{
	size_t i;

	json_array(j, "processes");
	for (i = 0; i < n; i++) {
		json_object(j, NULL);
		json_str(j, "name", p[i]->name);
		if (p[i]->alive)
			json_u64(j, "pid", p[i]->pid);
		else
			json_null(j, "pid");
		json_bool(j, "alive", p[i]->alive);
		json_u64(j, "uptime_ms", p[i]->uptime_ms);
		json_u64(j, "restarts", p[i]->restarts);
		if (p[i]->last_exit[0])
			json_str(j, "last_exit", p[i]->last_exit);
		else
			json_null(j, "last_exit");
		json_end(j, '}');
	}
	json_end(j, ']');
}

static void print_status(const Cellvm__Api__StatusReply *s, bool json)
{
	char up[32];
	struct json j;
	size_t i;

	if (json) {
		json_start(&j, stdout);
		json_object(&j, NULL);
		json_str(&j, "name", s->name);
		json_str(&j, "state", state_name(s->state));
		json_u64(&j, "broker_pid", s->broker_pid);
		json_u64(&j, "uptime_ms", s->uptime_ms);
		json_u64(&j, "cpus", s->cpus);
		json_u64(&j, "mem_size", s->mem_size);
		json_processes(&j, s->processes, s->n_processes);
		json_end(&j, '}');
		putchar('\n');
		return;
	}
	printf("VM %s: %s, broker pid %u, up %s, %u vCPU%s, %llu MiB\n\n",
	       s->name, state_name(s->state), s->broker_pid,
	       fmt_ms(up, sizeof(up), s->uptime_ms), s->cpus,
	       s->cpus == 1 ? "" : "s",
	       (unsigned long long)(s->mem_size >> 20));
	printf("%-26s %8s %9s %8s  %s\n", "PROCESS", "PID", "UPTIME",
	       "RESTARTS", "LAST EXIT");
	for (i = 0; i < s->n_processes; i++) {
		const Cellvm__Api__Process *p = s->processes[i];
		char pid[16];

		snprintf(pid, sizeof(pid), "%u", p->pid);
		printf("%-26s %8s %9s %8u  %s\n", p->name, p->alive ? pid : "-",
		       p->alive ? fmt_ms(up, sizeof(up), p->uptime_ms) : "-",
		       p->restarts, p->last_exit[0] ? p->last_exit : "-");
	}
}

/* The vCPU counters, in the order of KVM's kvm_vcpu_stat. */
#define VCPU_COUNTERS 9

static const char *const vcpu_counter[VCPU_COUNTERS] = {
	"exits",	"io_exits",	    "mmio_exits",
	"halt_exits",	"irq_window_exits", "irq_injections",
	"signal_exits", "insn_emulation",   "unclaimed_io",
};

/* Counter i of v; false when it is absent. */
static bool vcpu_value(const Cellvm__Api__VcpuStats *v, unsigned i,
		       uint64_t *out)
{
	const uint64_t all[VCPU_COUNTERS] = {
		v->exits,
		v->io_exits,
		v->mmio_exits,
		v->halt_exits,
		v->irq_window_exits,
		v->irq_injections,
		v->signal_exits,
		0,
		v->unclaimed_io,
	};

	if (i == 7) {
		*out = v->insn_emulation ? v->insn_emulation->value : 0;
		return v->insn_emulation != NULL;
	}
	*out = all[i];
	return true;
}

static void json_stats(const Cellvm__Api__StatsReply *s)
{
	struct json j;
	uint64_t val;
	size_t i;
	unsigned k;

	json_start(&j, stdout);
	json_object(&j, NULL);
	json_str(&j, "name", s->name);
	json_array(&j, "vcpus");
	for (i = 0; i < s->n_vcpus; i++) {
		json_object(&j, NULL);
		json_u64(&j, "id", s->vcpus[i]->id);
		for (k = 0; k < VCPU_COUNTERS; k++) {
			if (vcpu_value(s->vcpus[i], k, &val))
				json_u64(&j, vcpu_counter[k], val);
			else
				json_null(&j, vcpu_counter[k]);
		}
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_array(&j, "devices");
	for (i = 0; i < s->n_devices; i++) {
		const Cellvm__Api__DeviceStats *d = s->devices[i];

		json_object(&j, NULL);
		json_str(&j, "name", d->name);
		json_u64(&j, "requests", d->requests);
		json_u64(&j, "reads", d->reads);
		json_u64(&j, "writes", d->writes);
		json_u64(&j, "restarts", d->restarts);
		json_u64(&j, "bad_requests", d->bad_requests);
		json_u64(&j, "replays", d->replays);
		if (d->latency_p50_ns && d->latency_p99_ns) {
			json_u64(&j, "latency_p50_ns",
				 d->latency_p50_ns->value);
			json_u64(&j, "latency_p99_ns",
				 d->latency_p99_ns->value);
		} else {
			json_null(&j, "latency_p50_ns");
			json_null(&j, "latency_p99_ns");
		}
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_end(&j, '}');
	putchar('\n');
}

static void print_stats(const Cellvm__Api__StatsReply *s, bool json)
{
	char a[32], b[32];
	uint64_t val;
	size_t i;
	unsigned k;

	if (json) {
		json_stats(s);
		return;
	}
	printf("VM %s\n\n%-18s", s->name, "COUNTER");
	for (i = 0; i < s->n_vcpus; i++) {
		snprintf(a, sizeof(a), "vcpu%u", s->vcpus[i]->id);
		printf(" %12s", a);
	}
	putchar('\n');
	for (k = 0; k < VCPU_COUNTERS; k++) {
		printf("%-18s", vcpu_counter[k]);
		for (i = 0; i < s->n_vcpus; i++) {
			if (vcpu_value(s->vcpus[i], k, &val))
				printf(" %12llu", (unsigned long long)val);
			else
				printf(" %12s", "-");
		}
		putchar('\n');
	}
	printf("\n%-16s %10s %10s %10s %8s %8s %8s\n", "DEVICE", "REQUESTS",
	       "READS", "WRITES", "RESTARTS", "P50", "P99");
	for (i = 0; i < s->n_devices; i++) {
		const Cellvm__Api__DeviceStats *d = s->devices[i];

		printf("%-16s %10llu %10llu %10llu %8u %8s %8s\n", d->name,
		       (unsigned long long)d->requests,
		       (unsigned long long)d->reads,
		       (unsigned long long)d->writes, d->restarts,
		       fmt_ns(a, sizeof(a), d->latency_p50_ns),
		       fmt_ns(b, sizeof(b), d->latency_p99_ns));
	}
}

static void print_list(const char *name, const Cellvm__Api__ListReply *l,
		       bool json)
{
	struct json j;
	size_t i;

	if (json) {
		json_start(&j, stdout);
		json_object(&j, NULL);
		json_str(&j, "name", name);
		json_processes(&j, l->processes, l->n_processes);
		json_end(&j, '}');
		putchar('\n');
		return;
	}
	printf("%-26s %8s\n", "PROCESS", "PID");
	for (i = 0; i < l->n_processes; i++) {
		char pid[16];

		snprintf(pid, sizeof(pid), "%u", l->processes[i]->pid);
		printf("%-26s %8s\n", l->processes[i]->name,
		       l->processes[i]->alive ? pid : "-");
	}
}

/* pause, resume, stop, restart, kill. */
static void print_done(const char *name, const api_reply *rep, bool json)
{
	struct json j;

	json_start(&j, stdout);
	if (json) {
		json_object(&j, NULL);
		json_str(&j, "name", name);
	}
	if (rep->body_case == CELLVM__API__REPLY__BODY_DONE) {
		if (json)
			json_str(&j, "state", state_name(rep->done->state));
		else
			printf("VM %s: %s\n", name,
			       state_name(rep->done->state));
	} else if (rep->body_case == CELLVM__API__REPLY__BODY_RESTART) {
		if (json) {
			json_str(&j, "process", rep->restart->name);
			json_u64(&j, "old_pid", rep->restart->old_pid);
			json_u64(&j, "new_pid", rep->restart->new_pid);
		} else {
			printf("%s restarted: pid %u replaced by %u\n",
			       rep->restart->name, rep->restart->old_pid,
			       rep->restart->new_pid);
		}
	} else if (rep->body_case == CELLVM__API__REPLY__BODY_KILL) {
		if (json) {
			json_str(&j, "process", rep->kill->name);
			json_u64(&j, "pid", rep->kill->pid);
		} else {
			printf("%s[%u] killed\n", rep->kill->name,
			       rep->kill->pid);
		}
	}
	if (json) {
		json_end(&j, '}');
		putchar('\n');
	}
}

/* After a stop: the VM closes the connection when it has exited. */
static int client_wait_gone(int fd)
{
	uint64_t end = now_ns() + CLIENT_TIMEOUT_MS * 1000000ull;
	char byte;
	ssize_t n;

	while (now_ns() < end) {
		if (client_wait(fd, CLIENT_TIMEOUT_MS) < 0)
			return -ETIMEDOUT;
		n = recv(fd, &byte, 1, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return 0;
	}
	return -ETIMEDOUT;
}

static int client_print(const char *name, const struct command *cmd,
			const api_reply *rep, bool json)
{
	switch (rep->body_case) {
	case CELLVM__API__REPLY__BODY_ERROR:
		log_err("%s: %s", name, rep->error->message);
		return EXIT_FAILED;
	case CELLVM__API__REPLY__BODY_STATUS:
		print_status(rep->status, json);
		break;
	case CELLVM__API__REPLY__BODY_STATS:
		print_stats(rep->stats, json);
		break;
	case CELLVM__API__REPLY__BODY_LIST:
		print_list(name, rep->list, json);
		break;
	case CELLVM__API__REPLY__BODY_DONE:
	case CELLVM__API__REPLY__BODY_RESTART:
	case CELLVM__API__REPLY__BODY_KILL:
		print_done(name, rep, json);
		break;
	default:
		log_err("%s: unexpected reply %d to %s", name,
			(int)rep->body_case, cmd->name);
		return EXIT_FAILED;
	}
	return EXIT_DONE;
}

static void client_request(Cellvm__Api__Request *req,
			   Cellvm__Api__Request__BodyCase body,
			   const char *device)
{
	static Cellvm__Api__StatusRequest status =
		CELLVM__API__STATUS_REQUEST__INIT;
	static Cellvm__Api__StatsRequest stats =
		CELLVM__API__STATS_REQUEST__INIT;
	static Cellvm__Api__PauseRequest pause =
		CELLVM__API__PAUSE_REQUEST__INIT;
	static Cellvm__Api__ResumeRequest resume =
		CELLVM__API__RESUME_REQUEST__INIT;
	static Cellvm__Api__StopRequest stop = CELLVM__API__STOP_REQUEST__INIT;
	static Cellvm__Api__RestartRequest restart =
		CELLVM__API__RESTART_REQUEST__INIT;
	static Cellvm__Api__KillRequest kill = CELLVM__API__KILL_REQUEST__INIT;
	static Cellvm__Api__ListRequest list = CELLVM__API__LIST_REQUEST__INIT;

	cellvm__api__request__init(req);
	req->body_case = body;
	restart.device = kill.device = (char *)device;
	switch (body) {
	case CELLVM__API__REQUEST__BODY_STATUS:
		req->status = &status;
		break;
	case CELLVM__API__REQUEST__BODY_STATS:
		req->stats = &stats;
		break;
	case CELLVM__API__REQUEST__BODY_PAUSE:
		req->pause = &pause;
		break;
	case CELLVM__API__REQUEST__BODY_RESUME:
		req->resume = &resume;
		break;
	case CELLVM__API__REQUEST__BODY_STOP:
		req->stop = &stop;
		break;
	case CELLVM__API__REQUEST__BODY_RESTART:
		req->restart = &restart;
		break;
	case CELLVM__API__REQUEST__BODY_KILL:
		req->kill = &kill;
		break;
	default:
		req->body_case = CELLVM__API__REQUEST__BODY_LIST;
		req->list = &list;
	}
}

/* Connect to VM name: a descriptor, or -1 after saying why. */
static int client_connect(const char *name)
{
	int fd = rundir_connect(name);

	if (fd == -ENOENT)
		log_err("no VM named '%s' is running", name);
	else if (fd < 0)
		log_err("cannot reach VM '%s': %s", name, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

static int client_run(const char *name, const struct command *cmd,
		      const char *device, bool json)
{
	Cellvm__Api__Request req;
	api_reply *rep = NULL;
	int fd, r, status;

	fd = client_connect(name);
	if (fd < 0)
		return EXIT_FAILED;
	client_request(&req, cmd->body, device);
	r = client_call(fd, &req, &rep, CLIENT_TIMEOUT_MS);
	if (r < 0) {
		log_err("%s: %s", name,
			r == -ENOTCONN	  ? "the VM stopped before it answered"
			: r == -ETIMEDOUT ? "no answer in 30 s"
					  : strerror(-r));
		close(fd);
		return EXIT_FAILED;
	}
	status = client_print(name, cmd, rep, json);
	if (status == EXIT_DONE &&
	    cmd->body == CELLVM__API__REQUEST__BODY_STOP &&
	    client_wait_gone(fd) < 0) {
		log_err("%s: still running 30 s after it was told to stop",
			name);
		status = EXIT_FAILED;
	}
	cellvm__api__reply__free_unpacked(rep, NULL);
	close(fd);
	return status;
}

int ctl_main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	char *w[3];
	bool json = false;
	size_t i;
	int n;

	n = client_args(argc, argv, w, 3, &json);
	for (i = 0; n >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, w[1]) == 0)
			cmd = &commands[i];
	}
	if (n >= 0 && (n < 2 || !cmd || n != (cmd->device ? 3 : 2))) {
		if (n >= 2 && !cmd)
			log_err("unknown command '%s'", w[1]);
		else if (cmd && cmd->device && n == 2)
			log_err("%s needs a DEVICE", cmd->name);
		else if (cmd && n == 3)
			log_err("%s takes no argument", cmd->name);
		else
			log_err("give a VM name and a command");
		n = -1;
	}
	if (n < 0) {
		fputs("Try 'cellvm ctl --help'.\n", stderr);
		return EXIT_USAGE;
	}
	if (!vm_name_valid(w[0])) {
		log_err("invalid VM name '%s': 1 to %d of A-Z a-z 0-9 _ . -, "
			"not starting with '.'",
			w[0], VM_NAME_MAX);
		return EXIT_USAGE;
	}
	return client_run(w[0], cmd, cmd->device ? w[2] : NULL, json);
}

/* One VM of `cellvm list`. */
struct vm_row {
	char name[VM_NAME_MAX + 1];
	uint32_t pid;
	uint64_t uptime_ms;
	Cellvm__Api__VmState state;
};

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vm_row *)a)->name,
		      ((const struct vm_row *)b)->name);
}

/* Ask VM name for its status: false when it is not running. */
static bool list_ask(const char *name, struct vm_row *row)
{
	Cellvm__Api__Request req;
	api_reply *rep = NULL;
	bool ok;
	int fd;

	fd = rundir_connect(name);
	if (fd < 0)
		return false;
	client_request(&req, CELLVM__API__REQUEST__BODY_STATUS, NULL);
	ok = client_call(fd, &req, &rep, CLIENT_LIST_TIMEOUT_MS) == 0 &&
	     rep->body_case == CELLVM__API__REPLY__BODY_STATUS;
	if (ok) {
		snprintf(row->name, sizeof(row->name), "%.*s", VM_NAME_MAX,
			 name);
		row->pid = rep->status->broker_pid;
		row->uptime_ms = rep->status->uptime_ms;
		row->state = rep->status->state;
	}
	if (rep)
		cellvm__api__reply__free_unpacked(rep, NULL);
	close(fd);
	return ok;
}

/* The running VMs, sorted by name: their count, or -1 after an error. */
static int list_collect(struct vm_row **rows)
{
	char base[4096];
	struct dirent *e;
	struct vm_row *r, *grown;
	size_t n = 0, cap = 0;
	DIR *d;

	*rows = NULL;
	if (rundir_base(base, sizeof(base)) < 0)
		return 0;
	d = opendir(base);
	if (!d && errno == ENOENT)
		return 0; /* no VM ever ran here */
	if (!d) {
		log_err("cannot read %s: %s", base, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!vm_name_valid(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(*rows, cap * sizeof(**rows));
			if (!grown)
				break;
			*rows = grown;
		}
		r = &(*rows)[n];
		if (list_ask(e->d_name, r))
			n++;
	}
	closedir(d);
	if (n)
		qsort(*rows, n, sizeof(**rows), row_cmp);
	return (int)n;
}

int list_main(int argc, char **argv)
{
	struct vm_row *rows;
	struct json j;
	char up[32];
	bool json = false;
	int n, i;

	if (client_args(argc, argv, NULL, 0, &json) < 0) {
		fputs("Try 'cellvm ctl --help'.\n", stderr);
		return EXIT_USAGE;
	}
	n = list_collect(&rows);
	if (n < 0)
		return EXIT_FAILED;
	json_start(&j, stdout);
	if (json)
		json_array(&j, NULL);
	else
		printf("%-24s %8s %9s  %s\n", "NAME", "PID", "UPTIME", "STATE");
	for (i = 0; i < n; i++) {
		if (!json) {
			printf("%-24s %8u %9s  %s\n", rows[i].name, rows[i].pid,
			       fmt_ms(up, sizeof(up), rows[i].uptime_ms),
			       state_name(rows[i].state));
			continue;
		}
		json_object(&j, NULL);
		json_str(&j, "name", rows[i].name);
		json_u64(&j, "pid", rows[i].pid);
		json_u64(&j, "uptime_ms", rows[i].uptime_ms);
		json_str(&j, "state", state_name(rows[i].state));
		json_end(&j, '}');
	}
	if (json) {
		json_end(&j, ']');
		putchar('\n');
	}
	free(rows);
	return EXIT_DONE;
}
