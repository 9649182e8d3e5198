#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "CProcessShim.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

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

/// In the child: execve of `file`, or of each PATH entry joined with it; the errno of the last telling failure.
static int exec_searching(const char *file, char *const argv[], char *const envp[], const char *path) {
    if (strchr(file, '/') != NULL) {
        execve(file, argv, envp);
        return errno;
    }
    size_t file_length = strlen(file);
    if (file_length >= PATH_MAX) return ENAMETOOLONG;
    int failure = ENOENT;
    int denied = 0;
    const char *entry = path;
    char candidate[PATH_MAX];
    while (1) {
        const char *end = strchr(entry, ':');
        size_t length = end != NULL ? (size_t)(end - entry) : strlen(entry);
        if (length == 0) {
            memcpy(candidate, file, file_length + 1);
        } else if (length + 1 + file_length < PATH_MAX) {
            memcpy(candidate, entry, length);
            candidate[length] = '/';
            memcpy(candidate + length + 1, file, file_length + 1);
        } else {
            candidate[0] = '\0';
        }
        if (candidate[0] != '\0') {
            execve(candidate, argv, envp);
            // As execvp: keep looking after these, stop at anything else.
            switch (errno) {
            case EACCES: denied = 1; break;
            case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: break;
            default: return errno;
            }
        }
        if (end == NULL) break;
        entry = end + 1;
    }
    return denied ? EACCES : failure;
}

/// In the child, between vfork and exec: only async-signal-safe calls, nothing written to the parent's memory.
static void run_child(const char *file, char *const argv[], char *const envp[], const char *directory,
                      int stdin_fd, int stdout_fd, int stderr_fd, int report_fd, pid_t parent, const char *path) {
    int failure = 0;
    // Handlers of the parent must not run here (shared memory), and ignored signals would stay ignored after exec.
    for (int number = 1; number < NSIG; number++) {
        struct sigaction action;
        if (sigaction(number, NULL, &action) != 0) continue;
        int reset = number == SIGPIPE || number == SIGINT || number == SIGTERM || number == SIGQUIT
            || number == SIGHUP || number == SIGCHLD;
        if (reset || (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN)) {
            memset(&action, 0, sizeof action);
            action.sa_handler = SIG_DFL;
            sigaction(number, &action, NULL);
        }
    }
    if (setpgid(0, 0) != 0) { failure = errno; goto fail; }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) { failure = errno; goto fail; }
    // The parent may have died before prctl: then nobody would kill this child.
    if (getppid() != parent) _exit(127);
    if (stdin_fd >= 0) {
        if (stdin_fd == 0) {
            if (fcntl(0, F_SETFD, 0) != 0) { failure = errno; goto fail; }
        } else if (dup2(stdin_fd, 0) < 0) {
            failure = errno;
            goto fail;
        }
    } else {
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd < 0) { failure = errno; goto fail; }
        if (null_fd != 0) {
            if (dup2(null_fd, 0) < 0) { failure = errno; goto fail; }
            close(null_fd);
        }
    }
    int targets[2] = {stdout_fd, stderr_fd};
    for (int index = 0; index < 2; index++) {
        int target = index + 1;
        if (targets[index] == target) {
            if (fcntl(target, F_SETFD, 0) != 0) { failure = errno; goto fail; }
        } else if (dup2(targets[index], target) < 0) {
            failure = errno;
            goto fail;
        }
    }
    if (directory != NULL && chdir(directory) != 0) { failure = errno; goto fail; }
    // Nothing but the three streams crosses the exec: other threads' descriptors made without O_CLOEXEC (libcurl 7.88's
    // sockets) would otherwise stay open in the child, and a connection the parent closed would stay open in it.
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        long last = sysconf(_SC_OPEN_MAX);
        if (last < 0 || last > 65536) last = 65536;
        for (int descriptor = 3; descriptor < last; descriptor++) fcntl(descriptor, F_SETFD, FD_CLOEXEC);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    failure = exec_searching(file, argv, envp, path);
