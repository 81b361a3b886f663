// glibc interfaces that Swift's Glibc module leaves out: the loaded objects and their segments
// (<link.h>: dl_iterate_phdr) and the allocator's tuning (<malloc.h>: mallopt, malloc_trim).
// dl_phdr_info and dl_iterate_phdr are GNU extensions.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <link.h>
#include <malloc.h>
#include <sys/auxv.h>
#include <sys/mman.h>
