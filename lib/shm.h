/*
 * Shared memory: sealed memfds (size fixed: F_SEAL_GROW, F_SEAL_SHRINK, then
 * F_SEAL_SEAL), so that no process holding one can truncate the memory out
 * from under another's mapping.
 */
#ifndef CELLVM_SHM_H
#define CELLVM_SHM_H

#include <stddef.h>

/* Broker: a zeroed, sealed memfd of size bytes. Returns the fd or -errno. */
int shm_create(const char *name, size_t size);

/*
 * Map fd, which must be exactly size bytes and sealed against resizing
 * (checked: a process never trusts the fd it was handed). Returns the
 * mapping or NULL with errno set.
 */
void *shm_map(int fd, size_t size, int writable);

/* The size of fd, or -errno. */
long long shm_fd_size(int fd);

/*
 * fstat(2) itself, for any descriptor. glibc's fstat() is newfstatat(fd, "",
 * AT_EMPTY_PATH), and a policy that allows newfstatat lets a sandboxed
 * process stat any absolute path on the host (the flag does not stop a
 * non-empty path): the policies allow fstat only.
 */
struct stat;
int shm_fstat(int fd, struct stat *st);

#endif
