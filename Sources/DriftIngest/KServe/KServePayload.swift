import DriftCore

/// What one KServe inference payload (as the payload logger's CloudEvents carry it) says,
/// row by row. A request gives feature values, a response gives predictions; the server joins
/// the two halves by the CloudEvent id.
public struct KServePayload: Sendable, Equatable {
    /// Which half of an inference the payload is.
    public enum Kind: Sendable, Equatable {
        /// v1 `instances` / v2 `inputs`.
        case request
        /// v1 `predictions` / v2 `outputs`.
        case response
    }

    /// The inference protocol the payload speaks.
    public enum ProtocolVersion: Sendable, Equatable {
        /// `{"instances": …}` / `{"predictions": …}`
        case v1
        /// Open Inference Protocol: `{"inputs": [{"name","shape","datatype","data"}]}` /
        /// `{"outputs": [...]}`
        case v2
    }

    public var kind: Kind
    public var protocolVersion: ProtocolVersion
    /// Number of rows (instances, or the first dimension of the tensors).
    public var rowCount: Int
    /// Requests: feature name → one value per row; numeric columns stay unboxed (`.numbers`,
    /// NaN in missing rows). Every name of `featureNames` is present (missing where the payload
    /// had fewer positions). Empty for responses.
    public var columns: [String: IngestColumn]
    /// Responses: one cell per row. Empty for requests.
    public var predictions: [Cell]
    /// The v2 payload's `id`, when it has one.
    public var id: String?
    /// Responses: the output (v2) or key (v1 prediction objects) the predictions were taken
    /// from, when the payload named one.
    public var output: String?

    /// `columns` cell by cell.
    public var features: [String: [Cell]] {
        columns.mapValues { column in (0..<column.count).map { column.cell(at: $0) } }
    }

    public init(kind: Kind, protocolVersion: ProtocolVersion, rowCount: Int, columns: [String: IngestColumn],
                predictions: [Cell], id: String?, output: String? = nil) {
        self.kind = kind
        self.protocolVersion = protocolVersion
        self.rowCount = rowCount
        self.columns = columns
        self.predictions = predictions
        self.id = id
        self.output = output
    }
}

/// How much one KServe event may carry. The payload logger sends each inference request and
/// response whole, one event each, so these bound what one inference call may hold; they
/// bound the memory one event costs driftwatch while it is decoded (measured: README, KServe).
public struct KServeLimits: Sendable, Equatable {
    /// Rows: v1 instances or predictions, or a v2 tensor's first dimension.
    public var maxRows: Int
    /// Values: the cells of the decoded payload (rows × columns over all tensors), and, with
    /// one more per row and a little room for the envelope, the JSON values of the body.
    public var maxValues: Int

    public init(maxRows: Int = 100_000, maxValues: Int = 2_000_000) {
        self.maxRows = maxRows
        self.maxValues = maxValues
    }

    /// 100,000 rows and 2,000,000 values per event.
    public static let standard = KServeLimits()

    /// JSON values the body may hold: every cell, an array per row, and the envelope.
    var maxJSONValues: Int {
        let (withRows, o1) = maxValues.addingReportingOverflow(maxRows)
        let (total, o2) = withRows.addingReportingOverflow(1024)
        return o1 || o2 ? Int.max : total
    }

    /// The sentence a 413 answer ends with: what the sender can change.
    var advice: String {
        "a KServe event may carry at most \(maxRows) rows and \(maxValues) values (rows × columns); send smaller inference batches to the model (the payload logger forwards each request and response whole)"
    }
}

/// Why a KServe body was not read.
public struct KServeDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of answer the error deserves.
    public enum Kind: Sendable, Equatable {
        /// Not JSON, or not a KServe v1/v2 payload driftwatch reads (HTTP 400).
        case malformed
        /// Over `KServeLimits` (HTTP 413).
        case tooLarge
        /// A response with several outputs and nothing that says which one is the prediction
        /// (HTTP 422: the model settings' `kserve.output` decides).
        case ambiguousOutput
    }

    public var kind: Kind
    /// One sentence that says what is wrong and what to change.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Decodes a KServe v1 or v2 (Open Inference Protocol) request or response body.
