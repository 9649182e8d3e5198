import Foundation

extension Date {
    /// The date in UTC with a `DateFormatter` pattern, the same on every machine and in every locale.
    public func formattedUTC(_ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = pattern
        return formatter.string(from: self)
    }
}
