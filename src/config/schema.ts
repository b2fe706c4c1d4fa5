/**
 * The one schema of intent-gate's configuration: the TOML file's sections and keys, their types and defaults.
 * Types come from the same source (`Config = Static<typeof ConfigSchema>`). Every object refuses unknown keys.
 */
import { Type, type SchemaOptions, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * The two upstream colors: the one definition the `Color` type, the config and admin API schemas, the CLI's
 * choices, the store's readers and the metrics' labels all read.
 */
export const COLORS = ['blue', 'green'] as const
export type Color = typeof COLORS[number]
/** A JSON schema for one color. */
export const ColorSchema = (options: SchemaOptions = {}) => Type.Union(COLORS.map((c) => Type.Literal(c)), options)
export function isColor (value: unknown): value is Color {
  return (COLORS as readonly unknown[]).includes(value)
}

const section = <T extends TProperties>(props: T): TObject<T> => Type.Object(props, { additionalProperties: false, default: {} })
const listen = (def: string) => Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$', default: def, description: 'HOST:PORT' })
const secs = (def: number) => Type.Integer({ minimum: 0, default: def })
const positive = (def: number) => Type.Integer({ minimum: 1, default: def })

export const UpstreamSchema = Type.Object({
  url: Type.String({ pattern: '^https?://' }),
  versions: Type.Array(Type.String(), { minItems: 1, default: ['1.0'] }),
  health_path: Type.String({ pattern: '^/', default: '/healthz' }),
  /** How often the active health check runs. */
  health_interval_ms: positive(1000),
  /** A health check slower than this counts as failed. */
  health_timeout_ms: positive(1000),
  /** Consecutive successes that make an unhealthy upstream healthy. */
  healthy_threshold: positive(2),
  /** Consecutive failures that make a healthy upstream unhealthy. */
  unhealthy_threshold: positive(3),
  /** Keep-alive connections in the undici pool for this upstream. */
  connections: positive(64)
}, { additionalProperties: false })

const DeprecationSchema = Type.Object({
  since: Type.String({ format: 'date-time' }),
  sunset: Type.String({ format: 'date-time' }),
  link: Type.String({ pattern: '^https?://' })
}, { additionalProperties: false })

export const ConfigSchema = Type.Object({
  proxy: section({
    listen: listen('0.0.0.0:8080'),
    intent_path: Type.String({ pattern: '^/[^?#]*[^/?#]$', default: '/intents' }),
    max_body_bytes: positive(65536),
    upstream_timeout_ms: positive(10000),
    shutdown_grace_secs: secs(30),
    /** After a leave or SIGTERM, keep admitting this long (load balancers see /readyz 503 first), then refuse. */
    leave_grace_secs: secs(5),
    initial_active: ColorSchema({ default: COLORS[0] }),
    /** How often the reconciler polls the owning upstream for each inflight intent's status. */
    reconcile_interval_ms: positive(5000),
    /** Retry-After while draining without a deadline (no better estimate exists). */
    drain_retry_after_secs: positive(5),
    /** The longest Retry-After an operator's drain ever gives (however far its deadline, however slow its decay). */
    drain_retry_after_max_secs: positive(60),
    /** How long a replayable idempotency record is kept. */
    idempotency_ttl_secs: positive(86400),
    /** Refuse (401) an intent whose owner or signature does not verify, before anything is registered. */
    verify_signatures: Type.Boolean({ default: true }),
    /** A deadline further ahead than this is refused (400): such an intent would hold every later drain. */
    max_intent_lifetime_secs: positive(604800),
    /** CIDRs of proxies in front of the gateway whose X-Forwarded-* headers are kept (and extended). */
    trusted_proxies: Type.Array(Type.String({ pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' }), { default: [] }),
    /** A client must send its request head within this (slowloris); 408 and the connection closed. */
    headers_timeout_ms: positive(10000),
    /** A client must send its whole request, body included, within this (slow bodies); 408 and closed. */
    request_timeout_ms: positive(30000),
    /** A keep-alive connection idle this long is closed. */
    keep_alive_timeout_ms: positive(5000),
    /** Open client connections at most; beyond, new ones are closed at once (keep it under the descriptor limit). */
    max_connections: positive(4000),
    /** Open `/.well-known/intent-gate/events` streams at most, overall and per client address; beyond, 503. */
    max_event_streams: positive(1000),
    max_event_streams_per_peer: positive(8),
    /** Idempotency keys one owner may hold at once (each kept `idempotency_ttl_secs`); beyond, 429. */
    max_keys_per_owner: positive(100_000)
  }),
  admin: section({
    listen: listen('127.0.0.1:9090'),
    token_env: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: 'INTENT_GATE_ADMIN_TOKEN' }),
    /** Host names (port ignored) /admin/* and /status answer besides loopback names and the listen address. */
    allowed_hosts: Type.Array(Type.String({ pattern: '^[A-Za-z0-9.:_\\[\\]-]+$' }), { default: [] }),
    /**
     * A second listener with only /healthz, /readyz and /metrics (for the kubelet and Prometheus), so `listen`
     * can stay on loopback. Empty: none.
     */
    probes_listen: Type.String({ pattern: '^$|^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$', default: '', description: 'HOST:PORT or empty' }),
    /** Open `/status/events` streams at most, overall and per client address; beyond, 503. */
    max_event_streams: positive(64),
    max_event_streams_per_peer: positive(4)
  }),
  redis: section({
    /** Unset: the embedded single-instance store. */
    url: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    namespace: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', default: 'default' }),
    sentinels: Type.Optional(Type.Array(Type.String({ pattern: '^[^:\\s]+:[0-9]{1,5}$' }), { minItems: 1 })),
    sentinel_name: Type.Optional(Type.String({ minLength: 1 })),
    /** Redis Cluster seed nodes (`host:port`); instead of url and sentinels. */
    cluster_nodes: Type.Optional(Type.Array(Type.String({ pattern: '^[^:\\s]+:[0-9]{1,5}$' }), { minItems: 1 })),
    /** The ACL user for sentinels' data nodes and cluster nodes (with a url, its user part; empty: `default`). */
    username: Type.String({ default: '' }),
    /** Name of the env var holding the Redis password (never logged); empty: the URL's password, if any. */
    password_env: Type.String({ pattern: '^([A-Za-z_][A-Za-z0-9_]*)?$', default: '' }),
    /** TLS to every Redis node (sentinels, cluster nodes); a rediss:// url implies it. */
    tls: Type.Boolean({ default: false }),
    /** CA bundle (PEM file) that signs the Redis servers' certificates; empty: the system's CAs. */
    tls_ca_file: Type.String({ default: '' }),
    /** After each admission, WAIT until this many replicas hold it (0: do not wait). */
    wait_replicas: Type.Integer({ minimum: 0, default: 0 }),
    /** How long an admission waits for its replicas before it is released and refused (503). */
    wait_timeout_ms: positive(500),
    /** How often each instance re-reads the shared drain/active/upgrade keys (changes are seen within this). */
    poll_interval_ms: positive(250),
    /** A store command without an answer within this fails (the caller fails closed) instead of waiting. */
    command_timeout_ms: positive(1000)
  }),
  upstreams: Type.Object({
    blue: Type.Optional(UpstreamSchema),
    green: Type.Optional(UpstreamSchema)
  }, { additionalProperties: false, default: {} }),
  versions: section({
    accepted: Type.Array(Type.String(), { minItems: 1, default: ['1.0', '2.0'] }),
    default: Type.String({ default: '1.0' }),
    deprecated: Type.Record(Type.String(), DeprecationSchema, { default: {} }),
    /**
     * Intent formats from outside the package (docs/extending.md): files, relative to the configuration file's
     * folder, or package names, each exporting a version's `spec` and/or translation `steps`. After loading,
     * each entry is the absolute path of the module file.
     */
    modules: Type.Array(Type.String({ minLength: 1 }), { default: [] })
  }),
  chain: section({
    /** false: no chain (no IBC watcher, no contract steps); the demo without a chain uses it. */
    enabled: Type.Boolean({ default: true }),
    rpc_url: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:26657' }),
    chain_id: Type.String({ minLength: 1, default: 'intent-local-1' }),
    settlement_contract: Type.String({ default: '' }),
    signer_mnemonic_env: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: 'INTENT_GATE_SIGNER_MNEMONIC' }),
    gas_price: Type.String({ pattern: '^[0-9.]+[a-zA-Z][a-zA-Z0-9/]*$', default: '0.025ustake' }),
    /** Every gateway tx carries timeout_height = the chain's height + this; a revert after a takeover waits past it. */
    tx_timeout_blocks: positive(20),
    /** Further contracts an upgrade may migrate, by name (`settlement` is settlement_contract's). */
    contracts: Type.Record(Type.String({ pattern: '^(?!settlement$)[a-z][a-z0-9_-]{0,31}$' }), Type.String({ minLength: 1 }), { default: {}, additionalProperties: false })
  }),
  ibc: section({
    channels: Type.Array(Type.String({ pattern: '^channel-[0-9]+$' }), { default: ['channel-0'] }),
    /** The source port of the watched channels (ICS-20 `transfer`, or `wasm.<contract>` for a contract's own port). */
    port: Type.String({ pattern: '^[a-zA-Z0-9._+\\-#\\[\\]<>]{2,128}$', default: 'transfer' }),
    stale_packet_secs: positive(600),
    /** How often the watcher reconciles its pending set with the chain's packet commitments. */
    reconcile_interval_secs: positive(30)
  }),
  coordinator: section({
    database: Type.String({ minLength: 1, default: 'var/intent-gate.sqlite' }),
    /** The leader lease's time to live; a leader that cannot renew within it stops acting. */
    lease_ttl_ms: positive(10000)
  }),
  upgrade: section({
    drain_timeout_secs: secs(1800),
    force_after_timeout: Type.Boolean({ default: false }),
    extend_timeout_secs: secs(3600),
    min_upgrade_interval_secs: secs(86400),
    /** During a coordinated upgrade a new submission waits this long for it to end before 503 (0: refuse at once). */
    hold_new_intents_secs: secs(10),
    /** At most this many submissions held at once per instance; beyond, 503 at once. */
    hold_max_intents: positive(10000),
    /** At most this many bytes of held submissions (their compact bodies) per instance; beyond, 503 at once. */
    hold_max_bytes: positive(64 * 1024 * 1024)
  }),
  /** The verifying phase: after resuming, the new version's answers are watched. */
  analysis: section({
    /** How long (0: no verifying phase). */
    watch_secs: secs(0),
    /** (5xx + transport failures) / answers of the new upstream above this rolls the upgrade back. */
    max_error_ratio: Type.Number({ minimum: 0, maximum: 1, default: 0.01 }),
    /** Fewer answers than this in the window decide nothing (the phase ends `inconclusive`). */
    min_requests: positive(50)
  }),
  checkpoint: section({
    checkpoint_dir: Type.String({ minLength: 1, default: '/var/lib/atom-intents/checkpoints' }),
    retention_days: secs(30),
    compress_threshold_mb: secs(100)
  }),
  rollback: section({
    auto_rollback: Type.Boolean({ default: true }),
    max_rollback_attempts: positive(3),
    rollback_retry_delay_secs: secs(30)
  }),
  health_checks: section({
    pre_checks: Type.Array(Type.String(), { default: ['settlement_store', 'ibc_relayer', 'contract_state'] }),
    post_checks: Type.Array(Type.String(), { default: ['settlement_store', 'ibc_relayer', 'contract_state', 'api_endpoints'] }),
    check_timeout_secs: positive(30)
  }),
  log: section({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' })
  })
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>
/**
 * Every default of the schema, filled in as the loader fills them: what a part built in code (a test, a tool)
 * falls back to for a key it leaves out, so no default is written twice.
 */
export const CONFIG_DEFAULTS = Value.Default(ConfigSchema, {}) as Config

/**
 * A section as code gives it (a test, a tool) with every default filled in, as the loader fills them: the parts
 * read a loaded section, whose keys are never optional, and take code's settings through this.
 */
export function withDefaults<K extends keyof Config> (section: K, settings: Partial<Config[K]>): Config[K] {
  return { ...CONFIG_DEFAULTS[section], ...settings }
}
export type RedisConfig = Config['redis']
/** A store's settings as code gives them: any key left out takes its default from the schema. */
export type RedisSettings = Partial<RedisConfig>
export const withRedisDefaults = (settings: RedisSettings): RedisConfig => withDefaults('redis', settings)
export type UpstreamConfig = Static<typeof UpstreamSchema>
/** Health checks the coordinator knows; anything else in `[health_checks]` is refused at start. */
export const HEALTH_CHECK_NAMES = ['settlement_store', 'ibc_relayer', 'contract_state', 'api_endpoints', 'upstreams'] as const
