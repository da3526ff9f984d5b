/*
 * Test shim, loaded with LD_PRELOAD: inotify_add_watch() fails with
 * ENOSPC, as on a file system where inotify reports nothing (NFS) or when
 * the watch limit is exhausted.  By default every call fails (020 proves
 * that poll_interval alone finds files and appends); with
 * LSH_NOWATCH_FAILS=N only the first N calls fail and later ones work,
 * as when watches are freed or the limit is raised (075 proves they are
 * tried again).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/inotify.h>

int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
    typedef int (*add_fn)(int, const char *, uint32_t);
    static int    always = -1; /* -1: not set up yet */
    static long   fails;       /* calls left to fail, unless always */
    static add_fn real;

    if (always < 0) {
        const char *s = getenv("LSH_NOWATCH_FAILS");

        always = s == NULL;
        fails = s != NULL ? atol(s) : 0;
        *(void **)&real = dlsym(RTLD_NEXT, "inotify_add_watch");
    }
    /*
     * (Counting down into "always" once made every call after the first
     * success fail again, and 075 fail when the retry of a file came
     * before the directory's.)
     */
    if (always || fails > 0) {
        fails--;
        errno = ENOSPC;
        return -1;
    }
    return real(fd, path, mask);
}
