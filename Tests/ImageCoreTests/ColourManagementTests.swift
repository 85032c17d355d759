// Colour management: tagged pictures (ICC profiles in JPEG APP2 or PNG iCCP, EXIF's Adobe RGB marker, CMYK
// profiles) become sRGB thumbnails, checked in CIEDE2000 against vipsthumbnail --export-profile srgb and against
// lcms's own unoptimised double-precision conversion; `keep` embeds the profile and leaves the pixels alone;
// untagged, sRGB-tagged and garbage-tagged pictures come out exactly as before.

import CLCMS
import Foundation
import ImageCore
import Testing

@Suite(.serialized)
struct ColourManagementTests {
    // MARK: Generated pictures

    /// With no profile, `srgb` and `keep` give the same bytes, and the pixels are the decoded ones.
    /// A gAMA chunk beside an ICC profile is ignored (the PNG specification's rule for colour-managed readers, as
    /// vips and browsers read it): the pixels are the profile's, interlaced or not, whatever gAMA says; without a
    /// profile the same gAMA is applied. Until session 30 it was applied first and the profile converted again:
    /// a ProPhoto PNG with gAMA 1/1.8 came out washed out (mean 21 levels off, red (255,62,28)).
    @Test(arguments: [false, true])
    func aGammaBesideAnICCProfileIsIgnored(interlaced: Bool) throws {
        let pixels = Self.saturatedGradient()
        let png =
            interlaced
            ? TestPictures.png(
                width: pixels.width, height: pixels.height, colorType: 2, bitDepth: 8,
                samples: pixels.bytes.map(Int.init), interlaced: true)
            : PNGTestFile.withoutColorSpaceChunks(try ImageEncoder.encode(pixels, format: .png))
        let tagged = PNGTestFile.tagged(png, profile: Self.displayP3())
        let gamma18 = TestPictures.be32(55556)
        let taggedWithGamma = TestPictures.png(tagged, inserting: "gAMA", data: gamma18)
        #expect(PNGTestFile.chunkTypes(taggedWithGamma).prefix(3) == ["IHDR", "gAMA", "iCCP"])
        let expected = try Self.decode(tagged)
        let decoded = try Self.decode(taggedWithGamma)
        #expect(decoded.colorProfile == expected.colorProfile)
        #expect(decoded.pixels.bytes == expected.pixels.bytes)
        #expect(
            try Self.render(taggedWithGamma, color: .srgb) == Self.render(tagged, color: .srgb),
            "the thumbnail is the profile's")
        // Untagged, the gAMA is what says how the pixels are encoded: applied.
        let gammaOnly = TestPictures.png(png, inserting: "gAMA", data: gamma18)
        #expect(TestPictures.meanAbsoluteDifference(try Self.decode(gammaOnly).pixels, pixels) > 5)
    }

    @Test func untaggedPictureIsUnchanged() throws {
        let file = try ImageEncoder.encode(Self.saturatedGradient(), format: .png)
        let decoded = try file.withUnsafeBytes { try ImageDecoder.decode($0, limits: .default, minimumSize: nil) }
        #expect(decoded.colorProfile == nil)
        let converted = try Self.render(file, color: .srgb)
        let kept = try Self.render(file, color: .keep)
        #expect(converted == kept)
        #expect(try Self.decode(converted).pixels == decoded.pixels)
        #expect(try Self.decode(kept).colorProfile == nil)
    }

    /// An sRGB profile (Debian's sRGB.icc) is recognised as sRGB: the pixels are not converted at all.
    @Test(.enabled(if: Self.required(Self.profilesFolder + "sRGB.icc")))
    func sRGBProfileIsNotConverted() throws {
        let profile = try Self.profileFile("sRGB.icc")
        let pixels = Self.saturatedGradient()
        let tagged = PNGTestFile.tagged(try ImageEncoder.encode(pixels, format: .png), profile: profile)
        let decoded = try Self.decode(tagged)
        #expect(decoded.colorProfile?.isSRGB == true)
        #expect(try Self.decode(Self.render(tagged, color: .srgb)).pixels == pixels)
    }

    /// Adobe RGB (Debian's compatibleWithAdobeRGB1998.icc) and Display P3 (built here with lcms) pictures, as PNG
    /// iCCP and JPEG APP2: picpipe's conversion agrees with lcms's unoptimised double-precision conversion of the
    /// same pixels (mean ΔE2000 under 0.5), and a saturated picture really changes (mean ΔE above 2).
    @Test(.enabled(if: Self.required(Self.profilesFolder + "compatibleWithAdobeRGB1998.icc")))
    func adobeRGBAndDisplayP3MatchLittleCMSReference() throws {
        let pixels = Self.saturatedGradient()
        for (name, profile) in [
            ("Adobe RGB", try Self.profileFile("compatibleWithAdobeRGB1998.icc")), ("Display P3", Self.displayP3()),
        ] {
            let reference = try #require(Self.referenceConversion(pixels, profile: profile))
            let png = PNGTestFile.tagged(try ImageEncoder.encode(pixels, format: .png), profile: profile)
            let fromPNG = try Self.decode(Self.render(png, color: .srgb)).pixels
            let pngScore = Self.deltaE(fromPNG, reference)
            #expect(pngScore.mean < 0.5, "\(name) PNG: \(pngScore)")
            #expect(Self.deltaE(pixels, reference).mean > 2, "\(name): the reference should differ from the input")
            // JPEG: compare against the reference conversion of what the JPEG decoder returns, so only colour counts.
            let jpeg = try ImageEncoder.encode(pixels, format: .jpeg, quality: 95, iccProfile: profile)
            let decoded = try Self.decode(jpeg)
            #expect(decoded.colorProfile?.bytes == profile)
            let jpegReference = try #require(Self.referenceConversion(decoded.pixels, profile: profile))
            let fromJPEG = try Self.decode(Self.render(jpeg, color: .srgb, format: .png)).pixels
            let jpegScore = Self.deltaE(fromJPEG, jpegReference)
            #expect(jpegScore.mean < 0.5, "\(name) JPEG: \(jpegScore)")
        }
    }

    /// The same tagged pictures against vipsthumbnail --export-profile srgb: mean ΔE2000 ≤ 1.0.
    @Test(.enabled(if: Self.vipsRequired && Self.required(Self.profilesFolder + "compatibleWithAdobeRGB1998.icc")))
    func generatedPicturesMatchVips() throws {
        let pixels = Self.saturatedGradient()
        for (name, profile) in [
            ("adobe", try Self.profileFile("compatibleWithAdobeRGB1998.icc")), ("p3", Self.displayP3()),
        ] {
            let png = PNGTestFile.tagged(try ImageEncoder.encode(pixels, format: .png), profile: profile)
            let score = try Self.compareWithVips(png, name: "generated-\(name).png", size: 96)
            #expect(score.mean <= 1.0, "\(name): \(score)")
        }
    }

    /// EXIF ColorSpace 0xFFFF with InteropIndex "R03" and no profile means Adobe RGB (1998): the picture converts
    /// like the same picture with Debian's Adobe RGB profile embedded. ColorSpace 0xFFFF alone (no R03) does not.
    @Test(.enabled(if: Self.required(Self.profilesFolder + "compatibleWithAdobeRGB1998.icc")))
    func exifR03MarkerMeansAdobeRGB() throws {
        let pixels = Self.saturatedGradient()
        let plain = try ImageEncoder.encode(pixels, format: .jpeg, quality: 95)
        for bigEndian in [false, true] {
            let marked = Self.jpeg(plain, withEXIF: Self.colorSpaceTIFF(interop: "R03", bigEndian: bigEndian))
            #expect(try Self.decode(marked).colorProfile == ColorProfile.adobeRGB)
            let embedded = try ImageEncoder.encode(
                pixels, format: .jpeg, quality: 95, iccProfile: try Self.profileFile("compatibleWithAdobeRGB1998.icc"))
            let fromMarker = try Self.decode(Self.render(marked, color: .srgb, format: .png)).pixels
            let fromProfile = try Self.decode(Self.render(embedded, color: .srgb, format: .png)).pixels
            let score = Self.deltaE(fromMarker, fromProfile)
            #expect(score.mean < 0.3, "\(score)")
            let untagged = try Self.decode(Self.render(plain, color: .srgb, format: .png)).pixels
            #expect(Self.deltaE(fromMarker, untagged).mean > 2)
        }
        let uncalibratedOnly = Self.jpeg(plain, withEXIF: Self.colorSpaceTIFF(interop: "R98", bigEndian: false))
        #expect(try Self.decode(uncalibratedOnly).colorProfile == nil)
        #expect(try Self.render(uncalibratedOnly, color: .srgb) == Self.render(plain, color: .srgb))
    }

    /// `keep` leaves the pixels as they are and embeds the profile (JPEG APP2, PNG iCCP) byte for byte; the R03
    /// marker embeds the built-in Adobe RGB profile. vipsthumbnail reading the kept file converts it to what
    /// picpipe's `srgb` gives.
    @Test(.enabled(if: Self.required(Self.profilesFolder + "compatibleWithAdobeRGB1998.icc")))
    func keepEmbedsProfileAndLeavesPixels() throws {
        let pixels = Self.saturatedGradient()
        let profile = try Self.profileFile("compatibleWithAdobeRGB1998.icc")
        let untaggedPNG = try ImageEncoder.encode(pixels, format: .png)
        let taggedPNG = PNGTestFile.tagged(untaggedPNG, profile: profile)
        let keptPNG = try Self.decode(Self.render(taggedPNG, color: .keep))
        #expect(keptPNG.colorProfile?.bytes == profile)
        #expect(keptPNG.pixels == pixels)
        #expect(try PNGTestFile.chunkTypes(Self.render(taggedPNG, color: .keep)) == ["IHDR", "iCCP", "IDAT", "IEND"])
        #expect(try Self.render(taggedPNG, color: .srgb) != Self.render(untaggedPNG, color: .srgb))

        let taggedJPEG = try ImageEncoder.encode(pixels, format: .jpeg, quality: 95, iccProfile: profile)
        let untaggedJPEG = try ImageEncoder.encode(pixels, format: .jpeg, quality: 95)
        let keptJPEG = try Self.decode(Self.render(taggedJPEG, color: .keep, format: .png))
        #expect(keptJPEG.colorProfile?.bytes == profile)
        #expect(try keptJPEG.pixels == Self.decode(Self.render(untaggedJPEG, color: .srgb, format: .png)).pixels)

        let marked = Self.jpeg(untaggedJPEG, withEXIF: Self.colorSpaceTIFF(interop: "R03", bigEndian: false))
        let keptMarker = try Self.decode(Self.render(marked, color: .keep))
        #expect(keptMarker.colorProfile == ColorProfile.adobeRGB)

        if Self.vipsRequired {
            let kept = try Self.render(taggedPNG, color: .keep)
            let vips = try Self.vipsThumbnail(kept, name: "kept.png", size: 96)
            let ours = try Self.decode(Self.render(taggedPNG, color: .srgb)).pixels
            let score = Self.deltaE(ours, vips)
            #expect(score.mean <= 1.0, "\(score)")
        }
    }

    /// A PNG's cHRM (without iCCP, sRGB or cICP) describes its primaries: Adobe RGB's convert like an lcms profile
    /// with those primaries and sRGB's curve; sRGB's own, or an sRGB or cICP chunk beside them, change nothing.
    @Test func pngChromaticitiesAreApplied() throws {
        let pixels = Self.saturatedGradient()
        // libpng's writer adds sRGB, gAMA and cHRM: keep only the chunks this test writes.
        let png = PNGTestFile.withoutColorSpaceChunks(try ImageEncoder.encode(pixels, format: .png))
        func cHRM(_ values: [Double]) -> [UInt8] {
            values.flatMap { value -> [UInt8] in
                let fixed = UInt32((value * 100_000).rounded())
                return [
                    UInt8(fixed >> 24), UInt8((fixed >> 16) & 0xFF), UInt8((fixed >> 8) & 0xFF), UInt8(fixed & 0xFF),
                ]
            }
        }
        let adobePrimaries = [0.3127, 0.3290, 0.64, 0.33, 0.21, 0.71, 0.15, 0.06]
        let tagged = TestPictures.png(png, inserting: "cHRM", data: cHRM(adobePrimaries))
        let decoded = try Self.decode(tagged)
        let profile = try #require(decoded.colorProfile, "no profile from cHRM")
        #expect(profile.space == .rgb && !profile.isSRGB)
        let reference = try #require(
            Self.referenceConversion(pixels, profile: Self.rgbProfile(adobePrimaries, sRGBCurve: true)))
        let converted = try Self.decode(Self.render(tagged, color: .srgb)).pixels
        let score = Self.deltaE(converted, reference)
        #expect(score.mean < 0.5, "\(score)")
        #expect(Self.deltaE(converted, pixels).mean > 2)

        let sRGBPrimaries = [0.3127, 0.3290, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06]
        let plain = try Self.render(png, color: .srgb)
        #expect(
            try Self.decode(TestPictures.png(png, inserting: "cHRM", data: cHRM(sRGBPrimaries))).colorProfile?.isSRGB
                == true)
        let withSRGBChunk = TestPictures.png(tagged, inserting: "sRGB", data: [0])
        #expect(try Self.decode(withSRGBChunk).colorProfile == nil)
        #expect(try Self.render(withSRGBChunk, color: .srgb) == plain)
        let withCICP = TestPictures.png(tagged, inserting: "cICP", data: [9, 16, 0, 1])  // BT.2020 PQ: not interpreted
        #expect(try Self.decode(withCICP).colorProfile == nil)
        let nonsense = TestPictures.png(png, inserting: "cHRM", data: cHRM([0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]))
        #expect(try Self.render(nonsense, color: .srgb) == plain)
    }

    /// A gray profile on a gray PNG (decoded to RGB) converts through the gray transform, alpha untouched.
    @Test func grayProfileConvertsAndKeepsAlpha() throws {
        let gamma18 = try #require(Self.grayProfile(gamma: 1.8))
        var samples: [Int] = []
        for y in 0..<16 { for x in 0..<64 { samples += [x * 4, y * 16] } }
        let file = PNGTestFile.tagged(
            TestPictures.png(width: 64, height: 16, colorType: 4, bitDepth: 8, samples: samples), profile: gamma18)
        let decoded = try Self.decode(file)
        #expect(decoded.colorProfile?.space == .gray)
        let converted = try #require(decoded.colorProfile?.convertedToSRGB(decoded.pixels))
        #expect(converted.channels == 4)
        for index in stride(from: 0, to: converted.bytes.count, by: 4) {
            #expect(converted.bytes[index + 3] == decoded.pixels.bytes[index + 3])
            #expect(converted.bytes[index] == converted.bytes[index + 1])
        }
        // Gamma 1.8 gray 128 is 0.29 in linear light, which sRGB writes as about 147.
        let middle = (8 * 64 + 32) * 4
        #expect(decoded.pixels.bytes[middle] == 128)
        #expect((143...151).contains(Int(converted.bytes[middle])), "\(converted.bytes[middle])")
    }

    /// Garbage, truncated or misplaced profiles are ignored with no crash: the picture is treated as untagged.
    @Test func corruptProfilesAreIgnored() throws {
        let pixels = Self.saturatedGradient()
        let png = try ImageEncoder.encode(pixels, format: .png)
        let jpeg = try ImageEncoder.encode(pixels, format: .jpeg, quality: 90)
        let expectedPNG = try Self.render(png, color: .srgb)
        let expectedJPEG = try Self.render(jpeg, color: .srgb)
        var generator = SplitMix(seed: 7)
        var garbage: [[UInt8]] = [[], [1, 2, 3], (0..<4000).map { _ in UInt8.random(in: 0...255, using: &generator) }]
        // A plausible header (size, 'acsp', RGB, XYZ) over a nonsense tag table.
        var header = [UInt8](repeating: 0, count: 600)
        header.replaceSubrange(0..<4, with: [0, 0, 2, 0x58])
        header.replaceSubrange(16..<20, with: Array("RGB ".utf8))
        header.replaceSubrange(20..<24, with: Array("XYZ ".utf8))
        header.replaceSubrange(36..<40, with: Array("acsp".utf8))
        header.replaceSubrange(128..<132, with: [0xFF, 0xFF, 0xFF, 0xFF])
        garbage.append(header)
        if let real = try? Self.profileFile("compatibleWithAdobeRGB1998.icc") {
            garbage.append(Array(real.prefix(real.count / 2)))  // truncated
            // Every tag's offset points past the end: lcms opens the header but finds no colorants.
            var lostTags = real
            let tags = Int(real[128]) << 24 | Int(real[129]) << 16 | Int(real[130]) << 8 | Int(real[131])
            for tag in 0..<min(tags, (real.count - 132) / 12) {
                lostTags.replaceSubrange((136 + tag * 12)..<(140 + tag * 12), with: [0x7F, 0xFF, 0xFF, 0x00])
            }
            garbage.append(lostTags)
        }
        garbage.append(Self.displayP3().map { $0 ^ 0x5A })
        for profile in garbage {
            #expect(ColorProfile.read(profile) == nil)
            if !profile.isEmpty {
                #expect(try Self.render(PNGTestFile.tagged(png, profile: profile), color: .srgb) == expectedPNG)
            }
            let tagged = Self.jpeg(jpeg, withICCChunks: Self.chunks(of: profile, count: 1))
            #expect(try Self.render(tagged, color: .srgb) == expectedJPEG)
            #expect(try Self.render(tagged, color: .keep) == expectedJPEG)
        }
    }

    /// A profile split over several APP2 markers is reassembled in sequence order, whatever the marker order; a
    /// missing or repeated chunk, or disagreeing totals, make the picture untagged.
    @Test func splitProfilesAreReassembledInSequenceOrder() throws {
        let profile = Self.displayP3()
        let plain = try ImageEncoder.encode(Self.saturatedGradient(), format: .jpeg, quality: 90)
        let chunks = Self.chunks(of: profile, count: 3)
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let file = Self.jpeg(plain, withICCChunks: order.map { chunks[$0] })
            #expect(try Self.decode(file).colorProfile?.bytes == profile)
        }
        for broken in [
            [chunks[0], chunks[2]], [chunks[0], chunks[1], chunks[1]], [chunks[0], chunks[1], chunks[2], chunks[2]],
        ] {
            #expect(try Self.decode(Self.jpeg(plain, withICCChunks: broken)).colorProfile == nil)
        }
        var disagreeing = chunks
        disagreeing[1][13] = 4
        #expect(try Self.decode(Self.jpeg(plain, withICCChunks: disagreeing)).colorProfile == nil)
    }

    /// Profiles and transforms are shared between threads: many renders at once, of pictures tagged with the same
    /// profile and with profiles never seen before, give the same bytes as one render alone.
    @Test func concurrentRendersAgree() async throws {
        let pixels = Self.saturatedGradient(width: 48, height: 32)
        // Reserved header bytes make distinct, equally valid profiles: the serial reference uses one set, the
        // concurrent renders another, so they open and build theirs at the same time.
        func files(_ mark: UInt8) throws -> [[UInt8]] {
            try (0..<6).map { variant in
                var profile = Self.displayP3()
                profile[100] = UInt8(variant % 3)
                profile[101] = mark
                return try ImageEncoder.encode(pixels, format: .jpeg, quality: 90, iccProfile: profile)
            }
        }
        let expected = try files(1).map { try Self.render($0, color: .srgb) }
        let files = try files(2)
        try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for round in 0..<48 {
                let index = round % files.count
                let file = files[index]
                group.addTask { (index, try Self.render(file, color: .srgb)) }
            }
            for try await (index, bytes) in group { #expect(bytes == expected[index]) }
        }
    }

    /// The ΔE helper itself, on pairs from Sharma, Wu and Dalal's CIEDE2000 test data.
    @Test func ciede2000MatchesPublishedPairs() {
        let pairs: [((Double, Double, Double), (Double, Double, Double), Double)] = [
            ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
            ((50, -1.3802, -84.2814), (50, 0, -82.7485), 1.0000),
            ((50, 2.5, 0), (73, 25, -18), 27.1492),
            ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
            ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
            ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
        ]
        for (first, second, expected) in pairs {
            #expect(abs(Self.ciede2000(first, second) - expected) < 0.0005, "\(first) \(second)")
        }
    }

    // MARK: The corpus against vipsthumbnail

    /// Tagged corpus files (found by scanning ../shared/corpus for APP2 ICC_PROFILE, iCCP and the R03 marker):
    /// Adobe RGB, Apple's Generic RGB, Display P3 (in an iCCP whose zlib stream lacks its end, which libpng and
    /// vips read all the same), a CMYK SWOP profile, a gray profile and sRGB ones.
    static let taggedCorpusFiles = [
        "jpeg-exif/canon-eos-7d.jpg", "jpeg-exif/orientation-landscape_2.jpg", "jpeg-exif/orientation-portrait_6.jpg",
        "jpeg-odd/ycck-swop-icc.jpg", "jpeg-exif/apple-iphone-4.jpg",
        "png-odd/broken-iccp.png", "png-odd/16bit-rgb-iccp-monkey16.png", "png-odd/16bit-grey-alpha.png",
        "png-odd/exif-chunk-early.png",
    ]

    /// Each tagged corpus file against vips, mean ΔE2000 ≤ 1.0:
    /// - at full size, against vipsthumbnail --export-profile srgb: neither side resamples, so only the colour
    ///   conversion can differ;
    /// - as a 256 px thumbnail, against vips's icc_transform of picpipe's own `keep` thumbnail (which embeds the
    ///   profile): the same reduced pixels converted by both, which also checks the embedded profile.
    /// picpipe's and vipsthumbnail's 256 px thumbnails also differ by their resamplers (shrink-on-load, kernels):
    /// 0.3 to 1.7 ΔE per pixel on detailed pictures with no colour conversion on either side. Those figures are
    /// printed, not asserted.
    @Test(
        .enabled(if: CorpusLocation.isAvailable && Self.vipsRequired),
        arguments: taggedCorpusFiles)
    func corpusMatchesVips(_ path: String) throws {
        let file = try [UInt8](Data(contentsOf: CorpusLocation.directory.appendingPathComponent(path)))
        let header = try file.withUnsafeBytes { try ImageHeader.read(from: $0) }
        let name = (path as NSString).lastPathComponent
        // vipsthumbnail 8.14 mishandles this YCCK file ("profile incompatible with image") and paints it too light;
        // its reference is vips's own icc_transform with the embedded profile.
        let viaTransform = path.contains("ycck")
        let full = try Self.compareWithVips(
            file, name: name, size: max(header.width, header.height), viaTransform: viaTransform)
        #expect(full.mean <= 1.0, "\(path) full size: \(full)")
        let kept = try Self.render(file, color: .keep, size: 256)
        let converted = try Self.decode(Self.render(file, color: .srgb, size: 256)).pixels
        var report = "ΔE2000 vs vips \(path): full size \(Self.format(full.mean)) (max \(Self.format(full.max)))"
        if try Self.decode(kept).colorProfile != nil {
            let reference = try Self.vipsTransform(kept, name: "kept-" + name)
            let thumbnail = Self.deltaE(converted.flattened(onto: .white), Self.rgb(reference).flattened(onto: .white))
            #expect(
                thumbnail.mean <= 1.0, "\(path) 256 px against vips's conversion of the kept thumbnail: \(thumbnail)")
            report += "; 256 px, same pixels \(Self.format(thumbnail.mean)) (max \(Self.format(thumbnail.max)))"
        }
        let vipsthumbnail = try Self.compareWithVips(file, name: name, size: 256, viaTransform: viaTransform)
        report += "; 256 px vs vipsthumbnail \(Self.format(vipsthumbnail.mean)) (max \(Self.format(vipsthumbnail.max)))"
        if !viaTransform {
            let unconverted = try Self.vipsThumbnail(file, name: name, size: 256, exportProfile: false)
            var ours = try Self.decode(Self.render(file, color: .keep, size: 256)).pixels
            if ours.width != unconverted.width || ours.height != unconverted.height {
                ours = ImageResizer.resize(ours, width: unconverted.width, height: unconverted.height)
            }
            let baseline = Self.deltaE(ours.flattened(onto: .white), Self.rgb(unconverted).flattened(onto: .white))
            report += ", with no conversion on either side \(Self.format(baseline.mean))"
        }
        print(report)
    }

    /// canon-eos-7d.jpg carries an Adobe RGB (1998) profile: converted, its thumbnail is as saturated as vips's,
    /// where the unconverted one was washed out.
    @Test(.enabled(if: CorpusLocation.isAvailable))
    func adobeRGBCameraPictureIsNoLongerWashedOut() throws {
        let file = try [UInt8](
            Data(contentsOf: CorpusLocation.directory.appendingPathComponent("jpeg-exif/canon-eos-7d.jpg")))
        let decoded = try Self.decode(file)
        #expect(decoded.colorProfile?.name == "Adobe RGB (1998)")
        let converted = try Self.decode(Self.render(file, color: .srgb, size: 256)).pixels
        let kept = try Self.decode(Self.render(file, color: .keep, size: 256)).pixels
        let before = Self.meanSaturation(kept)
        let after = Self.meanSaturation(converted)
        var report = "canon-eos-7d.jpg 256 px mean saturation: keep \(Self.format(before)), srgb \(Self.format(after))"
        if FileManager.default.fileExists(atPath: "/usr/bin/vipsthumbnail") {
            let vips = try Self.vipsThumbnail(file, name: "canon-eos-7d.jpg", size: 256)
            let vipsSaturation = Self.meanSaturation(vips)
            report += ", vipsthumbnail --export-profile srgb \(Self.format(vipsSaturation))"
            #expect(abs(after - vipsSaturation) < 0.01)
        }
        print(report)
        #expect(after > before + 0.1)
    }

    /// The corpus's damaged ICC data (a chunk missing of 254, 14 bytes of nonsense after SOF) renders, untagged.
    @Test(
        .enabled(if: CorpusLocation.isAvailable),
        arguments: ["jpeg-odd/icc-missing-chunk.jpg", "jpeg-odd/icc-after-sof.jpg"])
    func damagedCorpusProfilesAreIgnored(_ path: String) throws {
        let file = try [UInt8](Data(contentsOf: CorpusLocation.directory.appendingPathComponent(path)))
        #expect(try Self.decode(file).colorProfile == nil)
        #expect(try Self.render(file, color: .srgb) == Self.render(file, color: .keep))
    }
}

