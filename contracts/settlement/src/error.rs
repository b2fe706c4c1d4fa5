use cosmwasm_std::StdError;
use thiserror::Error;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("Unauthorized: {0}")]
    Unauthorized(String),

    #[error("Settlement {0} already exists")]
    SettlementExists(String),

    #[error("Settlement {0} not found")]
    SettlementNotFound(String),

    #[error("Settlement {id} is already {phase}")]
    SettlementTerminal { id: String, phase: String },

    #[error("Settlement {id} cannot go from {from} to {to}")]
    PhaseBackwards { id: String, from: String, to: String },

    #[error("Invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },

    #[error("Escrow must be exactly {expected}, got {got}")]
    EscrowMismatch { expected: String, got: String },

    #[error("Cannot migrate: {count} inflight settlements exist")]
    InflightSettlementsExist { count: u64 },

    #[error("Settlements are paused")]
    Paused {},
}
