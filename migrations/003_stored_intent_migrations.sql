-- Which stored inflight intents an upgrade moved to another version (the stored_intents step), so an operator can
-- see exactly what it changed. The upgrade that first needs it creates it while the system is drained: a
-- migration that changes what the upgrade path writes is applied only then, never under live traffic.
-- requires_drain: true
-- +up
CREATE TABLE stored_intent_migrations (
    upgrade_id TEXT NOT NULL,
    intent_key TEXT NOT NULL,
    from_version TEXT NOT NULL,
    to_version TEXT NOT NULL,
    migrated_at INTEGER NOT NULL,
    PRIMARY KEY (upgrade_id, intent_key)
);
-- +down
DROP TABLE stored_intent_migrations;
