import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderCreate} from '../src/render/jails.js'
import {createJail, createOptionsOf} from '../src/services/create.js'

export default class Create extends NestCommand {
  static override description = 'Create a jail from a policy: its datasets (a root cloned from a release, a delegated dataset with jailed=on when the policy says so), /etc/jail.conf.d/NAME.conf, then start it. PARENT/NAME creates it inside a running parent, through the nest in that parent. Any failure rolls back what was done.'
  static override examples = ['<%= config.bin %> create web', '<%= config.bin %> create web/db', '<%= config.bin %> create web/db/cache --policy leaf', '<%= config.bin %> create builder --policy build-parent --ip4 192.0.2.20', '<%= config.bin %> create gw --vnet --ip4 192.0.2.10/24 --defaultrouter 192.0.2.1', '<%= config.bin %> create gw/app --ip4 192.0.2.11', '<%= config.bin %> create web --dry-run']
  static override args = {name: Args.string({required: true, description: 'the jail\'s name (letters, digits, _ and -); PARENT/NAME below a parent'})}
  static override flags = {
    policy: Flags.string({description: 'policy to apply (see nest policy list)', default: 'parent'}),
    'policy-text': Flags.string({description: 'the policy itself, as the parent\'s nest checked it', hidden: true}),
    'children-max': Flags.integer({description: 'how many jails may live below this one, at every depth (default: the policy\'s, lowered to fit under its parent)'}),
    release: Flags.string({description: 'bootstrapped release to build from (default: the newest)'}),
    thick: Flags.boolean({description: 'a full copy of the release instead of a ZFS clone'}),
    ip4: Flags.string({description: 'IPv4 addresses, comma-separated. Without --vnet: [IF|]A[/len], added by jail(8) as aliases on IF (default: inherit the host\'s). With --vnet: A/len or dhcp, set by the jail\'s rc.conf'}),
    ip6: Flags.string({description: 'IPv6 addresses, comma-separated: as --ip4 (with --vnet: A/len or auto)'}),
    vnet: Flags.boolean({description: 'a network stack of its own (vnet = new): an epair whose a side joins --bridge and whose b side moves into the jail, configured by its rc.conf'}),
    bridge: Flags.string({description: 'with --vnet: the bridge the epair joins, created when missing (a bridgeN) and left as it is when it exists', helpValue: 'bridge0'}),
    ifname: Flags.string({description: 'with --vnet: the interface\'s name inside the jail (rc.conf renames the epair to it)', helpValue: 'vnet0'}),
    defaultrouter: Flags.string({description: 'with --vnet: the default router(s), one per family, comma-separated'}),
    mac: Flags.string({description: 'with --vnet: the MAC address of the jail\'s interface (a migrated VM keeps its own)'}),
    'no-start': Flags.boolean({description: 'create but do not start'}),
    'start-parent': Flags.boolean({description: 'PARENT/NAME: start the parent first when it is stopped (and stop it again if the create fails)'}),
    'dry-run': Flags.boolean({description: 'print the ordered plan and change nothing'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Create)
    await this.runWith(flags, (ctx) => createJail(ctx, createOptionsOf(args.name, flags)), renderCreate)
  }
}
