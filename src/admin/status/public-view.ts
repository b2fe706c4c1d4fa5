/**
 * What the status page shows without the token. The anonymous page answers "is it up, is it accepting, how busy,
 * is an upgrade running and how far": mode and counts, each upstream's color, health, versions and inflight count,
 * the running upgrade's state and phases, IBC pending packets (public chain facts), and the request, refusal and
 * hold rates. Kept behind the token, as on the admin API: upstream URLs and their last errors (internal addresses
 * and failure text), the upgrade's error text and its contracts and checksums, the upgrade history and the
 * checkpoints. Fields are picked, never dropped, so a field added later stays private until someone decides.
 */

type Json = Record<string, unknown>

const pick = (from: unknown, keys: readonly string[]): Json | null => {
  if (typeof from !== 'object' || from === null) return null
  const out: Json = {}
  for (const k of keys) if (Object.hasOwn(from, k)) out[k] = (from as Json)[k]
  return out
}

// The drain's reason and deadline are public on the proxy port too (`/.well-known/intent-gate/status`).
const DRAIN = ['mode', 'inflight_settlements', 'pending_ibc_packets', 'oldest_inflight_age_secs', 'started_at', 'deadline', 'reason'] as const
const UPSTREAMS = ['active', 'store'] as const
const UPSTREAM = ['color', 'versions', 'active', 'healthy', 'health', 'last_check_at', 'last_check_latency_ms', 'inflight'] as const
const UPGRADE = ['upgrade_id', 'state', 'from_version', 'target_version', 'progress_pct', 'estimated_completion', 'estimated_resume_at'] as const
const PHASE = ['phase', 'started_at', 'ended_at', 'outcome'] as const
const IBC = ['port', 'channel', 'sequence', 'sent_height', 'age_secs', 'stale'] as const

export function publicSnapshot (full: Json): Json {
  const upstreams = pick(full['upstreams'], UPSTREAMS)
  if (upstreams !== null) {
    const list = (full['upstreams'] as Json)['upstreams']
    upstreams['upstreams'] = Array.isArray(list) ? list.map((u) => pick(u, UPSTREAM)) : []
  }
  const upgrade = pick(full['upgrade'], UPGRADE)
  if (upgrade !== null) {
    const phases = (full['upgrade'] as Json)['phases']
    upgrade['phases'] = Array.isArray(phases) ? phases.map((p) => pick(p, PHASE)) : []
  }
  const ibc = full['ibc']
  return {
    at: full['at'],
    full: false,
    // Which fleet this is, and what the proxy's clients are told: both public on the proxy port too.
    namespace: full['namespace'] ?? null,
    clients: full['clients'] ?? null,
    drain: pick(full['drain'], DRAIN),
    upstreams,
    upgrade,
    ibc: Array.isArray(ibc) ? ibc.map((p) => pick(p, IBC)) : null,
    checkpoints: null,
    history: null,
    counters: full['counters']
  }
}
