// The hygiene rules of the catalogue (audit-rules.md §3 D, F, N, X, R), in catalogue order.
import type {Rule} from '../rule.js'
import {CONFIGURED_RULES} from './configured.js'
import {DEVICE_RULES} from './devices.js'
import {FILE_RULES} from './files.js'
import {HOOK_RULES} from './hooks.js'
import {NETWORK_RULES} from './network.js'
import {RUNTIME_RULES} from './runtime.js'

export const HYGIENE_RULES: Rule[] = [...DEVICE_RULES, ...FILE_RULES, ...NETWORK_RULES, ...HOOK_RULES, ...RUNTIME_RULES, ...CONFIGURED_RULES]
