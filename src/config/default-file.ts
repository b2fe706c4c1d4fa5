/** Where `serve`, `db` and `contract` look for their configuration when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = 'config/intent-gate.toml'
