// The read-only data that sits in a writable segment. swiftc emits empty `.rodata` sections
// flagged writable in many object files (the standard library's and Foundation's among them);
// the linker gives an output section the union of its inputs' flags, so the executable's whole
// `.rodata` (36 MB, most of it ICU's tables) lands in the writable PT_LOAD segment, which
// WorkingSet's segment trim must leave alone: there, a dropped page that had been written would
// lose its private copy. Measured in a 1280x720 call: 2.3 MB of start-up's `.rodata` pages stayed
// resident for the whole call.
//
// A page of a private file mapping that this process never wrote is still the file's page (the
// first write makes a private anonymous copy), and /proc/self/pagemap says which is which (bit 61:
// file page; bit 63: present; the flags are readable without privileges, only frame numbers are
// hidden). So within `.rodata` only present file pages are dropped: a page some code did write is
// anonymous and stays. Nothing writes to `.rodata` (the flag comes from empty sections), so no
// write can fall between reading the flags and the madvise.
#if canImport(Glibc)
import CGlibc
import Glibc

enum UnwrittenDataPages {
    /// Drops the present, never-written file pages of `[start, start + length)` (whole pages) from
    /// this process; returns the bytes dropped. They come back from the page cache when read.
    static func drop(_ start: UnsafeMutableRawPointer, length: Int, pageSize: Int) -> Int {
        let pages = length / pageSize
        guard pages > 0, Int(bitPattern: start) % pageSize == 0 else { return 0 }
        let fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var entries = [UInt64](repeating: 0, count: pages)
        let offset = off_t(UInt(bitPattern: start) / UInt(pageSize) * 8)
        let read = entries.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
        guard read == pages * 8 else { return 0 }
        var dropped = 0
        var runStart: Int?
        func flush(_ end: Int) {
            guard let first = runStart else { return }
            runStart = nil
            if madvise(start + first * pageSize, (end - first) * pageSize, MADV_DONTNEED) == 0 {
                dropped += (end - first) * pageSize
            }
        }
        for (index, entry) in entries.enumerated() {
            let present = entry >> 63 & 1 == 1, filePage = entry >> 61 & 1 == 1
            if present && filePage {
                if runStart == nil { runStart = index }
            } else {
                flush(index)
            }
        }
        flush(pages)
        return dropped
    }

    /// The executable's `.rodata` when it is allocated and writable (whole pages inside it), from
    /// the section headers of /proc/self/exe; nil when it is read-only (the segment trim covers
    /// it), stripped of section headers, or unreadable.
    static func executableReadOnlyData(loadBase: UInt, pageSize: Int) -> (UnsafeMutableRawPointer, Int)? {
        let fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func readValue<T>(_ type: T.Type, at offset: Int) -> T? {
            withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer -> T? in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                guard pread(fd, raw.baseAddress, raw.count, off_t(offset)) == raw.count else { return nil }
                return raw.loadUnaligned(as: T.self)
            }
        }
        guard let header = readValue(Elf64_Ehdr.self, at: 0),
              header.e_ident.0 == 0x7F, header.e_ident.1 == 0x45, header.e_ident.2 == 0x4C, header.e_ident.3 == 0x46,
              header.e_ident.4 == UInt8(ELFCLASS64),
              Int(header.e_shentsize) == MemoryLayout<Elf64_Shdr>.size, header.e_shnum > 0,
              header.e_shstrndx < header.e_shnum else { return nil }
        func section(_ index: Int) -> Elf64_Shdr? {
            readValue(Elf64_Shdr.self, at: Int(header.e_shoff) + index * MemoryLayout<Elf64_Shdr>.size)
        }
        guard let names = section(Int(header.e_shstrndx)) else { return nil }
        let wanted = Array(".rodata\0".utf8)
        for index in 0..<Int(header.e_shnum) {
            guard let candidate = section(index), candidate.sh_name < names.sh_size else { continue }
            var name = [UInt8](repeating: 0, count: wanted.count)
            let nameOffset = off_t(Int(names.sh_offset) + Int(candidate.sh_name))
            guard pread(fd, &name, name.count, nameOffset) == name.count, name == wanted else { continue }
            let flags = candidate.sh_flags
            guard flags & UInt64(SHF_ALLOC) != 0, flags & UInt64(SHF_WRITE) != 0 else { return nil }
            let mask = UInt(pageSize - 1)
            let first = (loadBase &+ UInt(candidate.sh_addr) &+ mask) & ~mask
            let end = (loadBase &+ UInt(candidate.sh_addr) &+ UInt(candidate.sh_size)) & ~mask
            guard end > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return nil }
            return (address, Int(end - first))
        }
        return nil
    }

    /// The main program's load address: the first object dl_iterate_phdr reports.
    static func executableLoadBase() -> UInt? {
        var base: UInt?
        _ = withUnsafeMutablePointer(to: &base) { context in
            vp_dl_iterate_phdr({ info, _, context in
                guard let info, let context else { return 1 }
                context.assumingMemoryBound(to: UInt?.self).pointee = UInt(info.pointee.dlpi_addr)
                return 1  // the first object is the program itself
            }, context)
        }
        return base
    }
}
#endif
