#define _GNU_SOURCE
#include "CSystem.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int csystem_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static int ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int csystem_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) {
    return ctl(epfd, EPOLL_CTL_ADD, fd, events, data);
}

int csystem_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data) {
    return ctl(epfd, EPOLL_CTL_MOD, fd, events, data);
}

int csystem_epoll_remove(int epfd, int fd) {
    return ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0);
}

int csystem_epoll_wait(int epfd, csystem_event *events, int max, int timeout_ms) {
    struct epoll_event raw[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, raw, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i].events = raw[i].events;
        events[i].data = raw[i].data.u64;
    }
    return n;
}

int csystem_accept(int fd, void *addr, uint32_t *len) {
    socklen_t l = *len;
    int r = accept4(fd, (struct sockaddr *)addr, &l, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *len = l;
    return r;
}

ssize_t csystem_sendfile(int out_fd, int in_fd, int64_t *offset, size_t count) {
    off_t off = (off_t)*offset;
    ssize_t n = sendfile(out_fd, in_fd, &off, count);
    *offset = (int64_t)off;
    return n;
}

int csystem_open_beneath(int dirfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    /* EAGAIN means a concurrent rename raced the walk; the kernel asks for a retry. */
    long r = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
        r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (r >= 0 || errno != EAGAIN) break;
    }
    return (int)r;
}

int csystem_errno(void) { return errno; }

int csystem_cpu(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? 0 : cpu;
}

int csystem_want_destination(int fd, int ipv6) {
    int one = 1;
    return ipv6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)
                : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
}

/* Room for one IPv4 or IPv6 packet-info control message. */
#define CONTROL_SIZE CMSG_SPACE(sizeof(struct in6_pktinfo) > sizeof(struct in_pktinfo) ? sizeof(struct in6_pktinfo) : sizeof(struct in_pktinfo))

static void read_destination(struct msghdr *header, struct sockaddr_storage *local) {
    memset(local, 0, sizeof *local);
    local->ss_family = AF_UNSPEC;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c != NULL; c = CMSG_NXTHDR(header, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            struct sockaddr_in *sin = (struct sockaddr_in *)local;
            sin->sin_family = AF_INET;
            sin->sin_addr = info.ipi_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)local;
            sin6->sin6_family = AF_INET6;
            sin6->sin6_addr = info.ipi6_addr;
            sin6->sin6_scope_id = info.ipi6_ifindex;
        }
    }
}

/* Sets the source of an outgoing datagram to `local` (no control message for AF_UNSPEC). */
static void write_source(struct msghdr *header, unsigned char *control, const struct sockaddr_storage *local) {
    header->msg_control = NULL;
    header->msg_controllen = 0;
    if (local->ss_family == AF_INET) {
        struct in_pktinfo info;
        memset(&info, 0, sizeof info);
        info.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
        header->msg_control = control;
        header->msg_controllen = CMSG_SPACE(sizeof info);
        struct cmsghdr *c = CMSG_FIRSTHDR(header);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof info);
        memcpy(CMSG_DATA(c), &info, sizeof info);
    } else if (local->ss_family == AF_INET6) {
        struct in6_pktinfo info;
        memset(&info, 0, sizeof info);
        info.ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr;
        info.ipi6_ifindex = ((const struct sockaddr_in6 *)local)->sin6_scope_id;
        header->msg_control = control;
        header->msg_controllen = CMSG_SPACE(sizeof info);
        struct cmsghdr *c = CMSG_FIRSTHDR(header);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof info);
        memcpy(CMSG_DATA(c), &info, sizeof info);
    }
}

int csystem_receive_batch(int fd, unsigned char *slots, size_t slot_size, unsigned count,
                          void *sender_storage, void *local_storage, long *lengths) {
    struct sockaddr_storage *senders = sender_storage;
    struct sockaddr_storage *locals = local_storage;
    struct mmsghdr messages[CSYSTEM_BATCH];
    struct iovec vectors[CSYSTEM_BATCH];
    unsigned char controls[CSYSTEM_BATCH][CONTROL_SIZE] __attribute__((aligned(8)));
    if (count > CSYSTEM_BATCH) count = CSYSTEM_BATCH;
    memset(messages, 0, sizeof messages);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = slots + i * slot_size;
        vectors[i].iov_len = slot_size;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &senders[i];
        messages[i].msg_hdr.msg_namelen = sizeof senders[i];
        messages[i].msg_hdr.msg_control = controls[i];
        messages[i].msg_hdr.msg_controllen = CONTROL_SIZE;
    }
    int n = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        lengths[i] = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (long)messages[i].msg_len;
        read_destination(&messages[i].msg_hdr, &locals[i]);
    }
    return n;
}

int csystem_send_batch(int fd, const unsigned char *data, const size_t *offsets, const size_t *lengths,
                       const void *receiver_storage, const uint32_t *receiver_lengths, const void *local_storage,
                       unsigned count) {
    const struct sockaddr_storage *receivers = receiver_storage;
    const struct sockaddr_storage *locals = local_storage;
    struct mmsghdr messages[CSYSTEM_BATCH];
    struct iovec vectors[CSYSTEM_BATCH];
    unsigned char controls[CSYSTEM_BATCH][CONTROL_SIZE] __attribute__((aligned(8)));
    if (count > CSYSTEM_BATCH) count = CSYSTEM_BATCH;
    /* Only the entries sent: most batches are a few answers, not CSYSTEM_BATCH. */
    memset(messages, 0, count * sizeof messages[0]);
    memset(controls, 0, count * sizeof controls[0]);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (void *)(data + offsets[i]);
        vectors[i].iov_len = lengths[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = (void *)&receivers[i];
        messages[i].msg_hdr.msg_namelen = receiver_lengths[i];
        write_source(&messages[i].msg_hdr, controls[i], &locals[i]);
    }
    unsigned done = 0, sent = 0;
    while (done < count) {
        int n = sendmmsg(fd, messages + done, count - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { done++; continue; }
        done += (unsigned)n;
        sent += (unsigned)n;
    }
    return (int)sent;
}

int csystem_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

static int signal_pipe_write = -1;

static void signal_to_pipe(int number) {
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    (void)write(signal_pipe_write, &byte, 1);
    errno = saved;
}

int csystem_signal_pipe(const int *signals, int count) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    signal_pipe_write = fds[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = signal_to_pipe;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigset_t handled;
    sigemptyset(&handled);
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
        sigaddset(&handled, signals[i]);
    }
    /* A supervised child starts with them blocked, until now: none sent meanwhile is lost. */
    sigprocmask(SIG_UNBLOCK, &handled, NULL);
    return fds[0];
}
