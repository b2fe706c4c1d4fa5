/**
 * What every control command shares: the `--admin URL` and `--json` options, and the client/output pair they
 * give. A command group file adds its commands with `controlCommand(parent.command('name'))`.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { createAdminClient, DEFAULT_ADMIN_URL, TOKEN_ENV, type AdminClient } from '../admin/client.js'
import { consoleOutput, type Output } from './output.js'

export interface ControlOptions {
  admin: string
  json?: boolean
}

export function controlCommand (cmd: Command): Command {
  return cmd
    .option('--admin <url>', 'the admin API', DEFAULT_ADMIN_URL)
    .option('--json', 'machine-readable output (the admin API\'s JSON)')
    .addHelpText('after', `\nThe bearer token is read from ${TOKEN_ENV}.`)
}

export function controlContext (opts: ControlOptions): { client: AdminClient, out: Output } {
  return { client: createAdminClient(opts.admin), out: consoleOutput(opts.json === true) }
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
