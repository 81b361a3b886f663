// swift-tools-version: 6.1
// videophone: an always-on Linux video-phone appliance.
// Dependency direction (one way): Appliance → (Signaling, Peer, Capture, Display) → shared types → C shims.
import PackageDescription

/// One `.systemLibrary` target per C library; each has a `module.modulemap` over a small `shim.h`
/// that exposes the macros and wraps the variadic functions Swift cannot call.
func cLibrary(_ name: String, pkgConfig: String?, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/CShims/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]
// `--static-swift-stdlib` links with `-export-dynamic`, which puts every symbol of our own modules
// (about 40,000) in the dynamic symbol table: 2.2 MB of tables that the dynamic linker pages in
// at start and that stay resident, 1.6 MB of RSS per process. Nothing looks our symbols up at run
// time; crash backtraces are symbolized offline from the unstripped binary. (A no-op otherwise.)
//
// Our executables link with lld (shipped with the toolchain) rather than the default gold, for two
// more cuts in resident memory, measured on `videophone peer` in a 640x480 call (59 MiB before):
// - `-z pack-relative-relocs` (DT_RELR, glibc 2.36+): the 127,000 relative relocations of a static
//   Swift binary take 3 MB as RELA, all read by the dynamic linker at start and left resident;
//   as RELR they take 24 KB. (-2 MiB)
// - `--symbol-ordering-file`: the kernel maps code into a process 64 KB at a time, so the 2 MB of
//   functions a call runs, spread through 26 MB of .text in link order, kept 16-18 MB of it
//   resident. link/hot-symbols.txt (made by scripts/hot-symbols from a profiled call) puts them
//   together at the front. (-6 MiB; functions added since the list was made stay where they were.)
// lld also links these 160 MB binaries in about a second.
let hotSymbols = Context.packageDirectory + "/link/hot-symbols.txt"
let lean: [LinkerSetting] = [.unsafeFlags([
    "-use-ld=lld", "-Xlinker", "--no-export-dynamic", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
    "-Xlinker", "--symbol-ordering-file=\(hotSymbols)", "-Xlinker", "--no-warn-symbol-ordering",
])]

