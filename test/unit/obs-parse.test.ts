// The parsers of what `nest audit` observes at run time (src/host/tools/ps.ts, procstat.ts,
// ipcs.ts, rctl.ts), on the simulated host's output (src/sim/tools: ps.c, procstat_files.c,
// ipcs.c and rctl.c formats) and on the hostile forms a jail's process can give them: a comm
// with blanks, or one that imitates a row.
import {err, ok} from 'neverthrow'
import {describe, expect, it} from 'vitest'

import {parseIpcs} from '../../src/host/tools/ipcs.js'
import {parseProcstatFiles} from '../../src/host/tools/procstat.js'
import {parsePs} from '../../src/host/tools/ps.js'
import {parseRctlUsage} from '../../src/host/tools/rctl.js'

describe('ps -ax -o pid,jid,comm', () => {
  it('reads pid, jid and the comm after its one blank, blanks in the comm kept', () => {
    expect(parsePs(' PID JID COMMAND\n1001   1 syslogd\n1002  12 my daemon \n')).toEqual(ok([
      {pid: 1001, jid: 1, comm: 'syslogd'},
      {pid: 1002, jid: 12, comm: 'my daemon '},
    ]))
    expect(parsePs('  PID JID COMMAND\n')).toEqual(ok([]))
  })

  it('refuses what ps does not print', () => {
    expect(parsePs('PID COMMAND\n1 init\n')).toEqual(err('no ps header in "PID COMMAND"'))
    expect(parsePs(' PID JID COMMAND\nx 1 y\n')).toEqual(err('a row nest cannot read: "x 1 y"'))
  })
})

describe('procstat -f', () => {
  const out = [
    '  PID COMM                FD T V FLAGS    REF  OFFSET PRO NAME        ',
    ' 1001 postgres             3 s - rw------   1       0 TCP 0.0.0.0:5432 0.0.0.0:0',
    ' 1002 pinger               3 s - rw------   1       0 ICM 0.0.0.0:0 0.0.0.0:0',
    ' 1003 ngctl                3 s - rw------   1       0 ?    ',
    ' 1003 ngctl                5 s - rw------   1       0 UDS -',
    ' 1004 sshd                cwd v d r-------   -       - -   /',
    '',
  ].join('\n')

  it('reads each row: pid, comm, descriptor, type, PRO and the name', () => {
    const rows = parseProcstatFiles(out)._unsafeUnwrap()
    expect(rows.map((r) => [r.pid, r.comm, r.fd, r.type, r.protocol, r.name])).toEqual([
      [1001, 'postgres', '3', 's', 'TCP', '0.0.0.0:5432 0.0.0.0:0'],
      [1002, 'pinger', '3', 's', 'ICM', '0.0.0.0:0 0.0.0.0:0'],
      [1003, 'ngctl', '3', 's', '?', ''],
      [1003, 'ngctl', '5', 's', 'UDS', '-'],
      [1004, 'sshd', 'cwd', 'v', '-', '/'],
    ])
    expect(rows[1]?.line).toBe(' 1002 pinger               3 s - rw------   1       0 ICM 0.0.0.0:0 0.0.0.0:0')
  })

  it('a comm with blanks, or longer than its column, and one that looks like the start of a row', () => {
    const rows = parseProcstatFiles(' 1005 a b c 3 s - rw- 99    4 s - rw------   1       0 RAW 0.0.0.0:0 0.0.0.0:0\n 1006 nineteen-chars-long    7 s - rw------   1       0 UDP 0.0.0.0:0 0.0.0.0:0\n')._unsafeUnwrap()
    expect(rows.map((r) => [r.pid, r.comm, r.fd, r.protocol])).toEqual([[1005, 'a b c 3 s - rw- 99', '4', 'RAW'], [1006, 'nineteen-chars-long', '7', 'UDP']])
  })

  it('refuses a row it cannot take apart', () => {
    expect(parseProcstatFiles(' 1 x\n')).toEqual(err('a row nest cannot read: " 1 x"'))
  })
})

describe('ipcs -a', () => {
  const out = [
    'Message Queues:',
    'T           ID          KEY MODE        OWNER    GROUP    CREATOR  CGROUP                 CBYTES                 QNUM               QBYTES        LSPID        LRPID STIME    RTIME    CTIME   ',
    'q        65536            0 --rw------- root     wheel    root     wheel               0            0                 2048            0            0 no-entry no-entry  9:27:20',
    '',
    'Shared Memory:',
    'T           ID          KEY MODE        OWNER    GROUP    CREATOR  CGROUP         NATTCH        SEGSZ         CPID         LPID ATIME    DTIME    CTIME   ',
    'm        65536            0 --rw------- root     wheel    root     wheel               0      1048576         1001            0 no-entry no-entry  9:27:20',
    'm       131073       5432001 --rw-r----- 70       70       70       70                  2        65536         1700         1711 10:01:02 no-entry 10:00:00',
    '',
    'Semaphores:',
    'T           ID          KEY MODE        OWNER    GROUP    CREATOR  CGROUP          NSEMS OTIME    CTIME   ',
    's        65536            0 --rw------- root     wheel    root     wheel              17 no-entry  9:27:20',
    '',
    '',
  ].join('\n')

  it('reads the three tables: kind, id, key, size, and the creator pid of a segment', () => {
    const rows = parseIpcs(out)._unsafeUnwrap()
    expect(rows.map((r) => [r.kind, r.id, r.key, r.owner, r.cpid, r.size])).toEqual([
      ['msg', 65536, '0', 'root', null, 2048],
      ['shm', 65536, '0', 'root', 1001, 1048576],
      ['shm', 131073, '5432001', '70', 1700, 65536],
      ['sem', 65536, '0', 'root', null, 17],
    ])
    expect(parseIpcs('Message Queues:\nT ID\n\nShared Memory:\nT ID\n\nSemaphores:\nT ID\n\n')).toEqual(ok([]))
  })

  it('refuses a row of the wrong shape (ipcs without -a) or outside a table', () => {
    expect(parseIpcs('Shared Memory:\nm        65536            0 --rw------- root     wheel   \n').isErr()).toBe(true)
    expect(parseIpcs('m 1 0 --rw------- root wheel\n')).toEqual(err('a row before any table: "m 1 0 --rw------- root wheel"'))
  })
})

describe('rctl -u', () => {
  it('reads resource=amount lines', () => {
    expect(parseRctlUsage('cputime=0\nmemorylocked=8192\nmaxproc=3\n')).toEqual(ok({cputime: 0, memorylocked: 8192, maxproc: 3}))
    expect(parseRctlUsage('maxproc=3K\n')).toEqual(err('a line nest cannot read: "maxproc=3K"'))
  })
})
