// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "ischedule-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ischedule-gateway", targets: ["ischedule-gateway"]),
        .executable(name: "dkim-benchmark", targets: ["dkim-benchmark"]),
        .library(name: "ISchedule", targets: ["ISchedule"]),
        .library(name: "DKIM", targets: ["DKIM"]),
        .library(name: "Transport", targets: ["Transport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C system libraries: a module map and a shim header each.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CResolv", providers: [.apt(["libc6-dev"])]),

        // Pure protocol core: no I/O.
        .target(name: "ISchedule", swiftSettings: strict),
        .target(name: "DKIM", dependencies: ["COpenSSL"], swiftSettings: strict),

        // I/O at the edges: DNS (libresolv) and, with the transport issue, HTTP/SMTP (libcurl).
        .target(name: "Transport", dependencies: ["CResolv", "CCurl", "DKIM"], swiftSettings: strict),

        // The gateway service, one folder per stage (Discovery/ now; the rest with the service issue).
        .target(name: "Gateway", dependencies: ["ISchedule", "DKIM", "Transport"], swiftSettings: strict),

        .executableTarget(
            name: "ischedule-gateway",
            dependencies: [
                "ISchedule", "DKIM", "Transport", "Gateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // Benchmarks print figures; they are never run as tests.
        .executableTarget(name: "dkim-benchmark", dependencies: ["DKIM"], path: "Benchmarks/dkim-benchmark",
                          swiftSettings: strict),

        // libFuzzer targets (see README "Fuzzing"); without -DFUZZING they replay corpus files.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport", swiftSettings: strict),
        .executableTarget(name: "fuzz-dkim-tags", dependencies: ["DKIM", "FuzzSupport"],
                          path: "Fuzz/fuzz-dkim-tags", swiftSettings: strict),
        .executableTarget(name: "fuzz-header-canonicalization", dependencies: ["DKIM", "FuzzSupport"],
                          path: "Fuzz/fuzz-header-canonicalization", swiftSettings: strict),
        .executableTarget(name: "fuzz-icalendar", dependencies: ["ISchedule", "FuzzSupport"],
                          path: "Fuzz/fuzz-icalendar", swiftSettings: strict),
        .executableTarget(name: "fuzz-xml", dependencies: ["ISchedule", "FuzzSupport"],
                          path: "Fuzz/fuzz-xml", swiftSettings: strict),

        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "IScheduleTests", dependencies: ["ISchedule", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "DKIMTests", dependencies: ["DKIM", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["ischedule-gateway", "DKIM", "Transport", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CInteropTests", dependencies: ["CCurl", "CResolv"], swiftSettings: strict),
    ]
)
