import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderTighten} from '../src/render/tighten.js'
import {tightenJail} from '../src/services/tighten.js'

export default class Tighten extends NestCommand {
  static override description = 'Make a subtree\'s jail parameters smaller: the diff per jail (the kernel\'s own rules decide what a parent\'s change does below it), the jail.conf lines and the ordered live steps with their rollback. --what-if proves it on a twin of the host (stop, start with the children, stop, cleanup); --apply changes the live tree (jail -m, then the jail.conf files and the policy), verifies it with jls, and rolls everything back on any failure.'
  static override examples = ['<%= config.bin %> tighten p --policy tight.conf', '<%= config.bin %> tighten p --policy tight.conf --what-if', '<%= config.bin %> tighten p --policy tight.conf --apply --write-policy p-tight.conf']
  static override args = {name: Args.string({required: true, description: 'the subtree\'s root (PARENT/NAME below a parent)'})}
  static override flags = {
    'what-if': Flags.boolean({description: 'prove it on a twin of the host through a full lifecycle; the live tree is not touched', exclusive: ['apply']}),
    apply: Flags.boolean({description: 'change the live tree (jail -m, jail.conf files, policy), verify, roll back on failure', exclusive: ['what-if']}),
    policy: Flags.string({description: 'the parameters to prove on the subtree\'s root: a policy file (children keep theirs where the kernel lets them)', helpValue: 'FILE'}),
    'write-policy': Flags.string({description: 'write the tightened policy to this file', helpValue: 'FILE'}),
    restart: Flags.boolean({description: 'with --apply: restart the subtree for parameters FreeBSD sets only at creation (sysv*, vnet, ip4, ip6)'}),
    'dry-run': Flags.boolean({description: 'print the plan (the diff, the jail.conf lines, the live steps with their rollback) and change nothing'}),
    twin: Flags.string({description: 'with --what-if: the twin, ZFS clones of the subtree on this host (FreeBSD\'s default) or a copy of the simulated host (its default)', options: ['clones', 'copy']}),
    parallel: Flags.integer({description: 'siblings acted on at once on the twin and in a restart', default: 4, min: 1}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Tighten)
    const o = {name: args.name, whatIf: flags['what-if'], apply: flags.apply, restart: flags.restart, parallel: flags.parallel, dryRun: flags['dry-run'], ...(flags.policy ? {policy: flags.policy} : {}), ...(flags['write-policy'] ? {writePolicy: flags['write-policy']} : {}), ...(flags.twin ? {twin: flags.twin as 'clones' | 'copy'} : {})}
    await this.runWith(flags, (ctx) => tightenJail(ctx, o), renderTighten)
  }
}
