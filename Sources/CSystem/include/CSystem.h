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

/* Parses an HTTP date in any of RFC 9110's three forms; -1 if it is none of them. */
int64_t csystem_parse_http_date(const char *text);

int csystem_errno(void);

#endif
