import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderAudit} from '../src/render/audit.js'
import {auditStatus, runAudit} from '../src/services/audit.js'

export default class Audit extends NestCommand {
  static override description = 'Audit what jails are granted against what they use: each grant needed, unused or unknown, with evidence from the host; findings of the rule catalogue (hooks, drift, paths, devices); the least set for a tree. Exit 9 when a finding is at or above --fail-on.'
  static override examples = ['<%= config.bin %> audit', '<%= config.bin %> audit web --json', '<%= config.bin %> audit web/db --fail-on high --window 7d']
  static override args = {name: Args.string({description: 'the jail (web, web/db or web.db) and the jails below it; every jail when omitted'})}
  static override flags = {
    'fail-on': Flags.string({description: 'exit 9 when a finding is at or above this severity', options: ['high', 'medium', 'low', 'info'], default: 'high'}),
    window: Flags.string({description: 'count a lifecycle nest recorded (a start of the jail) only this recent: 90s, 30m, 12h, 7d'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Audit)
    const failOn = flags['fail-on'] as 'high' | 'medium' | 'low' | 'info'
    await this.runWith(flags, (ctx) => runAudit(ctx, args.name, {failOn, ...(flags.window === undefined ? {} : {window: flags.window})}), renderAudit, auditStatus)
  }
}
