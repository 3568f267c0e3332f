/*
 * VM names and the runtime directory (docs/architecture.md, "Runtime
 * directory"): <base>/<name>/ctl.sock, every directory mode 0700 and ours.
 * A running broker holds an exclusive flock on its VM's directory: that is
 * what makes a name taken, so two brokers starting at once under one name
 * cannot both win, and a directory nobody holds is what a VM that died
 * without cleaning up (SIGKILL) left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "log.h"

#define RUNDIR_TRIES 3
#define REAPER_TRIES 100 /* x 10 ms for the broker's lock to go */

bool vm_name_valid(const char *name)
{
	size_t i;

	if (!name || !name[0] || name[0] == '.')
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i == VM_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

int rundir_base(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "/run/cellvm");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/cellvm", xdg);
	else
		n = snprintf(buf, len, "/tmp/cellvm-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Make a directory of ours, mode 0700, or check the one that is there: in
 * /tmp anybody could have made it first, and a directory others can write
 * to or that is not ours could hand our socket to them.
 */
static int rundir_make(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		log_err("cannot make the runtime directory %s: %s", path,
			strerror(errno));
		return -errno;
	}
	if (lstat(path, &st) < 0) {
		log_err("runtime directory %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		log_err("runtime directory %s is not a directory of uid %u "
			"with mode 0700: refusing to use it",
			path, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

/*
 * Hold the directory: 0, -EEXIST when another broker holds it, -EAGAIN
 * when it was removed (by the VM that held it) before we got it.
 */
static int rundir_lock(struct rundir *rd)
{
	struct stat held, now;
	int fd, err;

	fd = open(rd->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return -EAGAIN;
	err = fd < 0 ? errno : 0;
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno;
		close(fd);
	}
	if (err == EWOULDBLOCK)
		return -EEXIST;
	if (err) {
		log_err("cannot take the runtime directory %s: %s", rd->path,
			strerror(err));
		return -err;
	}
	if (fstat(fd, &held) < 0 || stat(rd->path, &now) < 0 ||
	    held.st_ino != now.st_ino || held.st_dev != now.st_dev) {
		close(fd);
		return -EAGAIN;
	}
	rd->dirfd = fd;
	return 0;
}

/* Remove the directory at path if nobody holds it. */
static void rundir_remove_unheld(const char *path)
{
	struct timespec wait = { 0, 10000000 };
	struct stat held, now;
	unsigned i;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	/* The broker's descriptors may close after the pipe did. */
	for (i = 0; i < REAPER_TRIES && flock(fd, LOCK_EX | LOCK_NB) < 0; i++)
		nanosleep(&wait, NULL);
	if (i < REAPER_TRIES && fstat(fd, &held) == 0 &&
	    stat(path, &now) == 0 && held.st_ino == now.st_ino &&
	    held.st_dev == now.st_dev) {
		unlinkat(fd, RUNDIR_SOCK, 0);
		rmdir(path);
	}
	close(fd);
}

/*
 * A broker run as root becomes the VM's uid once the VM is set up (jail.c)
 * and then may no longer remove its directory from the root-owned base. The
 * reaper, started before anything else is open, stays root and does it
 * once the broker is gone, however it ended (SIGKILL too): it holds nothing
 * but the read end of a pipe, waits for a byte (the directory is claimed)
 * and then for the pipe's end, takes no other input, and is not the
 * broker's child (double fork, own session: no terminal signals), so the
 * VM's process family stays as it is.
 */
static void rundir_reaper_run(const char *path, int fd)
{
	char byte = 0;
	ssize_t n;

	if (dup2(fd, 0) < 0)
		_exit(1);
	syscall(SYS_close_range, 1, ~0U, 0);
	prctl(PR_SET_NAME, "cellvm-rundir");
	do {
		n = read(0, &byte, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(0); /* the broker did not get the directory */
	do {
		n = read(0, &byte, 1);
		/* 'd': the broker removed the directory itself. A directory
		 * of that name now is a new VM's: not ours to remove. */
		if (n == 1 && byte == 'd')
			_exit(0);
	} while (n != 0 && (n > 0 || errno == EINTR));
	rundir_remove_unheld(path);
	_exit(0);
}

static int rundir_reaper(struct rundir *rd)
{
	int p[2];
	pid_t pid;

	if (geteuid() != 0)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		setsid();
		if (fork() == 0)
			rundir_reaper_run(rd->path, p[0]);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -errno;
	}
	waitpid(pid, NULL, 0);
	rd->reaper_fd = p[1];
	return 0;
}

int rundir_claim(struct rundir *rd, const char *name)
{
	char base[4096];
	unsigned tries;
	int r, n;

	rd->dirfd = rd->reaper_fd = -1;
	r = rundir_base(base, sizeof(base));
	n = snprintf(rd->path, sizeof(rd->path), "%s/%s", base, name);
	if (r < 0 || n < 0 || (size_t)n >= sizeof(rd->path)) {
		log_err("the runtime directory's path is too long");
		return -ENAMETOOLONG;
	}
	r = rundir_reaper(rd);
	if (r < 0)
		log_err("cannot start the runtime directory's reaper: %s",
			strerror(-r));
	if (!r)
		r = rundir_make(base);
	for (tries = 0; !r && tries < RUNDIR_TRIES; tries++) {
		r = rundir_make(rd->path);
		if (!r)
			r = rundir_lock(rd);
		if (r != -EAGAIN)
			break;
		r = 0;
	}
	if (r == -EEXIST)
		log_err("a VM named '%s' is already running (%s)", name,
			rd->path);
	if (r == 0 && rd->dirfd < 0) {
		log_err("the runtime directory %s keeps going away", rd->path);
		r = -EAGAIN;
	}
	if (r < 0) {
		rundir_release(rd);
		return r;
	}
	if (rd->reaper_fd >= 0 && write(rd->reaper_fd, "", 1) != 1)
		log_warn("the reaper of %s is gone", rd->path);
	/* Nobody held it: what is in it, a VM that is gone left. */
	if (unlinkat(rd->dirfd, RUNDIR_SOCK, 0) == 0)
		log_info("removed the socket of a VM named '%s' that is gone",
			 name);
	return 0;
}

/* The address of the socket in dir (held as dirfd, or -1). */
static int rundir_sun(const char *dir, int dirfd, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", dir,
		     RUNDIR_SOCK);
	if (n >= 0 && (size_t)n < sizeof(sun->sun_path))
		return 0;
	/* A long $XDG_RUNTIME_DIR: go through the descriptor instead. */
	if (dirfd < 0)
		return -ENAMETOOLONG;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "/proc/self/fd/%d/%s",
		 dirfd, RUNDIR_SOCK);
	return 0;
}

int rundir_listen(struct rundir *rd)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, r;

	r = rundir_sun(rd->path, rd->dirfd, &sun);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == 0)
		r = fchmodat(rd->dirfd, RUNDIR_SOCK, 0600, 0);
	if (r == 0)
		r = listen(fd, 16);
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* No longer root: let the reaper remove the directory, and wait for it
 * (a removed directory has no links), so that it is gone when we are. */
static void rundir_reap(struct rundir *rd)
{
	struct timespec wait = { 0, 10000000 };
	struct stat st;
	unsigned i;

	flock(rd->dirfd, LOCK_UN);
	close(rd->reaper_fd);
	rd->reaper_fd = -1;
	for (i = 0; i < REAPER_TRIES; i++) {
		if (fstat(rd->dirfd, &st) < 0 || st.st_nlink == 0)
			return;
		nanosleep(&wait, NULL);
	}
	log_warn("%s is still there", rd->path);
}

void rundir_release(struct rundir *rd)
{
	if (rd->dirfd >= 0) {
		bool gone = (unlinkat(rd->dirfd, RUNDIR_SOCK, 0) == 0 ||
			     errno == ENOENT) &&
			    rmdir(rd->path) == 0;

		if (gone && rd->reaper_fd >= 0 &&
		    write(rd->reaper_fd, "d", 1) != 1)
			log_warn("the reaper of %s is gone", rd->path);
		if (!gone && rd->reaper_fd >= 0)
			rundir_reap(rd);
		else if (!gone)
			log_warn("cannot remove %s: %s", rd->path,
				 strerror(errno));
		close(rd->dirfd);
	}
	if (rd->reaper_fd >= 0)
		close(rd->reaper_fd);
	rd->dirfd = rd->reaper_fd = -1;
}

int rundir_connect(const char *name)
{
	struct sockaddr_un sun;
	char base[4096], dir[4200];
	int dirfd, fd, r;

	r = rundir_base(base, sizeof(base));
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	r = rundir_sun(dir, dirfd, &sun);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 && !r)
		r = -errno;
	if (!r && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		/* No socket, or nobody listening: a VM that is gone. */
		r = errno == ENOENT || errno == ECONNREFUSED ? -ENOENT : -errno;
	close(dirfd);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}
