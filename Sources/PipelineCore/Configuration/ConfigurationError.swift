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

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read the configuration file \(path): \(reason)"
        case .malformed(let path, let reason): return "the configuration file \(path) is not valid: \(reason)"
        case .badEnvironment(let variable, let value, let expected):
            return "environment variable \(variable)='\(value)': expected \(expected)"
        case .invalid(let key, let reason): return "configuration '\(key)': \(reason)"
        }
    }
}
