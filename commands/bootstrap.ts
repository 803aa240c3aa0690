import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderBootstrap} from '../src/render/jails.js'
import {bootstrapRelease} from '../src/services/bootstrap.js'

export default class Bootstrap extends NestCommand {
  static override description = 'Keep a FreeBSD release (base.txz, checked against its MANIFEST) as a dataset with a snapshot that jails are cloned from. The first bootstrap also creates nest\'s tree, <pool>/nest on /nest.'
  static override examples = ['<%= config.bin %> bootstrap 14.3-RELEASE', '<%= config.bin %> bootstrap 14.3-RELEASE --archive /tmp/base.txz --dry-run']
  static override args = {release: Args.string({required: true, description: 'a FreeBSD release, e.g. 14.3-RELEASE'})}
  static override flags = {
    archive: Flags.string({description: 'a base.txz already downloaded (its MANIFEST must sit beside it)'}),
    pool: Flags.string({description: 'the ZFS pool for nest\'s tree (first bootstrap only; default: the first pool)'}),
    'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Bootstrap)
    await this.runWith(flags, (ctx) => bootstrapRelease(ctx, {release: args.release, archive: flags.archive, pool: flags.pool, dryRun: flags['dry-run']}), renderBootstrap)
  }
}
