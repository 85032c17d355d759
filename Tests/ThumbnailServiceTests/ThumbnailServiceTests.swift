// The thumbnail service: recipe names, one decode for all sizes, idempotence, clean-up, role checks.
import Foundation
import ImageCore
import Logging
import PipelineCore
import Testing

@testable import ThumbnailService

struct ThumbnailServiceTests {
    /// A derivative's path reads back into its size, hash and recipe, and every content's file of one recipe shares
    /// its recipe key (what `thumbnails --prune` and the S3 bucket compare with the recipes in force); names picpipe
    /// did not give are no thumbnail paths.
    @Test func aThumbnailPathReadsBackIntoItsSizeHashAndRecipe() throws {
        let hash = try #require(ContentHash(hex: "ab" + String(repeating: "0", count: 62)))
        for recipe in [
            ThumbnailRecipe(size: 256), ThumbnailRecipe(size: 128, format: .webp, quality: 85),
            ThumbnailRecipe(size: 1024, fit: .cover, format: .avif, quality: 70, speed: 6),
        ] {
            let path = try #require(ThumbnailPath(recipe.relativePath(for: hash)))
            #expect(path.sizeLabel == recipe.sizeLabel && path.hash == hash)
            #expect(path.recipeKey == ThumbnailPath.recipeKey(of: recipe))
            #expect(ThumbnailPath.recipeKey(ofPath: recipe.relativePath(for: hash)) == path.recipeKey)
        }
        #expect(ThumbnailPath.recipeKey(of: ThumbnailRecipe(size: 256)) == "256/inside-q82-srgb.jpg")
        let zeros = String(repeating: "0", count: 62)
        for other in [
            "256/notes.txt", "256/ab/.picpipe-tmp-x", "256/cd/ab\(zeros)-inside.jpg", "ab\(zeros)-inside.jpg",
            "/ab/x", "256/ab/" + String(repeating: "z", count: 64) + "-q.jpg",
        ] {
            #expect(ThumbnailPath(other) == nil, "\(other)")
        }
    }

