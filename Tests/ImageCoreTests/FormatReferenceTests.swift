// WebP, GIF, HEIC and AVIF against the reference tools: files made by Debian's encoders, picpipe's decode compared
// with the reference decoders' (PSNR >= 40 dB), orientation, first frames, alpha, damaged files refused, and
// picpipe's own WebP and AVIF decoded back by dwebp, avifdec and heif-convert.
import Foundation
import ImageCore
import Testing

@Suite(.serialized) struct FormatReferenceTests {
    /// The decode tolerance the issue states: PSNR of at least 40 dB against the reference decode.
    static let minimumPSNR = 40.0

    // MARK: Inputs

    @Test func webpStillDecodesLikeDwebp() throws {
        guard ReferenceTools.available("cwebp", "dwebp") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("photo.png")
        try ReferenceTools.writePNG(TestPictures.photo(width: 203, height: 151), to: source)
        for (name, options) in [("lossy.webp", ["-q", "85"]), ("lossless.webp", ["-lossless"])] {
            let file = work.appendingPathComponent(name)
            try ReferenceTools.run("cwebp", ["-quiet"] + options + [source.path, "-o", file.path])
            let reference = work.appendingPathComponent(name + ".png")
            try ReferenceTools.run("dwebp", [file.path, "-o", reference.path])
            let ours = try ReferenceTools.decode(ReferenceTools.bytes(file))
            #expect(ours.header.format == .webp)
            #expect(ours.header.width == 203 && ours.header.height == 151)
            let psnr = ReferenceTools.psnr(ours.pixels, try ReferenceTools.decodePNG(reference))
            #expect(psnr >= Self.minimumPSNR, "\(name): \(psnr) dB")
        }
    }

    @Test func webpWithAlphaKeepsIt() throws {
        guard ReferenceTools.available("cwebp", "dwebp") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("alpha.png")
        let picture = ReferenceTools.translucentPhoto(width: 90, height: 60)
        try ReferenceTools.writePNG(picture, to: source)
        let file = work.appendingPathComponent("alpha.webp")
        try ReferenceTools.run("cwebp", ["-quiet", "-lossless", "-exact", source.path, "-o", file.path])
        let reference = work.appendingPathComponent("alpha.webp.png")
        try ReferenceTools.run("dwebp", [file.path, "-o", reference.path])
        let ours = try ReferenceTools.decode(ReferenceTools.bytes(file)).pixels
        #expect(ours.channels == 4)
        #expect(ours == picture, "lossless WebP with alpha decodes to the exact source")
        #expect(ReferenceTools.psnr(ours, try ReferenceTools.decodePNG(reference)) == .infinity)
    }

    @Test func animatedWebPGivesItsFirstFrame() throws {
        guard ReferenceTools.available("img2webp") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let first = TestPictures.photo(width: 80, height: 50)
        let second = PixelBuffer(width: 80, height: 50, filledWith: [0, 0, 255])
        let (a, b) = (work.appendingPathComponent("a.png"), work.appendingPathComponent("b.png"))
        try ReferenceTools.writePNG(first, to: a)
        try ReferenceTools.writePNG(second, to: b)
        let file = work.appendingPathComponent("anim.webp")
        try ReferenceTools.run("img2webp", ["-loop", "0", "-lossless", "-d", "100", a.path, b.path, "-o", file.path])
        let decoded = try ReferenceTools.decode(ReferenceTools.bytes(file))
        #expect(decoded.header.width == 80 && decoded.header.height == 50)
        #expect(decoded.pixels == first, "the first frame, exactly (lossless), not the second")
    }

