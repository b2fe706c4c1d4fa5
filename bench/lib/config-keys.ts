/**
 * Which config keys this checkout's gateway knows (from its own schema): a row that needs a key another change
 * is still adding (`[proxy] verify_signatures`, `[redis] wait_replicas`) prints "n/a" until it exists, and the
 * bench never writes a key the gateway would refuse at start.
 */
import { ConfigSchema } from '../../src/config/schema.js'

export function configHasKey (section: string, key: string): boolean {
  const sections = ConfigSchema.properties as Record<string, { properties?: Record<string, unknown> } | undefined>
  return sections[section]?.properties?.[key] !== undefined
}
