// libFuzzer harness: WebP header probe (RIFF chunks), decode and thumbnails (ImageCore, libwebp and libwebpdemux).
import FuzzSupport
import ImageCore

/// Feeds untrusted bytes to `Thumbnailer.render` when they are a WebP (still or animated, lossy or lossless).
enum WebPThumbnailHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        ThumbnailHarness.run(bytes, format: .webp)
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: WebPThumbnailHarness.run)
    }
#endif

@main
enum WebPThumbnailMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: WebPThumbnailHarness.run)
        #endif
    }
}
