// The sentences of ImageError: the codec library's own words are not repeated.
import Testing

@testable import ImageCore

struct ImageErrorTests {
    @Test func corruptDataDoesNotRepeatTheLibrarysLead() {
        let repeated = ImageError.corrupt(
            format: .jpeg, detail: "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9")
        #expect(repeated.description == "corrupt JPEG data: 3 extraneous bytes before marker 0xd9")
        let warning = ImageError.corrupt(format: .jpeg, detail: "Warning: unknown JFIF revision number 113.121")
        #expect(warning.description == "corrupt JPEG data: unknown JFIF revision number 113.121")
        #expect(
            ImageError.corrupt(format: .png, detail: "IDAT: CRC error").description
                == "corrupt PNG data: IDAT: CRC error")
    }
}