    @Test func gifFirstFramePaletteAndTransparency() throws {
        guard ReferenceTools.available("convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        // A still GIF of a photo (quantised to 256 colours by ImageMagick) against ImageMagick's own decode.
        let photo = work.appendingPathComponent("photo.png")
        try ReferenceTools.writePNG(TestPictures.photo(width: 120, height: 90), to: photo)
        let still = work.appendingPathComponent("still.gif")
        try ReferenceTools.run("convert", [photo.path, still.path])
        let stillReference = work.appendingPathComponent("still.gif.png")
        try ReferenceTools.run("convert", [still.path + "[0]", "PNG24:" + stillReference.path])
        let ours = try ReferenceTools.decode(ReferenceTools.bytes(still))
        #expect(ours.header.format == .gif && ours.pixels.channels == 3)
        let psnr = ReferenceTools.psnr(ours.pixels, try ReferenceTools.decodePNG(stillReference))
        #expect(psnr >= Self.minimumPSNR, "still GIF: \(psnr) dB")

        // Transparency: the left third transparent, the rest opaque (GIF has no partial alpha).
        var cutOut = TestPictures.quadrants(width: 60, height: 40)
        var rgba = [UInt8]()
        for index in 0..<(60 * 40) {
            let x = index % 60
            rgba += x < 20 ? [0, 0, 0, 0] : Array(cutOut.bytes[(index * 3)..<(index * 3 + 3)]) + [255]
        }
        cutOut = PixelBuffer(width: 60, height: 40, channels: 4, bytes: rgba)
        let cutOutPNG = work.appendingPathComponent("cut.png")
        try ReferenceTools.writePNG(cutOut, to: cutOutPNG)
        let transparent = work.appendingPathComponent("cut.gif")
        try ReferenceTools.run("convert", [cutOutPNG.path, transparent.path])
        let decoded = try ReferenceTools.decode(ReferenceTools.bytes(transparent)).pixels
        #expect(decoded.channels == 4)
        #expect(decoded.pixel(x: 5, y: 5)[decoded.pixel(x: 5, y: 5).startIndex + 3] == 0, "transparent stays so")
        #expect(Array(decoded.pixel(x: 25, y: 5)) == [255, 0, 0, 255], "red quadrant, opaque")
        #expect(Array(decoded.pixel(x: 45, y: 35)) == [255, 255, 255, 255], "white quadrant, opaque")

        // An animation: the first frame, not the second.
        let blue = work.appendingPathComponent("blue.png")
        try ReferenceTools.writePNG(PixelBuffer(width: 120, height: 90, filledWith: [0, 0, 255]), to: blue)
        let animation = work.appendingPathComponent("anim.gif")
        try ReferenceTools.run("convert", ["-delay", "10", photo.path, blue.path, "-loop", "0", animation.path])
        let frameReference = work.appendingPathComponent("anim0.png")
        try ReferenceTools.run("convert", [animation.path + "[0]", "PNG24:" + frameReference.path])
        let frame = try ReferenceTools.decode(ReferenceTools.bytes(animation)).pixels
        let framePSNR = ReferenceTools.psnr(frame, try ReferenceTools.decodePNG(frameReference))
        #expect(framePSNR >= Self.minimumPSNR, "animated GIF first frame: \(framePSNR) dB")
    }

    /// A GIF whose logical screen is smaller than its first frame, or 0x0 (written so by some encoders), shows the
    /// whole frame, as browsers and vips show it (until session 37 it was cut to the screen, or refused as "invalid
    /// dimensions 0x0"). The header's size says so too (the metadata's width and height, the pixel limit).
    @Test func aGIFScreenSmallerThanItsFirstFrameGrowsToTheFrame() throws {
        guard ReferenceTools.available("convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let photo = work.appendingPathComponent("photo.png")
        try ReferenceTools.writePNG(TestPictures.photo(width: 100, height: 60), to: photo)
        let gif = work.appendingPathComponent("frame.gif")
        try ReferenceTools.run("convert", [photo.path, gif.path])
        let intact = try ReferenceTools.bytes(gif)
        let whole = try ReferenceTools.decode(intact)
        #expect(whole.header.width == 100 && whole.header.height == 60)
        for screen in [(10, 10), (0, 0), (100, 0), (99, 60)] {
            var bytes = intact
            bytes[6] = UInt8(screen.0 & 0xFF)
            bytes[7] = UInt8(screen.0 >> 8)
            bytes[8] = UInt8(screen.1 & 0xFF)
            bytes[9] = UInt8(screen.1 >> 8)
            let decoded = try ReferenceTools.decode(bytes)
            #expect(decoded.header.width == 100 && decoded.header.height == 60, "screen \(screen)")
            #expect(decoded.pixels == whole.pixels, "screen \(screen): the whole frame, exactly")
        }
        // A screen larger than the frame stays the canvas (the frame painted at its offset, the rest transparent).
        var larger = intact
        larger[6] = 120
        let padded = try ReferenceTools.decode(larger)
        #expect(padded.header.width == 120 && padded.pixels.width == 120 && padded.pixels.channels == 4)
    }

    @Test func heicDecodesLikeHeifConvert() throws {
        guard ReferenceTools.available("heif-enc", "heif-convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("photo.png")
        try ReferenceTools.writePNG(TestPictures.photo(width: 320, height: 240), to: source)
        let file = work.appendingPathComponent("photo.heic")
        try ReferenceTools.run("heif-enc", ["-q", "90", source.path, "-o", file.path])
        let reference = work.appendingPathComponent("photo.heic.png")
        try ReferenceTools.run("heif-convert", [file.path, reference.path])
        let ours = try ReferenceTools.decode(ReferenceTools.bytes(file))
        #expect(ours.header.format == .heic && ours.header.width == 320 && ours.header.height == 240)
        let psnr = ReferenceTools.psnr(ours.pixels, try ReferenceTools.decodePNG(reference))
        #expect(psnr >= Self.minimumPSNR, "HEIC: \(psnr) dB")
    }

    /// heif-enc (libheif 1.15) copies a JPEG's EXIF, Orientation included, and stores the pixels unturned with
    /// no irot/imir: picpipe turns them by the EXIF Orientation, as it does a JPEG's. Each of the 8 orientations.
    @Test(arguments: 1...8) func heicWithEachEXIFOrientationComesOutUpright(orientation: Int) throws {
        guard ReferenceTools.available("heif-enc", "heif-convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let stored = TestPictures.quadrants(width: 64, height: 32)
        let jpeg = TestPictures.jpeg(
            try ImageEncoder.encode(stored, format: .jpeg, quality: 95),
            withEXIF: TestPictures.tiff(orientation: orientation, bigEndian: orientation % 2 == 0))
        let source = work.appendingPathComponent("o\(orientation).jpg")
        try Data(jpeg).write(to: source)
        let file = work.appendingPathComponent("o\(orientation).heic")
        try ReferenceTools.run("heif-enc", ["-q", "95", source.path, "-o", file.path])
        let reference = work.appendingPathComponent("o\(orientation).png")
        try ReferenceTools.run("heif-convert", [file.path, reference.path])
        let heic = try ReferenceTools.bytes(file)
        let header = try heic.withUnsafeBytes { try ImageHeader.read(from: $0) }
        #expect(header.orientation == orientation)
        let spec = ThumbnailSpec(width: 1000, height: 1000, format: .png)
        let thumbnail = try #require(try TestPictures.render(heic, [spec]).thumbnails.first)
        let upright = try ReferenceTools.decodePNG(reference).oriented(orientation)
        #expect(thumbnail.width == upright.width && thumbnail.height == upright.height)
        #expect((thumbnail.width, thumbnail.height) == (orientation >= 5 ? (32, 64) : (64, 32)))
        let ours = try ReferenceTools.decode(thumbnail.bytes).pixels
        let psnr = ReferenceTools.psnr(ours, upright)
        #expect(psnr >= Self.minimumPSNR, "orientation \(orientation): \(psnr) dB")
    }

    @Test func avifDecodesLikeAvifdec() throws {
        guard ReferenceTools.available("avifenc", "avifdec") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        for (name, picture) in [
            ("opaque", TestPictures.photo(width: 160, height: 120)),
            ("alpha", ReferenceTools.translucentPhoto(width: 96, height: 64)),
        ] {
            let source = work.appendingPathComponent(name + ".png")
            try ReferenceTools.writePNG(picture, to: source)
            let file = work.appendingPathComponent(name + ".avif")
            try ReferenceTools.run("avifenc", ["-s", "8", "--min", "10", "--max", "20", source.path, file.path])
            let reference = work.appendingPathComponent(name + ".avif.png")
            try ReferenceTools.run("avifdec", [file.path, reference.path])
            let ours = try ReferenceTools.decode(ReferenceTools.bytes(file))
            #expect(ours.header.format == .avif)
            #expect(ours.pixels.channels == picture.channels, "\(name)")
            let psnr = ReferenceTools.psnr(ours.pixels, try ReferenceTools.decodePNG(reference))
            #expect(psnr >= Self.minimumPSNR, "AVIF \(name): \(psnr) dB")
        }
    }

    // MARK: Damaged files

    /// Each format truncated at several points and with its header damaged: refused with an `ImageError` that
    /// says why, never a crash. Bytes flipped inside the compressed data either fail the same way or decode to
    /// the size the header declares (a decoder cannot always tell damaged entropy-coded data from a picture).
    @Test func truncatedAndCorruptFilesAreRefusedWithAReason() throws {
        guard ReferenceTools.available("cwebp", "img2webp", "convert", "heif-enc", "avifenc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("photo.png")
        try ReferenceTools.writePNG(TestPictures.photo(width: 128, height: 96), to: source)
        let second = work.appendingPathComponent("blue.png")
        try ReferenceTools.writePNG(PixelBuffer(width: 128, height: 96, filledWith: [0, 0, 255]), to: second)
        var files: [(String, [UInt8])] = []
        func make(_ name: String, _ tool: String, _ arguments: [String]) throws {
            let url = work.appendingPathComponent(name)
            try ReferenceTools.run(tool, arguments.map { $0 == "OUT" ? url.path : $0 })
            files.append((name, try ReferenceTools.bytes(url)))
        }
        try make("lossy.webp", "cwebp", ["-quiet", "-q", "80", source.path, "-o", "OUT"])
        try make("lossless.webp", "cwebp", ["-quiet", "-lossless", source.path, "-o", "OUT"])
        try make("anim.webp", "img2webp", ["-loop", "0", source.path, second.path, "-o", "OUT"])
        try make("photo.gif", "convert", [source.path, "OUT"])
        try make("photo.heic", "heif-enc", ["-q", "80", source.path, "-o", "OUT"])
        try make("photo.avif", "avifenc", ["-s", "8", source.path, "OUT"])
        for (name, file) in files {
            _ = try ReferenceTools.decode(file)  // the whole file decodes
            // A GIF without only its trailer byte still holds its whole first frame, which is all picpipe reads.
            let last = name.hasSuffix(".gif") ? file.count - 2 : file.count - 1
            for cut in [last, file.count * 3 / 4, file.count / 2, 200, 40, 13, 12, 9] where cut < file.count {
                do {
                    let decoded = try ReferenceTools.decode(Array(file.prefix(cut)))
                    Issue.record(
                        "\(name) cut at \(cut) of \(file.count) decoded to \(decoded.pixels.width)x\(decoded.pixels.height)"
                    )
                } catch let error as ImageError {
                    #expect(!error.description.isEmpty)
                }
            }
            // The header damaged: 16 bytes just after the signature (WebP's first chunk header, GIF's screen
            // descriptor, the box after HEIF's ftyp) overwritten; the format is still sniffed.
            let start = name.hasSuffix(".gif") ? 6 : name.hasSuffix(".webp") ? 12 : Int(file[3]) + Int(file[2]) << 8
            var damaged = file
            for index in start..<(start + 16) { damaged[index] = 0xFF }
            #expect(damaged.withUnsafeBytes { ImageFormat.sniff($0) } != nil)
            #expect(throws: ImageError.self, "\(name) with a damaged header") { try ReferenceTools.decode(damaged) }
            // Bytes flipped in the middle of the data: an error, or a picture of the declared size; never a crash.
            var flipped = file
            for index in stride(from: file.count / 3, to: file.count * 2 / 3, by: 7) { flipped[index] ^= 0x5A }
            do {
                let decoded = try ReferenceTools.decode(flipped)
                #expect(decoded.pixels.width == 128 && decoded.pixels.height == 96, "\(name) flipped")
            } catch let error as ImageError {
                #expect(!error.description.isEmpty)
            }
        }
    }

    /// The pixel limit is checked from the header, before any pixel buffer: a 128x96 picture of each format is
    /// refused under a 10,000-pixel limit with the header's size in the error.
    @Test func headerFirstLimitsApplyToEveryFormat() throws {
        guard ReferenceTools.available("cwebp", "convert", "heif-enc", "avifenc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("photo.png")
        try ReferenceTools.writePNG(TestPictures.photo(width: 128, height: 96), to: source)
        let made: [(String, String, [String])] = [
            ("a.webp", "cwebp", ["-quiet", source.path, "-o"]), ("a.gif", "convert", [source.path]),
            ("a.heic", "heif-enc", [source.path, "-o"]), ("a.avif", "avifenc", ["-s", "9", source.path]),
        ]
        let limits = DecodeLimits(maxPixels: 10_000)
        for (name, tool, arguments) in made {
            let url = work.appendingPathComponent(name)
            try ReferenceTools.run(tool, arguments + [url.path])
            #expect(throws: ImageError.tooManyPixels(width: 128, height: 96, limit: 10_000), "\(name)") {
                try ReferenceTools.decode(ReferenceTools.bytes(url), limits: limits)
            }
            #expect(throws: ImageError.fileTooLarge(bytes: try ReferenceTools.bytes(url).count, limit: 100)) {
                try ReferenceTools.decode(ReferenceTools.bytes(url), limits: DecodeLimits(maxFileBytes: 100))
            }
        }
    }

    // MARK: Outputs

    /// picpipe's WebP (lossy, lossless) and AVIF decoded by dwebp, avifdec and heif-convert: the lossless file
    /// is exact; the lossy ones are close to the source (>= 30 dB) and picpipe's own decode of them matches the
    /// reference decode (>= 40 dB).
    @Test func webpAndAVIFOutputsDecodeWithTheReferenceTools() throws {
        guard ReferenceTools.available("dwebp", "avifdec", "heif-convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = TestPictures.photo(width: 200, height: 150)
        let outputs: [(String, [UInt8], [String])] = [
            ("lossy.webp", try ImageEncoder.encode(source, format: .webp, quality: 90), ["dwebp"]),
            ("lossless.webp", try ImageEncoder.encode(source, format: .webp, lossless: true), ["dwebp"]),
            (
                "q80.avif", try ImageEncoder.encode(source, format: .avif, quality: 80, speed: 8),
                ["avifdec", "heif-convert"]
            ),
        ]
        for (name, file, tools) in outputs {
            let url = work.appendingPathComponent(name)
            try Data(file).write(to: url)
            for tool in tools {
                let reference = work.appendingPathComponent("\(name).\(tool).png")
                try ReferenceTools.run(
                    tool, tool == "dwebp" ? [url.path, "-o", reference.path] : [url.path, reference.path])
                let decoded = try ReferenceTools.decodePNG(reference)
                let toSource = ReferenceTools.psnr(decoded, source)
                if name.hasPrefix("lossless") {
                    #expect(toSource == .infinity, "\(name) by \(tool) is exact")
                } else {
                    #expect(toSource >= 30, "\(name) by \(tool): \(toSource) dB from the source")
                }
                let ours = try ReferenceTools.decode(file).pixels
                #expect(ReferenceTools.psnr(ours, decoded) >= Self.minimumPSNR, "\(name): ours vs \(tool)")
            }
        }
    }

    /// Alpha is flattened onto the background for JPEG and kept by PNG, WebP and AVIF (checked with the
    /// reference decoders for WebP and AVIF).
    @Test func alphaIsFlattenedForJPEGAndKeptForTheOthers() throws {
        guard ReferenceTools.available("dwebp", "avifdec") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let picture = ReferenceTools.translucentPhoto(width: 96, height: 64)
        let png = try ImageEncoder.encode(picture, format: .png)
        let specs = [ImageFormat.jpeg, .png, .webp, .avif].map {
            ThumbnailSpec(
                width: 96, height: 96, format: $0, quality: 95, background: RGBColor(red: 0, green: 255, blue: 0),
                lossless: $0 == .webp)
        }
        let render = try TestPictures.render(png, specs)
        let jpeg = try ReferenceTools.decode(render.thumbnails[0].bytes).pixels
        #expect(jpeg.channels == 3)
        #expect(TestPictures.close(jpeg.pixel(x: 5, y: 30), [0, 255, 0], tolerance: 6), "transparent → background")
        for (index, tool) in [(1, nil), (2, "dwebp"), (3, "avifdec")] as [(Int, String?)] {
            let thumbnail = render.thumbnails[index]
            var decoded = try ReferenceTools.decode(thumbnail.bytes).pixels
            if let tool {
                let url = work.appendingPathComponent("t\(index)")
                try Data(thumbnail.bytes).write(to: url)
                let reference = work.appendingPathComponent("t\(index).png")
                try ReferenceTools.run(
                    tool, tool == "dwebp" ? [url.path, "-o", reference.path] : [url.path, reference.path])
                decoded = try ReferenceTools.decodePNG(reference)
            }
            #expect(decoded.channels == 4, "\(thumbnail.spec.format) keeps alpha")
            let alpha = { (x: Int) in Int(decoded.pixel(x: x, y: 30).last!) }
            #expect(alpha(5) <= 2, "\(thumbnail.spec.format): transparent third")
            #expect(abs(alpha(48) - 128) <= 4, "\(thumbnail.spec.format): half-transparent third")
            #expect(alpha(90) >= 253, "\(thumbnail.spec.format): opaque third")
        }
    }
}

extension FormatReferenceTests {
    /// A HEIC's embedded thumbnail image (heif-enc -t, as phones write one) serves a size it covers, the way
    /// vipsthumbnail uses it; a larger size decodes the primary image. Both match heif-convert's decode.
    @Test func heicEmbeddedThumbnailServesSmallSizes() throws {
        guard ReferenceTools.available("heif-enc", "heif-convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("photo.png")
        try ReferenceTools.writePNG(TestPictures.photo(width: 640, height: 480), to: source)
        let file = work.appendingPathComponent("photo.heic")
        try ReferenceTools.run("heif-enc", ["-q", "90", "-t", "320", source.path, "-o", file.path])
        let bytes = try ReferenceTools.bytes(file)
        let small = try bytes.withUnsafeBytes {
            try ImageDecoder.decode($0, limits: .default, minimumSize: (width: 256, height: 192))
        }
        #expect(small.header.width == 640 && small.header.height == 480, "the header is the primary image's")
        #expect(small.pixels.width == 320 && small.pixels.height == 240, "decoded from the 320x240 thumbnail")
        let large = try bytes.withUnsafeBytes {
            try ImageDecoder.decode($0, limits: .default, minimumSize: (width: 400, height: 300))
        }
        #expect(large.pixels.width == 640 && large.pixels.height == 480, "the thumbnail is too small: the primary")
        let reference = work.appendingPathComponent("photo.heic.png")
        try ReferenceTools.run("heif-convert", [file.path, reference.path])
        #expect(ReferenceTools.psnr(large.pixels, try ReferenceTools.decodePNG(reference)) >= Self.minimumPSNR)
        // The 256 px thumbnail made from the embedded one is close to the one made from the primary image.
        let spec = ThumbnailSpec(width: 256, height: 256, format: .png)
        let fromThumbnail = try ReferenceTools.decode(
            try #require(TestPictures.render(bytes, [spec]).thumbnails.first).bytes)
        let primaryOnly = try ReferenceTools.decode(
            try #require(
                TestPictures.render(
                    try ReferenceTools.bytes(
                        {
                            let plain = work.appendingPathComponent("plain.heic")
                            try ReferenceTools.run("heif-enc", ["-q", "90", source.path, "-o", plain.path])
                            return plain
                        }()), [spec]
                ).thumbnails.first
            ).bytes)
        #expect(ReferenceTools.psnr(fromThumbnail.pixels, primaryOnly.pixels) >= 30)
    }
}

extension FormatReferenceTests {
    /// An AVIF whose colour is only an nclx box (Display P3 primaries, sRGB curve, as phones and exporters write
    /// them) is converted to sRGB like the same picture with a P3 ICC profile: it came out washed out (its P3
    /// values taken as sRGB). An nclx box that says sRGB changes nothing.
    @Test func nclxDisplayP3IsConvertedToSRGB() throws {
        guard ReferenceTools.available("avifenc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("flat.png")
        try ReferenceTools.writePNG(PixelBuffer(width: 64, height: 64, filledWith: [200, 100, 50]), to: source)
        let spec = ThumbnailSpec(width: 32, height: 32, format: .png)
        func thumbnailPixel(cicp: String) throws -> [Int] {
            let file = work.appendingPathComponent("flat-\(cicp.replacingOccurrences(of: "/", with: "-")).avif")
            try ReferenceTools.run(
                "avifenc", ["--min", "0", "--max", "0", "-y", "444", "--cicp", cicp, source.path, file.path])
            let thumbnail = try #require(try TestPictures.render(ReferenceTools.bytes(file), [spec]).thumbnails.first)
            let pixels = try ReferenceTools.decode(thumbnail.bytes).pixels
            return (0..<3).map { Int(pixels.bytes[(16 * pixels.width + 16) * pixels.channels + $0]) }
        }
        // (200, 100, 50) in Display P3 is about (215, 93, 31) in sRGB (lcms, and picpipe with a P3 ICC profile).
        let p3 = try thumbnailPixel(cicp: "12/13/1")
        #expect(zip(p3, [215, 93, 31]).allSatisfy { abs($0 - $1) <= 4 }, "\(p3)")
        let srgb = try thumbnailPixel(cicp: "1/13/1")
        #expect(zip(srgb, [200, 100, 50]).allSatisfy { abs($0 - $1) <= 3 }, "\(srgb)")
    }

    /// An AVIF with premultiplied alpha (`prem`, avifenc -p) comes out with straight alpha: half-transparent
    /// pixels kept their colour instead of turning half as dark.
    @Test func premultipliedAlphaIsMadeStraight() throws {
        guard ReferenceTools.available("avifenc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("half.png")
        try ReferenceTools.writePNG(PixelBuffer(width: 32, height: 32, filledWith: [200, 100, 50, 128]), to: source)
        let file = work.appendingPathComponent("half.avif")
        try ReferenceTools.run(
            "avifenc",
            [
                "--min", "0", "--max", "0", "--minalpha", "0", "--maxalpha", "0", "-y", "444", "-p", source.path,
                file.path,
            ])
        let decoded = try ReferenceTools.decode(ReferenceTools.bytes(file)).pixels
        let pixel = (0..<4).map { Int(decoded.bytes[(16 * decoded.width + 16) * 4 + $0]) }
        #expect(zip(pixel, [200, 100, 50, 128]).allSatisfy { abs($0 - $1) <= 3 }, "\(pixel)")
    }

    /// A HEIC with alpha whose embedded thumbnail has none (heif-enc --no-thumb-alpha) is not served from that
    /// thumbnail: its transparent pixels came out in their hidden colour.
    @Test func anEmbeddedThumbnailWithoutTheAlphaIsPassedOver() throws {
        guard ReferenceTools.available("heif-enc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("translucent.png")
        try ReferenceTools.writePNG(ReferenceTools.translucentPhoto(width: 256, height: 256), to: source)
        let file = work.appendingPathComponent("translucent.heic")
        try ReferenceTools.run("heif-enc", ["-q", "90", "-t", "128", "--no-thumb-alpha", source.path, "-o", file.path])
        let small = try ReferenceTools.bytes(file).withUnsafeBytes {
            try ImageDecoder.decode($0, limits: .default, minimumSize: (width: 100, height: 100))
        }
        #expect(small.pixels.channels == 4)
    }
}

extension FormatReferenceTests {
    /// A monochrome AVIF (or HEIC: the same path) with a gray ICC profile is converted by it, as the same profile in a JPEG or PNG
    /// is (a linear gray 100 is sRGB 168); the profile was dropped and the values taken as sRGB.
    @Test func aGrayProfileInAVIFIsApplied() throws {
        guard ReferenceTools.available("avifenc", "heif-enc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let profile = try #require(ColourManagementTests.grayProfile(gamma: 1.0))
        let profileFile = work.appendingPathComponent("linear-gray.icc")
        try Data(profile).write(to: profileFile)
        let source = work.appendingPathComponent("gray.png")
        try ReferenceTools.writePNG(PixelBuffer(width: 64, height: 64, filledWith: [100, 100, 100]), to: source)
        let avif = work.appendingPathComponent("gray.avif")
        try ReferenceTools.run(
            "avifenc", ["--min", "0", "--max", "0", "-y", "400", "--icc", profileFile.path, source.path, avif.path])
        let spec = ThumbnailSpec(width: 32, height: 32, format: .png)
        let thumbnail = try #require(try TestPictures.render(ReferenceTools.bytes(avif), [spec]).thumbnails.first)
        let pixels = try ReferenceTools.decode(thumbnail.bytes).pixels
        let value = Int(pixels.bytes[(16 * pixels.width + 16) * pixels.channels])
        #expect(abs(value - 168) <= 3, "\(value)")
    }
}
