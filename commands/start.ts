import {NestCommand} from '../src/cli/base.js'
import {treeArgs, treeFlags, treeOptions} from '../src/cli/tree-flags.js'
import {renderTree} from '../src/render/jails.js'
import {startJail} from '../src/services/lifecycle.js'

export default class Start extends NestCommand {
  static override description = 'Start a jail, then the jails below it (parents first, siblings in parallel). Leftovers below each root are cleaned up first.'
  static override examples = ['<%= config.bin %> start web', '<%= config.bin %> start web/db --no-children', '<%= config.bin %> start --all --parallel 8', '<%= config.bin %> start web --dry-run --json']
  static override args = treeArgs
  static override strict = false
  static override flags = treeFlags

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Start)
    await this.runWith(flags, (ctx) => startJail(ctx, argv.map(String), treeOptions(flags)), renderTree)
  }
}
