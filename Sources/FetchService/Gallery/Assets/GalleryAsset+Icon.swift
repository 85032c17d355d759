// The gallery's `icon.svg`: the icon. Kept as a literal so the binary carries it.
extension GalleryAsset {
    static let icon = GalleryAsset(
        name: "icon.svg", contentType: "image/svg+xml",
        text: #"""
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b57d0"/><path d="M6 23l6-8 5 6 3-4 6 6z" fill="#fff"/><circle cx="22" cy="10" r="3" fill="#fff"/></svg>
"""#)
}
