// The shipped config/intent-gate.toml: it loads, it says exactly the schema's defaults (plus the two example
// upstreams, which have none, and the chain off so the file runs as shipped without a chain to read), and it mentions
// every key the schema knows, so the file cannot fall behind it.
import t from 'tap'
import { readFileSync } from 'node:fs'
import type { TSchema } from '@sinclair/typebox'
import { loadConfig } from '../../src/config/load.js'
import { ConfigSchema } from '../../src/config/schema.js'

const FILE = new URL('../../config/intent-gate.toml', import.meta.url).pathname

t.test('the shipped file loads and equals the schema defaults', async (t) => {
  const fromFile = loadConfig({ file: FILE, env: {} })
  // Defaults alone have no upstreams (they have no default); name the two the file ships, nothing else.
  const defaults = loadConfig({
    env: {
      INTENT_GATE_UPSTREAMS_BLUE_URL: 'http://127.0.0.1:7001',
      INTENT_GATE_UPSTREAMS_GREEN_URL: 'http://127.0.0.1:7002',
      INTENT_GATE_UPSTREAMS_GREEN_VERSIONS: '2.0',
      INTENT_GATE_CHAIN_ENABLED: 'false'
    }
  })
  t.same(fromFile, defaults)
  t.equal(loadConfig({ env: { INTENT_GATE_UPSTREAMS_BLUE_URL: 'http://127.0.0.1:7001' } }).chain.enabled, true, 'the chain is on by default; the file turns it off')
  t.equal(fromFile.redis.url, undefined, 'no redis url: the embedded store is the default')
})

/** Every leaf key of the schema as `section.key` (upstream keys as `upstreams.blue.key`). */
function schemaKeys (schema: TSchema, path: string[] = []): string[] {
  if (schema.type === 'object' && schema.properties !== undefined) {
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([k, sub]) => schemaKeys(sub, [...path, k]))
  }
  return [path.join('.')]
}

/** Keys the file mentions, set or commented out (`# key = ...` under its `[section]`). */
function fileKeys (text: string): Set<string> {
  const keys = new Set<string>()
  let section = ''
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^#\s*(?=\[|[a-z_]+\s*=)/, '')
    const header = /^\[([^\]]+)\]/.exec(line)
    if (header !== null) {
      section = (header[1] as string).replace(/"[^"]*"/g, '*')
      // A table is itself a key of its parent (`[chain.contracts]` is the key chain.contracts, a map by name).
      keys.add(section)
      continue
    }
    const key = /^([a-z_]+)\s*=/.exec(line)
    if (key !== null) keys.add(`${section}.${key[1] as string}`)
  }
  return keys
}

t.test('every schema key appears in the shipped file with a comment', async (t) => {
  const text = readFileSync(FILE, 'utf8')
  const inFile = fileKeys(text)
  const missing = schemaKeys(ConfigSchema).filter((k) => !inFile.has(k))
  t.same(missing, [], 'schema keys missing from config/intent-gate.toml')
  const uncommented = text.split('\n').filter((l) => /^[a-z_]+\s*=/.test(l) && !l.includes('#'))
  t.same(uncommented, [], 'keys without a one-line comment')
})
