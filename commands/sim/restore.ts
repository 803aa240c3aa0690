import {Args} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderSimFile} from '../../src/render/sim.js'
import {restoreSimHost} from '../../src/services/sim.js'

export default class SimRestore extends NestCommand {
  static override description = 'Load a kernel model saved by `nest sim snapshot`.'
  static override args = {file: Args.string({required: true, description: 'file written by nest sim snapshot'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimRestore)
    await this.runWith(flags, (ctx) => restoreSimHost(ctx, args.file), renderSimFile('restored'))
  }
}
