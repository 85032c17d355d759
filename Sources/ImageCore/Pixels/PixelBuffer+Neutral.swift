// Whether an RGB(A) picture holds only grays: a gray ICC profile fits it.
extension PixelBuffer {
    /// Every pixel has R = G = B (a 1- or 2-channel buffer is gray by its layout).
    var isNeutral: Bool {
        guard channels >= 3 else { return true }
        return bytes.withUnsafeBufferPointer { pixels in
            var index = 0
            while index + 2 < pixels.count {
                if pixels[index] != pixels[index + 1] || pixels[index] != pixels[index + 2] { return false }
                index += channels
            }
            return true
        }
    }
}
