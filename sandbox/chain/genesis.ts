/**
 * The local chain's genesis: fixed mnemonics (so a test can sign as the admin or a funded account without
 * setup), two stored codes whose checksums are the SHA-256 of fixed artifacts (contract versions 1.0 and 2.0),
 * the settlement contract instantiated from code 1.0 with the admin as its admin, the escrow contract (codes 1.0,
 * 2.0 and a 1.0 rollback build) instantiated from its 1.0, and one open ICS-20 channel.
 */
import { sha256 } from '@cosmjs/crypto'
import { toHex, toUtf8 } from '@cosmjs/encoding'
import { CONTRACT_NAME, instantiate } from './contract.js'
import { ESCROW_CONTRACT_NAME, instantiateEscrow } from './escrow.js'
import { contractAddress, fixedMnemonic, keyPairFromMnemonic, type KeyPair } from './keys.js'
import type { AppState, ChainState, ChannelRecord, CodeModel } from './state.js'

export const CHAIN_ID = 'intent-local-1'
export const DENOM = 'ustake'
export const GAS_PRICE = `0.025${DENOM}`
/** the minimum fee is ceil(gas_limit * GAS_PRICE_NUMERATOR / GAS_PRICE_DENOMINATOR) */
export const GAS_PRICE_NUMERATOR = 25n
export const GAS_PRICE_DENOMINATOR = 1000n
export const GENESIS_BALANCE = '1000000000000'
export const SETTLEMENT_LABEL = 'intent-settlement'
export const SETTLEMENT_CONTRACT = contractAddress('intent-settlement')
export const IBC_TIMEOUT_SECS = 600

export const CONTRACT_VERSIONS = ['1.0', '2.0'] as const
export const CODE_IDS: Record<typeof CONTRACT_VERSIONS[number], number> = { '1.0': 1, '2.0': 2 }

export function artifactFor (version: string): string {
  return `intent-gate settlement contract ${version}`
}

export const ESCROW_LABEL = 'intent-escrow'
export const ESCROW_CONTRACT = contractAddress('intent-escrow')
/** `1.0-rollback`: the 1.0 logic built with a migrate that accepts coming down from 2.0 (what a revert needs). */
export const ESCROW_VERSIONS = ['1.0', '2.0', '1.0-rollback'] as const
export const ESCROW_CODE_IDS: Record<typeof ESCROW_VERSIONS[number], number> = { '1.0': 3, '2.0': 4, '1.0-rollback': 5 }

export function escrowArtifactFor (version: string): string {
  return `intent-gate escrow contract ${version}`
}

/**
 * What each genesis code runs. Settlement 1.0 predates cw2's check and accepts a migration from any version of
 * itself (which is why migrating back to it works); settlement 2.0 and the escrow codes call
 * `ensure_from_older_version`, so going back to escrow 1.0 needs the rollback build.
 */
const GENESIS_MODELS: Record<number, CodeModel> = {
  1: { contract: CONTRACT_NAME, version: '1.0', accepts_downgrade: true },
  2: { contract: CONTRACT_NAME, version: '2.0', accepts_downgrade: false },
  3: { contract: ESCROW_CONTRACT_NAME, version: '1.0', accepts_downgrade: false },
  4: { contract: ESCROW_CONTRACT_NAME, version: '2.0', accepts_downgrade: false },
  5: { contract: ESCROW_CONTRACT_NAME, version: '1.0', accepts_downgrade: true }
}

export function checksumOf (artifact: string): string {
  return toHex(sha256(toUtf8(artifact)))
}

export const TRANSFER_CHANNEL: ChannelRecord = {
  portId: 'transfer',
  channelId: 'channel-0',
  counterpartyPortId: 'transfer',
  counterpartyChannelId: 'channel-1',
  connectionId: 'connection-0',
  version: 'ics20-1',
  nextSequenceSend: 1
}

/** Named genesis accounts; "admin" administers the contract, "relayer" signs the built-in relayer's txs. */
export const ACCOUNT_NAMES = ['admin', 'relayer', 'alice', 'bob', 'carol'] as const
export type AccountName = typeof ACCOUNT_NAMES[number]

export async function genesisKeys (): Promise<Record<AccountName, KeyPair>> {
  const entries = await Promise.all(ACCOUNT_NAMES.map(async name => [name, await keyPairFromMnemonic(fixedMnemonic(name))] as const))
  return Object.fromEntries(entries) as Record<AccountName, KeyPair>
}

export function genesisState (keys: Record<AccountName, KeyPair>, nowMs: number): ChainState {
  const admin = keys.admin.address
  const app: AppState = {
    accounts: {},
    balances: {},
    nextAccountNumber: 0,
    codes: {},
    contracts: {},
    channels: { [`${TRANSFER_CHANNEL.portId}/${TRANSFER_CHANNEL.channelId}`]: { ...TRANSFER_CHANNEL } },
    commitments: {},
    settledSequences: {}
  }
  for (const name of ACCOUNT_NAMES) {
    const address = keys[name].address
    app.accounts[address] = { number: app.nextAccountNumber++, sequence: 0 }
    app.balances[address] = { [DENOM]: GENESIS_BALANCE }
  }
  for (const version of CONTRACT_VERSIONS) {
    const artifact = artifactFor(version)
    app.codes[String(CODE_IDS[version])] = {
      creator: admin,
      checksum: checksumOf(artifact),
      artifact,
      model: GENESIS_MODELS[CODE_IDS[version]]
    }
  }
  for (const version of ESCROW_VERSIONS) {
    const artifact = escrowArtifactFor(version)
    app.codes[String(ESCROW_CODE_IDS[version])] = {
      creator: admin,
      checksum: checksumOf(artifact),
      artifact,
      model: GENESIS_MODELS[ESCROW_CODE_IDS[version]]
    }
  }
  const instantiateMsg = { admin, ibc_channel: TRANSFER_CHANNEL.channelId, ibc_timeout_secs: IBC_TIMEOUT_SECS }
  app.accounts[SETTLEMENT_CONTRACT] = { number: app.nextAccountNumber++, sequence: 0 }
  app.contracts[SETTLEMENT_CONTRACT] = {
    codeId: CODE_IDS['1.0'],
    creator: admin,
    admin,
    label: SETTLEMENT_LABEL,
    createdHeight: 0,
    history: [{ operation: 'init', codeId: CODE_IDS['1.0'], height: 0, txIndex: 0, msg: JSON.stringify(instantiateMsg) }],
    storage: instantiate(admin, '1.0', TRANSFER_CHANNEL.channelId, IBC_TIMEOUT_SECS)
  }
  app.accounts[ESCROW_CONTRACT] = { number: app.nextAccountNumber++, sequence: 0 }
  app.contracts[ESCROW_CONTRACT] = {
    codeId: ESCROW_CODE_IDS['1.0'],
    creator: admin,
    admin,
    label: ESCROW_LABEL,
    createdHeight: 0,
    history: [{ operation: 'init', codeId: ESCROW_CODE_IDS['1.0'], height: 0, txIndex: 0, msg: JSON.stringify({ admin }) }],
    storage: instantiateEscrow(admin, '1.0')
  }
  return {
    chainId: CHAIN_ID,
    genesisTimeMs: nowMs,
    app,
    blocks: [],
    relayer: { paused: false, ackDelayMs: 1000, outcome: 'ack' }
  }
}
