/**
 * What every control command shares: the `--admin URL`, `--config FILE` and `--json` options, and the
 * client/output pair they give. A command group file adds its commands with `controlCommand(parent.command('name'))`.
 *
 * The admin URL is `--admin`, else INTENT_GATE_ADMIN_URL, else the default listen address. The token is read
 * from the variable `--config`'s `admin.token_env` names (the gateway's own), else INTENT_GATE_ADMIN_TOKEN. An
 * `INTENT_GATE_*` variable nothing reads is refused (exit 2), as the gateway refuses it: a typo is caught here
 * rather than silently meaning the default.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { createAdminClient, DEFAULT_ADMIN_URL, TOKEN_ENV, type AdminClient } from '../admin/client.js'
import { ADMIN_URL_ENV, unknownEnvProblems } from '../config/env-names.js'
import { ConfigError } from '../errors.js'
import { consoleOutput, type Output } from './output.js'

export interface ControlOptions {
  admin?: string
  config?: string
  json?: boolean
}

export function controlCommand (cmd: Command): Command {
  return cmd
    .option('--admin <url>', `the admin API (default: ${ADMIN_URL_ENV}, else ${DEFAULT_ADMIN_URL})`)
    .option('--config <file>', 'the gateway\'s TOML configuration: the token is read from the variable its admin.token_env names')
    .option('--json', 'machine-readable output (the admin API\'s JSON)')
    .addHelpText('after', `\nThe bearer token is read from ${TOKEN_ENV} (or the variable --config's admin.token_env names).`)
}

export async function controlContext (
  opts: ControlOptions,
  env: Record<string, string | undefined> = process.env
): Promise<{ client: AdminClient, out: Output }> {
  // The config loader (ajv, the schema) is loaded when a command runs, not each time the CLI starts.
  const { knownEnvNames, loadConfig } = await import('../config/load.js')
  let tokenEnv = TOKEN_ENV
  if (opts.config !== undefined) {
    tokenEnv = loadConfig({ file: opts.config, env }).admin.token_env
  } else {
    const problems = unknownEnvProblems(env, knownEnvNames({}))
    if (problems.length > 0) throw new ConfigError([...problems, '(a token variable of another name is read with --config FILE, whose admin.token_env names it)'])
  }
  const adminUrl = opts.admin ?? nonEmpty(env[ADMIN_URL_ENV]) ?? DEFAULT_ADMIN_URL
  return { client: createAdminClient(adminUrl, env, { tokenEnv }), out: consoleOutput(opts.json === true) }
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** commander parser for options that take a whole number ≥ 1; a bad value is a usage error naming the flag. */
export function positiveInteger (flag: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${flag} must be a whole number of at least 1 (got '${value}')`)
    }
    return Number(value)
  }
}
