#ifndef CPROCESSSHIM_H
#define CPROCESSSHIM_H

#include <spawn.h>

/// posix_spawn_file_actions_addchdir_np, which Swift's Glibc module hides behind _GNU_SOURCE.
int cprocess_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// pipe2 with O_CLOEXEC, which Swift's Glibc module hides behind _GNU_SOURCE.
int cprocess_pipe_cloexec(int fds[2]);

#endif
