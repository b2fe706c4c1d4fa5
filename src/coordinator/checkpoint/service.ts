/**
 * The Checkpoint Service: takes a SystemCheckpoint from the live parts (store, IBC watcher, contract, config),
 * writes it through CheckpointFiles, prunes old ones, and restores the store from one.
 */
import { randomBytes } from 'node:crypto'
import type { Color } from '../../config/schema.js'
import type { ControlStore, IntentStore } from '../../store/types.js'
import type { ContractPort, IbcPort } from '../ports.js'
import type { CheckpointFiles } from './files.js'
import { CHECKPOINT_FORMAT, type CheckpointMeta, type SystemCheckpoint } from './types.js'

export interface CheckpointSources {
  store: Pick<ControlStore, 'control' | 'setActive' | 'setDrain'> & Pick<IntentStore, 'inflight' | 'replaceInflight'>
  ibc: IbcPort | null
  contract: ContractPort | null
  /** `[chain.contracts]` by name. */
  contracts?: Readonly<Record<string, ContractPort>>
  initialActive: Color
  versions: SystemCheckpoint['versions']
  protocolVersion: () => Promise<string>
  schemaVersion: () => number
}

export interface RestoreResult {
  checkpoint_id: string
  inflight_restored: number
  active: Color
}

export class CheckpointService {
  constructor (
    readonly files: CheckpointFiles,
    private readonly sources: CheckpointSources,
    private readonly retentionMs: number
  ) {}

  async create (
    upgradeId: string | null,
    keep: ReadonlySet<string> = new Set()
  ): Promise<{ checkpoint: SystemCheckpoint, meta: CheckpointMeta }> {
    const { store, ibc, contract } = this.sources
    const [inflight, control, pending, contractInfo, settlements, protocolVersion] = await Promise.all([
      store.inflight(),
      store.control(),
      ibc?.pending() ?? Promise.resolve([]),
      contract?.info() ?? Promise.resolve(null),
      contract?.inflightSettlements() ?? Promise.resolve([]),
      this.sources.protocolVersion()
    ])
    const contracts = await Promise.all(Object.entries(this.sources.contracts ?? {}).map(async ([name, port]) => {
      const [info, inflightSettlements] = await Promise.all([port.info(), port.inflightSettlements()])
      return { name, info, inflight_settlements: inflightSettlements }
    }))
    const now = Date.now()
    const checkpoint: SystemCheckpoint = {
      format: CHECKPOINT_FORMAT,
      id: newCheckpointId(now),
      upgrade_id: upgradeId,
      created_at_ms: now,
      protocol_version: protocolVersion,
      schema_version: this.sources.schemaVersion(),
      active: control.active ?? this.sources.initialActive,
      drain: control.drain,
      versions: this.sources.versions,
      contract: contractInfo === null ? null : { info: contractInfo, inflight_settlements: settlements },
      ...(contracts.length > 0 ? { contracts } : {}),
      pending_ibc_packets: pending,
      inflight
    }
    const meta = this.files.write(checkpoint)
    this.files.prune(this.retentionMs, new Set([...keep, checkpoint.id]), now)
    return { checkpoint, meta }
  }

  /**
   * Puts the store back as the checkpoint had it: the inflight records (unless `inflight: false`: after the new
   * version served live traffic, its intents keep their owner), the active color, the drain switch.
   */
  async restore (id: string, what: { inflight?: boolean } = {}): Promise<RestoreResult> {
    const checkpoint = this.files.read(id)
    const { store } = this.sources
    if (what.inflight !== false) await store.replaceInflight(checkpoint.inflight)
    await store.setActive(checkpoint.active)
    await store.setDrain(checkpoint.drain)
    return { checkpoint_id: id, inflight_restored: checkpoint.inflight.length, active: checkpoint.active }
  }
}

function newCheckpointId (now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `ckpt-${stamp}-${randomBytes(3).toString('hex')}`
}
