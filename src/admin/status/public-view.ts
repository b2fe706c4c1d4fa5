/**
 * What the status page shows without the token. The anonymous page answers "is it up, is it accepting, how busy,
 * is an upgrade running and how far": mode and counts, each upstream's color, health, versions and inflight count,
 * the running upgrade's state and phases, IBC pending packets (public chain facts), the request, refusal and
 * hold rates, this instance's id and how many of the fleet's instances are serving, leaving or gone. Kept behind
 * the token: each instance's id, release, layout and what it journaled (which hosts run which release is a map
 * for an attacker), as on the admin API: upstream URLs and their last errors (internal addresses
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

const INSTANCE_STATES = ['serving', 'leaving', 'gone'] as const

/** How many instances are in each state: all the public view says of the fleet. */
function instanceCounts (instances: unknown): Json | null {
  const list = (instances as Json | null)?.['instances']
  if (!Array.isArray(list)) return null
  const counts: Record<string, number> = Object.fromEntries(INSTANCE_STATES.map((s) => [s, 0]))
  for (const i of list) {
    const state = (i as Json | null)?.['state']
    if (typeof state === 'string' && state in counts) counts[state] = (counts[state] ?? 0) + 1
  }
  return { counts }
}

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
    // Which of the fleet's pages this is (a host name and a random tail); the others' ids stay behind the token.
    instance: full['instance'] ?? null,
    instances: instanceCounts(full['instances']),
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