// MARK: - Helpers

extension ColourManagementTests {
    static let profilesFolder = "/usr/share/color/icc/"

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// A file the test needs: present, or CI (where its absence must fail the test, not skip it).
    static func required(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) || isCI }

    static var vipsRequired: Bool { required("/usr/bin/vipsthumbnail") }

    static func profileFile(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: profilesFolder + name)))
    }

    static func decode(_ file: [UInt8]) throws -> DecodedImage {
        try file.withUnsafeBytes { try ImageDecoder.decode($0, limits: .default, minimumSize: nil) }
    }

    /// The file's thumbnail in a `size` box (PNG unless asked otherwise).
    static func render(_ file: [UInt8], color: ColorMode, format: ImageFormat = .png, size: Int = 4096) throws
        -> [UInt8]
    {
        let spec = ThumbnailSpec(width: size, height: size, format: format, quality: 95, color: color)
        return try #require(TestPictures.render(file, [spec]).thumbnails.first).bytes
    }

    /// A saturated picture: hue around the width, saturation down the height, value high; covers the gamut edges
    /// where Adobe RGB and P3 differ most from sRGB.
    static func saturatedGradient(width: Int = 96, height: Int = 64) -> PixelBuffer {
        var bytes = [UInt8]()
        bytes.reserveCapacity(width * height * 3)
        for y in 0..<height {
            let saturation = 1 - Double(y) / Double(height - 1) * 0.8
            for x in 0..<width {
                let hue = Double(x) / Double(width) * 6
                let sector = Int(hue) % 6
                let f = hue - Double(Int(hue))
                let (v, p) = (0.95, 0.95 * (1 - saturation))
                let q = 0.95 * (1 - saturation * f)
                let t = 0.95 * (1 - saturation * (1 - f))
                let rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][sector]
                bytes += [rgb.0, rgb.1, rgb.2].map { UInt8(($0 * 255).rounded()) }
            }
        }
        return PixelBuffer(width: width, height: height, channels: 3, bytes: bytes)
    }

    // MARK: Profiles and reference conversions with lcms

    /// Display P3 as Apple defines it: DCI-P3 primaries, D65 white, the sRGB tone curve.
    static func displayP3() -> [UInt8] {
        var white = cmsCIExyY(x: 0.3127, y: 0.3290, Y: 1)
        var primaries = cmsCIExyYTRIPLE(
            Red: cmsCIExyY(x: 0.680, y: 0.320, Y: 1), Green: cmsCIExyY(x: 0.265, y: 0.690, Y: 1),
            Blue: cmsCIExyY(x: 0.150, y: 0.060, Y: 1))
        var parameters: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
        let curve = cmsBuildParametricToneCurve(nil, 4, &parameters)
        defer { cmsFreeToneCurve(curve) }
        var curves: [OpaquePointer?] = [curve, curve, curve]
        guard let profile = cmsCreateRGBProfile(&white, &primaries, &curves) else { return [] }
        defer { cmsCloseProfile(profile) }
        return save(profile)
    }

    /// An RGB profile from white and primaries (xy), with sRGB's curve or gamma 2.2.
    static func rgbProfile(_ c: [Double], sRGBCurve: Bool) -> [UInt8] {
        var white = cmsCIExyY(x: c[0], y: c[1], Y: 1)
        var primaries = cmsCIExyYTRIPLE(
            Red: cmsCIExyY(x: c[2], y: c[3], Y: 1), Green: cmsCIExyY(x: c[4], y: c[5], Y: 1),
            Blue: cmsCIExyY(x: c[6], y: c[7], Y: 1))
        var parameters: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
        let curve = sRGBCurve ? cmsBuildParametricToneCurve(nil, 4, &parameters) : cmsBuildGamma(nil, 2.2)
        defer { cmsFreeToneCurve(curve) }
        var curves: [OpaquePointer?] = [curve, curve, curve]
        guard let profile = cmsCreateRGBProfile(&white, &primaries, &curves) else { return [] }
        defer { cmsCloseProfile(profile) }
        return save(profile)
    }

    /// A gray profile with a plain gamma curve and D50 white.
    static func grayProfile(gamma: Double) -> [UInt8]? {
        guard let curve = cmsBuildGamma(nil, gamma) else { return nil }
        defer { cmsFreeToneCurve(curve) }
        guard let profile = cmsCreateGrayProfile(cmsD50_xyY(), curve) else { return nil }
        defer { cmsCloseProfile(profile) }
        return save(profile)
    }

    static func save(_ profile: cmsHPROFILE) -> [UInt8] {
        var size: UInt32 = 0
        guard cmsSaveProfileToMem(profile, nil, &size) != 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        _ = bytes.withUnsafeMutableBytes { cmsSaveProfileToMem(profile, $0.baseAddress, &size) }
        return bytes
    }

    /// lcms's conversion to its sRGB in doubles, with every optimisation off: the reference picpipe's 8-bit
    /// optimised transform is held to.
    static func referenceConversion(_ image: PixelBuffer, profile: [UInt8]) -> PixelBuffer? {
        guard image.channels == 3,
            let source = profile.withUnsafeBytes({ cmsOpenProfileFromMem($0.baseAddress, UInt32($0.count)) })
        else { return nil }
        defer { cmsCloseProfile(source) }
        guard let sRGB = cmsCreate_sRGBProfile() else { return nil }
        defer { cmsCloseProfile(sRGB) }
        guard
            let transform = cmsCreateTransform(
                source, CLCMS_typeRGBDouble(), sRGB, CLCMS_typeRGBDouble(), UInt32(INTENT_RELATIVE_COLORIMETRIC),
                UInt32(cmsFLAGS_NOOPTIMIZE | cmsFLAGS_NOCACHE))
        else { return nil }
        defer { cmsDeleteTransform(transform) }
        let input = image.bytes.map { Double($0) / 255 }
        var output = [Double](repeating: 0, count: input.count)
        input.withUnsafeBytes { from in
            output.withUnsafeMutableBytes { to in
                cmsDoTransform(transform, from.baseAddress, to.baseAddress, UInt32(image.width * image.height))
            }
        }
        return PixelBuffer(
            width: image.width, height: image.height, channels: 3,
            bytes: output.map { UInt8((min(1, max(0, $0)) * 255).rounded()) })
    }

    // MARK: vipsthumbnail

    /// vips's sRGB thumbnail of `file` in a `size` box (never enlarged), decoded: `vipsthumbnail --export-profile
    /// srgb`, or with `viaTransform` `vips icc_transform --embedded` to sRGB first, then `vipsthumbnail`.
    static func vipsThumbnail(
        _ file: [UInt8], name: String, size: Int, viaTransform: Bool = false, exportProfile: Bool = true
    ) throws -> PixelBuffer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "picpipe-colour-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var input = folder.appendingPathComponent(name)
        try Data(file).write(to: input)
        if viaTransform {
            let converted = folder.appendingPathComponent("converted.png")
            try run("/usr/bin/vips", ["icc_transform", input.path, converted.path, "srgb", "--embedded"])
            input = converted
        }
        let output = folder.appendingPathComponent("vips.png")
        try run(
            "/usr/bin/vipsthumbnail",
            [input.path, "--size", "\(size)x\(size)>", "-o", output.path]
                + (exportProfile ? ["--export-profile", "srgb"] : []))
        return try decode([UInt8](Data(contentsOf: output))).pixels
    }

    /// `vips icc_transform FILE OUT srgb --embedded`: the file's pixels converted with its embedded profile.
    static func vipsTransform(_ file: [UInt8], name: String) throws -> PixelBuffer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "picpipe-colour-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent(name)
        try Data(file).write(to: input)
        let output = folder.appendingPathComponent("converted.png")
        try run("/usr/bin/vips", ["icc_transform", input.path, output.path, "srgb", "--embedded"])
        return try decode([UInt8](Data(contentsOf: output))).pixels
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " ")) failed")
    }

    /// ΔE2000 between picpipe's `srgb` thumbnail and vips's, both flattened onto white, at vips's size.
    static func compareWithVips(_ file: [UInt8], name: String, size: Int, viaTransform: Bool = false) throws -> DeltaE {
        let vips = try vipsThumbnail(file, name: name, size: size, viaTransform: viaTransform)
        var ours = try decode(render(file, color: .srgb, size: size)).pixels
        if ours.width != vips.width || ours.height != vips.height {
            ours = ImageResizer.resize(ours, width: vips.width, height: vips.height)
        }
        return deltaE(ours.flattened(onto: .white), rgb(vips).flattened(onto: .white))
    }

    /// Gray or gray+alpha buffers as RGB(A), so they compare with RGB ones.
    static func rgb(_ image: PixelBuffer) -> PixelBuffer {
        guard image.channels <= 2 else { return image }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: image.bytes.count, by: image.channels) {
            let gray = image.bytes[index]
            bytes += [gray, gray, gray]
            if image.channels == 2 { bytes.append(image.bytes[index + 1]) }
        }
        return PixelBuffer(width: image.width, height: image.height, channels: image.channels + 2, bytes: bytes)
    }

    // MARK: Colour difference

    /// Mean and largest CIEDE2000 difference over the pixels.
    struct DeltaE: CustomStringConvertible {
        var mean: Double
        var max: Double
        var description: String { "ΔE2000 mean \(format(mean)), max \(format(max))" }
    }

    static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    static func deltaE(_ a: PixelBuffer, _ b: PixelBuffer) -> DeltaE {
        guard a.width == b.width, a.height == b.height, a.channels == 3, b.channels == 3 else {
            return DeltaE(mean: .infinity, max: .infinity)
        }
        var total = 0.0
        var largest = 0.0
        for index in stride(from: 0, to: a.bytes.count, by: 3) {
            let difference = ciede2000(
                lab(a.bytes[index], a.bytes[index + 1], a.bytes[index + 2]),
                lab(b.bytes[index], b.bytes[index + 1], b.bytes[index + 2]))
            total += difference
            largest = Swift.max(largest, difference)
        }
        return DeltaE(mean: total / Double(a.width * a.height), max: largest)
    }

    /// sRGB (8-bit) to CIELAB with the D65 white point.
    static func lab(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> (Double, Double, Double) {
        func linear(_ value: UInt8) -> Double {
            let c = Double(value) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let (lr, lg, lb) = (linear(r), linear(g), linear(b))
        let x = 0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb
        let y = 0.2126729 * lr + 0.7151522 * lg + 0.0721750 * lb
        let z = 0.0193339 * lr + 0.1191920 * lg + 0.9503041 * lb
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883))
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    /// CIEDE2000 (Sharma, Wu, Dalal 2005), kL = kC = kH = 1.
    static func ciede2000(_ first: (Double, Double, Double), _ second: (Double, Double, Double)) -> Double {
        let (l1, a1, b1) = first
        let (l2, a2, b2) = second
        func radians(_ degrees: Double) -> Double { degrees * .pi / 180 }
        func seventh(_ x: Double) -> Double { x * x * x * x * x * x * x }
        let pow25 = seventh(25)
        let meanC = (hypot(a1, b1) + hypot(a2, b2)) / 2
        let g = 0.5 * (1 - sqrt(seventh(meanC) / (seventh(meanC) + pow25)))
        let (a1p, a2p) = ((1 + g) * a1, (1 + g) * a2)
        let (c1p, c2p) = (hypot(a1p, b1), hypot(a2p, b2))
        func hue(_ b: Double, _ a: Double) -> Double {
            if a == 0 && b == 0 { return 0 }
            let h = atan2(b, a) * 180 / .pi
            return h < 0 ? h + 360 : h
        }
        let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p))
        let deltaL = l2 - l1
        let deltaC = c2p - c1p
        var deltaH = 0.0
        if c1p * c2p != 0 {
            deltaH = h2p - h1p
            if deltaH > 180 { deltaH -= 360 } else if deltaH < -180 { deltaH += 360 }
        }
        let deltaBigH = 2 * sqrt(c1p * c2p) * sin(radians(deltaH / 2))
        let meanL = (l1 + l2) / 2
        let meanCp = (c1p + c2p) / 2
        var meanH = h1p + h2p
        if c1p * c2p != 0 {
            if abs(h1p - h2p) <= 180 {
                meanH = (h1p + h2p) / 2
            } else {
                meanH = h1p + h2p < 360 ? (h1p + h2p + 360) / 2 : (h1p + h2p - 360) / 2
            }
        }
        let t =
            1 - 0.17 * cos(radians(meanH - 30)) + 0.24 * cos(radians(2 * meanH)) + 0.32 * cos(radians(3 * meanH + 6))
            - 0.20 * cos(radians(4 * meanH - 63))
        let hueOffset = (meanH - 275) / 25
        let deltaTheta = 30 * exp(-hueOffset * hueOffset)
        let rc = 2 * sqrt(seventh(meanCp) / (seventh(meanCp) + pow25))
        let lightOffset = (meanL - 50) * (meanL - 50)
        let sl = 1 + 0.015 * lightOffset / sqrt(20 + lightOffset)
        let sc = 1 + 0.045 * meanCp
        let sh = 1 + 0.015 * meanCp * t
        let rt = -sin(radians(2 * deltaTheta)) * rc
        let (dl, dc, dh) = (deltaL / sl, deltaC / sc, deltaBigH / sh)
        return sqrt(dl * dl + dc * dc + dh * dh + rt * dc * dh)
    }

    /// Mean HSV saturation, (max − min) / max per pixel.
    static func meanSaturation(_ image: PixelBuffer) -> Double {
        var total = 0.0
        for index in stride(from: 0, to: image.bytes.count, by: image.channels) {
            let rgb = image.bytes[index..<(index + 3)].map(Double.init)
            let high = rgb.max() ?? 0
            total += high > 0 ? (high - (rgb.min() ?? 0)) / high : 0
        }
        return total / Double(image.width * image.height)
    }

    // MARK: Marker surgery

    /// The profile cut into `count` APP2 ICC_PROFILE chunk payloads ("ICC_PROFILE\0", sequence, total, data).
    static func chunks(of profile: [UInt8], count: Int) -> [[UInt8]] {
        let size = max(1, (profile.count + count - 1) / count)
        return (0..<count).map { index in
            let part =
                profile.isEmpty
                ? [] : Array(profile[min(profile.count, index * size)..<min(profile.count, (index + 1) * size)])
            return Array("ICC_PROFILE".utf8) + [0, UInt8(index + 1), UInt8(count)] + part
        }
    }

    /// The JPEG with APP2 segments holding `payloads` inserted after SOI, in the order given.
    static func jpeg(_ file: [UInt8], withICCChunks payloads: [[UInt8]]) -> [UInt8] {
        var segments: [UInt8] = []
        for payload in payloads {
            let length = payload.count + 2
            segments += [0xFF, 0xE2, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        }
        return [0xFF, 0xD8] + segments + file.dropFirst(2)
    }

    static func jpeg(_ file: [UInt8], withEXIF tiff: [UInt8]) -> [UInt8] { TestPictures.jpeg(file, withEXIF: tiff) }

    /// A TIFF block: IFD0 → EXIF IFD (ColorSpace 0xFFFF) → Interoperability IFD (InteropIndex `interop`).
    static func colorSpaceTIFF(interop: String, bigEndian: Bool) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] {
            bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        func u32(_ value: Int) -> [UInt8] {
            bigEndian ? u16(value >> 16) + u16(value & 0xFFFF) : u16(value & 0xFFFF) + u16(value >> 16)
        }
        let order: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
        // IFD0 at 8: one entry (ExifIFD pointer → 26). EXIF IFD at 26: two entries (ColorSpace, Interop → 56).
        // Interop IFD at 56: one entry, InteropIndex ASCII count 4.
        let ifd0 = u16(1) + u16(0x8769) + u16(4) + u32(1) + u32(26) + u32(0)
        let exif =
            u16(2) + u16(0xA001) + u16(3) + u32(1) + u16(0xFFFF) + u16(0) + u16(0xA005) + u16(4) + u32(1)
            + u32(56) + u32(0)
        let interopValue = Array(interop.utf8.prefix(3)) + [0]
        let interopIFD = u16(1) + u16(0x0001) + u16(2) + u32(4) + interopValue + u32(0)
        return order + u16(42) + u32(8) + ifd0 + exif + interopIFD
    }
}

