/**
 * The upgrade request, defined once: the body of `POST /admin/upgrade/start` as a TypeBox schema, and the types
 * the coordinator keeps (`Static<>` of the same schemas). The admin route validates the body against it (a bad
 * field is a 400 problem naming it); the coordinator then checks only what needs this gateway's state (a color
 * without an upstream, a contract it does not know) and the OpenAPI document is made from the same schema.
 */
import { Type, type Static } from '@sinclair/typebox'
import { ColorSchema } from '../config/schema.js'

/** What the drain does with settlements still stuck when it times out and is forced on. */
export const STUCK_SETTLEMENT_ACTIONS = ['preserve', 'refund_and_cancel', 'extend_timeout'] as const
export type StuckSettlementAction = typeof STUCK_SETTLEMENT_ACTIONS[number]

/** A wasm code's SHA-256 as hex (either case; the coordinator keeps it in lower case). */
export const CHECKSUM_PATTERN = '^[0-9a-fA-F]{64}$'
export const CHECKSUM_MESSAGE = 'must be 64 hex digits (the SHA-256 of the wasm code)'

const CodeRefSchema = Type.Object({
  code_id: Type.Integer({ minimum: 1, description: 'the new code\'s id on the chain' }),
  checksum: Type.String({ pattern: CHECKSUM_PATTERN, errorMessage: CHECKSUM_MESSAGE, description: 'SHA-256 (hex) the new code must have' })
}, { additionalProperties: false })

const contractTargetProperties = {
  ...CodeRefSchema.properties,
  migrate_msg: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'the MigrateMsg to send; default: the design\'s, with the target version' })),
  rollback: Type.Optional(Type.Object(CodeRefSchema.properties, {
    additionalProperties: false,
    description: 'the code a revert migrates to (one whose migrate accepts coming down); default: the contract\'s old code'
  }))
}

export const ContractTargetSchema = Type.Object(contractTargetProperties, { additionalProperties: false })
export type ContractTarget = Static<typeof ContractTargetSchema>

/** One contract of `contracts`: `settlement` or a name of `[chain.contracts]` (steps/contracts.ts). */
export const NamedContractTargetSchema = Type.Object({
  name: Type.String({ description: '`settlement` or a name of [chain.contracts]' }),
  ...contractTargetProperties
}, { additionalProperties: false })
export type NamedContractTarget = Static<typeof NamedContractTargetSchema>

/** What an upgrade does: the part of the request its run record keeps. */
const requestProperties = {
  target_version: Type.String({ pattern: '^\\d+\\.\\d+$', errorMessage: 'must be a version like "2.0"', description: 'the protocol version after the upgrade' }),
  swap_to: Type.Optional(ColorSchema({ description: 'the upstream color active after the upgrade; default: the active one' })),
  contract: Type.Optional(ContractTargetSchema),
  contracts: Type.Optional(Type.Array(NamedContractTargetSchema, { description: 'migrated in this order after `contract` (the settlement contract\'s), reverted in reverse' })),
  force_contract_version: Type.Optional(Type.Boolean({ description: 'migrate even when a target version is not newer than the contract\'s cw2 version' })),
  drain_timeout_secs: Type.Optional(Type.Integer({ minimum: 0, description: 'override upgrade.drain_timeout_secs' })),
  force_after_timeout: Type.Optional(Type.Boolean({ description: 'carry on when the drain times out' })),
  stuck_settlement_action: Type.Optional(Type.Union(STUCK_SETTLEMENT_ACTIONS.map((a) => Type.Literal(a)), { description: 'with force_after_timeout: what stuck settlements get' })),
  force: Type.Optional(Type.Boolean({ description: 'start even within upgrade.min_upgrade_interval_secs of the last completed upgrade (recorded in the audit log)' }))
}
export const UpgradeRequestSchema = Type.Object(requestProperties, { additionalProperties: false })
export type UpgradeRequest = Static<typeof UpgradeRequestSchema>

/** The body of `POST /admin/upgrade/start`: the request, plus when to start it and why (the audit log's). */
export const UpgradeStartBodySchema = Type.Object({
  ...requestProperties,
  at: Type.Optional(Type.String({ description: 'RFC 3339 with a zone: schedule it' })),
  reason: Type.Optional(Type.String({ maxLength: 500, description: 'why (the audit log keeps it)' }))
}, { additionalProperties: false })
export type UpgradeStartBody = Static<typeof UpgradeStartBodySchema>
