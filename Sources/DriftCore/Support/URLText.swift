extension String {
    /// A base URL without its trailing slash, so `base + "/path"` never doubles it.
    public var withoutTrailingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
