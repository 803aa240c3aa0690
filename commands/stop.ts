import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderLifecycle} from '../src/render/jails.js'
import {stopJail} from '../src/services/jails.js'

export default class Stop extends NestCommand {
  static override description = 'Stop a jail, then unmount everything it left below its root, deepest first.'
  static override examples = ['<%= config.bin %> stop web', '<%= config.bin %> stop web --dry-run --json']
  static override args = {name: Args.string({required: true, description: 'the jail'})}
  static override flags = {'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Stop)
    await this.runWith(flags, (ctx) => stopJail(ctx, args.name, flags['dry-run']), renderLifecycle('stopped'))
  }
}
