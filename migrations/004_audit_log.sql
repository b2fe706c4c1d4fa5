-- The audit log: every state change an operator caused (drain, swap, upgrade start/abort, versions policy...),
-- through any door (admin API, CLI, status page, a Redis key the gateway noticed). GET /admin/audit reads it,
-- newest first. Only appended to. An operator's action cannot wait for the drain 003 needs, so the gateway also
-- runs this file's +up at start when it is still pending (IF NOT EXISTS: the migration then finds it done).
-- +up
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    via TEXT NOT NULL,
    origin TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    reason TEXT
);
-- +down
DROP TABLE IF EXISTS audit_log;
