import {Args} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderExec} from '../src/render/jails.js'
import {consoleJail} from '../src/services/jails.js'

export default class Console extends NestCommand {
  static override description = 'Log in to a running jail as root (jexec -l NAME login -f root).'
  static override examples = ['<%= config.bin %> console web']
  static override args = {name: Args.string({required: true, description: 'the jail'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Console)
    await this.runWith(flags, (ctx) => consoleJail(ctx, args.name), renderExec, (r) => r.exitCode)
  }
}
