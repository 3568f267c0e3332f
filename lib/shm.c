#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shm.h"

#define SHM_SEALS (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

int shm_create(const char *name, size_t size)
{
	int fd, err;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, SHM_SEALS) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int shm_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}

long long shm_fd_size(int fd)
{
	struct stat st;

	if (shm_fstat(fd, &st) < 0)
		return -errno;
	return st.st_size;
}

void *shm_map(int fd, size_t size, int writable)
{
	int seals, prot = PROT_READ;
	void *p;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return NULL;
	if ((seals & (F_SEAL_GROW | F_SEAL_SHRINK)) !=
		    (F_SEAL_GROW | F_SEAL_SHRINK) ||
	    shm_fd_size(fd) != (long long)size) {
		errno = EINVAL;
		return NULL;
	}
	if (writable)
		prot |= PROT_WRITE;
	p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}
