/*
 * The default guest: what `cellvm run` boots without --kernel. It is
 * Debian's cloud kernel with a busybox initramfs (tools/default-guest),
 * found in default-guest/ next to cellvm in a build tree, else in datadir.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
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

/* Stock Linux needs a hardware-style KVM (VMX or SVM). Say so up front
 * when this host's KVM is something else: the boot may never finish. */
static void check_kvm_flavour(void)
{
	if (access("/sys/module/kvm_intel", F_OK) == 0 ||
	    access("/sys/module/kvm_amd", F_OK) == 0 ||
	    access("/sys/module/kvm", F_OK) != 0)
		return;
	log_warn("this host's KVM is neither kvm_intel nor kvm_amd; stock "
		 "Linux may not boot on it (tools/setup then boots the "
		 "default guest in the nested environment: "
		 "tests/nested/nested.py shell build)");
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
	check_kvm_flavour();
	return 0;
}
