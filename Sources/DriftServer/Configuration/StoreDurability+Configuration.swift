import DriftCore
import DriftStore

/// `durability` in the config file: `process_crash` (the default) or `power_loss`. The store's
/// enum has no spellings of its own, so the configuration gives it these.
extension StoreDurability: CaseIterable, RawRepresentable, ConfigurationEnum {
    public static var allCases: [StoreDurability] { [.processCrash, .powerLoss] }

    public init?(rawValue: String) {
        switch rawValue {
        case "process_crash": self = .processCrash
        case "power_loss": self = .powerLoss
        default: return nil
        }
    }

    public var rawValue: String {
        switch self {
        case .processCrash: "process_crash"
        case .powerLoss: "power_loss"
        }
    }
}
