// service(8) (usr.sbin/service/service.sh) for the rc scripts the simulator emulates: jail
// (tools/service-jail.ts). Every other script is refused as not simulated.
import {serviceJail} from './service-jail.js'
import {notSimulated, type Tool} from './common.js'

export const service: Tool = async (ctx, argv) => {
  const [script, ...rest] = argv
  if (script === 'jail') return serviceJail(ctx, rest)
  return notSimulated(`service ${argv.join(' ')}`.trim())
}
