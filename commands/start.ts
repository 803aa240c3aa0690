import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderLifecycle} from '../src/render/jails.js'
import {startJail} from '../src/services/jails.js'

export default class Start extends NestCommand {
  static override description = 'Start a jail (cleaning up leftovers below its root first).'
  static override examples = ['<%= config.bin %> start web', '<%= config.bin %> start web --dry-run --json']
  static override args = {name: Args.string({required: true, description: 'the jail'})}
  static override flags = {'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Start)
    await this.runWith(flags, (ctx) => startJail(ctx, args.name, flags['dry-run']), renderLifecycle('started'))
  }
}
