import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderDestroy} from '../src/render/jails.js'
import {destroyJail} from '../src/services/jails.js'

export default class Destroy extends NestCommand {
  static override description = 'Remove a stopped jail: its datasets and its configuration. Refuses while anything stays mounted below its root.'
  static override examples = ['<%= config.bin %> destroy web', '<%= config.bin %> destroy web --force']
  static override args = {name: Args.string({required: true, description: 'the jail'})}
  static override flags = {
    force: Flags.boolean({description: 'stop the jail first if it is running'}),
    'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Destroy)
    await this.runWith(flags, (ctx) => destroyJail(ctx, args.name, {force: flags.force, dryRun: flags['dry-run']}), renderDestroy)
  }
}
