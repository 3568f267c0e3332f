/*
 * cgroup v2 limits of a VM (--cpu-quota, --mem-limit): the broker makes
 * cellvm-NAME under its own cgroup, writes cpu.max and memory.max there and
 * moves itself in, so that every child it forks is inside and counted:
 * the VMM's processes and the guest RAM they map.
 *
 * That needs a delegated cgroup: a cgroup v2 hierarchy, the broker's
 * cgroup writable by it, with the cpu and memory controllers available,
 * and no other process in it (cgroup v2 lets a cgroup hand controllers to
 * its children only when it holds no processes itself; the broker leaves
 * it for cellvm-NAME before enabling them). Where that is not so, the
 * options are refused in one line that says what is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

#define CGROUP_PERIOD_US 100000u

/* The cgroup v2 mount point, from /proc/self/mountinfo; 0 or -ENOENT. */
static int cgroup_mount(char *buf, size_t len)
{
	char line[1024], mnt[512], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - TYPE ... */
		sep = strstr(line, " - cgroup2 ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 &&
		    strlen(mnt) < len) {
			memcpy(buf, mnt, strlen(mnt) + 1);
			r = 0;
		}
	}
	fclose(f);
	return r;
}

/* The broker's cgroup v2 path ("0::/PATH" in /proc/self/cgroup). */
static int cgroup_self(char *buf, size_t len)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line + 3) < len) {
			memcpy(buf, line + 3, strlen(line + 3) + 1);
			r = 0;
		}
	}
	fclose(f);
	return r;
}

static int cgroup_write(const char *dir, const char *file, const char *text)
{
	char path[4096];
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Whether the words of file in dir include word. */
static bool cgroup_has(const char *dir, const char *file, const char *word)
{
	char path[4096], buf[512], *tok, *save = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (strcmp(tok, word) == 0)
			return true;
	return false;
}

int cgroup_setup(struct family *f, const char *name)
{
	const struct options *o = f->opt;
	char mnt[512], self[1024], text[64];
	const char *want[2];
	unsigned n = 0, i;
	int r;

	if (!o->cpu_quota && !o->mem_limit)
		return 0;
	if (o->cpu_quota)
		want[n++] = "cpu";
	if (o->mem_limit)
		want[n++] = "memory";
	if (cgroup_mount(mnt, sizeof(mnt)) < 0 ||
	    cgroup_self(self, sizeof(self)) < 0) {
		log_err("--cpu-quota and --mem-limit need cgroup v2, and this "
			"host has no cgroup2 hierarchy for cellvm");
		return -ENOTSUP;
	}
	snprintf(f->cgroup.parent, sizeof(f->cgroup.parent), "%s%s", mnt,
		 strcmp(self, "/") ? self : "");
	for (i = 0; i < n; i++) {
		if (!cgroup_has(f->cgroup.parent, "cgroup.controllers",
				want[i])) {
			log_err("the %s controller is not available in %s "
				"(cgroup v2): run cellvm in a delegated "
				"cgroup with it (e.g. systemd-run -p "
				"Delegate=yes)",
				want[i], f->cgroup.parent);
			return -ENOTSUP;
		}
	}
	snprintf(f->cgroup.dir, sizeof(f->cgroup.dir), "%s/cellvm-%s",
		 f->cgroup.parent, name);
	rmdir(f->cgroup.dir); /* an empty one a VM of that name left */
	if (mkdir(f->cgroup.dir, 0755) < 0) {
		r = -errno;
		log_err("cannot make %s: %s (is the cgroup delegated to this "
			"user?)",
			f->cgroup.dir, strerror(errno));
		return r;
	}
	f->cgroup.made = true;
	/* Out of the parent first: it can hand on controllers only empty. */
	snprintf(text, sizeof(text), "%d", (int)getpid());
	r = cgroup_write(f->cgroup.dir, "cgroup.procs", text);
	for (i = 0; !r && i < n; i++) {
		char ctl[16];

		snprintf(ctl, sizeof(ctl), "+%s", want[i]);
		r = cgroup_write(f->cgroup.parent, "cgroup.subtree_control",
				 ctl);
	}
	if (r < 0) {
		log_err("cannot put the VM under %s: %s (other processes in "
			"it? run cellvm in a delegated cgroup of its own)",
			f->cgroup.parent, strerror(-r));
		cgroup_close(f);
		return r;
	}
	if (o->cpu_quota) {
		snprintf(text, sizeof(text), "%u %u",
			 o->cpu_quota * (CGROUP_PERIOD_US / 100),
			 CGROUP_PERIOD_US);
		r = cgroup_write(f->cgroup.dir, "cpu.max", text);
	}
	if (!r && o->mem_limit) {
		snprintf(text, sizeof(text), "%llu",
			 (unsigned long long)o->mem_limit);
		r = cgroup_write(f->cgroup.dir, "memory.max", text);
		if (!r)
			r = cgroup_write(f->cgroup.dir, "memory.swap.max", "0");
		if (r == -ENOENT) /* no swap accounting: fine */
			r = 0;
	}
	if (r < 0) {
		log_err("cannot set the limits in %s: %s", f->cgroup.dir,
			strerror(-r));
		cgroup_close(f);
		return r;
	}
	log_info("VM limits in %s", f->cgroup.dir);
	return 0;
}

void cgroup_close(struct family *f)
{
	char text[32];

	if (!f->cgroup.made)
		return;
	/* Back to where we came from, then the VM's cgroup can go (once its
	 * children are gone; a broker that dropped its uid may not be able
	 * to: the next VM of that name removes it). */
	snprintf(text, sizeof(text), "%d", (int)getpid());
	if (cgroup_write(f->cgroup.parent, "cgroup.procs", text) < 0 ||
	    rmdir(f->cgroup.dir) < 0)
		log_info("left %s behind", f->cgroup.dir);
	f->cgroup.made = false;
}
