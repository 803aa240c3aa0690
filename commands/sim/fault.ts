import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderFault} from '../../src/render/sim.js'
import {addSimFault} from '../../src/services/sim.js'

export default class SimFault extends NestCommand {
  static override description = 'Make the n-th call of a simulated tool whose argv matches a pattern fail the way FreeBSD would.'
  static override examples = [
    `<%= config.bin %> sim fault zfs --match '^clone ' --stderr "cannot create 'zroot/x': out of space"`,
    '<%= config.bin %> sim fault umount --nth 2 --errno EBUSY',
    "<%= config.bin %> sim fault zfs --match '^clone ' --crash",
    "<%= config.bin %> sim fault zfs --match '^send ' --midway --stderr \"warning: cannot send 'zroot/x@s': Input/output error\"",
  ]
  static override args = {tool: Args.string({required: true, description: 'jail, jls, jexec, zfs, zpool, mount, mount_nullfs, umount, sysctl, devfs, pkg'})}
  static override flags = {
    match: Flags.string({description: 'regular expression over the argv joined by spaces'}),
    nth: Flags.integer({description: 'fire on the n-th matching call', default: 1, min: 1}),
    probability: Flags.string({description: 'after the n-th call, fire with this probability (seeded by NEST_SIM_SEED)'}),
    errno: Flags.string({description: 'errno name for the default message (EPERM, EBUSY, EIO, ...)'}),
    stderr: Flags.string({description: 'exact stderr text'}),
    exit: Flags.integer({description: 'exit status', default: 1}),
    midway: Flags.boolean({description: 'let the call write half of its output stream (zfs send), then fail with --stderr and --exit', exclusive: ['crash']}),
    crash: Flags.boolean({description: 'let the call succeed, then end the nest that made it as kill -9 would (no rollback, no lock release)', exclusive: ['errno', 'stderr']}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimFault)
    const probability = flags.probability === undefined ? undefined : Number(flags.probability)
    await this.runWith(flags, (ctx) => addSimFault(ctx, {...flags, tool: args.tool, probability}), renderFault)
  }
}
