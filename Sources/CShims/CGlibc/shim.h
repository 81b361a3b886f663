// glibc interfaces that Swift's Glibc module leaves out: the loaded objects and their segments
// (<link.h>: dl_iterate_phdr) and the allocator's tuning (<malloc.h>: mallopt, malloc_trim).
//
// dl_iterate_phdr and struct dl_phdr_info are GNU extensions, but this header must not define
// _GNU_SOURCE: it renames fd_set's member (fds_bits for __fds_bits), and clang then refuses the two
// definitions of fd_set when one Swift module imports this and another shim that includes
// <sys/select.h> without it (CEvdev, CALSA): Appliance did not compile on the first build of a
// clean checkout. So the default feature set stays, and the GNU function is declared here under
// another name bound to glibc's symbol, with the leading fields of glibc's struct (the callback's
// size argument says how large glibc's real one is; these four are the same in every version).
#include <link.h>
#include <malloc.h>
#include <stddef.h>
#include <sys/auxv.h>
#include <sys/mman.h>

/// The leading fields of glibc's struct dl_phdr_info.
struct vp_dl_phdr_info {
    ElfW(Addr) dlpi_addr;
    const char *dlpi_name;
    const ElfW(Phdr) *dlpi_phdr;
    ElfW(Half) dlpi_phnum;
};

/// dl_iterate_phdr(3).
extern int vp_dl_iterate_phdr(int (*callback)(struct vp_dl_phdr_info *info, size_t size, void *data), void *data)
    __asm__("dl_iterate_phdr");
