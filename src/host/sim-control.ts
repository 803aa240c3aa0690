// The simulator's control plane, for `nest sim` only: apart from src/host/select.ts (which
// imports it when the simulated host is selected), the one product file that reaches src/sim.
// A file of its own, so that no other command loads the simulator to start.
export * as simControl from '../sim/control.js'
