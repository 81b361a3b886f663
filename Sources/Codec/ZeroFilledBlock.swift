// Resident memory the VP8 encoder never uses. libvpx sizes the encoder's token buffer for the
// worst case, 384 tokens for every macroblock of the picture (vp8_alloc_compressor_data), and
// allocates it with vpx_calloc, which is malloc + memset: writing zeros makes every page of it
// resident. At 1280x720 that is 21.1 MiB (16-byte tokens on 64-bit machines; 7.0 MiB at
// 640x480), half of the codecs' memory, while a frame at call bitrates writes a few percent of it.
//
// Zeros are what a private anonymous page holds after madvise(MADV_DONTNEED): the kernel takes the
// page back and the next access gets a fresh zero page. So once libvpx has zero-filled the block,
// handing its zero pages back changes no byte the encoder can read, and the pages it writes later
// come back one by one. What must never happen is taking back a page someone else is writing;
// the block is found so that only this encoder's own block can match:
// - it is a glibc mmapped chunk (glibc maps a block this large on its own; the videophone
//   processes fix the threshold at 4 MiB, MallocArenas): a page-aligned header holding its size
//   with the IS_MMAPPED bit, and that size must be the block's, rounded up to pages;
// - it lies in address space that was not mapped before `body` ran (libvpx's allocation, on
//   this thread), so no block that existed before can match;
// - initialisations serialise on one process-wide lock, so no other encoder's block is new at the
//   same time (in-process tests run two endpoints in one process);
// - every page is checked to be all zeros before it goes.
// A block from the heap (glibc's dynamic threshold, in processes that do not fix it) is not found
// and nothing is released. The search reads the headers of other new mappings too, which their
// threads may unmap meanwhile: it reads through /proc/self/mem, where such an address gives an
// error instead of a fault. On another C library, or another libvpx layout, nothing matches.
#if canImport(Glibc)
import CGlibc
import Glibc
#endif
import Synchronization

enum ZeroFilledBlock {
    private static let lock = Mutex<Void>(())

    /// A block libvpx allocates and fills with one byte value inside `body`.
    struct Block {
        var bytes: Int
        var fill: UInt8 = 0
    }

    /// Runs `body`, which allocates and zero-fills a block of `bytes`, then gives the kernel back
    /// the block's pages that are still all zeros. Returns body's result and the bytes released.
    static func releasing<R>(blockOf bytes: Int, _ body: () throws(CodecError) -> R) throws(CodecError) -> (R, Int) {
        try releasing([Block(bytes: bytes)], body)
    }

    /// The same for several blocks at once; a block filled with another byte than zero is taken
    /// only when all its pages but the first and last (the allocators' headers, the fill's end)
    /// hold that byte. `keep`, asked after `body`, names an address inside a block to leave alone
    /// whatever it holds (a decoded picture that happens to be flat grey). A block below the
    /// process's fixed mmap threshold (FrameBufferMemory) is only found because the threshold is
    /// lowered for `body`.
    static func releasing<R>(_ blocks: [Block], keep: () -> UnsafeRawPointer? = { nil },
                             _ body: () throws(CodecError) -> R) throws(CodecError) -> (R, Int) {
        #if canImport(Glibc)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let wanted = blocks.filter { $0.bytes >= 64 * page }
        guard page > 0, let smallest = wanted.map(\.bytes).min() else { return (try body(), 0) }
        return try lock.withLock { _ throws(CodecError) -> (R, Int) in
            // glibc counts the bytes of its mmapped chunks: when they did not grow by a block,
            // the block came from the heap and there is nothing to look for (reading the maps
            // costs 7 ms in a debug build, and the encoder is re-created at every resize).
            // The maps are read before (the text only: parsing it is the slow part) and parsed
            // when needed.
            let mappedBefore = mallinfo2().hblkhd
            let mapsBefore = AnonymousMappings.readMaps()
            let lowered = FrameBufferMemory.lowerThreshold(to: smallest / 2)
            defer { FrameBufferMemory.restoreThreshold(lowered) }
            let result = try body()
            guard mallinfo2().hblkhd >= mappedBefore + smallest else { return (result, 0) }
            let before = AnonymousMappings(maps: mapsBefore)
            let added = AnonymousMappings(maps: AnonymousMappings.readMaps()).added(since: before)
            let kept = keep().map { Int(bitPattern: $0) }
            return (result, wanted.reduce(0) { $0 + release($1, in: added, keeping: kept, page: page) })
        }
        #else
        return (try body(), 0)
        #endif
    }

