// libFuzzer harness: HEIF header probe (ftyp, ispe, irot/imir boxes), decode and thumbnails for HEIC and AVIF (ImageCore, libheif with its HEVC and AV1 decoders).
import FuzzSupport
import ImageCore

/// Feeds untrusted bytes to `Thumbnailer.render` when they are a HEIC or an AVIF.
enum HEIFThumbnailHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        ThumbnailHarness.run(bytes, formats: [.heic, .avif])
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: HEIFThumbnailHarness.run)
    }
#endif

@main
enum HEIFThumbnailMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: HEIFThumbnailHarness.run)
        #endif
    }
}
