import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderLifecycle} from '../src/render/jails.js'
import {restartJail} from '../src/services/jails.js'

export default class Restart extends NestCommand {
  static override description = 'Stop a jail if it runs, then start it again.'
  static override examples = ['<%= config.bin %> restart web', '<%= config.bin %> restart web --dry-run --json']
  static override args = {name: Args.string({required: true, description: 'the jail'})}
  static override flags = {'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Restart)
    await this.runWith(flags, (ctx) => restartJail(ctx, args.name, flags['dry-run']), renderLifecycle('restarted'))
  }
}
