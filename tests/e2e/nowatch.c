/*
 * Test shim, loaded with LD_PRELOAD: every inotify_add_watch() fails with
 * ENOSPC, as on a file system where inotify reports nothing (NFS) or when
 * the watch limit is exhausted.  Used to prove that poll_interval alone
 * finds files and appends.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/inotify.h>

int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
    (void)fd;
    (void)path;
    (void)mask;
    errno = ENOSPC;
    return -1;
}
