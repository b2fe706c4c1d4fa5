/**
 * `--broken-green`, after the upgrade ended: shows (and checks) that the verifying phase rolled it back, from what
 * the gateway itself says and does rather than from the upgrade's request: every step the run applied reverted
 * (the contract migrated back to its 1.0 code, the swap undone), blue active in the proxy, and new intents
 * accepted by blue again.
 */
import type { UpgradeStatusBody } from '../admin/routes/upgrade.js'
import { watchTraffic, type StageContext } from './stage-context.js'
import type { SampleService } from './world.js'

interface UpstreamsBody { active: string }

export async function checkRolledBack (
  c: StageContext,
  status: UpgradeStatusBody,
  services: { blue: SampleService, green: SampleService }
): Promise<void> {
  const verifying = status.phases.find((p) => p.phase === 'verifying')
  if (status.state !== 'rolled_back' || verifying?.outcome !== 'failed') {
    c.problems.push(`the broken green was not rolled back by the verifying phase (state ${status.state}, verifying ${verifying?.outcome ?? 'absent'})`)
    return
  }
  const notReverted = status.steps.filter((s) => s.status !== 'reverted')
  const { active } = await c.admin.get<UpstreamsBody>('/admin/upstreams')
  c.say.figures([
    ['steps reverted', status.steps.map((s) => `${s.name} ${s.status}`).join(', ')],
    ['active upstream now', `${active} (the proxy's own view)`]
  ])
  if (notReverted.length > 0) c.problems.push(`steps not reverted after the rollback: ${notReverted.map((s) => `${s.name} (${s.status})`).join(', ')}`)
  if (active !== 'blue') c.problems.push(`after the rollback the proxy sends new intents to ${active}, not blue`)

  c.say.say('The verifying phase saw green fail and rolled the upgrade back; new intents go to blue again:')
  const [blueBefore, greenBefore] = await Promise.all([services.blue.stats(), services.green.stats()])
  await watchTraffic(c, c.timings.afterSecs)
  const [blueAfter, greenAfter] = await Promise.all([services.blue.stats(), services.green.stats()])
  const toBlue = blueAfter.accepted - blueBefore.accepted
  const toGreen = greenAfter.accepted - greenBefore.accepted
  // Green may still get the retry of an intent whose outcome it left unknown (it may hold it): not a new intent.
  c.say.figures([['accepted since the rollback', `blue ${toBlue}, green ${toGreen}`]])
  if (toBlue === 0) c.problems.push('blue accepted no intent after the rollback')
}
