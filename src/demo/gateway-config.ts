/**
 * The demo gateway's configuration file: both listeners on 127.0.0.1 port 0, the embedded store (no Redis),
 * fast health checks and reconciliation so a short demo shows each effect within a second, the coordinator's
 * state and checkpoints in the demo's temporary folder, and the chain section only when the upgrade stage runs.
 */
import path from 'node:path'

export interface ChainInfo {
  rpc: string
  chain_id: string
  settlement_contract: string
  gas_price: string
  admin_mnemonic: string
  code_ids: Record<string, number>
  checksums: Record<string, string>
  ibc_channels: string[]
  /** `--chain wasmd`: chain B at the other end of the ICS-20 channel, where the packets land. */
  counterparty?: { rpc: string, chain_id: string, channel: string }
  /** `--chain wasmd`: genesis accounts a client may sign with (`settler-blue`, `settler-green`). */
  accounts?: Array<{ name: string, mnemonic: string, address: string }>
}

export interface DemoGatewayConfig {
  /** Temporary folder of this demo run. */
  dir: string
  blueUrl: string
  greenUrl: string | null
  chain: ChainInfo | null
  /** `--broken-green`: a verifying phase after the upgrade ([analysis]), which will roll the broken green back. */
  verify?: boolean
}

const str = (s: string): string => JSON.stringify(s)

/**
 * wasmd's 200 ms blocks under the demo's load: a migrate gets 20 s to land rather than the default 20 blocks (4 s),
 * which a node busy with the settlers' transactions and the relayer's can overrun.
 */
const REAL_CHAIN = 'tx_timeout_blocks = 100\n'

export function demoGatewayToml (c: DemoGatewayConfig): string {
  const upstream = (color: string, url: string, versions: string[]): string => `
[upstreams.${color}]
url = ${str(url)}
versions = ${JSON.stringify(versions)}
health_interval_ms = 200
healthy_threshold = 1
unhealthy_threshold = 2
`
  const chain = c.chain === null
    ? '[chain]\nenabled = false\n'
    : `[chain]
enabled = true
rpc_url = ${str(c.chain.rpc)}
chain_id = ${str(c.chain.chain_id)}
settlement_contract = ${str(c.chain.settlement_contract)}
gas_price = ${str(c.chain.gas_price)}
${c.chain.counterparty === undefined ? '' : REAL_CHAIN}
[ibc]
channels = ${JSON.stringify(c.chain.ibc_channels)}
`
  return `# Written by \`intent-gate demo\` for one run; removed when it ends.
[proxy]
listen = "127.0.0.1:0"
reconcile_interval_ms = 250
shutdown_grace_secs = 5
# Without a drain deadline clients are told to come back in 1 s (the demo's operator acts quickly).
drain_retry_after_secs = 1

[admin]
listen = "127.0.0.1:0"

[redis]
poll_interval_ms = 50
${upstream('blue', c.blueUrl, ['1.0'])}${c.greenUrl === null ? '' : upstream('green', c.greenUrl, ['2.0'])}
${chain}
[coordinator]
database = ${str(path.join(c.dir, 'coordinator.sqlite'))}
lease_ttl_ms = 3000

[checkpoint]
checkpoint_dir = ${str(path.join(c.dir, 'checkpoints'))}

[upgrade]
drain_timeout_secs = 60
min_upgrade_interval_secs = 0

[rollback]
rollback_retry_delay_secs = 1
${c.verify === true ? '\n[analysis]\nwatch_secs = 15\nmax_error_ratio = 0.2\nmin_requests = 10\n' : ''}
[health_checks]
check_timeout_secs = 5

[log]
level = "warn"
`
}
