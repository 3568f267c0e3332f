/*
 * The default guest: what `cellvm run` boots without --kernel. It is
 * Debian's cloud kernel with a busybox initramfs (tools/default-guest),
 * found in default-guest/ next to cellvm in a build tree, else in datadir.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "log.h"

#define DEFAULT_CMDLINE "console=ttyS0 panic=-1"

static int probe(const char *dir, char *kernel, char *initrd, size_t len)
{
	snprintf(kernel, len, "%s/vmlinuz", dir);
	snprintf(initrd, len, "%s/initrd.img", dir);
	return access(kernel, R_OK) == 0 && access(initrd, R_OK) == 0;
}

/* Whether the CPU advertises VMX or SVM (the "flags" of /proc/cpuinfo).
 * Without either, a working /dev/kvm is a software-based KVM. -1 if
 * unknown. */
static int cpu_has_virt(void)
{
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "re");
	int r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		r = strstr(line, " vmx") || strstr(line, " svm");
		break;
	}
	fclose(f);
	return r;
}

static bool is_bzimage(const char *path)
{
	char magic[4];
	FILE *f = fopen(path, "re");
	bool r = false;

	if (!f)
		return false;
	if (fseek(f, 0x202, SEEK_SET) == 0 && fread(magic, 4, 1, f) == 1)
		r = memcmp(magic, "HdrS", 4) == 0;
	fclose(f);
	return r;
}

void check_host_kvm(const struct options *o)
{
	if (!is_bzimage(o->kernel) || cpu_has_virt() != 0)
		return;
	log_warn("this host's KVM is software-based (the CPU has no VMX or "
		 "SVM): stock Linux may not boot on it; tools/setup boots the "
		 "default guest in the nested environment instead");
}

int default_guest(struct options *o)
{
	static char kernel[PATH_MAX], initrd[PATH_MAX];
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n;

	if (o->initrd) {
		log_err("--initrd needs --kernel");
		return -EINVAL;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(dir, sizeof(dir), "%s/default-guest", dirname(self));
		if (probe(dir, kernel, initrd, sizeof(kernel)))
			goto found;
	}
	snprintf(dir, sizeof(dir), "%s/default-guest", CELLVM_DATADIR);
	if (probe(dir, kernel, initrd, sizeof(kernel)))
		goto found;
	log_err("no --kernel given and no default guest in default-guest/ "
		"next to cellvm or in %s (build it with tools/default-guest "
		"BUILD_DIR, or give --kernel FILE)",
		CELLVM_DATADIR);
	return -ENOENT;
found:
	o->kernel = kernel;
	o->initrd = initrd;
	if (!o->cmdline)
		o->cmdline = DEFAULT_CMDLINE;
	log_info("booting the default guest in %s", dir);
	return 0;
}
