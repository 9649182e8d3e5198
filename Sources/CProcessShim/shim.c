#define _GNU_SOURCE
#include <spawn.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <stdio.h>
#include <errno.h>
#include "CProcessShim.h"

int cprocess_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
    return posix_spawn_file_actions_addchdir_np(actions, path);
#else
    (void)actions;
    (void)path;
    return -1;
#endif
}

int cprocess_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

const void *cprocess_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}

const void *cprocess_memrchr(const void *bytes, int byte, size_t length) {
    return memrchr(bytes, byte, length);
}

int cprocess_enter_netns(int pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int result = setns(fd, CLONE_NEWNET);
    int saved = errno;
    close(fd);
    return result == 0 ? 0 : saved;
}
