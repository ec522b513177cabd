"""What to do about a file-system error, in words a user can act on."""

from __future__ import annotations

import errno

_ADVICE = {
    errno.EPERM: "the system does not let the pipeline change it (immutable, see lsattr, or owned by another "
                 "user); make it writable (chattr -i, chmod), or build elsewhere with --out",
    errno.EACCES: "permission denied; make it writable (chmod), or build elsewhere with --out",
    errno.EROFS: "it is on a read-only file system; run the pipeline in a writable copy of the project, or build "
                 "elsewhere with --out",
    errno.EBUSY: "it is in use or a mount point (a container volume, say), which cannot be replaced; build into a "
                 "folder inside it with --out",
    errno.EEXIST: "a file stands where the pipeline needs a folder; move or delete that file",
    errno.ENOTDIR: "a file stands where the pipeline needs a folder; move or delete that file",
    errno.EISDIR: "a folder stands where the pipeline needs a file; move or delete that folder",
    errno.ENOSPC: "the disk is full; free some space and run again",
    errno.EDQUOT: "the disk quota is used up; free some space and run again",
    errno.ENAMETOOLONG: "the path is too long for this file system; use a shorter project or --out path",
}


def advice(exc: OSError) -> str:
    return _ADVICE.get(exc.errno, "check that path and run again")
