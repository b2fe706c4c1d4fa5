-- What the coordinator's state machine needs: each upgrade's id and full durable record next to the seed's
-- columns, its phases (start, end, outcome) and its migration steps (applying / applied / reverting / reverted),
-- so a restarted coordinator knows exactly where it was and never runs a step twice.
-- requires_drain: false
-- +up
ALTER TABLE upgrade_history ADD COLUMN upgrade_id TEXT;
ALTER TABLE upgrade_history ADD COLUMN state TEXT;
ALTER TABLE upgrade_history ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upgrade_history ADD COLUMN run_json TEXT;
CREATE UNIQUE INDEX idx_upgrade_history_upgrade_id ON upgrade_history(upgrade_id);
ALTER TABLE inflight_checkpoints ADD COLUMN checkpoint_ref TEXT;
CREATE INDEX idx_inflight_checkpoints_ref ON inflight_checkpoints(checkpoint_ref);

CREATE TABLE upgrade_phases (
    upgrade_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    phase TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT, -- 'ok', 'failed', 'aborted', 'interrupted'
    detail TEXT,
    PRIMARY KEY (upgrade_id, seq)
);

CREATE TABLE upgrade_steps (
    upgrade_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL, -- 'applying', 'applied', 'reverting', 'reverted'
    updated_at INTEGER NOT NULL,
    detail TEXT,
    PRIMARY KEY (upgrade_id, seq)
);

CREATE TABLE coordinator_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- +down
DROP TABLE coordinator_state;
DROP TABLE upgrade_steps;
DROP TABLE upgrade_phases;
DROP INDEX idx_inflight_checkpoints_ref;
ALTER TABLE inflight_checkpoints DROP COLUMN checkpoint_ref;
DROP INDEX idx_upgrade_history_upgrade_id;
ALTER TABLE upgrade_history DROP COLUMN run_json;
ALTER TABLE upgrade_history DROP COLUMN seq;
ALTER TABLE upgrade_history DROP COLUMN state;
ALTER TABLE upgrade_history DROP COLUMN upgrade_id;