///
/// Requests:
/// - v1 `{"instances": [[1.0, "DE"], …]}`: positional; position k is named `featureNames[k]`,
///   positions past the end of `featureNames` are named `f<k>`, names without a position are
///   missing. `{"instances": [{"amount": 1.0}, …]}`: named by the keys. A scalar instance is a
///   single positional feature. TensorFlow's `{"inputs": [[…]]}` / `{"inputs": {"name": […]}}`
///   are read the same way.
/// - v2 `{"inputs": [{"name", "shape", "datatype", "data"}]}`: `data` flat (row-major, checked
///   against `shape`) or nested. One input (KServe's `input-0` of shape [n, k]) → its columns
///   are positional as above, whatever the input's name (a tensor of more than two dimensions
///   is flattened per row), except that a one-column input named like one of `featureNames`
///   is that feature. Several inputs (one tensor per feature, as MLServer's pandas codec
///   sends) → each input is a feature named by its `name`, and an input with k > 1 columns
///   gives `<name>.0` … `<name>.<k-1>`. `BYTES` data become text, `BOOL` 1/0.
///
/// Responses:
/// - The prediction is the only output, whatever its name (KServe's `output-0`, MLServer's
///   `predict`). With several outputs (v2 `outputs`, the keys of v1 prediction objects, or
///   TensorFlow's `{"outputs": {"name": […]}}`): the one named `outputName` (the model
///   settings' `kserve.output`), else the one named `predictionName` (the model's prediction
///   column), else `KServeDecodingError.Kind.ambiguousOutput` listing the outputs present.
/// - v1 `{"predictions": [0.93, …]}` (or class labels). `BYTES` outputs (class labels) become
///   text, `BOOL` 1/0.
/// - A 2-D prediction per row, such as class probabilities `[[p0, p1], …]` or a v2 output of
///   shape `[rows, 2]`, is reduced to its **last column**, taken as the positive-class score
///   (for a binary classifier, P(class 1)). Multi-class models whose positive class is not the
///   last should log a 1-D score instead.
///
/// Every count and shape from the body is checked (no arithmetic on them can overflow) and
/// bounded by `limits`: more rows or values than it allows is `.tooLarge`, found before the
/// payload's columns are built (the JSON tree itself stops growing at the limit).
///
/// - Throws: `KServeDecodingError` for anything that is not one of these shapes.
public func decodeKServeInference(_ body: [UInt8], featureNames: [String], outputName: String? = nil,
                                  predictionName: String? = nil,
                                  limits: KServeLimits = .standard) throws(KServeDecodingError) -> KServePayload {
    let root: JSONValue
    do {
        root = try JSONValue.parse(body, maxValues: limits.maxJSONValues)
    } catch {
        switch error {
        case .syntax(let message): throw KServeDecodingError(.malformed, message)
        case .tooManyValues:
            throw KServeDecodingError(.tooLarge, "the body holds more than \(limits.maxJSONValues) JSON values; \(limits.advice)")
        }
    }
    guard case .object = root else {
        throw KServeDecodingError(.malformed, "a KServe payload must be a JSON object, found \(root.kindName)")
    }
    var id: String? = nil
    if case .string(let s)? = root.member("id") { id = s }

    let choice = OutputChoice(outputName: outputName, predictionName: predictionName)
    var payload: KServePayload
    if let instances = root.member("instances") {
        payload = try decodeV1Instances(instances, field: "instances", featureNames: featureNames, limits: limits)
    } else if let inputs = root.member("inputs") {
        payload = isV2TensorList(inputs)
            ? try decodeV2Inputs(inputs, featureNames: featureNames, limits: limits)
            : try decodeV1Instances(inputs, field: "inputs", featureNames: featureNames, limits: limits)
    } else if let predictions = root.member("predictions") {
        payload = try decodeV1Predictions(predictions, field: "predictions", choice: choice, limits: limits)
    } else if let outputs = root.member("outputs") {
        payload = isV2TensorList(outputs)
            ? try decodeV2Outputs(outputs, choice: choice, limits: limits)
            : try decodeV1Predictions(outputs, field: "outputs", choice: choice, limits: limits)
    } else {
        throw malformed(
            "not a KServe inference payload: expected \"instances\" or \"inputs\" (request), \"predictions\" or \"outputs\" (response)")
    }
    payload.id = id
    return payload
}
