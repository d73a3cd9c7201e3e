// swift-tools-version: 6.0
import PackageDescription

// Targets follow ../shared/DESIGN.md: dependencies point down
// (driftwatch → DriftCore → DriftStats → CLAPACK). The statistics core has no
// package dependencies so that it builds in seconds; the server stack comes
// with the service targets.
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
    ],
    targets: [
        .systemLibrary(
            name: "CLAPACK",
            path: "Sources/CLAPACK",
            providers: [.apt(["liblapacke-dev", "liblapack-dev", "libopenblas-dev"])]
        ),
        .target(name: "DriftStats", dependencies: ["CLAPACK"]),
        .target(name: "DriftCore", dependencies: ["DriftStats"]),
        .executableTarget(
            name: "driftwatch",
            dependencies: [
                "DriftCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Golden fixtures live in Tests/Fixtures and are found through #filePath.
        .testTarget(name: "DriftStatsTests", dependencies: ["DriftStats"]),
        .testTarget(name: "DriftCoreTests", dependencies: ["DriftCore"]),
        // Runs the built executable end to end (exit codes, output formats, errors).
        .testTarget(name: "driftwatchTests", dependencies: ["driftwatch"]),
    ]
)
