// Where nest lives inside a parent jail: the host's installation mounted read-only, its entry
// point, the wrapper an admin types, and Node.js for the entry point's `#!/usr/bin/env node`.
// One fact shared by nest (which sets it up) and the simulated host (which checks it is there).
export const NEST_MOUNT = '/usr/local/libexec/nest'
export const NEST_ENTRY = `${NEST_MOUNT}/bin/run.js`
export const NEST_WRAPPER = '/usr/local/bin/nest'
export const NODE_BIN = '/usr/local/bin/node'
