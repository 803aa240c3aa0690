import {NestCommand} from '../src/cli/base.js'
import {treeArgs, treeFlags, treeOptions} from '../src/cli/tree-flags.js'
import {renderTree} from '../src/render/jails.js'
import {restartJail} from '../src/services/lifecycle.js'

export default class Restart extends NestCommand {
  static override description = 'Stop a jail and the jails below it, then start them again.'
  static override examples = ['<%= config.bin %> restart web', '<%= config.bin %> restart web/db --no-children', '<%= config.bin %> restart --all --parallel 8', '<%= config.bin %> restart web --dry-run --json']
  static override args = treeArgs
  static override strict = false
  static override flags = treeFlags

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Restart)
    await this.runWith(flags, (ctx) => restartJail(ctx, argv.map(String), treeOptions(flags)), renderTree)
  }
}