    /// A 400x300 gradient with a red block in the top-left corner, encoded as `format`.
    static func picture(_ format: ImageFormat, width: Int = 400, height: Int = 300) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                let corner = x < width / 4 && y < height / 4
                bytes[i] = corner ? 255 : UInt8(x * 255 / width)
                bytes[i + 1] = corner ? 0 : UInt8(y * 255 / height)
                bytes[i + 2] = corner ? 0 : 128
            }
        }
        return try ImageEncoder.encode(
            PixelBuffer(width: width, height: height, channels: 3, bytes: bytes), format: format, quality: 95)
    }

    static func withStore(_ body: (StoreLayout) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("thumbs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        try await body(layout)
    }

    static func header(_ url: URL) throws -> ImageHeader {
        let data = try Data(contentsOf: url)
        return try data.withUnsafeBytes { try ImageHeader.read(from: $0) }
    }

    @Test func recipeNameDependsOnEveryField() throws {
        let hash = try #require(ContentHash(hex: String(repeating: "ab", count: 32)))
        let base = ThumbnailRecipe(size: 256)
        #expect(base.relativePath(for: hash) == "256/ab/\(hash.hex)-inside-q82-srgb.jpg")
        let variants = [
            ThumbnailRecipe(size: 128), ThumbnailRecipe(size: 256, fit: .cover),
            ThumbnailRecipe(size: 256, format: .png),
            ThumbnailRecipe(size: 256, quality: 90), ThumbnailRecipe(size: 256, progressive: true),
            ThumbnailRecipe(size: 256, background: RGBColor(red: 0, green: 0, blue: 0)),
            ThumbnailRecipe(spec: ThumbnailSpec(width: 256, height: 128)),
            ThumbnailRecipe(size: 256, color: .keep),
        ]
        let names = Set(([base] + variants).map { $0.relativePath(for: hash) })
        #expect(names.count == variants.count + 1)
    }

    @Test(arguments: [ImageFormat.jpeg, .png])
    func oneDecodeServesAllSizesAndRerunsSkip(format: ImageFormat) async throws {
        try await Self.withStore { layout in
            let bytes = try Self.picture(format)
            let hash = bytes.withUnsafeBytes { ContentHash(of: $0) }
            let recipes = [64, 128, 1024].map { ThumbnailRecipe(size: $0) }
            let thumbnails = try layout.handles(for: FunctionRole(write: [.thumbnails]), function: "thumbnail")
                .handle(.thumbnails, .write)
            let first = try bytes.withUnsafeBytes {
                try ThumbnailGenerator.generate(
                    original: $0, hash: hash, recipes: recipes, limits: .default, into: thumbnails)
            }
            #expect(first.createdCount == 3)
            let sizes = try first.thumbnails.map { try Self.header(thumbnails.url($0.relativePath)) }
            #expect(sizes.map(\.width) == [64, 128, 400])  // 1024 never upscales
            #expect(sizes.map(\.height) == [48, 96, 300])
            #expect(sizes.allSatisfy { $0.format == .jpeg })
            let second = try bytes.withUnsafeBytes {
                try ThumbnailGenerator.generate(
                    original: $0, hash: hash, recipes: recipes, limits: .default, into: thumbnails)
            }
            #expect(second.createdCount == 0)
            #expect(try ThumbnailGenerator.removeAll(hash: hash, from: thumbnails).count == 3)
            #expect(PicpipeFiles.regularFiles(under: layout.thumbnails).isEmpty)
        }
    }

    /// A tagged original gets one file per colour rule; a thumbnail an earlier version wrote under the name without
    /// the rule (unconverted) is not taken for the converted one, and deleting the image removes it too.
    @Test func colourRuleHasItsOwnFileAndOldNamesAreNotReused() async throws {
        try await Self.withStore { layout in
            let profile = try #require(ColorProfile.adobeRGB)
            let pixels = PixelBuffer(width: 40, height: 30, filledWith: [20, 200, 60])
            let bytes = try ImageEncoder.encode(pixels, format: .jpeg, quality: 95, iccProfile: profile.bytes)
            let hash = bytes.withUnsafeBytes { ContentHash(of: $0) }
            let thumbnails = try layout.handles(for: FunctionRole(write: [.thumbnails]), function: "thumbnail")
                .handle(.thumbnails, .write)
            let legacy = "64/\(hash.shard)/\(hash.hex)-inside-q82.jpg"
            try thumbnails.write(try ImageEncoder.encode(pixels, format: .jpeg), to: legacy)
            let recipes = [ThumbnailRecipe(size: 64), ThumbnailRecipe(size: 64, color: .keep)]
            let outcome = try bytes.withUnsafeBytes {
                try ThumbnailGenerator.generate(
                    original: $0, hash: hash, recipes: recipes, limits: .default, into: thumbnails)
            }
            #expect(outcome.createdCount == 2)
            #expect(outcome.colorProfile == "Adobe RGB (1998) compatible, built by picpipe")
            #expect(outcome.thumbnails.map(\.relativePath).allSatisfy { $0 != legacy })
            let decoded = try outcome.thumbnails.map { entry in
                try Data(contentsOf: thumbnails.url(entry.relativePath)).withUnsafeBytes {
                    try ImageDecoder.decode($0, limits: .default, minimumSize: nil)
                }
            }
            #expect(decoded[0].colorProfile == nil)
            #expect(decoded[1].colorProfile == profile)
            #expect(decoded[0].pixels != decoded[1].pixels)
            #expect(try ThumbnailGenerator.removeAll(hash: hash, from: thumbnails).count == 3)
        }
    }

    @Test func functionHonoursItsRoleAndReportsPoison() async throws {
        try await Self.withStore { layout in
            let originals = try layout.handles(for: FunctionRole(write: [.originals]), function: "ingest")
                .handle(.originals, .write)
            let good = try OriginalIngest.ingest(
                Data(try Self.picture(.jpeg)), name: "good.jpg", maxBytes: 1 << 30, into: originals)
            let function = ThumbnailFunction(recipes: [ThumbnailRecipe(size: 100)], limits: .default)
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: "store", key: good.key, size: good.size, eTag: good.hash.hex,
                sequence: 1)

            // With its own role it works, and reports what it made.
            let result = try await function.handle(record, context: Self.context(layout, role: function.role))
            #expect(result["changed"] == .bool(true))
            #expect(
                FileManager.default.fileExists(
                    atPath: layout.thumbnails.appendingPathComponent(
                        ThumbnailRecipe(size: 100).relativePath(for: good.hash)
                    ).path))

            // A role without thumbnails write access fails when the function tries to write.
            let readOnly = FunctionRole(read: [.originals, .thumbnails])
            await #expect(throws: StoreError.accessDenied(area: .thumbnails, access: .write, function: "thumbnail")) {
                _ = try await function.handle(record, context: Self.context(layout, role: readOnly))
            }

            // A truncated JPEG is unprocessable (poison), not a crash.
            let truncated = Data(try Self.picture(.jpeg).prefix(600))
            let bad = try OriginalIngest.ingest(truncated, name: "bad.jpg", maxBytes: 1 << 30, into: originals)
            let badRecord = S3EventRecord(
                name: .objectCreatedPut, bucket: "store", key: bad.key, size: bad.size, eTag: bad.hash.hex, sequence: 2,
                sourceName: "bad.jpg")
            await #expect {
                _ = try await function.handle(badRecord, context: Self.context(layout, role: function.role))
            } throws: { error in
                guard case FunctionError.unprocessable(let file, let reason) = error else { return false }
                return file == "bad.jpg" && !reason.isEmpty
            }

            // ObjectRemoved removes the derivatives once the original is gone; while it is in the store, nothing.
            let removal = S3EventRecord(
                name: .objectRemovedDelete, bucket: "store", key: good.key, size: good.size, eTag: good.hash.hex,
                sequence: 3)
            let early = try await function.handle(removal, context: Self.context(layout, role: function.role))
            #expect(early["removed"] == .array([]))
            #expect(!PicpipeFiles.regularFiles(under: layout.thumbnails).isEmpty)
            try FileManager.default.removeItem(
                at: layout.originals.appendingPathComponent(String(good.key.dropFirst("originals/".count))))
            let removed = try await function.handle(removal, context: Self.context(layout, role: function.role))
            #expect(
                removed["removed"]
                    == .array([.string("thumbnails/" + ThumbnailRecipe(size: 100).relativePath(for: good.hash))]))
            #expect(PicpipeFiles.regularFiles(under: layout.thumbnails).isEmpty)
        }
    }

    static func context(_ layout: StoreLayout, role: FunctionRole) -> FunctionContext {
        FunctionContext(
            configuration: FunctionConfiguration(), store: layout.handles(for: role, function: "thumbnail"),
            // A deadline no loaded CI run reaches: nothing here is about timeouts (a function checks it before it
            // writes).
            logger: Logger(label: "test"), deadline: .now + .seconds(3600), invocationID: "test")
    }
}

/// Listing files in tests.
enum PicpipeFiles {
    static func regularFiles(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var found: [String] = []
        for case let url as URL in walker
        where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            found.append(url.path)
        }
        return found
    }
}
