// The flags of start, stop and restart: one jail and what is below it, or every jail.
import {Args, Flags} from '@oclif/core'

import {type TreeOptions} from '../services/lifecycle.js'
import {DEFAULT_PARALLEL} from '../context/command.js'

export const treeArgs = {name: Args.string({description: 'the jail (web, web/db), or several; each with the jails below it unless --no-children'})}

export const treeFlags = {
  all: Flags.boolean({description: 'every jail nest manages'}),
  children: Flags.boolean({description: 'the jails below it too (--no-children: this jail only)', default: true, allowNo: true}),
  'children-only': Flags.boolean({description: 'only the jails below it (the exec.prestop hook of a parent)', hidden: true}),
  parallel: Flags.integer({description: 'how many sibling jails at once', default: DEFAULT_PARALLEL, min: 1, max: 64}),
  'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'}),
}

export const treeOptions = (f: {all: boolean; children: boolean; 'children-only': boolean; parallel: number; 'dry-run': boolean}): TreeOptions =>
  ({all: f.all, children: f.children, childrenOnly: f['children-only'], parallel: f.parallel, dryRun: f['dry-run']})
