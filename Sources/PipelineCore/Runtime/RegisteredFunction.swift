// A function with the settings the runtime runs it under.

/// A function and its Lambda-style settings, as registered with the runtime.
public struct RegisteredFunction: Sendable {
    /// The handler.
    public var function: any PipelineFunction
    /// Its timeout, memory, concurrency, retries, event age and on-failure destination.
    public var configuration: FunctionConfiguration
    /// The settings it was registered with (the configuration file's), which the Lambda API's changes replace in
    /// `configuration` and which come back when such a change is deleted (DeleteFunctionEventInvokeConfig).
    public let registeredConfiguration: FunctionConfiguration

    /// - Parameters: see the properties.
    public init(_ function: any PipelineFunction, configuration: FunctionConfiguration) {
        self.function = function
        self.configuration = configuration
        self.registeredConfiguration = configuration
    }

    /// The function's name.
    public var name: String { function.name }
}
