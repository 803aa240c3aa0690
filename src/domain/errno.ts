// FreeBSD errno names and their strerror(3) texts (lib/libc/gen/errlst.c), as tools print them.
export const STRERROR = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  EBADF: 'Bad file descriptor',
  EDEADLK: 'Resource deadlock avoided',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device busy',
  EEXIST: 'File exists',
  EXDEV: 'Cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EAGAIN: 'Resource temporarily unavailable',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  ENXIO: 'Device not configured',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: "Can't assign requested address",
  ETIMEDOUT: 'Operation timed out',
  ENOSYS: 'Function not implemented',
  EAFNOSUPPORT: 'Address family not supported by protocol family',
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EPROTONOSUPPORT: 'Protocol not supported',
  EOPNOTSUPP: 'Operation not supported',
  ERANGE: 'Result too large',
} as const

export type Errno = keyof typeof STRERROR

export const isErrno = (s: string): s is Errno => Object.hasOwn(STRERROR, s)
