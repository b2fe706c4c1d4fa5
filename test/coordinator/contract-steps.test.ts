// The contract steps' decisions on their own, over fake contract ports: the cw2 version check (refused unless
// forced), the revert dry run (a revert the chain would refuse is refused up front, naming the contract and what
// to do), a revert that fails anyway naming the contract (and, through the coordinator, ending `failed`), and a
// revert of a migration of unknown outcome that waits until the chain passes its journaled timeout height.
import t from 'tap'
import { pino } from 'pino'
import { checkContracts, compareVersions, contractSteps } from '../../src/coordinator/steps/contracts.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'
import { CHECKSUM_2, FakeContract, harness } from './helpers/harness.js'
import { STORE_KINDS } from './helpers/stores.js'

const log = pino({ level: 'silent' })

/** A fake with the optional port methods: a dry run and a chain height the test moves. */
class ChainContract extends FakeContract {
  chainHeight = 100
  dryRuns: Array<Array<{ code_id: number }>> = []
  dryRunRefusal: string | null = null
  infoCalls = 0
  heightAsked: (() => void) | null = null
  dryRunMigrations = async (steps: Array<{ code_id: number, msg: Record<string, unknown> }>): Promise<void> => {
    this.dryRuns.push(steps.map((s) => ({ code_id: s.code_id })))
    if (this.dryRunRefusal !== null) throw new Error(this.dryRunRefusal)
  }

  height = async (): Promise<number> => { this.heightAsked?.(); return this.chainHeight }
  timeoutHeight = async (): Promise<number> => this.chainHeight + 20
  override async info (): ReturnType<FakeContract['info']> { this.infoCalls++; return await super.info() }
}

t.test('versions compare part by part', async (t) => {
  t.equal(compareVersions('2.0', '1.0.0'), 1)
  t.equal(compareVersions('1.10', '1.9'), 1)
  t.equal(compareVersions('2.0', '2.0.0'), 0)
  t.equal(compareVersions('1.0', '2.0'), -1)
})

t.test('a target not newer than the cw2 version is refused unless forced', async (t) => {
  const c = new ChainContract()
  c.version = '2.0'
  const ports = (): FakeContract => c
  await t.rejects(checkContracts({ target_version: '2.0', contract: { code_id: 2, checksum: CHECKSUM_2 } }, ports, log),
    /contract settlement: the target version 2\.0 is not newer than its cw2 version 2\.0 \(intent-settlement\); force_contract_version migrates anyway; nothing was sent/)
  await checkContracts({ target_version: '2.0', contract: { code_id: 2, checksum: CHECKSUM_2 }, force_contract_version: true }, ports, log)
  t.same(c.migrations, [], 'a check sends nothing')
})

t.test('the revert is dry-run with the forward migration; one the chain would refuse is refused up front', async (t) => {
  const c = new ChainContract()
  const ports = (name: string): FakeContract | null => name === 'escrow' ? c : null
  const request = { target_version: '2.0', contracts: [{ name: 'escrow', code_id: 2, checksum: CHECKSUM_2 }] }
  await checkContracts(request, ports, log)
  t.same(c.dryRuns, [[{ code_id: 2 }, { code_id: 1 }]], 'forward to the new code, then back to the old one, as one simulation')
  c.dryRunRefusal = 'the chain refused the transaction (simulate): failed to execute message; message index: 1: Generic error: Cannot migrate from newer version (2.0) to older (1.0.0)'
  await t.rejects(checkContracts(request, ports, log), /contract escrow: the chain would refuse its revert \(back to its old code 1, from 2\.0 to 1\.0\.0\): .*Cannot migrate from newer version.*--rollback-code escrow:CODE_ID:CHECKSUM/)
  c.codes.set(5, '5'.repeat(64))
  c.dryRunRefusal = null
  await checkContracts({ target_version: '2.0', contracts: [{ name: 'escrow', code_id: 2, checksum: CHECKSUM_2, rollback: { code_id: 5, checksum: '5'.repeat(64) } }] }, ports, log)
  t.same(c.dryRuns.at(-1), [{ code_id: 2 }, { code_id: 5 }], 'a rollback code given with the upgrade is what the revert would use')
  await t.rejects(checkContracts({ target_version: '2.0', contracts: [{ name: 'vault', code_id: 2, checksum: CHECKSUM_2 }] }, ports, log), /contract vault: not configured/)
})

t.test('a revert of a migration of unknown outcome waits until the chain passes its timeout height', async (t) => {
  const c = new ChainContract()
  const [step] = contractSteps({ target_version: '2.0', contract: { code_id: 2, checksum: CHECKSUM_2 } }, () => c, 'preserve', 0, log)
  const detail = await step!.prepare()
  t.equal(detail.timeout_height, 120, 'prepare journals the timeout height a tx signed now carries')
  // The migration landed (a dead leader's broadcast) but its hash was never recorded.
  c.codeId = 2
  c.version = '2.0'
  c.infoCalls = 0
  const asked = new Promise<void>((resolve) => { c.heightAsked = resolve })
  const reverting = step!.revert(detail)
  await asked
  t.equal(c.infoCalls, 0, 'the contract is not looked at while the migration could still land')
  c.chainHeight = 120
  await reverting
  t.same(c.migrations.map((m) => m.codeId), [1], 'then the landed migration is reverted')
})

for (const kind of STORE_KINDS) {
  t.test(`${kind.name}: a revert the chain refuses anyway ends failed, naming the contract`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store, config: { rollback: { max_rollback_attempts: 1 } } })
    h.green.failAfter = 1
    if (h.contract !== null) h.contract.refuse = 'to-old'
    await h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green', contract: { code_id: 2, checksum: CHECKSUM_2 } })
    const failed = await h.until([...FINAL_STATES])
    t.equal(failed.state, 'failed')
    t.match(failed.error, /ROLLBACK COULD NOT FINISH.*contract settlement: the revert to code 1 \(version 1\.0\.0\) failed: .*migrate refused/)
  })
}
