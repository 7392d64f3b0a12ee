#define _GNU_SOURCE
#include "CSystem.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* posix_spawn cannot do this: LISTEN_PID must be the child's own pid, which is known only
   in the child, between fork and exec. Everything else is prepared before the fork, so the
   child makes only async-signal-safe calls (dup2, close, getpid, capset and prctl as raw
   system calls, sigprocmask, execve). */
pid_t csystem_spawn_listening(const char *path, char *const argv[], char *const envp[], int envc,
                              const int *fds, int count, const int *blocked, int nblocked, uint64_t ambient) {
    char **env = malloc((size_t)(envc + 2) * sizeof *env);
    if (env == NULL) return -1;
    memcpy(env, envp, (size_t)envc * sizeof *env);
    char pid_variable[32] = "LISTEN_PID=";
    env[envc] = pid_variable;
    env[envc + 1] = NULL;

    int spare = 3 + count;
    for (int i = 0; i < count; i++) {
        if (fds[i] >= spare) spare = fds[i] + 1;
    }
    sigset_t all, previous, start;
    sigfillset(&all);
    sigemptyset(&start);
    for (int i = 0; i < nblocked; i++) sigaddset(&start, blocked[i]);
    /* No handler of ours may run in the child before exec (it would write to our signal pipe). */
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = fork();
    if (pid == 0) {
        char digits[16];
        int n = 0;
        for (pid_t own = getpid(); own > 0 && n < 15; own /= 10) digits[n++] = (char)('0' + own % 10);
        char *out = pid_variable + strlen("LISTEN_PID=");
        while (n > 0) *out++ = digits[--n];
        *out = 0;
        /* Through spare numbers first, so that moving one socket to 3 + i never overwrites
           another still to be moved; dup2 leaves the copies without close-on-exec. */
        for (int i = 0; i < count; i++) {
            if (dup2(fds[i], spare + i) < 0) _exit(127);
        }
        for (int i = 0; i < count; i++) {
            if (dup2(spare + i, 3 + i) < 0) _exit(127);
            close(spare + i);
        }
        if (csystem_raise_ambient(ambient) != 0) _exit(127);
        /* The handled signals wait until the child has installed its handlers. */
        sigprocmask(SIG_SETMASK, &start, NULL);
        execve(path, argv, env);
        _exit(127);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    free(env);
    errno = saved;
    return pid;
}

int csystem_die_with_parent(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

int csystem_name_process(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }
