// glibc interfaces that Swift's Glibc module leaves out: the loaded objects and their segments
// (<link.h>: dl_iterate_phdr), the allocator's tuning (<malloc.h>: mallopt, malloc_trim) and
// batched datagrams (<sys/socket.h>: sendmmsg, recvmmsg). All are GNU extensions.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <link.h>
#include <malloc.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
