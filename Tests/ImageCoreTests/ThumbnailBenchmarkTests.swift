// Timing of the whole render for the reference workloads; runs only with PICPIPE_BENCH=1 (and is meaningful only
// in a release build: `swift test -c release --filter ThumbnailBenchmarkTests`). Prints figures, asserts pixels.

import Foundation
import ImageCore
import Testing

@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["PICPIPE_BENCH"] == "1"))
struct ThumbnailBenchmarkTests {
    static func cpuMilliseconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) * 1000 + Double(usage.ru_utime.tv_usec) / 1000
        let system = Double(usage.ru_stime.tv_sec) * 1000 + Double(usage.ru_stime.tv_usec) / 1000
        return user + system
    }

    static func measure(_ name: String, file: [UInt8], spec: ThumbnailSpec, runs: Int = 20) throws {
        _ = try TestPictures.render(file, [spec])
        let start = Self.cpuMilliseconds()
        let clock = ContinuousClock.now
        var render: ThumbnailRender?
        for _ in 0..<runs { render = try TestPictures.render(file, [spec]) }
        let cpu = (Self.cpuMilliseconds() - start) / Double(runs)
        let wall = (ContinuousClock.now - clock) / runs
        let thumbnail = try #require(render?.thumbnails.first)
        print(
            "BENCH \(name): \(String(format: "%.1f", cpu)) ms CPU, \(wall) wall per image; shrink \(render?.shrink ?? 0), \(thumbnail.width)x\(thumbnail.height), \(thumbnail.bytes.count) bytes"
        )
        #expect(max(thumbnail.width, thumbnail.height) == 256)
    }

    static func writeIfRequested(_ name: String, _ bytes: [UInt8]) {
        guard let folder = ProcessInfo.processInfo.environment["PICPIPE_BENCH_OUT"] else { return }
        _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes))
    }

    @Test func jpeg12Megapixels() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 4000, height: 3000), format: .jpeg, quality: 90)
        Self.writeIfRequested("bench-4000x3000.jpg", file)
        try Self.measure(
            "jpeg 4000x3000 q90 -> 256 q85", file: file, spec: ThumbnailSpec(width: 256, height: 256, quality: 85))
    }

    @Test func pngRGB() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 2000, height: 1500), format: .png)
        Self.writeIfRequested("bench-2000x1500-rgb.png", file)
        try Self.measure(
            "png rgb 2000x1500 -> 256 jpeg", file: file, spec: ThumbnailSpec(width: 256, height: 256, quality: 85),
            runs: 10)
    }

    @Test func pngRGBA() throws {
        let photo = TestPictures.photo(width: 2000, height: 1500)
        var bytes = [UInt8]()
        bytes.reserveCapacity(2000 * 1500 * 4)
        for index in 0..<(2000 * 1500) {
            bytes += photo.bytes[(index * 3)..<(index * 3 + 3)]
            bytes.append(UInt8(truncatingIfNeeded: index % 2000 / 8))
        }
        let file = try ImageEncoder.encode(
            PixelBuffer(width: 2000, height: 1500, channels: 4, bytes: bytes), format: .png)
        Self.writeIfRequested("bench-2000x1500-rgba.png", file)
        try Self.measure(
            "png rgba 2000x1500 -> 256 png", file: file, spec: ThumbnailSpec(width: 256, height: 256, format: .png),
            runs: 10)
    }

    /// What colour management costs on a 12 MP JPEG: untagged, tagged sRGB (recognised, not converted), tagged
    /// Adobe RGB converted to sRGB and kept; then the parts alone: a profile seen for the first time (open, check,
    /// build the transform) and the conversion of a 256 px and a 1024 px thumbnail.
    @Test func colourManagementCost() throws {
        let photo = TestPictures.photo(width: 4000, height: 3000)
        let adobe = try #require(ColorProfile.adobeRGB)
        let spec = ThumbnailSpec(width: 256, height: 256, quality: 85)
        let untagged = try ImageEncoder.encode(photo, format: .jpeg, quality: 90)
        try Self.measure("colour: jpeg 4000x3000 untagged", file: untagged, spec: spec)
        if let sRGB = try? Data(contentsOf: URL(fileURLWithPath: "/usr/share/color/icc/sRGB.icc")) {
            let tagged = try ImageEncoder.encode(photo, format: .jpeg, quality: 90, iccProfile: [UInt8](sRGB))
            try Self.measure("colour: jpeg 4000x3000 sRGB-tagged", file: tagged, spec: spec)
        }
        let tagged = try ImageEncoder.encode(photo, format: .jpeg, quality: 90, iccProfile: adobe.bytes)
        try Self.measure("colour: jpeg 4000x3000 Adobe RGB, srgb", file: tagged, spec: spec)
        var keep = spec
        keep.color = .keep
        try Self.measure("colour: jpeg 4000x3000 Adobe RGB, keep", file: tagged, spec: keep)

        // Profiles never seen before: the reserved header bytes 100-127 made unique, so the cache misses.
        let runs = 20
        var start = Self.cpuMilliseconds()
        for run in 0..<runs {
            var bytes = adobe.bytes
            bytes[120] = UInt8(run)
            bytes[121] = 0xA5
            _ = try #require(ColorProfile.read(bytes))
        }
        let firstSight = (Self.cpuMilliseconds() - start) / Double(runs)
        print("BENCH colour: first sight of a profile \(String(format: "%.2f", firstSight)) ms CPU")
        for (width, height) in [(256, 192), (1024, 768)] {
            let picture = TestPictures.photo(width: width, height: height)
            start = Self.cpuMilliseconds()
            for _ in 0..<runs { _ = try #require(adobe.convertedToSRGB(picture)) }
            let each = (Self.cpuMilliseconds() - start) / Double(runs)
            print("BENCH colour: converting \(width)x\(height) \(String(format: "%.2f", each)) ms CPU")
        }
    }

    /// Files named in PICPIPE_BENCH_FILES (colon-separated paths), e.g. real camera pictures.
    @Test func namedFiles() throws {
        let paths = ProcessInfo.processInfo.environment["PICPIPE_BENCH_FILES"]?.split(separator: ":") ?? []
        for path in paths {
            let file = Array(try Data(contentsOf: URL(fileURLWithPath: String(path))))
            try Self.measure(
                String(path.split(separator: "/").last ?? path), file: file,
                spec: ThumbnailSpec(width: 256, height: 256, quality: 85), runs: 10)
        }
    }
}
