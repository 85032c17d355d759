// libFuzzer harness: JPEG header probe, decode with shrink-on-load and thumbnails (ImageCore, libjpeg-turbo).
import FuzzSupport
import ImageCore

/// Feeds untrusted bytes to `Thumbnailer.render` when they are a JPEG.
enum JPEGThumbnailHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        ThumbnailHarness.run(bytes, format: .jpeg)
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: JPEGThumbnailHarness.run)
    }
#endif

@main
enum JPEGThumbnailMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: JPEGThumbnailHarness.run)
        #endif
    }
}
