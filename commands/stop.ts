import {NestCommand} from '../src/cli/base.js'
import {treeArgs, treeFlags, treeOptions} from '../src/cli/tree-flags.js'
import {renderTree} from '../src/render/jails.js'
import {stopJail} from '../src/services/lifecycle.js'

export default class Stop extends NestCommand {
  static override description = 'Stop the jails below a jail (deepest first), then the jail, then unmount everything left below its root, deepest first.'
  static override examples = ['<%= config.bin %> stop web', '<%= config.bin %> stop web/db --no-children', '<%= config.bin %> stop --all --parallel 8', '<%= config.bin %> stop web --dry-run --json']
  static override args = treeArgs
  static override strict = false
  static override flags = treeFlags

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Stop)
    await this.runWith(flags, (ctx) => stopJail(ctx, argv.map(String), treeOptions(flags)), renderTree)
  }
}
