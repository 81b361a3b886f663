// Batched datagram system calls (sendmmsg, recvmmsg) for Peer's UDP sockets and codec-bench's
// transport floor. glibc declares them and struct mmsghdr only under _GNU_SOURCE, which also
// renames fd_set's field: a module that defined it would clash with every other module including
// <sys/select.h> (CALSA, CGlibc users). So this header keeps the default feature set, declares
// the same layout as struct mmsghdr, and calls the kernel through syscall(2).
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/// struct mmsghdr (sendmmsg(2)).
struct vp_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// recvmmsg's MSG_WAITFORONE: block for the first datagram only.
#define VP_MSG_WAITFORONE 0x10000

static inline int vp_sendmmsg(int fd, struct vp_mmsghdr *messages, unsigned int count, int flags) {
    return (int)syscall(SYS_sendmmsg, fd, messages, count, flags);
}

static inline int vp_recvmmsg(int fd, struct vp_mmsghdr *messages, unsigned int count, int flags,
                              struct timespec *timeout) {
    return (int)syscall(SYS_recvmmsg, fd, messages, count, flags, timeout);
}
