#if canImport(Glibc)
@testable import Appliance
import CGlibc
import SystemCrypto
import Foundation
import Glibc
import Testing

@Suite("Working set trim")
struct WorkingSetTests {
    /// A made-up loaded object: read-only headers, code, writable data holding the dynamic section.
    final class FakeObject {
        static let size = 0x8000
        let memory: UnsafeMutableRawPointer
        var headers: [Elf64_Phdr]

        init(dynamic tags: [(Int64, UInt64)], codeEnd: UInt64 = 0x5000) {
            var pointer: UnsafeMutableRawPointer?
            precondition(posix_memalign(&pointer, 0x1000, Self.size) == 0)
            memory = pointer!
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: Self.size)
            let dyn = (memory + 0x6000).bindMemory(to: Elf64_Dyn.self, capacity: tags.count + 1)
            for (i, (tag, value)) in (tags + [(Int64(DT_NULL), 0)]).enumerated() {
                dyn[i].d_tag = tag
                dyn[i].d_un.d_val = value
            }
            func load(_ flags: Int32, _ start: UInt64, _ end: UInt64, type: Int32 = PT_LOAD) -> Elf64_Phdr {
                Elf64_Phdr(p_type: UInt32(type), p_flags: UInt32(flags), p_offset: start, p_vaddr: start, p_paddr: start,
                           p_filesz: end - start, p_memsz: end - start, p_align: 0x1000)
            }
            headers = [load(PF_R, 0, 0x1800), load(PF_R | PF_X, 0x2000, codeEnd),
                       load(PF_R | PF_W, 0x6000, 0x8000), load(PF_R | PF_W, 0x6000, 0x6100, type: PT_DYNAMIC)]
        }

        func segments(vdso: UInt = 0) -> [(Int, Int)] {
            var collector = ReadOnlySegments(pageSize: 0x1000, vdso: vdso)
            headers.withUnsafeBufferPointer { phdrs in
                var info = vp_dl_phdr_info()
                info.dlpi_addr = Elf64_Addr(UInt(bitPattern: memory))
                info.dlpi_phdr = phdrs.baseAddress
                info.dlpi_phnum = Elf64_Half(phdrs.count)
                collector.add(info)
            }
            return collector.ranges.map { ($0.0 - memory, $0.1) }
        }

        deinit { free(memory) }
    }

    @Test("only whole pages of non-writable segments are trimmed")
    func readOnlySegmentsOnly() {
        let object = FakeObject(dynamic: [(Int64(DT_FLAGS), UInt64(DF_BIND_NOW))], codeEnd: 0x5200)
        let ranges = object.segments()
        // The 0x1800-byte header segment keeps its partial page; the code stops at its last whole
        // page; the writable segment (data, RELRO, the dynamic section) is never touched.
        #expect(ranges.map(\.0) == [0, 0x2000])
        #expect(ranges.map(\.1) == [0x1000, 0x3000])
    }

    @Test("objects with text relocations and the vDSO are left alone")
    func textRelocationsAndVDSO() {
        #expect(FakeObject(dynamic: [(Int64(DT_TEXTREL), 0)]).segments().isEmpty)
        #expect(FakeObject(dynamic: [(Int64(DT_FLAGS), UInt64(DF_TEXTREL))]).segments().isEmpty)
        let object = FakeObject(dynamic: [])
        #expect(object.segments().count == 2)
        #expect(object.segments(vdso: UInt(bitPattern: object.memory) + 0x2100).isEmpty)
    }

    @Test("in a writable private file mapping, only pages never written are dropped, and they read back from the file")
    func unwrittenPagesOnly() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("unwritten-\(getpid())").path
        defer { unlink(path) }
        let content = (0..<(8 * page)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        FileManager.default.createFile(atPath: path, contents: Data(content))
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let mapped = mmap(nil, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        try #require(mapped != MAP_FAILED)
        let base = try #require(mapped)
        defer { munmap(base, 8 * page) }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var sum = 0
        for index in 0..<8 { sum += Int(bytes[index * page]) }  // every page read: present, the file's
        bytes[2 * page + 5] = 0xEE  // page 2 written: a private copy
        bytes[6 * page] = 0xDD  // page 6 too
        // Mapped in this process (pagemap bit 63); mincore would report the page cache instead.
        func resident() -> [Bool] {
            var entries = [UInt64](repeating: 0, count: 8)
            let pagemap = open("/proc/self/pagemap", O_RDONLY)
            defer { close(pagemap) }
            _ = entries.withUnsafeMutableBytes {
                pread(pagemap, $0.baseAddress, $0.count, off_t(UInt(bitPattern: base) / UInt(page) * 8))
            }
            return entries.map { $0 >> 63 == 1 }
        }
        #expect(resident() == Array(repeating: true, count: 8))
        let dropped = UnwrittenDataPages.drop(base, length: 8 * page, pageSize: page)
        #expect(dropped == 6 * page)
        #expect(resident() == [false, false, true, false, false, false, true, false])
        // Written bytes survive; the dropped pages read the file again.
        #expect(bytes[2 * page + 5] == 0xEE && bytes[6 * page] == 0xDD)
        for index in 0..<(8 * page) where index != 2 * page + 5 && index != 6 * page {
            if bytes[index] != content[index] { Issue.record("byte \(index) changed"); break }
        }
        #expect(sum >= 0)
    }

    @Test("the executable's .rodata is found when the linker made it writable")
    func executableReadOnlyData() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = try #require(UnwrittenDataPages.executableLoadBase())
        // Either nil (read-only .rodata: the segment trim covers it) or a page-aligned range
        // that lies inside one of our own mappings.
        if let (address, length) = UnwrittenDataPages.executableReadOnlyData(loadBase: base, pageSize: page) {
            #expect(Int(bitPattern: address) % page == 0 && length % page == 0 && length > 0)
            var vector = [UInt8](repeating: 0, count: length / page)
            #expect(mincore(address, length, &vector) == 0, "the range is mapped")  // ENOMEM where not
        }
    }

    /// RssFile from /proc/self/status, in KiB: pages of files mapped into this process.
    static func residentFileKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssFile:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    /// Work that runs through relocated data, protocol conformances, Foundation and libcrypto.
    static func sample() throws -> String {
        struct Item: Codable, Equatable { var name: String; var values: [Double] }
        let items = (0..<50).map { Item(name: "item \($0)", values: [Double($0) / 3, .pi]) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // keyed containers are unordered otherwise
        let json = try encoder.encode(items)
        #expect(try JSONDecoder().decode([Item].self, from: json) == items)
        let digest = SHA256.hash(json).map { String(format: "%02x", $0) }.joined()
        return digest + String(describing: Date(timeIntervalSince1970: 1e9)) + "\(Set(items.map(\.name)).count)"
    }

    @Test("trim drops this process's file pages, and everything still runs afterwards")
    func trimInProcess() throws {
        let expected = try Self.sample()
        let before = Self.residentFileKiB()
        let trim = WorkingSet.trim()
        let after = Self.residentFileKiB()
        #expect(trim.segments > 0 && trim.readOnlyBytes > 0)
        #expect(before > 0 && after < before, "RssFile \(before) KiB → \(after) KiB")
        #expect(trim.residentBefore > 0 && trim.residentAfter > 0)
        // Code and read-only data come back from the page cache; relocated data was never dropped.
        for _ in 0..<3 {
            #expect(try Self.sample() == expected)
            WorkingSet.trim()
        }
        #expect(WorkingSet.trim().description.contains("read-only segments"))
    }
}
#endif
