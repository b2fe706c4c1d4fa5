/**
 * The admin API's bearer token, read from the environment variable `[admin] token_env` names. No token, no
 * start: a gateway whose admin port anyone could drive is worse than one that does not run.
 */
import type { Config } from '../config/schema.js'
import { ConfigError } from '../errors.js'

export function adminToken (config: Pick<Config, 'admin'>, env: Record<string, string | undefined>): string {
  const name = config.admin.token_env
  const token = env[name]
  if (token === undefined || token.trim() === '') {
    throw new ConfigError([`admin.token_env: the environment variable ${name} is not set (the admin API needs a bearer token; no token, no start)`])
  }
  return token
}
