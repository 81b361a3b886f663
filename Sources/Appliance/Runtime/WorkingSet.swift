// Resident memory of a call: when a call connects, the process still has every page of code and
// read-only data that start-up touched mapped in: argument parsing, NIO and HTTP client set-up,
// TLS, libsrtp's self-tests, the signaling client's first exchanges. They count in the resident
// set (and its peak) for the life of the process, though nothing in the call runs them again.
//
// Those pages are clean copies of files: read-only segments of our binary and of the shared
// libraries. MADV_DONTNEED on a private file mapping removes them from this process's page tables
// and nothing more: they stay in the page cache, where the kernel reclaims them like any other
// unmapped cache, and a page the call does touch again comes straight back from it (a minor
// fault, no I/O; the kernel maps 64 KB around each fault). What stays resident afterwards is what
// the call uses. Freed heap memory goes back the same way (malloc_trim).
//
// Only segments that the program headers declare non-writable are trimmed (and the executable's
// `.rodata`, which the linker put in a writable one: UnwrittenDataPages), and only in objects
// without text relocations: a writable segment (data, .bss, and relocated read-only data, which
// lives in RELRO inside a writable segment) holds private copies that would be lost. The loader
// adds an object to dl_iterate_phdr's list only after mapping it, so a library being loaded by
// another thread at the same moment is either absent from the walk or already in place.
import Logging
#if canImport(Glibc)
import CGlibc
import Glibc

public enum WorkingSet {
    /// What one trim did: resident set before and after (VmRSS), and how much it asked to drop.
    public struct Trim: Sendable, CustomStringConvertible {
        public var residentBefore: Int
        public var residentAfter: Int
        /// Bytes of read-only segments handed to MADV_DONTNEED (resident or not).
        public var readOnlyBytes: Int
        public var segments: Int
        /// Bytes of never-written `.rodata` pages dropped from the writable segment (UnwrittenDataPages).
        public var unwrittenDataBytes: Int = 0
        public var microseconds: Int
        /// Bytes malloc has handed out and not had back (mallinfo2: arenas plus mmapped chunks):
        /// what is left in the resident set that only freeing objects can lower.
        public var heapInUse: Int = 0

        public var description: String {
            func mib(_ bytes: Int) -> String {
                let tenths = (bytes * 10 + (1 << 19)) >> 20
                return "\(tenths / 10).\(tenths % 10) MiB"
            }
            return "resident \(mib(residentBefore)) → \(mib(residentAfter)) (\(segments) read-only segments, "
                + "\(mib(readOnlyBytes)) in all, and \(mib(unwrittenDataBytes)) of read-only data in a writable one; "
                + "\(microseconds) µs; heap in use \(mib(heapInUse)))"
        }
    }

    /// Drops this process's resident copies of read-only code and data, and free heap pages.
    /// Call at a quiet moment when start-up work is over and before a call's buffers grow (the
    /// peak resident set is what a board has to have): both programs do it when a call connects.
    @discardableResult
    public static func trim() -> Trim {
        let start = ContinuousClock.now
        let before = residentBytes()
        var segments = ReadOnlySegments(pageSize: pageSize,
                                        vdso: UInt(getauxval(UInt(AT_SYSINFO_EHDR))))
        _ = withUnsafeMutablePointer(to: &segments) { context in
            vp_dl_iterate_phdr({ info, _, context in
                guard let info, let context else { return 0 }
                context.assumingMemoryBound(to: ReadOnlySegments.self).pointee.add(info.pointee)
                return 0
            }, context)
        }
        var bytes = 0
        for (address, length) in segments.ranges where madvise(address, length, MADV_DONTNEED) == 0 {
            bytes += length
        }
        var dataBytes = 0
        if let base = UnwrittenDataPages.executableLoadBase(),
           let (address, length) = UnwrittenDataPages.executableReadOnlyData(loadBase: base, pageSize: pageSize) {
            dataBytes = UnwrittenDataPages.drop(address, length: length, pageSize: pageSize)
        }
        _ = malloc_trim(0)
        let elapsed = ContinuousClock.now - start
        let heap = mallinfo2()
        return Trim(residentBefore: before, residentAfter: residentBytes(), readOnlyBytes: bytes,
                    segments: segments.ranges.count, unwrittenDataBytes: dataBytes,
                    microseconds: Int(elapsed.components.seconds) * 1_000_000
                        + Int(elapsed.components.attoseconds / 1_000_000_000_000),
                    heapInUse: Int(heap.uordblks) + Int(heap.hblkhd))
    }

