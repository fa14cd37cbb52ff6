/** Every assess rule, in the order their findings are computed (the report sorts them afterwards). */
import type {Finding} from '../report.js'
import {changeCaptureRule} from './change-capture.js'
import {collationRule} from './collations.js'
import type {Rule, RuleContext} from './context.js'
import {foreignKeyRule} from './foreign-keys.js'
import {identityRule} from './identity.js'
import {keyRule} from './keys.js'
import {objectRule} from './objects.js'
import {permissionRule} from './permissions.js'
import {tableFeatureRule} from './table-features.js'
import {typeRule} from './types.js'

export type {Rule, RuleContext} from './context.js'

export const RULES: ReadonlyArray<[name: string, rule: Rule]> = [
  ['types', typeRule],
  ['identity', identityRule],
  ['keys', keyRule],
  ['objects', objectRule],
  ['foreign-keys', foreignKeyRule],
  ['table-features', tableFeatureRule],
  ['collations', collationRule],
  ['change-capture', changeCaptureRule],
  ['permissions', permissionRule],
]

export function runRules(ctx: RuleContext): Finding[] {
  return RULES.flatMap(([, rule]) => rule(ctx))
}
