/**
 * Which `INTENT_GATE_*` environment variables mean something: every configuration key's override, the secrets
 * the configuration points to by name (`admin.token_env`, `chain.signer_mnemonic_env`, `redis.password_env`),
 * their default names, and the CLI's `INTENT_GATE_ADMIN_URL`. Anything else under the prefix is a typo
 * (`INTENT_GATE_REDIS_NAMESPCE`) that would otherwise start the gateway on a default: it is refused like an
 * unknown key. `INTENT_GATE_SANDBOX_*` belongs to the other binary, `intent-gate-sandbox`.
 */

export const ENV_PREFIX = 'INTENT_GATE_'
/** The CLI's admin URL when `--admin` is not given. */
export const ADMIN_URL_ENV = 'INTENT_GATE_ADMIN_URL'
const OTHER_BINARY_PREFIX = 'INTENT_GATE_SANDBOX_'
// INTENT_GATE_RELEASE_CACHE is the test suite's (where the previous release is kept for the rolling tests): a
// CI job sets it for everything it runs, gateways included.
const ALWAYS_KNOWN = ['INTENT_GATE_ADMIN_TOKEN', 'INTENT_GATE_SIGNER_MNEMONIC', ADMIN_URL_ENV, 'INTENT_GATE_RELEASE_CACHE']

/**
 * The problems (one line per variable, naming it and the closest known name) for every `INTENT_GATE_*` variable
 * in `env` that is neither in `known` nor one of the names above.
 */
export function unknownEnvProblems (env: Record<string, string | undefined>, known: Iterable<string>): string[] {
  const names = new Set([...ALWAYS_KNOWN, ...known])
  const problems: string[] = []
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX) || name.startsWith(OTHER_BINARY_PREFIX) || names.has(name) || env[name] === undefined) continue
    const near = closest(name, names)
    problems.push(`${name}: unknown environment variable (no configuration key has this name${near === null ? '' : `; did you mean ${near}?`})`)
  }
  return problems
}

/** The known name within a small edit distance of `name` (a typo), or null. */
function closest (name: string, names: Iterable<string>): string | null {
  let best: string | null = null
  let bestDistance = Math.max(3, Math.floor(name.length / 6)) + 1
  for (const candidate of names) {
    const d = editDistance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      row[j] = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, substitution)
    }
    previous = row
  }
  return previous[b.length] as number
}