let package = Package(
    name: "videophone",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "videophone", targets: ["videophone"]),
        .library(name: "Signaling", targets: ["Signaling"]),
        .library(name: "SignalingCore", targets: ["SignalingCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // MARK: C libraries
        cLibrary("CV4L2", pkgConfig: "libv4l2", apt: "libv4l-dev"),
        cLibrary("CALSA", pkgConfig: "alsa", apt: "libasound2-dev"),
        cLibrary("CDRM", pkgConfig: "libdrm", apt: "libdrm-dev"),
        cLibrary("CVPX", pkgConfig: "vpx", apt: "libvpx-dev"),
        cLibrary("COpus", pkgConfig: "opus", apt: "libopus-dev"),
        cLibrary("CSRTP", pkgConfig: "libsrtp2", apt: "libsrtp2-dev"),
        cLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        cLibrary("CEvdev", pkgConfig: "libevdev", apt: "libevdev-dev"),
        cLibrary("CYUV", pkgConfig: nil, apt: "libyuv-dev"),
        cLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        cLibrary("CPNG", pkgConfig: "libpng", apt: "libpng-dev"),
        cLibrary("CGlibc", pkgConfig: nil, apt: "libc6-dev"),
        cLibrary("CSocketBatch", pkgConfig: nil, apt: "libc6-dev"),

        // MARK: Signaling
        // Pure wire codecs and typed events: no I/O, shared by the client and (later) the server.
        .target(name: "SignalingCore", swiftSettings: strict),
        .target(
            name: "Signaling",
            dependencies: [
                "SignalingCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
            ],
            swiftSettings: strict
        ),

        // MARK: Config files
        // The TOML subset our config files use (server and appliance).
        .target(name: "TOMLConfig", swiftSettings: strict),

        // MARK: Signaling server (videophone-server)
        // Rooms, relay rules, chat store and ICE credentials: transport-free, testable in-process.
        .target(
            name: "RoomServer",
            dependencies: ["SignalingCore",
                           .product(name: "GRDB", package: "GRDB.swift"),
                           "SystemCrypto",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Engine.IO v4 / Socket.IO v5 server over Hummingbird (polling, websocket, upgrade) and the HTTP API.
        .target(
            name: "SignalingServer",
            dependencies: ["RoomServer", "SignalingCore", "TOMLConfig",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           "SystemCrypto",
                           .product(name: "Logging", package: "swift-log")],
            // The call page served at `/` (plain HTML + JS, no build step).
            resources: [.copy("Web")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "videophone-server",
            dependencies: ["SignalingServer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict, linkerSettings: lean
        ),

        // MARK: Media and devices (grow in their own issues)
        // Frame and sample types shared by Capture, Display and Peer.
        .target(name: "Media", swiftSettings: strict),
        // SHA-256, HMAC-SHA1, MD5 and Ed25519 from the system's libcrypto (see Digests.swift for why
        // not swift-crypto).
        .target(name: "SystemCrypto", dependencies: ["COpenSSL"], swiftSettings: strict),
        // VP8 and Opus over libvpx / libopus: encoders, decoders, rate control (no transport).
        .target(name: "Codec", dependencies: ["Media", "CVPX", "COpus", "CGlibc"], swiftSettings: strict),
        // Our WebRTC endpoint: one folder per protocol (SDP, STUN, ICE, TURN, DTLS, SRTP, RTP, RTCP, ...).
        .target(name: "Peer",
                dependencies: ["Media", "Codec", "CVPX", "COpus", "CSRTP", "COpenSSL", "CZlib", "CSocketBatch",
                               "SystemCrypto",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Capture", dependencies: ["Media", "CV4L2", "CALSA", "CYUV", "CZlib"], swiftSettings: strict),
        .target(name: "Display", dependencies: ["Media", "CDRM", "CALSA", "CYUV", "CPNG", "CZlib"], swiftSettings: strict),
        .target(
            name: "Appliance",
            dependencies: ["Signaling", "SignalingCore", "Peer", "Codec", "Capture", "Display", "Media", "TOMLConfig", "CEvdev", "CGlibc",
                           "SystemCrypto",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // MARK: Executables
        .executableTarget(
            name: "videophone",
            dependencies: ["Signaling", "SignalingCore", "Capture", "Display", "Appliance", "TOMLConfig", "SystemCrypto",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict, linkerSettings: lean
        ),
        // The appliance daemon (systemd Type=notify).
        .executableTarget(
            name: "videophoned",
            dependencies: ["Appliance", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict, linkerSettings: lean
        ),
        // Media path benchmark: codec floor vs. our RTP + jitter buffer path (scripts/bench-media); not a test.
        .executableTarget(name: "codec-bench", dependencies: ["Codec", "Media", "Peer", "Capture", "CSocketBatch"], swiftSettings: strict,
                          linkerSettings: lean),
        // Load benchmark for videophone-server (scripts/bench-signaling); not a test.
        .executableTarget(name: "signaling-load", dependencies: ["Signaling", "SignalingCore",
                                                                 .product(name: "Logging", package: "swift-log")],
                          swiftSettings: strict),
        // libFuzzer entry for the signaling decoders and the Peer parsers (FUZZ_TARGET=signaling|peer;
        // scripts/fuzz builds it with -sanitize=fuzzer -DFUZZING); a plain build is a corpus-replay tool.
        .executableTarget(name: "fuzz", dependencies: ["SignalingCore", "Peer"], swiftSettings: strict),

        // MARK: Tests
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "SignalingCoreTests", dependencies: ["SignalingCore"], swiftSettings: strict),
        .testTarget(name: "SignalingTests", dependencies: ["Signaling", "SignalingCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "TOMLConfigTests", dependencies: ["TOMLConfig"], swiftSettings: strict),
        .testTarget(name: "RoomServerTests", dependencies: ["RoomServer"], swiftSettings: strict),
        .testTarget(name: "SignalingServerTests", dependencies: ["SignalingServer", "Signaling", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "PeerTests", dependencies: ["Peer", "Media", "TestSupport", "SystemCrypto"], exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "SystemCryptoTests", dependencies: ["SystemCrypto", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CodecTests", dependencies: ["Codec", "Media", "CGlibc", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ApplianceTests", dependencies: ["Appliance", "SignalingCore", "TOMLConfig", "TestSupport", "CGlibc", "SystemCrypto"],
                    swiftSettings: strict),
        // Tier 3: real kernel drivers in a QEMU guest (vivid, virtio-gpu, snd-aloop, uinput).
        .testTarget(name: "HardwareTests", dependencies: ["Capture", "Display", "Appliance", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "MediaDeviceTests", dependencies: ["Media", "Capture", "Display"], swiftSettings: strict),
        .testTarget(name: "CBindingTests", dependencies: ["Peer", "Capture", "Display", "Appliance"], swiftSettings: strict),
    ]
)

// `VIDEOPHONE_TEST_FOCUS=PeerTests,CodecTests swift build --build-tests` builds only those test targets
// (and what they need): for iterating on one module while others are mid-change. CI never sets it.
if let focus = Context.environment["VIDEOPHONE_TEST_FOCUS"], !focus.isEmpty {
    let keep = Set(focus.split(separator: ",").map { String($0) })
    package.targets.removeAll { $0.type == .test && !keep.contains($0.name) }
}
