/**
 * The versions module's front door: `createVersionCatalog()` builds the catalog from the versions and steps
 * this build ships (discovered from `schemas/` and `steps/`); `loadVersionCatalog()` adds those of
 * `[versions] modules` (./modules.ts). What an adopter's module may import is ./public.ts.
 */
import { VersionCatalogImpl, type Catalog } from './catalog.js'
import { shippedSpecs, shippedSteps } from './discover.js'

export function createVersionCatalog (): Catalog {
  return new VersionCatalogImpl(shippedSpecs, shippedSteps)
}

export type { Catalog } from './catalog.js'
export { loadVersionCatalog, type VersionModule } from './modules.js'
export type { FieldError, IntentIdentity, Validation, VersionCatalog } from './types.js'
export { TERMINAL_STATUSES } from './types.js'
export type { IntentAuth, JsonObject, TranslationStep, VersionSpec } from './spec.js'
export { canonicalJson, canonicalBytes, sha256, signedForms, signingDigest } from './canonical.js'
export { migrateStoredIntents } from './stored-intents.js'
export type { StoredIntent, StoredIntentsReport } from './stored-intents.js'