    #if canImport(Glibc)
    /// Walks the new address ranges chunk by chunk (glibc puts its mmapped chunks side by side,
    /// and the kernel merges them into one mapping) to the first one of the block's size holding
    /// its fill, and releases those pages: all but the first, which holds the allocators' headers.
    private static func release(_ block: Block, in ranges: [Range<Int>], keeping kept: Int?, page: Int) -> Int {
        guard let memory = OwnMemory(page: page) else { return 0 }
        let smallest = block.bytes, largest = block.bytes + 2 * page
        for range in ranges {
            var start = range.lowerBound
            while start + smallest - page <= range.upperBound {
                var step = page
                if let word = memory.word(at: start + 8) {
                    let size = Int(truncatingIfNeeded: word), chunk = size & ~7
                    // IS_MMAPPED (2) alone among glibc's flag bits, a whole number of pages.
                    if size & 7 == 2, chunk > 0, chunk % page == 0, start + chunk <= range.upperBound {
                        let holdsKept = kept.map { (start..<start + chunk).contains($0) } ?? false
                        if chunk >= smallest && chunk <= largest && !holdsKept,
                           block.fill == 0
                            || memory.filledPages(from: start + page, to: start + chunk, with: block.fill) >= block.bytes / page - 2 {
                            return memory.releasePages(from: start + page, to: start + chunk, filledWith: block.fill)
                        }
                        step = chunk
                    }
                }
                start += step
            }
        }
        return 0
    }
    #endif
}

/// glibc's mmap threshold, as a process fixed it (Appliance's MallocArenas, from `main`). libvpx's
/// frame buffers (1.5 MiB at 1280x720) stay below it, on the heap, where a block cannot be told
/// apart or given back alone; while libvpx allocates them, the threshold is lowered so they get
/// pages of their own, then set back. Where nothing fixed it (glibc's dynamic threshold, which
/// mallopt would freeze), it is left alone and those blocks are not looked for.
public enum FrameBufferMemory {
    private static let fixedThreshold = Atomic<Int>(0)

    /// Fixes glibc's mmap threshold (mallopt(M_MMAP_THRESHOLD)) and remembers it.
    public static func fixMmapThreshold(at bytes: Int) {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, Int32(bytes))
        fixedThreshold.store(bytes, ordering: .relaxed)
        #endif
    }

    /// Lowers the threshold to `bytes`, so that blocks larger than that get pages of their own,
    /// when the process fixed one above it; returns the value to set back (callers hold
    /// ZeroFilledBlock's lock, so no two lower it at once).
    static func lowerThreshold(to bytes: Int) -> Int? {
        #if canImport(Glibc)
        let fixed = fixedThreshold.load(ordering: .relaxed)
        guard fixed > 0, bytes < fixed, bytes > 0 else { return nil }
        _ = mallopt(M_MMAP_THRESHOLD, Int32(bytes))
        return fixed
        #else
        return nil
        #endif
    }

    static func restoreThreshold(_ fixed: Int?) {
        #if canImport(Glibc)
        if let fixed { _ = mallopt(M_MMAP_THRESHOLD, Int32(fixed)) }
        #endif
    }
}

#if canImport(Glibc)
/// Private writable mappings without a file (the heap and the allocators' mmapped blocks), from
/// /proc/self/maps.
struct AnonymousMappings {
    var ranges: [Range<Int>] = []

