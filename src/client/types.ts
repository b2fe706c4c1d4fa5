/**
 * The intents and answers a client handles (the formats 1.0 and 2.0; amounts are base-unit decimal strings). Type
 * aliases rather than interfaces, so an intent passes wherever a plain JSON object is expected.
 */

export type AssetIn = { chain_id: string, denom: string, amount: string }
export type AssetOut = { chain_id: string, denom: string, min_amount: string, recipient: string }

export type IntentV1 = {
  version: '1.0'
  user: string
  input: AssetIn
  output: AssetOut
  deadline: number
  nonce: number
  public_key: string
  signature: string
}

export type AuthV2 = {
  /** `secp256k1`: a raw signature over the canonical bytes; `adr036`: a wallet's signArbitrary over them. */
  scheme: 'secp256k1' | 'adr036'
  public_key: string
  signature: string
  signed_version: string
}

export type IntentV2 = {
  version: '2.0'
  owner: string
  origin_chain_id: string
  inputs: AssetIn[]
  outputs: AssetOut[]
  open_deadline?: number
  fill_deadline: number
  nonce: string
  max_solver_fee_bps?: number
  auth: AuthV2
}

export type Intent = IntentV1 | IntentV2

/** An intent before signing: the signer fills in the owner (when left out), the key and the signature. */
export type IntentDraftV2 = Omit<IntentV2, 'auth' | 'owner' | 'version'> & { version?: '2.0', owner?: string }
export type IntentDraftV1 = Omit<IntentV1, 'public_key' | 'signature' | 'user'> & { user?: string }
export type IntentDraft = IntentDraftV2 | IntentDraftV1

export type Fill = { solver: string, amount: string, tx_hash: string }

/** `GET <intent_path>/<id>` of a 2.0 intent (a 1.0 intent answers `{id, status, filled_amount, tx_hash}`). */
export type IntentStatusV2 = { intent_id: string, status: string, fills: Fill[], updated_at: number }
export type IntentStatusV1 = { id: string, status: string, filled_amount: string, tx_hash: string | null }

/** What `GET /.well-known/intent-gate/status` says and its event stream repeats on every change. */
export type GatewayStatus = {
  accepting: boolean
  mode: string
  retry_after_secs: number | null
  upgrade: null | {
    id: string
    state: string
    target_version: string | null
    scheduled_at: string | null
    estimated_resume_at: string | null
  }
  drain: null | { reason: string | null, deadline_at: string | null }
}

/** Statuses after which an intent no longer changes. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['settled', 'refunded', 'cancelled', 'expired', 'failed'])
