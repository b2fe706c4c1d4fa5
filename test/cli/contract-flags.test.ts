// `upgrade start --contract NAME:CODE_ID:CHECKSUM` and `--rollback-code`: parsed into the request's `contracts`;
// bad values exit 2 naming the flag, before the admin API is asked anything.
import t from 'tap'
import { contractFlag, contractsBody } from '../../src/cli/contract-flags.js'
import { runCli } from '../helpers/gateway.js'

const A = 'a'.repeat(64)
const B = 'B'.repeat(64)

t.test('repeatable flags become contracts in order, each with its rollback code', async (t) => {
  const parse = contractFlag('--contract')
  const contracts = parse(`escrow:4:${A}`, parse(`settlement:2:${A}`, undefined))
  const rollbacks = contractFlag('--rollback-code')(`escrow:5:${B}`, undefined)
  t.same(contractsBody(contracts, rollbacks), [
    { name: 'settlement', code_id: 2, checksum: A },
    { name: 'escrow', code_id: 4, checksum: A, rollback: { code_id: 5, checksum: B.toLowerCase() } }
  ])
  t.throws(() => contractsBody(contracts, contractFlag('--rollback-code')(`vault:5:${B}`, undefined)), /--rollback-code vault: no --contract vault/)
})

t.test('bad values exit 2 naming the flag', async (t) => {
  for (const [flag, value] of [['--contract', 'escrow:4'], ['--contract', `escrow:0:${A}`], ['--rollback-code', `escrow:5:${A.slice(1)}`]] as const) {
    const run = await runCli(['upgrade', 'start', '--target-version', '2.0', flag, value, '--admin', 'http://127.0.0.1:1'], { INTENT_GATE_ADMIN_TOKEN: 'x' })
    t.equal(run.code, 2, `${flag} ${value}`)
    t.match(run.stderr, new RegExp(`${flag} must be NAME:CODE_ID:CHECKSUM`))
  }
})
