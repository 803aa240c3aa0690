import {Args} from '@oclif/core'

import {NestCommand} from '../../../src/cli/base.js'
import {renderSimProcStopped} from '../../../src/render/sim.js'
import {stopSimProc} from '../../../src/services/sim.js'

export default class SimProcStop extends NestCommand {
  static override description = 'End a process of the simulated host (kill -9 from the host): its sockets close and its wired memory is released; SysV objects stay until their jail goes.'
  static override examples = ['<%= config.bin %> sim proc stop 1001']
  static override args = {pid: Args.integer({required: true, description: 'the pid nest sim proc start printed'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimProcStop)
    await this.runWith(flags, (ctx) => stopSimProc(ctx, args.pid), renderSimProcStopped)
  }
}
