#define _GNU_SOURCE
#include "CSystem.h"

#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Raw capset(2), as libcap does it without libcap: version 3 takes two 32-bit words of
   each set. It sets the calling thread's capabilities only. */
int csystem_set_capabilities(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {
        {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
        {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)},
    };
    return (int)syscall(SYS_capset, &header, data);
}

uint64_t csystem_permitted_capabilities(void) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0) return 0;
    return (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
}

int csystem_become(uid_t uid, gid_t gid, uint64_t kept) {
    /* Without KEEPCAPS, leaving uid 0 empties the permitted set; glibc's set*id calls reach
       every thread, so a thread other than this one keeps nothing at all. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -1;
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) return -1;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return -1;
    return csystem_set_capabilities(0, kept, kept);
}

int csystem_raise_ambient(uint64_t capabilities) {
    if (capabilities == 0) return 0;
    if (csystem_set_capabilities(capabilities, capabilities, capabilities) != 0) return -1;
    for (unsigned long bit = 0; bit < 64; bit++) {
        if ((capabilities >> bit & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, bit, 0, 0) != 0) return -1;
    }
    return 0;
}

int csystem_drop_capabilities(void) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return -1;
    if (csystem_set_capabilities(0, 0, 0) != 0) return -1;
    /* As leaving root would have: no other process of the same user may ptrace this one. */
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int csystem_pass_credentials(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
}

long csystem_receive_from_process(int fd, void *buffer, size_t size, pid_t *sender, uid_t *uid) {
    struct iovec part = {buffer, size};
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control.space;
    message.msg_controllen = sizeof control.space;
    *sender = 0;
    if (uid != NULL) *uid = (uid_t)-1;
    ssize_t n = recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
            *sender = credentials.pid;
            if (uid != NULL) *uid = credentials.uid;
        }
    }
    return (long)n;
}
