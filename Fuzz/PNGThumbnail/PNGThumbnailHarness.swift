// libFuzzer harness: PNG header probe, decode with shrink-on-load and thumbnails (ImageCore, libpng).
import FuzzSupport
import ImageCore

/// Feeds untrusted bytes to `Thumbnailer.render` when they are a PNG.
enum PNGThumbnailHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        ThumbnailHarness.run(bytes, format: .png)
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: PNGThumbnailHarness.run)
    }
#endif

@main
enum PNGThumbnailMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: PNGThumbnailHarness.run)
        #endif
    }
}