fail:
    while (write(report_fd, &failure, sizeof failure) < 0 && errno == EINTR) {}
    _exit(127);
}

int cprocess_spawn(pid_t *pid, const char *file, char *const argv[], char *const envp[], const char *directory,
                   int stdin_fd, int stdout_fd, int stderr_fd) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    const char *path = getenv("PATH");
    if (path == NULL) path = "/usr/local/bin:/bin:/usr/bin";
    pid_t parent = getpid();
    // No signal handler may run in the child while it shares this process's memory.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t child = vfork();
    if (child == 0) run_child(file, argv, envp, directory, stdin_fd, stdout_fd, stderr_fd, report[1], parent, path);
    int spawn_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (child < 0) {
        close(report[0]);
        return spawn_errno;
    }
    int failure = 0;
    ssize_t count;
    do {
        count = read(report[0], &failure, sizeof failure);
    } while (count < 0 && errno == EINTR);
    close(report[0]);
    if (count == (ssize_t)sizeof failure) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return failure != 0 ? failure : ECHILD;
    }
    *pid = child;
    return 0;
}

// The group guard: a small process forked once, holding one end of a socket pair whose other end diagnose keeps.
// diagnose sends it each process group it starts and each one it is done with; when its end reads EOF (diagnose
// exited, or was killed outright: the kernel closes the socket either way) it kills every group still listed.
// Only async-signal-safe calls run in it (it is forked from a threaded process), and it keeps no other descriptor.

#define GUARD_CAPACITY 4096

static void run_guard(int channel) {
    // Its own signals ignored: it ends when diagnose does, and must outlive a Ctrl-C that diagnose handles.
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE};
    for (size_t index = 0; index < sizeof ignored / sizeof ignored[0]; index++) sigaction(ignored[index], &ignore, NULL);
    if (channel != 3) {
        dup2(channel, 3);
        channel = 3;
    }
    syscall(SYS_close_range, 4U, ~0U, 0U);
    // Nor diagnose's standard streams: a reader of its output sees the end when diagnose ends, not when this does.
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        for (int stream = 0; stream <= 2; stream++) dup2(null, stream);
        if (null > 3) close(null);
    }
    // The working directory is not held either.
    if (chdir("/") != 0) {}

    static pid_t groups[GUARD_CAPACITY];
    size_t count = 0;
    int record[2];
    for (;;) {
        ssize_t got = recv(channel, record, sizeof record, MSG_WAITALL);
        if (got < 0 && errno == EINTR) continue;
        if (got != (ssize_t)sizeof record) break;
        if (record[0] > 0) {
            if (count < GUARD_CAPACITY) groups[count++] = record[1];
        } else {
            for (size_t index = 0; index < count; index++) {
                if (groups[index] == record[1]) {
                    groups[index] = groups[--count];
                    break;
                }
            }
        }
    }
    for (size_t index = 0; index < count; index++) kill(-groups[index], SIGKILL);
    _exit(0);
}

int cprocess_start_guard(int *channel, pid_t *guard) {
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) return errno;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t child = fork();
    if (child == 0) {
        close(ends[0]);
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        run_guard(ends[1]);
    }
    int failure = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(ends[1]);
    if (child < 0) {
        close(ends[0]);
        return failure;
    }
    *channel = ends[0];
    *guard = child;
    return 0;
}

int cprocess_guard_send(int channel, int adding, pid_t group) {
    int record[2] = {adding ? 1 : 0, (int)group};
    ssize_t sent;
    do {
        sent = send(channel, record, sizeof record, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)sizeof record ? 0 : errno;
}

int cprocess_accept_own(int listener) {
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0) return -1;
    struct ucred credentials;
    socklen_t size = sizeof credentials;
    if (getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 || credentials.pid != getpid()) {
        close(connection);
        return -2;
    }
    return connection;
}
