// The libexif the metadata service reads EXIF with, for `picpipe --version`.
import CEXIF
import ImageCore

extension LinkedLibrary {
    /// libexif. It has no call that reports its version, so the loaded file (whose name carries the library's
    /// ABI version, as Debian's package does) is what identifies it.
    public static var libexif: LinkedLibrary {
        LinkedLibrary(
            name: "libexif", version: "(no version call; see the file)",
            file: file(named: "libexif.so"))
    }
}
