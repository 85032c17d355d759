// libFuzzer harness: GIF header probe, decode of the first frame and thumbnails (ImageCore, giflib).
import FuzzSupport
import ImageCore

/// Feeds untrusted bytes to `Thumbnailer.render` when they are a GIF.
enum GIFThumbnailHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        ThumbnailHarness.run(bytes, format: .gif)
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: GIFThumbnailHarness.run)
    }
#endif

@main
enum GIFThumbnailMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: GIFThumbnailHarness.run)
        #endif
    }
}
