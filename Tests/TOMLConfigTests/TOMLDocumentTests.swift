import Testing
import TOMLConfig

@Suite("TOML subset")
struct TOMLDocumentTests {
    @Test("tables, keys, every value kind, comments")
    func parsesTheSubset() throws {
        let doc = try TOMLDocument(parsing: """
            # a comment
            title = "videophone"   # trailing comment
            [server]
            host = '0.0.0.0'
            port = 3_001
            "quoted key" = true
            ratio = 0.5
            origins = ["https://a.example", 'http://b.example', ]
            [ice.turn]
            ttl = -1
            escaped = "tab\\tquote\\"\\u00e9"
            """)
        #expect(doc["title"] == .string("videophone"))
        #expect(doc["server.host"] == .string("0.0.0.0"))
        #expect(doc["server.port"] == .integer(3001))
        #expect(doc["server.quoted key"] == .bool(true))
        #expect(doc["server.ratio"] == .float(0.5))
        #expect(doc["server.origins"] == .array([.string("https://a.example"), .string("http://b.example")]))
        #expect(doc["ice.turn.ttl"] == .integer(-1))
        #expect(doc["ice.turn.escaped"] == .string("tab\tquote\"é"))
        #expect(doc.keys == ["title", "server.host", "server.port", "server.quoted key", "server.ratio", "server.origins",
                             "ice.turn.ttl", "ice.turn.escaped"])
    }

    @Test("rejects what it does not understand, naming the line", arguments: [
        ("a = ", 1, "missing value"),
        ("a = hello", 1, "not a value: 'hello' (strings need quotes)"),
        ("a = \"open", 1, "unterminated string"),
        ("\n[t\nb = 1", 2, "expected ']'"),
        ("a = 1\na = 2", 2, "key 'a' defined twice"),
        ("a = [1, 2", 1, "arrays must be on one line"),
        ("[[servers]]", 1, "arrays of tables are not supported"),
        ("a = 1 b", 1, "text after value"),
        ("a = \"\\q\"", 1, "unknown escape '\\q'"),
        ("= 3", 1, "expected a key"),
        ("a = \"\"\"x\"\"\"", 1, "multi-line strings are not supported"),
        ("a = truth", 1, "expected true or false"),
    ])
    func rejects(input: String, line: Int, reason: String) {
        #expect(throws: TOMLError(line: line, reason: reason)) { try TOMLDocument(parsing: input) }
    }
}
