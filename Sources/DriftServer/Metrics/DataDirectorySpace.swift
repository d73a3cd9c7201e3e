#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes an unprivileged writer can still use on the filesystem of `path` (statvfs's
/// `f_bavail × f_frsize`); nil when the filesystem cannot be asked.
func freeBytes(atPath path: String) -> Double? {
    var s = statvfs()
    guard statvfs(path, &s) == 0 else { return nil }
    return Double(s.f_bavail) * Double(s.f_frsize)
}
