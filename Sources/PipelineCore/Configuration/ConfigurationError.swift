// Errors of configuration loading: which file or variable, and what is wrong with it.

/// Why the configuration could not be loaded.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not valid YAML/JSON for the configuration.
    case malformed(path: String, reason: String)
    /// An environment variable holds a value of the wrong kind.
    case badEnvironment(variable: String, value: String, expected: String)
    /// A value is out of its range.
    case invalid(key: String, reason: String)
    /// An environment variable sets a value out of its range.
    case invalidVariable(variable: String, value: String, key: String, reason: String)
    /// The file sets a value out of its range, at `line`; `value` is the scalar it gave.
    case invalidInFile(path: String, line: Int?, key: String, value: String?, reason: String)

    /// The key whose value is out of its range and why, wherever the value was given.
    public var refused: (key: String, reason: String)? {
        switch self {
        case .invalid(let key, let reason), .invalidVariable(_, _, let key, let reason),
            .invalidInFile(_, _, let key, _, let reason):
            return (key, reason)
        default:
            return nil
        }
    }
    /// The file holds a key the configuration does not have (a typo, most likely).
    case unknownKey(path: String, key: String, line: Int?, suggestion: String?)
    /// A `PICPIPE_*` variable that picpipe does not read (a typo, most likely).
    case unknownVariable(name: String, suggestion: String?)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read the configuration file \(path): \(reason)"
        case .malformed(let path, let reason): return "the configuration file \(path) is not valid: \(reason)"
        case .badEnvironment(let variable, let value, let expected):
            return "environment variable \(variable)='\(value)': expected \(expected)"
        case .invalid(let key, let reason): return "configuration '\(key)': \(reason)"
        case .invalidVariable(let variable, let value, let key, let reason):
            return "environment variable \(variable)='\(value)': \(key) \(reason)"
        case .invalidInFile(let path, let line, let key, let value, let reason):
            let place = line.map { " (line \($0))" } ?? ""
            return "the configuration file \(path) is not valid: \(key)\(place): \(reason)"
                + (value.map { ", not \($0)" } ?? "")
        case .unknownKey(let path, let key, let line, let suggestion):
            let place = line.map { "\(path), line \($0)" } ?? path
            return "the configuration file \(place): unknown key '\(key)'"
                + (suggestion.map { "; did you mean '\($0)'?" } ?? " (`picpipe config` prints every key)")
        case .unknownVariable(let name, let suggestion):
            return "unknown environment variable \(name)"
                + (suggestion.map { "; did you mean \($0)?" } ?? "")
                + " (picpipe refuses PICPIPE_* variables it does not read; `picpipe config --help` lists them)"
        }
    }
}