/// PNG files with an iCCP chunk, written the way the PNG specification says (zlib-compressed profile).
enum PNGTestFile {
    /// The PNG with an iCCP chunk holding `profile` (stored deflate) right after IHDR.
    static func tagged(_ png: [UInt8], profile: [UInt8]) -> [UInt8] {
        TestPictures.png(png, inserting: "iCCP", data: Array("test profile".utf8) + [0, 0] + TestPictures.zlibStored(profile))
    }

    /// The chunk types in file order.
    static func chunkTypes(_ png: [UInt8]) -> [String] {
        var types: [String] = []
        var position = 8
        while position + 12 <= png.count {
            let length = png[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
            types.append(String(decoding: png[(position + 4)..<(position + 8)], as: UTF8.self))
            position += 12 + length
        }
        return types
    }

    /// The file without its sRGB, gAMA and cHRM chunks.
    static func withoutColorSpaceChunks(_ png: [UInt8]) -> [UInt8] {
        var result = Array(png.prefix(8))
        var position = 8
        while position + 12 <= png.count {
            let length = png[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: png[(position + 4)..<(position + 8)], as: UTF8.self)
            if !["sRGB", "gAMA", "cHRM"].contains(type) { result += png[position..<(position + 12 + length)] }
            position += 12 + length
        }
        return result
    }
}

/// A small deterministic random generator for garbage bytes.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
