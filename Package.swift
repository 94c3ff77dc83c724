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
        .executable(name: "queue-benchmark", targets: ["queue-benchmark"]),
        .executable(name: "signed-requests", targets: ["signed-requests"]),
        .library(name: "ISchedule", targets: ["ISchedule"]),
        .library(name: "DKIM", targets: ["DKIM"]),
        .library(name: "Transport", targets: ["Transport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C system libraries: a module map and a shim header each.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CResolv", providers: [.apt(["libc6-dev"])]),
        .systemLibrary(name: "CLibXML2", providers: [.apt(["libxml2-dev"])]),

        // Pure protocol core: no I/O.
        .target(name: "ISchedule", dependencies: ["CLibXML2"], swiftSettings: strict),
        .target(name: "DKIM", dependencies: ["COpenSSL"], swiftSettings: strict),

        // I/O at the edges: DNS (libresolv), HTTP and SMTP (libcurl).
        .target(name: "Transport", dependencies: ["CResolv", "CCurl", "COpenSSL", "DKIM"], swiftSettings: strict),

        // The gateway service, one folder per stage of the pipeline.
        .target(
            name: "Gateway",
            dependencies: [
                "ISchedule", "DKIM", "Transport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "ischedule-gateway",
            dependencies: [
                "ISchedule", "DKIM", "Transport", "Gateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Benchmarks print figures; they are never run as tests.
        .executableTarget(name: "dkim-benchmark", dependencies: ["DKIM", "ISchedule"], path: "Benchmarks/dkim-benchmark",
                          swiftSettings: strict),
        .executableTarget(name: "queue-benchmark", dependencies: [
            "Gateway", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
        ], path: "Benchmarks/queue-benchmark", swiftSettings: strict),
        .executableTarget(name: "signed-requests", dependencies: ["DKIM"], path: "Benchmarks/signed-requests", swiftSettings: strict),

        // libFuzzer targets (see docs/testing.md, "Fuzzing"); without -DFUZZING they replay corpus files.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport", swiftSettings: strict),
        .executableTarget(name: "fuzz-dkim-tags", dependencies: ["DKIM", "FuzzSupport"],
                          path: "Fuzz/fuzz-dkim-tags", swiftSettings: strict),
        .executableTarget(name: "fuzz-header-canonicalization", dependencies: ["DKIM", "FuzzSupport"],
                          path: "Fuzz/fuzz-header-canonicalization", swiftSettings: strict),
        .executableTarget(name: "fuzz-icalendar", dependencies: ["ISchedule", "FuzzSupport"],
                          path: "Fuzz/fuzz-icalendar", swiftSettings: strict),
        .executableTarget(name: "fuzz-xml", dependencies: ["ISchedule", "FuzzSupport"],
                          path: "Fuzz/fuzz-xml", swiftSettings: strict),
        .executableTarget(name: "fuzz-mail", dependencies: ["ISchedule", "FuzzSupport"],
                          path: "Fuzz/fuzz-mail", swiftSettings: strict),
        .executableTarget(name: "fuzz-address", dependencies: ["ISchedule", "FuzzSupport"],
                          path: "Fuzz/fuzz-address", swiftSettings: strict),
        .executableTarget(name: "fuzz-freebusy", dependencies: ["ISchedule", "FuzzSupport"],
                          path: "Fuzz/fuzz-freebusy", swiftSettings: strict),

        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .target(name: "TestTraits", path: "Tests/TestTraits", swiftSettings: strict),
        .testTarget(name: "IScheduleTests", dependencies: ["ISchedule", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "DKIMTests", dependencies: ["DKIM", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "GatewayTests", dependencies: [
            "Gateway", "TestSupport", "TestTraits", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ], swiftSettings: strict),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "TestSupport", "TestTraits"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["ischedule-gateway", "DKIM", "Transport", "TestSupport", "TestTraits"], swiftSettings: strict),
        .testTarget(name: "ServiceTests", dependencies: ["ischedule-gateway", "Gateway", "ISchedule", "DKIM", "TestSupport", "TestTraits"],
                    swiftSettings: strict),
        .testTarget(name: "CInteropTests", dependencies: ["CCurl", "CResolv"], swiftSettings: strict),
    ]
)
