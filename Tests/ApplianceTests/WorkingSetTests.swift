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
