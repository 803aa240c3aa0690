import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../../../src/cli/base.js'
import {renderSimProcStarted} from '../../../src/render/sim.js'
import {startSimProc} from '../../../src/services/sim.js'

export default class SimProcStart extends NestCommand {
  static override description = [
    'Start a process in a running jail of the simulated host, which holds what its flags say, each checked as FreeBSD checks it:',
    'a raw inet socket (allow.raw_sockets, or a vnet), sockets of a family (allow.socket_af beyond inet, inet6, local, route), a TCP port',
    'listened on (allow.reserved_ports below 1024), SysV objects (sysvshm, sysvsem, sysvmsg not disable), wired memory (allow.mlock).',
    'The first refusal fails it with the syscall and its errno, and nothing changes. Prints the new pid.',
  ].join(' ')
  static override examples = ['<%= config.bin %> sim proc start p/a --raw-socket', '<%= config.bin %> sim proc start web --comm postgres --shm 1048576 --sem 17 --listen 5432']
  static override args = {jail: Args.string({required: true, description: 'the jail (p/a or p.a)'})}
  static override flags = {
    comm: Flags.string({description: 'the process name ps and procstat show (default sleep)'}),
    'raw-socket': Flags.boolean({description: 'open socket(PF_INET, SOCK_RAW, IPPROTO_ICMP), as ping(8) does', default: false}),
    socket: Flags.string({description: 'open a socket of this family: inet, inet6, local, route, netgraph', multiple: true, default: []}),
    listen: Flags.integer({description: 'listen on this TCP port', multiple: true, default: []}),
    shm: Flags.integer({description: 'make a SysV shared memory segment of this many bytes', multiple: true, default: []}),
    sem: Flags.integer({description: 'make a SysV semaphore set of this many semaphores', multiple: true, default: []}),
    msg: Flags.integer({description: 'make this many SysV message queues', default: 0, min: 0}),
    mlock: Flags.integer({description: 'wire this many bytes with mlock(2)', min: 1}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimProcStart)
    const input = {jail: args.jail, rawSocket: flags['raw-socket'], socket: flags.socket, listen: flags.listen, shm: flags.shm, sem: flags.sem, msg: flags.msg, ...(flags.comm === undefined ? {} : {comm: flags.comm}), ...(flags.mlock === undefined ? {} : {mlock: flags.mlock})}
    await this.runWith(flags, (ctx) => startSimProc(ctx, input), renderSimProcStarted)
  }
}