    /// The text of /proc/self/maps.
    static func readMaps() -> [UInt8] {
        let fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            text += chunk[0..<count]
        }
        return text
    }

    /// Parses maps lines: "start-end perms offset dev inode [path]".
    init(maps text: [UInt8]) {
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count >= 5, fields[1].elementsEqual("rw-p".utf8), fields[4].elementsEqual("0".utf8) else { continue }
            if fields.count > 5, !fields[5].elementsEqual("[heap]".utf8) { continue }
            let bounds = fields[0].split(separator: UInt8(ascii: "-"))
            guard bounds.count == 2, let start = Int(String(decoding: bounds[0], as: UTF8.self), radix: 16),
                  let end = Int(String(decoding: bounds[1], as: UTF8.self), radix: 16), end > start
            else { continue }
            ranges.append(start..<end)
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
    }

    /// The parts of these mappings that no mapping of `earlier` covered.
    func added(since earlier: AnonymousMappings) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for range in ranges {
            var pieces = [range]
            for old in earlier.ranges where old.overlaps(range) {
                pieces = pieces.flatMap { piece -> [Range<Int>] in
                    guard piece.overlaps(old) else { return [piece] }
                    var rest: [Range<Int>] = []
                    if piece.lowerBound < old.lowerBound { rest.append(piece.lowerBound..<old.lowerBound) }
                    if old.upperBound < piece.upperBound { rest.append(old.upperBound..<piece.upperBound) }
                    return rest
                }
            }
            result += pieces
        }
        return result
    }
}

/// This process's memory read with pread(2) on /proc/self/mem: an address that is not mapped
/// (any more) gives an error instead of a fault.
final class OwnMemory {
    private let fd: Int32
    private let page: Int
    private let zeros: UnsafeMutableRawPointer
    private let filled: UnsafeMutableRawPointer
    private let buffer: UnsafeMutableRawPointer
    private static let pagesPerRead = 16

    init?(page: Int) {
        fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.page = page
        zeros = .allocate(byteCount: page, alignment: 16)
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: page)
        filled = .allocate(byteCount: page, alignment: 16)
        buffer = .allocate(byteCount: page * Self.pagesPerRead, alignment: 16)
    }

    deinit {
        close(fd)
        zeros.deallocate()
        filled.deallocate()
        buffer.deallocate()
    }

    func word(at address: Int) -> UInt64? {
        var value: UInt64 = 0
        return pread(fd, &value, 8, off_t(address)) == 8 ? value : nil
    }

    /// How many whole pages in [start, end) hold only `fill`.
    func filledPages(from start: Int, to end: Int, with fill: UInt8) -> Int {
        let pattern = self.pattern(fill)
        var address = start, count = 0
        while address + page <= end {
            let pages = min(Self.pagesPerRead, (end - address) / page)
            guard pread(fd, buffer, pages * page, off_t(address)) == pages * page else { return count }
            for index in 0..<pages where memcmp(buffer + index * page, pattern, page) == 0 { count += 1 }
            address += pages * page
        }
        return count
    }

    private func pattern(_ fill: UInt8) -> UnsafeMutableRawPointer {
        if fill != 0 { filled.initializeMemory(as: UInt8.self, repeating: fill, count: page) }
        return fill == 0 ? zeros : filled
    }

    /// madvise(MADV_DONTNEED) on each run of pages in [start, end) that hold only `fill`; the bytes
    /// released. They read as zeros afterwards: for a zero fill nothing changed; for another, the
    /// caller knows the owner never reads them (libvpx's post-processing buffer).
    func releasePages(from start: Int, to end: Int, filledWith fill: UInt8 = 0) -> Int {
        let pattern = self.pattern(fill)
        var released = 0
        var runStart: Int?
        func flush(_ upTo: Int) {
            guard let from = runStart, upTo > from, let address = UnsafeMutableRawPointer(bitPattern: from) else { return }
            if madvise(address, upTo - from, MADV_DONTNEED) == 0 { released += upTo - from }
            runStart = nil
        }
        var address = start
        while address < end {
            let pages = min(Self.pagesPerRead, (end - address) / page)
            guard pages > 0, pread(fd, buffer, pages * page, off_t(address)) == pages * page else { break }
            for index in 0..<pages {
                let at = address + index * page
                if memcmp(buffer + index * page, pattern, page) == 0 {
                    if runStart == nil { runStart = at }
                } else {
                    flush(at)
                }
            }
            address += pages * page
        }
        flush(address)
        return released
    }
}
#endif
