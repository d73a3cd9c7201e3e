// swift-tools-version: 6.0
import PackageDescription

// Targets follow ../shared/DESIGN.md; dependencies point down, and every target lists each
// target it imports (no import reaches past this graph):
//   DriftStats → CLAPACK                      numerics, no I/O
//   DriftCore → DriftStats                    the domain: schema, baselines, windows, reports, episodes, gate
//   DriftTabular → DriftCore                  tabular input: CSV, exact number parsing, tables from batches
//   DriftSimulation → DriftCore, DriftStats   seeded demo and bench data, detection-rate simulations
//   DriftIngest → DriftCore, DriftTabular     every wire format into ObservationBatch
//   DriftStore → DriftCore                    the Store protocol and its backends: SQLite (GRDB), PostgreSQL (postgres-nio)
//   DriftActions → DriftCore, DriftStore      every outbound call (Alertmanager, Kubernetes, Argo, MLflow,
//                                             webhooks) and the outbox dispatcher; no Hummingbird, no config file
//   DriftServer → all of the above but DriftSimulation
//   driftwatch → all of the above
// The statistics core has no package dependencies so that it builds in seconds; the
// server stack (Hummingbird, GRDB, Prometheus) only comes in with the service targets.
let package = Package(
    name: "driftwatch",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "driftwatch", targets: ["driftwatch"]),
        .library(name: "DriftStats", targets: ["DriftStats"]),
        .library(name: "DriftCore", targets: ["DriftCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLAPACK",
            path: "Sources/CLAPACK",
            providers: [.apt(["liblapacke-dev", "liblapack-dev", "libopenblas-dev"])]
        ),
        .target(name: "DriftStats", dependencies: ["CLAPACK"]),
        .target(name: "DriftCore", dependencies: ["DriftStats"]),
        .target(name: "DriftTabular", dependencies: ["DriftCore"]),
        .target(name: "DriftSimulation", dependencies: ["DriftCore", "DriftStats"]),
        // Decoding of every ingest format into ObservationBatch, and the compact batch
        // encoding the store keeps (protobuf, generated code committed).
        .target(
            name: "DriftIngest",
            dependencies: [
                "DriftCore", "DriftTabular",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["driftwatch.proto"]
        ),
        .target(
            name: "DriftStore",
            dependencies: [
                "DriftCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Outbound calls with Codable DTOs, the Action enum and the one outbox dispatcher.
        .target(
            name: "DriftActions",
            dependencies: [
                "DriftCore", "DriftStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "DriftServer",
            dependencies: [
                "DriftStats", "DriftCore", "DriftTabular", "DriftIngest", "DriftStore", "DriftActions",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Outbound HTTP (AsyncHTTPClient, NIOSSL) only through DriftActions.
                // The HTTP/1 error handler (HTTPErrorHandler) sits in the channel pipeline.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        .executableTarget(
            name: "driftwatch",
            dependencies: [
                "DriftStats", "DriftCore", "DriftTabular", "DriftSimulation", "DriftIngest", "DriftStore", "DriftServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Golden fixtures live in Tests/Fixtures and are found through #filePath.
        .testTarget(name: "DriftStatsTests", dependencies: ["DriftStats"]),
        .testTarget(name: "DriftCoreTests", dependencies: ["DriftCore", "DriftStats", "DriftSimulation"]),
        .testTarget(name: "DriftTabularTests", dependencies: ["DriftTabular", "DriftCore"]),
        .testTarget(name: "DriftIngestTests", dependencies: ["DriftIngest", "DriftCore", "DriftTabular", "DriftSimulation"]),
        // Real peers the tests start (a PostgreSQL server), shared by the test targets.
        .target(name: "DriftTestSupport", path: "Tests/DriftTestSupport"),
        .testTarget(name: "DriftStoreTests", dependencies: ["DriftStore", "DriftCore", "DriftTestSupport"]),
        .testTarget(name: "DriftActionsTests", dependencies: ["DriftActions", "DriftStore", "DriftCore"]),
        .testTarget(name: "DriftServerTests", dependencies: [
            "DriftServer", "DriftActions", "DriftCore", "DriftStats", "DriftStore", "DriftIngest", "DriftTabular", "DriftSimulation",
            "DriftTestSupport",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // Runs the built executable end to end (exit codes, output formats, errors).
        .testTarget(name: "driftwatchTests", dependencies: ["driftwatch", "DriftCore", "DriftSimulation", "DriftTestSupport"]),
    ]
)
