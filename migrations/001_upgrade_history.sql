-- The seed's upgrade tracking tables. The seed's FOREIGN KEY to `settlements` is dropped: settlements live in the
-- settlement contract on chain, not in this database, so `settlement_id` is the contract's id, kept as text.
-- requires_drain: false
-- +up
CREATE TABLE upgrade_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_from TEXT NOT NULL,
    version_to TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    completed_at INTEGER,
    status TEXT NOT NULL, -- 'in_progress', 'completed', 'rolled_back', 'failed'
    checkpoint_id TEXT,
    settlements_migrated INTEGER DEFAULT 0,
    error_message TEXT
);

CREATE TABLE inflight_checkpoints (
    id TEXT PRIMARY KEY,
    settlement_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    user_funds_locked INTEGER NOT NULL,
    solver_funds_locked INTEGER NOT NULL,
    ibc_sequence INTEGER,
    checkpoint_time INTEGER NOT NULL
);

CREATE INDEX idx_upgrade_history_status ON upgrade_history(status);
CREATE INDEX idx_inflight_checkpoints_time ON inflight_checkpoints(checkpoint_time);
-- +down
DROP INDEX idx_inflight_checkpoints_time;
DROP INDEX idx_upgrade_history_status;
DROP TABLE inflight_checkpoints;
DROP TABLE upgrade_history;
