#ifndef CPROCESSSHIM_H
#define CPROCESSSHIM_H

#include <spawn.h>
#include <stddef.h>

/// posix_spawn_file_actions_addchdir_np, which Swift's Glibc module hides behind _GNU_SOURCE.
int cprocess_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// pipe2 with O_CLOEXEC, which Swift's Glibc module hides behind _GNU_SOURCE.
int cprocess_pipe_cloexec(int fds[2]);

/// memmem, which Swift's Glibc module hides behind _GNU_SOURCE; used to search log tails for a literal.
const void *cprocess_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// memrchr, which Swift's Glibc module hides behind _GNU_SOURCE; used to find line starts from a file's end.
const void *cprocess_memrchr(const void *bytes, int byte, size_t length);

/// Moves the calling thread into the network namespace of process `pid` (setns on /proc/PID/ns/net).
/// Returns 0, or the errno of the failing call.
int cprocess_enter_netns(int pid);

#endif
