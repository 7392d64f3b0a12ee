#ifndef CSYSTEM_H
#define CSYSTEM_H

/* Linux calls Glibc's Swift overlay does not expose (accept4, epoll, sendfile, openat2).
   epoll_event is packed on x86_64, so events cross into Swift as an unpacked struct. */

#include <stdint.h>
#include <sys/types.h>

typedef struct {
    uint32_t events;
    uint64_t data;
} csystem_event;

enum {
    /* open(2) flag for a descriptor that only names a place (Glibc's overlay lacks it). */
    CSYSTEM_O_PATH = 010000000,
};

enum {
    CSYSTEM_EPOLLIN = 0x001,
    CSYSTEM_EPOLLOUT = 0x004,
    CSYSTEM_EPOLLERR = 0x008,
    CSYSTEM_EPOLLHUP = 0x010,
    CSYSTEM_EPOLLRDHUP = 0x2000,
    /* Linux 4.5: of several epoll sets watching one socket, wake only some. */
    CSYSTEM_EPOLLEXCLUSIVE = 0x10000000,
};

int csystem_epoll_create(void);
int csystem_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int csystem_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data);
int csystem_epoll_remove(int epfd, int fd);
int csystem_epoll_wait(int epfd, csystem_event *events, int max, int timeout_ms);

/* accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. */
int csystem_accept(int fd, void *addr, uint32_t *len);

ssize_t csystem_sendfile(int out_fd, int in_fd, int64_t *offset, size_t count);

/* Opens path (relative, no leading slash) beneath dirfd: the kernel refuses any
   resolution, symlinks included, that would leave dirfd. Returns -1 with errno. */
int csystem_open_beneath(int dirfd, const char *path, int flags);

int csystem_errno(void);

/* The CPU this thread runs on now (sched_getcpu; 0 if unknown), for per-CPU counters. */
int csystem_cpu(void);

/// Starts writing a file's range to disk without waiting (sync_file_range, WRITE only):
/// a later fsync then has little left to do. Returns 0 or -1 with errno.
int csystem_start_writeback(int fd, int64_t offset, int64_t length);

/// Datagrams in batches (recvmmsg/sendmmsg), for at most CSYSTEM_BATCH at a time.
#define CSYSTEM_BATCH 32
/// Asks for each datagram's destination address (IP_PKTINFO / IPV6_RECVPKTINFO), for a
/// socket bound to a wildcard address. Returns 0 or -1 with errno.
int csystem_want_destination(int fd, int ipv6);
/// Receives up to `count` datagrams without blocking, datagram i into `slots + i * slot_size`
/// with its sender in `senders[i]` (an array of sockaddr_storage) and, where the socket asked
/// for it, the address it was sent to in `locals[i]` (port 0; family AF_UNSPEC when unknown;
/// for IPv6 the arrival interface in sin6_scope_id); `lengths[i]` is its size, or -1 if it did not fit.
/// Returns how many arrived, or -1 with errno (EAGAIN when none waits).
int csystem_receive_batch(int fd, unsigned char *slots, size_t slot_size, unsigned count,
                          void *senders, void *locals, long *lengths);
/// Sends `count` datagrams, datagram i being `lengths[i]` bytes at `data + offsets[i]` to
/// `receivers[i]` (`receiver_lengths[i]` long), from `locals[i]` when its family is not
/// AF_UNSPEC (the address the query came to); one the kernel refuses is dropped, as UDP
/// allows. Returns how many were sent.
int csystem_send_batch(int fd, const unsigned char *data, const size_t *offsets, const size_t *lengths,
                       const void *receivers, const uint32_t *receiver_lengths, const void *locals, unsigned count);

/// Installs a handler for each of `signals` that writes the signal's number, one byte, to a
/// pipe, and returns the pipe's read end (-1 with errno): whichever thread a signal lands
/// on, and from the moment this returns, it is read there and never lost or ignored.
int csystem_signal_pipe(const int *signals, int count);

/// Starts `path` with `argv` and `envp` (`envc` entries, without LISTEN_PID): descriptor
/// fds[i] becomes 3 + i in the child, LISTEN_PID is set to the child's own pid, and the
/// `blocked` signals start blocked (csystem_signal_pipe unblocks them once handled).
/// Returns the child's pid, or -1 with errno.
/// `ambient` capabilities (see csystem_raise_ambient) are raised in the child before the exec.
pid_t csystem_spawn_listening(const char *path, char *const argv[], char *const envp[], int envc,
                              const int *fds, int count, const int *blocked, int nblocked, uint64_t ambient);

/// Asks for `signal` when the parent process ends (prctl PR_SET_PDEATHSIG). Returns 0 or -1.
int csystem_die_with_parent(int signal);

/// Names this process for ps and top (prctl PR_SET_NAME, 15 bytes at most). Returns 0 or -1.
int csystem_name_process(const char *name);

/// Capability numbers (capabilities(7)); in a set, capability N is bit N.
enum {
    CSYSTEM_CAP_DAC_READ_SEARCH = 2,
};
/// capset(2) for the calling thread. Returns 0 or -1 with errno.
int csystem_set_capabilities(uint64_t effective, uint64_t permitted, uint64_t inheritable);
/// The calling thread's permitted set (capget(2)); 0 on error.
uint64_t csystem_permitted_capabilities(void);
/// Root becomes `uid`/`gid` (no supplementary groups), every thread; the calling thread keeps
/// `kept` permitted and inheritable (none effective), the others nothing. Returns 0 or -1.
int csystem_become(uid_t uid, gid_t gid, uint64_t kept);
/// Makes `capabilities` (permitted and inheritable already) effective and ambient, so that
/// a program this process execs as a non-root user holds them. Returns 0 or -1 with errno.
int csystem_raise_ambient(uint64_t capabilities);
/// Clears the calling thread's capabilities, ambient ones too, and makes the process
/// non-dumpable (PR_SET_DUMPABLE 0). Returns 0 or -1 with errno.
int csystem_drop_capabilities(void);

/// SO_PASSCRED: every datagram `fd` receives carries its sender's pid. Returns 0 or -1.
int csystem_pass_credentials(int fd);
/// Receives one datagram without blocking; `*sender` and `*uid` (if not NULL) are the pid and
/// uid the kernel vouches for (0 and -1 if none came). Returns its size, or -1 with errno
/// (EAGAIN when none waits).
long csystem_receive_from_process(int fd, void *buffer, size_t size, pid_t *sender, uid_t *uid);

#endif
