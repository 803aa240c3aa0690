import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderDestroy} from '../src/render/jails.js'
import {destroyJail} from '../src/services/jails.js'
import {DEFAULT_PARALLEL} from '../src/services/scene.js'

export default class Destroy extends NestCommand {
  static override description = 'Remove a stopped jail: its datasets and its configuration. Refuses while anything stays mounted below its root, and a parent with jails below it unless --recursive.'
  static override examples = ['<%= config.bin %> destroy web', '<%= config.bin %> destroy web/db --force', '<%= config.bin %> destroy web --recursive --force']
  static override args = {name: Args.string({required: true, description: 'the jail'})}
  static override flags = {
    force: Flags.boolean({description: 'stop the jail (and the jails below it) first if it is running'}),
    recursive: Flags.boolean({description: 'the jails below it too, deepest first'}),
    'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'}),
    // What a host-side nest asks a child manager when it undoes a create (the child may be gone already).
    'if-exists': Flags.boolean({hidden: true, description: 'a jail that is not there is not an error'}),
    // What a host-side nest asks a child manager of a child it does not see: what a crash left of it, never a whole jail.
    'leftovers-only': Flags.boolean({hidden: true, description: 'only what an interrupted create or destroy left'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Destroy)
    await this.runWith(flags, (ctx) => destroyJail(ctx, args.name, {force: flags.force, recursive: flags.recursive, dryRun: flags['dry-run'], parallel: DEFAULT_PARALLEL, ifExists: flags['if-exists'], leftoversOnly: flags['leftovers-only']}), renderDestroy)
  }
}
