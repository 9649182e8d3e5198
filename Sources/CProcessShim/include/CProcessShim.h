#ifndef CPROCESSSHIM_H
#define CPROCESSSHIM_H

#include <stddef.h>
#include <sys/types.h>

/// pipe2 with O_CLOEXEC, which Swift's Glibc module hides behind _GNU_SOURCE.
int cprocess_pipe_cloexec(int fds[2]);

/// memmem, which Swift's Glibc module hides behind _GNU_SOURCE; used to search log tails for a literal.
const void *cprocess_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// memrchr, which Swift's Glibc module hides behind _GNU_SOURCE; used to find line starts from a file's end.
const void *cprocess_memrchr(const void *bytes, int byte, size_t length);

/// Starts `file` (searched on the caller's PATH when it has no slash, as posix_spawnp does) with `argv` and `envp`:
/// standard input from `stdin_fd` (from /dev/null when it is -1), standard output and error on `stdout_fd` and
/// `stderr_fd` (one descriptor may serve several streams: a socket for both directions), in `directory` when
/// not NULL, with every other descriptor closed at the exec (close_range with CLOSE_RANGE_CLOEXEC), in a process
/// group of its own, with SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP and SIGCHLD at their defaults, no signal
/// blocked, and PR_SET_PDEATHSIG(SIGKILL): the child is killed when the *thread* that called this exits, so call it
/// from a thread that outlives the child. Returns 0 and the pid, or the errno of the step that failed (setpgid,
/// chdir, exec...), reported through a close-on-exec pipe; a failed child is reaped.
int cprocess_spawn(pid_t *pid, const char *file, char *const argv[], char *const envp[], const char *directory,
                   int stdin_fd, int stdout_fd, int stderr_fd);

/// Forks the group guard: a process that kills every process group it was told of (`cprocess_guard_send`) and
/// not told it is done with, once the other end of its socket closes, that is when this process ends, also by
/// SIGKILL. It ignores INT, TERM, HUP, QUIT and the terminal stop signals, closes every other descriptor and holds
/// at most 4096 groups. Returns 0 with the socket (close-on-exec) and the guard's pid, or an errno.
int cprocess_start_guard(int *channel, pid_t *guard);

/// Tells the guard a process group was started (`adding` non-zero) or is done with. Never raises SIGPIPE.
/// Returns 0, or the errno (EPIPE once the guard is gone).
int cprocess_guard_send(int channel, int adding, pid_t group);

/// Moves the calling thread into the network namespace of process `pid` (setns on /proc/PID/ns/net).
/// Returns 0, or the errno of the failing call.
int cprocess_enter_netns(int pid);

/// Accepts a connection on `listener` (close-on-exec) made by this very process (SO_PEERCRED): the descriptor; -1 with
/// errno set when none is pending or accept failed; -2 when one from another process was refused (and closed).
int cprocess_accept_own(int listener);

#endif
