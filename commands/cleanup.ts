import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderCleanupOrPlan} from '../src/render/jails.js'
import {cleanupJail} from '../src/services/jails.js'

export default class Cleanup extends NestCommand {
  static override description = 'Unmount everything left below a stopped jail\'s root (nullfs, devfs, tmpfs, zfs...), deepest first, in one umount call. What stays is reported with the reason. Harmless to run twice.'
  static override examples = ['<%= config.bin %> cleanup web', '<%= config.bin %> cleanup web --force --dry-run']
  static override args = {name: Args.string({required: true, description: 'the jail'})}
  static override flags = {
    force: Flags.boolean({description: 'umount -f'}),
    'dry-run': Flags.boolean({description: 'print the unmounts in order and change nothing'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Cleanup)
    await this.runWith(flags, (ctx) => cleanupJail(ctx, args.name, {force: flags.force, dryRun: flags['dry-run']}), renderCleanupOrPlan)
  }
}