    /// VmRSS in bytes: the second field of /proc/self/statm, in pages.
    public static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 128)
        guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.split(separator: " ")
        guard fields.count > 1, let resident = Int(fields[1]) else { return 0 }
        return resident * pageSize
    }

    private static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }
}

/// The page-aligned insides of every loaded object's non-writable PT_LOAD segments.
struct ReadOnlySegments {
    let pageSize: Int
    let vdso: UInt
    var ranges: [(UnsafeMutableRawPointer, Int)] = []

    mutating func add(_ object: vp_dl_phdr_info) {
        guard let headers = object.dlpi_phdr, object.dlpi_phnum > 0 else { return }
        let phdrs = UnsafeBufferPointer(start: headers, count: Int(object.dlpi_phnum))
        let base = UInt(object.dlpi_addr)
        // The vDSO is the kernel's own mapping, not a file's.
        if vdso != 0, phdrs.contains(where: { header in
            guard header.p_type == PT_LOAD else { return false }
            let start = base &+ UInt(header.p_vaddr)
            return start <= vdso && vdso < start &+ UInt(header.p_memsz)
        }) { return }
        if hasTextRelocations(phdrs, base: base) { return }
        let mask = UInt(pageSize - 1)
        for header in phdrs where header.p_type == PT_LOAD && header.p_flags & UInt32(PF_W) == 0 {
            // Inward to whole pages: a page shared with a writable neighbour is left alone.
            let first = (base &+ UInt(header.p_vaddr) &+ mask) & ~mask
            let end = (base &+ UInt(header.p_vaddr + header.p_memsz)) & ~mask
            guard end > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { continue }
            ranges.append((address, Int(end - first)))
        }
    }

    /// DT_TEXTREL, or DF_TEXTREL in DT_FLAGS: the loader wrote into this object's read-only
    /// segments, so they hold private copies.
    private func hasTextRelocations(_ phdrs: UnsafeBufferPointer<Elf64_Phdr>, base: UInt) -> Bool {
        guard let dynamic = phdrs.first(where: { $0.p_type == PT_DYNAMIC }),
              var entry = UnsafePointer<Elf64_Dyn>(bitPattern: base &+ UInt(dynamic.p_vaddr)) else { return false }
        while entry.pointee.d_tag != DT_NULL {
            let tag = entry.pointee.d_tag
            if tag == DT_TEXTREL || (tag == DT_FLAGS && entry.pointee.d_un.d_val & UInt64(DF_TEXTREL) != 0) {
                return true
            }
            entry += 1
        }
        return false
    }
}
#else
public enum WorkingSet {
    public struct Trim: Sendable, CustomStringConvertible {
        public var description: String { "not supported on this platform" }
    }
    @discardableResult public static func trim() -> Trim { Trim() }
    public static func residentBytes() -> Int { 0 }
}
#endif

extension WorkingSet {
    /// Trims, then logs what it did at info: "working set trimmed <when>: <figures>". Both steps
    /// here, in that order, because a trim written inside the log call's message would run only
    /// when that level is enabled (swift-log builds the message lazily).
    public static func trim(logger: Logger, when: String, metadata: Logger.Metadata? = nil) {
        let trim = trim()
        logger.info("working set trimmed \(when): \(trim)", metadata: metadata)
    }
}
